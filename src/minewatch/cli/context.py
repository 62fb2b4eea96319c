"""What every command shares: the settings, the database, the actor, the locale."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from minewatch.errors import ConfigurationError
from minewatch.settings import Locale, Settings, get_settings


@dataclass
class CliState:
    """Options given before the command (``minewatch --db … --lang … COMMAND``)."""

    database: str | None = None
    locale: Locale | None = None


if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

STATE = CliState()


def settings() -> Settings:
    """The settings, with a configuration error turned into a readable message."""
    try:
        return get_settings()
    except ValidationError as error:
        details = "; ".join(str(e["msg"]) for e in error.errors())
        raise ConfigurationError(f"invalid MINEWATCH_* settings: {details}") from None


def locale() -> Locale:
    return STATE.locale or settings().locale


def database_url(override: str | None = None) -> str:
    """The database to use: ``--db`` (a URL or a SQLite file path), else the settings."""
    given = override or STATE.database
    if given:
        return (
            given
            if "://" in given
            else f"sqlite:///{Path(given).expanduser().resolve().as_posix()}"
        )
    current = settings()
    if current.database_url is None:
        current.data_dir.mkdir(parents=True, exist_ok=True)
    return current.resolved_database_url


def engine(override: str | None = None) -> Engine:
    """The database engine, migrated to the newest schema."""
    from minewatch.domain.migrate import open_database  # the database layer, when needed

    return open_database(database_url(override), busy_timeout_s=settings().db_busy_timeout_s)


def default_actor() -> str:
    """Who is acting: ``MINEWATCH_ACTOR``, else the login name."""
    return os.environ.get("MINEWATCH_ACTOR") or getpass.getuser()
