"""The surcharge list in the database: an ordered surcharge lists the account; bills, payments
and reconciliation follow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from conftest import COUNTY, at, make_confirmed_case, make_open_case
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import MeasureKind
from minewatch.domain.cases.service import MeasureOrder, get_case, order_measures
from minewatch.domain.measures.service import (
    SurchargeError,
    bill_account,
    get_account,
    list_account,
    reconcile_account,
    record_payment,
)
from minewatch.domain.measures.surcharge import BillingPeriod, CollectionStatus


def test_ordering_the_surcharge_lists_the_account_and_bills_follow(session: Session) -> None:
    case_no = make_confirmed_case(
        session
    )  # mining since 2021-10-12 on account 5118240012345, 石棉县
    order_measures(session, case_no, [MeasureOrder(MeasureKind.SURCHARGE, date(2021, 12, 31))],
                   actor=COUNTY, at=at("2021-10-27"))  # fmt: skip
    account = get_account(session, "5118240012345")
    assert account.mining_start_date == date(2021, 10, 12)
    assert account.region_code == "511824"
    assert list_account(session, get_case(session, case_no), actor="x") is account  # once
    periods = [
        BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal("310000")),
        BillingPeriod(date(2021, 11, 1), date(2021, 11, 30), Decimal("300000")),
    ]
    bills = bill_account(session, "5118240012345", periods, due_date=date(2021, 12, 15),
                         actor="电网公司", at=at("2021-12-01"))  # fmt: skip
    # October: 20 of 31 days surcharged (from the 12th), 10,000 kWh a day at Sichuan's 2.00
    assert bills[0].surcharged_wh == 200_000_000
    assert bills[0].amount_fen == 40_000_000
    # November: the whole month, 300,000 kWh × 2.00
    assert bills[1].amount_fen == 60_000_000
    with pytest.raises(SurchargeError, match="is billed"):
        bill_account(session, "5118240012345", periods[:1], due_date=date(2021, 12, 15),
                     actor="电网公司")  # fmt: skip
    record_payment(session, "5118240012345", date(2021, 12, 10), Decimal("600000.00"),
                   actor="电网公司", reference="回单001")  # fmt: skip
    partial = reconcile_account(session, "5118240012345", date(2021, 12, 20))
    assert partial.status == CollectionStatus.PARTIAL
    assert partial.outstanding_yuan == Decimal("400000.00")
    assert partial.days_overdue == 5
    record_payment(session, "5118240012345", date(2021, 12, 21), Decimal("400000.00"),
                   actor="电网公司")  # fmt: skip
    assert reconcile_account(session, "5118240012345", date(2021, 12, 31)).status == (
        CollectionStatus.PAID
    )
    assert verify_chain(session).ok


def test_an_unconfirmed_case_is_not_listed(session: Session) -> None:
    case_no = make_open_case(session)
    with pytest.raises(SurchargeError, match="confirm it first"):
        list_account(session, get_case(session, case_no), actor="x")
    with pytest.raises(SurchargeError, match="not on the surcharge list"):
        get_account(session, "5118240012345")
