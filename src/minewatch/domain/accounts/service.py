"""Accounts: created by an administrator, passwords hashed with Argon2id, logins throttled.

A login that fails ``MAX_FAILURES`` times in a row locks the account for ``LOCK_MINUTES``
(a guessing attack then makes a handful of tries an hour); a successful one clears the count.
Every account change is in the audit chain — never the password or its hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.accounts.models import User
from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.db import utcnow
from minewatch.domain.scope import within
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import regions

ENTITY = "user"
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


class AccountError(MineWatchError):
    """An account that cannot be made or used as asked."""


class LoginRefusedError(AccountError):
    """Wrong name or password, or a locked or inactive account (the message does not say which
    of name and password was wrong)."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    actor: Actor


def user_image(user: User) -> JsonObject:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "region_code": user.region_code,
        "active": user.active,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {u.username: user_image(u) for u in session.scalars(select(User))}


register_state_reader(ENTITY, _all_images)


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    display_name: str,
    role: Role,
    region_code: str,
    actor: str,
    at: datetime | None = None,
) -> User:
    when = utcnow() if at is None else at
    name = username.strip()
    if not name or len(name) > 64 or any(ch.isspace() or _control(ch) for ch in name):
        raise AccountError(f"user name {username!r}: 1-64 characters without spaces")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountError(f"user {name} exists")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    _check_region(region_code)
    shown = _display_name(display_name, name)
    user = User(
        username=name,
        display_name=shown,
        role=role,
        region_code=region_code,
        password_hash=_HASHER.hash(password),
        created_at=when,
    )
    session.add(user)
    session.flush()
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=name, action="create",
        before=None, after=user_image(user), at=when,
    )  # fmt: skip
    return user


def _control(ch: str) -> bool:
    return ord(ch) < 32 or 127 <= ord(ch) < 160


def _display_name(text: str, username: str) -> str:
    """The name shown and written into the audit chain: one line of at most 100 characters."""
    name = text.strip() or username
    if len(name) > 100 or any(_control(ch) for ch in name):
        raise AccountError("a display name is one line of at most 100 characters")
    return name


def actor_of(user: User) -> Actor:
    return Actor(f"{user.display_name} ({user.username})", user.role, user.region_code)


def authenticate(
    session: Session, username: str, password: str, *, at: datetime | None = None
) -> SignedIn:
    """The signed-in user, or :class:`LoginRefusedError` (and one more failure counted)."""
    when = utcnow() if at is None else at
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        _HASHER.hash(password)  # the same work as a real check: no timing tells names apart
        raise LoginRefusedError("wrong user name or password")
    if user.locked_until is not None and user.locked_until > when:
        raise LoginRefusedError(
            f"too many failed logins; try again after {user.locked_until:%H:%M} UTC"
        )
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = when + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        session.flush()
        raise LoginRefusedError("wrong user name or password") from None
    user.failed_logins = 0
    user.locked_until = None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    session.flush()
    return SignedIn(user.id, actor_of(user))


# ── administration: every change audited under the administrator, never the password ───────


def _check_region(region_code: str) -> None:
    if region_code != regions.NATIONAL and not regions.is_valid_code(region_code, False):
        raise AccountError(f"{region_code} is not a region code")


def get_user(session: Session, username: str) -> User:
    """The account with this user name; raises :class:`NotFoundError`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username}")
    return user


def users_within(
    session: Session,
    region_code: str,
    *,
    role: Role | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[User], int]:
    """The accounts bound to ``region_code`` or below, by user name, and how many in all."""
    conditions = [within(User.region_code, region_code)]
    if role is not None:
        conditions.append(User.role == role)
    if active is not None:
        conditions.append(User.active == active)
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    rows = session.scalars(
        select(User).where(*conditions).order_by(User.username).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def _audited(
    session: Session, user: User, action: str, change: Callable[[], None], actor: str,
    when: datetime,
) -> User:  # fmt: skip
    before = user_image(user)
    change()
    session.flush()
    append_event(
        session, actor=actor, entity_type=ENTITY, entity_id=user.username, action=action,
        before=before, after=user_image(user), at=when,
    )  # fmt: skip
    return user


def deactivate_user(
    session: Session, username: str, *, actor: str, at: datetime | None = None
) -> User:
    """Stop an account signing in; its open sessions end with their next request."""
    user = get_user(session, username)
    if not user.active:
        raise AccountError(f"user {username} is already inactive")

    def change() -> None:
        user.active = False

    return _audited(session, user, "deactivate", change, actor, utcnow() if at is None else at)


def reactivate_user(
    session: Session, username: str, *, actor: str, at: datetime | None = None
) -> User:
    """Let an inactive account sign in again (any lock from failed logins is lifted)."""
    user = get_user(session, username)
    if user.active:
        raise AccountError(f"user {username} is already active")

    def change() -> None:
        user.active = True
        user.failed_logins = 0
        user.locked_until = None

    return _audited(session, user, "reactivate", change, actor, utcnow() if at is None else at)


def change_access(
    session: Session,
    username: str,
    *,
    role: Role | None = None,
    region_code: str | None = None,
    display_name: str | None = None,
    actor: str,
    at: datetime | None = None,
) -> User:
    """Change an account's role, region or display name (what is not given stays)."""
    user = get_user(session, username)
    if region_code is not None:
        _check_region(region_code)
    name = None if display_name is None else _display_name(display_name, user.username)
    if (role in (None, user.role) and region_code in (None, user.region_code)
            and name in (None, user.display_name)):  # fmt: skip
        raise AccountError(f"nothing to change for user {username}")

    def change() -> None:
        if role is not None:
            user.role = role
        if region_code is not None:
            user.region_code = region_code
        if name is not None:
            user.display_name = name

    return _audited(session, user, "change_access", change, actor, utcnow() if at is None else at)


def reset_password(
    session: Session, username: str, password: str, *, actor: str, at: datetime | None = None
) -> User:
    """Set a new password (the administrator hands it over; the user should change it) and lift
    any lock. The chain records that it happened — never the password or its hash."""
    user = get_user(session, username)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")

    def change() -> None:
        user.password_hash = _HASHER.hash(password)
        user.failed_logins = 0
        user.locked_until = None

    return _audited(session, user, "reset_password", change, actor, utcnow() if at is None else at)
