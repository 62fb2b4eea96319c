"""Creating and updating ledger projects, with their enterprises and audit events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from conftest import at, make_entry, make_uscc
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.db import session_scope
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.ledger.service import (
    SaveAction,
    check_entry,
    current_entries,
    get_project,
    import_rows,
    project_to_entry,
    save_entry,
)
from minewatch.errors import InputFileError, NotFoundError
from minewatch.reference.ledger import MachineCount, ProjectStatus


def test_create_assigns_county_codes_and_round_trips(session: Session) -> None:
    first = save_entry(session, make_entry(1), actor="a", at=at("2021-10-01"))
    second = save_entry(session, make_entry(2), actor="a", at=at("2021-10-01"))
    other = save_entry(
        session, make_entry(3, region_code="511823", responsible_region_code="511823"), actor="a"
    )
    assert first.action is SaveAction.CREATED
    assert (first.project_code, second.project_code) == ("XM-511824-0001", "XM-511824-0002")
    assert other.project_code == "XM-511823-0001"
    stored = project_to_entry(get_project(session, "XM-511824-0002"))
    assert stored == make_entry(2, project_code="XM-511824-0002")


def test_update_writes_one_event_with_before_and_after(session: Session) -> None:
    save_entry(session, make_entry(1), actor="a", at=at("2021-10-01"))
    changed = make_entry(
        1,
        project_code="XM-511824-0001",
        machines=(MachineCount("Antminer S19 Pro", 80), MachineCount("Whatsminer M30S", 20)),
        machine_count=100,
    )
    outcome = save_entry(session, changed, actor="b", at=at("2021-10-08"), reason="现场核查")
    assert outcome.action is SaveAction.UPDATED
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event is not None
    assert (event.actor, event.action, event.reason) == ("b", "update", "现场核查")
    assert json.loads(event.before_json or "")["machine_count"] == 120
    assert json.loads(event.after_json or "")["machine_count"] == 100
    assert save_entry(session, changed, actor="b").action is SaveAction.UNCHANGED
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 3


def test_enterprise_is_shared_and_renamed_through_the_chain(session: Session) -> None:
    save_entry(session, make_entry(1), actor="a")
    save_entry(
        session,
        make_entry(
            2, enterprise_uscc=make_uscc(1), enterprise_name="石棉县鑫源科技有限公司（更名）"
        ),
        actor="a",
    )
    enterprises = session.scalars(select(Enterprise)).all()
    assert len(enterprises) == 1
    assert enterprises[0].name.endswith("（更名）")
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "enterprise")
    ).all()
    assert actions == ["create", "update"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"enterprise_uscc": "91511824MA0000001Y"}, "enterprise_uscc"),
        ({"region_code": "999999"}, "region_code"),
        ({"region_code": "110103"}, "region_code"),
        ({"machine_count": 7}, "machine_count"),
        ({"rated_power_kw": -1.0}, "rated_power_kw"),
        ({"hashrate_unit": None}, "hashrate_unit"),
        ({"project_code": "P-1"}, "project_code"),
        ({"site_address": "  "}, "site_address"),
    ],
)
def test_bad_rows_are_refused(changes: dict[str, object], field: str) -> None:
    problems = check_entry(make_entry(1, **changes))
    assert field in [f for f, _ in problems]


def test_retired_region_names_its_successor() -> None:
    problems = dict(check_entry(make_entry(1, region_code="110103")))
    assert "110101" in problems["region_code"]


def test_save_refuses_a_bad_row_and_writes_nothing(engine: Engine) -> None:
    with pytest.raises(ValueError, match="region_code"), session_scope(engine) as session:
        save_entry(session, make_entry(1, region_code="999999"), actor="a")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_import_is_all_or_nothing_and_names_rows(engine: Engine) -> None:
    rows = [(3, make_entry(1)), (4, make_entry(2, region_code="999999")), (5, make_entry(3))]
    with pytest.raises(InputFileError) as caught, session_scope(engine) as session:
        import_rows(
            session, rows, path="台账.xlsx", actor="a", column_of={"region_code": "行政区划代码"}
        )
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "行政区划代码")]
    assert "台账.xlsx: row 4, column '行政区划代码'" in str(caught.value)
    with session_scope(engine) as session:
        assert current_entries(session) == []


def test_import_refuses_a_new_row_duplicating_a_ledger_project(engine: Engine) -> None:
    with session_scope(engine) as session:
        import_rows(session, [(3, make_entry(1))], path="a.xlsx", actor="a")
    with pytest.raises(InputFileError, match="XM-511824-0001"), session_scope(engine) as session:
        import_rows(session, [(3, make_entry(1, project_name="again"))], path="b.xlsx", actor="a")


def test_import_counts_created_updated_unchanged(session: Session) -> None:
    import_rows(session, [(3, make_entry(1)), (4, make_entry(2))], path="a.xlsx", actor="a")
    summary = import_rows(
        session,
        [
            (3, make_entry(1, project_code="XM-511824-0001")),
            (4, make_entry(2, project_code="XM-511824-0002", status=ProjectStatus.SHUT_DOWN)),
            (5, make_entry(3)),
        ],
        path="b.xlsx",
        actor="a",
    )
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)


def test_missing_project_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="XM-511824-0404"):
        get_project(session, "XM-511824-0404")
