"""The lists an official works from: the measures of the cases in a region, and the region's
accounts on the surcharge list with what was billed and collected.

Both are filtered and paged in SQL (:func:`minewatch.domain.scope.within` and friends), so a
county sees its own rows and a province its counties' without any row of another region being
read. A measure belongs to its case's answering region (the assigned county, else the site's
region), as the case does; a surcharged account to the region it is priced by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from minewatch.domain.cases.models import Case, Measure, MeasureKind, MeasureStatus
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.db import utcnow
from minewatch.domain.measures.models import SurchargeAccount, SurchargeBill, SurchargePayment
from minewatch.domain.measures.surcharge import CollectionStatus
from minewatch.domain.scope import answering_within
from minewatch.reference import regions

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai (due dates are local dates)."""
    return (utcnow() if now is None else now).astimezone(LOCAL_TZ).date()


# ----------------------------------------------------------------------------------------------
# measures


@dataclass(frozen=True)
class MeasureRow:
    """One measure ordered on a case, with the case's stage and region."""

    case_no: str
    case_status: CaseStatus
    case_version: int
    region_code: str | None
    """The case's answering region: the assigned county, else the site's region."""
    kind: MeasureKind
    clause: str
    agency: str
    status: MeasureStatus
    ordered_at: datetime
    due_date: date
    completed_at: datetime | None
    note: str | None
    days_overdue: int
    """Days past the due date of a measure still ordered (0 when done or not yet due)."""


def measures_within(
    session: Session,
    region_code: str,
    *,
    today: date,
    kind: MeasureKind | None = None,
    status: MeasureStatus | None = None,
    overdue: bool = False,
    case_no: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[MeasureRow], int]:
    """The measures of the cases answering to ``region_code`` and below, and how many there are.

    ``overdue`` keeps the measures still ordered whose due date is before ``today``. Ordered by
    due date, then case number and the order in which the measures were given.
    """
    conditions: list[ColumnElement[bool]] = [
        answering_within(Case.assigned_region_code, Case.region_code, region_code)
    ]
    if kind is not None:
        conditions.append(Measure.kind == kind)
    if status is not None:
        conditions.append(Measure.status == status)
    if overdue:
        conditions.append(Measure.status == MeasureStatus.ORDERED)
        conditions.append(Measure.due_date < today)
    if case_no:
        conditions.append(Case.case_no == case_no.strip())
    where = and_(*conditions)
    total = session.scalar(
        select(func.count())
        .select_from(Measure)
        .join(Case, Measure.case_id == Case.id)
        .where(where)
    )
    query = (
        select(
            Case.case_no,
            Case.status,
            Case.version,
            Case.assigned_region_code,
            Case.region_code,
            Measure.kind,
            Measure.clause,
            Measure.agency,
            Measure.status,
            Measure.ordered_at,
            Measure.due_date,
            Measure.completed_at,
            Measure.note,
        )
        .join(Case, Measure.case_id == Case.id)
        .where(where)
        .order_by(Measure.due_date, Case.case_no, Measure.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        MeasureRow(
            case_no=row[0],
            case_status=row[1],
            case_version=row[2],
            region_code=row[3] or row[4],
            kind=row[5],
            clause=row[6],
            agency=row[7],
            status=row[8],
            ordered_at=row[9],
            due_date=row[10],
            completed_at=row[11],
            note=row[12],
            days_overdue=(today - row[10]).days
            if row[8] == MeasureStatus.ORDERED and row[10] < today
            else 0,
        )
        for row in session.execute(query)
    ]
    return rows, int(total or 0)


# ----------------------------------------------------------------------------------------------
# the surcharge list


class CollectionFilter(StrEnum):
    """Which surcharged accounts to list, by what was billed and collected."""

    UNBILLED = "unbilled"
    """Listed, no bill yet."""
    OUTSTANDING = "outstanding"
    """Billed more than was collected."""
    PAID = "paid"
    """Billed and collected in full, no more."""
    OVERPAID = "overpaid"
    """Collected more than was billed."""


@dataclass(frozen=True)
class AccountSummary:
    """An account on the surcharge list with its bills and payments added up (as of a day)."""

    account_no: str
    case_no: str
    region_code: str
    mining_start_date: date
    listed_at: datetime
    delisted_at: datetime | None
    bill_count: int
    billed_fen: int
    paid_fen: int
    """Payments dated on or before ``as_of``."""
    first_due_date: date | None
    """The earliest due date of its bills (overdue counts from it, as in reconciliation)."""
    as_of: date

    @property
    def balance_fen(self) -> int:
        """Billed minus collected: positive is owed, negative overpaid."""
        return self.billed_fen - self.paid_fen

    @property
    def collection(self) -> CollectionStatus | None:
        """Where collection stands (``None`` before the first bill)."""
        if self.bill_count == 0:
            return None
        if self.paid_fen > self.billed_fen:
            return CollectionStatus.OVERPAID
        if self.paid_fen == self.billed_fen:
            return CollectionStatus.PAID
        return CollectionStatus.UNPAID if self.paid_fen == 0 else CollectionStatus.PARTIAL

    @property
    def days_overdue(self) -> int:
        """Days past the first due date while anything is owed (0 otherwise)."""
        if self.balance_fen <= 0 or self.first_due_date is None:
            return 0
        return max((self.as_of - self.first_due_date).days, 0)


def _account_query(
    region_code: str,
    as_of: date,
    *,
    collection: CollectionFilter | None,
    overdue: bool,
    listed_only: bool,
    search: str | None,
) -> tuple[Select[tuple[object, ...]], ColumnElement[bool]]:
    billed = (
        select(
            SurchargeBill.account_id.label("account_id"),
            func.count().label("bills"),
            func.sum(SurchargeBill.amount_fen).label("billed"),
            func.min(SurchargeBill.due_date).label("due"),
        )
        .group_by(SurchargeBill.account_id)
        .subquery()
    )
    paid = (
        select(
            SurchargePayment.account_id.label("account_id"),
            func.sum(SurchargePayment.amount_fen).label("paid"),
        )
        .where(SurchargePayment.paid_date <= as_of)
        .group_by(SurchargePayment.account_id)
        .subquery()
    )
    billed_fen = func.coalesce(billed.c.billed, 0)
    paid_fen = func.coalesce(paid.c.paid, 0)
    # An account is seen by the region answering for its case (the county it was handed to, else
    # the site's); its own region_code is the site's, which prices the surcharge.
    conditions: list[ColumnElement[bool]] = [
        answering_within(Case.assigned_region_code, Case.region_code, region_code)
    ]
    if listed_only:
        conditions.append(SurchargeAccount.delisted_at.is_(None))
    if search and search.strip():
        text = search.strip()
        conditions.append(
            (SurchargeAccount.account_no.startswith(text, autoescape=True))
            | (SurchargeAccount.case_no.startswith(text, autoescape=True))
        )
    if collection is CollectionFilter.UNBILLED:
        conditions.append(billed.c.bills.is_(None))
    elif collection is CollectionFilter.OUTSTANDING:
        conditions.append(billed_fen > paid_fen)
    elif collection is CollectionFilter.PAID:
        conditions.append(and_(billed.c.bills.is_not(None), billed_fen == paid_fen))
    elif collection is CollectionFilter.OVERPAID:
        conditions.append(paid_fen > billed_fen)
    if overdue:
        conditions.append(billed_fen > paid_fen)
        conditions.append(billed.c.due < as_of)
    query = (
        select(
            SurchargeAccount.account_no,
            SurchargeAccount.case_no,
            SurchargeAccount.region_code,
            SurchargeAccount.mining_start_date,
            SurchargeAccount.listed_at,
            SurchargeAccount.delisted_at,
            func.coalesce(billed.c.bills, 0),
            billed_fen,
            paid_fen,
            billed.c.due,
        )
        .join(Case, Case.case_no == SurchargeAccount.case_no)
        .outerjoin(billed, billed.c.account_id == SurchargeAccount.id)
        .outerjoin(paid, paid.c.account_id == SurchargeAccount.id)
    )
    return query, and_(*conditions)


def account_answering_region(session: Session, account: SurchargeAccount) -> str | None:
    """The region answering for an account: its case's assigned county, else the case's site."""
    row = session.execute(
        select(Case.assigned_region_code, Case.region_code).where(Case.case_no == account.case_no)
    ).first()
    if row is None:
        return account.region_code
    return row[0] or row[1]


def surcharge_accounts_within(
    session: Session,
    region_code: str,
    *,
    as_of: date,
    collection: CollectionFilter | None = None,
    overdue: bool = False,
    listed_only: bool = False,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[AccountSummary], int]:
    """The surcharged accounts whose cases answer to ``region_code`` and below (the handling
    county, else the site's), with their totals as of ``as_of``, and how many there are; the
    most owed first.

    ``search`` keeps accounts whose number or case number starts with it; ``overdue`` those
    still owing after their first due date; ``listed_only`` those not delisted.
    """
    query, where = _account_query(
        region_code, as_of, collection=collection, overdue=overdue, listed_only=listed_only,
        search=search,
    )  # fmt: skip
    total = session.scalar(select(func.count()).select_from(query.where(where).subquery()))
    balance = query.selected_columns[7] - query.selected_columns[8]
    ordered = query.where(where).order_by(balance.desc(), SurchargeAccount.account_no)
    ordered = ordered.offset(offset)
    if limit is not None:
        ordered = ordered.limit(limit)
    rows = [_summary(row, as_of) for row in session.execute(ordered)]
    return rows, int(total or 0)


def surcharge_account_summary(session: Session, account_no: str, as_of: date) -> AccountSummary:
    """One account's totals as :func:`surcharge_accounts_within` gives them (no region filter:
    the caller checks the account's region)."""
    query, _ = _account_query(
        regions.NATIONAL, as_of, collection=None, overdue=False, listed_only=False, search=None
    )
    return _summary(session.execute(query.where(SurchargeAccount.account_no == account_no)).one(),
                    as_of)  # fmt: skip


def _summary(row: Sequence[Any], as_of: date) -> AccountSummary:
    """Sums come back as Decimal from PostgreSQL and int from SQLite: both are whole fen."""
    return AccountSummary(
        account_no=str(row[0]), case_no=str(row[1]), region_code=str(row[2]),
        mining_start_date=cast(date, row[3]), listed_at=cast(datetime, row[4]),
        delisted_at=cast("datetime | None", row[5]), bill_count=_int(row[6]),
        billed_fen=_int(row[7]), paid_fen=_int(row[8]),
        first_due_date=cast("date | None", row[9]), as_of=as_of,
    )  # fmt: skip


def _int(value: object) -> int:
    return int(cast("int | Decimal", value))
