"""``minewatch scan pcap`` on the shared corpus: the mining flows, every flow, and errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from minewatch.cli.app import run

PCAPS = (
    Path(
        os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "data")
    )
    / "pcaps"
)
MINING = PCAPS / "mining" / "ndpi-mining.pcapng"

pytestmark = pytest.mark.skipif(not MINING.is_file(), reason=f"no capture corpus at {PCAPS}")


def test_scan_pcap_writes_mining_flows_client_to_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "flows.jsonl"
    assert run(["scan", "pcap", str(MINING), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4
    monero = next(r for r in rows if r["method"] == "login")
    assert (monero["client_ip"], monero["server_port"], monero["coin"]) == (
        "192.168.2.92",
        9050,
        "XMR",
    )
    assert monero["agent"].startswith("xmr-stak")
    assert monero["first_seen"].startswith("2017-12-25T")
    assert "4 mining flow(s)" in capsys.readouterr().out


def test_scan_pcap_all_flows_to_parquet(tmp_path: Path) -> None:
    out = tmp_path / "flows.parquet"
    negative = PCAPS / "negative" / "ndpi-jsonrpc.pcap"
    assert run(["scan", "pcap", str(MINING), str(negative), "--out", str(out), "--all-flows"]) == 0
    table = pq.read_table(out)
    assert table.num_rows > 4
    rows = table.to_pylist()
    clean = [r for r in rows if r["capture"] == "ndpi-jsonrpc.pcap"]
    assert clean
    assert not any(r["mining"] for r in clean)


def test_scan_pcap_refuses_what_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.pcap"
    text.write_text("not a capture")
    assert run(["scan", "pcap", str(text), "--out", str(tmp_path / "f.csv")]) != 0
    assert "notes.pcap: not a readable pcap" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()
    assert run(["scan", "pcap", str(MINING), "--out", str(tmp_path / "f.txt")]) != 0
