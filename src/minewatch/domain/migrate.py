"""Apply the packaged Alembic migrations (revisions are date-prefixed: ``YYYYMMDD_NN``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from minewatch.domain.db import make_engine, translate_db_errors

SCRIPT_LOCATION = "minewatch.domain:migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with translate_db_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(engine: Engine, revision: str = "head") -> str:
    """Bring the database to ``revision`` (default: the newest) and return the revision reached."""
    if revision == "head" and current_revision(engine) == head_revision():
        return head_revision()
    config = alembic_config()
    with translate_db_errors(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    reached = current_revision(engine)
    assert reached is not None
    return reached


def open_database(url: str, *, busy_timeout_s: float = 5.0, upgrade: bool = True) -> Engine:
    """An engine on ``url`` with the schema brought up to date (migrations apply on start)."""
    engine = make_engine(url, busy_timeout_s=busy_timeout_s)
    if upgrade:
        upgrade_database(engine)
    return engine
