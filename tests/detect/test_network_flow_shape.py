"""The flow-only detector on crafted flow records: a miner's conversation (in the clear and on
443), and the long-lived look-alikes that must stay clean — a TLS download, an interactive SSH
session, an idle SSH session's keep-alives, DNS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from minewatch.cli.app import run
from minewatch.detect.network.flow_shape import REASONS, conversations, detect
from minewatch.ingest.flow_records import FLOW_RECORD_SCHEMA, write_flow_table
from minewatch.ingest.pool_addresses import PoolAddresses, pool_addresses_from_answers
from minewatch.synth.traffic import server_room_capture

T0 = 1_637_000_000_000
MINUTE = 60_000
Side = tuple[str, int]


def _records(
    client: Side,
    server: Side,
    per_minute: list[tuple[int, int, int, int]],
    protocol: int = 6,
    start: int = T0,
) -> list[dict[str, object]]:
    """Two records a minute (one per direction, as an exporter with a 60 s active timeout
    writes them): (client packets, client bytes, server packets, server bytes)."""
    rows = []
    for minute, (cp, cb, sp, sb) in enumerate(per_minute):
        first, last = start + minute * MINUTE, start + (minute + 1) * MINUTE - 1_000
        for src, dst, packets, octets in ((client, server, cp, cb), (server, client, sp, sb)):
            if packets:
                rows.append(
                    {
                        "exporter": "192.0.2.1",
                        "version": 10,
                        "observation_domain": 0,
                        "src_ip": src[0],
                        "src_port": src[1],
                        "dst_ip": dst[0],
                        "dst_port": dst[1],
                        "protocol": protocol,
                        "tcp_flags": 0x1A | (0x02 if minute == 0 else 0),
                        "packets": packets,
                        "bytes": octets,
                        "first_seen": datetime.fromtimestamp(first / 1000, UTC),
                        "last_seen": datetime.fromtimestamp(last / 1000, UTC),
                        "sampling_interval": 1,
                    }
                )
    return rows


def _table(*groups: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist([row for group in groups for row in group], FLOW_RECORD_SCHEMA)


def _mining(minutes: int = 60, seed: int = 1) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(minutes):
        shares, jobs = int(rng.integers(5, 8)), int(rng.integers(2, 4))
        # each share is one ~190-byte packet and each job one ~420-byte packet, each ACKed
        upstream = (shares + jobs, shares * 190 + jobs * 52)
        out.append((*upstream, jobs + shares, jobs * 420 + shares * 52))
    return out


MINER, POOL = ("10.0.0.5", 51000), ("203.0.113.7", 3333)


def test_a_miner_is_found_from_its_shape_and_oriented_client_to_server() -> None:
    findings = detect(_table(_records(MINER, POOL, _mining())))
    (row,) = findings.to_pylist()
    assert row["mining"]
    assert (row["client_ip"], row["client_port"], row["server_port"]) == (*MINER, 3333)
    assert row["reason"].split("; ") == [
        "flows.shape.long_small_symmetric",
        "flows.shape.regular",
        "flows.pool_port",
    ]
    assert row["records"] == 120
    assert row["duration_s"] == pytest.approx(3599.0)
    evidence = json.loads(row["evidence"])
    assert evidence["bytes_per_packet"][0] < 300
    assert row["confidence"] >= 0.6


def test_a_miner_on_port_443_is_found_from_its_shape_alone() -> None:
    (row,) = detect(_table(_records(MINER, ("198.51.100.20", 443), _mining()))).to_pylist()
    assert row["reason"] == "flows.shape.long_small_symmetric; flows.shape.regular"
    assert row["mining"]


def test_long_lived_look_alikes_stay_clean() -> None:
    rng = np.random.default_rng(7)
    download = [(int(n * 0.5), int(n * 0.5) * 52, n, n * 1400) for n in rng.integers(0, 3000, 40)]
    bursts = [int(v) for v in rng.choice([0, 0, 0, 2, 40, 300], size=45)]
    ssh = [(n, n * 90, n, n * 110) if n else (0, 0, 0, 0) for n in bursts]
    keepalive = [(2, 180, 2, 200)] * 180
    dns = [(1, 70, 1, 150)]
    table = _table(
        _records(("10.0.0.9", 52000), ("198.51.100.1", 443), download),
        _records(("10.0.0.9", 52001), ("198.51.100.2", 22), ssh),
        _records(("10.0.0.9", 52002), ("198.51.100.3", 22), keepalive),
        *[
            _records(("10.0.0.9", 40000 + i), ("10.0.0.53", 53), dns, 17, T0 + i * MINUTE)
            for i in range(50)
        ],
    )
    assert detect(table).num_rows == 0
    every = detect(table, all_conversations=True)
    everything = {r["server_port"]: r for r in every.to_pylist()}
    assert everything[443]["reason"] == ""  # 1,400-byte packets: a download
    assert everything[22]["confidence"] < 0.5
    assert every.column("server_port").to_pylist().count(53) == 50  # one a query


def test_a_listed_pool_address_is_enough_and_makes_it_the_server() -> None:
    # A short session whose client happens to use a lower port than the pool.
    pool = ("192.0.2.99", 45700)
    rows = _records(("10.0.0.7", 1200), pool, [(10, 900, 9, 1500)])
    pools = PoolAddresses()
    pools.add("192.0.2.0/24", "listed")
    (row,) = detect(_table(rows), pools=pools).to_pylist()
    assert (row["client_ip"], row["server_ip"]) == ("10.0.0.7", "192.0.2.99")
    assert row["reason"].startswith("flows.pool_address")
    answers = [
        ("eu1.nanopool.org", "192.0.2.99"),
        ("x.org", "1.1.1.1"),
        ("www.nanopool.org", "104.16.1.1"),
    ]
    learned = pool_addresses_from_answers(answers)
    assert learned.name_of("192.0.2.99") == "nanopool.org"
    assert learned.name_of("1.1.1.1") is None
    assert learned.name_of("104.16.1.1") is None, "a pool's web site is not a pool"


def test_an_unanswered_attempt_towards_a_pool_is_intent_not_mining() -> None:
    pools = PoolAddresses()
    pools.add("192.0.2.99", "listed")
    attempt = _records(("10.0.0.7", 40100), ("192.0.2.99", 3333), [(3, 156, 0, 0)])
    attempt[0]["tcp_flags"] = 0x02  # three SYNs, no answer
    refused = _records(("10.0.0.7", 40101), ("192.0.2.99", 3333), [(1, 52, 1, 40)])
    for row in refused:  # a SYN, and a RST back
        row["tcp_flags"] = 0x02 if row["src_ip"] == "10.0.0.7" else 0x14
    found = detect(_table(attempt, refused), pools=pools, all_conversations=True).to_pylist()
    assert len(found) == 2
    for row in found:
        assert not row["mining"]
        assert row["reason"].startswith("flows.pool_address_attempt")


def test_records_split_by_a_long_silence_are_two_conversations() -> None:
    early = _records(MINER, POOL, [(5, 500, 5, 500)] * 3)
    late = _records(MINER, POOL, [(5, 500, 5, 500)] * 3, start=T0 + 60 * MINUTE)
    table = conversations(_table(early, late))
    assert table.num_rows == 2
    assert table.column("records").to_pylist() == [6, 6]


def test_every_reason_declares_its_false_positives() -> None:
    for reason in REASONS.values():
        assert reason.code.startswith("flows.")
        assert reason.false_positives
        assert 0 < reason.weight < 1


def test_scan_flows_command(tmp_path: Path) -> None:
    records = tmp_path / "records.parquet"
    write_flow_table(
        _table(
            _records(MINER, POOL, _mining()),
            _records(("10.0.0.8", 50000), ("192.0.2.50", 443), [(4, 400, 4, 600)]),
        ),
        records,
    )
    dns = tmp_path / "dns.csv"
    dns.write_text("query,answer\nxmr.pool.minergate.com,192.0.2.50\n", encoding="utf-8")
    listed = tmp_path / "pools.txt"
    listed.write_text("# our list\n203.0.113.0/24 mypool\n", encoding="utf-8")
    out = tmp_path / "findings.jsonl"
    command = ["scan", "flows", str(records), "--out", str(out)]
    assert run([*command, "--dns-log", str(dns), "--pool-addresses", str(listed)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["server_ip"] for r in rows} == {"203.0.113.7", "192.0.2.50"}
    assert all(r["capture"] == "records.parquet" for r in rows)
    bad = tmp_path / "bad.txt"
    bad.write_text("not-an-address\n", encoding="utf-8")
    assert run([*command, "--pool-addresses", str(bad)]) == 2


def test_pools_found_by_a_payload_scan_flag_short_flow_records(tmp_path: Path) -> None:
    # An ISP inspects a mirrored sample (scan pcap), then looks for the pools it saw there in
    # the flow records of the whole province: a two-minute session is too short for the shape.
    capture = tmp_path / "sample.pcap"
    truth = server_room_capture(capture, seed=8, miners=3, others=5)
    findings = tmp_path / "sample.parquet"
    assert run(["scan", "pcap", str(capture), "--out", str(findings), "--no-asn"]) == 0
    pool = (truth[0].server_ip, truth[0].server_port)
    records = tmp_path / "records.parquet"
    write_flow_table(_table(_records(("10.9.9.9", 40001), pool, _mining(minutes=2))), records)
    out = tmp_path / "flows.jsonl"
    command = ["scan", "flows", str(records), "--out", str(out), "--no-asn"]
    assert run(command) == 0
    assert out.read_text(encoding="utf-8") == ""
    assert run([*command, "--pools-from", str(findings)]) == 0
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (row["client_ip"], row["server_ip"]) == ("10.9.9.9", pool[0])
    assert "flows.pool_address" in row["reason"]
    assert run([*command, "--pools-from", str(records)]) == 2  # not network findings


def test_pool_blocks_match_the_narrowest_and_both_families() -> None:
    pools = PoolAddresses()
    pools.add("10.0.0.0/8", "wide")
    pools.add("10.1.0.0/16", "narrow")
    pools.add("2001:db8::/32", "six")
    pools.add("192.0.2.7", "exact")
    assert pools.name_of("10.1.2.3") == "narrow"
    assert pools.name_of("10.2.0.1") == "wide"
    assert pools.name_of("11.0.0.1") is None
    assert pools.name_of("2001:db8::5") == "six"
    assert pools.name_of("192.0.2.7") == "exact"
    assert pools.name_of("not an address") is None
    assert len(pools) == 4
