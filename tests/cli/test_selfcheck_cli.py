"""``minewatch selfcheck``: a unit's round of self-inspection from the command line — key,
probe reports carried in, actions, status, the signed clearance report and its verification."""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from minewatch.cli.app import run
from minewatch.domain.db import make_engine, session_scope
from minewatch.domain.leads.models import Lead
from minewatch.domain.selfcheck.service import asset_key
from minewatch.probe import hostprobe
from minewatch.synth.traffic import Conversation, json_line, write_pcap

UNIT = "雅安某学院"
STAT = "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0"


def _server(folder: Path, mac: str, miner: tuple[str, ...] | None) -> tuple[Path, Path]:
    proc, root = folder / "proc", folder / "root"
    for pid, comm, exe, argv in (
        (1, "systemd", "/usr/lib/systemd/systemd", ("/sbin/init",)),
        *([(2990, miner[0], "/dev/shm/.x/" + miner[0], miner)] if miner else []),
    ):
        path = proc / str(pid)
        (path / "fd").mkdir(parents=True)
        (path / "stat").write_text(STAT.format(pid=pid, comm=comm, ppid=1))
        (path / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv))
        (path / "status").write_text(f"Name:\t{comm}\nUid:\t0\t0\t0\t0\n")
        (path / "cgroup").write_text("0::/\n")
        os.symlink(exe, path / "exe")
    (proc / "net").mkdir()
    (root / "sys/class/net/eth0").mkdir(parents=True)
    (root / "sys/class/net/eth0/address").write_text(mac + "\n")
    return proc, root


def _probe(tmp_path: Path, name: str, mac: str, key: Path, miner: tuple[str, ...] | None) -> Path:
    proc, root = _server(tmp_path / name, mac, miner)
    out = tmp_path / f"{name}.json"
    assert hostprobe.main(["--window", "0", "--proc", str(proc), "--root", str(root),
                           "--key-file", str(key), "--out", str(out)]) == 0  # fmt: skip
    return out


SERVERS = (
    "YA-001,雅安某学院,信息中心,信息楼301,A01,10.8.3.10,52:54:00:00:00:10,张三",
    "YA-002,雅安某学院,计算机学院,信息楼301,A02,10.8.3.44,52:54:00:00:00:44,李四",
)


def _inventory(tmp_path: Path, rows: tuple[str, ...]) -> str:
    """A database holding the unit's inventory of ``rows``; its path."""
    db = str(tmp_path / "m.db")
    inventory = tmp_path / "资产台账.csv"
    header = "资产编号,所属单位,使用部门,机房,机柜,IP地址,MAC地址,责任人"
    inventory.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    assert run(["--db", db, "assets", "import", str(inventory)]) == 0
    return db


def test_a_units_round_from_key_to_verified_clearance_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _inventory(tmp_path, SERVERS)
    key = tmp_path / "unit.key"
    assert run(["--db", db, "selfcheck", "key", "issue", UNIT, "--region", "511802",
                "--supervisor", "四川省教育厅", "--out", str(key)]) == 0  # fmt: skip
    assert key.read_text().startswith("mwu_")
    assert (key.stat().st_mode & 0o077) == 0
    assert run(["--db", db, "selfcheck", "key", "issue", UNIT, "--region", "511802",
                "--out", str(key)]) != 0  # fmt: skip
    capsys.readouterr()

    clean = _probe(tmp_path, "web01", "52:54:00:00:00:10", key, None)
    dirty = _probe(
        tmp_path,
        "gpu02",
        "52:54:00:00:00:44",
        key,
        ("xmrig", "-o", "stratum+tcp://pool.example:3333", "--donate-level", "1"),
    )
    tampered = tmp_path / "tampered.json"
    data = json.loads(dirty.read_text(encoding="utf-8"))
    data["processes"] = data["processes"][:1]
    tampered.write_text(json.dumps(data), encoding="utf-8")
    assert run(["--db", db, "selfcheck", "receive", str(clean), str(tampered)]) != 0
    assert "tampered.json: the signature does not match" in capsys.readouterr().err
    assert run(["--db", db, "selfcheck", "status", UNIT]) == 0
    assert "checked 0/2" in capsys.readouterr().out  # the good report was not stored either

    assert run(["--db", db, "selfcheck", "receive", str(clean), str(dirty)]) == 0
    received = capsys.readouterr().out
    assert "YA-002" in received
    assert "finding (critical)" in received
    assert run(["--db", db, "selfcheck", "action", UNIT, "YA-002", "ip_blocked",
                "--on", "2026-11-20", "--note", "出口防火墙封禁"]) == 0  # fmt: skip
    assert run(["--db", db, "selfcheck", "status", UNIT]) == 0
    status = capsys.readouterr().out
    assert "checked 2/2, with findings 1, re-checked clean 0, open 1" in status
    assert "dynamic zero: no" in status

    xlsx, pdf = tmp_path / "清理情况.xlsx", tmp_path / "清理情况.pdf"
    assert (
        run(["--db", db, "selfcheck", "report", UNIT, "--out", str(xlsx), "--out", str(pdf)]) == 0
    )
    assert run(["--db", db, "selfcheck", "verify", str(xlsx)]) == 0
    assert run(["--db", db, "selfcheck", "verify", str(pdf)]) == 0
    assert "verified" in capsys.readouterr().out
    # a figure changed in the workbook after signing is caught
    book = openpyxl.load_workbook(xlsx)
    sheet = book["签章"]
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and '"dynamic_zero": false' in cell.value:
                cell.value = cell.value.replace('"dynamic_zero": false', '"dynamic_zero": true')
    book.save(xlsx)
    assert run(["--db", db, "selfcheck", "verify", str(xlsx)]) != 0
    assert "CHANGED after signing" in capsys.readouterr().out
    assert run(["--db", db, "audit", "verify"]) == 0


def test_a_flow_at_the_egress_traced_through_the_nat_log_lands_on_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _inventory(tmp_path, SERVERS[1:])
    talk = Conversation(("61.139.8.17", 40111), ("203.0.113.7", 3333))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["ya.gpu02", "x"]}))
    capture = write_pcap(tmp_path / "egress.pcap", [talk.close()])
    nat = tmp_path / "nat.csv"
    nat.write_text(
        "公网IP,公网端口,内网IP,内网端口,开始时间,结束时间\n"
        "61.139.8.17,40111,10.8.3.44,50123,2021-11-16 02:10:00,2021-11-16 03:00:00\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert run(["--db", db, "scan", "pcap", str(capture), "--out", str(tmp_path / "f.csv"),
                "--nat-log", str(nat), "--no-asn", "--leads"]) == 0  # fmt: skip
    assert "1 on a server of a unit's inventory" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:
        lead = session.scalars(select(Lead)).one()
        assert lead.asset_key == asset_key("雅安某学院", "YA-002")
        assert json.loads(lead.evidence_json)["asset"]["department"] == "计算机学院"
