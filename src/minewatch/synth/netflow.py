"""Crafted NetFlow v5, v9 and IPFIX datagrams: for the decoder's tests and its benchmark.

The layouts are the ones of Cisco's v5 format, RFC 3954 (v9) and RFC 7011 (IPFIX); field
numbers are IANA's information elements. :func:`bulk_v5`/:func:`bulk_ipfix` write many
datagrams of random records from a seed (numpy's ``default_rng``) for throughput figures.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minewatch.ingest import netflow as ie

Field = tuple[int, int] | tuple[int, int, int]
"""(information element, length) or (element, length, enterprise number)."""

V9_FIELDS: tuple[Field, ...] = (
    (ie.IE_SRC_V4, 4),
    (ie.IE_DST_V4, 4),
    (ie.IE_SRC_PORT, 2),
    (ie.IE_DST_PORT, 2),
    (ie.IE_PROTOCOL, 1),
    (ie.IE_TCP_FLAGS, 1),
    (ie.IE_PACKETS, 4),
    (ie.IE_OCTETS, 4),
    (ie.IE_FIRST_UPTIME, 4),
    (ie.IE_LAST_UPTIME, 4),
)
"""A router's usual IPv4 v9 template (times as uptime)."""
IPFIX_FIELDS: tuple[Field, ...] = (
    (ie.IE_SRC_V4, 4),
    (ie.IE_DST_V4, 4),
    (ie.IE_SRC_PORT, 2),
    (ie.IE_DST_PORT, 2),
    (ie.IE_PROTOCOL, 1),
    (ie.IE_TCP_FLAGS, 1),
    (ie.IE_PACKETS, 8),
    (ie.IE_OCTETS, 8),
    (ie.IE_START_MS, 8),
    (ie.IE_END_MS, 8),
)
"""An IPFIX IPv4 template with absolute millisecond times."""


@dataclass(frozen=True)
class Flow:
    """One record to encode: a direction of a connection, times as Unix milliseconds."""

    src: str
    dst: str
    src_port: int
    dst_port: int
    packets: int
    bytes: int
    first_ms: int
    last_ms: int
    protocol: int = 6
    tcp_flags: int = 0x1A


def v5_datagram(
    flows: Sequence[Flow], export_ms: int, uptime_ms: int = 3_600_000, sampling: int = 0
) -> bytes:
    """A v5 datagram (at most 30 flows); times placed against ``uptime_ms`` at ``export_ms``."""
    boot = export_ms - uptime_ms
    header = struct.pack(
        "!HHIIIIBBH",
        5,
        len(flows),
        uptime_ms,
        export_ms // 1000,
        (export_ms % 1000) * 1_000_000,
        0,
        0,
        0,
        sampling,
    )
    body = b"".join(
        struct.pack(
            "!4s4s4sHHIIIIHHBBBBHHBBH",
            socket.inet_aton(f.src),
            socket.inet_aton(f.dst),
            bytes(4),
            0,
            0,
            f.packets,
            f.bytes,
            (f.first_ms - boot) & 0xFFFFFFFF,
            (f.last_ms - boot) & 0xFFFFFFFF,
            f.src_port,
            f.dst_port,
            0,
            f.tcp_flags,
            f.protocol,
            0,
            0,
            0,
            0,
            0,
            0,
        )
        for f in flows
    )
    return header + body


def template_record(template_id: int, fields: Sequence[Field], ipfix: bool) -> bytes:
    """A template record (v9 or IPFIX; enterprise fields only in IPFIX)."""
    out = struct.pack("!HH", template_id, len(fields))
    for spec in fields:
        number, length = spec[0], spec[1]
        if len(spec) == 3:
            out += struct.pack("!HHI", number | 0x8000, length, spec[2])
        else:
            out += struct.pack("!HH", number, length)
    return out


def options_template_record(
    template_id: int, scope: Sequence[Field], options: Sequence[Field], ipfix: bool
) -> bytes:
    """An options template record: IPFIX (field and scope counts) or v9 (byte lengths)."""
    fields = b"".join(struct.pack("!HH", spec[0], spec[1]) for spec in (*scope, *options))
    if ipfix:
        return struct.pack("!HHH", template_id, len(scope) + len(options), len(scope)) + fields
    return struct.pack("!HHH", template_id, 4 * len(scope), 4 * len(options)) + fields


def flowset(set_id: int, body: bytes) -> bytes:
    """A set (flowset) with its header, padded to four bytes."""
    padding = (-len(body)) % 4
    return struct.pack("!HH", set_id, 4 + len(body) + padding) + body + bytes(padding)


def encode(fields: Sequence[Field], values: dict[int, object]) -> bytes:
    """One data record: each field's value (ints, address text or raw bytes) in its length;
    a field of length 65535 takes raw bytes with their IPFIX length prefix."""
    out = b""
    for spec in fields:
        number, length = spec[0], spec[1]
        value = values.get(number, 0) if len(spec) == 2 else values.get(-number, b"")
        if length == 65_535:
            raw = value if isinstance(value, bytes) else str(value).encode()
            prefix = bytes([len(raw)]) if len(raw) < 255 else b"\xff" + struct.pack("!H", len(raw))
            out += prefix + raw
        elif isinstance(value, str):
            family = socket.AF_INET6 if ":" in value else socket.AF_INET
            out += socket.inet_pton(family, value)
        elif isinstance(value, bytes):
            out += value.ljust(length, b"\0")[:length]
        else:
            out += int(str(value)).to_bytes(length, "big")
    return out


def flow_values(flow: Flow, boot_ms: int | None = None) -> dict[int, object]:
    """A flow as values by information element (uptime fields relative to ``boot_ms``)."""
    v6 = ":" in flow.src
    values: dict[int, object] = {
        ie.IE_SRC_V6 if v6 else ie.IE_SRC_V4: flow.src,
        ie.IE_DST_V6 if v6 else ie.IE_DST_V4: flow.dst,
        ie.IE_SRC_PORT: flow.src_port,
        ie.IE_DST_PORT: flow.dst_port,
        ie.IE_PROTOCOL: flow.protocol,
        ie.IE_TCP_FLAGS: flow.tcp_flags,
        ie.IE_PACKETS: flow.packets,
        ie.IE_OCTETS: flow.bytes,
        ie.IE_START_MS: flow.first_ms,
        ie.IE_END_MS: flow.last_ms,
        ie.IE_START_S: flow.first_ms // 1000,
        ie.IE_END_S: flow.last_ms // 1000,
    }
    if boot_ms is not None:
        values[ie.IE_FIRST_UPTIME] = (flow.first_ms - boot_ms) & 0xFFFFFFFF
        values[ie.IE_LAST_UPTIME] = (flow.last_ms - boot_ms) & 0xFFFFFFFF
    return values


def v9_datagram(
    sets: Sequence[bytes], export_s: int, uptime_ms: int = 3_600_000, source_id: int = 0
) -> bytes:
    """A v9 export packet of the given flowsets."""
    return struct.pack("!HHIIII", 9, len(sets), uptime_ms, export_s, 0, source_id) + b"".join(sets)


def ipfix_message(sets: Sequence[bytes], export_s: int, domain: int = 0) -> bytes:
    """An IPFIX message of the given sets."""
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), export_s, 0, domain) + body


def _random_flows(rng: np.random.Generator, count: int, start_ms: int) -> list[Flow]:
    octets = rng.integers(0, 256, size=(count, 8))
    return [
        Flow(
            src=f"10.{octets[i, 0]}.{octets[i, 1]}.{octets[i, 2]}",
            dst=f"203.0.{octets[i, 3]}.{octets[i, 4]}",
            src_port=int(rng.integers(32768, 61000)),
            dst_port=int(rng.choice([443, 3333, 80, 14444])),
            packets=int(rng.integers(1, 1000)),
            bytes=int(rng.integers(40, 1_000_000)),
            first_ms=start_ms + int(rng.integers(0, 50_000)),
            last_ms=start_ms + 50_000 + int(rng.integers(0, 9_000)),
        )
        for i in range(count)
    ]


def bulk_v5(datagrams: int, seed: int = 0, export_ms: int = 1_637_000_060_000) -> list[bytes]:
    """``datagrams`` full v5 datagrams (30 records each) of random flows."""
    rng = np.random.default_rng(seed)
    flows = _random_flows(rng, 30 * min(datagrams, 64), export_ms - 60_000)
    return [
        v5_datagram(flows[(i % 64) * 30 : (i % 64) * 30 + 30], export_ms) for i in range(datagrams)
    ]


def bulk_ipfix(
    datagrams: int, per_datagram: int = 30, seed: int = 0, export_s: int = 1_637_000_060
) -> list[bytes]:
    """An IPFIX template message, then ``datagrams`` messages of ``per_datagram`` records."""
    rng = np.random.default_rng(seed)
    flows = _random_flows(rng, per_datagram * min(datagrams, 64), export_s * 1000 - 60_000)
    template = ipfix_message([flowset(2, template_record(256, IPFIX_FIELDS, True))], export_s)
    out = [template]
    for i in range(datagrams):
        chunk = flows[(i % 64) * per_datagram : (i % 64 + 1) * per_datagram]
        body = b"".join(encode(IPFIX_FIELDS, flow_values(f)) for f in chunk)
        out.append(ipfix_message([flowset(256, body)], export_s))
    return out
