"""A small province for the bulletin tests: four cases in three counties over 2021-W42 and W43.

Times are 10:00 UTC (18:00 in Asia/Shanghai), so each falls on the same local day. W42 runs from
2021-10-17 16:00 UTC to 2021-10-24 16:00 UTC, W43 to 2021-10-31 16:00 UTC.

=========  ==========  ===============================================================
case       county      story
=========  ==========  ===============================================================
A (650 kW) 511824 石棉  W42: open 18, assign 19, check (mining) 20, confirm 21 (ledger
                       project, exit deadline 10-24), power cut ordered 21 and completed
                       22, cleared 22. W43: re-check finds mining 27 → relapse.
B (300 kW) 511824 石棉  W42: open 18, assign 19, check (clean) 21, dismissed 22.
C (200 kW) 511823 汉源  W42: open 18, assign 19. W43: check (mining) 25, confirm 26, power
                       cut + surcharge ordered 26, power cut completed 28.
D (1 MW)   510104 锦江  W42: open 19, never assigned: overdue from 10-22 10:00.
=========  ==========  ===============================================================

Public reports: one in 石棉 received 10-19 and closed 10-20 (W42); one in 汉源 received 10-25,
never handled: overdue from 10-28 (W43).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import at, make_entry
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind
from minewatch.domain.cases.service import (
    Actor,
    CheckData,
    MeasureOrder,
    assign,
    clear,
    complete_measure,
    confirm,
    dismiss,
    fuse_leads,
    order_measures,
    recheck,
    record_check,
)
from minewatch.domain.cases.states import Role
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.reports.models import Channel
from minewatch.domain.reports.service import ContactVault, ReportData, close_report, submit_report

PROVINCE = Actor("省发改委 张敏", Role.PROVINCIAL, "510000")
SHIMIAN = Actor("石棉县发改局 李强", Role.COUNTY, "511824")
HANYUAN = Actor("汉源县发改局 王芳", Role.COUNTY, "511823")
VAULT = ContactVault("a deployment secret of some length")


@dataclass(frozen=True)
class World:
    a: str
    b: str
    c: str
    d: str


def _lead(subject: str, region: str, kw: float, account: str) -> LeadData:
    return LeadData(
        source="meters", subject=subject, score=0.9, category="mining",
        reasons="meters.flat_24x7", evidence={}, region_code=region, account_no=account,
        est_start_date=date(2021, 10, 1), est_mining_kw=kw,
    )  # fmt: skip


def _found(day: str) -> CheckData:
    return CheckData(date.fromisoformat(day), ("赵刚",), CheckOutcome.MINING_FOUND,
                     rigs={"Antminer S19 Pro": 100})  # fmt: skip


def _case_of(session: Session, account: str) -> str:
    case_no = session.scalar(select(Case.case_no).where(Case.account_no == account))
    assert case_no is not None
    return case_no


def build(session: Session) -> World:
    """Write the province's history through the services, as the offices would."""
    record_leads(
        session,
        [_lead("MA", "511824", 650.0, "A"), _lead("MB", "511824", 300.0, "B"),
         _lead("MC", "511823", 200.0, "C")],
        actor="analyst", at=at("2021-10-18"),
    )  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-18"))
    record_leads(session, [_lead("MD", "510104", 1000.0, "D")], actor="analyst",
                 at=at("2021-10-19"))  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-19"))
    world = World(*(_case_of(session, account) for account in "ABCD"))

    for case_no, county in ((world.a, "511824"), (world.b, "511824"), (world.c, "511823")):
        assign(session, case_no, county, actor=PROVINCE, at=at("2021-10-19"))
    # A: to cleared in W42, relapses in W43
    record_check(session, world.a, _found("2021-10-20"), actor=SHIMIAN, at=at("2021-10-20"))
    confirm(session, world.a, actor=SHIMIAN, at=at("2021-10-21"),
            entry=make_entry(1, exit_deadline=date(2021, 10, 24)))  # fmt: skip
    order_measures(session, world.a, [MeasureOrder(MeasureKind.POWER_CUT, date(2021, 10, 29))],
                   actor=SHIMIAN, at=at("2021-10-21"))  # fmt: skip
    complete_measure(session, world.a, MeasureKind.POWER_CUT, actor=SHIMIAN, at=at("2021-10-22"))
    clear(session, world.a, actor=SHIMIAN, at=at("2021-10-22"))
    # B: clean, dismissed in W42
    clean = CheckData(date(2021, 10, 21), ("赵刚",), CheckOutcome.NO_MINING)
    record_check(session, world.b, clean, actor=SHIMIAN, at=at("2021-10-21"))
    dismiss(session, world.b, reason="数据中心，非挖矿", actor=SHIMIAN, at=at("2021-10-22"))
    # reports
    first = submit_report(
        session,
        ReportData(Channel.HOTLINE_12398, "四川省雅安市石棉县美罗镇", "风扇噪音很大",
                   contact="13800000000", region_code="511824"),
        vault=VAULT, at=at("2021-10-19"),
    )  # fmt: skip
    close_report(session, first.receipt_code, actor=SHIMIAN, public_note="已核查",
                 at=at("2021-10-20"))  # fmt: skip
    submit_report(
        session,
        ReportData(Channel.WEB, "四川省雅安市汉源县九襄镇", "新拉了变压器", region_code="511823"),
        vault=VAULT, at=at("2021-10-25"),
    )  # fmt: skip

    # W43: C confirmed and measured, A relapses
    record_check(session, world.c, _found("2021-10-25"), actor=HANYUAN, at=at("2021-10-25"))
    confirm(session, world.c, actor=HANYUAN, at=at("2021-10-26"))
    order_measures(
        session, world.c,
        [MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 30)),
         MeasureOrder(MeasureKind.SURCHARGE, date(2021, 11, 30))],
        actor=HANYUAN, at=at("2021-10-26"),
    )  # fmt: skip
    complete_measure(session, world.c, MeasureKind.POWER_CUT, actor=HANYUAN, at=at("2021-10-28"))
    recheck(session, world.a, _found("2021-10-27"), actor=SHIMIAN, at=at("2021-10-27"))
    return world
