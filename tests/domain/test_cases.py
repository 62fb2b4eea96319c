"""Cases: fusion of leads, every transition allowed and refused, deadlines, concurrent edits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from conftest import (
    AUDITOR,
    CLEAN,
    COUNTY,
    FOUND,
    INSPECTOR,
    OTHER_COUNTY,
    PROVINCE,
    at,
    case_lead,
    make_confirmed_case,
    make_open_case,
    make_uscc,
)
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind, MeasureStatus
from minewatch.domain.cases.service import (
    Actor,
    CaseError,
    CheckData,
    ConcurrentEditError,
    MeasureOrder,
    TransitionRefusedError,
    assign,
    clear,
    combined_confidence,
    complete_measure,
    confirm,
    dismiss,
    fuse_leads,
    get_case,
    lead_labels,
    order_measures,
    overdue_cases,
    recheck,
    record_check,
    reopen,
)
from minewatch.domain.cases.states import RULES, CaseStatus, Role, Transition, next_actions
from minewatch.domain.db import session_scope
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import record_leads
from minewatch.domain.ledger.models import Project


def test_leads_of_one_site_fuse_into_one_case_with_combined_confidence(session: Session) -> None:
    case_no = make_open_case(session)
    case = get_case(session, case_no)
    assert case.status == CaseStatus.OPEN
    assert case.sources == "meters,network"
    assert case.confidence == pytest.approx(1 - 0.1 * 0.2)
    assert case.account_no == "5118240012345"
    assert [link.matched_on for link in case.leads] == ["new site", "uscc"]
    # a later week's scan refreshes the same leads: nothing new opens
    record_leads(session, [case_lead("meters", "M1", 0.95, account_no="5118240012345")],
                 actor="analyst", at=at("2021-10-27"))  # fmt: skip
    again = fuse_leads(session, actor="analyst", at=at("2021-10-27"))
    assert (again.opened, again.attached, again.already) == (0, 0, 2)
    # a different site opens its own case
    record_leads(session, [case_lead("plants", "plant:HP01", 0.7, account_no="999")],
                 actor="analyst", at=at("2021-10-27"))  # fmt: skip
    assert fuse_leads(session, actor="analyst", at=at("2021-10-27")).opened == 1
    assert verify_chain(session).ok


def test_same_source_repeating_itself_counts_once() -> None:
    leads = [Lead(source="meters", score=0.6), Lead(source="meters", score=0.6)]
    assert combined_confidence(leads)[0] == pytest.approx(0.6)
    both = [Lead(source="meters", score=0.6), Lead(source="network", score=0.6)]
    assert combined_confidence(both)[0] == pytest.approx(0.84)


def test_the_whole_walk_from_lead_to_rechecked(session: Session) -> None:
    case_no = make_confirmed_case(session)
    case = get_case(session, case_no)
    assert case.status == CaseStatus.CONFIRMED
    assert case.project_code is not None
    assert case.checks[0].rigs_found == 120
    assert all(link.lead.status == "confirmed" for link in case.leads)
    orders = [
        MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 5)),
        MeasureOrder(MeasureKind.SURCHARGE, date(2021, 11, 30)),
    ]
    order_measures(session, case_no, orders, actor=COUNTY, at=at("2021-10-27"))
    assert [(m.clause, m.agency) for m in case.measures] == [
        ("十二", "电网企业"),
        ("十三", "电网企业"),
    ]
    complete_measure(session, case_no, MeasureKind.POWER_CUT, actor=COUNTY, at=at("2021-11-01"))
    assert case.status == CaseStatus.MEASURES_ORDERED  # one still pending
    complete_measure(session, case_no, MeasureKind.SURCHARGE, actor=COUNTY, at=at("2021-11-20"))
    assert case.status == CaseStatus.MEASURES_COMPLETED
    assert all(m.status == MeasureStatus.COMPLETED for m in case.measures)
    clear(session, case_no, actor=COUNTY, at=at("2021-11-21"))
    recheck(session, case_no, CLEAN, actor=INSPECTOR, at=at("2021-12-20"))
    assert case.status == CaseStatus.RECHECKED
    assert case.stage_due_at is None
    actions = [
        e.action
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == case_no).order_by(AuditEvent.seq)
        )
    ]
    assert actions == ["open", "attach_lead", "assign", "check", "confirm", "order_measures",
                       "complete_measure", "complete_measures", "clear", "recheck"]  # fmt: skip
    assert verify_chain(session).ok


def test_a_relapse_reopens_the_case(session: Session) -> None:
    case_no = make_confirmed_case(session)
    order_measures(session, case_no, [MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 5))],
                   actor=COUNTY, at=at("2021-10-27"))  # fmt: skip
    complete_measure(session, case_no, MeasureKind.POWER_CUT, actor=COUNTY, at=at("2021-11-01"))
    clear(session, case_no, actor=COUNTY, at=at("2021-11-02"))
    back = CheckData(date(2021, 12, 1), ("赵刚",), CheckOutcome.MINING_FOUND, {"Antminer S19": 30})
    case = recheck(session, case_no, back, actor=INSPECTOR, at=at("2021-12-01"))
    assert case.status == CaseStatus.ASSIGNED
    assert case.relapses == 1
    assert case.stage_due_at is not None


def test_dismissed_leads_become_labelled_negatives_and_can_be_reopened(session: Session) -> None:
    case_no = make_open_case(session)
    with pytest.raises(TransitionRefusedError, match="needs a reason"):
        dismiss(session, case_no, reason=" ", actor=PROVINCE)
    case = dismiss(session, case_no, reason="医院数据中心，负荷平稳属正常", actor=PROVINCE,
                   at=at("2021-10-22"))  # fmt: skip
    assert case.status == CaseStatus.DISMISSED
    assert {link.lead.status for link in case.leads} == {"dismissed"}
    labels = lead_labels(session)
    assert {(lb.source, lb.label) for lb in labels} == {
        ("meters", "not_mining"),
        ("network", "not_mining"),
    }
    assert labels[0].reason == "医院数据中心，负荷平稳属正常"
    assert [lb.subject for lb in lead_labels(session, "meters")] == ["M1"]
    reopen(session, case_no, reason="新的举报", actor=PROVINCE, at=at("2021-11-02"))
    assert lead_labels(session) == []
    assert case.status == CaseStatus.OPEN
    assert {link.lead.status for link in case.leads} == {"new"}
    assert verify_chain(session).ok


@pytest.mark.parametrize("transition", list(Transition))
def test_every_transition_is_refused_from_a_stage_it_does_not_start_from(
    transition: Transition,
) -> None:
    rule = RULES[transition]
    outside = [s for s in CaseStatus if s not in rule.sources]
    for status in outside:
        assert transition not in next_actions(status, Role.ADMIN)
        assert transition not in next_actions(status, Role.NATIONAL)


def test_refusals_by_stage_role_and_region(session: Session) -> None:
    case_no = make_open_case(session)
    with pytest.raises(TransitionRefusedError, match="not possible from open"):
        record_check(session, case_no, FOUND, actor=INSPECTOR)
    with pytest.raises(TransitionRefusedError, match="a county may not assign"):
        assign(session, case_no, "511824", actor=COUNTY)
    with pytest.raises(TransitionRefusedError, match="an auditor may not dismiss"):
        dismiss(session, case_no, reason="x", actor=AUDITOR)
    with pytest.raises(CaseError, match="not a county code"):
        assign(session, case_no, "511800", actor=PROVINCE)
    city = Actor("广元市", Role.CITY, "510800")
    with pytest.raises(TransitionRefusedError, match="outside 510800"):
        assign(session, case_no, "511824", actor=city)
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    with pytest.raises(TransitionRefusedError, match="outside 511823"):
        record_check(session, case_no, FOUND, actor=OTHER_COUNTY)
    with pytest.raises(CaseError, match="count the rigs"):
        record_check(session, case_no, CheckData(date(2021, 10, 25), ("赵刚",),
                     CheckOutcome.MINING_FOUND), actor=INSPECTOR)  # fmt: skip
    record_check(session, case_no, CLEAN, actor=INSPECTOR, at=at("2021-10-25"))
    with pytest.raises(TransitionRefusedError, match="did not find mining"):
        confirm(session, case_no, actor=COUNTY)
    assert get_case(session, case_no).status == CaseStatus.CHECKED


def test_overdue_cases_are_listed_per_region(session: Session) -> None:
    case_no = make_open_case(session)
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    assert overdue_cases(session, now=at("2021-10-27")) == {}
    late = overdue_cases(session, now=at("2021-11-01"))
    assert list(late) == ["511824"]
    assert late["511824"][0].case_no == case_no
    assert late["511824"][0].days_overdue == 4
    assert overdue_cases(session, now=at("2021-11-01"), within="511823") == {}
    assert list(overdue_cases(session, now=at("2021-11-01"), within="510000")) == ["511824"]


def test_a_stale_version_is_refused(session: Session) -> None:
    case_no = make_open_case(session)
    version = get_case(session, case_no).version
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    with pytest.raises(ConcurrentEditError, match="someone changed it"):
        dismiss(session, case_no, reason="重复", actor=PROVINCE, expected_version=version)


def test_two_sessions_editing_one_case_do_not_lose_an_update(engine: Engine) -> None:
    with session_scope(engine) as setup:
        case_no = make_open_case(setup)
    first, second = Session(engine), Session(engine)
    try:
        seen = get_case(second, case_no)  # the second user has the case open
        assign(first, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
        first.commit()
        assert seen.status == CaseStatus.OPEN  # what the second user still sees
        with pytest.raises(ConcurrentEditError):
            dismiss(second, case_no, reason="误报", actor=PROVINCE, at=at("2021-10-21"))
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_scope(engine) as check:
        case = get_case(check, case_no)
        assert case.status == CaseStatus.ASSIGNED
        assert case.dismissed_reason is None
        assert verify_chain(check).ok


def test_leads_written_differently_at_one_address_fuse(session: Session) -> None:
    record_leads(
        session,
        [
            case_lead("meters", "M7", 0.8, account_no="111",
                  address="四川省雅安市石棉县美罗镇建设路12号3栋"),
            case_lead("report", "RPT1", 0.3, address="石棉县美罗镇建设路十二号三幢（原红星厂）"),
            case_lead("report", "RPT2", 0.3, address="石棉县美罗镇建设路14号"),
        ],
        actor="analyst",
        at=at("2021-10-20"),
    )  # fmt: skip
    summary = fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    assert (summary.opened, summary.attached) == (2, 1)
    cases = session.scalars(select(Case).order_by(Case.id)).all()
    assert [len(c.leads) for c in cases] == [2, 1]
    link = cases[0].leads[1]
    assert link.matched_on.startswith("address")
    assert 0.6 <= link.match_score <= 1.0
    assert cases[0].sources == "meters,report"


def test_confirming_enters_the_project_from_the_case(session: Session) -> None:
    record_leads(
        session,
        [case_lead("meters", "M8", 0.9, account_no="5118240077777", uscc=make_uscc(8),
                   customer_name="石棉县某某科技有限公司",
                   address="四川省雅安市石棉县美罗镇工业园区8号")],
        actor="analyst",
        at=at("2021-10-20"),
    )  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    case_no = session.scalars(select(Case.case_no)).one()
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    record_check(session, case_no, FOUND, actor=INSPECTOR, at=at("2021-10-25"))
    case = confirm(session, case_no, actor=COUNTY, at=at("2021-10-26"))
    assert case.project_code is not None
    project = session.scalars(select(Project).where(Project.code == case.project_code)).one()
    assert project.grid_account_no == "5118240077777"
    assert project.enterprise.uscc == make_uscc(8)
    assert {(m.model, m.count) for m in project.machines} == {
        ("Antminer S19 Pro", 100),
        ("Whatsminer M30S", 20),
    }
    assert project.rated_power_kw == 410.0
    assert project.discovered_by.value == "electricity_analysis"
    assert verify_chain(session).ok


def test_leads_at_one_site_by_coordinates_fuse_and_far_ones_do_not(session: Session) -> None:
    record_leads(
        session,
        [
            case_lead("ledger", "XM-1", 0.9, longitude=102.3600, latitude=29.2300),
            case_lead("report", "R-1", 0.3, longitude=102.3612, latitude=29.2305),  # ~130 m
            case_lead("report", "R-2", 0.3, longitude=102.3700, latitude=29.2300),  # ~970 m
        ],
        actor="analyst",
        at=at("2021-10-20"),
    )
    summary = fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    assert (summary.opened, summary.attached) == (2, 1)
    first = session.scalars(select(Case).order_by(Case.id)).first()
    assert first is not None
    assert first.leads[1].matched_on.startswith("coordinates (1")
    assert (first.longitude, first.latitude) == (102.36, 29.23)
    assert verify_chain(session).ok
