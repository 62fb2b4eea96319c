"""Inspection rounds: one double-random inspection (双随机、一公开) of a region, in the order
that makes it impossible to steer.

1. **Commit** (:func:`commit_round`): an official of the region fixes the target pool (the
   region's ledger, its cases, or a list such as the grid company's power-connection
   applications), the inspector pool and the parameters, and names the public seed source to
   come. The commitment — both pool hashes and sizes, the parameters, the seed source's
   description (:func:`~minewatch.domain.inspections.draw.draw_commitment`) — is public from
   this moment, before the seed source value exists. The pools are kept exactly as committed.
2. **Draw** (:func:`draw_round`): once the seed source is published, its value is entered and
   the draw is made from the committed pools; the record is stored
   (:func:`~minewatch.domain.inspections.results.store_draw`, which verifies it).
3. **Inspect**: each drawn team records what it found (:func:`record_round_result`) — only at
   its own targets, only by a user named for one of its officers in the inspector pool.
4. **Publish** (:func:`publish_round`): the picks and results become public, without the teams
   (:func:`public_record`).

:func:`verify_round` re-checks at any time that the stored pools still hash to the commitment
and that the stored draw follows from them and the seed source. Every step is in the audit
chain under the user who took it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.service import Actor, TransitionRefusedError
from minewatch.domain.db import utcnow
from minewatch.domain.inspections.draw import (
    Assignment,
    DrawParameters,
    DrawProblem,
    DrawProblemKind,
    DrawRecord,
    Inspector,
    SeedSource,
    Target,
    VerifyResult,
    canonical_json,
    draw_commitment,
    draw_inspections,
    inspector_pool_json,
    inspector_pool_sha256,
    public_summary,
    target_pool_json,
    target_pool_sha256,
    verify_draw,
)
from minewatch.domain.inspections.models import (
    InspectionOutcome,
    InspectionResult,
    InspectionRound,
    RoundStatus,
    TargetSource,
)
from minewatch.domain.inspections.pools import (
    InspectorPool,
    inspectors_from_json,
    targets_from_json,
)
from minewatch.domain.inspections.results import (
    InspectionError,
    ResultData,
    published_results,
    record_result,
    store_draw,
)
from minewatch.domain.scope import within
from minewatch.errors import NotFoundError
from minewatch.reference import regions

__all__ = [
    "ENTITY",
    "NotOnTeamError",
    "RoundError",
    "RoundRefusedError",
    "commit_round",
    "commitment_of",
    "draw_record_of",
    "draw_round",
    "get_round",
    "member_inspector_ids",
    "public_record",
    "public_rounds",
    "publish_round",
    "record_round_result",
    "round_accounts",
    "round_image",
    "round_inspectors",
    "round_targets",
    "rounds_within",
    "verify_round",
]

ENTITY = "inspection_round"
DRAW_NO_PATTERN = re.compile(r"SJ-(?P<region>\d{6})-(?P<year>\d{4})-(?P<n>\d{3,})")
"""Round numbers: ``SJ-<region>-<year of the draw date>-<nnn>``."""


class RoundError(InspectionError):
    """A round that cannot be committed or drawn as asked."""


class RoundRefusedError(TransitionRefusedError):
    """A step the round's present state does not allow (drawing twice, publishing undrawn)."""


class NotOnTeamError(InspectionError):
    """A result offered by someone who is not on the team drawn for the target."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def round_image(rnd: InspectionRound) -> JsonObject:
    """What the audit chain keeps of a round: its state and the hashes of what it stores."""
    return {
        "draw_no": rnd.draw_no,
        "region_code": rnd.region_code,
        "status": rnd.status.value,
        "target_source": rnd.target_source.value,
        "draw_date": rnd.draw_date.isoformat(),
        "commitment_sha256": _sha256(rnd.commitment_json),
        "target_pool_sha256": _sha256(rnd.target_pool_json),
        "inspector_pool_sha256": _sha256(rnd.inspector_pool_json),
        "accounts": json.loads(rnd.accounts_json),
        "seed_sha256": None if rnd.draw is None else rnd.draw.seed_sha256,
        "published": rnd.published_at is not None,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {r.draw_no: round_image(r) for r in session.scalars(select(InspectionRound))}


register_state_reader(ENTITY, _all_images)


# ── reading a round ──────────────────────────────────────────────────────────────────────────


def get_round(session: Session, draw_no: str) -> InspectionRound:
    """The round with this number; raises :class:`NotFoundError`."""
    rnd = session.scalar(select(InspectionRound).where(InspectionRound.draw_no == draw_no))
    if rnd is None:
        raise NotFoundError(f"no inspection round {draw_no}")
    return rnd


def commitment_of(rnd: InspectionRound) -> JsonObject:
    """The commitment published before the draw."""
    commitment: JsonObject = json.loads(rnd.commitment_json)
    return commitment


def round_targets(rnd: InspectionRound) -> list[Target]:
    """The target pool as committed."""
    return targets_from_json(rnd.target_pool_json)


def round_inspectors(rnd: InspectionRound) -> list[Inspector]:
    """The inspector pool as committed, conflict data included (private)."""
    return inspectors_from_json(rnd.inspector_pool_json)


def round_accounts(rnd: InspectionRound) -> dict[str, str]:
    """Inspector id → the user name that records for that officer."""
    accounts: dict[str, str] = json.loads(rnd.accounts_json)
    return accounts


def draw_record_of(rnd: InspectionRound) -> DrawRecord | None:
    """The stored draw, once drawn."""
    return None if rnd.draw is None else DrawRecord.from_json(rnd.draw.record_json)


def member_inspector_ids(rnd: InspectionRound, username: str) -> frozenset[str]:
    """The officers of the pool the user records for."""
    return frozenset(i for i, user in round_accounts(rnd).items() if user == username)


def rounds_within(
    session: Session,
    region_code: str,
    *,
    status: RoundStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InspectionRound], int]:
    """The rounds of ``region_code`` and below, newest first, and how many there are in all."""
    conditions = [within(InspectionRound.region_code, region_code)]
    if status is not None:
        conditions.append(InspectionRound.status == status)
    total = session.scalar(select(func.count()).select_from(InspectionRound).where(*conditions))
    rows = session.scalars(
        select(InspectionRound)
        .where(*conditions)
        .order_by(InspectionRound.committed_at.desc(), InspectionRound.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total or 0


def public_rounds(
    session: Session, *, limit: int = 50, offset: int = 0
) -> tuple[list[InspectionRound], int]:
    """Every round, newest first: each one's commitment is public from the moment it is made."""
    return rounds_within(session, regions.NATIONAL, limit=limit, offset=offset)


# ── the steps ────────────────────────────────────────────────────────────────────────────────


def _next_draw_no(session: Session, region_code: str, year: int) -> str:
    prefix = f"SJ-{region_code}-{year}-"
    numbers = session.scalars(
        select(InspectionRound.draw_no).where(InspectionRound.draw_no.startswith(prefix))
    ).all()
    taken = [int(m["n"]) for n in numbers if (m := DRAW_NO_PATTERN.fullmatch(n))]
    return f"{prefix}{max(taken, default=0) + 1:03d}"


def _check_text(text: str | None, what: str, *, lines: bool = False) -> None:
    """Refuse control characters (a NUL cannot even be stored); ``lines`` allows line breaks
    and tabs."""
    allowed = "\n\r\t" if lines else ""
    if text is not None and any(
        (ord(ch) < 32 or 127 <= ord(ch) < 160) and ch not in allowed for ch in text
    ):
        raise RoundError(f"{what} holds control characters")


def _check_region(actor: Actor, region_code: str) -> None:
    if region_code != regions.NATIONAL and not regions.is_valid_code(region_code, False):
        raise RoundError(f"{region_code} is not a region code")
    if not actor.covers(region_code):
        raise RoundError(f"region {region_code} is outside {actor.name}'s region")


def commit_round(
    session: Session,
    *,
    region_code: str,
    target_source: TargetSource,
    targets: Sequence[Target],
    inspector_pool: InspectorPool,
    parameters: DrawParameters,
    seed_source_description: str,
    actor: Actor,
    at: datetime | None = None,
) -> InspectionRound:
    """Commit a round of ``region_code``: keep the pools, publish their hashes and the parameters.

    Every target must lie in the round's region. Refused (:class:`RoundError`): an unknown
    region or one outside the actor's, an empty target pool or one reaching outside the region,
    duplicate ids, more targets or a larger team than the pools hold, no seed source description.
    """
    when = utcnow() if at is None else at
    code = region_code.strip()
    _check_region(actor, code)
    _check_text(seed_source_description, "the seed source description")
    outside = sorted(
        t.target_id
        for t in targets
        if code != regions.NATIONAL and not regions.is_within(t.region_code, code)
    )
    if outside:
        shown = ", ".join(outside[:5]) + (" …" if len(outside) > 5 else "")
        raise RoundError(f"{len(outside)} target(s) lie outside region {code}: {shown}")
    if not targets:
        raise RoundError(f"the target pool is empty: no {target_source.value} targets in {code}")
    try:
        commitment = draw_commitment(
            targets, inspector_pool.inspectors, parameters, seed_source_description
        )
        targets_text = target_pool_json(targets)
        inspectors_text = inspector_pool_json(inspector_pool.inspectors)
    except ValueError as error:
        raise RoundError(str(error)) from error
    rnd = InspectionRound(
        draw_no=_next_draw_no(session, code, parameters.draw_date.year),
        region_code=code,
        status=RoundStatus.COMMITTED,
        target_source=target_source,
        draw_date=parameters.draw_date,
        commitment_json=canonical_json(commitment),
        target_pool_json=targets_text,
        inspector_pool_json=inspectors_text,
        accounts_json=canonical_json(dict(inspector_pool.accounts)),
        committed_by=actor.name,
        committed_at=when,
    )
    session.add(rnd)
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=rnd.draw_no, action="commit",
        before=None, after=round_image(rnd), at=when,
    )  # fmt: skip
    return rnd


def _pools_as_committed(rnd: InspectionRound) -> tuple[list[Target], list[Inspector]]:
    commitment = commitment_of(rnd)
    targets, inspectors = round_targets(rnd), round_inspectors(rnd)
    if target_pool_sha256(targets) != commitment["target_pool_sha256"]:
        raise RoundError(
            f"{rnd.draw_no}: the stored target pool no longer hashes to its commitment"
        )
    if inspector_pool_sha256(inspectors) != commitment["inspector_pool_sha256"]:
        raise RoundError(
            f"{rnd.draw_no}: the stored inspector pool no longer hashes to its commitment"
        )
    return targets, inspectors


def draw_round(
    session: Session,
    rnd: InspectionRound,
    seed_text: str,
    *,
    actor: Actor,
    at: datetime | None = None,
) -> InspectionRound:
    """Draw a committed round from the published value of the seed source it named."""
    when = utcnow() if at is None else at
    if rnd.status is not RoundStatus.COMMITTED:
        raise RoundRefusedError(f"{rnd.draw_no} is already drawn")
    _check_region(actor, rnd.region_code)
    _check_text(seed_text, "the seed source value")
    commitment = commitment_of(rnd)
    targets, inspectors = _pools_as_committed(rnd)
    try:
        parameters = DrawParameters.from_json_object(commitment["parameters"])
        source = SeedSource(seed_text, commitment["seed_source_description"])
        record = draw_inspections(targets, inspectors, parameters, source)
    except ValueError as error:
        raise RoundError(str(error)) from error
    before = round_image(rnd)
    draw = store_draw(session, record, targets, inspectors, actor=actor.name, at=when)
    taken = session.scalar(
        select(InspectionRound.draw_no).where(InspectionRound.draw_id == draw.id)
    )
    if taken is not None:
        raise RoundError(f"this draw is already stored for round {taken}")
    rnd.draw = draw
    rnd.status = RoundStatus.DRAWN
    rnd.drawn_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=rnd.draw_no, action="draw",
        before=before, after=round_image(rnd), reason=seed_text, at=when,
    )  # fmt: skip
    return rnd


def _commitment_problems(commitment: JsonObject, record: DrawRecord) -> list[DrawProblem]:
    drawn = {
        "target_pool_sha256": record.target_pool_sha256,
        "inspector_pool_sha256": record.inspector_pool_sha256,
        "target_pool_size": record.target_pool_size,
        "inspector_pool_size": record.inspector_pool_size,
        "parameters": record.parameters.to_json_object(),
        "seed_source_description": record.seed_source.description,
        "scheme": record.scheme,
    }
    return [
        DrawProblem(
            DrawProblemKind.COMMITMENT_MISMATCH,
            f"the draw's {name} is {value!r}; the commitment published {commitment.get(name)!r}",
        )
        for name, value in drawn.items()
        if commitment.get(name) != value
    ]


def verify_round(rnd: InspectionRound) -> VerifyResult:
    """Re-check a round from what it stores.

    Before the draw: the stored pools hash to the commitment. After: the draw used what was
    committed (hashes, sizes, parameters, seed source), and
    :func:`~minewatch.domain.inspections.draw.verify_draw` — the pools hash to the record, the
    seed follows from the seed source, the picks, teams and recusals follow from the seed.
    """
    commitment = commitment_of(rnd)
    try:
        targets, inspectors = round_targets(rnd), round_inspectors(rnd)
    except (ValueError, KeyError, TypeError) as error:
        return VerifyResult((DrawProblem(DrawProblemKind.INVALID_POOL, f"stored pool: {error}"),))
    record = draw_record_of(rnd)
    if record is None:
        problems = []
        checks = (
            (DrawProblemKind.TARGET_POOL_CHANGED, "target", target_pool_sha256(targets)),
            (
                DrawProblemKind.INSPECTOR_POOL_CHANGED,
                "inspector",
                inspector_pool_sha256(inspectors),
            ),
        )
        for kind, name, actual in checks:
            recorded = commitment[f"{name}_pool_sha256"]
            if actual != recorded:
                problems.append(
                    DrawProblem(
                        kind,
                        f"the stored {name} pool hashes to {actual}, the commitment says "
                        f"{recorded}: it changed after the commitment",
                    )
                )
        return VerifyResult(tuple(problems))
    problems = _commitment_problems(commitment, record)
    problems += verify_draw(record, targets, inspectors).problems
    return VerifyResult(tuple(problems))


def _assignment(record: DrawRecord, target_id: str) -> Assignment | None:
    return next((a for a in record.assignments if a.target_id == target_id), None)


def record_round_result(
    session: Session,
    rnd: InspectionRound,
    *,
    target_id: str,
    inspected_on: date,
    outcome: InspectionOutcome,
    findings: str | None,
    username: str,
    actor: str,
    at: datetime | None = None,
) -> InspectionResult:
    """Record what the team drawn for ``target_id`` found, offered by ``username``.

    The user must be named in the inspector pool for one of the team's officers
    (:class:`NotOnTeamError` otherwise); the result is recorded for the whole team. A violation
    becomes a lead (:func:`~minewatch.domain.inspections.results.record_result`).
    """
    record = draw_record_of(rnd)
    if rnd.draw is None or record is None:
        raise RoundRefusedError(f"{rnd.draw_no} is not drawn yet")
    _check_text(findings, "the findings", lines=True)
    assignment = _assignment(record, target_id)
    if assignment is None:
        raise InspectionError(f"{target_id} was not drawn by {rnd.draw_no}")
    if not member_inspector_ids(rnd, username) & set(assignment.inspector_ids):
        raise NotOnTeamError(f"{username} is not on the team drawn for {target_id}")
    data = ResultData(target_id, inspected_on, assignment.inspector_ids, outcome, findings or None)
    return record_result(session, rnd.draw, round_targets(rnd), data, actor=actor, at=at)


def publish_round(
    session: Session, rnd: InspectionRound, *, actor: Actor, at: datetime | None = None
) -> InspectionRound:
    """Make a drawn round's picks and results public (一公开)."""
    when = utcnow() if at is None else at
    if rnd.status is RoundStatus.COMMITTED:
        raise RoundRefusedError(f"{rnd.draw_no} is not drawn yet")
    if rnd.status is RoundStatus.PUBLISHED:
        raise RoundRefusedError(f"{rnd.draw_no} is already published")
    _check_region(actor, rnd.region_code)
    before = round_image(rnd)
    rnd.status = RoundStatus.PUBLISHED
    rnd.published_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=rnd.draw_no, action="publish",
        before=before, after=round_image(rnd), at=when,
    )  # fmt: skip
    return rnd


# ── publication ──────────────────────────────────────────────────────────────────────────────

PRIVATE_SUMMARY_KEYS = ("inspectors", "assignments")
"""What :func:`public_record` leaves out of the public summary: the teams (and the inspector
list they are drawn from)."""


def public_record(session: Session, rnd: InspectionRound) -> dict[str, Any]:
    """What anyone may read of a round, without signing in.

    Always the commitment (it is published before the draw). Once the round is published, also
    :func:`~minewatch.domain.inspections.draw.public_summary` without the inspectors and the
    teams — the parameters, the seed source, the hashes, the seed, the target pool and the picks,
    enough to recompute the picks — and
    :func:`~minewatch.domain.inspections.results.published_results`.
    """
    shown: dict[str, Any] = {
        "draw_no": rnd.draw_no,
        "region_code": rnd.region_code,
        "status": rnd.status.value,
        "commitment": commitment_of(rnd),
        "draw": None,
        "results": [],
    }
    record = draw_record_of(rnd)
    if rnd.status is RoundStatus.PUBLISHED and rnd.draw is not None and record is not None:
        try:
            summary = public_summary(record, round_targets(rnd), round_inspectors(rnd))
        except ValueError as error:
            raise RoundError(f"{rnd.draw_no}: {error}") from error
        shown["draw"] = {k: v for k, v in summary.items() if k not in PRIVATE_SUMMARY_KEYS}
        shown["results"] = published_results(session, rnd.draw)
    return shown
