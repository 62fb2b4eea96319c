"""``minewatch network allocations`` and ``scan pcap`` tracing flows into leads, end to end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from conftest import at, make_entry, make_uscc
from minewatch.cli.app import run
from minewatch.domain.db import make_engine, session_scope
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.migrate import upgrade_database
from minewatch.synth.traffic import START, Conversation, json_line, server_room_capture, write_pcap


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    """A database whose ledger knows the enterprise that holds 10.20.0.0/16."""
    path = tmp_path / "minewatch.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with session_scope(engine) as session:
        _ledger(session)
    engine.dispose()
    return path


def _ledger(session: Session) -> None:
    save_entry(session, make_entry(1), actor="县发改局", at=at("2021-10-01"))


def _allocations(tmp_path: Path) -> Path:
    path = tmp_path / "分配记录.csv"
    path.write_text(
        "IP地址段,单位名称,统一社会信用代码,详细地址,行政区划代码,运营商,启用日期,停用日期\n"
        "10.0.0.0/8,某运营商,,,,中国电信,2015-01-01,\n"
        f"10.20.0.0/16,石棉县鑫源1科技有限公司,{make_uscc(1)},四川省雅安市石棉县美罗镇1号厂房,"
        "511824,中国电信,2021-01-01,\n",
        encoding="utf-8",
    )
    return path


def test_allocations_import_list_and_refuse(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(ledger_db)
    path = _allocations(tmp_path)
    code, out, _ = _run(capsys, "--db", db, "network", "allocations", "import", str(path))
    assert code == 0
    assert "2 new" in out
    code, out, _ = _run(
        capsys, "--db", db, "network", "allocations", "list", "--ip", "10.20.7.7", "--at",
        "2021-11-15 10:00",
    )  # fmt: skip
    assert code == 0
    assert "10.20.0.0/16" in out
    assert "10.0.0.0/8" not in out
    code, _, err = _run(
        capsys, "--db", db, "network", "allocations", "list", "--ip", "10.20.7.7", "--at",
        "2014-06-01",
    )  # fmt: skip
    assert code == 1
    assert "no stored allocation holds 10.20.7.7" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("ip_range,organisation,uscc\n10.30.0.0/33,甲,\n10.31.0.0/16,乙,91XYZ\n")
    code, _, err = _run(capsys, "--db", db, "network", "allocations", "import", str(bad))
    assert code == 2
    assert "bad.csv: row 2, column 'ip_range'" in err
    assert "bad.csv: row 3, column 'uscc'" in err
    with sqlite3.connect(ledger_db) as connection:
        assert connection.execute("SELECT count(*) FROM ip_allocation").fetchone() == (2,)


def _later_week(path: Path, client: tuple[str, int]) -> Path:
    """One miner of the server room again, a week later."""
    talk = Conversation(client, ("203.0.113.7", 3333), start=START + 7 * 86_400)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11"]}))
    talk.send(1, json_line({"id": 1, "result": [[], "08000002", 4], "error": None}))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["farm7.rig9", "x"]}))
    return write_pcap(path, [talk.close()])


def test_scan_pcap_traces_flows_into_linked_leads_and_a_rescan_refreshes_them(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(ledger_db)
    assert _run(capsys, "--db", db, "network", "allocations", "import",
                str(_allocations(tmp_path)))[0] == 0  # fmt: skip
    capture = tmp_path / "room.pcap"
    truth = server_room_capture(capture, seed=3, miners=5, others=10)
    out = tmp_path / "flows.jsonl"
    argv = ["--db", db, "scan", "pcap", str(capture), "--out", str(out), "--stored-allocations",
            "--leads", "--actor", "网络监测"]  # fmt: skip
    code, printed, _ = _run(capsys, *argv)
    assert code == 0, printed
    assert "5 mining flow(s), 5 traced to an enterprise" in printed
    assert "leads: 5 new, 0 updated, 0 unchanged; 5 linked to an enterprise" in printed
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["client_ip"] for r in rows} == {t.client_ip for t in truth}
    assert all(r["enterprise"] == "石棉县鑫源1科技有限公司" for r in rows)
    assert all(r["uscc"] == make_uscc(1) and r["region_code"] == "511824" for r in rows)
    assert all(r["attributed_by"] == "allocation" for r in rows)
    # The same capture again changes nothing; a later week's capture refreshes one lead.
    code, printed, _ = _run(capsys, *argv)
    assert "leads: 0 new, 0 updated, 5 unchanged" in printed
    week2 = _later_week(tmp_path / "week2.pcap", (truth[0].client_ip, 45_000))
    argv[4] = str(week2)
    code, printed, _ = _run(capsys, *argv)
    assert code == 0
    assert "leads: 0 new, 1 updated, 0 unchanged; 1 linked" in printed
    with sqlite3.connect(ledger_db) as connection:
        leads = connection.execute(
            "SELECT subject, linked_by, customer_name, evidence_json FROM lead "
            "WHERE source = 'network' ORDER BY subject"
        ).fetchall()
    assert len(leads) == 5
    refreshed = next(lead for lead in leads if truth[0].client_ip in lead[0])
    assert refreshed[0] == f"host:{truth[0].client_ip}@{make_uscc(1)}"
    assert refreshed[1] == "ip_allocation"
    assert refreshed[2] == "石棉县鑫源1科技有限公司"
    evidence = json.loads(refreshed[3])
    assert evidence["captures"] == ["week2.pcap"]
    assert evidence["first_seen"].startswith("2021-11-22")
    assert evidence["wallets"] == ["farm7"]
    assert _run(capsys, "--db", db, "audit", "verify")[0] == 0


def test_scan_pcap_with_nat_and_dhcp_logs_and_the_as_fallback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    talk = Conversation(("61.139.8.17", 40111), ("203.0.113.7", 3333))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["farm7.rig9", "x"]}))
    other = Conversation(("8.8.4.4", 40222), ("203.0.113.7", 3333), start=START + 30)
    other.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["farm7.rig2", "x"]}))
    capture = write_pcap(tmp_path / "border.pcap", [talk.close(), other.close()])
    allocations = tmp_path / "alloc.csv"
    allocations.write_text("ip_range,organisation,address\n61.139.8.16/29,雅安某学院,雨城区1号\n")
    nat = tmp_path / "nat.csv"
    nat.write_text(
        "public_ip,public_port,internal_ip,internal_port,start_at,end_at\n"
        "61.139.8.17,40111,10.8.3.44,50123,2021-11-16 02:10:00,2021-11-16 03:00:00\n"
    )
    leases = tmp_path / "dhcpd.leases"
    leases.write_text(
        "lease 10.8.3.44 {\n  starts 1 2021/11/15 08:00:00;\n  ends never;\n"
        '  hardware ethernet 00:16:3e:aa:bb:cc;\n  client-hostname "gpu-rig-07";\n}\n'
    )
    out = tmp_path / "flows.csv"
    code, printed, _ = _run(
        capsys, "scan", "pcap", str(capture), "--out", str(out), "--allocations",
        str(allocations), "--nat-log", str(nat), "--dhcp-log", str(leases),
    )  # fmt: skip
    assert code == 0, printed
    text = out.read_text(encoding="utf-8-sig")
    assert "nat+dhcp+allocation" in text
    assert "gpu-rig-07" in text
    assert "00:16:3e:aa:bb:cc" in text
    assert '"asn"' in text
    assert "GOOGLE" in text


def test_network_attribute_traces_a_findings_file_written_earlier(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "room.pcap"
    server_room_capture(capture, seed=4, miners=3, others=5)
    flows = tmp_path / "flows.parquet"
    code, printed, _ = _run(capsys, "scan", "pcap", str(capture), "--out", str(flows), "--no-asn")
    assert code == 0
    assert "3 mining flow(s), 0 traced" in printed
    traced = tmp_path / "traced.jsonl"
    code, printed, _ = _run(
        capsys, "--db", str(ledger_db), "network", "attribute", str(flows), "--out", str(traced),
        "--allocations", str(_allocations(tmp_path)), "--leads",
    )  # fmt: skip
    assert code == 0, printed
    assert "3 flow(s), 3 traced to an enterprise" in printed
    assert "leads: 3 new, 0 updated, 0 unchanged; 3 linked" in printed
    rows = [json.loads(line) for line in traced.read_text(encoding="utf-8").splitlines()]
    assert {r["uscc"] for r in rows} == {make_uscc(1)}
    code, _, err = _run(capsys, "network", "attribute", str(capture), "--out", str(traced))
    assert code == 1
    assert "not a readable Parquet findings file" in err
