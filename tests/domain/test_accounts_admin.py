"""Account administration: listing within a region, deactivation, role and region changes and
password resets, each in the audit chain under the administrator, never with a password or hash;
API keys listed within a region."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import at
from minewatch.domain.accounts.service import (
    AccountError,
    LoginRefusedError,
    authenticate,
    change_access,
    create_user,
    deactivate_user,
    get_user,
    reactivate_user,
    reset_password,
    users_within,
)
from minewatch.domain.apikeys.service import get_key, issue_key, keys_within, revoke_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.states import Role
from minewatch.errors import NotFoundError

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long passphrase"
ADMIN = "省信息中心 管理员 (admin)"


def _users(session: Session) -> None:
    for name, role, region in (
        ("shimian", Role.COUNTY, "511824"),
        ("hanyuan", Role.COUNTY, "511823"),
        ("yaan", Role.CITY, "511800"),
        ("chengdu", Role.CITY, "510100"),
        ("nation", Role.NATIONAL, "000000"),
    ):
        create_user(session, name, PASSWORD, display_name=name, role=role, region_code=region,
                    actor=ADMIN, at=at("2021-10-01"))  # fmt: skip


def test_users_are_listed_within_a_region_in_sql(session: Session) -> None:
    _users(session)
    rows, total = users_within(session, "511800")
    assert ([u.username for u in rows], total) == (["hanyuan", "shimian", "yaan"], 3)
    rows, total = users_within(session, "511800", limit=1, offset=1)
    assert ([u.username for u in rows], total) == (["shimian"], 3)
    rows, total = users_within(session, "000000", role=Role.CITY)
    assert [u.username for u in rows] == ["chengdu", "yaan"]
    deactivate_user(session, "chengdu", actor=ADMIN)
    assert users_within(session, "510000", active=False)[1] == 1
    with pytest.raises(NotFoundError):
        get_user(session, "nobody")


def test_each_change_is_audited_under_the_administrator(session: Session) -> None:
    _users(session)
    deactivate_user(session, "shimian", actor=ADMIN, at=at("2021-10-02"))
    with pytest.raises(LoginRefusedError):
        authenticate(session, "shimian", PASSWORD)
    with pytest.raises(AccountError, match="already inactive"):
        deactivate_user(session, "shimian", actor=ADMIN)
    reactivate_user(session, "shimian", actor=ADMIN, at=at("2021-10-03"))
    assert authenticate(session, "shimian", PASSWORD).actor.region_code == "511824"
    with pytest.raises(AccountError, match="already active"):
        reactivate_user(session, "shimian", actor=ADMIN)

    user = change_access(session, "shimian", role=Role.CITY, region_code="511800", actor=ADMIN)
    assert (user.role, user.region_code) == (Role.CITY, "511800")
    assert authenticate(session, "shimian", PASSWORD).actor.role is Role.CITY
    with pytest.raises(AccountError, match="nothing to change"):
        change_access(session, "shimian", role=Role.CITY, actor=ADMIN)
    with pytest.raises(AccountError, match="not a region code"):
        change_access(session, "shimian", region_code="519999", actor=ADMIN)

    with pytest.raises(AccountError, match="at least 10"):
        reset_password(session, "shimian", "short", actor=ADMIN)
    reset_password(session, "shimian", NEW_PASSWORD, actor=ADMIN)
    with pytest.raises(LoginRefusedError):
        authenticate(session, "shimian", PASSWORD)
    assert authenticate(session, "shimian", NEW_PASSWORD).actor.role is Role.CITY

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == "shimian").order_by(AuditEvent.seq)
    ).all()
    assert [e.action for e in events] == [
        "create", "deactivate", "reactivate", "change_access", "reset_password",
    ]  # fmt: skip
    assert {e.actor for e in events} == {ADMIN}
    assert json.loads(events[3].after_json or "{}")["region_code"] == "511800"
    for event in events:
        stored = (event.before_json or "") + (event.after_json or "")
        assert PASSWORD not in stored
        assert NEW_PASSWORD not in stored
        assert "argon2" not in stored
    assert verify_chain(session).ok


def test_a_reset_lifts_a_lock(session: Session) -> None:
    _users(session)
    for _ in range(5):
        with pytest.raises(LoginRefusedError):
            authenticate(session, "yaan", "guess")
    with pytest.raises(LoginRefusedError, match="too many"):
        authenticate(session, "yaan", PASSWORD)
    reset_password(session, "yaan", NEW_PASSWORD, actor=ADMIN)
    assert authenticate(session, "yaan", NEW_PASSWORD).actor.region_code == "511800"


def test_keys_are_listed_within_a_region(session: Session) -> None:
    inside = issue_key(session, "国网雅安供电公司", role=Role.GRID_ANALYST, region_code="511800",
                       actor=ADMIN, at=at("2021-10-01"))  # fmt: skip
    issue_key(session, "国网成都供电公司", role=Role.GRID_ANALYST, region_code="510100",
              actor=ADMIN, at=at("2021-10-02"))  # fmt: skip
    rows, total = keys_within(session, "511800")
    assert ([k.key_id for k in rows], total) == ([inside.key_id], 1)
    assert keys_within(session, "510000")[1] == 2
    revoke_key(session, inside.key_id, actor=ADMIN)
    assert keys_within(session, "510000", revoked=True)[1] == 1
    assert keys_within(session, "510000", revoked=False)[1] == 1
    assert get_key(session, inside.key_id).revoked_at is not None
    with pytest.raises(NotFoundError):
        get_key(session, "0" * 16)
