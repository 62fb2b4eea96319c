"""The dashboard: what stands open, found and removed in a region, where, and week by week.

``/dashboard`` renders the figures, the areas and the overdue lists on the server (it works
without JavaScript); the map and the trend charts are drawn by ``static/dashboard.js`` from the
JSON API:

- ``GET /api/v1/dashboard/summary`` — cases by stage, mining power found and removed, ledger
  projects by status, overdue cases and public reports;
- ``GET /api/v1/dashboard/map?metric=open_cases|mining_kw`` — the value of each area of the
  region's map (nation → provinces, province → prefectures; a prefecture or county shows its
  counties and the sites of its open cases on its prefecture's outline);
- ``GET /api/v1/dashboard/trend?weeks=26`` — cases opened, confirmed, cleared and mining power
  removed per ISO week.

Each takes ``region_code`` (default: the caller's region); a region outside the caller's is not
found (404). The figures are defined in :mod:`minewatch.domain.dashboard.figures`; they are kept
in the app's memo (:mod:`minewatch.web.memo`) until the audit chain moves on.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.bulletins.figures import STAGE_LABELS
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.dashboard import figures as dash
from minewatch.domain.db import utcnow
from minewatch.domain.ledger.weekly import Week
from minewatch.reference import regions
from minewatch.reference.ledger import ProjectStatus, label
from minewatch.settings import Locale
from minewatch.web import i18n
from minewatch.web.app import TEMPLATES
from minewatch.web.deps import ERRORS, PAGE_ERRORS, READERS, SessionDep, TextRoute, render, require
from minewatch.web.memo import memo_of

router = APIRouter(tags=["dashboard"], route_class=TextRoute)
M = TypeVar("M", bound=BaseModel)

ReaderDep = Annotated[Actor, Depends(require(READERS))]
RegionQuery = Annotated[
    str | None,
    Query(
        pattern=r"^\d{6}$",
        description="GB/T 2260 code of a region within the caller's (default: the caller's "
        "region; 000000 is the nation)",
    ),
]
CHART_LABELS = {
    "open_cases": "在办案件", "mining_kw": "挖矿功率", "kw": "千瓦", "new_cases": "新立案",
    "confirmed": "认定", "cleared": "整治到位", "removed_kw": "清除挖矿功率", "sites": "案件点位",
}  # fmt: skip
"""The words the charts draw (handed to ``dashboard.js`` in the page's language)."""
OVERDUE_ROWS = 20
POINTS = 2000
_MAPS = Path(str(resources.files("minewatch.web"))) / "static" / "maps"

_STAGE_ENGLISH = {
    CaseStatus.OPEN: "To assign",
    CaseStatus.ASSIGNED: "To check",
    CaseStatus.CHECKED: "To decide",
    CaseStatus.CONFIRMED: "Confirmed",
    CaseStatus.DISMISSED: "Dismissed",
    CaseStatus.MEASURES_ORDERED: "Measures ordered",
    CaseStatus.MEASURES_COMPLETED: "Measures completed",
    CaseStatus.CLEARED: "Cleared",
    CaseStatus.RECHECKED: "Re-checked",
}
"""English for the stage names of the bulletins (:data:`STAGE_LABELS`)."""

i18n.register(
    {
        "整治工作总览": "Crackdown overview",
        "在办案件": "Open cases",
        "已认定": "Confirmed",
        "已整治到位": "Cleared",
        "逾期案件": "Overdue cases",
        "逾期举报": "Overdue public reports",
        "查实挖矿功率（千瓦）": "Mining power found (kW)",
        "已清除挖矿功率（千瓦）": "Mining power removed (kW)",
        "在办案件挖矿功率（千瓦）": "Mining power of open cases (kW)",
        "额定功率（千瓦）": "Rated power (kW)",
        "挖矿功率（千瓦）": "Mining power (kW)",
        "台账项目": "Ledger projects",
        "在运在建额定功率": "Rated power, live projects",
        "千瓦": "kW",
        "合计": "Total",
        "项目状态": "Project status",
        "数量": "Count",
        "分布": "Where",
        "按在办案件": "By open cases",
        "按挖矿功率": "By mining power",
        "各地情况": "By area",
        "各区县": "By county",
        "周趋势": "Weekly trend",
        "近26周": "last 26 weeks",
        "新立案": "New cases",
        "认定": "Confirmed",
        "整治到位": "Cleared",
        "清除挖矿功率": "Mining power removed",
        "周": "Week",
        "办理时限": "Deadline",
        "逾期天数": "Days overdue",
        "回执码": "Receipt code",
        "收到时间": "Received",
        "无逾期案件": "No overdue cases",
        "无逾期举报": "No overdue public reports",
        "仅列出最早逾期的": "Only the longest overdue are listed:",
        "地图和趋势图需要启用 JavaScript。": "The map and the trend charts need JavaScript.",
        "案件点位": "Case sites",
        "本级": "This region",
        "挖矿功率": "Mining power",
        "统计时间": "As of",
        **{STAGE_LABELS[s]: english for s, english in _STAGE_ENGLISH.items()},
        **{label(s): label(s, Locale.EN) for s in ProjectStatus},
    }
)


# ----------------------------------------------------------------------------------------------
# response models


class CaseCounts(BaseModel):
    """Cases of the region (see :mod:`minewatch.domain.dashboard.figures` for definitions)."""

    total: int
    open_cases: int = Field(description="Neither dismissed nor re-checked clean")
    confirmed: int = Field(description="At confirmed or beyond")
    cleared: int = Field(description="Cleared or re-checked")
    dismissed: int
    overdue: int = Field(description="Past their stage's deadline")
    by_status: dict[CaseStatus, int]


class MiningPower(BaseModel):
    """Estimated mining power of the region's cases [kW] (``est_mining_kw``)."""

    open_mining_kw: float
    found_mining_kw: float = Field(description="Cases confirmed")
    removed_mining_kw: float = Field(description="Cases cleared")


class ProjectCounts(BaseModel):
    """Ledger projects of the region, by the site's region."""

    total: int
    active: int = Field(description="In construction or operating")
    active_power_kw: float = Field(description="Rated power of the live projects [kW]")
    by_status: dict[ProjectStatus, int]
    power_kw_by_status: dict[ProjectStatus, float]


class OverdueCaseOut(BaseModel):
    case_no: str
    status: CaseStatus
    region_code: str | None
    region_name: str
    due_at: datetime
    days_overdue: int


class OverdueReportOut(BaseModel):
    receipt_code: str
    status: str
    region_code: str | None
    region_name: str
    received_at: datetime
    due_at: datetime
    days_overdue: int


class Summary(BaseModel):
    """The dashboard's figures for one region."""

    region_code: str
    region_name: str
    level: str = Field(description="national, province, prefecture or county")
    generated_at: datetime
    cases: CaseCounts
    mining_power: MiningPower
    projects: ProjectCounts
    reports_overdue: int = Field(description="Public reports past their deadline")
    overdue_cases: list[OverdueCaseOut] = Field(description="The longest overdue cases (≤ 20)")
    overdue_reports: list[OverdueReportOut] = Field(
        description="The longest overdue public reports (≤ 20)"
    )


class MapMetric(StrEnum):
    OPEN_CASES = "open_cases"
    MINING_KW = "mining_kw"


class AreaOut(BaseModel):
    """One area of the map (or of the county table)."""

    region_code: str
    name: str
    open_cases: int
    open_mining_kw: float
    value: float = Field(description="The chosen metric")


class PointOut(BaseModel):
    """The site of an open case."""

    case_no: str
    status: CaseStatus
    region_code: str | None
    longitude: float
    latitude: float
    mining_kw: float | None


class MapOut(BaseModel):
    """What the map of a region shows."""

    region_code: str
    region_name: str
    level: str
    metric: MapMetric
    map_name: str | None = Field(
        description="The map drawn: china, or a province's code; None when no map exists"
    )
    map_url: str | None
    focus: str | None = Field(
        description="The one area of the map to draw (a prefecture's, or a county's, outline)"
    )
    drill: bool = Field(description="Whether an area opens the dashboard of that area")
    areas: list[AreaOut]
    points: list[PointOut] = Field(description="Open cases with coordinates (prefecture, county)")
    max_value: float


class WeekOut(BaseModel):
    week: str = Field(description="ISO week, e.g. 2021-W40")
    monday: date
    new_cases: int
    confirmed: int
    cleared: int
    removed_mining_kw: float


class TrendOut(BaseModel):
    region_code: str
    region_name: str
    weeks: list[WeekOut]


# ----------------------------------------------------------------------------------------------
# building them


def chosen_region(actor: Actor, region_code: str | None) -> str:
    """The region asked for (default: the actor's); 404 if unknown or outside the actor's."""
    code = region_code or actor.region_code
    if code != regions.NATIONAL and regions.find(code) is None:
        raise HTTPException(404, "not found")
    if not actor.covers(code):
        raise HTTPException(404, "not found")
    return code


def full_name(code: str | None) -> str:
    if code is None:
        return "未知"
    if code == regions.NATIONAL:
        return "全国"
    found = regions.find(code)
    return code if found is None else found.full_name


def _short_name(code: str) -> str:
    if code == regions.NATIONAL:
        return "全国"
    return regions.get(code).name


class Kept(Generic[M]):
    """A computed response model and, once asked for, its JSON (kept together in the memo, so
    an answer is serialised once, not once per request)."""

    def __init__(self, model: M) -> None:
        self.model = model
        self._body: bytes | None = None

    def response(self) -> Response:
        if self._body is None:
            self._body = self.model.model_dump_json().encode()
        return Response(self._body, media_type="application/json")


def summary_of(
    request: Request, session: Session, region_code: str, position: int | None = None
) -> Kept[Summary]:
    """The region's summary (kept until the audit chain moves on)."""
    position = dash.chain_position(session) if position is None else position
    return memo_of(request).get(
        ("summary", region_code, position),
        lambda: Kept(
            _summary(session, region_code, _tally(request, session, region_code, position))
        ),
    )


def _tally(request: Request, session: Session, region_code: str, position: int) -> dash.CaseTally:
    return memo_of(request).get(
        ("tally", region_code, position),
        lambda: dash.case_tally(session, region_code, now=utcnow()),
    )


def _summary(session: Session, region_code: str, tally: dash.CaseTally) -> Summary:
    now = utcnow()
    cases = tally.figures()
    projects = dash.project_figures(session, region_code)
    return Summary(
        region_code=region_code,
        region_name=full_name(region_code),
        level=dash.region_level(region_code),
        generated_at=now,
        cases=CaseCounts(
            total=cases.total, open_cases=cases.open_cases, confirmed=cases.confirmed,
            cleared=cases.cleared, dismissed=cases.dismissed, overdue=cases.overdue,
            by_status={s: cases.cases.get(s, 0) for s in CaseStatus},
        ),
        mining_power=MiningPower(
            open_mining_kw=round(cases.open_mining_kw, 1),
            found_mining_kw=round(cases.found_mining_kw, 1),
            removed_mining_kw=round(cases.removed_mining_kw, 1),
        ),
        projects=ProjectCounts(
            total=projects.total, active=projects.active,
            active_power_kw=round(projects.active_power_kw, 1),
            by_status={s: projects.projects.get(s, 0) for s in ProjectStatus},
            power_kw_by_status={s: round(projects.rated_power_kw.get(s, 0.0), 1)
                                for s in ProjectStatus},
        ),
        reports_overdue=dash.overdue_report_count(session, region_code, now=now),
        overdue_cases=[
            OverdueCaseOut(case_no=row.case_no, status=row.status, region_code=row.region_code,
                           region_name=full_name(row.region_code), due_at=row.due_at,
                           days_overdue=row.days_overdue)
            for row in dash.overdue_case_rows(session, region_code, now=now, limit=OVERDUE_ROWS)
        ],
        overdue_reports=[
            OverdueReportOut(receipt_code=row.receipt_code, status=row.status.value,
                             region_code=row.region_code, region_name=full_name(row.region_code),
                             received_at=row.received_at, due_at=row.due_at,
                             days_overdue=row.days_overdue)
            for row in dash.overdue_report_rows(session, region_code, now=now, limit=OVERDUE_ROWS)
        ],
    )  # fmt: skip


def _map_file(code: str) -> str | None:
    return code if (_MAPS / f"{code}.json").is_file() else None


def _province_of(code: str) -> str:
    return code[:2] + "0000"


def _focus_area(code: str) -> str | None:
    """The area of its province's map that a prefecture or county lies in."""
    return next(
        (a.code for a in dash.map_areas(_province_of(code)) if regions.is_within(code, a.code)),
        None,
    )


def map_of(
    request: Request,
    session: Session,
    region_code: str,
    metric: MapMetric,
    position: int | None = None,
) -> Kept[MapOut]:
    """What the region's map shows (kept until the audit chain moves on)."""
    position = dash.chain_position(session) if position is None else position
    tally = _tally(request, session, region_code, position)
    return memo_of(request).get(
        ("map", region_code, metric, position),
        lambda: Kept(_map(session, region_code, metric, tally)),
    )


def _map(session: Session, region_code: str, metric: MapMetric, tally: dash.CaseTally) -> MapOut:
    level = dash.region_level(region_code)
    if level == "national":
        map_name: str | None = "china"
        focus = None
    elif level == "province":
        map_name, focus = _map_file(region_code), None
    else:
        map_name, focus = _map_file(_province_of(region_code)), _focus_area(region_code)
    drill = level in ("national", "province")
    area_codes = [a.code for a in dash.map_areas(region_code)] or [region_code]
    per_area = tally.by_area(area_codes)
    areas = []
    for code in area_codes:
        figures = per_area[code]
        value = figures.open_cases if metric is MapMetric.OPEN_CASES else figures.open_mining_kw
        areas.append(
            AreaOut(region_code=code, name=_short_name(code), open_cases=figures.open_cases,
                    open_mining_kw=round(figures.open_mining_kw, 1), value=round(value, 1))
        )  # fmt: skip
    points = []
    if level in ("prefecture", "county"):
        points = [
            PointOut(case_no=p.case_no, status=p.status, region_code=p.region_code,
                     longitude=p.longitude, latitude=p.latitude, mining_kw=p.mining_kw)
            for p in dash.case_points(session, region_code, limit=POINTS)
        ]  # fmt: skip
    return MapOut(
        region_code=region_code,
        region_name=full_name(region_code),
        level=level,
        metric=metric,
        map_name=map_name,
        map_url=None if map_name is None else f"/static/maps/{map_name}.json",
        focus=focus,
        drill=drill,
        areas=areas,
        points=points,
        max_value=max((a.value for a in areas), default=0.0),
    )


EARLIEST_WEEK = Week(2000, 1)
"""No figure of the crackdown is older (notice 1283 dates from 2021; ledgers reach back)."""


def _until(text: str | None) -> Week:
    """The trend's last week: this week by default; a week from 2000 to this week."""
    current = Week.containing(utcnow())
    if text is None:
        return current
    try:
        week = Week.parse(text)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    if not EARLIEST_WEEK <= week <= current:
        raise HTTPException(422, f"until: a week from {EARLIEST_WEEK} to {current}")
    return week


def trend_of(
    request: Request, session: Session, region_code: str, weeks: int, until: Week
) -> Kept[TrendOut]:
    """The region's weekly trend (kept until the audit chain moves on)."""
    position = dash.chain_position(session)
    chosen = dash.recent_weeks(until, weeks)

    def compute() -> Kept[TrendOut]:
        rows = dash.weekly_trend(session, region_code, chosen)
        return Kept(TrendOut(
            region_code=region_code,
            region_name=full_name(region_code),
            weeks=[
                WeekOut(week=str(r.week), monday=r.week.monday, new_cases=r.new_cases,
                        confirmed=r.confirmed, cleared=r.cleared,
                        removed_mining_kw=round(r.removed_mining_kw, 1))
                for r in rows
            ],
        ))  # fmt: skip

    return memo_of(request).get(("trend", region_code, str(until), weeks, position), compute)


# ----------------------------------------------------------------------------------------------
# routes


@router.get(
    "/api/v1/dashboard/summary",
    response_model=Summary,
    summary="Dashboard figures of a region",
    description="Cases by stage, open/found/removed mining power [kW], ledger projects by "
    "status, overdue cases and public reports, for the caller's region or one within it.",
    responses=ERRORS,
)
def api_summary(
    request: Request, session: SessionDep, actor: ReaderDep, region_code: RegionQuery = None
) -> Response:
    return summary_of(request, session, chosen_region(actor, region_code)).response()


@router.get(
    "/api/v1/dashboard/map",
    response_model=MapOut,
    summary="The map of a region, coloured by open cases or mining power",
    description="Nation → provinces, province → prefectures (or counties where the province "
    "governs them directly); a prefecture or county lists its counties and the sites of its "
    "open cases, drawn on its prefecture's outline.",
    responses=ERRORS,
)
def api_map(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    region_code: RegionQuery = None,
    metric: Annotated[MapMetric, Query(description="What colours the areas")] = (
        MapMetric.OPEN_CASES
    ),
) -> Response:
    return map_of(request, session, chosen_region(actor, region_code), metric).response()


@router.get(
    "/api/v1/dashboard/trend",
    response_model=TrendOut,
    summary="Weekly trend of a region",
    description="Cases opened, confirmed and cleared, and mining power removed [kW], per ISO "
    "week (Asia/Shanghai), for the weeks up to and including ``until`` (default: this week).",
    responses=ERRORS,
)
def api_trend(
    request: Request,
    session: SessionDep,
    actor: ReaderDep,
    region_code: RegionQuery = None,
    weeks: Annotated[int, Query(ge=1, le=104, description="How many weeks")] = 26,
    until: Annotated[
        str | None, Query(max_length=10, description="Last ISO week, e.g. 2021-W43")
    ] = None,
) -> Response:
    code = chosen_region(actor, region_code)
    return trend_of(request, session, code, weeks, _until(until)).response()


def _crumbs(actor: Actor, code: str) -> list[tuple[str, str]]:
    """(code, name) from the actor's region down to ``code``, groupings left out."""
    chain: list[tuple[str, str]] = []
    region = regions.find(code)
    while region is not None:
        if not region.is_grouping:
            chain.append((region.code, region.name))
        region = regions.find(region.parent_code) if region.parent_code else None
    chain.append((regions.NATIONAL, "全国"))
    return [(c, name) for c, name in reversed(chain) if actor.covers(c)]


@router.get("/dashboard", response_class=HTMLResponse, summary="Dashboard of my region",
            responses=PAGE_ERRORS)  # fmt: skip
def dashboard_page(
    request: Request, session: SessionDep, actor: ReaderDep, region_code: RegionQuery = None
) -> HTMLResponse:
    code = chosen_region(actor, region_code)
    lang = i18n.language(request)
    position = dash.chain_position(session)

    def body() -> Markup:
        """The page's content, the same for every caller of one region and language (kept
        like the figures; the layout around it carries the caller and a fresh CSRF token)."""
        translate = i18n.translator(lang)
        query = f"region_code={code}"
        html = TEMPLATES.env.get_template("dashboard_body.html").render(
            _=translate,
            lang=lang,
            s=summary_of(request, session, code, position).model,
            m=map_of(request, session, code, MapMetric.OPEN_CASES, position).model,
            crumbs=_crumbs(actor, code),
            stage_labels={s.value: STAGE_LABELS[s] for s in CaseStatus},
            project_labels={s.value: label(s) for s in ProjectStatus},
            map_api=f"/api/v1/dashboard/map?{query}",
            trend_api=f"/api/v1/dashboard/trend?{query}&weeks=26",
            chart_labels=json.dumps(
                {key: translate(zh) for key, zh in CHART_LABELS.items()}, ensure_ascii=False
            ),
        )
        return Markup(html)  # rendered by Jinja with autoescaping: safe to embed

    key = ("page", code, actor.region_code, lang, position)
    return render(request, "dashboard.html", {"body": memo_of(request).get(key, body)}, actor=actor)
