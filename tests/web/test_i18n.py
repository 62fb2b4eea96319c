"""Chinese first, English on request: every phrase a template wraps has one English reading."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Engine

from minewatch.settings import Settings
from minewatch.web import i18n
from minewatch.web.app import _HERE, create_app

_WRAPPED = re.compile(r"""_\(\s*(['"])(.+?)\1\s*\)""")


def test_every_wrapped_phrase_has_english(engine: Engine) -> None:
    create_app(Settings(), engine=engine)  # every router registers its phrases on import
    missing = {
        f"{path.name}: {match.group(2)}"
        for path in sorted((_HERE / "templates").glob("*.html"))
        for match in _WRAPPED.finditer(path.read_text(encoding="utf-8"))
        if i18n.english(match.group(2)) is None
    }
    assert not missing, sorted(missing)
    assert not i18n.CONFLICTS


def test_the_language_switch_is_remembered(engine: Engine) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(create_app(Settings(), engine=engine))
    assert "登录" in client.get("/login").text
    assert "Sign in" in client.get("/login?lang=en").text
    assert "Sign in" in client.get("/login").text  # the cookie remembers the choice
    assert "登录" in client.get("/login?lang=zh").text
    assert Path(_HERE / "templates" / "layout.html").exists()
