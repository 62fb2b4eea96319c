"""Mining pools: host names (and their subdomains) and the TCP ports pools commonly listen on.

Facts gathered from public detection rule sets and pool documentation (``data/pool-hosts.txt``,
``data/pool-ports.txt``). A host name is strong evidence (a TLS server name or a DNS query for
it); a port is weak evidence only: 25, 80, 443 and 8080 are everyday ports, and any pool can
listen anywhere.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


def _lines(name: str) -> list[str]:
    text = resources.files("minewatch.reference").joinpath(f"data/{name}").read_text("utf-8")
    return [
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


EVERYDAY_PORTS = frozenset({25, 80, 443, 8000, 8008, 8080, 8888})
"""Pool ports that every web or mail server also uses: no evidence at all on their own."""


@cache
def pool_hosts() -> frozenset[str]:
    """Every packaged pool host name (lower case)."""
    return frozenset(_lines("pool-hosts.txt"))


@cache
def pool_ports() -> frozenset[int]:
    """TCP ports that pools commonly use."""
    return frozenset(int(line) for line in _lines("pool-ports.txt"))


def pool_host(name: str | None) -> str | None:
    """The packaged pool name that ``name`` is, or is a subdomain of (``None`` if none).

    ``eu1.nanopool.org.`` matches ``nanopool.org``; ``notnanopool.org`` does not."""
    if not name:
        return None
    labels = name.strip().rstrip(".").lower().split(".")
    hosts = pool_hosts()
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in hosts:
            return candidate
    return None
