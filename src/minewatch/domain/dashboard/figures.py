"""The dashboard's figures, each one SQL aggregate limited to a region in SQL.

Definitions (a case belongs to the region answering for it: its assigned county, else its site's
region, as now recorded — :func:`minewatch.domain.scope.answering_within`):

- **open cases**: cases neither dismissed nor re-checked clean — the work still to do, as the
  bulletins count it (:data:`minewatch.domain.bulletins.figures.NOT_OPEN`);
- **confirmed**: cases standing at confirmed or beyond (measures ordered or completed, cleared,
  re-checked); **cleared**: cleared or re-checked;
- **mining power** [kW] is each case's ``est_mining_kw`` (the leads' estimate, as the bulletins'
  energy figures use it): *found* sums the confirmed cases, *removed* the cleared ones, *open*
  the open ones;
- **overdue**: cases past their stage's deadline (``stage_due_at``), public reports past theirs
  (``due_at``, cleared when a report is closed);
- **ledger projects** by status, and the rated power of the live ones (in construction or
  operating), by the project site's region;
- **weekly trend** per ISO week (Asia/Shanghai): cases opened (``opened_at``), confirmations and
  clearings (``confirm`` and ``clear`` events of the audit chain — events, so a case that relapses
  and is cleared again counts again), and the mining power removed (the ``est_mining_kw`` of the
  cases cleared that week).

Areas of a map (:func:`map_areas`): the provinces for the nation; a province's prefectures, or
its counties where a grouping (市辖区, 省直辖县级行政区划) stands between; a prefecture's counties.
Every query filters by code range (index-friendly) and groups by code; nothing reads whole
tables into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from minewatch.domain.audit.models import AuditEvent, AuditHead
from minewatch.domain.audit.service import HEAD_ID
from minewatch.domain.bulletins.figures import NOT_OPEN, child_regions, week_start
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import ENTITY as CASE_ENTITY
from minewatch.domain.cases.service import OverdueCase
from minewatch.domain.cases.states import CaseStatus, Transition
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.weekly import Week
from minewatch.domain.reports.models import PublicReport, ReportStatus
from minewatch.domain.scope import answering_within, code_range, within
from minewatch.reference import regions
from minewatch.reference.ledger import ProjectStatus

OPEN = frozenset(CaseStatus) - NOT_OPEN
"""Stages of an open case (work still to do)."""
CONFIRMED = frozenset(
    {
        CaseStatus.CONFIRMED,
        CaseStatus.MEASURES_ORDERED,
        CaseStatus.MEASURES_COMPLETED,
        CaseStatus.CLEARED,
        CaseStatus.RECHECKED,
    }
)
"""Stages of a case confirmed as mining (and not since relapsed)."""
CLEARED = frozenset({CaseStatus.CLEARED, CaseStatus.RECHECKED})
"""Stages of a cleared site."""


def map_areas(region_code: str) -> list[regions.Region]:
    """The areas a region's map is drawn and counted in: the provinces for the nation, else the
    regions one level down with groupings looked through (none for a county)."""
    if region_code == regions.NATIONAL:
        return list(regions.provinces())
    return child_regions(region_code)


def region_level(region_code: str) -> str:
    """``national``, ``province``, ``prefecture`` or ``county``."""
    if region_code == regions.NATIONAL:
        return "national"
    return regions.get(region_code).level.value


def chain_position(session: Session) -> int:
    """The sequence number of the audit chain's last event. Every write to a case, project or
    public report appends an event, so figures computed at one position hold until it moves."""
    seq = session.scalar(select(AuditHead.seq).where(AuditHead.id == HEAD_ID))
    return int(seq or 0)


def _answering() -> ColumnElement[str | None]:
    return func.coalesce(Case.assigned_region_code, Case.region_code)


def _in_region(region_code: str) -> ColumnElement[bool]:
    return answering_within(Case.assigned_region_code, Case.region_code, region_code)


def _contains(area: str, code: str) -> bool:
    """Whether ``code`` lies in ``area`` by code range, as :func:`~minewatch.domain.scope.within`
    has SQL decide it."""
    span = code_range(area)
    return span is None or span[0] <= code <= span[1]


# ----------------------------------------------------------------------------------------------
# cases


@dataclass(frozen=True)
class CaseFigures:
    """Cases of a region by stage, their estimated mining power, and how many are overdue."""

    cases: Mapping[CaseStatus, int] = field(default_factory=dict)
    mining_kw: Mapping[CaseStatus, float] = field(default_factory=dict)
    """Sum of ``est_mining_kw`` by stage [kW]."""
    overdue: int = 0

    def _count(self, stages: Iterable[CaseStatus]) -> int:
        return sum(self.cases.get(s, 0) for s in stages)

    def _kw(self, stages: Iterable[CaseStatus]) -> float:
        return sum(self.mining_kw.get(s, 0.0) for s in stages)

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    @property
    def open_cases(self) -> int:
        return self._count(OPEN)

    @property
    def confirmed(self) -> int:
        return self._count(CONFIRMED)

    @property
    def cleared(self) -> int:
        return self._count(CLEARED)

    @property
    def dismissed(self) -> int:
        return self.cases.get(CaseStatus.DISMISSED, 0)

    @property
    def open_mining_kw(self) -> float:
        return self._kw(OPEN)

    @property
    def found_mining_kw(self) -> float:
        return self._kw(CONFIRMED)

    @property
    def removed_mining_kw(self) -> float:
        return self._kw(CLEARED)

    @classmethod
    def combine(cls, parts: Iterable[CaseFigures]) -> CaseFigures:
        cases: dict[CaseStatus, int] = {}
        power: dict[CaseStatus, float] = {}
        overdue = 0
        for part in parts:
            for status, n in part.cases.items():
                cases[status] = cases.get(status, 0) + n
            for status, kw in part.mining_kw.items():
                power[status] = power.get(status, 0.0) + kw
            overdue += part.overdue
        return cls(cases, power, overdue)


@dataclass(frozen=True)
class TallyRow:
    code: str | None
    """The answering region, cut to ``CaseTally.digits`` digits (None: no region known)."""
    status: CaseStatus
    cases: int
    mining_kw: float
    overdue: int


@dataclass(frozen=True)
class CaseTally:
    """The cases of a region counted by answering region and stage in one query: the summary
    and every area of the region's map are read from it."""

    region_code: str
    digits: int
    rows: tuple[TallyRow, ...]

    @staticmethod
    def _figures(rows: Iterable[TallyRow]) -> CaseFigures:
        cases: dict[CaseStatus, int] = {}
        power: dict[CaseStatus, float] = {}
        overdue = 0
        for row in rows:
            cases[row.status] = cases.get(row.status, 0) + row.cases
            power[row.status] = power.get(row.status, 0.0) + row.mining_kw
            overdue += row.overdue
        return CaseFigures(cases, power, overdue)

    def figures(self) -> CaseFigures:
        """The whole region."""
        return self._figures(self.rows)

    def by_area(self, areas: Sequence[str]) -> dict[str, CaseFigures]:
        """Each area's figures (an area with no case gets empty figures)."""
        grouped: dict[str, list[TallyRow]] = {area: [] for area in areas}
        for row in self.rows:
            if row.code is None:
                continue
            code = row.code.ljust(6, "0")
            area = next((a for a in areas if _contains(a, code)), None)
            if area is not None:
                grouped[area].append(row)
        return {area: self._figures(rows) for area, rows in grouped.items()}


def case_tally(session: Session, region_code: str, *, now: datetime) -> CaseTally:
    """Count the region's cases by answering region (province digits for the nation, the full
    code below) and stage, with their mining power and how many are overdue at ``now``."""
    digits = 2 if region_code == regions.NATIONAL else 6
    answering = _answering()
    key = (func.substr(answering, 1, digits) if digits < 6 else answering).label("area")
    overdue = func.sum(
        case((and_(Case.stage_due_at.is_not(None), Case.stage_due_at < now), 1), else_=0)
    )
    query = (
        select(key, Case.status, func.count(), func.sum(Case.est_mining_kw), overdue)
        .where(_in_region(region_code))
        .group_by(key, Case.status)
    )
    rows = tuple(
        TallyRow(code, status, int(n), float(kw or 0.0), int(late or 0))
        for code, status, n, kw, late in session.execute(query)
    )
    return CaseTally(region_code, digits, rows)


def overdue_case_rows(
    session: Session, region_code: str, *, now: datetime, limit: int = 20
) -> list[OverdueCase]:
    """The region's most overdue cases (past their stage's deadline at ``now``), oldest first."""
    query = (
        select(Case.case_no, Case.status, Case.assigned_region_code, Case.region_code,
               Case.stage_due_at)
        .where(Case.stage_due_at.is_not(None), Case.stage_due_at < now, _in_region(region_code))
        .order_by(Case.stage_due_at, Case.case_no)
        .limit(limit)
    )  # fmt: skip
    out = []
    for case_no, status, assigned, site, due in session.execute(query):
        assert due is not None  # the query keeps only cases with a deadline
        out.append(OverdueCase(case_no, status, assigned or site, due, (now - due).days))
    return out


@dataclass(frozen=True)
class CasePoint:
    """An open case with a known site, for the map."""

    case_no: str
    status: CaseStatus
    region_code: str | None
    longitude: float
    latitude: float
    mining_kw: float | None


def case_points(session: Session, region_code: str, *, limit: int = 2000) -> list[CasePoint]:
    """The region's open cases with coordinates, largest estimated mining power first."""
    query = (
        select(Case.case_no, Case.status, _answering(), Case.longitude, Case.latitude,
               Case.est_mining_kw)
        .where(_in_region(region_code), Case.status.in_([s.value for s in OPEN]),
               Case.longitude.is_not(None), Case.latitude.is_not(None))
        .order_by(Case.est_mining_kw.desc().nulls_last(), Case.case_no)
        .limit(limit)
    )  # fmt: skip
    out = []
    for case_no, status, code, lon, lat, kw in session.execute(query):
        assert lon is not None  # the query keeps only located cases
        assert lat is not None
        out.append(CasePoint(case_no, status, code, lon, lat, kw))
    return out


# ----------------------------------------------------------------------------------------------
# projects and public reports


@dataclass(frozen=True)
class ProjectFigures:
    """Ledger projects of a region by status, with their rated power [kW]."""

    projects: Mapping[ProjectStatus, int] = field(default_factory=dict)
    rated_power_kw: Mapping[ProjectStatus, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.projects.values())

    @property
    def active(self) -> int:
        return sum(n for status, n in self.projects.items() if status.is_active)

    @property
    def active_power_kw(self) -> float:
        return sum(kw for status, kw in self.rated_power_kw.items() if status.is_active)


def project_figures(session: Session, region_code: str) -> ProjectFigures:
    """Count the region's ledger projects (by the site's region) by status."""
    query = (
        select(Project.status, func.count(), func.sum(Project.rated_power_kw))
        .where(within(Project.region_code, region_code))
        .group_by(Project.status)
    )
    counts: dict[ProjectStatus, int] = {}
    power: dict[ProjectStatus, float] = {}
    for status, n, kw in session.execute(query):
        counts[status] = int(n)
        power[status] = float(kw or 0.0)
    return ProjectFigures(counts, power)


@dataclass(frozen=True)
class OverdueReport:
    """A public report past its deadline."""

    receipt_code: str
    status: ReportStatus
    region_code: str | None
    received_at: datetime
    due_at: datetime
    days_overdue: int


def _report_overdue(region_code: str, now: datetime) -> ColumnElement[bool]:
    return and_(
        PublicReport.due_at.is_not(None),
        PublicReport.due_at < now,
        answering_within(PublicReport.assigned_region_code, PublicReport.region_code, region_code),
    )


def overdue_report_count(session: Session, region_code: str, *, now: datetime) -> int:
    """How many of the region's public reports are past their deadline at ``now``."""
    query = select(func.count()).select_from(PublicReport).where(_report_overdue(region_code, now))
    return int(session.scalar(query) or 0)


def overdue_report_rows(
    session: Session, region_code: str, *, now: datetime, limit: int = 20
) -> list[OverdueReport]:
    """The region's most overdue public reports, oldest deadline first."""
    query = (
        select(PublicReport.receipt_code, PublicReport.status, PublicReport.assigned_region_code,
               PublicReport.region_code, PublicReport.received_at, PublicReport.due_at)
        .where(_report_overdue(region_code, now))
        .order_by(PublicReport.due_at, PublicReport.receipt_code)
        .limit(limit)
    )  # fmt: skip
    out = []
    for code, status, assigned, site, received, due in session.execute(query):
        assert due is not None  # the query keeps only reports with a deadline
        out.append(OverdueReport(code, status, assigned or site, received, due, (now - due).days))
    return out


# ----------------------------------------------------------------------------------------------
# the weekly trend


@dataclass(frozen=True)
class WeekFigures:
    """One ISO week of the trend."""

    week: Week
    new_cases: int = 0
    confirmed: int = 0
    cleared: int = 0
    removed_mining_kw: float = 0.0
    """``est_mining_kw`` of the cases cleared in the week [kW]."""


def recent_weeks(until: Week, count: int) -> list[Week]:
    """``count`` weeks ending with ``until``, oldest first."""
    weeks = [until]
    while len(weeks) < count:
        weeks.append(weeks[-1].previous())
    return weeks[::-1]


def _week_index(
    column: InstrumentedAttribute[datetime], weeks: Sequence[Week]
) -> ColumnElement[int]:
    """Which of ``weeks`` (consecutive, oldest first) a timestamp falls in, for one already known
    to lie in them: a CASE over the weeks' ends, the same SQL on every backend."""
    return case(*((column < week.end_at, index) for index, week in enumerate(weeks)))


def weekly_trend(session: Session, region_code: str, weeks: Sequence[Week]) -> list[WeekFigures]:
    """Cases opened, confirmed and cleared and the mining power removed in each of ``weeks``
    (consecutive, oldest first) in the region."""
    if not weeks:
        return []
    start, end = week_start(weeks[0]), weeks[-1].end_at
    opened = _week_index(Case.opened_at, weeks).label("week_index")
    new_cases = dict(
        session.execute(
            select(opened, func.count())
            .where(Case.opened_at >= start, Case.opened_at < end, _in_region(region_code))
            .group_by(opened)
        ).all()
    )
    acted = _week_index(AuditEvent.at, weeks).label("week_index")
    actions = (Transition.CONFIRM.value, Transition.CLEAR.value)
    events: dict[tuple[int, str], tuple[int, float]] = {}
    rows = session.execute(
        select(acted, AuditEvent.action, func.count(), func.sum(Case.est_mining_kw))
        .join(Case, Case.case_no == AuditEvent.entity_id)
        .where(
            AuditEvent.at >= start,
            AuditEvent.at < end,
            AuditEvent.entity_type == CASE_ENTITY,
            AuditEvent.action.in_(actions),
            _in_region(region_code),
        )
        .group_by(acted, AuditEvent.action)
    )
    for index, action, n, kw in rows:
        events[(int(index), str(action))] = (int(n), float(kw or 0.0))
    out = []
    for index, week in enumerate(weeks):
        confirmed = events.get((index, Transition.CONFIRM.value), (0, 0.0))[0]
        cleared, removed = events.get((index, Transition.CLEAR.value), (0, 0.0))
        out.append(
            WeekFigures(
                week=week,
                new_cases=int(new_cases.get(index, 0)),
                confirmed=confirmed,
                cleared=cleared,
                removed_mining_kw=removed,
            )
        )
    return out
