"""Engines, migrations, and clear errors for a database that is locked or gone."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import Engine

from conftest import make_entry
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.db import UTCDateTime, make_engine, normalise_url, session_scope
from minewatch.domain.ledger.service import current_entries, save_entry
from minewatch.domain.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_database,
)
from minewatch.domain.models import Base
from minewatch.errors import DatabaseUnavailableError


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(engine) == head_revision()


def test_revisions_are_date_prefixed() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = list(scripts.walk_revisions())
    assert revisions
    for revision in revisions:
        assert re.fullmatch(r"\d{8}_\d{2}", revision.revision), revision.revision
        assert Path(revision.path).name.startswith(revision.revision)


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert upgrade_database(engine) == head_revision()
    assert upgrade_database(engine) == head_revision()


def test_timestamps_come_back_aware_in_utc(engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2021, 10, 1, 9, 30, 15, 123456, tzinfo=beijing)
    with session_scope(engine) as session:
        save_entry(session, make_entry(1), actor="a", at=moment)
    with session_scope(engine) as session:
        stored = session.scalar(select(AuditEvent.at).limit(1))
    assert stored == moment
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2021, 10, 1), make_engine("sqlite://").dialect)
    assert UTCDateTime().process_bind_param(None, make_engine("sqlite://").dialect) is None
    aware = datetime(2021, 10, 1, tzinfo=UTC)
    assert UTCDateTime().process_bind_param(aware, make_engine("sqlite://").dialect) == (
        "2021-10-01T00:00:00.000000+00:00"
    )


def test_postgres_urls_use_psycopg() -> None:
    assert (
        normalise_url("postgresql://postgres@127.0.0.1:5432/test").drivername
        == "postgresql+psycopg"
    )
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_locked_database_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    upgrade_database(make_engine(f"sqlite:///{path}"))
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.1)
        with (
            pytest.raises(DatabaseUnavailableError, match="locked by another process"),
            session_scope(engine) as session,
        ):
            save_entry(session, make_entry(1), actor="a")
    finally:
        blocker.rollback()
        blocker.close()
    with session_scope(make_engine(f"sqlite:///{path}")) as session:
        assert current_entries(session) == []


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailableError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")


def test_database_deleted_under_a_running_process_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    path.unlink()
    with pytest.raises(DatabaseUnavailableError, match="gone"), session_scope(engine) as session:
        current_entries(session)


def test_unreachable_server_is_reported() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:9/none", busy_timeout_s=1)
    with pytest.raises(DatabaseUnavailableError, match="gone or cannot be reached"):
        upgrade_database(engine)
