"""Attribution of network findings: longest prefix at a time, NAT → DHCP, the AS fallback."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_uscc
from minewatch.detect.network.attribution import (
    AllocationIndex,
    attribute_findings,
    dhcp_index,
    nat_index,
)
from minewatch.detect.network.flows import NETWORK_FINDINGS_SCHEMA, scan_captures
from minewatch.detect.network.ranges import CrossingRangesError, RangeIndex
from minewatch.ingest.allocations import ALLOCATIONS_SCHEMA
from minewatch.ingest.dhcp_leases import read_dhcp_leases
from minewatch.ingest.nat_log import read_nat_log
from minewatch.reference.asn import lookup_as
from minewatch.reference.ip_address import address_keys, parse_range
from minewatch.synth.traffic import START, Conversation, json_line, write_pcap


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _allocations(*records: tuple[str, str, str | None, str | None]) -> pa.Table:
    """(block, organisation, valid_from, valid_to) records."""
    rows = []
    for index, (block, organisation, start, end) in enumerate(records):
        parsed = parse_range(block)
        rows.append(
            {
                "ip_range": str(parsed),
                "ip_first": str(parsed.first),
                "ip_last": str(parsed.last),
                "organisation": organisation,
                "uscc": None,
                "address": f"{organisation}的地址",
                "region_code": None,
                "isp": "中国电信",
                "valid_from": _utc(start) if start else None,
                "valid_to": _utc(end) if end else None,
                "source_row": index + 2,
            }
        )
    return pa.Table.from_pylist(rows, schema=ALLOCATIONS_SCHEMA)


def _match(index: AllocationIndex, address: str, when: str) -> str | None:
    row = int(index.match([address], np.array([int(_utc(when).timestamp())]))[0])
    return None if row < 0 else str(index.table.column("organisation")[row])


ISP_AND_SUBS = _allocations(
    ("61.139.0.0/16", "四川电信", "2015-01-01", None),
    ("61.139.8.0/24", "成都某数据中心", "2020-01-01", None),
    ("61.139.8.16/29", "石棉县鑫源科技有限公司", "2021-03-01", "2021-10-01"),
    ("61.139.8.16/29", "雅安某学院", "2021-10-01", None),
    ("240e:3a1::/32", "四川电信", "2018-01-01", None),
    ("240e:3a1:8:100::/56", "雅安某学院", "2021-01-01", None),
)


def test_the_longest_prefix_valid_at_the_time_wins() -> None:
    index = AllocationIndex.build(ISP_AND_SUBS)
    assert _match(index, "61.139.8.17", "2021-06-01") == "石棉县鑫源科技有限公司"
    assert _match(index, "61.139.8.99", "2021-06-01") == "成都某数据中心"
    assert _match(index, "61.139.200.1", "2021-06-01") == "四川电信"
    assert _match(index, "61.140.0.1", "2021-06-01") is None


def test_an_ended_allocation_no_longer_matches() -> None:
    index = AllocationIndex.build(ISP_AND_SUBS)
    # The /29 went to another unit on 1 October; before the /24 existed only the /16 held it.
    assert _match(index, "61.139.8.17", "2021-10-05") == "雅安某学院"
    assert _match(index, "61.139.8.17", "2019-06-01") == "四川电信"
    assert _match(index, "61.139.8.17", "2014-06-01") is None


def test_ipv6_blocks_nest_like_ipv4() -> None:
    index = AllocationIndex.build(ISP_AND_SUBS)
    assert _match(index, "240e:3a1:8:1ab::5", "2021-11-15") == "雅安某学院"
    assert _match(index, "240e:3a1:9::5", "2021-11-15") == "四川电信"
    assert _match(index, "2001:db8::1", "2021-11-15") is None
    # An IPv4 address never falls into an IPv6 block.
    assert _match(index, "36.0.0.1", "2021-11-15") is None


def test_blocks_that_cross_cannot_be_indexed() -> None:
    keys, _ = address_keys(["10.0.0.0", "10.0.0.127", "10.0.0.64", "10.0.0.191"])
    with pytest.raises(CrossingRangesError):
        RangeIndex.build(keys[[0, 2]], keys[[1, 3]], np.array([0, 0]), np.array([9, 9]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(8, 30),
            st.integers(0, 2**32 - 1),
            st.integers(0, 100),
            st.integers(1, 100),
        ),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 220)), min_size=1, max_size=30),
)
def test_lookups_agree_with_a_linear_scan(
    blocks: list[tuple[int, int, int, int]], probes: list[tuple[int, int]]
) -> None:
    import ipaddress

    records: list[tuple[int, int, int, int]] = []
    for prefix, base, start, length in blocks:
        network = ipaddress.ip_network((base >> (32 - prefix) << (32 - prefix), prefix))
        first, last = int(network.network_address), int(network.broadcast_address)
        # CIDR blocks never cross; the same block may repeat only in periods that do not overlap.
        if any(f == first and z == last and s < start + length and start < e
               for f, z, s, e in records):  # fmt: skip
            continue
        records.append((first, last, start, start + length))
    texts = [str(ipaddress.ip_address(r[0])) for r in records]
    lasts = [str(ipaddress.ip_address(r[1])) for r in records]
    index = RangeIndex.build(
        address_keys(texts)[0],
        address_keys(lasts)[0],
        np.array([r[2] for r in records]),
        np.array([r[3] for r in records]),
    )
    keys, _ = address_keys([str(ipaddress.ip_address(a)) for a, _ in probes])
    found = index.lookup(keys, np.array([t for _, t in probes]))
    for (address, at), got in zip(probes, found.tolist(), strict=True):
        holding = [i for i, (f, z, s, e) in enumerate(records) if f <= address <= z and s <= at < e]
        want = min(holding, key=lambda i: records[i][1] - records[i][0], default=-1)
        if want < 0:
            assert got == -1
        else:
            assert got >= 0
            assert records[got][1] - records[got][0] == records[want][1] - records[want][0]
            assert records[got][0] <= address <= records[got][1]


def test_matching_is_fast_for_many_flows() -> None:
    rng = np.random.default_rng(7)
    count = 20_000
    bases = rng.integers(1 << 24, 223 << 24, count) & ~0xFF
    blocks = [f"{(b >> 24) & 255}.{(b >> 16) & 255}.{(b >> 8) & 255}.0/24" for b in bases]
    table = _allocations(*((b, f"单位{i}", "2021-01-01", None) for i, b in enumerate(set(blocks))))
    index = AllocationIndex.build(table)
    flows = [
        f"{(b >> 24) & 255}.{(b >> 16) & 255}.{(b >> 8) & 255}.{int(h)}"
        for b, h in zip(rng.choice(bases, 100_000), rng.integers(1, 255, 100_000), strict=True)
    ]
    started = time.perf_counter()
    found = index.match(flows, np.full(len(flows), int(_utc("2021-11-15").timestamp())))
    elapsed = time.perf_counter() - started
    assert (found >= 0).all()
    assert elapsed < 5.0, f"100,000 flows took {elapsed:.2f} s"


def _findings(tmp_path: Path, conversations: list[Conversation]) -> pa.Table:
    capture = write_pcap(tmp_path / "room.pcap", conversations)
    return scan_captures([capture])


def _stratum(client: tuple[str, int], pool: tuple[str, int], start: float = START) -> Conversation:
    talk = Conversation(client, pool, start=start)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11"]}))
    talk.send(1, json_line({"id": 1, "result": [[], "08000002", 4], "error": None}))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["farm7.rig9", "x"]}))
    return talk.close()


def test_nat_then_dhcp_name_the_machine_behind_a_public_address(tmp_path: Path) -> None:
    findings = _findings(tmp_path, [_stratum(("61.139.8.17", 40111), ("203.0.113.50", 3333))])
    nat = tmp_path / "nat.csv"
    nat.write_text(
        "公网IP,公网端口,内网IP,内网端口,协议,开始时间,结束时间\n"
        # Another host held the same public port earlier; then ours; a block for a third.
        "61.139.8.17,40111,10.8.0.9,51000,tcp,2021-11-16 01:00:00,2021-11-16 02:00:00\n"
        "61.139.8.17,40111,10.8.3.44,50123,tcp,2021-11-16 02:10:00,2021-11-16 03:00:00\n"
        "61.139.8.17,40000-40099,10.8.0.2,,tcp,2021-11-16 02:00:00,\n",
        encoding="utf-8",
    )
    leases = tmp_path / "dhcpd.leases"
    leases.write_text(
        "# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
        "lease 10.8.3.44 {\n  starts 1 2021/11/15 08:00:00;\n  ends 1 2021/11/15 18:00:00;\n"
        "  binding state active;\n  hardware ethernet 00:16:3e:00:00:01;\n"
        '  client-hostname "office-pc";\n}\n'
        "lease 10.8.3.44 {\n  starts 1 2021/11/15 18:00:00;\n  ends 2 2021/11/16 06:00:00;\n"
        "  binding state active;\n  hardware ethernet 00:16:3E:AA:BB:CC;\n"
        '  uid "\\001\\000\\026>\\252\\273\\314";\n  client-hostname "gpu-rig-07";\n}\n'
        "lease 10.8.3.45 {\n  starts 1 2021/11/15 18:00:00;\n  ends 2 2021/11/16 06:00:00;\n"
        "  binding state free;\n}\n",
        encoding="utf-8",
    )
    attributed = attribute_findings(
        findings,
        allocations=AllocationIndex.build(ISP_AND_SUBS),
        nat=nat_index(read_nat_log(nat)),
        dhcp=dhcp_index(read_dhcp_leases(leases)),
    )
    row = attributed.to_pylist()[0]
    assert row["first_seen"] == datetime.fromtimestamp(START + 0.01, UTC)
    assert (row["internal_ip"], row["internal_port"]) == ("10.8.3.44", 50123)
    assert (row["mac"], row["host_name"]) == ("00:16:3e:aa:bb:cc", "gpu-rig-07")
    assert row["enterprise"] == "雅安某学院"
    assert row["attributed_by"] == "nat+dhcp+allocation"
    assert attributed.schema.names == NETWORK_FINDINGS_SCHEMA.names


def test_a_flow_outside_every_nat_window_stays_unresolved(tmp_path: Path) -> None:
    findings = _findings(
        tmp_path, [_stratum(("61.139.8.17", 40111), ("203.0.113.50", 3333), START + 86_400)]
    )
    nat = tmp_path / "nat.csv"
    nat.write_text(
        "public_ip,public_port,internal_ip,start_at,end_at\n"
        "61.139.8.17,40111,10.8.3.44,2021-11-16 02:10:00,2021-11-16 03:00:00\n",
        encoding="utf-8",
    )
    row = attribute_findings(findings, nat=nat_index(read_nat_log(nat))).to_pylist()[0]
    assert row["internal_ip"] is None
    assert row["attributed_by"] is None


def test_the_as_names_a_public_address_no_allocation_holds(tmp_path: Path) -> None:
    findings = _findings(
        tmp_path,
        [
            _stratum(("8.8.8.8", 40111), ("203.0.113.50", 3333)),
            _stratum(("61.139.8.17", 40112), ("203.0.113.50", 3333), START + 5),
        ],
    )
    attributed = attribute_findings(
        findings, allocations=AllocationIndex.build(ISP_AND_SUBS), as_lookup=lookup_as
    )
    rows = {r["client_ip"]: r for r in attributed.to_pylist()}
    google = rows["8.8.8.8"]
    assert google["attributed_by"] == "asn"
    assert google["as_org"] == "GOOGLE"
    assert google["as_network"] is not None
    assert google["enterprise"] is None
    assert rows["61.139.8.17"]["attributed_by"] == "allocation"
    assert rows["61.139.8.17"]["as_org"] is None


def test_private_and_documentation_addresses_have_no_as() -> None:
    found = lookup_as(["10.1.2.3", "192.0.2.1", "240e::1"])
    assert found["10.1.2.3"] is None
    assert found["192.0.2.1"] is None
    assert found["240e::1"] is not None


def test_an_empty_table_keeps_its_schema() -> None:
    empty = NETWORK_FINDINGS_SCHEMA.empty_table()
    out = attribute_findings(empty, allocations=AllocationIndex.build(ISP_AND_SUBS))
    assert out.num_rows == 0
    assert out.schema == NETWORK_FINDINGS_SCHEMA


def test_credit_codes_pass_through() -> None:
    table = ISP_AND_SUBS.set_column(
        ISP_AND_SUBS.schema.get_field_index("uscc"),
        "uscc",
        pa.array([None, None, make_uscc(5), None, None, None], pa.string()),
    )
    index = AllocationIndex.build(table)
    row = int(index.match(["61.139.8.20"], np.array([int(_utc("2021-05-01").timestamp())]))[0])
    assert table.column("uscc")[row].as_py() == make_uscc(5)


def test_the_as_database_loads_and_answers_without_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    from minewatch.reference.asn import as_database

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the AS database tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    as_database.cache_clear()
    found = lookup_as(["1.1.1.1", "2001:4860:4860::8888"])
    assert found["1.1.1.1"] is not None
    assert found["1.1.1.1"].organisation == "CLOUDFLARENET"
    google6 = found["2001:4860:4860::8888"]
    assert google6 is not None
    assert google6.organisation == "GOOGLE"
