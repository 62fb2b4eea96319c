"""The surcharge list in the database: listing an account, billing it, collecting, reconciling.

When a case's measures include the differential surcharge (clause 十三), its electricity account
enters the list with the day mining started (the meter analytics' estimate, else the site
check). Billing runs the arithmetic of :mod:`minewatch.domain.measures.surcharge` over the grid
company's billing periods and stores each period's line; payments are recorded as they come;
:func:`reconcile_account` compares billed with collected. Every change is in the audit chain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.models import Case, MeasureKind
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.db import utcnow
from minewatch.domain.measures.models import SurchargeAccount, SurchargeBill, SurchargePayment
from minewatch.domain.measures.surcharge import (
    BillingPeriod,
    Payment,
    Reconciliation,
    reconcile,
    surcharge_for_account,
)
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import regions

ENTITY = "surcharge_account"
_FEN = Decimal("0.01")
_WH = Decimal("0.001")
_LISTABLE = frozenset(
    {
        CaseStatus.CONFIRMED,
        CaseStatus.MEASURES_ORDERED,
        CaseStatus.MEASURES_COMPLETED,
        CaseStatus.CLEARED,
        CaseStatus.RECHECKED,
    }
)


class SurchargeError(MineWatchError):
    """A surcharge-list operation that cannot be done as asked."""


class AccountNotListedError(SurchargeError, NotFoundError):
    """No account with this number is on the surcharge list."""


def _fen(amount_yuan: Decimal) -> int:
    return int((amount_yuan / _FEN).to_integral_exact())


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) * _FEN).quantize(_FEN)


def _wh(energy_kwh: Decimal) -> int:
    return int((energy_kwh / _WH).to_integral_value())


def account_image(account: SurchargeAccount) -> JsonObject:
    return {
        "account_no": account.account_no,
        "case_no": account.case_no,
        "region_code": account.region_code,
        "mining_start_date": account.mining_start_date.isoformat(),
        "delisted": account.delisted_at is not None,
        "bills": [
            [b.period_start.isoformat(), b.period_end.isoformat(), b.amount_fen]
            for b in account.bills
        ],
        "payments": [[p.paid_date.isoformat(), p.amount_fen] for p in account.payments],
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {a.account_no: account_image(a) for a in session.scalars(select(SurchargeAccount))}


register_state_reader(ENTITY, _all_images)


def _audit(
    session: Session,
    account: SurchargeAccount,
    before: JsonObject | None,
    action: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> None:
    session.flush()
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=account.account_no, action=action,
        before=before, after=account_image(account), reason=reason, at=at,
    )  # fmt: skip


def get_account(session: Session, account_no: str) -> SurchargeAccount:
    account = session.scalar(
        select(SurchargeAccount).where(SurchargeAccount.account_no == account_no)
    )
    if account is None:
        raise AccountNotListedError(f"account {account_no} is not on the surcharge list")
    return account


def list_account(
    session: Session, case: Case, *, actor: str, at: datetime | None = None
) -> SurchargeAccount:
    """Put the case's account on the list (once; a second call returns the listed account)."""
    when = utcnow() if at is None else at
    if case.status not in _LISTABLE:
        raise SurchargeError(f"case {case.case_no} is {case.status.value}: confirm it first")
    if not case.account_no:
        raise SurchargeError(f"case {case.case_no} has no electricity account number")
    listed = session.scalar(
        select(SurchargeAccount).where(SurchargeAccount.account_no == case.account_no)
    )
    if listed is not None:
        return listed
    region = case.region_code or case.assigned_region_code
    if region is None or not regions.is_valid_code(region, include_retired=False):
        raise SurchargeError(f"case {case.case_no} has no current region code to price it by")
    started = case.est_start_date or (case.checks[0].checked_on if case.checks else None)
    if started is None:
        raise SurchargeError(f"case {case.case_no}: when did mining start? (no estimate, no check)")
    account = SurchargeAccount(
        account_no=case.account_no,
        case_no=case.case_no,
        region_code=region,
        mining_start_date=started,
        listed_at=when,
    )
    session.add(account)
    _audit(session, account, None, "list", actor, when, reason=f"case {case.case_no}")
    return account


def list_surcharged_cases(session: Session, *, actor: str, at: datetime | None = None) -> int:
    """List every confirmed case with a surcharge measure whose account is not yet listed."""
    listed = 0
    for case in session.scalars(select(Case).order_by(Case.id)):
        wanted = any(m.kind == MeasureKind.SURCHARGE for m in case.measures)
        if wanted and case.status in _LISTABLE and case.account_no:
            known = session.scalar(
                select(SurchargeAccount.id).where(SurchargeAccount.account_no == case.account_no)
            )
            if known is None:
                list_account(session, case, actor=actor, at=at)
                listed += 1
    return listed


def bill_account(
    session: Session,
    account_no: str,
    periods: Sequence[BillingPeriod],
    *,
    due_date: date,
    actor: str,
    at: datetime | None = None,
) -> list[SurchargeBill]:
    """Bill the periods (each period once: a period already billed is refused).

    Raises :class:`SurchargeError` for a period billed before and for anything the arithmetic
    of :func:`~minewatch.domain.measures.surcharge.surcharge_for_account` refuses (overlapping
    periods, mining that started after the last one, no rate in force)."""
    when = utcnow() if at is None else at
    account = get_account(session, account_no)
    billed = {(b.period_start, b.period_end) for b in account.bills}
    again = [p for p in periods if (p.start_date, p.end_date) in billed]
    if again:
        raise SurchargeError(
            f"account {account_no}: period {again[0].start_date}–{again[0].end_date} is billed"
        )
    try:
        statement = surcharge_for_account(periods, account.mining_start_date, account.region_code)
    except (ValueError, TypeError) as error:
        raise SurchargeError(f"account {account_no}: {error}") from error
    before = account_image(account)
    bills = []
    for line in statement.lines:
        bill = SurchargeBill(
            period_start=line.period.start_date,
            period_end=line.period.end_date,
            metered_wh=_wh(line.period.energy_kwh),
            surcharged_wh=_wh(line.energy_kwh),
            amount_fen=_fen(line.amount_yuan),
            detail_json=json.dumps(
                [
                    {
                        "from": s.start_date.isoformat(),
                        "to": s.end_date.isoformat(),
                        "days": s.days,
                        "kwh": str(s.energy_kwh),
                        "rate_yuan_per_kwh": str(s.rate_yuan_per_kwh),
                        "rate_region": s.rate_region_code,
                        "source": s.rate_source,
                    }
                    for s in line.segments
                ],
                ensure_ascii=False,
            ),
            due_date=due_date,
            billed_at=when,
        )
        account.bills.append(bill)
        bills.append(bill)
    _audit(session, account, before, "bill", actor, when)
    return bills


def record_payment(
    session: Session,
    account_no: str,
    paid_date: date,
    amount_yuan: Decimal,
    *,
    actor: str,
    reference: str | None = None,
    at: datetime | None = None,
) -> SurchargePayment:
    when = utcnow() if at is None else at
    account = get_account(session, account_no)
    try:
        checked = Payment(paid_date, amount_yuan)  # validates: positive, whole fen
    except (ValueError, TypeError) as error:
        raise SurchargeError(f"account {account_no}: {error}") from error
    before = account_image(account)
    payment = SurchargePayment(
        paid_date=checked.paid_date,
        amount_fen=_fen(checked.amount_yuan),
        reference=reference,
        recorded_at=when,
    )
    account.payments.append(payment)
    _audit(session, account, before, "payment", actor, when, reason=reference)
    return payment


def reconcile_account(session: Session, account_no: str, as_of: date) -> Reconciliation:
    """Billed against collected as of a day; overdue from the earliest due date of a bill."""
    account = get_account(session, account_no)
    if not account.bills:
        raise SurchargeError(f"account {account_no} has not been billed")
    billed = _yuan(sum(b.amount_fen for b in account.bills))
    payments = [Payment(p.paid_date, _yuan(p.amount_fen)) for p in account.payments]
    due = min(b.due_date for b in account.bills)
    return reconcile(account_no, billed, payments, due, as_of)
