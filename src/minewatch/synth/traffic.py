"""Synthetic network traffic: crafted TCP conversations and DNS queries written as a capture.

Enough of TCP to look real to nfstream and nDPI (a handshake, sequence numbers that follow the
bytes sent, acknowledgements, a closing FIN), none of the rest (no options, no checksums).

:func:`server_room_capture` invents, from a seed, an hour of a state-owned unit's server room:
miners speaking Stratum, Ethereum's proxy dialect and Monero's login/job dialect to pools (some
in the clear, some over TLS to a pool's name, some captured mid-session), among the unit's own
traffic — web browsing, TLS to ordinary services, a monitoring system speaking JSON-RPC, DNS —
and returns the ground truth beside the file. :func:`bulk_capture` writes a capture of a given
size for throughput measurements. Only numpy's ``default_rng`` is used; the same seed gives the
same bytes.

:func:`write_pcap` writes classic pcap on Ethernet by default; an :class:`Encoding` writes the
same packets as pcapng (several interfaces, each its own link type, microsecond or nanosecond
stamps, enhanced, simple or obsolete packet blocks), on other links (802.1Q and stacked VLAN
tags, raw IPv4/IPv6, Linux cooked v1 and v2, BSD loopback), big-endian, or with every IPv4
packet turned into IPv6 (:func:`ipv6_of` maps the addresses). Conversations may also be given
IPv6 addresses directly.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path
from typing import Literal

import numpy as np

_SYN, _ACK, _PSH, _FIN = 0x02, 0x10, 0x08, 0x01
_ETHER_IPV4 = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
_ETHER_IPV6 = _ETHER_IPV4[:12] + b"\x86\xdd"
START = 1_637_000_000.0
"""15 November 2021, 18:13 UTC: the first packet of a conversation unless told otherwise."""


@dataclass
class Conversation:
    """One TCP connection from ``client`` to ``server`` (``(ip, port)`` pairs)."""

    client: tuple[str, int]
    server: tuple[str, int]
    start: float = START
    handshake: bool = True
    step: float = 0.01
    packets: list[tuple[float, bytes]] = field(default_factory=list)
    _seq: list[int] = field(default_factory=lambda: [1000, 5000])
    _time: float = 0.0

    def __post_init__(self) -> None:
        self._time = self.start
        if self.handshake:
            self._segment(0, _SYN, b"", syn=True)
            self._segment(1, _SYN | _ACK, b"", syn=True)
            self._segment(0, _ACK, b"")

    def send(self, side: int, payload: bytes, after: float | None = None) -> Conversation:
        """``payload`` from the client (0) or the server (1), acknowledged by the other;
        ``after`` seconds after the previous packet (``step`` by default)."""
        self._segment(side, _PSH | _ACK, payload, after=after)
        self._segment(1 - side, _ACK, b"")
        return self

    def close(self) -> Conversation:
        self._segment(0, _FIN | _ACK, b"")
        self._segment(1, _FIN | _ACK, b"")
        self._segment(0, _ACK, b"")
        return self

    def _segment(
        self, side: int, flags: int, payload: bytes, syn: bool = False, after: float | None = None
    ) -> None:
        self._time += self.step if after is None else after
        src, dst = (self.client, self.server) if side == 0 else (self.server, self.client)
        seq, ack = self._seq[side], self._seq[1 - side]
        tcp = struct.pack(
            "!HHIIBBHHH",
            src[1],
            dst[1],
            seq,
            ack if flags & _ACK else 0,
            5 << 4,
            flags,
            65535,
            0,
            0,
        )
        self._seq[side] += len(payload) + (1 if syn or flags & _FIN else 0)
        self.packets.append((self._time, _ip_frame(src, dst, 6, tcp + payload)))


@dataclass
class Datagrams:
    """UDP datagrams between ``client`` and ``server`` (a DNS lookup, say)."""

    client: tuple[str, int]
    server: tuple[str, int]
    start: float = START
    packets: list[tuple[float, bytes]] = field(default_factory=list)

    def send(self, side: int, payload: bytes, after: float = 0.005) -> Datagrams:
        src, dst = (self.client, self.server) if side == 0 else (self.server, self.client)
        when = (self.packets[-1][0] if self.packets else self.start) + after
        udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
        self.packets.append((when, _ip_frame(src, dst, 17, udp)))
        return self


def _ip_frame(src: tuple[str, int], dst: tuple[str, int], protocol: int, body: bytes) -> bytes:
    """An Ethernet frame carrying ``body``: IPv6 when the addresses are, else IPv4."""
    if ":" in src[0]:
        header = struct.pack("!IHBB", 6 << 28, len(body), protocol, 64)
        addresses = socket.inet_pton(socket.AF_INET6, src[0])
        addresses += socket.inet_pton(socket.AF_INET6, dst[0])
        return _ETHER_IPV6 + header + addresses + body
    return _ETHER_IPV4 + _ipv4(src, dst, protocol, body)


def _ipv4(src: tuple[str, int], dst: tuple[str, int], protocol: int, body: bytes) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(body),
        0,
        0x4000,
        64,
        protocol,
        0,
        _address(src[0]),
        _address(dst[0]),
    )
    return header + body


def _address(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


class LinkType(IntEnum):
    """Link-layer header types of pcap and pcapng (tcpdump.org's LINKTYPE_ values)."""

    NULL = 0  # BSD loopback: address family in the writer's byte order
    ETHERNET = 1
    RAW_12 = 12  # raw IP under the number most systems give DLT_RAW
    RAW_14 = 14  # raw IP under OpenBSD's DLT_RAW
    RAW = 101
    LOOP = 108  # OpenBSD loopback: address family in network byte order
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


@dataclass(frozen=True, kw_only=True)
class Encoding:
    """How :func:`write_pcap` writes packets.

    ``links``: the interfaces' link types; a classic pcap has one, a pcapng one interface per
    entry, conversation *i* on interface *i* mod their number. ``vlans``: 802.1Q tags on
    Ethernet, outermost first (two or more: stacked, "QinQ"). ``nanoseconds``: the pcap
    nanosecond magic, or ``if_tsresol`` 9 in pcapng (stamps are the same microseconds).
    ``blocks``: pcapng's enhanced (``epb``), obsolete (``pb``) or simple (``spb``, no
    timestamp, one interface) packet blocks. ``ipv6``: every IPv4 packet as IPv6, addresses
    mapped by :func:`ipv6_of`, with a destination-options header before the transport when
    ``ipv6_options``. ``skipped_blocks``: pcapng blocks a reader must step over (name
    resolution, interface statistics, a custom block) after the interfaces. ``tsoffset_s``:
    pcapng's ``if_tsoffset`` [s], taken from every stamp written (a reader adds it back).
    ``snaplen``: frames are captured up to this many bytes (``tcpdump -s``), the original
    length recorded beside."""

    links: tuple[LinkType, ...] = (LinkType.ETHERNET,)
    pcapng: bool = False
    big_endian: bool = False
    nanoseconds: bool = False
    vlans: tuple[int, ...] = ()
    blocks: Literal["epb", "pb", "spb"] = "epb"
    ipv6: bool = False
    ipv6_options: bool = False
    skipped_blocks: bool = True
    tsoffset_s: int = 0
    snaplen: int = 65535


def ipv6_of(address: str) -> str:
    """The IPv6 address :class:`Encoding` gives IPv4 ``address``: ``2001:db8::`` and its four
    bytes, as ``inet_ntop`` writes it."""
    return socket.inet_ntop(
        socket.AF_INET6, bytes.fromhex("20010db8" + "00" * 8) + socket.inet_aton(address)
    )


def write_pcap(
    path: Path, conversations: Sequence[Conversation | Datagrams], encoding: Encoding | None = None
) -> Path:
    """The conversations' packets, in time order, as a capture: by default a classic
    little-endian pcap of Ethernet frames; otherwise as ``encoding`` says."""
    packets = sorted(
        (when, frame, index)
        for index, talk in enumerate(conversations)
        for when, frame in talk.packets
    )
    if encoding is None:
        encoding = Encoding()
    order = ">" if encoding.big_endian else "<"
    with path.open("wb") as handle:
        if not encoding.pcapng:
            if len(encoding.links) != 1:
                raise ValueError("a classic pcap file has one link type")
            magic = 0xA1B23C4D if encoding.nanoseconds else 0xA1B2C3D4
            link = encoding.links[0]
            snaplen = encoding.snaplen
            handle.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link))
            for when, frame, _ in packets:
                seconds, micros = _stamp(when)
                fraction = micros * 1000 if encoding.nanoseconds else micros
                data = _reframe(frame, link, encoding)
                kept = data[:snaplen]
                handle.write(struct.pack(order + "IIII", seconds, fraction, len(kept), len(data)))
                handle.write(kept)
            return path
        handle.write(_pcapng_header(encoding, order))
        faces = len(encoding.links)
        for when, frame, index in packets:
            face = index % faces
            original = _reframe(frame, encoding.links[face], encoding)
            data = original[: encoding.snaplen]
            seconds, micros = _stamp(when)
            ticks = (seconds - encoding.tsoffset_s) * 1_000_000 + micros
            if encoding.nanoseconds:
                ticks *= 1000
            padded = data + bytes(-len(data) % 4)
            if encoding.blocks == "spb":
                if faces != 1:
                    raise ValueError("simple packet blocks belong to a single interface")
                body = struct.pack(order + "I", len(data)) + padded
                handle.write(_block(3, body, order))
                continue
            high, low = ticks >> 32, ticks & 0xFFFFFFFF
            if encoding.blocks == "pb":
                head = struct.pack(order + "HHIIII", face, 0, high, low, len(data), len(original))
                handle.write(_block(2, head + padded, order))
            else:
                head = struct.pack(order + "IIIII", face, high, low, len(data), len(original))
                handle.write(_block(6, head + padded, order))
    return path


def _stamp(when: float) -> tuple[int, int]:
    seconds = int(when)
    return seconds, min(round((when - seconds) * 1e6), 999_999)


def _block(kind: int, body: bytes, order: str) -> bytes:
    length = 12 + len(body)
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def _option(code: int, value: bytes, order: str) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def _pcapng_header(encoding: Encoding, order: str) -> bytes:
    """The section header, an interface description per link, and blocks to be skipped."""
    out = _block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)
    for link in encoding.links:
        options = _option(2, b"synth0", order)  # if_name
        if encoding.nanoseconds:
            options += _option(9, b"\x09", order)  # if_tsresol: 10^-9 s
        if encoding.tsoffset_s:
            options += _option(14, struct.pack(order + "q", encoding.tsoffset_s), order)
        options += struct.pack(order + "HH", 0, 0)
        out += _block(1, struct.pack(order + "HHI", link, 0, encoding.snaplen) + options, order)
    if encoding.skipped_blocks:
        name = b"pool.example\x00"
        record = struct.pack(order + "HH", 1, 4 + len(name)) + b"\xcb\x00\x71\x07" + name
        record += bytes(-len(record) % 4) + struct.pack(order + "HH", 0, 0)
        out += _block(4, record, order)  # name resolution
        out += _block(5, struct.pack(order + "III", 0, 0, 0), order)  # interface statistics
        out += _block(0x00000BAD, struct.pack(order + "I", 32473) + b"mine", order)  # custom
    return out


def _reframe(frame: bytes, link: LinkType, encoding: Encoding) -> bytes:
    """An Ethernet/IP frame of :class:`Conversation` under another link header."""
    ip = frame[14:]
    if encoding.ipv6 and ip[0] >> 4 == 4:
        ip = _as_ipv6(ip)
    if ip[0] >> 4 == 6 and encoding.ipv6_options:
        ip = _with_options(ip)
    version = ip[0] >> 4
    ethertype = b"\x86\xdd" if version == 6 else b"\x08\x00"
    if link == LinkType.ETHERNET:
        tags = b"".join(b"\x81\x00" + struct.pack("!H", vlan & 0xFFF) for vlan in encoding.vlans)
        return frame[:12] + tags + ethertype + ip
    if link in (LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14, LinkType.IPV4, LinkType.IPV6):
        return ip
    family = 2 if version == 4 else 24
    if link == LinkType.NULL:
        return struct.pack((">" if encoding.big_endian else "<") + "I", family) + ip
    if link == LinkType.LOOP:
        return struct.pack("!I", family) + ip
    if link == LinkType.LINUX_SLL:
        return struct.pack("!HHH", 0, 1, 6) + frame[6:12] + b"\x00\x00" + ethertype + ip
    if link == LinkType.LINUX_SLL2:
        return ethertype + struct.pack("!HIHBB", 0, 2, 1, 0, 6) + frame[6:12] + b"\x00\x00" + ip
    raise ValueError(f"no framing for link type {link}")


def _as_ipv6(ip: bytes) -> bytes:
    header = (ip[0] & 15) * 4
    body = ip[header:]
    source = ipv6_of(socket.inet_ntoa(ip[12:16]))
    target = ipv6_of(socket.inet_ntoa(ip[16:20]))
    return (
        struct.pack("!IHBB", 6 << 28, len(body), ip[9], ip[8])
        + socket.inet_pton(socket.AF_INET6, source)
        + socket.inet_pton(socket.AF_INET6, target)
        + body
    )


def _with_options(ip: bytes) -> bytes:
    """``ip`` (IPv6) with an 8-byte destination-options header (PadN) before its transport."""
    options = bytes([ip[6], 0, 1, 4, 0, 0, 0, 0])
    length = struct.unpack("!H", ip[4:6])[0] + len(options)
    return ip[:4] + struct.pack("!HB", length, 60) + ip[7:40] + options + ip[40:]


def client_hello(server_name: str, alpn: tuple[str, ...] = ()) -> bytes:
    """A TLS 1.2 ClientHello record naming ``server_name`` (SNI), offering ``alpn`` (a browser
    offers ``("h2", "http/1.1")``; miners offer nothing)."""
    name = server_name.encode()
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    extensions = struct.pack("!HH", 0, len(sni)) + sni
    if alpn:
        names = b"".join(bytes([len(p)]) + p.encode() for p in alpn)
        extensions += struct.pack("!HHH", 0x0010, len(names) + 2, len(names)) + names
    body = (
        b"\x03\x03"
        + bytes(32)
        + b"\x00"
        + struct.pack("!H", 2)
        + b"\xc0\x2f"
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def server_hello() -> bytes:
    """A short TLS handshake record from the server (contents opaque)."""
    return b"\x16\x03\x03\x00\x40" + bytes(64)


def tls_record(size: int) -> bytes:
    """An application-data record of ``size`` bytes (contents opaque)."""
    return (
        b"\x17\x03\x03"
        + struct.pack("!H", size)
        + bytes(range(256)) * (size // 256)
        + bytes(size % 256)
    )


def dns_query(name: str, ident: int = 0x1234) -> bytes:
    """A DNS query for the A record of ``name``."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x01\x00\x01"


def dns_answer(query: bytes, address: str) -> bytes:
    """The answer to :func:`dns_query` ``query``: one A record."""
    header = query[:2] + b"\x81\x80" + b"\x00\x01\x00\x01\x00\x00\x00\x00"
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04" + _address(address)
    return header + query[12:] + answer


def json_line(obj: object) -> bytes:
    """``obj`` as one line of JSON, the framing of Stratum and its cousins."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


# --- a server room -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrueFlow:
    """One mining flow of a generated capture: who mined, towards which pool, how."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    protocol: str  # stratum, eth-proxy, monero, stratum-tls
    wallet: str | None
    worker: str | None


_POOL_NAMES = ("eu1.nanopool.org", "stratum.f2pool.com", "xmr.2miners.com", "btc.viabtc.io")


def server_room_capture(
    path: Path, seed: int = 0, miners: int = 6, others: int = 30, encoding: Encoding | None = None
) -> list[TrueFlow]:
    """An hour of a unit's server room with ``miners`` mining hosts among ``others`` ordinary
    conversations; writes the capture to ``path`` (as ``encoding`` says) and returns the mining
    flows (ground truth, with the addresses as written)."""
    rng = np.random.default_rng(seed)
    talks: list[Conversation | Datagrams] = []
    truth: list[TrueFlow] = []
    kinds = ("stratum", "eth-proxy", "monero", "stratum-tls", "stratum-mid")
    for index in range(miners):
        kind = kinds[index % len(kinds)]
        host = f"10.{20 + index // 200}.{index % 200}.{int(rng.integers(2, 250))}"
        client = (host, int(rng.integers(40_000, 60_000)))
        pool = (f"203.0.113.{int(rng.integers(1, 250))}", int(rng.choice([3333, 4444, 14444])))
        start = START + float(rng.uniform(0, 600))
        wallet: str | None = _wallet(rng, kind)
        worker: str | None = f"rig{int(rng.integers(1, 400)):03d}"
        talk = Conversation(client, pool, start=start, handshake=kind != "stratum-mid")
        _mine(talk, kind, str(wallet), str(worker), rng)
        talks.append(talk.close())
        if kind == "stratum-tls":
            name = _POOL_NAMES[int(rng.integers(len(_POOL_NAMES)))]
            query = dns_query(name, int(rng.integers(0, 65535)))
            lookup = Datagrams(
                (host, int(rng.integers(40_000, 60_000))), ("10.0.0.53", 53), start=start - 0.05
            )
            talks.append(lookup.send(0, query).send(1, dns_answer(query, pool[0])))
            wallet = worker = None
        truth.append(
            TrueFlow(
                client[0],
                client[1],
                pool[0],
                pool[1],
                "stratum" if kind == "stratum-mid" else kind,
                wallet,
                worker,
            )
        )
    for index in range(others):
        host = f"10.30.{index % 200}.{int(rng.integers(2, 250))}"
        client = (host, int(rng.integers(40_000, 60_000)))
        start = START + float(rng.uniform(0, 3000))
        talks.append(_ordinary(index, client, start, rng))
    write_pcap(path, talks, encoding)
    if encoding is not None and encoding.ipv6:
        truth = [
            replace(flow, client_ip=ipv6_of(flow.client_ip), server_ip=ipv6_of(flow.server_ip))
            for flow in truth
        ]
    return truth


def _wallet(rng: np.random.Generator, kind: str) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    if kind == "eth-proxy":
        return "0x" + "".join(rng.choice(list("0123456789abcdef"), 40))
    if kind == "monero":
        return "4" + "".join(rng.choice(list(alphabet), 94))
    return "farm" + str(int(rng.integers(10, 99)))


def _mine(
    talk: Conversation, kind: str, wallet: str, worker: str, rng: np.random.Generator
) -> None:
    beat = float(rng.uniform(8, 30))  # seconds between new work and shares
    rounds = int(rng.integers(6, 20))
    if kind == "stratum-tls":
        talk.send(0, client_hello(_POOL_NAMES[0]), after=0.02).send(1, server_hello())
        for _ in range(rounds):
            talk.send(0, tls_record(int(rng.integers(150, 220))), after=beat)
            talk.send(1, tls_record(int(rng.integers(300, 600))))
        return
    if kind == "stratum":
        talk.send(
            0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]})
        )
        talk.send(
            1,
            json_line(
                {"id": 1, "result": [[["mining.notify", "ae6812eb"]], "08000002", 4], "error": None}
            ),
        )
        talk.send(
            0,
            json_line(
                {"id": 2, "method": "mining.authorize", "params": [f"{wallet}.{worker}", "x"]}
            ),
        )
    if kind in ("stratum", "stratum-mid"):
        for share in range(rounds):
            job = f"{int(rng.integers(0, 2**31)):08x}"
            talk.send(
                1,
                json_line(
                    {
                        "id": None,
                        "method": "mining.notify",
                        "params": [
                            job,
                            "00" * 32,
                            "01",
                            "02",
                            [],
                            "20000000",
                            "1703a30c",
                            "6183e4d5",
                            True,
                        ],
                    }
                ),
                after=beat,
            )
            talk.send(
                0,
                json_line(
                    {
                        "id": 10 + share,
                        "method": "mining.submit",
                        "params": [f"{wallet}.{worker}", job, "00000000", "6183e4d5", "9b1c0a7e"],
                    }
                ),
            )
        return
    if kind == "eth-proxy":
        talk.send(
            0,
            json_line(
                {
                    "id": 1,
                    "jsonrpc": "2.0",
                    "method": "eth_submitLogin",
                    "params": [wallet, "x"],
                    "worker": worker,
                }
            ),
        )
        talk.send(1, json_line({"id": 1, "jsonrpc": "2.0", "result": True}))
        for share in range(rounds):
            talk.send(0, json_line({"id": 5, "method": "eth_getWork", "params": []}), after=beat)
            talk.send(
                1,
                json_line(
                    {"id": 5, "result": ["0x" + "ab" * 32, "0x" + "cd" * 32, "0x" + "00" * 32]}
                ),
            )
            talk.send(
                0,
                json_line(
                    {
                        "id": 10 + share,
                        "method": "eth_submitHashrate",
                        "params": ["0x1dcd6500", "0x" + "ef" * 32],
                    }
                ),
            )
        return
    # Monero's login / job / submit / keepalived
    talk.send(
        0,
        json_line(
            {
                "id": 1,
                "jsonrpc": "2.0",
                "method": "login",
                "params": {
                    "login": wallet,
                    "pass": worker,
                    "agent": "XMRig/6.16.2",
                    "algo": ["rx/0"],
                },
            }
        ),
    )
    talk.send(
        1,
        json_line(
            {
                "id": 1,
                "jsonrpc": "2.0",
                "error": None,
                "result": {
                    "id": "a1b2",
                    "status": "OK",
                    "job": {"blob": "0e0e" * 38, "job_id": "j0", "target": "b88d0600"},
                },
            }
        ),
    )
    for share in range(rounds):
        talk.send(
            1,
            json_line(
                {
                    "jsonrpc": "2.0",
                    "method": "job",
                    "params": {
                        "blob": "0e0e" * 38,
                        "job_id": f"j{share + 1}",
                        "target": "b88d0600",
                    },
                }
            ),
            after=beat,
        )
        talk.send(
            0,
            json_line(
                {
                    "id": 2 + share,
                    "jsonrpc": "2.0",
                    "method": "submit",
                    "params": {
                        "id": "a1b2",
                        "job_id": f"j{share + 1}",
                        "nonce": "c4a10100",
                        "result": "ab" * 32,
                    },
                }
            ),
        )
        talk.send(
            0,
            json_line(
                {
                    "id": 100 + share,
                    "jsonrpc": "2.0",
                    "method": "keepalived",
                    "params": {"id": "a1b2"},
                }
            ),
        )


def _ordinary(
    index: int, client: tuple[str, int], start: float, rng: np.random.Generator
) -> Conversation | Datagrams:
    kind = index % 5
    server_ip = f"198.51.100.{int(rng.integers(1, 250))}"
    if kind == 0:  # web page in the clear
        talk = Conversation(client, (server_ip, 80), start=start)
        talk.send(0, b"GET /index.html HTTP/1.1\r\nHost: intranet.example\r\n\r\n")
        talk.send(1, b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n" + bytes(900))
        return talk.close()
    if kind == 1:  # TLS to an ordinary service, long-lived
        talk = Conversation(client, (server_ip, 443), start=start)
        talk.send(0, client_hello("updates.example.com")).send(1, server_hello())
        for _ in range(int(rng.integers(5, 30))):
            talk.send(0, tls_record(int(rng.integers(100, 900))), after=float(rng.uniform(1, 30)))
            talk.send(1, tls_record(int(rng.integers(100, 1400))))
        return talk.close()
    if kind == 2:  # monitoring over JSON-RPC (not mining)
        talk = Conversation(client, (server_ip, 10051), start=start)
        for call in range(int(rng.integers(3, 12))):
            talk.send(
                0,
                b"POST /api_jsonrpc.php HTTP/1.1\r\nHost: zabbix\r\n\r\n"
                + json_line(
                    {
                        "jsonrpc": "2.0",
                        "method": "host.get",
                        "params": {"output": ["hostid"]},
                        "id": call,
                    }
                ),
                after=float(rng.uniform(5, 60)),
            )
            talk.send(1, json_line({"jsonrpc": "2.0", "result": [{"hostid": "10084"}], "id": call}))
        return talk.close()
    if kind == 3:  # database session on a high port
        talk = Conversation(client, (server_ip, 5432), start=start)
        for _ in range(int(rng.integers(3, 15))):
            talk.send(
                0, b"Q\x00\x00\x00\x1dSELECT 1 FROM meters;\x00", after=float(rng.uniform(1, 20))
            )
            talk.send(1, b"T\x00\x00\x00\x1d" + bytes(40))
        return talk.close()
    query = dns_query(f"www{index}.example.cn", int(rng.integers(0, 65535)))
    lookup = Datagrams(client, ("10.0.0.53", 53), start=start)
    return lookup.send(0, query).send(1, dns_answer(query, server_ip))


def bulk_capture(path: Path, packets: int, seed: int = 0) -> int:
    """A capture of at least ``packets`` packets: server-room conversations repeated with fresh
    addresses until the count is reached, streamed to ``path``. Returns the packet count."""
    rng = np.random.default_rng(seed)
    written = 0
    with path.open("wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        block = 0
        while written < packets:
            talks: list[Conversation | Datagrams] = []
            base = START + block * 3600.0
            for index in range(200):
                host = (
                    f"10.{block % 250}.{index}.{int(rng.integers(2, 250))}",
                    int(rng.integers(1025, 65000)),
                )
                if index % 10 == 0:
                    pool = (f"203.0.{block % 250}.{index % 250}", 3333)
                    talk = Conversation(host, pool, start=base + float(rng.uniform(0, 100)))
                    _mine(talk, ("stratum", "eth-proxy", "monero")[index % 3], "farm1", "rig1", rng)
                    talks.append(talk.close())
                else:
                    talks.append(_ordinary(index, host, base + float(rng.uniform(0, 100)), rng))
            frames = sorted(p for c in talks for p in c.packets)
            for when, frame in frames:
                seconds = int(when)
                micros = min(round((when - seconds) * 1e6), 999_999)
                handle.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)))
                handle.write(frame)
            written += len(frames)
            block += 1
    return written
