"""Administration on the web: accounts and API keys for administrators only, each within their
region; forms need their CSRF token; every change audited under the administrator, never a
password; a key is shown once."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD, form_token, sign_in

NEW_PASSWORD = "a brand new passphrase"
USERS = (
    ("nation_admin", Role.ADMIN, "000000"),
    ("sichuan_admin", Role.ADMIN, "510000"),
    ("yaan_admin", Role.ADMIN, "511800"),
    ("shimian", Role.COUNTY, "511824"),
    ("hanyuan", Role.COUNTY, "511823"),
    ("chengdu", Role.CITY, "510100"),
    ("auditor", Role.AUDITOR, "000000"),
)


@pytest.fixture
def client(engine: Engine) -> TestClient:
    with session_scope(engine) as session:
        for name, role, region in USERS:
            create_user(session, name, PASSWORD, display_name=f"用户{name}", role=role,
                        region_code=region, actor="setup")  # fmt: skip
    return TestClient(create_app(Settings(), engine=engine))


def _login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return sign_in(client, username, password).status_code


def _post(
    client: TestClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Post a form with the CSRF token of ``page``, as a browser that just loaded it would."""
    token = form_token(client.get(page).text)
    return client.post(action, data={CSRF_FIELD: token, **(data or {})}, follow_redirects=False)


def _events(engine: Engine, entity_type: str) -> list[AuditEvent]:
    with session_scope(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.seq)
        ).all()
        session.expunge_all()
        return list(events)


ADMIN_GETS = (
    "/admin/users", "/admin/users/shimian", "/admin/keys", "/api/v1/admin/users",
    "/api/v1/admin/users/shimian", "/api/v1/admin/keys",
)  # fmt: skip


def test_everyone_but_administrators_is_refused(client: TestClient, engine: Engine) -> None:
    for username in ("shimian", "auditor"):
        assert _login(client, username) == 303
        for path in ADMIN_GETS:
            assert client.get(path).status_code == 403, path
        assert client.post("/api/v1/admin/users", json={
            "username": "x", "display_name": "x", "role": "county", "region_code": "511824",
            "password": PASSWORD}).status_code == 403  # fmt: skip
        off = client.patch("/api/v1/admin/users/hanyuan", json={"active": False})
        assert off.status_code == 403
        assert _post(client, "/cases", "/admin/users/hanyuan/deactivate").status_code == 403
        assert (
            _post(
                client,
                "/cases",
                "/admin/keys",
                {"name": "x", "role": "county", "region_code": "511824"},
            ).status_code
            == 403
        )
    client.post("/logout")
    assert client.get("/api/v1/admin/users").status_code == 401
    with session_scope(engine) as session:
        key = issue_key(session, "国网四川", role=Role.PROVINCIAL, region_code="510000",
                        actor="setup")  # fmt: skip
    bearer = {"Authorization": f"Bearer {key.token}"}
    assert client.get("/api/v1/admin/users", headers=bearer).status_code == 403
    assert client.get("/api/v1/admin/keys", headers=bearer).status_code == 403
    assert _events(engine, "user")[-1].action == "create"  # nothing changed


def test_a_regional_administrator_manages_only_their_region(client: TestClient) -> None:
    assert _login(client, "yaan_admin") == 303
    listed = client.get("/api/v1/admin/users").json()
    assert [u["username"] for u in listed["items"]] == ["hanyuan", "shimian", "yaan_admin"]
    assert listed["total"] == 3
    assert "password" not in str(listed)
    assert "argon2" not in str(listed)
    page = client.get("/admin/users").text
    assert "shimian" in page
    for outsider in ("chengdu", "sichuan_admin", "nation_admin"):
        assert outsider not in page
        reply = client.get(f"/api/v1/admin/users/{outsider}")
        assert reply.status_code == 404
        assert outsider not in reply.text
        assert client.get(f"/admin/users/{outsider}").status_code == 404
        assert client.patch(f"/api/v1/admin/users/{outsider}",
                            json={"active": False}).status_code == 404  # fmt: skip
        off = _post(client, "/admin/users", f"/admin/users/{outsider}/deactivate")
        assert off.status_code == 404
    new = {"username": "baoxing", "display_name": "宝兴县", "role": "county",
           "region_code": "511827", "password": PASSWORD}  # fmt: skip
    for refused in ({**new, "region_code": "510100"}, {**new, "role": "national"}):
        assert client.post("/api/v1/admin/users", json=refused).status_code == 403
    assert client.patch("/api/v1/admin/users/shimian",
                        json={"region_code": "510100"}).status_code == 403  # fmt: skip
    created = client.post("/api/v1/admin/users", json=new)
    assert created.status_code == 201, created.text
    assert created.json()["region_name"] == "宝兴县"
    assert client.get("/api/v1/admin/users?role=county&limit=1").json()["total"] == 3
    assert _login(client, "baoxing") == 303


def test_pages_change_accounts_with_csrf_and_the_audit_names_the_administrator(
    client: TestClient, engine: Engine
) -> None:
    assert _login(client, "sichuan_admin") == 303
    client.get("/admin/users")
    form = {"username": "x", "display_name": "x", "role": "county", "region_code": "511824",
            "password": PASSWORD}  # fmt: skip
    bare = client.post("/admin/users", data=form, follow_redirects=False)
    assert bare.status_code == 403
    made = _post(client, "/admin/users", "/admin/users", {
        "username": "lushan", "display_name": "芦山县 周敏", "role": "county",
        "region_code": "511826", "password": PASSWORD})  # fmt: skip
    assert (made.status_code, made.headers["location"]) == (303, "/admin/users/lushan")
    short = _post(client, "/admin/users", "/admin/users", {
        "username": "tianquan", "display_name": "天全县", "role": "county",
        "region_code": "511825", "password": "short"})  # fmt: skip
    assert short.status_code == 422
    assert "at least 10" in short.text
    assert "天全县" in short.text  # the form keeps what was typed

    page = "/admin/users/lushan"
    assert "芦山县 周敏" in client.get(page).text
    assert _post(client, page, "/admin/users/lushan/access",
                 {"role": "city", "region_code": "511800"}).status_code == 303  # fmt: skip
    assert "511800" in client.get(page).text
    assert _post(client, page, "/admin/users/lushan/deactivate").status_code == 303
    signed_out = TestClient(client.app)
    assert _login(signed_out, "lushan") == 401
    assert _post(client, page, "/admin/users/lushan/reactivate").status_code == 303
    assert _post(client, page, "/admin/users/lushan/password",
                 {"password": NEW_PASSWORD}).status_code == 303  # fmt: skip
    assert _login(signed_out, "lushan") == 401
    assert _login(signed_out, "lushan", NEW_PASSWORD) == 303
    assert _post(client, page, "/admin/users/lushan/password",
                 {"password": "short"}).status_code == 422  # fmt: skip

    events = [e for e in _events(engine, "user") if e.entity_id == "lushan"]
    assert [e.action for e in events] == [
        "create", "change_access", "deactivate", "reactivate", "reset_password",
    ]  # fmt: skip
    assert {e.actor for e in events} == {"用户sichuan_admin (sichuan_admin)"}
    for event in events:
        stored = (event.before_json or "") + (event.after_json or "") + (event.reason or "")
        assert PASSWORD not in stored
        assert NEW_PASSWORD not in stored
        assert "argon2" not in stored
    with session_scope(engine) as session:
        assert verify_chain(session).ok


def test_a_deactivated_user_is_signed_out_at_once(client: TestClient) -> None:
    official = TestClient(client.app)
    assert _login(official, "hanyuan") == 303
    assert official.get("/api/v1/cases").status_code == 200
    assert _login(client, "nation_admin") == 303
    reply = client.patch("/api/v1/admin/users/hanyuan", json={"active": False})
    assert (reply.status_code, reply.json()["active"]) == (200, False)
    assert official.get("/api/v1/cases").status_code == 401


def test_administrators_cannot_lock_themselves_out(client: TestClient) -> None:
    assert _login(client, "sichuan_admin") == 303
    page = client.get("/admin/users/sichuan_admin").text
    assert "这是您自己的账号" in page
    assert "/admin/users/sichuan_admin/deactivate" not in page
    refused = _post(client, "/admin/users/sichuan_admin", "/admin/users/sichuan_admin/deactivate")
    assert refused.status_code == 422
    assert "your own account" in refused.text
    assert client.patch("/api/v1/admin/users/sichuan_admin",
                        json={"role": "county"}).status_code == 422  # fmt: skip
    renamed = client.patch("/api/v1/admin/users/sichuan_admin", json={"display_name": "省管理员"})
    assert renamed.json()["display_name"] == "省管理员"


def test_keys_are_issued_once_listed_within_the_region_and_revoked(
    client: TestClient, engine: Engine
) -> None:
    with session_scope(engine) as session:
        elsewhere = issue_key(session, "国网成都供电公司", role=Role.GRID_ANALYST,
                              region_code="510100", actor="setup")  # fmt: skip
    assert _login(client, "yaan_admin") == 303
    issued = _post(client, "/admin/keys", "/admin/keys", {
        "name": "国网雅安供电公司", "role": "grid_analyst", "region_code": "511800"})  # fmt: skip
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    token = re.search(r'id="token">(mw_[^<]+)<', issued.text)
    assert token is not None
    key_id = token.group(1).split("_")[1]
    listing = client.get("/admin/keys").text
    assert key_id in listing
    assert token.group(1) not in listing
    assert elsewhere.key_id not in listing
    assert client.get(f"/api/v1/admin/keys/{elsewhere.key_id}").status_code == 404
    assert client.delete(f"/api/v1/admin/keys/{elsewhere.key_id}").status_code == 404
    assert _post(client, "/admin/keys", f"/admin/keys/{elsewhere.key_id}/revoke").status_code == 404
    refused = _post(client, "/admin/keys", "/admin/keys", {
        "name": "x", "role": "grid_analyst", "region_code": "510100"})  # fmt: skip
    assert refused.status_code == 403
    admin_key = _post(client, "/admin/keys", "/admin/keys", {
        "name": "x", "role": "admin", "region_code": "511800"})  # fmt: skip
    assert admin_key.status_code == 422

    grid = TestClient(client.app)
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert grid.get("/api/v1/cases", headers=bearer).status_code == 200
    assert _post(client, "/admin/keys", f"/admin/keys/{key_id}/revoke").status_code == 303
    assert grid.get("/api/v1/cases", headers=bearer).status_code == 401

    made = client.post("/api/v1/admin/keys", json={"name": "雅安电信", "role": "grid_analyst",
                                                   "region_code": "511824"})  # fmt: skip
    assert made.status_code == 201
    assert made.json()["token"].startswith("mw_")
    shown = client.get(f"/api/v1/admin/keys/{made.json()['key_id']}").json()
    assert "token" not in shown
    listed = client.get("/api/v1/admin/keys?revoked=false").json()
    assert [k["name"] for k in listed["items"]] == ["雅安电信"]
    gone = client.delete(f"/api/v1/admin/keys/{made.json()['key_id']}")
    assert gone.json()["revoked_at"] is not None
    assert client.get("/api/v1/admin/keys").json()["total"] == 2

    actions = {(e.action, e.actor) for e in _events(engine, "api_key")}
    assert ("issue", "用户yaan_admin (yaan_admin)") in actions
    assert ("revoke", "用户yaan_admin (yaan_admin)") in actions
    for event in _events(engine, "api_key"):
        assert token.group(1).split("_", 2)[2] not in (event.after_json or "")


def test_the_admin_pages_speak_english_on_request(client: TestClient) -> None:
    assert _login(client, "nation_admin") == 303
    assert "Issue a key" in client.get("/admin/keys?lang=en").text
    assert "New user" in client.get("/admin/users").text
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/users"
