"""Create, update and find enterprises; every change goes through the audit chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.db import utcnow
from minewatch.domain.enterprises.models import Enterprise
from minewatch.errors import NotFoundError
from minewatch.reference import credit_code, regions
from minewatch.reference.ledger import EnterpriseKind

ENTITY = "enterprise"


@dataclass(frozen=True)
class EnterpriseData:
    """What is known of an enterprise; ``uscc`` is validated and normalised on use."""

    uscc: str
    name: str
    region_code: str
    kind: EnterpriseKind = EnterpriseKind.OTHER
    legal_representative: str | None = None
    address: str | None = None
    state_owned: bool = False


def enterprise_image(enterprise: Enterprise) -> JsonObject:
    """The JSON image of an enterprise that the audit chain records."""
    return {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "legal_representative": enterprise.legal_representative,
        "address": enterprise.address,
        "region_code": enterprise.region_code,
        "state_owned": enterprise.state_owned,
        "kind": enterprise.kind.value,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {e.uscc: enterprise_image(e) for e in session.scalars(select(Enterprise))}


register_state_reader(ENTITY, _all_images)


def get_by_uscc(session: Session, uscc: str) -> Enterprise | None:
    """The enterprise with this credit code (any spelling that normalises to it), or ``None``."""
    return session.scalar(select(Enterprise).where(Enterprise.uscc == credit_code.validate(uscc)))


def require_by_uscc(session: Session, uscc: str) -> Enterprise:
    """Like :func:`get_by_uscc` but raises :class:`NotFoundError`."""
    enterprise = get_by_uscc(session, uscc)
    if enterprise is None:
        raise NotFoundError(f"no enterprise with credit code {uscc}")
    return enterprise


def save_enterprise(
    session: Session,
    data: EnterpriseData,
    *,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
    merge: bool = True,
) -> Enterprise:
    """Create the enterprise, or update the one with the same credit code.

    With ``merge`` (the default) fields given as ``None`` keep their stored value and the kind
    ``other`` does not overwrite a known kind — what a ledger row, which says little about the
    enterprise, needs. Writes an audit event only when something changed.
    """
    uscc = credit_code.validate(data.uscc)
    region = regions.get(data.region_code)
    when = utcnow() if at is None else at
    existing = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    if existing is None:
        enterprise = Enterprise(
            uscc=uscc,
            name=data.name.strip(),
            legal_representative=data.legal_representative,
            address=data.address,
            region_code=region.code,
            state_owned=data.state_owned,
            kind=data.kind,
            created_at=when,
            updated_at=when,
        )
        session.add(enterprise)
        session.flush()
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=uscc, action="create",
            before=None, after=enterprise_image(enterprise), reason=reason, at=when,
        )  # fmt: skip
        return enterprise
    before = enterprise_image(existing)
    existing.name = data.name.strip()
    if data.legal_representative is not None or not merge:
        existing.legal_representative = data.legal_representative
    if data.address is not None or not merge:
        existing.address = data.address
    existing.region_code = region.code
    if data.state_owned or not merge:
        existing.state_owned = data.state_owned
    if data.kind is not EnterpriseKind.OTHER or not merge:
        existing.kind = data.kind
    after = enterprise_image(existing)
    if after != before:
        existing.updated_at = when
        session.flush()
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=uscc, action="update",
            before=before, after=after, reason=reason, at=when,
        )  # fmt: skip
    return existing
