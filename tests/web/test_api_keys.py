"""API keys: a system acts with the key's role and region; a wrong or revoked key is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from conftest import make_open_case
from minewatch.domain.apikeys.models import ApiKey
from minewatch.domain.apikeys.service import ApiKeyError, issue_key, revoke_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.settings import Settings
from minewatch.web.app import create_app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_key_sees_its_region_only_and_stops_when_revoked(engine: Engine) -> None:
    with session_scope(engine) as session:
        case_no = make_open_case(session)  # 石棉县 511824
        inside = issue_key(session, "国网雅安供电公司", role=Role.GRID_ANALYST,
                           region_code="511800", actor="admin")  # fmt: skip
        outside = issue_key(session, "国网成都供电公司", role=Role.GRID_ANALYST,
                            region_code="510100", actor="admin")  # fmt: skip
        stored = session.scalars(select(ApiKey.secret_sha256)).all()
    assert all(inside.token.split("_", 2)[2] not in s for s in stored)
    client = TestClient(create_app(Settings(), engine=engine))
    seen = client.get("/api/v1/cases", headers=_bearer(inside.token))
    assert seen.status_code == 200
    assert [c["case_no"] for c in seen.json()["items"]] == [case_no]
    assert client.get("/api/v1/cases", headers=_bearer(outside.token)).json()["items"] == []
    refused = client.get("/api/v1/cases", headers=_bearer(inside.token + "x"))
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorised"
    with session_scope(engine) as session:
        revoke_key(session, inside.key_id, actor="admin")
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "api_key")
        ).all()
    assert client.get("/api/v1/cases", headers=_bearer(inside.token)).status_code == 401
    assert sorted(actions) == ["issue", "issue", "revoke"]


def test_keys_need_a_name_and_a_real_region(engine: Engine) -> None:
    with session_scope(engine) as session:
        with pytest.raises(ApiKeyError, match="name"):
            issue_key(session, " ", role=Role.GRID_ANALYST, region_code="510000", actor="a")
        with pytest.raises(ApiKeyError, match="region"):
            issue_key(session, "ISP", role=Role.GRID_ANALYST, region_code="519999", actor="a")
        with pytest.raises(ApiKeyError, match="administer"):
            issue_key(session, "ISP", role=Role.ADMIN, region_code="510000", actor="a")
