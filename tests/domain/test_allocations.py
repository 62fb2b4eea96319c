"""Stored IP allocations (all or nothing, audited) and network findings as leads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from conftest import at, make_entry, make_uscc
from minewatch.domain.allocations.models import IpAllocation
from minewatch.domain.allocations.service import import_allocations, stored_allocations
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.leads.network import network_leads, network_subject
from minewatch.domain.leads.service import open_leads, record_leads
from minewatch.domain.ledger.service import save_entry
from minewatch.errors import InputFileError
from minewatch.ingest.allocations import read_allocations


def _file(tmp_path: Path, body: str, name: str = "alloc.csv") -> pa.Table:
    path = tmp_path / name
    path.write_text("ip_range,organisation,uscc,address,valid_from,valid_to\n" + body)
    return read_allocations(path)


def test_import_is_idempotent_audited_and_verifiable(session: Session, tmp_path: Path) -> None:
    table = _file(
        tmp_path,
        f"61.139.0.0/16,四川电信,,,2015-01-01,\n61.139.8.16/29,甲,{make_uscc(1)},美罗镇1号,"
        "2021-01-01,\n",
    )
    first = import_allocations(session, table, source="alloc.csv", actor="省通信管理局")
    again = import_allocations(session, table, source="alloc.csv", actor="省通信管理局")
    assert (first.added, again.added, again.unchanged, again.total) == (2, 0, 2, 2)
    stored = stored_allocations(session).to_pylist()
    assert [r["ip_range"] for r in stored] == ["61.139.0.0/16", "61.139.8.16/29"]
    assert stored[1]["valid_from"] == datetime(2020, 12, 31, 16, tzinfo=UTC)
    report = verify_chain(session)
    assert report.ok
    assert report.n_events == 1
    session.execute(update(IpAllocation).where(IpAllocation.id == 2).values(organisation="乙"))
    assert not verify_chain(session).ok


def test_a_file_that_overlaps_the_stored_records_is_refused_whole(
    session: Session, tmp_path: Path
) -> None:
    import_allocations(
        session, _file(tmp_path, "61.139.8.16/29,甲,,,2021-01-01,\n"), source="a.csv", actor="a"
    )
    session.commit()
    later = _file(
        tmp_path,
        "61.139.9.0/24,丙,,,2021-01-01,\n61.139.8.16/29,乙,,,2021-06-01,\n",
        "b.csv",
    )
    with pytest.raises(InputFileError) as error:
        import_allocations(session, later, source="b.csv", actor="a")
    assert [(p.row, p.column) for p in error.value.problems] == [(3, "ip_range")]
    assert "stored allocation #1" in str(error.value)
    session.rollback()
    assert stored_allocations(session).num_rows == 1
    # The same file goes in once the old record is replaced.
    summary = import_allocations(session, later, source="b.csv", actor="a", replace=True)
    assert (summary.added, summary.removed, summary.total) == (2, 1, 2)


def _finding(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "capture": "week1.pcap",
        "client_ip": "61.139.8.17",
        "client_port": 40111,
        "server_ip": "203.0.113.50",
        "server_port": 3333,
        "first_seen": datetime(2021, 11, 15, 18, tzinfo=UTC),
        "last_seen": datetime(2021, 11, 15, 19, tzinfo=UTC),
        "mining": True,
        "coin": "BTC",
        "pool_host": None,
        "wallet": "farm7",
        "worker": "rig9",
        "agent": "cgminer/4.11",
        "method": "mining.authorize",
        "confidence": 0.99,
        "reason": "network.stratum.authorize; network.ndpi.mining",
        "packets": 84,
        "bytes": 9840,
        "evidence": '{"method":"mining.authorize"}',
        "enterprise": "石棉县鑫源1科技有限公司",
        "address": "四川省雅安市石棉县美罗镇1号厂房",
        "uscc": make_uscc(1),
        "region_code": "511824",
        "internal_ip": None,
        "mac": None,
        "attributed_by": "allocation",
    }
    row.update(changes)
    return row


def test_subjects_follow_the_machine() -> None:
    assert network_subject(_finding()) == "ip:61.139.8.17"
    assert network_subject(_finding(internal_ip="10.8.3.44")) == "host:10.8.3.44@61.139.8.17"
    assert network_subject(_finding(client_ip="10.8.3.44")) == f"host:10.8.3.44@{make_uscc(1)}"
    # Without a credit code the capture's name must not scope it: next week's has another name.
    assert network_subject(_finding(client_ip="10.8.3.44", uscc=None)) == "host:10.8.3.44"
    assert network_subject(_finding(mac="00:16:3e:aa:bb:cc")) == "mac:00:16:3e:aa:bb:cc"
    long = network_subject(_finding(internal_ip="fd00:1:2:3:4:5:6:7", client_ip="2001:db8::1:2:3"))
    assert len(long) <= 64


def test_flows_of_one_machine_make_one_lead_linked_by_allocation(session: Session) -> None:
    save_entry(session, make_entry(1), actor="县发改局", at=at("2021-10-01"))
    flows = pa.Table.from_pylist(
        [
            _finding(),
            _finding(client_port=40112, server_ip="203.0.113.51", bytes=160, wallet="farm8"),
            _finding(client_ip="8.8.8.8", uscc=None, enterprise=None, attributed_by="asn"),
            _finding(client_ip="61.139.8.99", mining=False),
        ]
    )
    leads = network_leads(flows)
    assert [lead.subject for lead in leads] == ["ip:61.139.8.17", "ip:8.8.8.8"]
    evidence = leads[0].evidence
    assert evidence["flows"] == 2
    assert evidence["bytes"] == 10_000
    assert evidence["wallets"] == ["farm7", "farm8"]
    assert evidence["pools"] == ["203.0.113.50:3333", "203.0.113.51:3333"]
    assert evidence["first_seen"] == "2021-11-15T18:00:00+00:00"
    # and each flow, largest first, for the case page's table
    assert [(f["wallet"], f["bytes"], f["server_port"]) for f in evidence["flow_rows"]] == [
        ("farm7", 9840, 3333), ("farm8", 160, 3333),
    ]  # fmt: skip
    assert evidence["flow_rows"][0]["last_seen"] == "2021-11-15T19:00:00+00:00"
    assert leads[0].reasons == "network.ndpi.mining; network.stratum.authorize"
    summary = record_leads(session, leads, actor="网络监测", at=at("2021-11-16"))
    assert (summary.created, summary.linked) == (2, 1)
    stored = {lead.subject: lead for lead in open_leads(session, source="network")}
    linked = stored["ip:61.139.8.17"]
    assert linked.linked_by == "ip_allocation"
    assert linked.enterprise is not None
    assert linked.enterprise.uscc == make_uscc(1)
    assert stored["ip:8.8.8.8"].enterprise is None


def test_a_later_scan_refreshes_the_open_lead(session: Session) -> None:
    week1 = network_leads(pa.Table.from_pylist([_finding()]))
    week2 = network_leads(
        pa.Table.from_pylist(
            [
                _finding(
                    capture="week2.pcap",
                    first_seen=datetime(2021, 11, 22, 18, tzinfo=UTC),
                    last_seen=datetime(2021, 11, 22, 20, tzinfo=UTC),
                )
            ]
        )
    )
    record_leads(session, week1, actor="a", at=at("2021-11-16"))
    again = record_leads(session, week1, actor="a", at=at("2021-11-17"))
    later = record_leads(session, week2, actor="a", at=at("2021-11-23"))
    assert (again.created, again.unchanged) == (0, 1)
    assert (later.created, later.updated) == (0, 1)
    leads = open_leads(session, source="network")
    assert len(leads) == 1
    assert leads[0].last_seen_at == at("2021-11-23")
    count = session.execute(text("SELECT count(*) FROM lead")).scalar_one()
    assert count == 1
