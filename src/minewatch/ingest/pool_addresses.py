"""Addresses known to be mining pools: a user's list, and what DNS answers tie to pool names.

Flow records carry addresses, not names; nothing is resolved here (MineWatch works offline, and
a pool's addresses today are not the ones of last month's records). Two sources are read:

* a **list** (``--pool-addresses``): one IPv4/IPv6 address or CIDR block a line, optionally
  followed by the pool's name; ``#`` starts a comment;
* **network findings** (``--pools-from``): the pool side (``server_ip``) of every mining flow
  that a payload scan (``scan pcap``) found — an ISP inspects a mirrored sample of a link, and
  the pools it saw there are then looked for in the whole province's flow records;
* a **DNS log** (``--dns-log``): a CSV with a ``query`` and an ``answer`` column (answers may be
  several addresses separated by commas), such as a resolver's log or ``tshark -T fields -E
  header=y -E separator=, -E quote=d -e dns.qry.name -e dns.a -e dns.aaaa`` renamed; a row whose
  query is a packaged pool host (:func:`minewatch.reference.pools.pool_host`) teaches its
  addresses — except a ``www.`` name: the pool's web site, often on a CDN's shared addresses.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from minewatch.errors import InputFileError, InputProblem
from minewatch.reference.pools import pool_host


@dataclass
class PoolAddresses:
    """Pool addresses (and blocks), each with the name it is known by.

    ``blocks`` maps (IP version, prefix length) to {network address as an integer: name}: a
    look-up masks the address once per prefix length present, longest first, so a list of
    thousands of blocks costs no more per address than a few dictionary look-ups."""

    exact: dict[str, str] = field(default_factory=dict)
    blocks: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.exact) + sum(len(networks) for networks in self.blocks.values())

    def name_of(self, address: str) -> str | None:
        """The pool ``address`` belongs to (its name, or ``"listed"``), ``None`` if none."""
        if address in self.exact:
            return self.exact[address]
        if not self.blocks:
            return None
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        value, width = int(ip), ip.max_prefixlen
        for (version, prefix), networks in sorted(self.blocks.items(), key=lambda k: -k[0][1]):
            if version == ip.version:
                name = networks.get(value >> (width - prefix) << (width - prefix))
                if name is not None:
                    return name
        return None

    def add(self, text: str, name: str) -> None:
        if "/" in text:
            block = ipaddress.ip_network(text, strict=False)
            networks = self.blocks.setdefault((block.version, block.prefixlen), {})
            networks[int(block.network_address)] = name
        else:
            self.exact[str(ipaddress.ip_address(text))] = name

    def update(self, other: PoolAddresses) -> None:
        self.exact.update(other.exact)
        for key, networks in other.blocks.items():
            self.blocks.setdefault(key, {}).update(networks)


def read_pool_addresses(path: str | Path) -> PoolAddresses:
    """A list of pool addresses or CIDR blocks, one a line (``ADDRESS [NAME]``)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, [InputProblem(None, None, "file not found")])
    found = PoolAddresses()
    problems: list[InputProblem] = []
    for number, line in enumerate(path.read_text("utf-8-sig").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        address, _, name = text.partition(" ")
        try:
            found.add(address, name.strip() or "listed")
        except ValueError:
            problems.append(InputProblem(number, None, f"{address!r} is not an address or block"))
    if problems:
        raise InputFileError(path, problems[:20])
    return found


def pool_addresses_from_findings(findings: pa.Table) -> PoolAddresses:
    """The servers of the mining flows of a network findings table, named by their pool host
    when the scan saw one (else ``"found by scan"``)."""
    found = PoolAddresses()
    missing = {"server_ip", "mining"} - set(findings.column_names)
    if missing:
        raise ValueError(f"not network findings (no {', '.join(sorted(missing))})")
    mining = findings.filter(findings.column("mining"))
    hosts = (
        mining.column("pool_host").to_pylist()
        if "pool_host" in mining.column_names
        else [None] * mining.num_rows
    )
    for address, host in zip(mining.column("server_ip").to_pylist(), hosts, strict=True):
        if address:
            found.add(str(address), str(host) if host else "found by scan")
    return found


def read_findings_pools(path: str | Path) -> PoolAddresses:
    """:func:`pool_addresses_from_findings` of a findings file (.parquet, .csv or .jsonl)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, [InputProblem(None, None, "file not found")])
    try:
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            table = pq.read_table(path)
        elif suffix == ".jsonl":
            table = pa_json.read_json(path)
        else:
            table = pa_csv.read_csv(path)
        return pool_addresses_from_findings(table)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputFileError(
            path, [InputProblem(None, None, f"not a readable network findings file ({error})")]
        ) from None


def read_dns_log(path: str | Path) -> PoolAddresses:
    """The addresses that DNS answers in ``path`` give for packaged pool host names."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, [InputProblem(None, None, "file not found")])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        headers = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [name for name in ("query", "answer") if name not in headers]
        if missing:
            raise InputFileError(
                path, [InputProblem(1, name, "required column is missing") for name in missing]
            )
        rows = [{k.strip().lower(): v for k, v in row.items() if k} for row in reader]
    return pool_addresses_from_answers(
        ((row.get("query") or "", row.get("answer") or "") for row in rows), path
    )


def pool_addresses_from_answers(
    answers: Iterable[tuple[str, str]], source: str | Path = "DNS answers"
) -> PoolAddresses:
    """``(query, answer)`` pairs: the answers to pool names, as pool addresses."""
    found = PoolAddresses()
    problems: list[InputProblem] = []
    for number, (query, answer) in enumerate(answers, start=2):
        host = pool_host(query)
        if host is None or query.strip().lower().startswith("www."):
            continue  # not a pool, or its web site (often on a CDN's shared addresses)
        for text in answer.replace(";", ",").split(","):
            if not text.strip():
                continue
            try:
                found.add(text.strip(), host)
            except ValueError:
                problems.append(InputProblem(number, "answer", f"{text!r} is not an address"))
    if problems:
        raise InputFileError(source, problems[:20])
    return found
