"""Crafted captures for the network tests: Ethernet / IPv4 / TCP conversations in a pcap file.

Enough of TCP to look real to nfstream and nDPI (a handshake, sequence numbers that follow the
bytes sent, acknowledgements, a closing FIN), none of the rest (no options, no checksums)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

_SYN, _ACK, _PSH, _FIN = 0x02, 0x10, 0x08, 0x01


@dataclass
class Conversation:
    """One TCP connection from ``client`` to ``server`` (``(ip, port)`` pairs)."""

    client: tuple[str, int]
    server: tuple[str, int]
    start: float = 1_637_000_000.0
    handshake: bool = True
    packets: list[tuple[float, bytes]] = field(default_factory=list)
    _seq: list[int] = field(default_factory=lambda: [1000, 5000])
    _time: float = 0.0

    def __post_init__(self) -> None:
        self._time = self.start
        if self.handshake:
            self._segment(0, _SYN, b"", syn=True)
            self._segment(1, _SYN | _ACK, b"", syn=True)
            self._segment(0, _ACK, b"")

    def send(self, side: int, payload: bytes) -> Conversation:
        """``payload`` from the client (0) or the server (1), acknowledged by the other."""
        self._segment(side, _PSH | _ACK, payload)
        self._segment(1 - side, _ACK, b"")
        return self

    def close(self) -> Conversation:
        self._segment(0, _FIN | _ACK, b"")
        self._segment(1, _FIN | _ACK, b"")
        self._segment(0, _ACK, b"")
        return self

    def _segment(self, side: int, flags: int, payload: bytes, syn: bool = False) -> None:
        self._time += 0.01
        src, dst = (self.client, self.server) if side == 0 else (self.server, self.client)
        seq, ack = self._seq[side], self._seq[1 - side]
        tcp = struct.pack(
            "!HHIIBBHHH", src[1], dst[1], seq, ack if flags & _ACK else 0, 5 << 4, flags,
            65535, 0, 0,
        )  # fmt: skip
        self._seq[side] += len(payload) + (1 if syn or flags & _FIN else 0)
        length = 20 + len(tcp) + len(payload)
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 6, 0, _ip(src[0]), _ip(dst[0])
        )
        ether = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
        self.packets.append((self._time, ether + ip + tcp + payload))


def _ip(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def write_pcap(path: Path, conversations: list[Conversation]) -> Path:
    """The conversations' packets, in time order, as a classic little-endian pcap."""
    packets = sorted(p for c in conversations for p in c.packets)
    with path.open("wb") as handle:
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for when, frame in packets:
            seconds = int(when)
            micros = round((when - seconds) * 1e6)
            handle.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)))
            handle.write(frame)
    return path


def client_hello(server_name: str) -> bytes:
    """A TLS 1.2 ClientHello record naming ``server_name`` (SNI)."""
    name = server_name.encode()
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    extensions = struct.pack("!HH", 0, len(sni)) + sni
    body = (
        b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!H", 2) + b"\xc0\x2f" + b"\x01\x00"
        + struct.pack("!H", len(extensions)) + extensions
    )  # fmt: skip
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def tls_record(size: int) -> bytes:
    """An application-data record of ``size`` bytes (contents opaque)."""
    return (
        b"\x17\x03\x03"
        + struct.pack("!H", size)
        + bytes(range(256)) * (size // 256)
        + bytes(size % 256)
    )
