"""The ledger's web vocabulary: query parameters, API models, and their conversion from and to
the domain's :class:`~minewatch.reference.ledger.LedgerEntry` and
:class:`~minewatch.domain.ledger.models.Project`.

The pages and the API take the same filters under the same names (``region_code``, ``status``
(repeatable), ``site_type``, ``supply_kind``, ``discovered_by``, ``enterprise``, ``q``,
``exit_overdue``, ``sort``); a page's form may send empty fields, which mean "any".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from minewatch.domain.cases.models import Case
from minewatch.domain.ledger.history import ProjectEvent
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.search import ProjectFilters, SortOrder
from minewatch.domain.ledger.service import project_to_entry
from minewatch.domain.ledger.weekly import LOCAL_TZ
from minewatch.reference import regions
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters no ledger text holds (tab and line breaks are allowed)."""

MAX_TEXT = 100
"""Longest free text or enterprise filter accepted [characters]."""


def local_today() -> date:
    """Today in Asia/Shanghai, the day exit deadlines are judged on."""
    return datetime.now(LOCAL_TZ).date()


@dataclass(frozen=True)
class LedgerQuery:
    """A ledger search as the request asked for it: the filters and the order."""

    filters: ProjectFilters = field(default_factory=ProjectFilters)
    sort: SortOrder = field(default_factory=SortOrder)
    exit_overdue: bool = False

    def params(self) -> list[tuple[str, str]]:
        """The query string's parameters (without paging), to build links that keep them."""
        f = self.filters
        pairs: list[tuple[str, str]] = []
        if f.region_code:
            pairs.append(("region_code", f.region_code))
        pairs += [("status", s.value) for s in f.statuses]
        for key, value in (
            ("site_type", f.site_type),
            ("supply_kind", f.supply_kind),
            ("discovered_by", f.discovered_by),
        ):
            if value is not None:
                pairs.append((key, value.value))
        if f.enterprise_text:
            pairs.append(("enterprise", f.enterprise_text))
        if f.text:
            pairs.append(("q", f.text))
        if self.exit_overdue:
            pairs.append(("exit_overdue", "true"))
        if str(self.sort) != "code":
            pairs.append(("sort", str(self.sort)))
        return pairs

    def url(self, path: str, **changes: object) -> str:
        """``path`` with this query's parameters, ``changes`` replacing or adding some."""
        pairs = [(k, v) for k, v in self.params() if k not in changes]
        pairs += [(k, str(v)) for k, v in changes.items() if v not in (None, "", 0)]
        return f"{path}?{urlencode(pairs)}" if pairs else path


def _invalid(error: ValueError) -> HTTPException:
    return HTTPException(422, str(error))


def build_query(
    *,
    region_code: str | None,
    statuses: Iterable[ProjectStatus],
    site_type: SiteType | None,
    supply_kind: SupplyKind | None,
    discovered_by: DiscoveryMethod | None,
    enterprise: str | None,
    q: str | None,
    exit_overdue: bool,
    sort: str | None,
) -> LedgerQuery:
    """The query, or 422 naming what is wrong with it."""
    try:
        filters = ProjectFilters(
            region_code=region_code or None,
            statuses=tuple(dict.fromkeys(statuses)),
            site_type=site_type,
            supply_kind=supply_kind,
            discovered_by=discovered_by,
            enterprise=enterprise or None,
            q=q or None,
            exit_overdue_on=local_today() if exit_overdue else None,
        )
        order = SortOrder.parse(sort)
    except ValueError as error:
        raise _invalid(error) from None
    return LedgerQuery(filters, order, exit_overdue)


_REGION_DOC = "Only projects sited in this region (a GB/T 2260 code in the caller's region)"
_STATUS_DOC = "Keep projects in any of these states (repeat the parameter)"
_ENTERPRISE_DOC = "An enterprise's unified social credit code (exact), or part of its name"
_Q_DOC = "Part of the project code, project name, site address or grid account number"
_OVERDUE_DOC = "Only live projects (in construction or operating) past their exit deadline"
_SORT_DOC = (
    "Order by code, name, enterprise, region, status, site_type, machines, power, energy, "
    "exit_deadline or updated; a leading '-' reverses"
)


def api_query(
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description=_REGION_DOC)] = None,
    status: Annotated[list[ProjectStatus] | None, Query(description=_STATUS_DOC)] = None,
    site_type: Annotated[SiteType | None, Query(description="Site type")] = None,
    supply_kind: Annotated[SupplyKind | None, Query(description="How the site is powered")] = None,
    discovered_by: Annotated[
        DiscoveryMethod | None, Query(description="How the project was found")
    ] = None,
    enterprise: Annotated[
        str | None, Query(max_length=MAX_TEXT, description=_ENTERPRISE_DOC)
    ] = None,
    q: Annotated[str | None, Query(max_length=MAX_TEXT, description=_Q_DOC)] = None,
    exit_overdue: Annotated[bool, Query(description=_OVERDUE_DOC)] = False,
    sort: Annotated[str, Query(max_length=20, description=_SORT_DOC)] = "code",
) -> LedgerQuery:
    """The filters of the API, typed."""
    return build_query(
        region_code=region_code, statuses=status or (), site_type=site_type,
        supply_kind=supply_kind, discovered_by=discovered_by, enterprise=enterprise, q=q,
        exit_overdue=exit_overdue, sort=sort,
    )  # fmt: skip


E = TypeVar("E", ProjectStatus, SiteType, SupplyKind, DiscoveryMethod)


def _coded(enum_cls: type[E], name: str, text: str) -> E | None:
    if not text.strip():
        return None
    try:
        return enum_cls(text.strip())
    except ValueError:
        accepted = ", ".join(m.value for m in enum_cls)
        raise HTTPException(422, f"{name}: {text!r} is not one of {accepted}") from None


def page_query(
    region_code: Annotated[str, Query(max_length=6, description=_REGION_DOC)] = "",
    status: Annotated[list[str] | None, Query(description=_STATUS_DOC)] = None,
    site_type: Annotated[str, Query(max_length=40)] = "",
    supply_kind: Annotated[str, Query(max_length=40)] = "",
    discovered_by: Annotated[str, Query(max_length=40)] = "",
    enterprise: Annotated[str, Query(max_length=MAX_TEXT)] = "",
    q: Annotated[str, Query(max_length=MAX_TEXT)] = "",
    exit_overdue: Annotated[str, Query(max_length=5)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
) -> LedgerQuery:
    """The filters of a page's form, where an empty field means "any"."""
    statuses = [s for text in status or () if (s := _coded(ProjectStatus, "status", text))]
    return build_query(
        region_code=region_code.strip() or None,
        statuses=statuses,
        site_type=_coded(SiteType, "site_type", site_type),
        supply_kind=_coded(SupplyKind, "supply_kind", supply_kind),
        discovered_by=_coded(DiscoveryMethod, "discovered_by", discovered_by),
        enterprise=enterprise,
        q=q,
        exit_overdue=exit_overdue.lower() in ("1", "true", "on", "yes"),
        sort=sort,
    )


# ---------------------------------------------------------------------------- API models


class MachineModel(BaseModel):
    """Machines of one model at a site."""

    model: str = Field(min_length=1, max_length=100, examples=["Antminer S19 Pro"])
    count: int = Field(gt=0, le=1_000_000)


class ProjectSummary(BaseModel):
    """A project as a ledger listing shows it."""

    project_code: str
    project_name: str
    enterprise_name: str
    enterprise_uscc: str
    site_address: str
    region_code: str
    region_name: str
    site_type: SiteType
    status: ProjectStatus
    machines_total: int = Field(description="规模（台）: the declared count, else the sum")
    rated_power_kw: float | None
    monthly_energy_kwh: float | None
    supply_kind: SupplyKind
    discovered_by: DiscoveryMethod
    responsible_region_code: str
    exit_deadline: date | None
    updated_at: datetime


class LinkedCase(BaseModel):
    """A case pointing at the project."""

    case_no: str
    status: str
    region_code: str | None
    opened_at: datetime


class ProjectDetail(ProjectSummary):
    """Every field of a project's ledger row, its machines, and the cases that point at it."""

    legal_representative: str | None
    longitude: float | None
    latitude: float | None
    machines: list[MachineModel]
    machine_count: int | None
    hashrate: float | None
    hashrate_unit: HashrateUnit | None
    planned_production_date: date | None
    grid_account_no: str | None
    supply_line: str | None
    supply_plant: str | None
    responsible_official: str | None
    notes: str | None
    created_at: datetime
    cases: list[LinkedCase]


class SavedProject(ProjectDetail):
    """What a pushed entry did: ``created``, ``updated`` or ``unchanged``, and the project."""

    action: str


def full_region_name(code: str) -> str:
    found = regions.find(code)
    return found.full_name if found is not None else code


def summary_of(project: Project) -> ProjectSummary:
    entry = project_to_entry(project)
    return ProjectSummary(**_summary_fields(project, entry))


def _summary_fields(project: Project, entry: LedgerEntry) -> dict[str, object]:
    return {
        "project_code": project.code,
        "project_name": entry.project_name,
        "enterprise_name": entry.enterprise_name,
        "enterprise_uscc": entry.enterprise_uscc,
        "site_address": entry.site_address,
        "region_code": entry.region_code,
        "region_name": full_region_name(entry.region_code),
        "site_type": entry.site_type,
        "status": entry.status,
        "machines_total": entry.total_machines,
        "rated_power_kw": entry.rated_power_kw,
        "monthly_energy_kwh": entry.monthly_energy_kwh,
        "supply_kind": entry.supply_kind,
        "discovered_by": entry.discovered_by,
        "responsible_region_code": entry.responsible_region_code,
        "exit_deadline": entry.exit_deadline,
        "updated_at": project.updated_at,
    }


def detail_of(project: Project, cases: Iterable[Case]) -> ProjectDetail:
    entry = project_to_entry(project)
    return ProjectDetail(**_detail_fields(project, entry, cases))


def _detail_fields(
    project: Project, entry: LedgerEntry, cases: Iterable[Case]
) -> dict[str, object]:
    return {
        **_summary_fields(project, entry),
        "legal_representative": entry.legal_representative,
        "longitude": entry.longitude,
        "latitude": entry.latitude,
        "machines": [MachineModel(model=m.model, count=m.count) for m in entry.machines],
        "machine_count": entry.machine_count,
        "hashrate": entry.hashrate,
        "hashrate_unit": entry.hashrate_unit,
        "planned_production_date": entry.planned_production_date,
        "grid_account_no": entry.grid_account_no,
        "supply_line": entry.supply_line,
        "supply_plant": entry.supply_plant,
        "responsible_official": entry.responsible_official,
        "notes": entry.notes,
        "created_at": project.created_at,
        "cases": [
            LinkedCase(
                case_no=c.case_no,
                status=c.status.value,
                region_code=c.assigned_region_code or c.region_code,
                opened_at=c.opened_at,
            )
            for c in cases
        ],
    }


def saved_of(project: Project, cases: Iterable[Case], action: str) -> SavedProject:
    return SavedProject(**_detail_fields(project, project_to_entry(project), cases), action=action)


class ProjectIn(BaseModel):
    """One ledger row, as a system pushes it: the fields of the ledger workbook, by their
    English names. Leave ``project_code`` out for a project not yet in the ledger (the system
    numbers it); give it to update that project."""

    model_config = ConfigDict(allow_inf_nan=False)

    project_code: str | None = Field(None, max_length=40, examples=["XM-511824-0001"])
    project_name: str = Field("", max_length=200)
    enterprise_name: str = Field(min_length=1, max_length=200)
    enterprise_uscc: str = Field(min_length=18, max_length=18, examples=["91511824MA0000001X"])
    legal_representative: str | None = Field(None, max_length=100)
    site_address: str = Field(min_length=1, max_length=300)
    region_code: str = Field(pattern=r"^\d{6}$", description="The site's county (GB/T 2260)")
    longitude: float | None = Field(None, ge=73.0, le=136.0)
    latitude: float | None = Field(None, ge=3.0, le=54.0)
    site_type: SiteType = SiteType.OTHER
    status: ProjectStatus
    machines: list[MachineModel] = Field(default_factory=list, max_length=200)
    machine_count: int | None = Field(None, ge=0, le=2**31 - 1)
    hashrate: float | None = Field(None, ge=0)
    hashrate_unit: HashrateUnit | None = None
    rated_power_kw: float | None = Field(None, ge=0)
    monthly_energy_kwh: float | None = Field(None, ge=0)
    planned_production_date: date | None = None
    supply_kind: SupplyKind = SupplyKind.GRID
    grid_account_no: str | None = Field(None, max_length=40)
    supply_line: str | None = Field(None, max_length=200)
    supply_plant: str | None = Field(None, max_length=200)
    discovered_by: DiscoveryMethod
    responsible_region_code: str | None = Field(
        None,
        pattern=r"^\d{6}$",
        description="The county answering for the exit (default: the site's)",
    )
    responsible_official: str | None = Field(None, max_length=200)
    exit_deadline: date | None = None
    notes: str | None = Field(None, max_length=4000)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("contains control characters")
        return value

    def entry(self) -> LedgerEntry:
        """The ledger row (machines of the same model added up, text trimmed)."""
        counts: dict[str, int] = {}
        for machine in self.machines:
            model = machine.model.strip()
            counts[model] = counts.get(model, 0) + machine.count

        def text(value: str | None) -> str | None:
            return value.strip() or None if value is not None else None

        return LedgerEntry(
            project_code=text(self.project_code),
            project_name=self.project_name.strip(),
            enterprise_name=self.enterprise_name.strip(),
            enterprise_uscc=self.enterprise_uscc.strip().upper(),
            legal_representative=text(self.legal_representative),
            site_address=self.site_address.strip(),
            region_code=self.region_code,
            longitude=self.longitude,
            latitude=self.latitude,
            site_type=self.site_type,
            status=self.status,
            machines=tuple(MachineCount(m, c) for m, c in counts.items()),
            machine_count=self.machine_count,
            hashrate=self.hashrate,
            hashrate_unit=self.hashrate_unit,
            rated_power_kw=self.rated_power_kw,
            monthly_energy_kwh=self.monthly_energy_kwh,
            planned_production_date=self.planned_production_date,
            supply_kind=self.supply_kind,
            grid_account_no=text(self.grid_account_no),
            supply_line=text(self.supply_line),
            supply_plant=text(self.supply_plant),
            discovered_by=self.discovered_by,
            responsible_region_code=self.responsible_region_code or self.region_code,
            responsible_official=text(self.responsible_official),
            exit_deadline=self.exit_deadline,
            notes=text(self.notes),
        )


class ImportResult(BaseModel):
    """What an imported workbook did (or, checked only, would do)."""

    file_name: str
    checked_only: bool
    created: int
    updated: int
    unchanged: int
    total: int
    warnings: list[str]


class FieldChangeOut(BaseModel):
    field: str
    before: object | None
    after: object | None


class HistoryEvent(BaseModel):
    """One recorded change of a project, from the audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    reason: str | None
    changes: list[FieldChangeOut]


def history_of(events: Iterable[ProjectEvent]) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            seq=e.seq, at=e.at, actor=e.actor, action=e.action, reason=e.reason,
            changes=[FieldChangeOut(field=c.field, before=c.before, after=c.after)
                     for c in e.changes],
        )
        for e in events
    ]  # fmt: skip
