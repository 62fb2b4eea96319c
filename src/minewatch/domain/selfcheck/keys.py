"""Unit keys: how a unit's IT department posts probe reports and signs them.

A unit key is ``mwu_<key_id>_<secret>`` (8 random bytes of id in hex, 32 of secret in URL-safe
base64), shown once when issued. The platform keeps the secret's SHA-256 only. That digest is
also the key of the reports' HMAC-SHA256 signature: the probe, given the whole key, derives it
the same way (:func:`minewatch.probe.hostprobe.signing_key`), so a report carried on a USB stick
from a server room with no route to the platform is still checked against the unit's key. The
cost of this choice: whoever can read the ``unit_key`` table could forge a signature (not post a
report — that needs the secret itself); the audit chain records every report received.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.apikeys.service import IssuedKey, new_secret, secret_digest
from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.db import utcnow
from minewatch.domain.selfcheck.models import UnitKey
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import credit_code, regions

ENTITY = "unit_key"
PREFIX = "mwu_"
_TOKEN = re.compile(r"mwu_([0-9a-f]{16})_([A-Za-z0-9_-]{20,})")


class UnitKeyError(MineWatchError):
    """A unit key that cannot be issued as asked."""


def key_image(key: UnitKey) -> JsonObject:
    return {
        "key_id": key.key_id,
        "unit": key.unit,
        "region_code": key.region_code,
        "uscc": key.uscc,
        "supervisor": key.supervisor,
        "revoked": key.revoked_at is not None,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {k.key_id: key_image(k) for k in session.scalars(select(UnitKey))}


register_state_reader(ENTITY, _all_images)


def _one_line(text: str | None, what: str, limit: int) -> str | None:
    if text is None:
        return None
    value = text.strip()
    if not value or len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise UnitKeyError(f"{what} must be one line of 1-{limit} characters")
    return value


def issue_unit_key(
    session: Session,
    unit: str,
    *,
    region_code: str,
    actor: str,
    uscc: str | None = None,
    supervisor: str | None = None,
    at: datetime | None = None,
) -> IssuedKey:
    """A new key for ``unit`` (its name exactly as its server inventory writes it)."""
    when = utcnow() if at is None else at
    name = _one_line(unit, "the unit's name", 200)
    assert name is not None
    if not regions.is_valid_code(region_code, False):
        raise UnitKeyError(f"{region_code} is not a region code (GB/T 2260)")
    if uscc is not None:
        if not credit_code.is_valid(uscc):
            raise UnitKeyError(f"{uscc} is not a unified social credit code (GB 32100)")
        uscc = credit_code.validate(uscc)
    key_id, secret = new_secret()
    key = UnitKey(
        key_id=key_id, secret_sha256=secret_digest(secret), unit=name, region_code=region_code,
        uscc=uscc, supervisor=_one_line(supervisor, "the supervising department", 200),
        created_by=actor, created_at=when,
    )  # fmt: skip
    session.add(key)
    session.flush()
    append_event(session, actor=actor, entity_type=ENTITY, entity_id=key_id, action="issue",
                 before=None, after=key_image(key), at=when)  # fmt: skip
    return IssuedKey(key_id, f"{PREFIX}{key_id}_{secret}")


def revoke_unit_key(
    session: Session, key_id: str, *, actor: str, at: datetime | None = None
) -> None:
    """Stop a key: reports posted or signed with it are refused from now on (those already
    received stay)."""
    when = utcnow() if at is None else at
    key = get_unit_key(session, key_id)
    if key.revoked_at is not None:
        return
    before = key_image(key)
    key.revoked_at = when
    session.flush()
    append_event(session, actor=actor, entity_type=ENTITY, entity_id=key_id, action="revoke",
                 before=before, after=key_image(key), at=when)  # fmt: skip


def get_unit_key(session: Session, key_id: str) -> UnitKey:
    key = session.scalar(select(UnitKey).where(UnitKey.key_id == key_id))
    if key is None:
        raise NotFoundError(f"no unit key {key_id}")
    return key


def unit_for_token(session: Session, token: str) -> UnitKey | None:
    """The live key a presented token is, or ``None`` (malformed, unknown, revoked, wrong)."""
    found = _TOKEN.fullmatch(token.strip())
    if found is None:
        return None
    key = session.scalar(select(UnitKey).where(UnitKey.key_id == found.group(1)))
    if key is None or key.revoked_at is not None:
        return None
    if not secrets.compare_digest(key.secret_sha256, secret_digest(found.group(2))):
        return None
    return key


def signing_key(key: UnitKey) -> bytes:
    """The HMAC key of the unit's signatures (see the module's description)."""
    return key.secret_sha256.encode("ascii")


def unit_keys(session: Session, unit: str | None = None) -> list[UnitKey]:
    query = select(UnitKey).order_by(UnitKey.unit, UnitKey.created_at, UnitKey.key_id)
    if unit is not None:
        query = query.where(UnitKey.unit == unit)
    return list(session.scalars(query))


def unit_key_of(session: Session, unit: str) -> UnitKey:
    """The unit's newest live key: where its region, credit code and supervisor are read."""
    live = [k for k in unit_keys(session, unit) if k.revoked_at is None]
    if not live:
        raise NotFoundError(f"unit {unit!r} has no live unit key (issue one with `selfcheck key`)")
    return max(live, key=lambda k: (k.created_at, k.id))


def units_within(session: Session, region_code: str) -> list[UnitKey]:
    """The units with a live key in ``region_code`` or below, each by its newest live key,
    ordered by region and name."""
    from minewatch.domain.scope import within

    keys = session.scalars(
        select(UnitKey)
        .where(UnitKey.revoked_at.is_(None), within(UnitKey.region_code, region_code))
        .order_by(UnitKey.created_at, UnitKey.id)
    )
    newest = {key.unit: key for key in keys}
    return sorted(newest.values(), key=lambda k: (k.region_code, k.unit))
