"""The ``minewatch`` command."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from minewatch import __version__
from minewatch.cli import audit, db, demo, ledger, output, reference, scan, train
from minewatch.cli.context import STATE
from minewatch.errors import InputFileError, MineWatchError
from minewatch.settings import Locale

app = typer.Typer(
    name="minewatch",
    help="MineWatch: find, ledger and clear crypto-mining (NDRC notice 发改运行〔2021〕1283号).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(audit.app, name="audit")
app.add_typer(scan.app, name="scan")
app.add_typer(train.app, name="train")
app.add_typer(reference.regions_app, name="regions")
app.add_typer(reference.enterprise_app, name="enterprise")
app.command("demo")(demo.demo)


def _version(value: bool) -> None:
    if value:
        output.info(f"minewatch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    database: Annotated[
        str | None,
        typer.Option("--db", help="Database URL or SQLite file (default: MINEWATCH_DATABASE_URL)."),
    ] = None,
    lang: Annotated[
        Locale | None, typer.Option("--lang", help="Language of the output (zh-CN or en).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Set the options shared by every command."""
    STATE.database = database
    STATE.locale = lang


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code; user errors become messages.

    Exit codes: 0 done, 1 a MineWatch error (or a check that failed), 2 bad input or usage.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="minewatch")
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        output.error(str(done.code))
        return 1
    except InputFileError as problem:
        output.error(str(problem))
        return 2
    except MineWatchError as problem:
        output.error(str(problem))
        return 1
    return 0


def main() -> None:
    """Entry point of the console script."""
    sys.exit(run())
