"""The audit chain: appends link, verification names every edit, deletion and out-of-band change."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from conftest import at, make_entry
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import (
    GENESIS_HASH,
    ProblemKind,
    append_event,
    canonical_json,
    verify_chain,
)
from minewatch.domain.db import session_scope
from minewatch.domain.ledger.service import save_entry
from minewatch.reference.ledger import ProjectStatus


def _fill(engine: Engine, n: int = 4) -> None:
    with session_scope(engine) as session:
        for i in range(1, n + 1):
            save_entry(session, make_entry(i), actor="县发改局 王磊", at=at("2021-10-01"))
        save_entry(
            session,
            make_entry(1, project_code="XM-511824-0001", status=ProjectStatus.SHUT_DOWN),
            actor="县发改局 王磊",
            at=at("2021-10-08"),
        )


def _verify(engine: Engine, **kwargs: bool) -> list[tuple[ProblemKind, int | None, str]]:
    with session_scope(engine) as session:
        report = verify_chain(session, **kwargs)
    return [(p.kind, p.seq, p.detail) for p in report.problems]


def test_canonical_json_is_order_independent_and_keeps_chinese() -> None:
    assert canonical_json({"b": 1, "a": "台账"}) == canonical_json({"a": "台账", "b": 1})
    assert canonical_json({"a": "台账"}) == '{"a":"台账"}'


def test_events_link_to_their_predecessor(session: Session) -> None:
    first = append_event(
        session, actor="a", entity_type="t", entity_id="1", action="create", before=None,
        after={"x": 1}, at=at("2021-10-01"),
    )  # fmt: skip
    second = append_event(
        session, actor="a", entity_type="t", entity_id="1", action="update", before={"x": 1},
        after={"x": 2}, at=at("2021-10-02"),
    )  # fmt: skip
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.hash != second.hash


def test_append_refuses_naive_time_and_missing_actor(session: Session) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone"):
        append_event(
            session, actor="a", entity_type="t", entity_id="1", action="create", before=None,
            after={}, at=datetime(2021, 10, 1),
        )  # fmt: skip
    with pytest.raises(ValueError, match="actor"):
        append_event(
            session, actor=" ", entity_type="t", entity_id="1", action="create", before=None,
            after={},
        )  # fmt: skip


def test_intact_chain_verifies(engine: Engine) -> None:
    _fill(engine)
    with session_scope(engine) as session:
        report = verify_chain(session)
    assert report.ok, report.problems
    assert report.n_events == report.head_seq == 9  # 4 enterprises + 4 projects + 1 update


def test_hand_edited_event_is_named(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = '某人' WHERE seq = 3"))
    problems = _verify(engine, check_state=False)
    assert [(k, s) for k, s, _ in problems] == [(ProblemKind.EDITED, 3)]
    assert "event 3" in problems[0][2]


def test_edited_after_image_is_caught(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_event SET after_json = replace(after_json, '120', '12') WHERE seq = 9"
            )
        )
    kinds = {(k, s) for k, s, _ in _verify(engine)}
    assert (ProblemKind.EDITED, 9) in kinds


def test_rehashed_edit_still_breaks_the_next_link(engine: Engine) -> None:
    """Someone who edits an event and recomputes its hash still breaks the link after it."""
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET hash = :h WHERE seq = 4"), {"h": "f" * 64})
    kinds = [(k, s) for k, s, _ in _verify(engine, check_state=False)]
    assert (ProblemKind.EDITED, 4) in kinds
    assert (ProblemKind.EDITED, 5) in kinds


def test_deleted_event_is_named(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = 5"))
    problems = _verify(engine, check_state=False)
    assert (ProblemKind.DELETED, 5) in [(k, s) for k, s, _ in problems]
    assert any("event 5 deleted" in d for _, _, d in problems)


def test_cut_tail_is_caught_against_the_head(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq >= 8"))
    problems = _verify(engine, check_state=False)
    assert [(k, s) for k, s, _ in problems] == [(ProblemKind.TRUNCATED, 8)]


def test_hand_edited_ledger_row_is_caught(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE project SET monthly_energy_kwh = 1000 WHERE code = 'XM-511824-0002'")
        )
    problems = _verify(engine)
    assert len(problems) == 1
    kind, seq, detail = problems[0]
    assert kind is ProblemKind.STATE_MISMATCH
    assert "XM-511824-0002" in detail
    assert "monthly_energy_kwh" in detail
    assert seq == 4  # the project's create event (enterprise 3, project 4)


def test_row_inserted_or_deleted_by_hand_is_caught(engine: Engine) -> None:
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM project_machine WHERE project_id = 3"))
        connection.execute(text("DELETE FROM project WHERE code = 'XM-511824-0003'"))
        connection.execute(text("UPDATE enterprise SET uscc = :u WHERE id = 4"), {"u": "X" * 18})
    details = " | ".join(d for _, _, d in _verify(engine))
    assert "project XM-511824-0003 was deleted outside MineWatch" in details
    assert "enterprise XXXXXXXXXXXXXXXXXX exists in its table but no event records it" in details


def test_appends_after_a_reload_continue_the_chain(engine: Engine) -> None:
    _fill(engine, n=2)
    with session_scope(engine) as session:
        save_entry(session, make_entry(9), actor="b", at=at("2021-10-09"))
    with session_scope(engine) as session:
        events = session.query(AuditEvent).order_by(AuditEvent.seq).all()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
        assert verify_chain(session).ok
