"""The self-inspection's service: signed reports land on servers, findings become one case per
server with the network's findings traced through the NAT log, and the clearance arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import make_uscc
from minewatch.detect.hosts.rules import report_hits
from minewatch.detect.network.attribution import attribute_findings, nat_index
from minewatch.detect.network.flows import scan_captures
from minewatch.domain.assets.service import import_assets
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import fuse_leads
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.network import network_leads
from minewatch.domain.leads.service import record_leads
from minewatch.domain.selfcheck.clearance import (
    CLEAN,
    CLEARED,
    OPEN,
    UNCHECKED,
    check_clearance,
    clearance,
    sign_clearance,
)
from minewatch.domain.selfcheck.keys import issue_unit_key, revoke_unit_key
from minewatch.domain.selfcheck.models import HostCheck
from minewatch.domain.selfcheck.service import (
    ReportRefusedError,
    asset_key,
    place_on_assets,
    receive_report,
    record_action,
)
from minewatch.ingest.assets import read_assets
from minewatch.ingest.nat_log import read_nat_log
from minewatch.probe import hostprobe
from minewatch.synth.traffic import START, Conversation, json_line, write_pcap

UNIT = "雅安某学院"
UNIVERSITY = make_uscc(4242, region="511802", authority="12")
HEADER = "资产编号,所属单位,使用部门,机房,机柜,主机名,IP地址,MAC地址,责任人,GPU数量\n"
SERVERS = (
    "YA-001,雅安某学院,信息中心,信息楼301,A01,web01,10.8.3.10,52:54:00:00:00:10,张三,\n"
    "YA-002,雅安某学院,计算机学院,信息楼301,A02,gpu02,10.8.3.44,52:54:00:00:00:44,李四,8\n"
    "YA-003,雅安某学院,图书馆,图书馆B1,B01,lib03,10.8.3.50,52:54:00:00:00:50,王五,\n"
    "YA-004,雅安某学院,后勤处,后勤楼,C01,ops04,10.8.3.60,52:54:00:00:00:60,赵六,\n"
)
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _inventory(session: Session, tmp_path: Path, body: str = SERVERS, name: str = "a.csv") -> None:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    import_assets(session, read_assets(path), source=path, actor="信息中心")


def _key(session: Session, unit: str = UNIT, uscc: str | None = UNIVERSITY) -> str:
    issued = issue_unit_key(session, unit, region_code="511802", uscc=uscc,
                            supervisor="四川省教育厅", actor="信息中心", at=T0)  # fmt: skip
    return issued.token


def _report(
    token: str, *, host: str, at: datetime, mac: str | None = None, miner: bool = False
) -> dict[str, Any]:
    """A probe report as the probe signs it; ``miner``: a renamed xmrig at full load."""
    processes: list[dict[str, Any]] = [
        {"pid": 1, "name": "systemd", "exe": "/usr/lib/systemd/systemd", "cmdline": ["/sbin/init"],
         "user": "root", "ppid": 0, "cpu_percent": 0.1},
        {"pid": 812, "name": "nginx", "exe": "/usr/sbin/nginx", "cmdline": ["nginx"],
         "user": "www-data", "ppid": 1, "cpu_percent": 2.0},
    ]  # fmt: skip
    if miner:
        processes.append(
            {"pid": 4242, "name": "kworker/0:2", "exe": "/tmp/.cache/xmrig", "exe_deleted": True,
             "cmdline": ["kworker/0:2", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u",
                         "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
                         "-t", "8"],
             "user": "nobody", "ppid": 1, "cpu_percent": 795.0}
        )  # fmt: skip
    report = {
        "probe_version": 1, "hostname": host, "kernel": "5.10.0",
        "collected_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "window_s": 2.0,
        "processes": processes, "connections": [], "persistence": [], "files": [],
        "ips": [], "macs": [mac] if mac else [],
    }  # fmt: skip
    key_id, key = hostprobe.signing_key(token.encode())
    return hostprobe.sign(report, key, key_id)


def _receive(session: Session, report: dict[str, Any], at: datetime, **kw: Any) -> Any:
    return receive_report(session, report, report_hits(report), actor="信息中心", at=at, **kw)


def test_a_signed_report_lands_on_its_server_and_a_finding_opens_its_case(
    session: Session, tmp_path: Path
) -> None:
    _inventory(session, tmp_path)
    token = _key(session)
    got = _receive(session, _report(token, host="renamed", mac="52:54:00:00:00:44", miner=True,
                                    at=T0), T0 + timedelta(minutes=1))  # fmt: skip
    check = got.check
    assert (check.unit, check.asset_id, check.matched_by) == (UNIT, "YA-002", "mac")
    assert not check.clean
    assert check.level == "critical"
    rules = {hit["rule"] for hit in json.loads(check.hits_json)}
    # the renamed miner, hidden as a kernel thread, run from a deleted file, with a pool URL
    assert {
        "hosts.process.stratum_url", "hosts.process.kernel_thread_imitation",
        "hosts.process.deleted_executable", "hosts.process.miner_arguments",
    } <= rules  # fmt: skip
    case = session.scalar(select(Case).where(Case.case_no == got.case_no))
    assert case is not None
    assert case.asset_key == asset_key(UNIT, "YA-002")
    assert (case.region_code, case.uscc, case.sources) == ("511802", UNIVERSITY, "hosts")
    lead = session.scalar(select(Lead).where(Lead.source == "hosts"))
    assert lead is not None
    assert json.loads(lead.evidence_json)["asset"]["owner"] == "李四"
    # the same report again changes nothing; a clean one from another server opens nothing
    again = _receive(session, _report(token, host="renamed", mac="52:54:00:00:00:44", miner=True,
                                      at=T0), T0 + timedelta(minutes=2))  # fmt: skip
    assert not again.new
    assert again.check.id == check.id
    clean = _receive(session, _report(token, host="web01", at=T0), T0)
    assert (clean.check.asset_id, clean.check.matched_by, clean.check.clean) == (
        "YA-001", "hostname", True)  # fmt: skip
    assert clean.case_no is None
    assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert verify_chain(session).ok


def test_a_report_altered_unsigned_or_under_another_key_is_refused(
    session: Session, tmp_path: Path
) -> None:
    _inventory(session, tmp_path)
    token = _key(session)
    other = _key(session, "某研究所", None)
    report = _report(token, host="gpu02", at=T0, miner=True)
    altered = dict(report, processes=report["processes"][:2])  # the miner taken out
    with pytest.raises(ReportRefusedError, match="does not match"):
        _receive(session, altered, T0)
    unsigned = {k: v for k, v in report.items() if k != "signature"}
    with pytest.raises(ReportRefusedError, match="not signed"):
        _receive(session, unsigned, T0)
    from minewatch.domain.selfcheck.keys import unit_for_token

    posted_with = unit_for_token(session, other)
    with pytest.raises(ReportRefusedError, match="posted with key"):
        _receive(session, report, T0, key=posted_with)
    future = _report(token, host="gpu02", at=T0 + timedelta(hours=2))
    with pytest.raises(ReportRefusedError, match="in the future"):
        _receive(session, future, T0)
    revoke_unit_key(session, report["signature"]["key_id"], actor="信息中心")
    with pytest.raises(ReportRefusedError, match="revoked"):
        _receive(session, report, T0)
    assert session.scalar(select(func.count()).select_from(HostCheck)) == 0


def _stratum(client: tuple[str, int], pool: tuple[str, int], start: float) -> Conversation:
    talk = Conversation(client, pool, start=start)
    talk.send(0, json_line({"id": 1, "method": "mining.subscribe", "params": ["xmrig/6.21"]}))
    talk.send(1, json_line({"id": 1, "result": [[], "08000002", 4], "error": None}))
    talk.send(0, json_line({"id": 2, "method": "mining.authorize", "params": ["ya.gpu02", "x"]}))
    return talk.close()


def test_a_network_finding_traced_through_the_nat_log_joins_the_probes_case(
    session: Session, tmp_path: Path
) -> None:
    _inventory(session, tmp_path)
    # Another unit uses the same private address: the egress's unit decides.
    _inventory(session, tmp_path, "K-9,某研究所,机房组,主楼,K3,k9,10.8.3.44,,王五,\n", "b.csv")
    token = _key(session)
    probe = _receive(session, _report(token, host="gpu02", mac="52:54:00:00:00:44", miner=True,
                                      at=T0), T0)  # fmt: skip
    capture = write_pcap(
        tmp_path / "egress.pcap", [_stratum(("61.139.8.17", 40111), ("203.0.113.50", 3333), START)]
    )
    beijing = datetime.fromtimestamp(START, UTC) + timedelta(hours=8)  # the log's local time
    nat = tmp_path / "nat.csv"
    nat.write_text(
        "公网IP,公网端口,内网IP,内网端口,协议,开始时间,结束时间\n"
        f"61.139.8.17,40111,10.8.3.44,50123,tcp,{beijing - timedelta(minutes=5):%Y-%m-%d %H:%M:%S},"
        f"{beijing + timedelta(hours=1):%Y-%m-%d %H:%M:%S}\n",
        encoding="utf-8",
    )
    findings = attribute_findings(scan_captures([capture]), nat=nat_index(read_nat_log(nat)))
    traced = [dict(lead.__dict__) for lead in network_leads(findings)]
    assert traced
    assert traced[0]["evidence"]["traced"]["internal_ip"] == "10.8.3.44"
    leads = [lead.__class__(**{**row, "uscc": UNIVERSITY}) for row, lead in
             zip(traced, network_leads(findings), strict=True)]  # fmt: skip
    placed = place_on_assets(session, leads)
    assert placed[0].asset_key == asset_key(UNIT, "YA-002")
    assert placed[0].evidence["asset"]["department"] == "计算机学院"
    assert placed[0].evidence["asset"]["placed_by"] == "nat"
    record_leads(session, placed, actor="省通信管理局")
    fuse_leads(session, actor="省通信管理局", at=T0 + timedelta(minutes=5))
    cases = list(session.scalars(select(Case)))
    assert [c.case_no for c in cases] == [probe.case_no]
    assert cases[0].sources == "hosts,network"
    # without the unit's credit code the address is on two units' servers: left unplaced
    unplaced = place_on_assets(session, network_leads(findings))
    assert unplaced[0].asset_key is None
    assert unplaced[0].evidence["asset_candidates"] == ["某研究所 K-9", "雅安某学院 YA-002"]


def test_clearance_arithmetic_and_dynamic_zero(session: Session, tmp_path: Path) -> None:
    _inventory(session, tmp_path)
    token = _key(session)
    day = timedelta(days=1)

    def probe(host: str, at: datetime, miner: bool = False) -> None:
        _receive(session, _report(token, host=host, at=at, miner=miner), at)

    probe("web01", T0)  # YA-001: clean, never a finding
    probe("gpu02", T0, miner=True)  # YA-002: finding, blocked, removed, re-checked clean
    record_action(session, UNIT, "YA-002", "ip_blocked", taken_on=(T0 + day).date(),
                  actor="信息中心", at=T0 + day)  # fmt: skip
    record_action(session, UNIT, "YA-002", "miner_removed", taken_on=(T0 + day).date(),
                  actor="信息中心", at=T0 + day)  # fmt: skip
    probe("gpu02", T0 + 2 * day)
    probe("lib03", T0, miner=True)  # YA-003: finding, a clean report before it only
    probe("lib03", T0 - day)
    # YA-004: never checked; a host missing from the inventory with a finding, then clean
    probe("rogue", T0, miner=True)
    probe("rogue", T0 + day)

    figures = clearance(session, UNIT, as_of=T0 + 3 * day)
    states = {h.asset_id: h.state for h in figures.hosts}
    assert states == {"YA-001": CLEAN, "YA-002": CLEARED, "YA-003": OPEN, "YA-004": UNCHECKED,
                      "未登记:rogue": CLEARED}  # fmt: skip
    assert (figures.in_ledger, figures.checked, figures.unchecked) == (4, 3, 1)
    assert (figures.with_findings, figures.rechecked_clean, figures.open_findings) == (3, 2, 1)
    assert figures.unlisted_hosts == 1
    assert figures.actions == {"ip_blocked": 1, "account_blocked": 0, "miner_removed": 1,
                               "taken_offline": 0}  # fmt: skip
    assert not figures.dynamic_zero
    assert len(figures.open_items) == 3  # YA-003 open, YA-004 unchecked, rogue not in inventory
    # as of before the re-check, YA-002 was still open
    earlier = clearance(session, UNIT, as_of=T0 + day)
    assert {h.asset_id: h.state for h in earlier.hosts}["YA-002"] == OPEN

    probe("lib03", T0 + 3 * day)
    probe("ops04", T0 + 3 * day)
    done = clearance(session, UNIT, as_of=T0 + 4 * day)
    assert done.dynamic_zero
    assert done.open_findings == 0
    assert done.checked == 4
    # a round that starts later counts only the checks since: nothing checked yet, not zero
    fresh = clearance(session, UNIT, as_of=T0 + 4 * day, since=(T0 + 4 * day).date())
    assert fresh.checked == 0
    assert not fresh.dynamic_zero

    # a network finding after the last clean report reopens the server
    lead = place_on_assets(session, [_network_lead("10.8.3.10", T0 + 4 * day)])[0]
    record_leads(session, [lead], actor="省通信管理局", at=T0 + 4 * day)
    after = clearance(session, UNIT, as_of=T0 + 5 * day)
    host = {h.asset_id: h for h in after.hosts}["YA-001"]
    assert (host.state, host.finding_sources) == (OPEN, ["network"])
    assert not after.dynamic_zero

    signed = sign_clearance(session, after, actor="信息中心", at=T0 + 5 * day)
    check = check_clearance(session, key_id=signed.key_id, sha256=signed.sha256,
                            signature=signed.signature, payload=after.payload())  # fmt: skip
    assert check.ok
    tampered = dict(after.payload(), dynamic_zero=True)
    assert not check_clearance(session, key_id=signed.key_id, sha256=signed.sha256,
                               signature=signed.signature, payload=tampered).ok  # fmt: skip
    assert not check_clearance(session, key_id=signed.key_id, sha256=signed.sha256,
                               signature="0" * 64).ok  # fmt: skip
    assert verify_chain(session).ok


def _network_lead(internal_ip: str, seen: datetime) -> Any:
    from minewatch.domain.leads.service import LeadData

    return LeadData(
        source="network", subject=f"host:{internal_ip}@61.139.8.17", score=0.95,
        category="mining", reasons="network.stratum.login",
        evidence={"last_seen": seen.isoformat(), "traced": {"internal_ip": internal_ip}},
        customer_name=UNIT, uscc=UNIVERSITY,
    )  # fmt: skip


def test_an_action_needs_a_server_of_the_unit(session: Session, tmp_path: Path) -> None:
    _inventory(session, tmp_path)
    _key(session)
    from minewatch.errors import MineWatchError, NotFoundError

    with pytest.raises(NotFoundError, match="no server YA-999"):
        record_action(session, UNIT, "YA-999", "ip_blocked", taken_on=date(2026, 11, 2),
                      actor="信息中心")  # fmt: skip
    with pytest.raises(MineWatchError, match="not an action"):
        record_action(session, UNIT, "YA-001", "rebooted", taken_on=date(2026, 11, 2),
                      actor="信息中心")  # fmt: skip
