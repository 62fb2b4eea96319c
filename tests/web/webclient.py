"""Signing in from a test client, as a browser does: the form's CSRF token, then the post."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from minewatch.web.security import CSRF_FIELD

PASSWORD = "correct horse battery"
"""The password of every test account."""

_TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = _TOKEN.search(html)
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
