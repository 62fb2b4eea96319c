"""Projects not exited on time become leads on their site's case, ready for a closure order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import COUNTY, INSPECTOR, PROVINCE, at, make_entry
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind
from minewatch.domain.cases.service import (
    CheckData,
    MeasureOrder,
    assign,
    confirm,
    fuse_leads,
    order_measures,
    record_check,
)
from minewatch.domain.leads.service import record_leads
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.measures.closure import overdue_exit_leads, overdue_exits
from minewatch.reference.ledger import ProjectStatus


def test_a_project_past_its_exit_deadline_is_led_to_a_closure_order(session: Session) -> None:
    save_entry(
        session, make_entry(1, exit_deadline=date(2021, 12, 31)), actor="县", at=at("2021-10-01")
    )
    save_entry(session, make_entry(2, exit_deadline=date(2021, 12, 31), grid_account_no="222",
               status=ProjectStatus.CLEARED), actor="县", at=at("2021-10-01"))  # fmt: skip
    save_entry(session, make_entry(3, exit_deadline=date(2022, 6, 30), grid_account_no="333"),
               actor="县", at=at("2021-10-01"))  # fmt: skip
    late = overdue_exits(session, date(2022, 1, 10))
    assert [(x.enterprise_name, x.days_late) for x in late] == [("石棉县鑫源1科技有限公司", 10)]
    record_leads(session, overdue_exit_leads(session, date(2022, 1, 10)), actor="省",
                 at=at("2022-01-10"))  # fmt: skip
    fuse_leads(session, actor="省", at=at("2022-01-10"))
    case = session.scalars(select(Case)).one()
    assert case.sources == "ledger"
    assert case.account_no == "5118240012345"
    assign(session, case.case_no, "511824", actor=PROVINCE, at=at("2022-01-11"))
    still = CheckData(date(2022, 1, 12), ("赵刚",), CheckOutcome.MINING_FOUND, {"Antminer S19": 80})
    record_check(session, case.case_no, still, actor=INSPECTOR, at=at("2022-01-12"))
    confirm(session, case.case_no, actor=COUNTY, at=at("2022-01-12"))
    order_measures(session, case.case_no, [MeasureOrder(MeasureKind.CLOSURE, date(2022, 1, 31))],
                   actor=COUNTY, at=at("2022-01-13"))  # fmt: skip
    assert [(m.kind, m.clause) for m in case.measures] == [(MeasureKind.CLOSURE, "十七")]
