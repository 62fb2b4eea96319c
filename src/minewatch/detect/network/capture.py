"""The first payloads of every TCP conversation of a capture file, read by the compiled pass.

:func:`read_first_payloads` maps the file and walks it once in C (``_capture.c``, built into
the package's compiled library and loaded like the meter kernels, by
:func:`minewatch.detect.meters._fused.library`): classic pcap and pcapng, the usual link
types, IPv4 and IPv6. Each conversation is what nfstream calls a flow (same tuple, same idle
and active timeouts, the same source), so the two are joined on the source's and the
destination's address and port, the VLAN and the first packet's time [ms].
"""

from __future__ import annotations

import ctypes
import logging
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from minewatch.detect.meters._fused import library
from minewatch.errors import MineWatchError

PAYLOAD_BYTES = 4096
"""The first bytes of each direction that are kept (``PAYLOAD_BYTES`` in ``_capture.c``)."""
PAYLOAD_PACKETS = 8
"""Packets with payload per direction after which nothing more is kept."""

FlowKey = tuple[str, int, str, int, int, int]
"""``(source ip, source port, destination ip, destination port, vlan id, first seen [ms])``:
nfstream's ``src_ip``, ``src_port``, ``dst_ip``, ``dst_port``, ``vlan_id`` and
``bidirectional_first_seen_ms`` of the same flow."""

_log = logging.getLogger(__name__)
_ERROR_BYTES = 512


@dataclass(frozen=True)
class FirstBytes:
    """What one TCP conversation said first: each side's first bytes (source, destination)
    and which side sent the first SYN without ACK (0 the source, 1 the destination, -1
    neither)."""

    payloads: tuple[bytes, bytes]
    syn_from: int
    first_sizes: tuple[int, int] = (0, 0)
    """Payload bytes of each side's first payload-carrying packet (0: none)."""


class _Conversation(ctypes.Structure):
    _fields_ = [
        ("src", ctypes.c_uint8 * 16),
        ("dst", ctypes.c_uint8 * 16),
        ("first_ms", ctypes.c_int64),
        ("last_ms", ctypes.c_int64),
        ("payload", ctypes.c_void_p * 2),
        ("kept", ctypes.c_uint32 * 2),
        ("packets", ctypes.c_uint32 * 2),
        ("first", ctypes.c_uint32 * 2),
        ("src_port", ctypes.c_uint16),
        ("dst_port", ctypes.c_uint16),
        ("vlan_id", ctypes.c_uint16),
        ("ip_version", ctypes.c_uint8),
        ("syn_from", ctypes.c_int8),
    ]


@cache
def _pass() -> ctypes.CDLL:
    compiled = library()
    compiled.mw_capture_scan.restype = ctypes.c_void_p
    compiled.mw_capture_scan.argtypes = [
        ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int, ctypes.c_char_p,
        ctypes.c_char_p, ctypes.c_size_t,
    ]  # fmt: skip
    compiled.mw_capture_links.restype = ctypes.c_int
    compiled.mw_capture_links.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    for name in ("count", "truncated_at", "truncated_packet"):
        function = getattr(compiled, f"mw_capture_{name}")
        function.restype = ctypes.c_int64
        function.argtypes = [ctypes.c_void_p]
    compiled.mw_capture_items.restype = ctypes.POINTER(_Conversation)
    compiled.mw_capture_items.argtypes = [ctypes.c_void_p]
    compiled.mw_capture_free.restype = None
    compiled.mw_capture_free.argtypes = [ctypes.c_void_p]
    compiled.mw_capture_record_size.restype = ctypes.c_int64
    if compiled.mw_capture_record_size() != ctypes.sizeof(_Conversation):
        raise MineWatchError("the compiled capture pass is out of date: run make setup")
    return compiled


NFSTREAM_LINKS = frozenset({0, 1, 12, 101, 113, 228, 229})
"""The link types nfstream 6.6 (libpcap on Linux) reads: BSD loopback, Ethernet, raw IP (as
101 or 12, and 228/229), Linux cooked v1. Not 14 (raw IP as OpenBSD numbers it), 108 (OpenBSD
loopback), 276 (Linux cooked v2); and libpcap reads only the first link type of a pcapng file
whose interfaces differ."""


def link_types(path: str | Path) -> list[int]:
    """The link types of the capture's interfaces, in the order they are declared."""
    compiled = _pass()
    scan = _open(compiled, path, 0, 0, links_only=True, rewrite=None)
    try:
        links = (ctypes.c_uint32 * 16)()
        return list(links[: compiled.mw_capture_links(scan, links)])
    finally:
        compiled.mw_capture_free(scan)


PASS_LINKS = frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276})
"""The link types the compiled pass reads (nfstream also reads PPP, Cisco HDLC and radiotap:
such a capture is inspected by the plugin)."""


def needs_rewriting(links: list[int]) -> bool:
    """Whether nfstream would miss packets of a capture with these link types (see
    :data:`NFSTREAM_LINKS`): they are not all ones nfstream reads, or a pcapng file mixes
    several."""
    return len(links) > 1 or any(link not in NFSTREAM_LINKS for link in links)


def read_first_payloads(
    path: str | Path, idle_timeout_s: int, active_timeout_s: int, rewrite: Path | None = None
) -> dict[FlowKey, FirstBytes]:
    """Every TCP conversation of the pcap or pcapng file at ``path``, by :data:`FlowKey`.

    ``idle_timeout_s`` and ``active_timeout_s`` [s] must be nfstream's, so that the
    conversations are its flows. With ``rewrite``, every IP packet is also written there as a
    classic pcap of Ethernet frames (same stamps, same VLAN tags), which nfstream reads
    whatever the original's link types. A file that is not a capture, or whose headers or
    block lengths are broken, raises :class:`MineWatchError` naming the file and the byte
    offset (and the packet's number); a last packet cut short is skipped with a warning, as
    tshark does."""
    compiled = _pass()
    scan = _open(compiled, path, idle_timeout_s * 1000, active_timeout_s * 1000, False, rewrite)
    try:
        truncated = compiled.mw_capture_truncated_at(scan)
        if truncated >= 0:
            _log.warning(
                "%s: the last packet (packet %d, at byte offset %d) is cut short and skipped",
                path,
                compiled.mw_capture_truncated_packet(scan),
                truncated,
            )
        count = compiled.mw_capture_count(scan)
        items = compiled.mw_capture_items(scan)
        found: dict[FlowKey, FirstBytes] = {}
        for index in range(count):
            item = items[index]
            family, width = (socket.AF_INET, 4) if item.ip_version == 4 else (socket.AF_INET6, 16)
            key = (
                socket.inet_ntop(family, bytes(item.src)[:width]),
                item.src_port,
                socket.inet_ntop(family, bytes(item.dst)[:width]),
                item.dst_port,
                item.vlan_id,
                item.first_ms,
            )
            sides = tuple(
                ctypes.string_at(item.payload[side], item.kept[side]) if item.kept[side] else b""
                for side in (0, 1)
            )
            found[key] = FirstBytes(
                (sides[0], sides[1]), int(item.syn_from), (item.first[0], item.first[1])
            )
        return found
    finally:
        compiled.mw_capture_free(scan)


def _open(
    compiled: ctypes.CDLL,
    path: str | Path,
    idle_ms: int,
    active_ms: int,
    links_only: bool,
    rewrite: Path | None,
) -> int:
    error = ctypes.create_string_buffer(_ERROR_BYTES)
    scan: int | None = compiled.mw_capture_scan(
        str(path).encode(),
        idle_ms,
        active_ms,
        int(links_only),
        str(rewrite).encode() if rewrite is not None else None,
        error,
        _ERROR_BYTES,
    )
    if not scan:
        detail = error.value.decode("utf-8", "replace")
        raise MineWatchError(f"{path}: not a readable pcap or pcapng capture ({detail})")
    return scan
