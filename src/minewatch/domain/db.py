"""Database plumbing: the declarative base, column types, engines, sessions and error translation.

SQLite is the embedded default; PostgreSQL is used by URL. Both run the same models, the same
Alembic migrations and the same tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, String, create_engine, event, exc
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from minewatch.errors import DatabaseUnavailableError

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every MineWatch table, with the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it as ISO text).

    Naive datetimes are refused: a timestamp without a zone cannot be defended on appeal.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: MineWatch stores aware UTC timestamps")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.isoformat(timespec="microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def normalise_url(url: str | URL) -> URL:
    """Pick the drivers MineWatch ships with (psycopg 3 for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages."""
    return normalise_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL, *, busy_timeout_s: float = 5.0) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a bounded wait for locks.

    Raises :class:`DatabaseUnavailableError` when a SQLite file's folder does not exist.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise DatabaseUnavailableError(
                    f"database {describe_url(parsed)}: folder {folder} does not exist"
                )
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(1, int(busy_timeout_s))
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


_LOCKED = re.compile(r"database is locked|could not obtain lock|lock timeout", re.IGNORECASE)


@contextmanager
def translate_db_errors(engine: Engine) -> Iterator[None]:
    """Turn driver errors about a locked, missing or unreachable database into a clear message."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        where = describe_url(engine.url)
        text = str(error.orig) if error.orig is not None else str(error)
        if _LOCKED.search(text):
            raise DatabaseUnavailableError(
                f"database {where} is locked by another process; nothing was written "
                f"(retry when the other writer has finished)"
            ) from error
        raise DatabaseUnavailableError(
            f"database {where} is gone or cannot be reached ({text.strip().splitlines()[0]}); "
            f"nothing was written"
        ) from error


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block succeeds, rolls everything back when it fails."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with translate_db_errors(engine), factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
