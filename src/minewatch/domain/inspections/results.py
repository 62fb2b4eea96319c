"""Results of a double-random inspection: recorded against the draw, published (一公开).

A result is accepted only for a target the draw picked and only from the team the draw assigned
to it — the point of a random draw is lost if anyone may report on anyone. The draw must check
out against its pools (:func:`~minewatch.domain.inspections.draw.verify_draw`) before its first
result is recorded. A violation becomes a lead (source ``inspection``), fused into its site's
case like any other. :func:`published_results` is what the 一公开 page shows: each drawn target,
its enterprise, the day and the outcome — not the inspectors' conflict data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.db import utcnow
from minewatch.domain.inspections.draw import DrawRecord, Inspector, Target, verify_draw
from minewatch.domain.inspections.models import (
    InspectionDraw,
    InspectionOutcome,
    InspectionResult,
)
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.errors import MineWatchError

ENTITY = "inspection"
VIOLATION_SCORE = 0.95
"""An inspector who saw the rigs is close to certain; the case still needs its own check."""


class InspectionError(MineWatchError):
    """A result that cannot be recorded as given."""


@dataclass(frozen=True)
class ResultData:
    target_id: str
    inspected_on: date
    inspector_ids: Sequence[str]
    outcome: InspectionOutcome
    findings: str | None = None


def draw_image(draw: InspectionDraw) -> JsonObject:
    return {
        "seed_sha256": draw.seed_sha256,
        "draw_date": draw.draw_date.isoformat(),
        "results": [
            [r.target_id, r.inspected_on.isoformat(), r.outcome.value, r.inspector_ids]
            for r in draw.results
        ],
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {d.seed_sha256: draw_image(d) for d in session.scalars(select(InspectionDraw))}


register_state_reader(ENTITY, _all_images)


def store_draw(
    session: Session,
    record: DrawRecord,
    target_pool: Sequence[Target],
    inspector_pool: Sequence[Inspector],
    *,
    actor: str,
    at: datetime | None = None,
) -> InspectionDraw:
    """Keep a verified draw (once; storing it again returns the stored one)."""
    stored = session.scalar(
        select(InspectionDraw).where(InspectionDraw.seed_sha256 == record.seed_sha256)
    )
    if stored is not None:
        return stored
    check = verify_draw(record, target_pool, inspector_pool)
    if not check.ok:
        problems = "; ".join(f"{p.kind.value}: {p.detail}" for p in check.problems)
        raise InspectionError(f"the draw does not check out against its pools: {problems}")
    when = utcnow() if at is None else at
    draw = InspectionDraw(
        seed_sha256=record.seed_sha256,
        draw_date=record.parameters.draw_date,
        record_json=record.to_json(),
        stored_at=when,
    )
    session.add(draw)
    session.flush()
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=draw.seed_sha256, action="store",
        before=None, after=draw_image(draw), at=when,
    )  # fmt: skip
    return draw


def get_draw(session: Session, seed_sha256: str) -> InspectionDraw:
    matches = session.scalars(
        select(InspectionDraw).where(InspectionDraw.seed_sha256.startswith(seed_sha256.lower()))
    ).all()
    if len(matches) != 1:
        found = "no" if not matches else "more than one"
        raise InspectionError(f"{found} stored draw with seed {seed_sha256}")
    return matches[0]


def record_result(
    session: Session,
    draw: InspectionDraw,
    target_pool: Sequence[Target],
    data: ResultData,
    *,
    actor: str,
    at: datetime | None = None,
) -> InspectionResult:
    """Record what the drawn team found at a drawn target; a violation becomes a lead."""
    when = utcnow() if at is None else at
    record = DrawRecord.from_json(draw.record_json)
    assignment = next((a for a in record.assignments if a.target_id == data.target_id), None)
    if assignment is None:
        raise InspectionError(f"{data.target_id} was not drawn by {draw.seed_sha256[:16]}")
    if not assignment.inspector_ids:
        raise InspectionError(f"{data.target_id} had no team: {assignment.unstaffed_reason}")
    if sorted(data.inspector_ids) != sorted(assignment.inspector_ids):
        raise InspectionError(
            f"{data.target_id} was drawn for {', '.join(assignment.inspector_ids)}, not "
            f"{', '.join(data.inspector_ids) or 'nobody'}"
        )
    if data.inspected_on < record.parameters.draw_date:
        raise InspectionError(f"inspected on {data.inspected_on}, before the draw")
    if any(r.target_id == data.target_id for r in draw.results):
        raise InspectionError(f"{data.target_id} already has its result")
    target = next((t for t in target_pool if t.target_id == data.target_id), None)
    if target is None:
        raise InspectionError(f"{data.target_id} is not in the target pool given")
    before = draw_image(draw)
    lead_id = None
    if data.outcome is InspectionOutcome.VIOLATION:
        lead_id = _violation_lead(session, draw, target, data, actor, when)
    result = InspectionResult(
        target_id=data.target_id,
        enterprise_uscc=target.enterprise_uscc,
        region_code=target.region_code,
        inspected_on=data.inspected_on,
        inspector_ids=",".join(sorted(data.inspector_ids)),
        outcome=data.outcome,
        findings=data.findings,
        lead_id=lead_id,
        recorded_at=when,
    )
    draw.results.append(result)
    session.flush()
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=draw.seed_sha256, action="result",
        before=before, after=draw_image(draw), reason=data.target_id, at=when,
    )  # fmt: skip
    return result


def _violation_lead(
    session: Session,
    draw: InspectionDraw,
    target: Target,
    data: ResultData,
    actor: str,
    when: datetime,
) -> int:
    subject = f"{draw.seed_sha256[:12]}:{target.target_id}"
    record_leads(
        session,
        [
            LeadData(
                source="inspection",
                subject=subject,
                score=VIOLATION_SCORE,
                category="mining",
                reasons="inspection.double_random",
                evidence={"findings": data.findings, "inspectors": list(data.inspector_ids)},
                uscc=target.enterprise_uscc,
                region_code=target.region_code,
                address=target.attributes.get("address"),
                customer_name=target.attributes.get("name"),
            )
        ],
        actor=actor,
        at=when,
    )
    lead = session.scalar(select(Lead).where(Lead.source == "inspection", Lead.subject == subject))
    assert lead is not None
    return lead.id


def published_results(session: Session, draw: InspectionDraw) -> list[dict[str, Any]]:
    """What the public page shows for a draw: every drawn target and its outcome (or pending)."""
    record = DrawRecord.from_json(draw.record_json)
    done = {r.target_id: r for r in draw.results}
    rows = []
    for target_id in record.picks:
        result = done.get(target_id)
        rows.append(
            {
                "seed_sha256": draw.seed_sha256,
                "draw_date": draw.draw_date.isoformat(),
                "target_id": target_id,
                "enterprise_uscc": None if result is None else result.enterprise_uscc,
                "inspected_on": None if result is None else result.inspected_on.isoformat(),
                "outcome": "pending" if result is None else result.outcome.value,
                "findings": None if result is None else result.findings,
            }
        )
    return rows
