"""Who routes an address: the autonomous system's organisation, from an offline database.

The database is the one the ``geoip2fast`` package ships (``geoip2fast-asn-ipv6.dat.gz``,
IPv4 and IPv6; version 1.2.2 holds MaxMind's GeoLite2 ASN and Country data of 18 June 2024). It
is read from the installed package, never fetched: MineWatch does not call the package's update
functions, and the package opens no connection on load or look-up (checked with sockets
disabled). The data ages with the package version pinned in ``constraints.txt``.

Licences: the package is MIT; the data is under MaxMind's GeoLite2 End User License Agreement,
which asks for attribution ("This product includes GeoLite2 data created by MaxMind"), that
shared copies carry the same terms, and that users keep the data up to date and delete old
versions — a deployment must bump the pinned package (or replace the source) accordingly. The
agreement also forbids using the data to locate people, households or street addresses; here it
only names the network operator of an address that no allocation record covers.

It gives the AS *organisation* (the name as registered, e.g. ``Chinanet``) and the network the
AS announces, not the AS number, which the file does not hold. The package loads its data with
``pickle`` (trusting the installed package) into module globals. Loading takes about 0.2 s; a
look-up about 5 µs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["DATA_FILE", "AsRecord", "as_database", "lookup_as"]

DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
"""The package's data file with AS names for IPv4 and IPv6."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsRecord:
    """The autonomous system that announces an address."""

    organisation: str
    network: str | None  # the announced block, CIDR
    country_code: str | None  # ISO 3166 of the address (not of the organisation)


@lru_cache(maxsize=1)
def as_database() -> Any:
    """The loaded database (once per process)."""
    from geoip2fast import GeoIP2Fast  # a pure-Python package; its data ships inside it

    _log.info("loading the AS database %s from the geoip2fast package", DATA_FILE)
    return GeoIP2Fast(verbose=False, geoip2fast_data_file=DATA_FILE)


def lookup_as(addresses: Iterable[str]) -> dict[str, AsRecord | None]:
    """The AS record of each distinct address (``None``: private, reserved or not routed)."""
    database = as_database()
    found: dict[str, AsRecord | None] = {}
    for address in addresses:
        if address in found:
            continue
        result = database.lookup(address)
        name = str(getattr(result, "asn_name", "") or "")
        if getattr(result, "is_private", False) or not name:
            found[address] = None
            continue
        country = str(getattr(result, "country_code", "") or "")
        found[address] = AsRecord(
            organisation=name,
            network=str(getattr(result, "asn_cidr", "") or "") or None,
            country_code=country if len(country) == 2 and country != "--" else None,
        )
    return found
