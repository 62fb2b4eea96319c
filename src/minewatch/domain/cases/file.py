"""The case file: everything an official reads about one case, gathered with a few indexed reads.

A case page shows the case, its leads with their evidence, the site checks, the measures, the
ledger project it entered, the credit record it made, and its history from the audit chain —
each transition with who took it, when, why, and what it changed. Every read here is bounded by
the case: its own leads, checks and measures (by ``case_id``), its own audit events (by entity),
its own project (by code) and credit record (by case number), never a scan of the tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import ENTITY, Actor, find_case
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.credit.models import CreditRecord
from minewatch.domain.credit.service import record_for_case
from minewatch.domain.ledger.models import Project
from minewatch.domain.reports.models import PublicReport

_SHOWN_FIELDS = (
    "status", "assigned_region_code", "region_code", "uscc", "account_no", "address",
    "confidence", "sources", "est_start_date", "est_mining_kw", "project_code",
    "dismissed_reason", "relapses", "stage_due_at", "leads", "checks", "measures",
)  # fmt: skip
"""The fields of a case image a history entry reports when they change, in this order."""


_CONFIRMED_OR_LATER = frozenset({
    CaseStatus.CONFIRMED, CaseStatus.MEASURES_ORDERED, CaseStatus.MEASURES_COMPLETED,
    CaseStatus.CLEARED, CaseStatus.RECHECKED,
})  # fmt: skip


@dataclass(frozen=True)
class FieldChange:
    """One field of the case that an event changed, as short text."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One event of the case's audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    reason: str | None
    changes: list[FieldChange]


@dataclass(frozen=True)
class CaseFile:
    case: Case
    history: list[HistoryEntry]
    project: Project | None
    credit_record: CreditRecord | None
    reports: dict[str, PublicReport]
    """The public reports behind the case's ``report`` leads, by receipt code."""


def _text(field: str, value: Any) -> str | None:
    """A field of a case image as short text (lists summarised)."""
    if value is None:
        return None
    if field == "leads":
        return str(len(value))
    if field == "checks":
        return "、".join(
            f"{c['checked_on']} {c['outcome']}{' (复查)' if c.get('recheck') else ''}"
            for c in value
        )
    if field == "measures":
        return "、".join(f"{m['kind']}:{m['status']}" for m in value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def changed_fields(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[FieldChange]:
    """What an event changed in the case (for a new case: what it opened with)."""
    old = before or {}
    new = after or {}
    changes = []
    for field in _SHOWN_FIELDS:
        was, now = _text(field, old.get(field)), _text(field, new.get(field))
        if was != now and not (was in (None, "") and now in (None, "")):
            changes.append(FieldChange(field, was, now))
    return changes


def case_history(session: Session, case_no: str) -> list[HistoryEntry]:
    """The case's events, oldest first (``audit_event`` by entity: an indexed read)."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == ENTITY, AuditEvent.entity_id == case_no)
        .order_by(AuditEvent.seq)
    )
    return [
        HistoryEntry(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            reason=event.reason,
            changes=changed_fields(
                None if event.before_json is None else json.loads(event.before_json),
                None if event.after_json is None else json.loads(event.after_json),
            ),
        )
        for event in events
    ]


def case_file(session: Session, case_no: str, actor: Actor) -> CaseFile:
    """The case file, if the actor may see the case (else
    :class:`~minewatch.errors.NotFoundError`, as for a case that does not exist)."""
    case = find_case(session, case_no, actor)
    project = (
        session.scalar(
            select(Project)
            .where(Project.code == case.project_code)
            .options(lazyload(Project.machines))
        )
        if case.project_code
        else None
    )
    # a credit record is made on confirmation: a case never confirmed has none to look up
    confirmed = case.status in _CONFIRMED_OR_LATER or case.relapses > 0
    codes = [link.lead.subject for link in case.leads if link.lead.source == "report"]
    reports = (
        {
            r.receipt_code: r
            for r in session.scalars(
                select(PublicReport).where(PublicReport.receipt_code.in_(codes))
            )
        }
        if codes
        else {}
    )
    return CaseFile(
        case=case,
        history=case_history(session, case.case_no),
        project=project,
        credit_record=record_for_case(session, case.case_no) if confirmed else None,
        reports=reports,
    )
