"""Signing in from a test client, as a browser does: the form's CSRF token, then the post."""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from minewatch.domain.accounts import service as accounts_service
from minewatch.domain.accounts.service import create_user
from minewatch.domain.cases.states import Role
from minewatch.web.security import CSRF_FIELD

PASSWORD = "correct horse battery"
"""The password of every test account."""

_TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')
_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the (first) form on a page, else the one the layout gives HTMX."""
    found = _TOKEN.search(html) or _META_TOKEN.search(html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign out whoever was signed in, then sign in through the login form; the reply (303 to
    the user's home page when accepted) is not followed."""
    client.cookies.clear()
    page = client.get("/login")
    return client.post(
        "/login",
        data={CSRF_FIELD: form_token(page.text), "username": username, "password": password},
        follow_redirects=False,
    )


def light_password_hashes(patch: pytest.MonkeyPatch) -> None:
    """Argon2id at its lightest, for tests about something other than password hashing (each
    account otherwise costs a real hash)."""
    patch.setattr(accounts_service, "_HASHER",
                  PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # fmt: skip


def make_users(session: Session, users: Mapping[str, tuple[Role, str]]) -> None:
    """One account per name, with its role and region, all with :data:`PASSWORD`."""
    for name, (role, region) in users.items():
        create_user(session, name, PASSWORD, display_name=name, role=role, region_code=region,
                    actor="admin")  # fmt: skip
