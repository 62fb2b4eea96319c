"""Search the ledger (项目台账) as an official sees it: filtered, counted, sorted and paged in SQL.

Jurisdiction — whose project is it? A project belongs to the region its **site** lies in
(``project.region_code``, 行政区划代码): an official sees, searches, counts and exports the
projects sited in their region and below, and nothing else. This is the rule of the weekly
ledger itself — :mod:`minewatch.domain.ledger.weekly` rolls projects up county → city →
province by their site, and the notice makes the place answer for what stands on its ground
(属地管理, 市县落实、省负总责). The responsible region (``responsible_region_code``, 责任县区)
is a field of the record, shown and exported with it, but it does not widen who may see the
project: a county named responsible for a site across its border sees it through the city or
province that covers both. Writes follow the same rule, plus the responsible region (see
:func:`jurisdiction_problems`).

Every function here takes the caller's ``region_code`` and filters with
:func:`minewatch.domain.scope.within`, an index-friendly code range, so a record of another
region never leaves the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, lazyload

from minewatch.domain.cases.models import Case
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.ledger.models import Project, project_search_text
from minewatch.domain.scope import answering_within, within
from minewatch.reference import credit_code, regions
from minewatch.reference.ledger import (
    PROJECT_CODE_PATTERN,
    DiscoveryMethod,
    LedgerEntry,
    ProjectStatus,
    SiteType,
    SupplyKind,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProjectSort(StrEnum):
    """The columns a ledger listing can be ordered by (``-`` before the name: descending)."""

    CODE = "code"
    NAME = "name"
    ENTERPRISE = "enterprise"
    REGION = "region"
    STATUS = "status"
    SITE_TYPE = "site_type"
    MACHINES = "machines"
    POWER = "power"
    ENERGY = "energy"
    EXIT_DEADLINE = "exit_deadline"
    UPDATED = "updated"


_SORT_COLUMNS: dict[ProjectSort, InstrumentedAttribute[Any]] = {
    ProjectSort.CODE: Project.code,
    ProjectSort.NAME: Project.name,
    ProjectSort.ENTERPRISE: Enterprise.name,
    ProjectSort.REGION: Project.region_code,
    ProjectSort.STATUS: Project.status,
    ProjectSort.SITE_TYPE: Project.site_type,
    ProjectSort.MACHINES: Project.machine_count,
    ProjectSort.POWER: Project.rated_power_kw,
    ProjectSort.ENERGY: Project.monthly_energy_kwh,
    ProjectSort.EXIT_DEADLINE: Project.exit_deadline,
    ProjectSort.UPDATED: Project.updated_at,
}
"""The column behind each sort key (a registry, not a chain of ifs)."""


@dataclass(frozen=True)
class SortOrder:
    """A column and a direction."""

    column: ProjectSort = ProjectSort.CODE
    descending: bool = False

    @classmethod
    def parse(cls, text: str | None) -> SortOrder:
        """Read ``code``, ``-power`` …; raises ``ValueError`` naming the accepted columns."""
        key = (text or "").strip()
        descending = key.startswith("-")
        name = key.removeprefix("-") or ProjectSort.CODE.value
        try:
            return cls(ProjectSort(name), descending)
        except ValueError:
            accepted = ", ".join(s.value for s in ProjectSort)
            raise ValueError(f"cannot sort by {name!r}; sort by one of {accepted}") from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.column.value


@dataclass(frozen=True)
class ProjectFilters:
    """What an official narrows the ledger to; every field left empty keeps all projects.

    ``region_code`` narrows to a region (the caller's own or one below it; a region outside the
    caller's gives nothing). ``statuses`` keeps any of the listed states. ``enterprise`` is an
    exact unified social credit code when it is one, else a part of the enterprise's name.
    ``q`` is a part of the project code, the project name, the site address or the grid account
    number. ``exit_overdue_on`` keeps the live projects (in construction or operating) whose exit
    deadline passed before that local day — the ones clause 十七 says must now be stopped.
    """

    region_code: str | None = None
    statuses: tuple[ProjectStatus, ...] = ()
    site_type: SiteType | None = None
    supply_kind: SupplyKind | None = None
    discovered_by: DiscoveryMethod | None = None
    enterprise: str | None = None
    q: str | None = None
    exit_overdue_on: date | None = None

    def __post_init__(self) -> None:
        if self.region_code is not None and regions.find(self.region_code) is None:
            raise ValueError(f"{self.region_code!r} is not a GB/T 2260 region code")

    @property
    def text(self) -> str | None:
        return _clean(self.q)

    @property
    def enterprise_text(self) -> str | None:
        return _clean(self.enterprise)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _CONTROL.sub("", text).strip()
    return cleaned or None


def _as_uscc(text: str) -> str | None:
    try:
        return credit_code.validate(text)
    except credit_code.InvalidCreditCodeError:
        return None


def _conditions(
    filters: ProjectFilters, region_code: str, *, with_status: bool = True
) -> list[ColumnElement[bool]]:
    """The WHERE clause: the caller's jurisdiction, then each filter given."""
    conditions = [within(Project.region_code, region_code)]
    if filters.region_code is not None:
        conditions.append(within(Project.region_code, filters.region_code))
    if with_status and filters.statuses:
        conditions.append(Project.status.in_(sorted(set(filters.statuses))))
    if filters.site_type is not None:
        conditions.append(Project.site_type == filters.site_type)
    if filters.supply_kind is not None:
        conditions.append(Project.supply_kind == filters.supply_kind)
    if filters.discovered_by is not None:
        conditions.append(Project.discovered_by == filters.discovered_by)
    enterprise = filters.enterprise_text
    if enterprise is not None:
        uscc = _as_uscc(enterprise)
        matching = (
            Enterprise.uscc == uscc
            if uscc is not None
            else _like(Enterprise.name.expression, enterprise)
        )
        conditions.append(Project.enterprise_id.in_(select(Enterprise.id).where(matching)))
    text = filters.text
    if text is not None:
        conditions.append(_text_condition(text))
    if filters.exit_overdue_on is not None:
        conditions.append(
            and_(
                Project.status.in_([s for s in ProjectStatus if s.is_active]),
                Project.exit_deadline.is_not(None),
                Project.exit_deadline < filters.exit_overdue_on,
            )
        )
    return conditions


TRIGRAM = 3
"""Free text this long or longer can be served by PostgreSQL's trigram index."""


def _text_condition(text: str) -> ColumnElement[bool]:
    """``text`` occurs in the project code, name, site address or grid account number.

    Text of :data:`TRIGRAM` characters or more is looked for in
    :func:`~minewatch.domain.ledger.models.project_search_text`, which PostgreSQL's trigram index
    holds; shorter text, which no trigram index can narrow, field by field — a different
    statement, so a cached generic plan never picks the index for it.
    """
    if len(text) >= TRIGRAM:
        return _like(project_search_text(), text)
    return or_(
        _like(Project.code.expression, text),
        _like(Project.name.expression, text),
        _like(Project.site_address.expression, text),
        _like(Project.grid_account_no.expression, text),  # type: ignore[arg-type]
    )


def _like(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """``text`` occurs in ``column``, wildcards taken literally; case is set aside only for text
    with letters that have case (ILIKE), since Chinese and digits have none and plain LIKE is
    twice as fast on PostgreSQL."""
    if text.lower() == text.upper():
        return column.contains(text, autoescape=True)
    return column.icontains(text, autoescape=True)


def _ordered(query: Select[int], sort: SortOrder) -> Select[int]:
    column = _SORT_COLUMNS[sort.column]
    if sort.column is ProjectSort.ENTERPRISE:
        query = query.join(Enterprise, Enterprise.id == Project.enterprise_id)
    if sort.column is ProjectSort.CODE:
        return query.order_by(column.desc() if sort.descending else column.asc())
    # NULLs last either way (spelled so that SQLite and PostgreSQL agree), then by code.
    primary = (column.desc() if sort.descending else column.asc()).nulls_last()
    tie = Project.code.desc() if sort.descending else Project.code.asc()
    return query.order_by(primary, tie)


def _page_ids(
    session: Session, filters: ProjectFilters, region_code: str, limit: int, offset: int,
    sort: SortOrder,
) -> list[int]:  # fmt: skip
    """The ids of one page: filtered, sorted and cut on narrow rows, before any row is loaded."""
    query = select(Project.id).where(*_conditions(filters, region_code))
    query = _ordered(query, sort).limit(limit).offset(max(offset, 0))
    return list(session.scalars(query))


def _load(session: Session, ids: Sequence[int]) -> list[Project]:
    """The projects with these ids, in the order given, each with its enterprise and machines."""
    if not ids:
        return []
    loaded = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(ids)))}
    return [loaded[i] for i in ids if i in loaded]


def search_projects(
    session: Session,
    filters: ProjectFilters,
    *,
    region_code: str,
    limit: int,
    offset: int = 0,
    sort: SortOrder | None = None,
) -> tuple[list[Project], int]:
    """One page of the projects of ``region_code`` (the caller's) matching ``filters``, and how
    many match in all.

    Filtering, ordering (by ``sort``, then by project code), counting and paging all run in
    SQL; only the page's rows are loaded, each with its enterprise and machines.
    """
    total = count_projects_matching(session, filters, region_code=region_code)
    return page_of_projects(
        session, filters, region_code=region_code, limit=limit, offset=offset, sort=sort
    ), total


def page_of_projects(
    session: Session,
    filters: ProjectFilters,
    *,
    region_code: str,
    limit: int,
    offset: int = 0,
    sort: SortOrder | None = None,
) -> list[Project]:
    """The page of :func:`search_projects` without the count."""
    if limit <= 0:
        return []
    return _load(
        session, _page_ids(session, filters, region_code, limit, offset, sort or SortOrder())
    )


def count_projects_matching(session: Session, filters: ProjectFilters, *, region_code: str) -> int:
    """How many projects of ``region_code`` match ``filters``."""
    query = select(func.count()).select_from(Project).where(*_conditions(filters, region_code))
    return session.scalar(query) or 0


@dataclass(frozen=True)
class StatusFigures:
    """The filtered ledger counted by status.

    The status filter is set aside for the counts (the figures show every state of the projects
    the other filters keep); :attr:`total` is the number the status filter keeps.
    """

    projects: Mapping[ProjectStatus, int]
    statuses: tuple[ProjectStatus, ...] = ()

    def count(self, status: ProjectStatus) -> int:
        return self.projects.get(status, 0)

    @property
    def total(self) -> int:
        """How many projects all the filters keep, the status filter included."""
        wanted = set(self.statuses) or set(ProjectStatus)
        return sum(n for s, n in self.projects.items() if s in wanted)

    @property
    def active(self) -> int:
        """In construction or operating (the live projects the notice wants cleared)."""
        return sum(n for s, n in self.projects.items() if s.is_active)

    @property
    def all_statuses(self) -> int:
        return sum(self.projects.values())


def status_figures(session: Session, filters: ProjectFilters, *, region_code: str) -> StatusFigures:
    """Count the projects of ``region_code`` matching ``filters`` by status, in one GROUP BY (an
    index-only scan when no other filter is given)."""
    query = (
        select(Project.status, func.count())
        .where(*_conditions(filters, region_code, with_status=False))
        .group_by(Project.status)
    )
    projects = {ProjectStatus(status): int(count) for status, count in session.execute(query)}
    return StatusFigures(projects, tuple(filters.statuses))


def iter_projects(
    session: Session,
    filters: ProjectFilters,
    *,
    region_code: str,
    sort: SortOrder | None = None,
    batch: int = 1000,
) -> Iterator[Project]:
    """Every project of ``region_code`` matching ``filters``, in order, loaded ``batch`` at a
    time and let go after (for exports: the whole set is never held as ORM objects at once)."""
    query = _ordered(
        select(Project.id).where(*_conditions(filters, region_code)), sort or SortOrder()
    )
    ids = list(session.scalars(query))
    for start in range(0, len(ids), batch):
        projects = _load(session, ids[start : start + batch])
        yield from projects
        for project in projects:
            session.expunge(project)


def find_project(session: Session, code: str, *, region_code: str) -> Project | None:
    """The project with this code if it lies in ``region_code``; ``None`` otherwise (whether it
    does not exist or lies elsewhere, the caller cannot tell)."""
    query = select(Project).where(Project.code == code, within(Project.region_code, region_code))
    return session.scalar(query)


def project_cases(session: Session, code: str, *, region_code: str) -> list[Case]:
    """The cases that put this project in the ledger or point at it (``case.project_code``),
    those answering to ``region_code`` only, oldest first."""
    query = (
        select(Case)
        .where(
            Case.project_code == code,
            answering_within(Case.assigned_region_code, Case.region_code, region_code),
        )
        .options(lazyload(Case.leads), lazyload(Case.checks), lazyload(Case.measures))
        .order_by(Case.opened_at, Case.case_no)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class RowProblem:
    """Why one entry may not be written by the caller: its index, the field and the reason."""

    index: int
    field: str
    reason: str


def jurisdiction_problems(
    session: Session, entries: Sequence[LedgerEntry], *, region_code: str
) -> list[RowProblem]:
    """What in ``entries`` lies outside ``region_code``, checked before anything is written.

    An entry is the caller's to write when

    - its site region (``region_code``) lies in the caller's region;
    - its responsible region lies there too, or is what the ledger already records for the
      project (a county may keep a responsibility the city gave another county, not give one);
    - a ``project_code`` it names is a project the caller can see, or — for a code not yet in
      the ledger — carries a county of the caller's region. An existing project elsewhere gets
      the same answer as a code of another county, so nothing about it is disclosed.
    """
    if regions.find(region_code) is None and region_code != regions.NATIONAL:
        raise ValueError(f"{region_code!r} is not a GB/T 2260 region code")
    codes = sorted({e.project_code for e in entries if e.project_code is not None})
    stored: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(codes, 500):
        query = select(Project.code, Project.region_code, Project.responsible_region_code).where(
            Project.code.in_(chunk)
        )
        for stored_code, site, responsible in session.execute(query):
            stored[stored_code] = (site, responsible)
    problems: list[RowProblem] = []
    place = _place(region_code)
    for index, entry in enumerate(entries):
        if not _covers(region_code, entry.region_code):
            problems.append(
                RowProblem(
                    index, "region_code", f"{entry.region_code} lies outside your region ({place})"
                )
            )
        code = entry.project_code
        known = stored.get(code) if code is not None else None
        if code is not None:
            match = PROJECT_CODE_PATTERN.match(code)
            mine = (
                _covers(region_code, known[0])
                if known is not None
                else match is not None and _covers(region_code, match["county"])
            )
            if not mine:
                problems.append(
                    RowProblem(index, "project_code", f"{code} is not a project of {place}")
                )
                continue
        responsible = entry.responsible_region_code
        kept = known is not None and known[1] == responsible
        if not kept and not _covers(region_code, responsible):
            problems.append(
                RowProblem(
                    index,
                    "responsible_region_code",
                    f"{responsible} lies outside your region ({place})",
                )
            )
    return problems


def _covers(region_code: str, code: str) -> bool:
    return regions.is_within(code, region_code)


def _place(region_code: str) -> str:
    if region_code == regions.NATIONAL:
        return "全国"
    found = regions.find(region_code)
    return f"{found.full_name} {region_code}" if found is not None else region_code


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
