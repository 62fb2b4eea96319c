"""Weekly bulletins (周报/通报, notice 1283 （二十）): the list of weeks, a week's bulletin of the
caller's region (or of a region within it), and its workbook and PDF.

Pages: ``/bulletins``, ``/bulletins/{week}``, ``/bulletins/{week}.xlsx``, ``/bulletins/{week}.pdf``;
API: ``GET /api/v1/bulletins`` (the weeks), ``GET /api/v1/bulletins/{week}`` (the figures). Each
takes ``region_code`` (default: the caller's region; outside it, 404). The figures are those of
:func:`minewatch.domain.bulletins.figures.bulletin_for_week`, computed once per region, week and
position of the audit chain (:mod:`minewatch.web.memo`) for the page and both downloads.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.bulletins.calendar import bulletin_weeks
from minewatch.domain.bulletins.figures import (
    STAGE_LABELS,
    Bulletin,
    Flow,
    RegionFigures,
    bulletin_for_week,
)
from minewatch.domain.bulletins.pdf import write_bulletin_pdf
from minewatch.domain.bulletins.xlsx import bulletin_title, period_text, write_bulletin_xlsx
from minewatch.domain.cases.models import MeasureKind
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.dashboard.figures import chain_position
from minewatch.domain.db import utcnow
from minewatch.domain.ledger.weekly import Week
from minewatch.reference import regions
from minewatch.web import i18n
from minewatch.web.deps import (
    ERRORS,
    PAGE_ERRORS,
    READERS,
    Paged,
    PageDep,
    SessionDep,
    TextRoute,
    paged,
    render,
    require,
)
from minewatch.web.memo import memo_of
from minewatch.web.routers.dashboard import EARLIEST_WEEK, RegionQuery, chosen_region, full_name

router = APIRouter(tags=["bulletins"], route_class=TextRoute)

ReaderDep = Annotated[Actor, Depends(require(READERS))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

i18n.register(
    {
        "工作周报": "Weekly bulletins",
        "统计周": "Week",
        "起止日期": "Dates",
        "下载": "Download",
        "本周（未结束）": "this week (not over)",
        "查看": "View",
        "下级地区": "Regions below",
        "上级地区": "Region above",
        "本周": "This week",
        "累计": "To date",
        "本周新增线索": "New leads this week",
        "本周新立案": "Cases opened this week",
        "本周认定": "Confirmed this week",
        "本周排除": "Dismissed this week",
        "本周整治到位": "Cleared this week",
        "本周复查反弹": "Relapsed on re-check this week",
        "累计整治到位": "Cleared to date",
        "周末在办案件": "Open cases at week's end",
        "周末逾期案件": "Overdue cases at week's end",
        "周末逾期举报": "Overdue public reports at week's end",
        "台账在运在建项目": "Live ledger projects",
        "在运在建额定功率(kW)": "Rated power of live projects (kW)",
        "本周退出项目": "Projects exited this week",
        "本周压减用电(kWh)": "Electricity cut this week (kWh)",
        "时间表完成率": "Exit timetable progress",
        "案件环节分布（周末）": "Cases by stage at week's end",
        "逾期案件清单": "Overdue cases",
        "本周末无逾期案件。": "No case overdue at the week's end.",
        "累计整治到位案件数（按周）": "Cases cleared to date, by week",
        "所处环节": "Stage",
        "办理时限": "Deadline",
        "逾期天数": "Days overdue",
        "案件编号": "Case no.",
        "地区": "Region",
        "数量": "Count",
        "统计周期": "Period",
        "生成时间": "Generated",
        "选择地区": "Choose a region",
        "暂无周报": "No bulletins yet",
    }
)

# The summary columns the page shows (the workbook and the PDF carry them all).
PAGE_COLUMNS: tuple[tuple[str, Callable[[RegionFigures], int | float | str]], ...] = (
    ("本周新增线索", lambda r: r.week.leads),
    ("本周新立案", lambda r: r.week.opened),
    ("本周认定", lambda r: r.week.confirmed),
    ("本周排除", lambda r: r.week.dismissed),
    ("本周整治到位", lambda r: r.week.cleared),
    ("本周复查反弹", lambda r: r.week.relapsed),
    ("累计整治到位", lambda r: r.cumulative.cleared),
    ("周末在办案件", lambda r: r.open_cases),
    ("周末逾期案件", lambda r: r.overdue_cases),
    ("周末逾期举报", lambda r: r.reports_overdue),
    ("台账在运在建项目", lambda r: r.ledger_active),
    ("在运在建额定功率(kW)", lambda r: f"{r.ledger_power_kw:,.1f}"),
    ("本周退出项目", lambda r: r.ledger_exited_week),
    ("本周压减用电(kWh)", lambda r: f"{r.week.energy_cut_kwh:,.0f}"),
    ("时间表完成率", lambda r: "—" if r.exit_progress is None else f"{r.exit_progress:.0%}"),
)


# ----------------------------------------------------------------------------------------------
# response models


class BulletinWeek(BaseModel):
    """A week with a bulletin."""

    week: str = Field(description="ISO week, e.g. 2021-W40")
    monday: date
    sunday: date
    complete: bool = Field(description="Whether the week is over")
    page_url: str
    xlsx_url: str
    pdf_url: str


class FlowOut(BaseModel):
    """What happened in a period (see :class:`minewatch.domain.bulletins.figures.Flow`)."""

    leads: int
    opened: int
    checked: int
    confirmed: int
    dismissed: int
    cleared: int
    rechecked: int
    relapsed: int
    measures_ordered: dict[MeasureKind, int]
    measures_completed: dict[MeasureKind, int]
    reports_received: int
    reports_closed: int
    energy_cut_kwh: float


class RegionFiguresOut(BaseModel):
    """One region's line (see :class:`minewatch.domain.bulletins.figures.RegionFigures`)."""

    region_code: str
    name: str
    week: FlowOut
    cumulative: FlowOut
    by_stage: dict[CaseStatus, int]
    open_cases: int
    overdue_cases: int
    reports_overdue: int
    ledger_active: int
    ledger_total: int
    ledger_power_kw: float
    ledger_exited_week: int
    ledger_exited_power_kw: float
    exit_due: int
    exit_due_done: int
    exit_progress: float | None


class BulletinOverdue(BaseModel):
    case_no: str
    region_code: str | None
    region_name: str
    status: CaseStatus
    due_at: datetime
    days_overdue: int


class ClearedToDate(BaseModel):
    week: str
    cleared: int


class BulletinOut(BaseModel):
    """A region's bulletin for one ISO week: the region, then each region below it."""

    week: str
    region_code: str
    region_name: str
    title: str
    start_at: datetime
    end_at: datetime = Field(description="The week's end, or the generation time if earlier")
    generated_at: datetime
    total: RegionFiguresOut
    children: list[RegionFiguresOut]
    overdue: list[BulletinOverdue]
    cleared_by_week: list[ClearedToDate]
    xlsx_url: str
    pdf_url: str


def _flow(flow: Flow) -> FlowOut:
    return FlowOut(
        leads=flow.leads, opened=flow.opened, checked=flow.checked, confirmed=flow.confirmed,
        dismissed=flow.dismissed, cleared=flow.cleared, rechecked=flow.rechecked,
        relapsed=flow.relapsed, measures_ordered=dict(flow.measures_ordered),
        measures_completed=dict(flow.measures_completed), reports_received=flow.reports_received,
        reports_closed=flow.reports_closed, energy_cut_kwh=round(flow.energy_cut_kwh, 1),
    )  # fmt: skip


def _figures_out(r: RegionFigures) -> RegionFiguresOut:
    return RegionFiguresOut(
        region_code=r.region_code, name=r.name, week=_flow(r.week), cumulative=_flow(r.cumulative),
        by_stage=dict(r.by_stage), open_cases=r.open_cases, overdue_cases=r.overdue_cases,
        reports_overdue=r.reports_overdue, ledger_active=r.ledger_active,
        ledger_total=r.ledger_total, ledger_power_kw=round(r.ledger_power_kw, 1),
        ledger_exited_week=r.ledger_exited_week,
        ledger_exited_power_kw=round(r.ledger_exited_power_kw, 1), exit_due=r.exit_due,
        exit_due_done=r.exit_due_done, exit_progress=r.exit_progress,
    )  # fmt: skip


def _query(region_code: str, actor: Actor) -> str:
    return "" if region_code == actor.region_code else f"?region_code={region_code}"


def bulletin_out(bulletin: Bulletin, query: str) -> BulletinOut:
    week = str(bulletin.week)
    cleared_by = bulletin.cleared_by_week
    return BulletinOut(
        week=week,
        region_code=bulletin.region_code,
        region_name=bulletin.region_name,
        title=bulletin_title(bulletin),
        start_at=bulletin.start_at,
        end_at=bulletin.end_at,
        generated_at=bulletin.generated_at,
        total=_figures_out(bulletin.total),
        children=[_figures_out(child) for child in bulletin.children],
        overdue=[
            BulletinOverdue(
                case_no=r.case_no,
                region_code=r.region_code,
                region_name=r.region_name,
                status=r.status,
                due_at=r.due_at,
                days_overdue=r.days_overdue,
            )
            for r in bulletin.overdue
        ],
        cleared_by_week=[ClearedToDate(week=str(w), cleared=n) for w, n in cleared_by],
        xlsx_url=f"/bulletins/{week}.xlsx{query}",
        pdf_url=f"/bulletins/{week}.pdf{query}",
    )


# ----------------------------------------------------------------------------------------------
# reading them


def _week(text: str) -> Week:
    """The week of the path; 422 if it is not one, 404 if it has not begun or is from before
    2000."""
    try:
        week = Week.parse(text)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    if week > Week.containing(utcnow()):
        raise HTTPException(404, f"no bulletin for {week} yet")
    if week < EARLIEST_WEEK:
        raise HTTPException(404, f"no bulletin for {week}")
    return week


def bulletin_of(request: Request, session: Session, week: Week, region_code: str) -> Bulletin:
    """The region's bulletin (kept until the audit chain moves on, or for a minute)."""
    key = ("bulletin", region_code, str(week), chain_position(session))
    return memo_of(request).get(key, lambda: bulletin_for_week(session, week, region_code))


def _weeks(session: Session, region_code: str, actor: Actor) -> list[BulletinWeek]:
    current = Week.containing(utcnow())
    query = _query(region_code, actor)
    return [
        BulletinWeek(
            week=str(w), monday=w.monday, sunday=w.sunday, complete=w < current,
            page_url=f"/bulletins/{w}{query}", xlsx_url=f"/bulletins/{w}.xlsx{query}",
            pdf_url=f"/bulletins/{w}.pdf{query}",
        )
        for w in bulletin_weeks(session, region_code)
    ]  # fmt: skip


def _download(content: bytes, media_type: str, filename: str, ascii_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def _written(write: Callable[[Bulletin, Path], None], bulletin: Bulletin, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="minewatch-bulletin-") as folder:
        path = Path(folder) / f"bulletin{suffix}"
        write(bulletin, path)
        return path.read_bytes()


def _file_names(bulletin: Bulletin, suffix: str) -> tuple[str, str]:
    week = bulletin.week
    chinese = f"{bulletin.region_name}挖矿整治周报-{week.year}年第{week.week}周{suffix}"
    return chinese, f"bulletin-{bulletin.region_code}-{week}{suffix}"


# ----------------------------------------------------------------------------------------------
# API


@router.get(
    "/api/v1/bulletins",
    response_model=Paged[BulletinWeek],
    summary="Weeks with a bulletin",
    description="ISO weeks from the region's first case, project or public report to this "
    "week, newest first, with the links of each week's page, workbook and PDF.",
    responses=ERRORS,
)
def api_bulletin_weeks(
    session: SessionDep, actor: ReaderDep, page: PageDep, region_code: RegionQuery = None
) -> Paged[BulletinWeek]:
    weeks = _weeks(session, chosen_region(actor, region_code), actor)
    return paged(weeks[page.offset : page.offset + page.limit], len(weeks), page)


@router.get(
    "/api/v1/bulletins/{week}",
    response_model=BulletinOut,
    summary="A week's bulletin of a region",
    description="The figures of the week and to its end for the region and each region below "
    "it, the overdue cases at the week's end and the cleared count week by week "
    "(notice 1283 （二十）). ``week`` is an ISO week like 2021-W40.",
    responses=ERRORS,
)
def api_bulletin(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    week: str,
    region_code: RegionQuery = None,
) -> BulletinOut:
    code = chosen_region(actor, region_code)
    chosen = _week(week)
    return bulletin_out(bulletin_of(request, session, chosen, code), _query(code, actor))


# ----------------------------------------------------------------------------------------------
# pages and downloads


@router.get("/bulletins", response_class=HTMLResponse, summary="Weekly bulletins",
            responses=PAGE_ERRORS)  # fmt: skip
def bulletins_page(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    page: PageDep,
    region_code: RegionQuery = None,
) -> HTMLResponse:
    code = chosen_region(actor, region_code)
    weeks = _weeks(session, code, actor)
    return render(
        request,
        "bulletins.html",
        {
            "region_code": code,
            "region_name": full_name(code),
            "page": paged(weeks[page.offset : page.offset + page.limit], len(weeks), page),
            "query": f"&region_code={code}" if code != actor.region_code else "",
        },
        actor=actor,
    )


@router.get("/bulletins/{week}.xlsx", summary="A week's bulletin as a workbook",
            responses={200: {"content": {XLSX: {}}}, **PAGE_ERRORS})  # fmt: skip
def bulletin_xlsx(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    week: str,
    region_code: RegionQuery = None,
) -> Response:
    bulletin = bulletin_of(request, session, _week(week), chosen_region(actor, region_code))
    return _download(
        _written(write_bulletin_xlsx, bulletin, ".xlsx"), XLSX, *_file_names(bulletin, ".xlsx")
    )


@router.get("/bulletins/{week}.pdf", summary="A week's bulletin as PDF",
            responses={200: {"content": {"application/pdf": {}}}, **PAGE_ERRORS})  # fmt: skip
def bulletin_pdf(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    week: str,
    region_code: RegionQuery = None,
) -> Response:
    bulletin = bulletin_of(request, session, _week(week), chosen_region(actor, region_code))
    return _download(
        _written(write_bulletin_pdf, bulletin, ".pdf"),
        "application/pdf",
        *_file_names(bulletin, ".pdf"),
    )


def _parent_within(actor: Actor, code: str) -> str | None:
    """The nearest region above ``code`` that the actor may open (groupings skipped)."""
    if code == regions.NATIONAL:
        return None
    region = regions.get(code)
    while region.parent_code is not None:
        parent = regions.get(region.parent_code)
        if not parent.is_grouping:
            return parent.code if actor.covers(parent.code) else None
        region = parent
    return regions.NATIONAL if actor.covers(regions.NATIONAL) else None


@router.get("/bulletins/{week}", response_class=HTMLResponse, summary="A week's bulletin",
            responses=PAGE_ERRORS)  # fmt: skip
def bulletin_page(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    week: str,
    region_code: RegionQuery = None,
) -> HTMLResponse:
    code = chosen_region(actor, region_code)
    bulletin = bulletin_of(request, session, _week(week), code)
    out = bulletin_out(bulletin, _query(code, actor))
    parent = _parent_within(actor, code)
    return render(
        request,
        "bulletin.html",
        {
            "b": out,
            "title": out.title,
            "period": period_text(bulletin),
            "rows": [(r, [value(r) for _, value in PAGE_COLUMNS]) for r in bulletin.rows],
            "headers": [header for header, _ in PAGE_COLUMNS],
            "stage_labels": {s.value: STAGE_LABELS[s] for s in CaseStatus},
            "parent": None if parent is None else (parent, full_name(parent)),
            "cleared_series": json.dumps(
                {
                    "weeks": [c.week for c in out.cleared_by_week],
                    "cleared": [c.cleared for c in out.cleared_by_week],
                }
            ),
        },
        actor=actor,
    )
