"""``minewatch db``: the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.db import describe_url, make_engine
from minewatch.domain.migrate import current_revision, head_revision, upgrade_database

app = typer.Typer(help="The database schema (Alembic migrations shipped in the package).")


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create the database if needed and apply every migration up to REVISION."""
    url = context.database_url()
    engine = make_engine(url, busy_timeout_s=context.settings().db_busy_timeout_s)
    reached = upgrade_database(engine, revision)
    output.info(f"database {describe_url(url)} is at revision {reached}")


@app.command("current")
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    url = context.database_url()
    engine = make_engine(url, busy_timeout_s=context.settings().db_busy_timeout_s)
    output.info(
        f"database {describe_url(url)}: revision {current_revision(engine) or '(empty)'}; "
        f"newest {head_revision()}"
    )
