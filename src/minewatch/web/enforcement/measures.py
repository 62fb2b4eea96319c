"""Measures (notice 1283 clauses 十二-十七): the measures ordered on the cases of the actor's
region, and marking one done.

A measure belongs to its case's answering region (the assigned county, else the site's region),
so the list holds the measures of the cases the actor may see. Completing a measure is the case
service's :func:`~minewatch.domain.cases.service.complete_measure`: officials only (the rule of
the ``complete_measures`` transition), and the last open measure moves the case to measures
completed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.cases.models import Case, MeasureKind, MeasureStatus
from minewatch.domain.cases.service import Actor, complete_measure
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.measures.lists import MeasureRow, local_today, measures_within
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
    require,
)
from minewatch.web.enforcement.common import (
    VIEWERS,
    WRITERS,
    back_to,
    choice,
    pager,
    show,
)

router = APIRouter(tags=["measures"], route_class=TextRoute)

Reader = Annotated[Actor, Depends(require(VIEWERS))]
Writer = Annotated[Actor, Depends(require(WRITERS))]

KIND_LABELS: dict[MeasureKind, str] = {
    MeasureKind.POWER_CUT: "停限电",
    MeasureKind.SURCHARGE: "差别电价",
    MeasureKind.MARKET_EXIT: "退出电力市场",
    MeasureKind.FISCAL_STOP: "停止财税支持",
    MeasureKind.FINANCE_STOP: "停止金融服务",
    MeasureKind.CLOSURE: "关停淘汰",
}
"""What each measure is called on the pages (the clause and agency come with the measure)."""
STATUS_LABELS: dict[MeasureStatus, str] = {
    MeasureStatus.ORDERED: "已下达",
    MeasureStatus.COMPLETED: "已落实",
}

i18n.register(
    {
        "停限电": "Power cut",
        "差别电价": "Surcharge",
        "退出电力市场": "Market exit",
        "停止财税支持": "Fiscal support stopped",
        "停止金融服务": "Financial services stopped",
        "关停淘汰": "Closure",
        "已下达": "Ordered",
        "已落实": "Completed",
        "措施": "Measure",
        "条款": "Clause",
        "执行单位": "Agency",
        "下达时间": "Ordered",
        "完成期限": "Due date",
        "完成时间": "Completed",
        "逾期天数": "Days overdue",
        "全部": "All",
        "只看逾期": "Overdue only",
        "标记完成": "Mark done",
        "说明（选填）": "Note (optional)",
        "没有符合条件的措施。": "No measures match.",
        "电网企业": "Grid company",
        "电力交易机构": "Power exchange",
        "财政、税务部门": "Finance and tax departments",
        "金融管理部门": "Financial regulators",
        "地方人民政府": "Local government",
    }
)


class MeasureOut(BaseModel):
    """One measure ordered on a case in the caller's region."""

    case_no: str
    case_status: CaseStatus
    case_version: int = Field(description="Give it back as expected_version to complete safely")
    region_code: str | None = Field(description="The case's answering region")
    kind: MeasureKind
    clause: str = Field(description="Clause of notice 1283, e.g. 十二")
    agency: str
    status: MeasureStatus
    ordered_at: datetime
    due_date: date
    completed_at: datetime | None
    note: str | None
    days_overdue: int = Field(description="Days past due while still ordered, else 0")


class CompleteIn(BaseModel):
    """Which measure of the case is done."""

    kind: MeasureKind
    reason: str | None = Field(default=None, max_length=2000, description="Kept in the audit")
    expected_version: int | None = Field(
        default=None, description="Refuse (409) if the case changed since this version"
    )


class CaseMeasuresOut(BaseModel):
    """The case after the change, with all its measures."""

    case_no: str
    status: CaseStatus
    version: int
    measures: list[MeasureOut]


def _out(row: MeasureRow) -> MeasureOut:
    return MeasureOut(**row.__dict__)


def _case_in_region(session: Session, actor: Actor, case_no: str) -> Case:
    """The case, or 404 when there is none or it lies outside the actor's region."""
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise HTTPException(404, "not found")
    in_region(actor, case.assigned_region_code or case.region_code)
    return case


def _complete(
    session: Session,
    actor: Actor,
    case_no: str,
    kind: MeasureKind,
    reason: str | None,
    expected_version: int | None,
) -> Case:
    _case_in_region(session, actor, case_no)
    return complete_measure(
        session, case_no, kind, actor=actor, reason=(reason or "").strip() or None,
        expected_version=expected_version,
    )  # fmt: skip


@router.get("/measures", response_class=HTMLResponse, include_in_schema=False)
def measures_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    kind: str = "",
    status: str = "",
    overdue: bool = False,
    case_no: str = "",
) -> HTMLResponse:
    today = local_today()
    rows, total = measures_within(
        session, actor.region_code, today=today, kind=choice(MeasureKind, kind, "kind"),
        status=choice(MeasureStatus, status, "status"), overdue=overdue,
        case_no=case_no or None, limit=page.limit, offset=page.offset,
    )  # fmt: skip
    return show(request, "measures.html", {
        "rows": rows, "pager": pager(request, page, total), "today": today,
        "kinds": KIND_LABELS, "statuses": STATUS_LABELS,
        "filters": {"kind": kind, "status": status, "overdue": overdue, "case_no": case_no},
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }, actor)  # fmt: skip


@router.post("/measures/{case_no}/complete", include_in_schema=False, dependencies=[CsrfDep])
def measures_complete(
    session: SessionDep,
    actor: Writer,
    case_no: str,
    kind: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    back: Annotated[str, Form(max_length=2000)] = "/measures",
) -> RedirectResponse:
    measure = choice(MeasureKind, kind, "kind")
    if measure is None:
        raise HTTPException(422, "kind: say which measure is done")
    _complete(session, actor, case_no, measure, reason, expected_version)
    return back_to(back, "/measures")


@router.get(
    "/api/v1/measures",
    response_model=Paged[MeasureOut],
    responses=ERRORS,
    summary="Measures in my region",
    description="The measures ordered on the cases of the caller's region and below, by due "
    "date; filter by kind, status, overdue (still ordered and past due) or case.",
)
def api_measures(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    kind: Annotated[MeasureKind | None, Query(description="Only this measure")] = None,
    status: Annotated[MeasureStatus | None, Query(description="ordered or completed")] = None,
    overdue: Annotated[bool, Query(description="Only those past due and not done")] = False,
    case_no: Annotated[str | None, Query(max_length=40, description="Only this case")] = None,
) -> Paged[MeasureOut]:
    rows, total = measures_within(
        session, actor.region_code, today=local_today(), kind=kind, status=status,
        overdue=overdue, case_no=case_no, limit=page.limit, offset=page.offset,
    )  # fmt: skip
    return paged([_out(row) for row in rows], total, page)


@router.post(
    "/api/v1/measures/{case_no}/complete",
    response_model=CaseMeasuresOut,
    responses=ERRORS,
    summary="Mark a measure done",
    description="Mark one ordered measure of a case done (officials of the case's region); "
    "with the last one the case reaches measures completed. Audited with the caller.",
)
def api_complete(
    session: SessionDep, actor: Writer, case_no: str, body: CompleteIn
) -> CaseMeasuresOut:
    case = _complete(session, actor, case_no, body.kind, body.reason, body.expected_version)
    rows, _ = measures_within(session, actor.region_code, today=local_today(), case_no=case_no)
    return CaseMeasuresOut(case_no=case.case_no, status=case.status, version=case.version,
                           measures=[_out(row) for row in rows])  # fmt: skip
