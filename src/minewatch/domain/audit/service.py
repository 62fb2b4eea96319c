"""Append to and verify the audit chain.

Every change to an audited record is one :class:`AuditEvent`. Its hash is SHA-256 over a
canonical JSON of (seq, time, actor, entity, action, reason, before, after, previous hash), so
the events form a chain: an edited event no longer matches its hash, a deleted one breaks the
link of its successor, and a cut tail disagrees with the head row. Verification also compares
each audited record as it stands in its table with the last image the chain recorded, which
catches a row edited by hand outside MineWatch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from minewatch.domain.audit.models import AuditEvent, AuditHead
from minewatch.domain.db import utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1

JsonObject = dict[str, Any]


def canonical_json(value: Any) -> str:
    """The one JSON spelling of ``value`` that is hashed: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    entity_type: str,
    entity_id: str,
    action: str,
    reason: str | None,
    before_json: str | None,
    after_json: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an event's canonical content, linked to ``prev_hash``."""
    content = canonical_json(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "action": action,
            "reason": reason,
            "before": before_json,
            "after": after_json,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _stored_hash(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        action=event.action,
        reason=event.reason,
        before_json=event.before_json,
        after_json=event.after_json,
        prev_hash=event.prev_hash,
    )


def append_event(
    session: Session,
    *,
    actor: str,
    entity_type: str,
    entity_id: str,
    action: str,
    before: JsonObject | None,
    after: JsonObject | None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    The head row is locked first (an UPDATE), so concurrent writers queue instead of forking the
    chain; the event becomes visible with the change it records, or not at all.
    """
    if not actor.strip():
        raise ValueError("an audit event needs an actor")
    when = utcnow() if at is None else at
    if when.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is None:
        raise RuntimeError("audit_head row is missing: the database was not migrated by MineWatch")
    before_json = None if before is None else canonical_json(before)
    after_json = None if after is None else canonical_json(after)
    # Stored with microsecond precision on every backend; hash what will be read back.
    when = when.astimezone(UTC)
    event = AuditEvent(
        seq=head.seq + 1,
        at=when,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        reason=reason,
        before_json=before_json,
        after_json=after_json,
        prev_hash=head.hash,
    )
    event.hash = _stored_hash(event)
    session.add(event)
    head.seq = event.seq
    head.hash = event.hash
    session.flush()
    return event


class ProblemKind(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    TRUNCATED = "truncated"
    STATE_MISMATCH = "state_mismatch"
    UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class AuditProblem:
    """One way the stored history disagrees with itself or with the tables."""

    kind: ProblemKind
    seq: int | None
    detail: str


@dataclass
class AuditReport:
    """What :func:`verify_chain` found."""

    n_events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# entity type → a function giving every current record of that type as {id: state image}.
StateReader = Callable[[Session], dict[str, JsonObject]]
_STATE_READERS: dict[str, StateReader] = {}


def register_state_reader(entity_type: str, reader: StateReader) -> None:
    """Declare how verification reads the current state of an audited entity type."""
    _STATE_READERS[entity_type] = reader


def iter_events(session: Session, *, batch: int = 2000) -> Iterator[AuditEvent]:
    """All events in chain order, read in batches."""
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for row in rows:
            session.expunge(row)


def _describe(event: AuditEvent) -> str:
    return (
        f"event {event.seq} ({event.action} {event.entity_type} {event.entity_id} "
        f"by {event.actor} at {event.at.isoformat(timespec='seconds')})"
    )


def verify_chain(session: Session, *, check_state: bool = True) -> AuditReport:
    """Check every link of the chain, the head, and (optionally) the tables against the chain.

    Names each event that was edited (its content no longer matches its hash), each gap where
    events were deleted, a tail cut off behind the head, and each record whose table row differs
    from the last image the chain holds for it (an edit made outside MineWatch).
    """
    report = AuditReport()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last_images: dict[tuple[str, str], tuple[int, str | None]] = {}
    for event in iter_events(session):
        report.n_events += 1
        if event.seq != expected_seq:
            missing = (
                f"event {expected_seq}"
                if event.seq == expected_seq + 1
                else f"events {expected_seq}–{event.seq - 1}"
            )
            report.problems.append(
                AuditProblem(
                    ProblemKind.DELETED, expected_seq, f"{missing} deleted before event {event.seq}"
                )
            )
        elif event.prev_hash != prev_hash:
            report.problems.append(
                AuditProblem(
                    ProblemKind.EDITED,
                    event.seq,
                    f"{_describe(event)} does not link to the event before it",
                )
            )
        if _stored_hash(event) != event.hash:
            report.problems.append(
                AuditProblem(
                    ProblemKind.EDITED,
                    event.seq,
                    f"{_describe(event)} was edited: its content no longer matches its hash",
                )
            )
        prev_hash = event.hash
        expected_seq = event.seq + 1
        last_images[(event.entity_type, event.entity_id)] = (event.seq, event.after_json)

    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        report.problems.append(
            AuditProblem(ProblemKind.TRUNCATED, None, "the audit head row is gone")
        )
    else:
        report.head_seq, report.head_hash = head.seq, head.hash
        last_seq = expected_seq - 1
        if head.seq > last_seq:
            report.problems.append(
                AuditProblem(
                    ProblemKind.TRUNCATED,
                    last_seq + 1,
                    f"events {last_seq + 1}–{head.seq} deleted from the end of the chain",
                )
            )
        elif head.seq < last_seq or (head.seq == last_seq and head.hash != prev_hash):
            report.problems.append(
                AuditProblem(
                    ProblemKind.EDITED,
                    head.seq,
                    f"the audit head (event {head.seq}) disagrees with the chain's last event",
                )
            )

    if check_state:
        report.problems.extend(_check_state(session, last_images))
    return report


def _check_state(
    session: Session, last_images: dict[tuple[str, str], tuple[int, str | None]]
) -> Iterator[AuditProblem]:
    for entity_type, reader in sorted(_STATE_READERS.items()):
        current = reader(session)
        for entity_id, state in sorted(current.items()):
            recorded = last_images.get((entity_type, entity_id))
            if recorded is None:
                yield AuditProblem(
                    ProblemKind.UNRECORDED,
                    None,
                    f"{entity_type} {entity_id} exists in its table but no event records it",
                )
                continue
            seq, after_json = recorded
            image = None if after_json is None else json.loads(after_json)
            if image != json.loads(canonical_json(state)):
                changed = _changed_fields(image, state)
                yield AuditProblem(
                    ProblemKind.STATE_MISMATCH,
                    seq,
                    f"{entity_type} {entity_id} was changed outside MineWatch: "
                    f"{', '.join(changed)} differ from event {seq}",
                )
        for (etype, entity_id), (seq, after_json) in sorted(last_images.items()):
            if etype == entity_type and after_json is not None and entity_id not in current:
                yield AuditProblem(
                    ProblemKind.STATE_MISMATCH,
                    seq,
                    f"{entity_type} {entity_id} was deleted outside MineWatch "
                    f"(event {seq} records it)",
                )


def _changed_fields(recorded: JsonObject | None, state: JsonObject) -> list[str]:
    if recorded is None:
        return ["the whole record"]
    current = json.loads(canonical_json(state))
    keys = sorted(set(recorded) | set(current))
    return [
        f"{k} (table {current.get(k)!r}, chain {recorded.get(k)!r})"
        for k in keys
        if recorded.get(k) != current.get(k)
    ]
