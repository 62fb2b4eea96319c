"""IP addresses and address ranges as ISPs file them (RFC 4632 CIDR, or first–last).

Every address, IPv4 or IPv6, is turned into one 16-byte big-endian key: IPv6 as it is, IPv4 as
its IPv4-mapped IPv6 address (``::ffff:a.b.c.d``, RFC 4291 §2.5.5.2). Byte order is numeric
order, so keys of both families sort, compare and ``numpy.searchsorted`` together as ``S16``
(an IPv4 key never falls inside an IPv6 range that does not cover ``::ffff:0:0/96``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "KEY_BYTES",
    "IpRange",
    "address_key",
    "address_keys",
    "key_text",
    "parse_address",
    "parse_range",
]

KEY_BYTES = 16
_V4_PREFIX = b"\x00" * 10 + b"\xff\xff"
_SEPARATORS = re.compile(r"\s*(?:-|–|—|~|～|至|到)\s*")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IpAddress:
    """One IPv4 or IPv6 address (full-width digits and spaces are forgiven); ``ValueError``
    when ``text`` is not one."""
    clean = unicodedata.normalize("NFKC", text).strip()
    try:
        return ipaddress.ip_address(clean.split("%", 1)[0])
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address") from None


def address_key(address: str | IpAddress) -> bytes:
    """The 16-byte key of an address (see the module's description)."""
    value = parse_address(address) if isinstance(address, str) else address
    if value.version == 4:
        return _V4_PREFIX + value.packed
    return value.packed


def key_text(key: bytes) -> str:
    """The address a key stands for, written the usual way (IPv4 dotted)."""
    padded = key.ljust(KEY_BYTES, b"\x00")  # numpy drops the trailing zero bytes of S16
    if padded.startswith(_V4_PREFIX):
        return socket.inet_ntop(socket.AF_INET, padded[12:])
    return socket.inet_ntop(socket.AF_INET6, padded)


def address_keys(
    addresses: Iterable[str | None],
) -> tuple[npt.NDArray[np.bytes_], npt.NDArray[np.bool_]]:
    """Keys of many addresses as an ``S16`` array, and which of them were addresses at all
    (an empty or unreadable one gets the key of ``::`` and ``False``)."""
    cache: dict[str | None, bytes | None] = {}
    keys: list[bytes] = []
    ok: list[bool] = []
    for text in addresses:
        key = cache.get(text, b"")
        if key == b"":
            key = _fast_key(text)
            cache[text] = key
        ok.append(key is not None)
        keys.append(key or bytes(KEY_BYTES))
    return np.array(keys, dtype=f"S{KEY_BYTES}"), np.array(ok, dtype=bool)


def _fast_key(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return _V4_PREFIX + socket.inet_pton(socket.AF_INET, text)
    except OSError:
        pass
    try:
        return address_key(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class IpRange:
    """A contiguous block of addresses of one family, ``first`` to ``last`` inclusive."""

    first: IpAddress
    last: IpAddress

    @property
    def version(self) -> int:
        return self.first.version

    @property
    def first_key(self) -> bytes:
        return address_key(self.first)

    @property
    def last_key(self) -> bytes:
        return address_key(self.last)

    @property
    def size(self) -> int:
        """How many addresses the block holds."""
        return int(self.last) - int(self.first) + 1

    def contains(self, other: IpRange) -> bool:
        return self.version == other.version and (
            int(self.first) <= int(other.first) <= int(other.last) <= int(self.last)
        )

    def intersects(self, other: IpRange) -> bool:
        return self.version == other.version and not (
            int(self.last) < int(other.first) or int(other.last) < int(self.first)
        )

    def __str__(self) -> str:
        networks = list(ipaddress.summarize_address_range(self.first, self.last))
        if len(networks) == 1:
            return str(networks[0])
        return f"{self.first}-{self.last}"


def parse_range(text: str) -> IpRange:
    """A block written as CIDR (``10.20.0.0/16``, ``240e:3a1::/32``), as one address, or as
    ``first-last`` (also with –, —, ~, 至). Raises ``ValueError`` saying what is wrong: a
    family mix, ``first`` after ``last``, host bits set after the prefix length."""
    clean = unicodedata.normalize("NFKC", text).strip()
    if not clean:
        raise ValueError("is empty")
    if "/" in clean:
        try:
            network = ipaddress.ip_network(clean, strict=True)
        except ValueError as error:
            try:
                loose = ipaddress.ip_network(clean, strict=False)
            except ValueError:
                raise ValueError(f"{text!r} is not a CIDR block ({error})") from None
            raise ValueError(
                f"{text!r} has host bits set after the prefix length; did you mean {loose}?"
            ) from None
        return IpRange(network.network_address, network.broadcast_address)
    parts = _SEPARATORS.split(clean)
    if len(parts) == 1:
        address = parse_address(clean)
        return IpRange(address, address)
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a range: write 10.20.0.0/16 or 10.20.0.0-10.20.255.255")
    first, last = parse_address(parts[0]), parse_address(parts[1])
    if first.version != last.version:
        raise ValueError(f"{text!r} mixes IPv{first.version} and IPv{last.version}")
    if last < first:  # type: ignore[operator]
        raise ValueError(f"{text!r} ends ({last}) before it starts ({first})")
    return IpRange(first, last)
