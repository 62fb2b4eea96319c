"""Record detector findings as leads, linked to the enterprise they belong to.

A lead is linked by the credit code in the grid's customer archive (or, for a network lead, in
the ISP's allocation record of the miner's address), or else by the account number, through a
ledger project supplied on that account. One open lead per source and
subject: a later scan refreshes the evidence of the open lead rather than opening another.
Every creation and change is an event in the audit chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.db import utcnow
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.enterprises.service import get_by_uscc
from minewatch.domain.leads.models import Lead
from minewatch.domain.ledger.models import Project
from minewatch.domain.scope import within
from minewatch.reference import credit_code, regions

ENTITY = "lead"
OPEN = "new"


@dataclass(frozen=True)
class LeadData:
    """One finding as the service layer takes it (detector-neutral)."""

    source: str
    subject: str
    score: float
    category: str
    reasons: str
    evidence: JsonObject
    account_no: str | None = None
    customer_name: str | None = None
    uscc: str | None = None
    address: str | None = None
    region_code: str | None = None
    est_start_date: date | None = None
    est_mining_kw: float | None = None
    est_rigs: int | None = None
    est_hashrate_ths: float | None = None
    uscc_source: str | None = None
    """Where ``uscc`` came from when not from the customer archive (``ip_allocation``: an ISP's
    allocation record of the miner's address); recorded as the lead's ``linked_by``."""
    longitude: float | None = None
    latitude: float | None = None
    """Where the site is, when the source knows (a ledger project, a report's map pin) [WGS-84°]."""
    asset_key: str | None = None
    """The server of a unit's inventory the finding is on (``["unit", "asset id"]`` as JSON):
    a probe's finding, or a network finding traced through the unit's NAT log to the server."""


@dataclass(frozen=True)
class LeadSummary:
    created: int
    updated: int
    unchanged: int
    linked: int


def lead_image(lead: Lead) -> JsonObject:
    """What the audit chain records of a lead."""
    return {
        "source": lead.source,
        "subject": lead.subject,
        "status": lead.status,
        "account_no": lead.account_no,
        "customer_name": lead.customer_name,
        "uscc": lead.uscc,
        "address": lead.address,
        "region_code": lead.region_code,
        "enterprise_uscc": lead.enterprise.uscc if lead.enterprise else None,
        "linked_by": lead.linked_by,
        "score": lead.score,
        "category": lead.category,
        "est_start_date": lead.est_start_date.isoformat() if lead.est_start_date else None,
        "est_mining_kw": lead.est_mining_kw,
        "est_rigs": lead.est_rigs,
        "est_hashrate_ths": lead.est_hashrate_ths,
        "reasons": lead.reasons,
        "evidence": json.loads(lead.evidence_json),
        # coordinates only when known, so that records made before they were kept still match
        **(
            {"longitude": lead.longitude, "latitude": lead.latitude}
            if lead.longitude is not None and lead.latitude is not None
            else {}
        ),
        # the server only when known, so that records made before servers were kept still match
        **({"asset_key": lead.asset_key} if lead.asset_key else {}),
    }


def lead_key(lead: Lead) -> str:
    return f"{lead.source}:{lead.subject}"[:50] + f"#{lead.id}"


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {lead_key(lead): lead_image(lead) for lead in session.scalars(select(Lead))}


register_state_reader(ENTITY, _all_images)


def _link(session: Session, data: LeadData) -> tuple[Enterprise | None, str | None]:
    if data.uscc and credit_code.is_valid(data.uscc):
        enterprise = get_by_uscc(session, data.uscc)
        if enterprise is not None:
            return enterprise, data.uscc_source or "uscc"
    if data.account_no:
        project = session.scalar(
            select(Project).where(Project.grid_account_no == data.account_no).limit(1)
        )
        if project is not None:
            return project.enterprise, "account_no"
    return None, None


def record_leads(
    session: Session, leads: Iterable[LeadData], *, actor: str, at: datetime | None = None
) -> LeadSummary:
    """Create or refresh one open lead per (source, subject); audit every change."""
    when = utcnow() if at is None else at
    created = updated = unchanged = linked = 0
    for data in leads:
        enterprise, linked_by = _link(session, data)
        linked += enterprise is not None
        lead = session.scalar(
            select(Lead).where(
                Lead.source == data.source, Lead.subject == data.subject, Lead.status == OPEN
            )
        )
        before = lead_image(lead) if lead is not None else None
        if lead is None:
            lead = Lead(source=data.source, subject=data.subject, status=OPEN,
                        first_seen_at=when, last_seen_at=when)  # fmt: skip
            session.add(lead)
        lead.account_no = data.account_no
        lead.customer_name = data.customer_name
        lead.uscc = credit_code.validate(data.uscc) if data.uscc and credit_code.is_valid(
            data.uscc
        ) else data.uscc  # fmt: skip
        lead.address = data.address
        lead.asset_key = data.asset_key
        lead.region_code = data.region_code
        lead.enterprise = enterprise
        lead.linked_by = linked_by
        lead.score = data.score
        lead.category = data.category
        lead.est_start_date = data.est_start_date
        lead.est_mining_kw = data.est_mining_kw
        lead.est_rigs = data.est_rigs
        lead.est_hashrate_ths = data.est_hashrate_ths
        lead.longitude, lead.latitude = data.longitude, data.latitude
        lead.reasons = data.reasons
        lead.evidence_json = json.dumps(data.evidence, ensure_ascii=False, sort_keys=True)
        session.flush()
        after = lead_image(lead)
        if before == after:
            unchanged += 1
            continue
        lead.last_seen_at = when
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=lead_key(lead),
            action="create" if before is None else "update", before=before, after=after,
            reason=f"{data.source} scan", at=when,
        )  # fmt: skip
        if before is None:
            created += 1
        else:
            updated += 1
    return LeadSummary(created=created, updated=updated, unchanged=unchanged, linked=linked)


def open_leads(session: Session, source: str | None = None) -> list[Lead]:
    """Open leads, highest score first."""
    query = select(Lead).where(Lead.status == OPEN).order_by(Lead.score.desc(), Lead.id)
    if source is not None:
        query = query.where(Lead.source == source)
    return list(session.scalars(query))


@dataclass(frozen=True)
class LeadQuery:
    """What a lead list is filtered by; every filter narrows the caller's own region."""

    source: str | None = None
    status: str | None = None
    """``new`` (open), ``confirmed`` or ``dismissed``."""
    region_code: str | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class LeadHit:
    """A lead of a list, with the case it joined when the caller may see that case."""

    lead: Lead
    case_no: str | None


def search_leads(
    session: Session,
    region_code: str,
    query: LeadQuery | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[LeadHit], int]:
    """One page of the leads in ``region_code`` (the caller's) and below, highest score first,
    and how many match. A lead's case is named only when the case itself answers to a region
    inside the caller's (fusion by account number may join a lead to a case elsewhere)."""
    from minewatch.domain.cases.models import Case, CaseLead

    query = query or LeadQuery()
    where = [within(Lead.region_code, region_code)]
    if query.region_code:
        where.append(within(Lead.region_code, query.region_code))
    if query.source:
        where.append(Lead.source == query.source)
    if query.status:
        where.append(Lead.status == query.status)
    if query.min_score is not None:
        where.append(Lead.score >= query.min_score)
    total = session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0
    rows = session.execute(
        select(Lead, Case.case_no, Case.assigned_region_code, Case.region_code)
        .outerjoin(CaseLead, CaseLead.lead_id == Lead.id)
        .outerjoin(Case, Case.id == CaseLead.case_id)
        .where(*where)
        .order_by(Lead.score.desc(), Lead.id)
        .limit(limit)
        .offset(offset)
    )
    hits = []
    for lead, case_no, assigned, site in rows:
        answering = assigned or site
        visible = case_no is not None and _covers(region_code, answering)
        hits.append(LeadHit(lead=lead, case_no=case_no if visible else None))
    return hits, total


def _covers(region_code: str, code: str | None) -> bool:
    if region_code == regions.NATIONAL:
        return True
    return code is not None and regions.is_within(code, region_code)
