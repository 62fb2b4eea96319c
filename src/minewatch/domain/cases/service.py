"""Cases: leads fused into sites, and every transition of the state machine as one function.

Each transition (:mod:`minewatch.domain.cases.states`) is checked three ways before anything is
written: the stage the case is in, the actor's role, and the actor's region (a user acts only on
cases in their region and below). It then sets the new stage and its deadline and appends one
event to the audit chain with the actor, the reason and the time, in the caller's transaction.

Two people editing one case at once cannot both win: the case row carries a version, and a write
made from a stale copy fails with :class:`ConcurrentEditError` instead of overwriting the other
(``expected_version`` lets a caller that showed the case to a user insist on the version the user
saw).

Fusion (:func:`fuse_leads`) attaches each open lead to the case of the same site — same account
number, same credit code, or an address that agrees down to the house number once both are read
into their components (full-width digits, Chinese numerals, 号/弄/栋 forms, omitted province) —
or opens a case. A server of a unit's inventory is a site of its own: a lead on a server (a probe's
finding, or a network finding traced through the unit's NAT log to it) joins only the case of
the same server, and other leads never join a server's case (the unit's credit code would
otherwise pull every server of a university into one case). A lead from a later week's scan is the
same lead row refreshed (one open lead per source and subject), so it stays on its case; a new
lead on a cleared site attaches to that case as evidence of a relapse for a person to judge.
Confidence combines the sources as independent witnesses, ``1 − Π(1 − pᵢ)`` over the best lead
of each source, so two sources agreeing count for more than one source repeating itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.exc import StaleDataError

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.address import (
    Address,
    MatchLevel,
    match_addresses,
    normalise_address,
)
from minewatch.domain.cases.models import (
    Case,
    CaseLead,
    CheckOutcome,
    Measure,
    MeasureKind,
    MeasureStatus,
    SiteCheck,
)
from minewatch.domain.cases.states import RULES, STAGE_DAYS, CaseStatus, Role, Transition, allowed
from minewatch.domain.db import utcnow
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import OPEN as LEAD_OPEN
from minewatch.domain.leads.service import LeadData, LeadSummary, lead_image, lead_key, record_leads
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.scope import answering_within
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import credit_code, regions
from minewatch.reference.ledger import (
    DiscoveryMethod,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
)

ENTITY = "case"
LEAD_ENTITY = "lead"
DISMISSED_LEAD = "dismissed"
"""A lead whose site was checked and found clean: a labelled negative for the detectors."""
CONFIRMED_LEAD = "confirmed"

_CLOSED = frozenset({CaseStatus.DISMISSED})
ADDRESS_LEVEL = MatchLevel.NUMBER
"""Two addresses name one site when they agree down to the house number (or further)…"""
SITE_RADIUS_M = 200.0
"""Two points this close are one site (a farm's sheds, a GPS fix and a map pin)."""
ADDRESS_SCORE = 0.6
"""…with at least this score (a conflicting building or room pulls it under)."""
_AFTER_CLEARING = frozenset({CaseStatus.CLEARED, CaseStatus.RECHECKED})


class CaseError(MineWatchError):
    """A case operation that cannot be done as asked."""


class TransitionRefusedError(CaseError):
    """The stage, the role or the region does not allow the transition."""


class ConcurrentEditError(CaseError):
    """Someone else changed the case since it was read."""


@dataclass(frozen=True)
class Actor:
    """Who takes an action: a user name, a role and the region they answer for."""

    name: str
    role: Role
    region_code: str = regions.NATIONAL

    def covers(self, region_code: str | None) -> bool:
        """Whether ``region_code`` lies in the actor's region (nothing but the nation covers a
        case whose region is not known)."""
        if self.region_code == regions.NATIONAL:
            return True
        return region_code is not None and regions.is_within(region_code, self.region_code)


@dataclass(frozen=True)
class CheckData:
    """What a site check found."""

    checked_on: date
    inspectors: Sequence[str]
    outcome: CheckOutcome
    rigs: dict[str, int] = field(default_factory=dict)
    """Rigs counted, by model."""
    mining_kw_observed: float | None = None
    attachments: Sequence[tuple[str, str]] = ()
    """(file name, SHA-256) of each photograph or record."""
    notes: str | None = None

    @property
    def rigs_found(self) -> int:
        return sum(self.rigs.values())


@dataclass(frozen=True)
class MeasureOrder:
    kind: MeasureKind
    due_date: date
    note: str | None = None


@dataclass(frozen=True)
class FusionSummary:
    opened: int
    attached: int
    already: int


@dataclass(frozen=True)
class OverdueCase:
    case_no: str
    status: CaseStatus
    region_code: str | None
    due_at: datetime
    days_overdue: int


# ----------------------------------------------------------------------------------------------
# images for the audit chain


def case_image(case: Case) -> JsonObject:
    """The audited state of a case (its leads, checks and measures included)."""
    return {
        "case_no": case.case_no,
        "status": case.status.value,
        "region_code": case.region_code,
        "assigned_region_code": case.assigned_region_code,
        "uscc": case.uscc,
        "account_no": case.account_no,
        **({"asset_key": case.asset_key} if case.asset_key else {}),
        "address": case.address,
        **(
            {"longitude": case.longitude, "latitude": case.latitude}
            if case.longitude is not None and case.latitude is not None
            else {}
        ),
        "confidence": round(case.confidence, 6),
        "sources": case.sources,
        "est_start_date": None if case.est_start_date is None else case.est_start_date.isoformat(),
        "est_mining_kw": case.est_mining_kw,
        "project_code": case.project_code,
        "dismissed_reason": case.dismissed_reason,
        "relapses": case.relapses,
        "stage_due_at": None
        if case.stage_due_at is None
        else case.stage_due_at.isoformat(timespec="seconds"),
        "leads": sorted(link.lead_id for link in case.leads),
        "checks": [
            {
                "checked_on": c.checked_on.isoformat(),
                "outcome": c.outcome.value,
                "rigs_found": c.rigs_found,
                "recheck": c.recheck,
            }
            for c in case.checks
        ],
        "measures": [
            {"kind": m.kind.value, "status": m.status.value, "due_date": m.due_date.isoformat()}
            for m in case.measures
        ],
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {c.case_no: case_image(c) for c in session.scalars(select(Case))}


register_state_reader(ENTITY, _all_images)


# ----------------------------------------------------------------------------------------------
# fusion


def _probability(score: float) -> float:
    return min(max(float(score), 0.0), 0.999)


def combined_confidence(leads: Iterable[Lead]) -> tuple[float, str]:
    """``1 − Π(1 − pᵢ)`` over the best lead of each source, and the sources, sorted."""
    best: dict[str, float] = {}
    for lead in leads:
        best[lead.source] = max(best.get(lead.source, 0.0), _probability(lead.score))
    miss = 1.0
    for p in best.values():
        miss *= 1.0 - p
    return 1.0 - miss, ",".join(sorted(best))


@lru_cache(maxsize=65_536)
def _read_address(text: str, region_hint: str | None) -> Address | None:
    """An address read once (fusion compares each case's address with every new lead in its
    county); ``None`` when there is nothing to read."""
    try:
        return normalise_address(text, region_hint=region_hint)
    except ValueError:
        return None


def _matching_case(session: Session, lead: Lead) -> tuple[Case | None, str, float]:
    """The live case of the lead's site, what it matched on and how well.

    A lead on a server joins only that server's case. An account number or a credit code is the
    same site outright; otherwise the addresses are
    read and compared (:func:`~minewatch.domain.cases.address.match_addresses`) with the live
    cases of the same county, and a match down to the house number or building joins them.
    """
    open_case = Case.status.not_in([s.value for s in _CLOSED])
    if lead.asset_key:  # a server is its own site
        case = session.scalar(
            select(Case).where(open_case, Case.asset_key == lead.asset_key).order_by(Case.id)
        )
        return (case, "asset", 1.0) if case is not None else (None, "", 0.0)
    live = and_(open_case, Case.asset_key.is_(None))
    for column, value, label in (
        (Case.account_no, lead.account_no, "account_no"),
        (Case.uscc, lead.uscc, "uscc"),
    ):
        if value:
            case = session.scalar(select(Case).where(live, column == value).order_by(Case.id))
            if case is not None:
                return case, label, 1.0
    if lead.longitude is not None and lead.latitude is not None:
        near = _nearest_case(session, lead.longitude, lead.latitude, live)
        if near is not None:
            return near
    if not lead.address or not lead.address.strip():
        return None, "", 0.0
    mine = _read_address(lead.address, lead.region_code)
    if mine is None or mine.county_code is None:
        return None, "", 0.0
    best: tuple[Case | None, str, float] = (None, "", 0.0)
    nearby = select(Case).where(live, Case.region_code == mine.county_code).order_by(Case.id)
    for case in session.scalars(nearby):
        theirs = _read_address(case.address, case.region_code) if case.address else None
        if theirs is None:
            continue
        match = match_addresses(mine, theirs)
        close = match.level.at_least(ADDRESS_LEVEL) and match.score >= ADDRESS_SCORE
        if close and match.score > best[2]:
            best = (case, f"address ({match.level.value})", match.score)
    return best


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance [m] (haversine on a 6,371 km sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def _nearest_case(
    session: Session, longitude: float, latitude: float, live: Any
) -> tuple[Case, str, float] | None:
    """The live case whose site lies within ``SITE_RADIUS_M`` of the point, nearest first."""
    box = SITE_RADIUS_M / 111_000.0  # degrees of latitude; a generous box for longitude too
    scale = max(math.cos(math.radians(latitude)), 0.1)
    candidates = session.scalars(
        select(Case).where(
            live,
            Case.latitude.between(latitude - box, latitude + box),
            Case.longitude.between(longitude - box / scale, longitude + box / scale),
        )
    )
    nearest: tuple[float, Case] | None = None
    for case in candidates:
        assert case.longitude is not None
        assert case.latitude is not None
        metres = _metres(longitude, latitude, case.longitude, case.latitude)
        if metres <= SITE_RADIUS_M and (nearest is None or metres < nearest[0]):
            nearest = (metres, case)
    if nearest is None:
        return None
    metres, case = nearest
    return case, f"coordinates ({metres:.0f} m)", 1.0 - metres / (2 * SITE_RADIUS_M)


def _next_case_no(session: Session, region_code: str | None, when: datetime) -> str:
    prefix = f"MW{(region_code or regions.NATIONAL)}{when.year}"
    count = session.scalar(select(func.count()).where(Case.case_no.startswith(prefix))) or 0
    return f"{prefix}{count + 1:06d}"


def _refresh_from_leads(case: Case) -> None:
    leads = [link.lead for link in case.leads]
    case.confidence, case.sources = combined_confidence(leads)
    starts = [lead.est_start_date for lead in leads if lead.est_start_date is not None]
    case.est_start_date = min(starts) if starts else None
    powers = [lead.est_mining_kw for lead in leads if lead.est_mining_kw is not None]
    case.est_mining_kw = max(powers) if powers else None
    for lead in leads:
        case.uscc = case.uscc or lead.uscc
        case.account_no = case.account_no or lead.account_no
        case.asset_key = case.asset_key or lead.asset_key
        case.address = case.address or lead.address
        case.region_code = case.region_code or lead.region_code
        if case.longitude is None and lead.longitude is not None and lead.latitude is not None:
            case.longitude, case.latitude = lead.longitude, lead.latitude
        case.enterprise_id = case.enterprise_id or lead.enterprise_id


def fuse_leads(
    session: Session,
    *,
    actor: str,
    leads: Iterable[Lead] | None = None,
    at: datetime | None = None,
) -> FusionSummary:
    """Attach every open lead (or ``leads``) to its site's case, opening cases as needed."""
    when = utcnow() if at is None else at
    todo = (
        list(session.scalars(select(Lead).where(Lead.status == LEAD_OPEN).order_by(Lead.id)))
        if leads is None
        else list(leads)
    )
    if leads is None:
        attached_ids = set(session.scalars(select(CaseLead.lead_id)))
    else:  # only these leads' links: a pushed batch must not read the whole table
        ids = [lead.id for lead in todo if lead.id is not None]
        attached_ids = set(
            session.scalars(select(CaseLead.lead_id).where(CaseLead.lead_id.in_(ids)))
        )
    opened = attached = already = 0
    for lead in todo:
        if lead.id in attached_ids:
            already += 1
            continue
        case, matched_on, score = _matching_case(session, lead)
        before = None if case is None else case_image(case)
        if case is None:
            case = Case(
                case_no=_next_case_no(session, lead.region_code, when),
                status=CaseStatus.OPEN,
                confidence=0.0,
                sources=lead.source,
                stage_entered_at=when,
                stage_due_at=when + timedelta(days=STAGE_DAYS[CaseStatus.OPEN]),
                opened_at=when,
                updated_at=when,
            )
            session.add(case)
            matched_on, score = "new site", 1.0
            opened += 1
        else:
            attached += 1
        case.leads.append(
            CaseLead(lead=lead, matched_on=matched_on, match_score=score, attached_at=when)
        )
        _refresh_from_leads(case)
        case.updated_at = when
        session.flush()
        attached_ids.add(lead.id)
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=case.case_no,
            action="open" if before is None else "attach_lead", before=before,
            after=case_image(case), reason=f"lead {lead.source}:{lead.subject} ({matched_on})",
            at=when,
        )  # fmt: skip
    return FusionSummary(opened=opened, attached=attached, already=already)


@dataclass(frozen=True)
class TouchedCase:
    """A case a batch of leads reached: opened by it, or joined by some of its leads."""

    case_no: str
    status: CaseStatus
    answering_region_code: str | None
    opened: bool
    items: tuple[int, ...]
    """The positions in the batch of the leads that reached it."""


@dataclass(frozen=True)
class Intake:
    """What a batch of leads did: the leads recorded, the fusion, the cases reached."""

    leads: LeadSummary
    fusion: FusionSummary
    cases: list[TouchedCase]


def take_leads(
    session: Session, leads: Sequence[LeadData], *, actor: Actor, at: datetime | None = None
) -> Intake:
    """Record a batch of leads (a grid company's or an ISP's push) and fuse them into cases, in
    the caller's transaction: the batch lands whole or, if anything fails, not at all."""
    when = utcnow() if at is None else at
    summary = record_leads(session, leads, actor=actor.name, at=when)
    rows: list[Lead] = []
    for data in leads:
        lead = session.scalar(
            select(Lead).where(
                Lead.source == data.source, Lead.subject == data.subject, Lead.status == LEAD_OPEN
            )
        )
        assert lead is not None, "record_leads keeps one open lead per source and subject"
        rows.append(lead)
    fusion = fuse_leads(session, actor=actor.name, leads=rows, at=when)
    links = {
        link.lead_id: link
        for link in session.scalars(
            select(CaseLead).where(CaseLead.lead_id.in_([lead.id for lead in rows]))
        )
    }
    touched: dict[str, tuple[Case, bool, list[int]]] = {}
    for index, lead in enumerate(rows):
        link = links.get(lead.id)
        if link is None:
            continue
        case = link.case
        opened = link.matched_on == "new site" and link.attached_at == when
        _, was_opened, items = touched.setdefault(case.case_no, (case, opened, []))
        touched[case.case_no] = (case, was_opened or opened, [*items, index])
    return Intake(
        leads=summary,
        fusion=fusion,
        cases=[
            TouchedCase(
                case_no=case.case_no,
                status=case.status,
                answering_region_code=case.assigned_region_code or case.region_code,
                opened=opened,
                items=tuple(items),
            )
            for case, opened, items in touched.values()
        ],
    )


# ----------------------------------------------------------------------------------------------
# transitions


def get_case(session: Session, case_no: str) -> Case:
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise CaseError(f"no case {case_no}")
    return case


def _check(case: Case, transition: Transition, actor: Actor, reason: str | None) -> None:
    """Raise :class:`TransitionRefusedError` unless the stage, role, region and reason allow it."""
    refusal = allowed(transition, case.status, actor.role)
    region = case.assigned_region_code or case.region_code
    if refusal is None and not actor.covers(region):
        refusal = (
            f"case {case.case_no} lies in {region or 'an unknown region'}, outside "
            f"{actor.region_code} of {actor.name}"
        )
    if refusal is None and RULES[transition].needs_reason and not (reason and reason.strip()):
        refusal = f"{transition.value} needs a reason"
    if refusal is not None:
        raise TransitionRefusedError(refusal)


def _transition(
    session: Session,
    case_no: str,
    transition: Transition,
    *,
    actor: Actor,
    reason: str | None,
    at: datetime | None,
    expected_version: int | None,
    change: Callable[[Case, datetime], None],
) -> Case:
    """Check, apply ``change``, move to the transition's target stage, audit."""
    when = utcnow() if at is None else at
    case = get_case(session, case_no)
    if expected_version is not None and case.version != expected_version:
        raise ConcurrentEditError(
            f"case {case_no} is at version {case.version}, not {expected_version}: "
            "someone changed it; reload and try again"
        )
    _check(case, transition, actor, reason)
    rule = RULES[transition]
    before = case_image(case)
    try:
        change(case, when)
        case.status = rule.target
        case.stage_entered_at = when
        days = STAGE_DAYS.get(rule.target)
        case.stage_due_at = None if days is None else when + timedelta(days=days)
        case.updated_at = when
        session.flush()
    except StaleDataError as error:
        raise ConcurrentEditError(
            f"case {case_no} was changed by someone else while {actor.name} edited it"
        ) from error
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=case_no,
        action=transition.value, before=before, after=case_image(case), reason=reason, at=when,
    )  # fmt: skip
    return case


def assign(
    session: Session,
    case_no: str,
    county_code: str,
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Hand the case to a county in the actor's region (again, to hand it on)."""
    region = regions.find(county_code)
    if region is None or region.level != regions.RegionLevel.COUNTY:
        raise CaseError(f"{county_code} is not a county code")
    if not actor.covers(county_code):
        raise TransitionRefusedError(
            f"{county_code} is outside {actor.region_code} of {actor.name}"
        )

    def change(case: Case, _when: datetime) -> None:
        case.assigned_region_code = county_code

    return _transition(
        session, case_no, Transition.ASSIGN, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def _site_check(data: CheckData, when: datetime, *, recheck: bool) -> SiteCheck:
    if not data.inspectors:
        raise CaseError("a site check names its inspectors")
    if any(count < 0 for count in data.rigs.values()):
        raise CaseError("rig counts cannot be negative")
    return SiteCheck(
        checked_on=data.checked_on,
        inspectors="、".join(data.inspectors),
        outcome=data.outcome,
        rigs_found=data.rigs_found,
        rigs_json=json.dumps(dict(data.rigs), ensure_ascii=False, sort_keys=True),
        mining_kw_observed=data.mining_kw_observed,
        attachments_json=json.dumps(
            [{"name": n, "sha256": h} for n, h in data.attachments], ensure_ascii=False
        ),
        notes=data.notes,
        recorded_at=when,
        recheck=recheck,
    )


def record_check(
    session: Session,
    case_no: str,
    data: CheckData,
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Record what the site check found; the county then confirms or dismisses."""
    if data.outcome == CheckOutcome.MINING_FOUND and data.rigs_found == 0:
        raise CaseError("mining found on site: count the rigs")

    def change(case: Case, when: datetime) -> None:
        case.checks.append(_site_check(data, when, recheck=False))

    return _transition(
        session, case_no, Transition.CHECK, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def _set_leads(session: Session, case: Case, status: str, actor: Actor, when: datetime) -> None:
    for link in case.leads:
        lead = link.lead
        if lead.status == status:
            continue
        before = lead_image(lead)
        lead.status = status
        session.flush()
        append_event(
            session, actor=actor.name, entity_type=LEAD_ENTITY,
            entity_id=lead_key(lead), action=status,
            before=before, after=lead_image(lead), reason=f"case {case.case_no}", at=when,
        )  # fmt: skip


_DISCOVERY = {
    "meters": DiscoveryMethod.ELECTRICITY_ANALYSIS,
    "plants": DiscoveryMethod.ELECTRICITY_ANALYSIS,
    "network": DiscoveryMethod.NETWORK_MONITORING,
    "report": DiscoveryMethod.PUBLIC_REPORT,
}


def ledger_entry_from_case(session: Session, case: Case) -> LedgerEntry | None:
    """The ledger row a confirmed case makes: its enterprise, site, county, the rigs counted on
    site and the load measured there (or estimated), mining since the estimated start, found by
    its first source; ``None`` when the case does not know the enterprise's credit code, name or
    the site (the county then enters the project by `ledger import`). A project already in the
    ledger on the same account is updated rather than entered twice."""
    check = case.checks[-1] if case.checks else None
    county = case.assigned_region_code or case.region_code
    name = case.enterprise.name if case.enterprise is not None else None
    if name is None:
        name = next((lk.lead.customer_name for lk in case.leads if lk.lead.customer_name), None)
    if not (case.uscc and credit_code.is_valid(case.uscc) and name and case.address and county):
        return None
    existing = None
    if case.account_no:
        existing = session.scalar(
            select(Project.code).where(Project.grid_account_no == case.account_no).limit(1)
        )
    rigs = json.loads(check.rigs_json) if check is not None else {}
    kw = (check.mining_kw_observed if check is not None else None) or case.est_mining_kw
    first = min(case.leads, key=lambda lk: lk.id).lead.source if case.leads else ""
    return LedgerEntry(
        project_code=existing,
        enterprise_name=name,
        enterprise_uscc=credit_code.validate(case.uscc),
        site_address=case.address,
        region_code=county,
        site_type=SiteType.OTHER,
        status=ProjectStatus.OPERATING,
        discovered_by=_DISCOVERY.get(first, DiscoveryMethod.INSPECTION),
        responsible_region_code=county,
        project_name=f"{case.case_no} 查实项目",
        machines=tuple(MachineCount(model, count) for model, count in sorted(rigs.items())),
        rated_power_kw=kw,
        monthly_energy_kwh=None if kw is None else round(kw * 24 * 365 / 12, 1),
        planned_production_date=case.est_start_date,
        supply_kind=SupplyKind.GRID if case.account_no else SupplyKind.PLANT_DIRECT_LINE,
        grid_account_no=case.account_no,
        notes=f"由案件 {case.case_no} 现场核查查实",
    )


def confirm(
    session: Session,
    case_no: str,
    *,
    actor: Actor,
    entry: LedgerEntry | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Mining confirmed: the project enters (or is updated in) the ledger, from ``entry`` or, by
    default, from the case itself (:func:`ledger_entry_from_case`); an enterprise bound by a
    credit commitment gets its credit record."""
    case = get_case(session, case_no)
    last = case.checks[-1] if case.checks else None
    if last is None or last.outcome != CheckOutcome.MINING_FOUND:
        raise TransitionRefusedError(f"case {case_no}: the last site check did not find mining")

    def change(case: Case, when: datetime) -> None:
        row = entry if entry is not None else ledger_entry_from_case(session, case)
        if row is not None:
            outcome = save_entry(
                session, row, actor=actor.name, at=when, reason=f"case {case.case_no}"
            )
            case.project_code = outcome.project_code
        _set_leads(session, case, CONFIRMED_LEAD, actor, when)

    confirmed = _transition(
        session, case_no, Transition.CONFIRM, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip
    _credit_record_if_committed(session, confirmed, actor, at)
    return confirmed


def _credit_record_if_committed(
    session: Session, case: Case, actor: Actor, at: datetime | None
) -> None:
    """Clause 九: a confirmed case against an enterprise that signed a commitment not to mine
    becomes its credit record (made once; see :mod:`minewatch.domain.credit`)."""
    from minewatch.domain.credit.service import find_in_force, record_breach

    if not case.uscc or not credit_code.is_valid(case.uscc):
        return
    started = case.est_start_date or (utcnow() if at is None else at).date()
    if find_in_force(session, case.uscc, started) is not None:
        record_breach(session, case.case_no, actor=actor, at=at)


def dismiss(
    session: Session,
    case_no: str,
    *,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """No mining: the reason is kept and every lead of the case becomes a labelled negative."""

    def change(case: Case, when: datetime) -> None:
        case.dismissed_reason = reason
        _set_leads(session, case, DISMISSED_LEAD, actor, when)

    return _transition(
        session, case_no, Transition.DISMISS, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def order_measures(
    session: Session,
    case_no: str,
    orders: Sequence[MeasureOrder],
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Order measures of the notice on a confirmed case, each with its clause, agency and due
    date (a kind already ordered and not completed is not ordered twice)."""
    if not orders:
        raise CaseError("order at least one measure")

    def change(case: Case, when: datetime) -> None:
        pending = {m.kind for m in case.measures if m.status == MeasureStatus.ORDERED}
        for order in orders:
            if order.due_date < when.date():
                raise CaseError(f"{order.kind.value}: due date {order.due_date} is in the past")
            if order.kind in pending:
                continue
            case.measures.append(
                Measure(
                    kind=order.kind, clause=order.kind.clause, agency=order.kind.agency,
                    status=MeasureStatus.ORDERED, due_date=order.due_date, ordered_at=when,
                    note=order.note,
                )
            )  # fmt: skip
            if order.kind is MeasureKind.SURCHARGE:
                # the account enters the surcharge list (clause 十三) with the order
                from minewatch.domain.measures.service import list_account

                list_account(session, case, actor=actor.name, at=when)

    return _transition(
        session, case_no, Transition.ORDER, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def complete_measure(
    session: Session,
    case_no: str,
    kind: MeasureKind,
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Mark one ordered measure done; with the last one the case reaches measures completed."""
    case = get_case(session, case_no)
    open_ = [m for m in case.measures if m.status == MeasureStatus.ORDERED]
    target = next((m for m in open_ if m.kind == kind), None)
    if target is None:
        raise CaseError(f"case {case_no} has no open {kind.value} measure")
    if len(open_) > 1:
        # one measure done, others pending: the case stays where it is, the measure is audited
        if expected_version is not None and case.version != expected_version:
            raise ConcurrentEditError(
                f"case {case_no} is at version {case.version}, not {expected_version}: "
                "someone changed it; reload and try again"
            )
        _check(case, Transition.COMPLETE, actor, reason)
        when = utcnow() if at is None else at
        before = case_image(case)
        target.status, target.completed_at = MeasureStatus.COMPLETED, when
        case.updated_at = when
        try:
            session.flush()
        except StaleDataError as error:
            raise ConcurrentEditError(f"case {case_no} was changed by someone else") from error
        append_event(
            session, actor=actor.name, entity_type=ENTITY, entity_id=case_no,
            action="complete_measure", before=before, after=case_image(case),
            reason=reason or kind.value, at=when,
        )  # fmt: skip
        return case

    def change(_case: Case, when: datetime) -> None:
        target.status, target.completed_at = MeasureStatus.COMPLETED, when

    return _transition(
        session, case_no, Transition.COMPLETE, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def clear(
    session: Session,
    case_no: str,
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Every measure done: the site is cleared, and due for its re-check."""
    return _transition(
        session, case_no, Transition.CLEAR, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=lambda _case, _when: None,
    )  # fmt: skip


def recheck(
    session: Session,
    case_no: str,
    data: CheckData,
    *,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Re-check a cleared site. Clean, the case is re-checked (dynamic zero for the site); mining
    found again, it relapses: back to assigned, to be confirmed and measured again."""
    relapsed = data.outcome == CheckOutcome.MINING_FOUND
    if relapsed and data.rigs_found == 0:
        raise CaseError("mining found on site: count the rigs")

    def change(case: Case, when: datetime) -> None:
        case.checks.append(_site_check(data, when, recheck=True))
        if relapsed:
            case.relapses += 1

    transition = Transition.RELAPSE if relapsed else Transition.RECHECK
    why = reason or ("mining found again on re-check" if relapsed else None)
    return _transition(
        session, case_no, transition, actor=actor, reason=why, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


def reopen(
    session: Session,
    case_no: str,
    *,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Reopen a dismissed case (new evidence, an appeal): its leads are open again."""

    def change(case: Case, when: datetime) -> None:
        case.dismissed_reason = None
        _set_leads(session, case, LEAD_OPEN, actor, when)

    return _transition(
        session, case_no, Transition.REOPEN, actor=actor, reason=reason, at=at,
        expected_version=expected_version, change=change,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# lists


def cases_within(session: Session, actor: Actor) -> list[Case]:
    """The cases an actor may see: in their region and below (by the assigned county, else the
    site's region; a case with no region only for the nation), most confident first."""
    query = (
        select(Case)
        .where(answering_within(Case.assigned_region_code, Case.region_code, actor.region_code))
        .order_by(Case.confidence.desc(), Case.case_no)
    )
    return list(session.scalars(query))


class CaseSort(StrEnum):
    """How a case list is ordered (each with the case number as the tie-break)."""

    CONFIDENCE = "confidence"
    """Most confident first."""
    NEWEST = "newest"
    """Most recently opened first."""
    OLDEST = "oldest"
    DUE = "due"
    """Nearest stage deadline first (most overdue at the top; no deadline last)."""
    UPDATED = "updated"
    """Most recently changed first."""
    CASE_NO = "case_no"


@dataclass(frozen=True)
class CaseQuery:
    """What a case list is filtered by; every filter narrows the actor's own region."""

    statuses: Sequence[CaseStatus] = ()
    source: str | None = None
    """A lead source the case has (``meters``, ``network``, ``plants``, ``report``, …)."""
    region_code: str | None = None
    """The answering region (assigned county, else the site's region) lies here or below."""
    overdue: bool = False
    """Only cases past their stage's deadline."""
    text: str | None = None
    """Part of the case number, address, account number, credit code, or the enterprise's name
    (registered, or as a lead of the case gives it)."""
    sort: CaseSort = CaseSort.CONFIDENCE


_ORDER: dict[CaseSort, tuple[Any, ...]] = {
    CaseSort.CONFIDENCE: (Case.confidence.desc(), Case.case_no),
    CaseSort.NEWEST: (Case.opened_at.desc(), Case.case_no.desc()),
    CaseSort.OLDEST: (Case.opened_at, Case.case_no),
    CaseSort.DUE: (Case.stage_due_at.is_(None), Case.stage_due_at, Case.case_no),
    CaseSort.UPDATED: (Case.updated_at.desc(), Case.case_no),
    CaseSort.CASE_NO: (Case.case_no,),
}


def like_pattern(text: str) -> str:
    """``%text%`` with the wildcards of ``text`` escaped (``\\`` is the escape character)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _case_filters(actor: Actor, query: CaseQuery, now: datetime) -> list[ColumnElement[bool]]:
    where = [answering_within(Case.assigned_region_code, Case.region_code, actor.region_code)]
    if query.region_code:
        where.append(
            answering_within(Case.assigned_region_code, Case.region_code, query.region_code)
        )
    if query.statuses:
        where.append(Case.status.in_(list(query.statuses)))
    if query.source:
        # the sources are a sorted comma-joined list: match one whole name
        where.append(
            (literal(",") + Case.sources + literal(",")).like(
                like_pattern(f",{query.source},"), escape="\\"
            )
        )
    if query.overdue:
        where.append(Case.stage_due_at.is_not(None))
        where.append(Case.stage_due_at < now)
    text = (query.text or "").strip()
    if text:
        pattern = like_pattern(text)
        named = select(Enterprise.id).where(Enterprise.name.ilike(pattern, escape="\\"))
        # the name a lead gives, for a site whose enterprise is not (yet) registered
        told = (
            select(CaseLead.id)
            .join(Lead, Lead.id == CaseLead.lead_id)
            .where(CaseLead.case_id == Case.id, Lead.customer_name.ilike(pattern, escape="\\"))
            .exists()
        )
        where.append(
            or_(
                Case.case_no.ilike(pattern, escape="\\"),
                Case.address.ilike(pattern, escape="\\"),
                Case.account_no.ilike(pattern, escape="\\"),
                Case.uscc.ilike(pattern, escape="\\"),
                Case.enterprise_id.in_(named),
                told,
            )
        )
    return where


def search_cases(
    session: Session,
    actor: Actor,
    query: CaseQuery | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[Case], int]:
    """One page of the cases the actor may see, filtered and sorted in SQL, and how many match.

    The actor's region always applies (:func:`~minewatch.domain.scope.answering_within`); a
    ``region_code`` filter outside it simply matches nothing. The rows come with their
    enterprise; their leads, checks and measures are not loaded (a list shows none of them).
    """
    query = query or CaseQuery()
    where = _case_filters(actor, query, utcnow() if now is None else now)
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    rows = session.scalars(
        select(Case)
        .where(*where)
        .options(
            joinedload(Case.enterprise),
            lazyload(Case.leads),
            lazyload(Case.checks),
            lazyload(Case.measures),
        )
        .order_by(*_ORDER[query.sort])
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def find_case(session: Session, case_no: str, actor: Actor) -> Case:
    """The case, if the actor may see it; :class:`~minewatch.errors.NotFoundError` if there is
    none *or* it lies outside the actor's region (a case elsewhere is not admitted to exist)."""
    case = session.scalar(
        select(Case).where(Case.case_no == case_no).options(joinedload(Case.enterprise))
    )
    if case is None or not actor.covers(case.assigned_region_code or case.region_code):
        raise NotFoundError("case not found")  # the same words whether it exists or not
    return case


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """Whether the case is past its stage's deadline."""
    when = utcnow() if now is None else now
    return case.stage_due_at is not None and case.stage_due_at < when


def overdue_cases(
    session: Session, *, now: datetime | None = None, within: str = regions.NATIONAL
) -> dict[str, list[OverdueCase]]:
    """Cases past their stage's deadline, by the region answering for them (the assigned county,
    else the site's region), most overdue first."""
    when = utcnow() if now is None else now
    rows = session.scalars(
        select(Case)
        .where(Case.stage_due_at.is_not(None), Case.stage_due_at < when)
        .order_by(Case.stage_due_at)
    )
    out: dict[str, list[OverdueCase]] = {}
    for case in rows:
        region = case.assigned_region_code or case.region_code
        if within != regions.NATIONAL and (region is None or not regions.is_within(region, within)):
            continue
        assert case.stage_due_at is not None
        out.setdefault(region or "unknown", []).append(
            OverdueCase(
                case_no=case.case_no,
                status=case.status,
                region_code=region,
                due_at=case.stage_due_at,
                days_overdue=(when - case.stage_due_at).days,
            )
        )
    return out


def case_leads_after_clearing(case: Case) -> list[Lead]:
    """Leads attached after the case was cleared: evidence of a relapse for a person to judge."""
    if case.status not in _AFTER_CLEARING:
        return []
    return [link.lead for link in case.leads if link.attached_at >= case.stage_entered_at]


@dataclass(frozen=True)
class LeadLabel:
    """A lead whose site was judged: what a detector can learn from."""

    source: str
    subject: str
    label: str
    """``mining`` (confirmed on site) or ``not_mining`` (dismissed)."""
    case_no: str
    decided_at: datetime
    reason: str | None
    reasons: str
    """The detector's own reason codes when it raised the lead."""


def lead_labels(session: Session, source: str | None = None) -> list[LeadLabel]:
    """Every lead on a confirmed or dismissed case, labelled by what the site check found."""
    query = select(CaseLead).join(Lead).where(Lead.status.in_([CONFIRMED_LEAD, DISMISSED_LEAD]))
    if source is not None:
        query = query.where(Lead.source == source)
    out = []
    for link in session.scalars(query.order_by(CaseLead.id)):
        lead, case = link.lead, link.case
        out.append(
            LeadLabel(
                source=lead.source,
                subject=lead.subject,
                label="mining" if lead.status == CONFIRMED_LEAD else "not_mining",
                case_no=case.case_no,
                decided_at=case.updated_at,
                reason=case.dismissed_reason,
                reasons=lead.reasons,
            )
        )
    return out
