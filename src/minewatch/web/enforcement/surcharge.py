"""The surcharge list (差别电价, notice 1283 clause 十三): the region's listed accounts with what
was billed and collected, one account's bills, payments and reconciliation, billing a period,
recording a payment, and the list as a workbook or CSV for the grid company.

An account belongs to the region it is priced by. Money is in fen and energy in Wh in the API,
as stored; the pages show yuan and kWh and take them in forms. The grid company bills (grid
analysts) and so may officials; auditors and inspectors read.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.cases.service import Actor
from minewatch.domain.measures.lists import (
    AccountSummary,
    CollectionFilter,
    account_answering_region,
    local_today,
    surcharge_account_summary,
    surcharge_accounts_within,
)
from minewatch.domain.measures.models import SurchargeAccount, SurchargeBill
from minewatch.domain.measures.service import (
    bill_account,
    reconcile_account,
    record_payment,
)
from minewatch.domain.measures.surcharge import BillingPeriod, CollectionStatus, Reconciliation
from minewatch.web import i18n
from minewatch.web.deps import (
    ERRORS,
    CsrfDep,
    Paged,
    PageDep,
    SessionDep,
    TextRoute,
    in_region,
    paged,
    region_name,
    require,
)
from minewatch.web.enforcement.common import (
    BILLERS,
    LOCAL_TZ,
    VIEWERS,
    choice,
    pager,
    show,
    yuan,
)

router = APIRouter(tags=["surcharge"], route_class=TextRoute)

Reader = Annotated[Actor, Depends(require(VIEWERS))]
Biller = Annotated[Actor, Depends(require(BILLERS))]

COLLECTION_LABELS: dict[str, str] = {
    "": "未出账",
    CollectionStatus.UNPAID.value: "未缴",
    CollectionStatus.PARTIAL.value: "部分缴纳",
    CollectionStatus.PAID.value: "已缴清",
    CollectionStatus.OVERPAID.value: "多缴",
}
"""Where collection stands, as the pages and the export say it (``""``: not billed yet)."""
FILTER_LABELS: dict[CollectionFilter, str] = {
    CollectionFilter.UNBILLED: "未出账",
    CollectionFilter.OUTSTANDING: "有欠收",
    CollectionFilter.PAID: "已缴清",
    CollectionFilter.OVERPAID: "多缴",
}
EXPORT_HEADERS = (
    "电费户号", "案件编号", "区划代码", "地区", "挖矿起始日期", "列入清单日期", "移出清单日期",
    "账单数", "应收加价电费（元）", "已收加价电费（元）", "欠收（元）", "最早缴费期限",
    "逾期天数", "收缴状态", "统计截止日期",
)  # fmt: skip
"""The export's columns, as the grid company's marketing department keeps its list."""

i18n.register(
    {
        "未出账": "Not billed",
        "未缴": "Unpaid",
        "部分缴纳": "Partly paid",
        "已缴清": "Paid",
        "多缴": "Overpaid",
        "有欠收": "Owing",
        "电费户号": "Account no.",
        "挖矿起始日期": "Mining since",
        "列入清单日期": "Listed on",
        "应收": "Billed",
        "已收": "Collected",
        "欠收": "Owed",
        "最早缴费期限": "First due date",
        "收缴状态": "Collection",
        "户号或案件编号": "Account or case no.",
        "导出 CSV": "Export CSV",
        "差别电价加价电费清单": "Differential surcharge list",
        "没有符合条件的户号。": "No accounts match.",
        "账单": "Bills",
        "缴费记录": "Payments",
        "对账": "Reconciliation",
        "对账日期": "As of",
        "计费周期": "Billing period",
        "抄见电量（千瓦时）": "Metered (kWh)",
        "加价电量（千瓦时）": "Surcharged (kWh)",
        "加价电费（元）": "Surcharge (yuan)",
        "缴费期限": "Due date",
        "出账时间": "Billed at",
        "计价明细": "Rates applied",
        "缴费日期": "Paid on",
        "金额（元）": "Amount (yuan)",
        "凭证号": "Reference",
        "登记时间": "Recorded at",
        "应收合计（元）": "Billed in all (yuan)",
        "已收合计（元）": "Collected (yuan)",
        "欠收（元）": "Outstanding (yuan)",
        "多缴（元）": "Overpaid (yuan)",
        "缴清日期": "Settled on",
        "尚未出账。": "Not billed yet.",
        "尚无缴费。": "No payments yet.",
        "出账": "Bill a period",
        "周期起": "Period from",
        "周期止": "Period to",
        "登记缴费": "Record a payment",
        "提交": "Submit",
        "区划代码": "Region code",
        "列入时间": "Listed at",
        "移出清单": "Delisted",
    }
)


class AccountOut(BaseModel):
    """An account on the surcharge list with its totals (money in fen)."""

    account_no: str
    case_no: str
    region_code: str
    mining_start_date: date
    listed_at: datetime
    delisted_at: datetime | None
    bill_count: int
    billed_fen: int
    paid_fen: int = Field(description="Payments dated on or before as_of")
    balance_fen: int = Field(description="Billed minus paid: positive owed, negative overpaid")
    first_due_date: date | None
    days_overdue: int
    collection: CollectionStatus | None = Field(description="None until the first bill")
    as_of: date


class SegmentOut(BaseModel):
    """The days of a period surcharged at one rate."""

    start_date: date
    end_date: date
    days: int
    energy_kwh: str
    rate_yuan_per_kwh: str
    rate_region_code: str
    rate_source: str


class BillOut(BaseModel):
    """The surcharge of one billing period (energy in Wh, money in fen)."""

    period_start: date
    period_end: date
    metered_wh: int
    surcharged_wh: int
    amount_fen: int
    due_date: date
    billed_at: datetime
    segments: list[SegmentOut]


class PaymentOut(BaseModel):
    paid_date: date
    amount_fen: int
    reference: str | None
    recorded_at: datetime


class ReconciliationOut(BaseModel):
    """Billed against collected as of a day (money in fen)."""

    billed_fen: int
    collected_fen: int
    outstanding_fen: int
    overpaid_fen: int
    due_date: date
    as_of_date: date
    days_overdue: int
    settled_date: date | None
    status: CollectionStatus


class AccountDetailOut(BaseModel):
    account: AccountOut
    bills: list[BillOut]
    payments: list[PaymentOut]
    reconciliation: ReconciliationOut | None = Field(description="None until the first bill")


class PeriodIn(BaseModel):
    period_start: date
    period_end: date = Field(description="Last day of the period (inclusive)")
    metered_wh: int = Field(ge=0, le=10**15, description="Metered energy of the whole account")


class BillIn(BaseModel):
    """Billing periods of the grid company's meter readings; each period is billed once."""

    periods: list[PeriodIn] = Field(min_length=1, max_length=60)
    due_date: date


class PaymentIn(BaseModel):
    paid_date: date
    amount_fen: int = Field(gt=0, le=10**15)
    reference: str | None = Field(default=None, max_length=100)


MAX_PERIOD_DAYS = 366
"""The longest billing period accepted."""


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


# ----------------------------------------------------------------------------------------------
# shaping


def _account_out(summary: AccountSummary) -> AccountOut:
    return AccountOut(
        account_no=summary.account_no, case_no=summary.case_no, region_code=summary.region_code,
        mining_start_date=summary.mining_start_date, listed_at=summary.listed_at,
        delisted_at=summary.delisted_at, bill_count=summary.bill_count,
        billed_fen=summary.billed_fen, paid_fen=summary.paid_fen,
        balance_fen=summary.balance_fen, first_due_date=summary.first_due_date,
        days_overdue=summary.days_overdue, collection=summary.collection, as_of=summary.as_of,
    )  # fmt: skip


def _segments(bill: SurchargeBill) -> list[SegmentOut]:
    return [
        SegmentOut(
            start_date=date.fromisoformat(s["from"]),
            end_date=date.fromisoformat(s["to"]),
            days=int(s["days"]),
            energy_kwh=str(s["kwh"]),
            rate_yuan_per_kwh=str(s["rate_yuan_per_kwh"]),
            rate_region_code=str(s["rate_region"]),
            rate_source=str(s["source"]),
        )
        for s in json.loads(bill.detail_json)
    ]


def _bill_out(bill: SurchargeBill) -> BillOut:
    return BillOut(
        period_start=bill.period_start, period_end=bill.period_end, metered_wh=bill.metered_wh,
        surcharged_wh=bill.surcharged_wh, amount_fen=bill.amount_fen, due_date=bill.due_date,
        billed_at=bill.billed_at, segments=_segments(bill),
    )  # fmt: skip


def _fen(amount_yuan: Decimal) -> int:
    return int(amount_yuan * 100)


def _reconciliation_out(found: Reconciliation) -> ReconciliationOut:
    return ReconciliationOut(
        billed_fen=_fen(found.billed_yuan), collected_fen=_fen(found.collected_yuan),
        outstanding_fen=_fen(found.outstanding_yuan), overpaid_fen=_fen(found.overpaid_yuan),
        due_date=found.due_date, as_of_date=found.as_of_date, days_overdue=found.days_overdue,
        settled_date=found.settled_date, status=found.status,
    )  # fmt: skip


def _account_in_region(session: Session, actor: Actor, account_no: str) -> SurchargeAccount:
    """The listed account, or 404 when there is none or it lies outside the actor's region."""
    account = session.scalar(
        select(SurchargeAccount).where(SurchargeAccount.account_no == account_no)
    )
    if account is None:
        raise HTTPException(404, "not found")
    in_region(actor, account_answering_region(session, account))
    return account


def _detail(session: Session, actor: Actor, account_no: str, as_of: date) -> AccountDetailOut:
    account = _account_in_region(session, actor, account_no)
    summary = surcharge_account_summary(session, account.account_no, as_of)
    return AccountDetailOut(
        account=_account_out(summary),
        bills=[_bill_out(b) for b in account.bills],
        payments=[
            PaymentOut(
                paid_date=p.paid_date,
                amount_fen=p.amount_fen,
                reference=p.reference,
                recorded_at=p.recorded_at,
            )
            for p in account.payments
        ],
        reconciliation=_reconciliation_out(reconcile_account(session, account.account_no, as_of))
        if account.bills
        else None,
    )


def _bill(
    session: Session, actor: Actor, account_no: str, periods: list[BillingPeriod], due: date
) -> list[SurchargeBill]:
    _account_in_region(session, actor, account_no)
    return bill_account(session, account_no, periods, due_date=due, actor=actor.name)


def _period(start: date, end: date, energy_kwh: Decimal) -> BillingPeriod:
    """A billing period as the grid company reads its meters; longer than
    :data:`MAX_PERIOD_DAYS` is refused (a typing error, and each day is priced one by one)."""
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise HTTPException(422, f"billing period {start}–{end}: at most {MAX_PERIOD_DAYS} days")
    try:
        return BillingPeriod(start, end, energy_kwh)
    except (ValueError, TypeError) as error:
        raise HTTPException(422, str(error)) from error


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation as error:
        raise HTTPException(422, f"{what}: {text!r} is not a number") from error
    if not value.is_finite():
        raise HTTPException(422, f"{what}: {text!r} is not a number")
    return value


# ----------------------------------------------------------------------------------------------
# export


def _export_rows(rows: list[AccountSummary]) -> list[list[Any]]:
    return [
        [
            r.account_no,
            r.case_no,
            r.region_code,
            region_name(r.region_code),
            r.mining_start_date.isoformat(),
            r.listed_at.astimezone(LOCAL_TZ).date().isoformat(),
            "" if r.delisted_at is None else r.delisted_at.astimezone(LOCAL_TZ).date().isoformat(),
            r.bill_count,
            yuan(r.billed_fen).replace(",", ""),
            yuan(r.paid_fen).replace(",", ""),
            yuan(max(r.balance_fen, 0)).replace(",", ""),
            "" if r.first_due_date is None else r.first_due_date.isoformat(),
            r.days_overdue,
            COLLECTION_LABELS["" if r.collection is None else r.collection.value],
            r.as_of.isoformat(),
        ]
        for r in rows
    ]


def _export(rows: list[AccountSummary], form: ExportFormat, region: str, as_of: date) -> Response:
    stem = f"surcharge-{region}-{as_of.isoformat()}"
    table = _export_rows(rows)
    if form is ExportFormat.CSV:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADERS)
        writer.writerows(table)
        return Response(
            buffer.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "差别电价清单"
    sheet.append(list(EXPORT_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in table:
        sheet.append([Decimal(v) if index in (8, 9, 10) else v for index, v in enumerate(values)])
    for index, width in enumerate((18, 22, 10, 16, 12, 12, 12, 8, 16, 16, 14, 12, 10, 10, 12)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
    )


def _listing(
    session: Session,
    actor: Actor,
    as_of: date,
    collection: CollectionFilter | None,
    overdue: bool,
    q: str | None,
    limit: int | None,
    offset: int,
) -> tuple[list[AccountSummary], int]:
    return surcharge_accounts_within(
        session, actor.region_code, as_of=as_of, collection=collection, overdue=overdue,
        search=q, limit=limit, offset=offset,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# pages


@router.get("/surcharge", response_class=HTMLResponse, include_in_schema=False)
def surcharge_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    collection: str = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    as_of = local_today()
    chosen = choice(CollectionFilter, collection, "collection")
    rows, total = _listing(session, actor, as_of, chosen, overdue, q, page.limit, page.offset)
    query = request.url.query
    return show(request, "surcharge.html", {
        "rows": rows, "pager": pager(request, page, total), "as_of": as_of,
        "filters": {"collection": collection, "overdue": overdue, "q": q},
        "filter_labels": FILTER_LABELS, "collection_labels": COLLECTION_LABELS,
        "export_query": "&".join(p for p in query.split("&") if p and not p.startswith(
            ("offset=", "limit=", "format="))),
    }, actor)  # fmt: skip


@router.get("/surcharge/export", include_in_schema=False)
def surcharge_export_page(
    session: SessionDep,
    actor: Reader,
    format: ExportFormat = ExportFormat.XLSX,
    collection: str = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    as_of = local_today()
    rows, _ = _listing(session, actor, as_of, choice(CollectionFilter, collection, "collection"),
                       overdue, q, None, 0)  # fmt: skip
    return _export(rows, format, actor.region_code, as_of)


@router.get("/surcharge/{account_no}", response_class=HTMLResponse, include_in_schema=False)
def surcharge_account_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    account_no: str,
    as_of: date | None = None,
) -> HTMLResponse:
    detail = _detail(session, actor, account_no, as_of or local_today())
    return show(request, "surcharge_account.html", {
        "detail": detail, "a": detail.account, "r": detail.reconciliation,
        "collection_labels": COLLECTION_LABELS, "today": local_today(),
    }, actor)  # fmt: skip


@router.post("/surcharge/{account_no}/bills", include_in_schema=False, dependencies=[CsrfDep])
def surcharge_bill_form(
    session: SessionDep,
    actor: Biller,
    account_no: str,
    period_start: Annotated[date, Form()],
    period_end: Annotated[date, Form()],
    metered_kwh: Annotated[str, Form(max_length=30)],
    due_date: Annotated[date, Form()],
) -> RedirectResponse:
    period = _period(period_start, period_end, _decimal(metered_kwh, "metered kWh"))
    _bill(session, actor, account_no, [period], due_date)
    return RedirectResponse(f"/surcharge/{account_no}", status_code=303)


@router.post("/surcharge/{account_no}/payments", include_in_schema=False, dependencies=[CsrfDep])
def surcharge_payment_form(
    session: SessionDep,
    actor: Biller,
    account_no: str,
    paid_date: Annotated[date, Form()],
    amount_yuan: Annotated[str, Form(max_length=30)],
    reference: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    _account_in_region(session, actor, account_no)
    record_payment(session, account_no, paid_date, _decimal(amount_yuan, "amount"),
                   actor=actor.name, reference=reference.strip() or None)  # fmt: skip
    return RedirectResponse(f"/surcharge/{account_no}", status_code=303)


# ----------------------------------------------------------------------------------------------
# API


@router.get(
    "/api/v1/surcharge",
    response_model=Paged[AccountOut],
    responses=ERRORS,
    summary="Surcharged accounts in my region",
    description="Accounts on the differential-surcharge list priced in the caller's region and "
    "below, with billed and collected totals in fen as of today (Beijing), the most owed first.",
)
def api_surcharge(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    collection: Annotated[CollectionFilter | None, Query(description="By collection")] = None,
    overdue: Annotated[bool, Query(description="Owing after the first due date")] = False,
    q: Annotated[str | None, Query(max_length=40, description="Account or case no. prefix")] = None,
) -> Paged[AccountOut]:
    rows, total = _listing(session, actor, local_today(), collection, overdue, q, page.limit,
                           page.offset)  # fmt: skip
    return paged([_account_out(r) for r in rows], total, page)


@router.get(
    "/api/v1/surcharge/export",
    responses={**ERRORS, 200: {"description": "The list as .xlsx or CSV (UTF-8 with BOM)",
                               "content": {"text/csv": {}, "application/vnd.openxmlformats-"
                                           "officedocument.spreadsheetml.sheet": {}}}},
    summary="The surcharge list for the grid company",
    description="Every account of the caller's region matching the filters, with Chinese "
    "headers, as a workbook (format=xlsx) or CSV with a byte-order mark (format=csv).",
)  # fmt: skip
def api_surcharge_export(
    session: SessionDep,
    actor: Reader,
    format: ExportFormat = ExportFormat.XLSX,
    collection: CollectionFilter | None = None,
    overdue: bool = False,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    as_of = local_today()
    rows, _ = _listing(session, actor, as_of, collection, overdue, q, None, 0)
    return _export(rows, format, actor.region_code, as_of)


@router.get(
    "/api/v1/surcharge/{account_no}",
    response_model=AccountDetailOut,
    responses=ERRORS,
    summary="One surcharged account",
    description="The account, its bills (with the rates applied) and payments, and the "
    "reconciliation as of a day (default today, Beijing).",
)
def api_surcharge_account(
    session: SessionDep,
    actor: Reader,
    account_no: str,
    as_of: Annotated[date | None, Query(description="Reconcile as of this day")] = None,
) -> AccountDetailOut:
    return _detail(session, actor, account_no, as_of or local_today())


@router.post(
    "/api/v1/surcharge/{account_no}/bills",
    response_model=list[BillOut],
    status_code=201,
    responses=ERRORS,
    summary="Bill periods of an account",
    description="Bill the surcharge of the given periods (whole account from the day mining "
    "started, pro-rated by day, at the rate in force for its region). A period billed before "
    "is refused (422). Grid analysts and officials; audited with the caller.",
)
def api_bill(session: SessionDep, actor: Biller, account_no: str, body: BillIn) -> list[BillOut]:
    periods = [
        _period(p.period_start, p.period_end, Decimal(p.metered_wh) / 1000) for p in body.periods
    ]
    bills = _bill(session, actor, account_no, periods, body.due_date)
    return [_bill_out(b) for b in bills]


@router.post(
    "/api/v1/surcharge/{account_no}/payments",
    response_model=PaymentOut,
    status_code=201,
    responses=ERRORS,
    summary="Record a payment",
    description="Record a surcharge payment received on the account (in fen). Grid analysts "
    "and officials; audited with the caller.",
)
def api_payment(session: SessionDep, actor: Biller, account_no: str, body: PaymentIn) -> PaymentOut:
    _account_in_region(session, actor, account_no)
    payment = record_payment(
        session, account_no, body.paid_date, Decimal(body.amount_fen) / 100, actor=actor.name,
        reference=(body.reference or "").strip() or None,
    )  # fmt: skip
    return PaymentOut(paid_date=payment.paid_date, amount_fen=payment.amount_fen,
                      reference=payment.reference, recorded_at=payment.recorded_at)  # fmt: skip
