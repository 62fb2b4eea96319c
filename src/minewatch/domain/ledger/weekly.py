"""The ledger week by week: the ledger as of any week, week-over-week change, regional rollups.

Notice 1283 clause (三) asks for the ledger to be updated weekly (每周实时动态更新) and the
responsibility runs county → city → province (市县落实、省负总责). A week is an ISO week in
Asia/Shanghai time; the ledger "as of" a week is its state at the end of that Sunday, read back
from the images the audit chain recorded, so any past week can be reproduced exactly.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.ledger.service import ENTITY
from minewatch.reference import regions
from minewatch.reference.hardware import find_model
from minewatch.reference.ledger import HashrateUnit, LedgerEntry, ProjectStatus, entry_from_json

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NATIONAL = "000000"
_WEEK = re.compile(r"^(?P<year>\d{4})-?W(?P<week>\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week (Monday to Sunday, Asia/Shanghai)."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """Read ``2021-W40`` (or ``2021W40``), or a date ``2021-10-06`` meaning its week."""
        match = _WEEK.match(text.strip())
        if match:
            week = cls(int(match["year"]), int(match["week"]))
            try:
                week.monday  # noqa: B018 - validates the week number
            except ValueError:
                raise ValueError(f"{text!r}: {week.year} has no ISO week {week.week}") from None
            return week
        try:
            return cls.of(date.fromisoformat(text.strip()))
        except ValueError:
            raise ValueError(f"{text!r} is neither a week like 2021-W40 nor a date") from None

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def containing(cls, moment: datetime) -> Week:
        return cls.of(moment.astimezone(LOCAL_TZ).date())

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def end_at(self) -> datetime:
        """The first instant after the week (next Monday 00:00 local), in UTC."""
        return datetime.combine(self.monday + timedelta(days=7), time(), LOCAL_TZ).astimezone(UTC)

    def previous(self) -> Week:
        return Week.of(self.monday - timedelta(days=7))

    def next(self) -> Week:
        return Week.of(self.monday + timedelta(days=7))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def ledger_as_of(session: Session, moment: datetime) -> dict[str, LedgerEntry]:
    """The ledger as it stood just before ``moment``: project code → row, from the audit chain."""
    images: dict[str, str | None] = {}
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.after_json)
        .where(AuditEvent.entity_type == ENTITY, AuditEvent.at < moment)
        .order_by(AuditEvent.seq)
    )
    for entity_id, after_json in rows:
        images[entity_id] = after_json
    return {
        code: entry_from_json(json.loads(image))
        for code, image in sorted(images.items())
        if image is not None
    }


def ledger_of_week(session: Session, week: Week) -> dict[str, LedgerEntry]:
    """The ledger at the end of ``week``."""
    return ledger_as_of(session, week.end_at)


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    EXITED = "exited"


@dataclass(frozen=True)
class ProjectChange:
    """How one project changed between two ledgers; ``fields`` names what differs."""

    project_code: str
    kind: ChangeKind
    before: LedgerEntry | None
    after: LedgerEntry
    fields: tuple[str, ...] = ()


def diff_ledgers(
    previous: Mapping[str, LedgerEntry], current: Mapping[str, LedgerEntry]
) -> list[ProjectChange]:
    """Week-over-week change: ``new`` (not in the previous ledger), ``exited`` (was in
    construction or operating, now shut down or cleared), ``changed`` (anything else differs)."""
    changes: list[ProjectChange] = []
    for code, after in sorted(current.items()):
        before = previous.get(code)
        if before is None:
            changes.append(ProjectChange(code, ChangeKind.NEW, None, after))
            continue
        differing = tuple(
            f.name for f in fields(LedgerEntry) if getattr(before, f.name) != getattr(after, f.name)
        )
        if not differing:
            continue
        kind = (
            ChangeKind.EXITED
            if before.status.is_active and not after.status.is_active
            else ChangeKind.CHANGED
        )
        changes.append(ProjectChange(code, kind, before, after, differing))
    return changes


def sha256_hashrate_ths(entry: LedgerEntry) -> float:
    """The entry's SHA-256 (bitcoin) hash rate [TH/s]; 0 for other algorithms or none declared.

    The algorithm is read from the machines through the hardware catalogue; without known
    machines, a rate declared in TH/s or above is taken as SHA-256 (no other algorithm's
    machines reach it).
    """
    hashrate = entry.hashrate_hs
    if hashrate is None:
        return 0.0
    algorithms = {m.algorithm for mc in entry.machines if (m := find_model(mc.model)) is not None}
    if algorithms:
        return hashrate / 1e12 if algorithms == {"SHA-256"} else 0.0
    unit = entry.hashrate_unit
    big = unit is not None and unit.hashes_per_second >= HashrateUnit.THS.hashes_per_second
    sol = unit in (HashrateUnit.SOLS, HashrateUnit.KSOLS)
    return hashrate / 1e12 if big and not sol else 0.0


@dataclass
class RegionSummary:
    """One region's line in the weekly summary: live projects and this week's movement.

    Power, energy, machines and hash rate count live projects (in construction or operating);
    ``exited_power_kw`` is the rated power of the projects that exited this week.
    """

    region_code: str
    name: str
    level: str
    depth: int
    operating: int = 0
    in_construction: int = 0
    shut_down: int = 0
    cleared: int = 0
    machines: int = 0
    rated_power_kw: float = 0.0
    monthly_energy_kwh: float = 0.0
    hashrate_ths: float = 0.0
    new: int = 0
    changed: int = 0
    exited: int = 0
    exited_power_kw: float = 0.0
    children: list[str] = field(default_factory=list)

    @property
    def active(self) -> int:
        return self.operating + self.in_construction

    @property
    def total(self) -> int:
        return self.active + self.shut_down + self.cleared

    def add_entry(self, entry: LedgerEntry) -> None:
        match entry.status:
            case ProjectStatus.OPERATING:
                self.operating += 1
            case ProjectStatus.IN_CONSTRUCTION:
                self.in_construction += 1
            case ProjectStatus.SHUT_DOWN:
                self.shut_down += 1
            case ProjectStatus.CLEARED:
                self.cleared += 1
        if entry.status.is_active:
            self.machines += entry.total_machines
            self.rated_power_kw += entry.rated_power_kw or 0.0
            self.monthly_energy_kwh += entry.monthly_energy_kwh or 0.0
            self.hashrate_ths += sha256_hashrate_ths(entry)

    def add_change(self, change: ProjectChange) -> None:
        match change.kind:
            case ChangeKind.NEW:
                self.new += 1
            case ChangeKind.CHANGED:
                self.changed += 1
            case ChangeKind.EXITED:
                self.exited += 1
                before = change.before or change.after
                self.exited_power_kw += before.rated_power_kw or 0.0


def _chain(region_code: str) -> list[str]:
    """The rollup path of a site's region, most local first, ending with the nation."""
    county, prefecture, province = regions.county_prefecture_province(region_code)
    path = [c for c in (county, prefecture, province) if c is not None]
    deduped = [c for i, c in enumerate(path) if c not in path[:i]]
    return [*deduped, NATIONAL]


def rollup(
    ledger: Mapping[str, LedgerEntry],
    changes: Iterable[ProjectChange] = (),
    *,
    within: str | None = None,
) -> list[RegionSummary]:
    """Sum a ledger and its week's changes per county, city, province and the nation.

    Rows come in tree order (nation, then each province followed by its cities, each city by
    its counties). With ``within``, only that region and what lies below it are returned.
    """
    summaries: dict[str, RegionSummary] = {}

    def node(code: str) -> RegionSummary:
        if code not in summaries:
            if code == NATIONAL:
                summaries[code] = RegionSummary(NATIONAL, "全国", "national", 0)
            else:
                region = regions.get(code)
                summaries[code] = RegionSummary(code, region.name, region.level.value, 0)
        return summaries[code]

    def paths(entry: LedgerEntry) -> list[str]:
        return _chain(entry.region_code)

    for entry in ledger.values():
        for code in paths(entry):
            node(code).add_entry(entry)
    for change in changes:
        for code in paths(change.after):
            node(code).add_change(change)
    for entry in [*ledger.values(), *(c.after for c in changes)]:
        path = paths(entry)
        for child, parent in itertools.pairwise(path):
            if child not in node(parent).children:
                node(parent).children.append(child)

    ordered: list[RegionSummary] = []

    def walk(code: str, depth: int) -> None:
        summary = summaries[code]
        summary.depth = depth
        ordered.append(summary)
        for child in sorted(summary.children):
            walk(child, depth + 1)

    if summaries:
        walk(NATIONAL, 0)
    if within is None:
        return ordered
    inside = [
        s for s in ordered if s.region_code == within or regions.is_within(s.region_code, within)
    ]
    top = min((s.depth for s in inside), default=0)
    for s in inside:
        s.depth -= top
    return inside


@dataclass(frozen=True)
class WeeklyReport:
    """The ledger at the end of a week, its changes since the week before, and the rollup."""

    week: Week
    ledger: dict[str, LedgerEntry]
    changes: list[ProjectChange]
    summaries: list[RegionSummary]


def weekly_report(
    session: Session, week: Week, *, against: Week | None = None, within: str | None = None
) -> WeeklyReport:
    """Build the report for ``week``, compared with ``against`` (default: the week before)."""
    current = ledger_of_week(session, week)
    previous = ledger_of_week(session, against or week.previous())
    if within is not None:
        current = {c: e for c, e in current.items() if regions.is_within(e.region_code, within)}
        previous = {c: e for c, e in previous.items() if regions.is_within(e.region_code, within)}
    changes = diff_ledgers(previous, current)
    return WeeklyReport(week, current, changes, rollup(current, changes, within=within))


def weeks_with_history(session: Session) -> list[Week]:
    """Every week from the first recorded ledger change to the last."""
    first, last = session.execute(
        select(func.min(AuditEvent.at), func.max(AuditEvent.at)).where(
            AuditEvent.entity_type == ENTITY
        )
    ).one()
    if first is None or last is None:
        return []
    weeks: list[Week] = []
    week, end = Week.containing(first), Week.containing(last)
    while week <= end:
        weeks.append(week)
        week = week.next()
    return weeks


def summary_rows(
    summaries: Sequence[RegionSummary], max_depth: int | None = None
) -> list[RegionSummary]:
    """The summaries down to ``max_depth`` levels below the top."""
    return [s for s in summaries if max_depth is None or s.depth <= max_depth]
