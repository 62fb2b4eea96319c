"""Who is asking: an API key, or a signed-in session — a signed, expiring cookie naming the user.

The cookie holds the user id signed with the deployment secret (itsdangerous, timestamped) and
is refused after ``SESSION_HOURS``; it is HttpOnly and SameSite=Strict, so another site cannot
send it with a forged request. Each request reloads the user, so a deactivated account or a
changed role or region takes effect at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy.orm import Session

from minewatch.domain.accounts.models import User
from minewatch.domain.accounts.service import actor_of
from minewatch.domain.apikeys.service import actor_for_token
from minewatch.domain.cases.service import Actor
from minewatch.web.app import db_session

SESSION_COOKIE = "mw_session"
SESSION_HOURS = 8


def _signer(request: Request) -> TimestampSigner:
    secret = request.app.state.settings.secret_key.get_secret_value()
    return TimestampSigner(secret, salt="minewatch-session")


def session_cookie(request: Request, user_id: int) -> str:
    return _signer(request).sign(str(user_id)).decode("ascii")


def signed_in_user(request: Request, session: Session) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user_id = int(_signer(request).unsign(token, max_age=SESSION_HOURS * 3600))
    except (BadSignature, SignatureExpired, ValueError):
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def current_actor(
    request: Request, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Actor:
    """Who is asking: a system presenting an API key (``Authorization: Bearer mw_…``), else the
    signed-in user; 401 otherwise (pages redirect to the login form). A key that is presented
    but wrong is refused outright, never mistaken for the cookie's user."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer":
        actor = actor_for_token(session, token.strip())
        if actor is None:
            raise HTTPException(401, "unknown or revoked API key",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        request.state.actor = actor
        return actor
    user = signed_in_user(request, session)
    if user is None:
        raise HTTPException(401, "sign in first", headers={"Location": "/login"})
    actor = actor_of(user)
    request.state.actor = actor
    return actor
