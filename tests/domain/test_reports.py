"""Public reports: anonymous receipt codes, encrypted contacts, triage into cases, deadlines."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from conftest import at
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import Actor, TransitionRefusedError, assign
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.reports.models import Channel, ReportStatus
from minewatch.domain.reports.service import (
    ContactVault,
    ReportData,
    ReportError,
    close_report,
    get_report,
    normalise_receipt_code,
    overdue_reports,
    public_status,
    reveal_contact,
    submit_report,
    triage,
)

VAULT = ContactVault("a deployment secret of some length")
PROVINCE = Actor("省发改委 张敏", Role.PROVINCIAL, "510000")
COUNTY = Actor("石棉县发改局 李强", Role.COUNTY, "511824")
OTHER_COUNTY = Actor("汉源县发改局 王芳", Role.COUNTY, "511823")
ANALYST = Actor("电网分析 周", Role.GRID_ANALYST, "510000")
PHONE = "13800001234 王先生"

REPORT = ReportData(
    channel=Channel.HOTLINE_12398,
    address="四川省雅安市石棉县美罗镇工业园区3号厂房",
    observed="厂房昼夜有风扇轰鸣，新装两台变压器，窗户用泡沫封死",
    enterprise_name="鑫源科技",
    power_use="听说每月电费几十万",
    contact=PHONE,
)


def test_a_report_gets_a_receipt_code_and_its_contact_is_not_stored_in_clear(
    session: Session,
) -> None:
    report = submit_report(session, REPORT, vault=VAULT, at=at("2021-10-20"))
    assert report.status == ReportStatus.RECEIVED
    assert report.region_code == "511824"  # read from the address
    assert normalise_receipt_code(report.receipt_code.lower().replace("-", " ")) == (
        report.receipt_code
    )
    stored = session.execute(text("SELECT contact_ciphertext FROM public_report")).scalar_one()
    assert PHONE not in stored
    assert "13800001234" not in stored
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "report")).all()
    assert all("13800001234" not in (e.after_json or "") for e in events)
    status = public_status(session, report.receipt_code)
    assert status.status == "received"
    assert "13800001234" not in repr(status)
    assert verify_chain(session).ok


def test_bad_reports_and_codes_are_refused(session: Session) -> None:
    with pytest.raises(ReportError, match="address is required"):
        submit_report(
            session, ReportData(Channel.WEB, " ", "噪音"), vault=VAULT, at=at("2021-10-20")
        )
    with pytest.raises(ReportError, match="what was seen or heard is required"):
        submit_report(session, ReportData(Channel.WEB, "石棉县", ""), vault=VAULT)
    with pytest.raises(ReportError, match="not a receipt code"):
        get_report(session, "12345")
    with pytest.raises(ReportError, match="no report"):
        get_report(session, "0000-0000-0000")


def test_triage_makes_a_lead_that_joins_the_case_of_its_site(session: Session) -> None:
    # the meter analytics already found the site's account
    record_leads(
        session,
        [
            LeadData(
                source="meters",
                subject="M1",
                score=0.9,
                category="mining",
                reasons="x",
                evidence={},
                customer_name="鑫源科技",
                region_code="511824",
                account_no="5118240012345",
            )
        ],
        actor="analyst",
        at=at("2021-10-19"),
    )
    report = submit_report(session, REPORT, vault=VAULT, at=at("2021-10-20"))
    with pytest.raises(TransitionRefusedError, match="does not handle public reports"):
        triage(session, report.receipt_code, "511824", actor=ANALYST)
    with pytest.raises(TransitionRefusedError, match="outside 511823"):
        triage(session, report.receipt_code, "511824", actor=OTHER_COUNTY)
    triage(session, report.receipt_code, "511824", actor=PROVINCE, at=at("2021-10-21"))
    assert report.status == ReportStatus.TRIAGED
    assert report.lead_id is not None
    case = session.scalars(select(Case)).one()  # the report's own case: no shared key yet
    assert case.sources == "report"
    assert public_status(session, report.receipt_code).progress == "已受理，待分派核查"
    assign(session, case.case_no, "511824", actor=PROVINCE, at=at("2021-10-22"))
    assert case.status == CaseStatus.ASSIGNED
    assert public_status(session, report.receipt_code).progress == "已交办属地核查"
    with pytest.raises(TransitionRefusedError, match="already triaged"):
        triage(session, report.receipt_code, "511824", actor=PROVINCE)
    assert verify_chain(session).ok


def test_only_the_handling_office_reads_the_contact_and_each_reading_is_audited(
    session: Session,
) -> None:
    report = submit_report(session, REPORT, vault=VAULT, at=at("2021-10-20"))
    with pytest.raises(TransitionRefusedError, match="triage it first"):
        reveal_contact(session, report.receipt_code, actor=COUNTY, vault=VAULT, reason="回访")
    triage(session, report.receipt_code, "511824", actor=PROVINCE, at=at("2021-10-21"))
    with pytest.raises(TransitionRefusedError, match="outside 511823"):
        reveal_contact(session, report.receipt_code, actor=OTHER_COUNTY, vault=VAULT, reason="x")
    with pytest.raises(TransitionRefusedError):
        reveal_contact(session, report.receipt_code, actor=ANALYST, vault=VAULT, reason="x")
    with pytest.raises(ReportError, match="needs a reason"):
        reveal_contact(session, report.receipt_code, actor=COUNTY, vault=VAULT, reason=" ")
    contact = reveal_contact(
        session, report.receipt_code, actor=COUNTY, vault=VAULT, reason="核查后回访举报人"
    )
    assert contact == PHONE
    readings = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "reveal_contact")
    ).all()
    assert [(e.actor, e.reason) for e in readings] == [(COUNTY.name, "核查后回访举报人")]
    with pytest.raises(ReportError, match="cannot be decrypted"):
        reveal_contact(
            session,
            report.receipt_code,
            actor=COUNTY,
            vault=ContactVault("another deployment's secret"),
            reason="x",
        )
    assert verify_chain(session).ok


def test_service_levels_and_closing(session: Session) -> None:
    report = submit_report(session, REPORT, vault=VAULT, at=at("2021-10-20"))
    assert overdue_reports(session, now=at("2021-10-22")) == []
    assert [r.receipt_code for r in overdue_reports(session, now=at("2021-10-24"))] == [
        report.receipt_code
    ]
    triage(session, report.receipt_code, "511824", actor=PROVINCE, at=at("2021-10-24"))
    assert overdue_reports(session, now=at("2021-11-05")) == []
    late = overdue_reports(session, now=at("2021-11-10"), within="511824")
    assert [r.receipt_code for r in late] == [report.receipt_code]
    assert overdue_reports(session, now=at("2021-11-10"), within="511823") == []
    close_report(
        session,
        report.receipt_code,
        actor=COUNTY,
        public_note="经现场核查，该厂房为冷库，未发现挖矿活动。感谢您的监督。",
        at=at("2021-11-01"),
    )
    status = public_status(session, report.receipt_code)
    assert (status.status, status.progress) == ("closed", "已办结")
    assert status.note is not None
    assert "冷库" in status.note
    assert overdue_reports(session, now=at("2021-12-01")) == []
    assert verify_chain(session).ok
