"""The probe posts its signed report to the platform with the unit key; the platform places it
on the server, matches the rules, opens the server's case; the unit and its officials read the
clearance figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from minewatch.domain.accounts.service import create_user
from minewatch.domain.assets.service import import_assets
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.domain.selfcheck.keys import issue_unit_key
from minewatch.domain.selfcheck.models import HostCheck
from minewatch.ingest.assets import read_assets
from minewatch.probe import hostprobe
from minewatch.settings import Settings
from minewatch.web.app import create_app
from web.browser import live_server
from web.webclient import PASSWORD, light_password_hashes, sign_in

UNIT = "雅安某学院"
STAT = "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 {utime} 0 0 0 20 0 1 0 100 0 0"


def _process(proc: Path, pid: int, comm: str, exe: str, cmdline: tuple[str, ...]) -> None:
    folder = proc / str(pid)
    (folder / "fd").mkdir(parents=True)
    (folder / "stat").write_text(STAT.format(pid=pid, comm=comm, ppid=1, utime=0))
    (folder / "cmdline").write_bytes(b"\0".join(a.encode() for a in cmdline))
    (folder / "status").write_text(f"Name:\t{comm}\nUid:\t0\t0\t0\t0\n")
    (folder / "cgroup").write_text("0::/\n")
    os.symlink(exe, folder / "exe")


def _server(tmp_path: Path, *, miner: bool) -> tuple[Path, Path]:
    """A crafted server: its MAC is the inventory's YA-002; ``miner``: a renamed miner runs."""
    proc, root = tmp_path / "proc", tmp_path / "root"
    _process(proc, 1, "systemd", "/usr/lib/systemd/systemd", ("/sbin/init",))
    if miner:
        _process(
            proc,
            3100,
            "php-fpm7",
            "/var/tmp/.php/php-fpm7",
            ("php-fpm7", "-o", "stratum+ssl://eth.pool.example:5555", "-a", "ethash"),
        )
    (proc / "net").mkdir()
    nic = root / "sys/class/net/eth0"
    nic.mkdir(parents=True)
    (nic / "address").write_text("52:54:00:00:00:44\n")
    return proc, root


def _setup(engine: Engine, tmp_path: Path) -> str:
    inventory = tmp_path / "assets.csv"
    inventory.write_text(
        "资产编号,所属单位,使用部门,机房,机柜,IP地址,MAC地址,责任人\n"
        "YA-001,雅安某学院,信息中心,信息楼301,A01,10.8.3.10,52:54:00:00:00:10,张三\n"
        "YA-002,雅安某学院,计算机学院,信息楼301,A02,10.8.3.44,52:54:00:00:00:44,李四\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session:
        import_assets(session, read_assets(inventory), source=inventory, actor="信息中心")
        token = issue_unit_key(session, UNIT, region_code="511802", actor="信息中心").token
        create_user(session, "yaan", PASSWORD, display_name="雅安市发改委", role=Role.CITY,
                    region_code="511800", actor="admin")  # fmt: skip
        create_user(session, "chengdu", PASSWORD, display_name="成都市发改委", role=Role.CITY,
                    region_code="510100", actor="admin")  # fmt: skip
    key_file = tmp_path / "unit.key"
    key_file.write_text(token + "\n", encoding="ascii")
    return token


def _probe_post(tmp_path: Path, base: str, key_file: Path, *, miner: bool) -> dict[str, object]:
    proc, root = _server(tmp_path / ("dirty" if miner else "clean"), miner=miner)
    done = subprocess.run(
        [sys.executable, hostprobe.__file__, "--window", "0", "--proc", str(proc),
         "--root", str(root), "--key-file", str(key_file), "--post", base],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    receipt: dict[str, object] = json.loads(done.stdout)
    return receipt


def test_the_probe_posts_its_report_and_the_platform_opens_the_servers_case(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    light_password_hashes(monkeypatch)
    _setup(engine, tmp_path)
    with live_server(engine) as base:
        receipt = _probe_post(tmp_path, base, tmp_path / "unit.key", miner=True)
        clean = _probe_post(tmp_path, base, tmp_path / "unit.key", miner=False)
    assert (receipt["asset_id"], receipt["matched_by"], receipt["clean"]) == (
        "YA-002",
        "mac",
        False,
    )
    rules = {hit["rule"] for hit in receipt["hits"]}  # type: ignore[attr-defined]
    assert {"hosts.process.stratum_url", "hosts.process.miner_arguments"} <= rules
    assert receipt["case_no"]
    assert (clean["asset_id"], clean["clean"], clean["case_no"]) == (
        "YA-002",
        True,
        receipt["case_no"],
    )
    with session_scope(engine) as session:
        assert session.scalars(select(HostCheck.clean).order_by(HostCheck.id)).all() == [
            False,
            True,
        ]
        case = session.scalar(select(Case))
        assert case is not None
        assert case.case_no == receipt["case_no"]


def test_a_post_needs_the_unit_key_and_an_untouched_report(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    light_password_hashes(monkeypatch)
    token = _setup(engine, tmp_path)
    client = TestClient(create_app(Settings(), engine=engine))
    proc, root = _server(tmp_path, miner=True)
    report = hostprobe.Probe(str(proc), str(root)).report(window=0)
    key_id, key = hostprobe.signing_key(token.encode())
    signed = hostprobe.sign(report, key, key_id)
    url = "/api/v1/selfcheck/reports"
    assert client.post(url, json=signed).status_code == 401
    wrong = client.post(url, json=signed, headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401
    altered = dict(signed, processes=signed["processes"][:1])
    refused = client.post(url, json=altered, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422
    assert "does not match" in refused.json()["detail"]
    malformed = dict(signed, ips=5)
    refused = client.post(url, json=malformed, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("ips:")
    with session_scope(engine) as session:
        assert session.scalar(select(HostCheck)) is None
    taken = client.post(url, json=signed, headers={"Authorization": f"Bearer {token}"})
    assert taken.status_code == 201
    assert taken.json()["level"] == "critical"

    # the figures: the unit with its key, an official of its city; not another city's
    figures = client.get(f"/api/v1/selfcheck/units/{UNIT}/clearance",
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert figures.status_code == 200
    body = figures.json()
    assert (body["in_ledger"], body["checked"], body["open_findings"]) == (2, 1, 1)
    assert body["dynamic_zero"] is False
    for user, status in (("yaan", 200), ("chengdu", 404)):
        official = TestClient(create_app(Settings(), engine=engine))
        assert sign_in(official, user).status_code == 303
        seen = official.get(f"/api/v1/selfcheck/units/{UNIT}/clearance")
        assert seen.status_code == status
