"""Keep the ledger: create and update projects, each change recorded in the audit chain.

Notice 1283 clauses (三)(四): every project's enterprise, scale, hash rate and consumption (and,
under construction, its planned production date), updated weekly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.db import utcnow
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.enterprises.service import EnterpriseData, get_by_uscc, save_enterprise
from minewatch.domain.ledger.models import Project, ProjectMachine
from minewatch.domain.ledger.search import jurisdiction_problems
from minewatch.errors import InputFileError, InputProblem, NotFoundError
from minewatch.reference import credit_code, regions
from minewatch.reference.ledger import (
    PROJECT_CODE_PATTERN,
    EnterpriseKind,
    LedgerEntry,
    MachineCount,
    SiteType,
    address_key,
    check_entry,
    entry_from_json,
    entry_to_json,
    site_key,
)

ENTITY = "project"


class SaveAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SaveOutcome:
    project_code: str
    action: SaveAction


def project_to_entry(project: Project) -> LedgerEntry:
    """The ledger row a project stands for."""
    return LedgerEntry(
        project_code=project.code,
        project_name=project.name,
        enterprise_name=project.enterprise.name,
        enterprise_uscc=project.enterprise.uscc,
        legal_representative=project.enterprise.legal_representative,
        site_address=project.site_address,
        region_code=project.region_code,
        longitude=project.longitude,
        latitude=project.latitude,
        site_type=project.site_type,
        status=project.status,
        machines=tuple(MachineCount(m.model, m.count) for m in project.machines),
        machine_count=project.machine_count,
        hashrate=project.hashrate,
        hashrate_unit=project.hashrate_unit,
        rated_power_kw=project.rated_power_kw,
        monthly_energy_kwh=project.monthly_energy_kwh,
        planned_production_date=project.planned_production_date,
        supply_kind=project.supply_kind,
        grid_account_no=project.grid_account_no,
        supply_line=project.supply_line,
        supply_plant=project.supply_plant,
        discovered_by=project.discovered_by,
        responsible_region_code=project.responsible_region_code,
        responsible_official=project.responsible_official,
        exit_deadline=project.exit_deadline,
        notes=project.notes,
    )


def project_image(project: Project) -> JsonObject:
    """The JSON image of a project that the audit chain records (its ledger row)."""
    return entry_to_json(project_to_entry(project))


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {p.code: project_image(p) for p in session.scalars(select(Project))}


register_state_reader(ENTITY, _all_images)


def next_project_code(session: Session, county_code: str) -> str:
    """The next free ``XM-<county>-<nnnn>`` code for a county."""
    prefix = f"XM-{county_code}-"
    codes = session.scalars(select(Project.code).where(Project.code.like(prefix + "%"))).all()
    numbers = [int(m["n"]) for c in codes if (m := PROJECT_CODE_PATTERN.match(c))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _enterprise_for(entry: LedgerEntry, *, known: bool) -> EnterpriseData:
    """What a ledger row says about its enterprise.

    A row says little: a data-centre or server-room site tells the kind; otherwise a new
    enterprise is taken to be a mining operator, and a known one keeps the kind it has.
    """
    embedded = credit_code.region_code_of(credit_code.validate(entry.enterprise_uscc))
    region = embedded if regions.find(embedded) is not None else entry.region_code
    default = EnterpriseKind.OTHER if known else EnterpriseKind.MINING_OPERATOR
    kind = {
        SiteType.STATE_OWNED_SERVER_ROOM: EnterpriseKind.STATE_OWNED_UNIT,
        SiteType.DATA_CENTRE: EnterpriseKind.DATA_CENTRE_OPERATOR,
    }.get(entry.site_type, default)
    return EnterpriseData(
        uscc=entry.enterprise_uscc,
        name=entry.enterprise_name,
        region_code=region,
        kind=kind,
        legal_representative=entry.legal_representative,
        state_owned=entry.site_type is SiteType.STATE_OWNED_SERVER_ROOM,
    )


def _apply(project: Project, entry: LedgerEntry) -> None:
    project.name = entry.project_name
    project.site_address = entry.site_address.strip()
    project.region_code = entry.region_code
    project.longitude = entry.longitude
    project.latitude = entry.latitude
    project.site_type = entry.site_type
    project.status = entry.status
    project.machine_count = entry.machine_count
    project.hashrate = entry.hashrate
    project.hashrate_unit = entry.hashrate_unit
    project.rated_power_kw = entry.rated_power_kw
    project.monthly_energy_kwh = entry.monthly_energy_kwh
    project.planned_production_date = entry.planned_production_date
    project.supply_kind = entry.supply_kind
    project.grid_account_no = entry.grid_account_no
    project.supply_line = entry.supply_line
    project.supply_plant = entry.supply_plant
    project.discovered_by = entry.discovered_by
    project.responsible_region_code = entry.responsible_region_code
    project.responsible_official = entry.responsible_official
    project.exit_deadline = entry.exit_deadline
    project.notes = entry.notes
    wanted = [(m.model, m.count) for m in entry.machines]
    if [(m.model, m.count) for m in project.machines] != wanted:
        project.machines.clear()
        # Flush the removals first so a model kept across the change does not collide.
        if project.id is not None:
            session = _session_of(project)
            session.flush()
        project.machines.extend(
            ProjectMachine(position=i, model=model, count=count)
            for i, (model, count) in enumerate(wanted)
        )


def _session_of(project: Project) -> Session:
    session = object_session(project)
    assert session is not None
    return session


def save_entry(
    session: Session,
    entry: LedgerEntry,
    *,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
) -> SaveOutcome:
    """Create the project (``project_code`` unknown or ``None``) or bring it to ``entry``.

    The enterprise is created or updated from the row first. Raises ``ValueError`` listing
    what is wrong with the row; writes nothing then.
    """
    problems = check_entry(entry)
    if problems:
        raise ValueError("; ".join(f"{f}: {r}" for f, r in problems))
    when = utcnow() if at is None else at
    known = get_by_uscc(session, entry.enterprise_uscc) is not None
    enterprise = save_enterprise(
        session, _enterprise_for(entry, known=known), actor=actor, at=when, reason=reason
    )
    project = None
    if entry.project_code is not None:
        project = session.scalar(select(Project).where(Project.code == entry.project_code))
    if project is None:
        code = entry.project_code or next_project_code(session, entry.responsible_region_code)
        project = Project(code=code, enterprise=enterprise, created_at=when, updated_at=when)
        _apply(project, replace(entry, project_code=code))
        session.add(project)
        session.flush()
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=code, action="create",
            before=None, after=project_image(project), reason=reason, at=when,
        )  # fmt: skip
        return SaveOutcome(code, SaveAction.CREATED)
    before = project_image(project)
    project.enterprise = enterprise
    _apply(project, entry)
    session.flush()
    after = project_image(project)
    if after == before:
        return SaveOutcome(project.code, SaveAction.UNCHANGED)
    project.updated_at = when
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=project.code, action="update",
        before=before, after=after, reason=reason, at=when,
    )  # fmt: skip
    return SaveOutcome(project.code, SaveAction.UPDATED)


def get_project(session: Session, code: str) -> Project:
    """The project with this code; raises :class:`NotFoundError`."""
    project = session.scalar(select(Project).where(Project.code == code))
    if project is None:
        raise NotFoundError(f"no project {code} in the ledger")
    return project


def current_entries(session: Session, *, within: str | None = None) -> list[LedgerEntry]:
    """The ledger as it stands, ordered by project code, optionally within one region."""
    projects = session.scalars(select(Project).order_by(Project.code)).all()
    entries = [project_to_entry(p) for p in projects]
    if within is None:
        return entries
    return [e for e in entries if regions.is_within(e.region_code, within)]


def count_projects(session: Session) -> int:
    """How many projects the ledger holds."""
    return session.scalar(select(func.count()).select_from(Project)) or 0


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def check_rows(
    session: Session,
    rows: Sequence[tuple[int, LedgerEntry]],
    *,
    column_of: dict[str, str] | None = None,
    within: str | None = None,
) -> list[InputProblem]:
    """Everything wrong with rows about to be written, by row and column, reading (not
    writing) the database: each row on its own, the caller's jurisdiction when ``within`` is
    given (:func:`minewatch.domain.ledger.search.jurisdiction_problems`), and new rows that
    duplicate a project already in the ledger (same enterprise, same address)."""
    headers = column_of or {}
    problems: list[InputProblem] = []
    for row_number, entry in rows:
        problems.extend(
            InputProblem(row_number, headers.get(f, f), reason)
            for f, reason in [*check_entry(entry), *_size_problems(entry)]
        )
    if within is not None:
        problems.extend(
            InputProblem(rows[p.index][0], headers.get(p.field, p.field), p.reason)
            for p in jurisdiction_problems(session, [e for _, e in rows], region_code=within)
        )
    existing = _existing_sites(session, [e for _, e in rows if e.project_code is None])
    for row_number, entry in rows:
        if entry.project_code is not None:
            continue
        try:
            key = site_key(entry)
        except credit_code.InvalidCreditCodeError:
            continue  # already reported by check_entry
        if key in existing:
            code, site_region = existing[key]
            shown = within is None or regions.is_within(site_region, within)
            where = f"as {code}; give that 项目编号 to update it" if shown else "of another region"
            problems.append(
                InputProblem(
                    row_number,
                    headers.get("project_code", "project_code"),
                    f"this enterprise's project at this address is already in the ledger {where}",
                )
            )
    problems.sort(key=lambda p: p.row or 0)
    return problems


def _column_length(column: object) -> int:
    length = getattr(getattr(column, "type", None), "length", None)
    assert isinstance(length, int)
    return length


_TEXT_LIMITS: dict[str, int] = {
    "project_code": _column_length(Project.__table__.c.code),
    "project_name": _column_length(Project.__table__.c.name),
    "site_address": _column_length(Project.__table__.c.site_address),
    "grid_account_no": _column_length(Project.__table__.c.grid_account_no),
    "supply_line": _column_length(Project.__table__.c.supply_line),
    "supply_plant": _column_length(Project.__table__.c.supply_plant),
    "responsible_official": _column_length(Project.__table__.c.responsible_official),
    "enterprise_name": _column_length(Enterprise.__table__.c.name),
    "legal_representative": _column_length(Enterprise.__table__.c.legal_representative),
}
"""The longest text each field's column holds [characters]."""
_MODEL_LIMIT = _column_length(ProjectMachine.__table__.c.model)
_COUNT_LIMIT = 2**31 - 1
"""The largest machine count an integer column holds."""


def _size_problems(entry: LedgerEntry) -> list[tuple[str, str]]:
    """Values too long or too large for their columns, as (field, reason) pairs."""
    problems = [
        (name, f"is {len(value)} characters long; at most {limit} fit")
        for name, limit in _TEXT_LIMITS.items()
        if isinstance(value := getattr(entry, name), str) and len(value.strip()) > limit
    ]
    if any(len(m.model) > _MODEL_LIMIT for m in entry.machines):
        problems.append(("machines", f"a model name is longer than {_MODEL_LIMIT} characters"))
    counts = [m.count for m in entry.machines] + [entry.machine_count or 0]
    if max(counts) > _COUNT_LIMIT:
        problems.append(("machine_count", f"{max(counts)} machines is more than can be recorded"))
    return problems


def import_rows(
    session: Session,
    rows: Sequence[tuple[int, LedgerEntry]],
    *,
    path: Path | str,
    actor: str,
    at: datetime | None = None,
    column_of: dict[str, str] | None = None,
    within: str | None = None,
) -> ImportSummary:
    """Import read ledger rows (Excel row number, entry) all or nothing.

    Every row is checked first (:func:`check_rows`, with ``within`` the importing official's
    region); any problem raises one :class:`InputFileError` naming each row and column, before
    anything is written. The caller's transaction makes the writes atomic.
    """
    problems = check_rows(session, rows, column_of=column_of, within=within)
    if problems:
        raise InputFileError(path, problems)
    when = utcnow() if at is None else at
    counts = dict.fromkeys(SaveAction, 0)
    for _, entry in rows:
        outcome = save_entry(
            session, entry, actor=actor, at=when, reason=f"ledger import {Path(path).name}"
        )
        counts[outcome.action] += 1
    return ImportSummary(
        created=counts[SaveAction.CREATED],
        updated=counts[SaveAction.UPDATED],
        unchanged=counts[SaveAction.UNCHANGED],
    )


def submit_entry(
    session: Session,
    entry: LedgerEntry,
    *,
    actor: str,
    within: str,
    source: str,
    at: datetime | None = None,
) -> SaveOutcome:
    """Save one entry a system or an official sends, checked as an imported row is
    (:func:`check_rows` within the sender's region ``within``); raises :class:`InputFileError`
    naming each field at fault (row 1, ``source`` as the file) before writing anything."""
    problems = check_rows(session, [(1, entry)], within=within)
    if problems:
        raise InputFileError(source, problems)
    return save_entry(session, entry, actor=actor, at=at, reason=f"submitted by {source}")


def _existing_sites(
    session: Session, entries: Sequence[LedgerEntry]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(credit code, address key) → (project code, site region) of the projects already in the
    ledger for the enterprises these entries name (only those are read, not the whole ledger)."""
    usccs = sorted({u for e in entries if (u := _valid_uscc(e.enterprise_uscc)) is not None})
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for start in range(0, len(usccs), 500):
        query = (
            select(Enterprise.uscc, Project.site_address, Project.code, Project.region_code)
            .join(Enterprise, Enterprise.id == Project.enterprise_id)
            .where(Enterprise.uscc.in_(usccs[start : start + 500]))
        )
        for uscc, address, code, region in session.execute(query):
            found[(uscc, address_key(address))] = (code, region)
    return found


def _valid_uscc(text: str) -> str | None:
    try:
        return credit_code.validate(text)
    except credit_code.InvalidCreditCodeError:
        return None


def entry_from_image(image: JsonObject) -> LedgerEntry:
    """A ledger row back from an audit image."""
    return entry_from_json(image)
