"""The lists officials work from: measures of a region's cases, surcharged accounts with their
totals — filtered by region and paged in SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import COUNTY, at, make_confirmed_case
from minewatch.domain.cases.models import Case, MeasureKind, MeasureStatus
from minewatch.domain.cases.service import MeasureOrder, complete_measure, order_measures
from minewatch.domain.measures.lists import (
    CollectionFilter,
    measures_within,
    surcharge_account_summary,
    surcharge_accounts_within,
)
from minewatch.domain.measures.service import bill_account, record_payment
from minewatch.domain.measures.surcharge import BillingPeriod, CollectionStatus

ACCOUNT = "5118240012345"


def _ordered(session: Session) -> str:
    case_no = make_confirmed_case(session)  # 石棉县 511824
    orders = [MeasureOrder(MeasureKind.SURCHARGE, date(2021, 12, 31)),
              MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 5))]  # fmt: skip
    order_measures(session, case_no, orders, actor=COUNTY, at=at("2021-10-27"))
    return case_no


def test_measures_of_the_region_filtered_and_paged(session: Session) -> None:
    case_no = _ordered(session)
    rows, total = measures_within(session, "511824", today=date(2021, 11, 10))
    assert total == 2
    assert [r.kind for r in rows] == [MeasureKind.POWER_CUT, MeasureKind.SURCHARGE]  # by due date
    assert rows[0].days_overdue == 5
    assert rows[1].days_overdue == 0
    assert rows[0].region_code == "511824"
    assert rows[0].clause == "十二"
    assert measures_within(session, "511823", today=date(2021, 11, 10)) == ([], 0)
    assert measures_within(session, "510000", today=date(2021, 11, 10))[1] == 2
    late, n = measures_within(session, "511800", today=date(2021, 11, 10), overdue=True)
    assert (n, [r.kind for r in late]) == (1, [MeasureKind.POWER_CUT])
    page, n = measures_within(session, "000000", today=date(2021, 11, 10), limit=1, offset=1)
    assert (n, [r.kind for r in page]) == (2, [MeasureKind.SURCHARGE])
    complete_measure(session, case_no, MeasureKind.POWER_CUT, actor=COUNTY, at=at("2021-11-11"))
    done, n = measures_within(session, "511824", today=date(2021, 11, 12),
                              status=MeasureStatus.COMPLETED)  # fmt: skip
    assert n == 1
    assert done[0].days_overdue == 0
    assert done[0].completed_at is not None
    only, n = measures_within(session, "511824", today=date(2021, 11, 12),
                              kind=MeasureKind.SURCHARGE, case_no=case_no)  # fmt: skip
    assert (n, only[0].status) == (1, MeasureStatus.ORDERED)


def test_surcharged_accounts_add_up_their_bills_and_payments(session: Session) -> None:
    _ordered(session)
    (fresh,), n = surcharge_accounts_within(session, "511824", as_of=date(2021, 12, 20))
    assert (n, fresh.collection, fresh.bill_count, fresh.balance_fen) == (1, None, 0, 0)
    assert surcharge_accounts_within(session, "511823", as_of=date(2021, 12, 20)) == ([], 0)
    period = BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal("310000"))
    bill_account(session, ACCOUNT, [period], due_date=date(2021, 12, 15), actor="电网公司")
    record_payment(session, ACCOUNT, date(2021, 12, 10), Decimal("150000"), actor="电网公司")
    record_payment(session, ACCOUNT, date(2022, 1, 5), Decimal("250000"), actor="电网公司")
    summary = surcharge_account_summary(session, ACCOUNT, date(2021, 12, 20))
    assert (summary.billed_fen, summary.paid_fen) == (40_000_000, 15_000_000)  # Jan not yet
    assert summary.collection is CollectionStatus.PARTIAL
    assert summary.days_overdue == 5
    owing, n = surcharge_accounts_within(
        session, "510000", as_of=date(2021, 12, 20), collection=CollectionFilter.OUTSTANDING,
        overdue=True,
    )  # fmt: skip
    assert [a.account_no for a in owing] == [ACCOUNT]
    paid, n = surcharge_accounts_within(session, "510000", as_of=date(2022, 1, 31),
                                        collection=CollectionFilter.PAID)  # fmt: skip
    assert [a.account_no for a in paid] == [ACCOUNT]
    assert paid[0].days_overdue == 0
    assert surcharge_accounts_within(session, "510000", as_of=date(2022, 1, 31),
                                     collection=CollectionFilter.UNBILLED)[1] == 0  # fmt: skip
    assert surcharge_accounts_within(session, "510000", as_of=date(2022, 1, 31),
                                     search="5118240")[1] == 1  # fmt: skip
    assert surcharge_accounts_within(session, "510000", as_of=date(2022, 1, 31),
                                     search="5118_")[1] == 0  # fmt: skip


def test_an_account_is_seen_by_the_county_handling_its_case(session: Session) -> None:
    """A case sited in 汉源 but handed to 石棉: 石棉 works its surcharge account; 汉源 does not see
    it (the account's own region, the site's, still prices the surcharge)."""
    case_no = _ordered(session)
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    assert case is not None
    case.region_code = "511823"  # the site lies in 汉源; the case was assigned to 石棉 (511824)
    session.flush()
    today = date(2021, 11, 10)
    handling, n = surcharge_accounts_within(session, "511824", as_of=today)
    assert (n, [a.account_no for a in handling]) == (1, [ACCOUNT])
    assert surcharge_accounts_within(session, "511823", as_of=today)[1] == 0
    assert surcharge_accounts_within(session, "511800", as_of=today)[1] == 1
