"""Sign-in, throttled logins, and cases shown only within the user's region."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from conftest import at, make_open_case
from minewatch.cli.app import run
from minewatch.domain.accounts.models import User
from minewatch.domain.accounts.service import (
    AccountError,
    LoginRefusedError,
    authenticate,
    create_user,
)
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.settings import Settings
from minewatch.web.app import create_app
from webclient import PASSWORD, sign_in


@pytest.fixture
def client(engine: Engine) -> TestClient:
    with session_scope(engine) as session:
        make_open_case(session)  # a case in 石棉县 511824
        for name, role, region in (
            ("shimian", Role.COUNTY, "511824"),
            ("hanyuan", Role.COUNTY, "511823"),
            ("sichuan", Role.PROVINCIAL, "510000"),
        ):
            create_user(session, name, PASSWORD, display_name=name, role=role,
                        region_code=region, actor="admin")  # fmt: skip
    return TestClient(create_app(Settings(), engine=engine))


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return sign_in(client, username, password).status_code


def test_each_user_sees_only_the_cases_of_their_region(client: TestClient) -> None:
    assert client.get("/cases", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/cases").status_code == 401
    assert _login(client, "shimian") == 303
    mine = client.get("/api/v1/cases").json()
    assert [row["region_code"] for row in mine["items"]] == ["511824"]
    assert mine["total"] == 1
    assert "assign" not in mine["items"][0]["next_actions"]  # a county does not assign
    assert mine["items"][0]["case_no"] in client.get("/cases").text
    client.post("/logout")
    assert _login(client, "hanyuan") == 303
    assert client.get("/api/v1/cases").json()["items"] == []
    client.post("/logout")
    assert _login(client, "sichuan") == 303
    (row,) = client.get("/api/v1/cases").json()["items"]
    assert "assign" in row["next_actions"]


def test_a_tampered_session_cookie_is_not_a_session(client: TestClient) -> None:
    assert _login(client, "shimian") == 303
    cookie = client.cookies.get("mw_session")
    assert cookie is not None
    client.cookies.set("mw_session", cookie.replace(cookie[0], "9" if cookie[0] != "9" else "8", 1))
    assert client.get("/api/v1/cases").status_code == 401


def test_wrong_passwords_lock_the_account_for_a_while(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session, "li", PASSWORD, display_name="李强", role=Role.COUNTY,
                    region_code="511824", actor="admin", at=at("2021-10-01"))  # fmt: skip
    with session_scope(engine) as session:
        for _ in range(5):
            with pytest.raises(LoginRefusedError, match="wrong user name or password"):
                authenticate(session, "li", "guess", at=at("2021-10-02"))
        with pytest.raises(LoginRefusedError, match="too many failed logins"):
            authenticate(session, "li", PASSWORD, at=at("2021-10-02"))
        later = at("2021-10-02") + timedelta(minutes=16)
        signed_in = authenticate(session, "li", PASSWORD, at=later)
        assert signed_in.actor.region_code == "511824"
        with pytest.raises(LoginRefusedError, match="wrong user name or password"):
            authenticate(session, "nobody", PASSWORD)


def test_accounts_are_checked_and_hashes_never_audited(session: Session) -> None:
    with pytest.raises(AccountError, match="at least 10"):
        create_user(session, "x", "short", display_name="x", role=Role.COUNTY,
                    region_code="511824", actor="admin")  # fmt: skip
    with pytest.raises(AccountError, match="not a region code"):
        create_user(session, "x", PASSWORD, display_name="x", role=Role.COUNTY,
                    region_code="999999", actor="admin")  # fmt: skip
    user = create_user(session, "y", PASSWORD, display_name="y", role=Role.COUNTY,
                       region_code="511824", actor="admin")  # fmt: skip
    assert isinstance(user, User)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash

    images = [e.after_json or "" for e in session.scalars(select(AuditEvent))]
    assert all("argon2" not in image for image in images)


def test_user_add_reads_the_password_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    db = str(tmp_path / "u.db")
    code = run(["--db", db, "user", "add", "wang", "--role", "city", "--region", "511800",
                "--name", "王芳", "--password-stdin"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert run(["--db", db, "user", "list"]) == 0
    out = capsys.readouterr().out
    assert "wang" in out
    assert "argon2" not in out
