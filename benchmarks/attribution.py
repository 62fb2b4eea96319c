"""Attribution benchmark: findings traced to allocations, NAT, DHCP and the AS, per 100k flows.

``python -m benchmarks.attribution [--flows 100000] [--allocations 50000]`` builds a findings
table whose client addresses fall in nested allocations (ISP /16s, enterprise /24s, /29s that
changed hands mid-year), a NAT log and DHCP leases of the same size as the flows, and times each
step of :func:`minewatch.detect.network.attribution.attribute_findings`. A linear scan over the
allocations (what a per-flow loop would do) is timed on a sample and scaled, for comparison.
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from minewatch.detect.network.attribution import (
    AllocationIndex,
    attribute_findings,
    dhcp_index,
    nat_index,
)
from minewatch.detect.network.flows import NETWORK_FINDINGS_SCHEMA
from minewatch.ingest.allocations import ALLOCATIONS_SCHEMA
from minewatch.ingest.dhcp_leases import DHCP_LEASES_SCHEMA
from minewatch.ingest.nat_log import NAT_LOG_SCHEMA
from minewatch.reference.asn import as_database, lookup_as

YEAR_START = datetime(2021, 1, 1, tzinfo=UTC)
MID_YEAR = datetime(2021, 7, 1, tzinfo=UTC)
FLOW_AT = datetime(2021, 11, 15, 10, tzinfo=UTC)


def _ip(value: int) -> str:
    return str(ipaddress.IPv4Address(int(value)))


def allocations(count: int, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """ISP /16s, each with enterprise /24s, some with /29s that changed hands on 1 July."""
    isps = max(count // 50, 1)
    slash16 = (rng.choice(np.arange(1 << 8, 223 << 8), isps, replace=False) << 16).astype(np.int64)
    rows: list[dict[str, object]] = []

    def add(first: int, last: int, org: str, start: datetime | None, end: datetime | None) -> None:
        rows.append({"ip_range": f"{_ip(first)}-{_ip(last)}", "ip_first": _ip(first),
                     "ip_last": _ip(last), "organisation": org, "uscc": None, "address": None,
                     "region_code": None, "isp": "ISP", "valid_from": start, "valid_to": end,
                     "source_row": len(rows) + 2})  # fmt: skip

    for base in slash16.tolist():
        add(base, base + 65535, f"ISP {base >> 16}", None, None)
    per = max((count - isps) // isps, 1)
    subnets = []
    for base in slash16.tolist():
        for third in rng.choice(256, min(per, 256), replace=False).tolist():
            first = base + (third << 8)
            subnets.append(first)
            if len(rows) % 5 == 0:
                add(first, first + 7, f"old {first}", YEAR_START, MID_YEAR)
                add(first, first + 7, f"new {first}", MID_YEAR, None)
            else:
                add(first, first + 255, f"ent {first}", YEAR_START, None)
            if len(rows) >= count:
                break
        if len(rows) >= count:
            break
    return pa.Table.from_pylist(rows, schema=ALLOCATIONS_SCHEMA), np.array(subnets)


def findings(flows: int, subnets: np.ndarray, rng: np.random.Generator) -> pa.Table:
    clients = rng.choice(subnets, flows) + rng.integers(1, 255, flows)
    outside = rng.random(flows) < 0.1  # a tenth from addresses no allocation holds
    clients = np.where(outside, rng.integers(1 << 24, 223 << 24, flows), clients)
    first_seen = [FLOW_AT] * flows
    columns: dict[str, object] = {name: [None] * flows for name in NETWORK_FINDINGS_SCHEMA.names}
    columns.update(
        capture=["bench.pcap"] * flows,
        client_ip=[_ip(c) for c in clients.tolist()],
        client_port=rng.integers(1024, 65535, flows).tolist(),
        server_ip=["203.0.113.7"] * flows,
        server_port=[3333] * flows,
        transport=["tcp"] * flows,
        first_seen=first_seen,
        last_seen=first_seen,
        mining=[True] * flows,
    )
    return pa.table(columns, schema=NETWORK_FINDINGS_SCHEMA)


def nat_and_dhcp(table: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    flows = table.num_rows
    inside = [_ip((10 << 24) + int(i)) for i in rng.integers(1, 1 << 20, flows).tolist()]
    start = datetime(2021, 11, 15, 9, tzinfo=UTC)
    end = datetime(2021, 11, 15, 11, tzinfo=UTC)
    nat = pa.table(
        {
            "public_ip": table.column("client_ip"),
            "public_port_first": table.column("client_port"),
            "public_port_last": table.column("client_port"),
            "protocol": ["tcp"] * flows,
            "internal_ip": inside,
            "internal_port": [50_000] * flows,
            "start_at": [start] * flows,
            "end_at": [end] * flows,
            "source_row": list(range(2, flows + 2)),
        },
        schema=NAT_LOG_SCHEMA,
    )
    distinct = sorted(set(inside))
    dhcp = pa.table(
        {
            "ip": distinct,
            "mac": [
                f"02:00:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
                for i in range(len(distinct))
            ],
            "host_name": [f"h{i}" for i in range(len(distinct))],
            "start_at": [start] * len(distinct),
            "end_at": [None] * len(distinct),
            "source_row": list(range(2, len(distinct) + 2)),
        },
        schema=DHCP_LEASES_SCHEMA,
    )
    return nat, dhcp


def linear_scan(table: pa.Table, addresses: list[str]) -> float:
    """Seconds per flow of a per-flow loop over every allocation (the approach avoided)."""
    firsts = [int(ipaddress.IPv4Address(a)) for a in table.column("ip_first").to_pylist()]
    lasts = [int(ipaddress.IPv4Address(a)) for a in table.column("ip_last").to_pylist()]
    started = time.perf_counter()
    for address in addresses:
        value = int(ipaddress.IPv4Address(address))
        best = None
        for i, (low, high) in enumerate(zip(firsts, lasts, strict=True)):
            if low <= value <= high and (best is None or high - low < lasts[best] - firsts[best]):
                best = i
    return (time.perf_counter() - started) / len(addresses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100_000)
    parser.add_argument("--allocations", type=int, default=50_000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    table, subnets = allocations(args.allocations, rng)
    flows = findings(args.flows, subnets, rng)
    nat, dhcp = nat_and_dhcp(flows, rng)
    figures: list[tuple[str, float]] = []

    def timed(label: str, action):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = action()
        figures.append((label, time.perf_counter() - started))
        return result

    index = timed(f"index {table.num_rows:,} allocations", lambda: AllocationIndex.build(table))
    nat_i = timed(f"index {nat.num_rows:,} NAT records", lambda: nat_index(nat))
    dhcp_i = timed(f"index {dhcp.num_rows:,} DHCP leases", lambda: dhcp_index(dhcp))
    out = timed(
        f"attribute {flows.num_rows:,} flows: allocations",
        lambda: attribute_findings(flows, allocations=index),
    )
    matched = sum(1 for v in out.column("attributed_by").to_pylist() if v)
    timed(
        f"attribute {flows.num_rows:,} flows: NAT + DHCP + allocations",
        lambda: attribute_findings(flows, allocations=index, nat=nat_i, dhcp=dhcp_i),
    )
    timed("load the AS database (once per process)", as_database)
    timed(
        f"attribute {flows.num_rows:,} flows: all steps with the AS fallback",
        lambda: attribute_findings(
            flows, allocations=index, nat=nat_i, dhcp=dhcp_i, as_lookup=lookup_as
        ),
    )
    sample = flows.column("client_ip").to_pylist()[:200]
    per_flow = linear_scan(table, sample)
    for label, seconds in figures:
        print(f"{label:<62} {seconds:8.3f} s")
    print(f"{'linear scan per flow (sample of 200), scaled to the flows':<62} "
          f"{per_flow * flows.num_rows:8.1f} s")  # fmt: skip
    print(f"flows matched to an allocation: {matched:,} of {flows.num_rows:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
