"""A project's history as the audit chain recorded it: who changed what, when and why.

Each change to a project appended one event holding the project's ledger row before and after
(:func:`minewatch.domain.ledger.service.project_image`); the history compares the two images
field by field, so it shows exactly what an official saw change, and nothing that was not
recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.ledger.service import ENTITY


@dataclass(frozen=True)
class FieldChange:
    """One field of the ledger row (a :class:`~minewatch.reference.ledger.LedgerEntry` field
    name) with its recorded value before and after (JSON values; ``None`` when empty)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ProjectEvent:
    """One recorded change of a project."""

    seq: int
    at: datetime
    actor: str
    action: str
    reason: str | None
    changes: tuple[FieldChange, ...]


def _image(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    """The fields that differ between two images, in the images' field order (a created
    record lists the fields it was given; a deleted one the fields it had)."""
    keys = list(after) + [k for k in before if k not in after]
    return tuple(
        FieldChange(key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
        and not (_empty(before.get(key)) and _empty(after.get(key)))
    )


def project_history(session: Session, code: str, *, limit: int = 500) -> list[ProjectEvent]:
    """The recorded changes of project ``code``, newest first (at most ``limit``).

    The caller has already checked that the project is theirs to see.
    """
    query = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == ENTITY, AuditEvent.entity_id == code)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    return [
        ProjectEvent(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            reason=event.reason,
            changes=field_changes(_image(event.before_json), _image(event.after_json)),
        )
        for event in session.scalars(query)
    ]
