"""Issuing, checking and revoking API keys.

A key is ``mw_<key_id>_<secret>``: the key id (8 random bytes, hex) finds the row, the secret
(32 random bytes, URL-safe base64) is checked against its SHA-256 in constant time. A 256-bit
random secret needs no slow hash — there is nothing to guess — and the check stays cheap enough
for a grid company pushing leads in bulk. The full key is shown once, when it is made. Keys are
bound to a role and a region exactly as a user is, so every route's jurisdiction applies to them
unchanged; issuing and revoking are in the audit chain.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.apikeys.models import ApiKey
from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.db import utcnow
from minewatch.domain.scope import within
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import regions

ENTITY = "api_key"
PREFIX = "mw_"


class ApiKeyError(MineWatchError):
    """A key that cannot be issued as asked."""


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str
    """The whole key, shown once."""


def secret_digest(secret: str) -> str:
    """What is stored of a key's secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_secret() -> tuple[str, str]:
    """A new key id (8 random bytes, hex) and secret (32 random bytes, URL-safe base64)."""
    return secrets.token_hex(8), secrets.token_urlsafe(32)


def key_image(key: ApiKey) -> JsonObject:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "region_code": key.region_code,
        "revoked": key.revoked_at is not None,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {k.key_id: key_image(k) for k in session.scalars(select(ApiKey))}


register_state_reader(ENTITY, _all_images)


def issue_key(
    session: Session,
    name: str,
    *,
    role: Role,
    region_code: str,
    actor: str,
    at: datetime | None = None,
) -> IssuedKey:
    """A new key for the system called ``name``, acting as ``role`` for ``region_code``."""
    when = utcnow() if at is None else at
    label = name.strip()
    if not label or len(label) > 100 or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in label):
        raise ApiKeyError(
            "an API key needs a one-line name of 1-100 characters (the system using it)"
        )
    if role in (Role.ADMIN,):
        raise ApiKeyError("an API key cannot administer accounts")
    if region_code != regions.NATIONAL and not regions.is_valid_code(region_code, False):
        raise ApiKeyError(f"{region_code} is not a region code")
    key_id, secret = new_secret()
    key = ApiKey(
        key_id=key_id, secret_sha256=secret_digest(secret), name=label, role=role,
        region_code=region_code, created_by=actor, created_at=when,
    )  # fmt: skip
    session.add(key)
    session.flush()
    append_event(session, actor=actor, entity_type=ENTITY, entity_id=key_id, action="issue",
                 before=None, after=key_image(key), at=when)  # fmt: skip
    return IssuedKey(key_id, f"{PREFIX}{key_id}_{secret}")


def revoke_key(session: Session, key_id: str, *, actor: str, at: datetime | None = None) -> None:
    when = utcnow() if at is None else at
    key = get_key(session, key_id)
    if key.revoked_at is not None:
        return
    before = key_image(key)
    key.revoked_at = when
    session.flush()
    append_event(session, actor=actor, entity_type=ENTITY, entity_id=key_id, action="revoke",
                 before=before, after=key_image(key), at=when)  # fmt: skip


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a presented key stands for, or ``None`` for a malformed, unknown or revoked key."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None or key.revoked_at is not None:
        return None
    if not secrets.compare_digest(key.secret_sha256, secret_digest(secret)):
        return None
    return Actor(f"API key {key.name} ({key.key_id})", key.role, key.region_code)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)))


def get_key(session: Session, key_id: str) -> ApiKey:
    """The key with this id (never its secret); raises :class:`NotFoundError`."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        raise NotFoundError(f"no API key {key_id}")
    return key


def keys_within(
    session: Session,
    region_code: str,
    *,
    revoked: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ApiKey], int]:
    """The keys bound to ``region_code`` or below, oldest first, and how many there are in all;
    ``revoked`` keeps only revoked (``True``) or only live (``False``) keys."""
    conditions = [within(ApiKey.region_code, region_code)]
    if revoked is not None:
        conditions.append(
            ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None)
        )
    total = session.scalar(select(func.count()).select_from(ApiKey).where(*conditions)) or 0
    rows = session.scalars(
        select(ApiKey)
        .where(*conditions)
        .order_by(ApiKey.created_at, ApiKey.key_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total
