"""The ``minewatch`` command."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from minewatch import __version__
from minewatch.cli import output
from minewatch.cli.context import STATE
from minewatch.errors import InputFileError, MineWatchError
from minewatch.settings import Locale

_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "db": ("minewatch.cli.db", "app"),
    "ledger": ("minewatch.cli.ledger", "app"),
    "audit": ("minewatch.cli.audit", "app"),
    "scan": ("minewatch.cli.scan", "app"),
    "network": ("minewatch.cli.network", "app"),
    "hosts": ("minewatch.cli.hosts", "app"),
    "assets": ("minewatch.cli.assets", "app"),
    "probe": ("minewatch.cli.probe", "app"),
    "selfcheck": ("minewatch.cli.selfcheck", "app"),
    "collect": ("minewatch.cli.collect", "app"),
    "estimate": ("minewatch.cli.estimate", "app"),
    "case": ("minewatch.cli.case", "app"),
    "inspect": ("minewatch.cli.inspect", "app"),
    "report": ("minewatch.cli.report", "app"),
    "screen": ("minewatch.cli.screen", "app"),
    "bulletin": ("minewatch.cli.bulletin", "bulletin"),
    "serve": ("minewatch.cli.serve", "serve"),
    "user": ("minewatch.cli.user", "app"),
    "apikey": ("minewatch.cli.apikey", "app"),
    "credit": ("minewatch.cli.credit", "app"),
    "train": ("minewatch.cli.train", "app"),
    "regions": ("minewatch.cli.reference", "regions_app"),
    "enterprise": ("minewatch.cli.reference", "enterprise_app"),
    "demo": ("minewatch.cli.demo", "demo"),
}
"""Each command's module and its Typer app (or, for a single command, its function)."""


class _LazyGroup(TyperGroup):
    """The root command, importing a command's module only when that command runs (or help
    lists it): a meter scan does not pay for the database layer, nor a ledger report for the
    meter kernels.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *_SUBCOMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = _SUBCOMMANDS[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=cmd_name)  # a group, even with one command
        else:
            holder.command(cmd_name)(target)
        return typer.main.get_group(holder).get_command(ctx, cmd_name)


app = typer.Typer(
    name="minewatch",
    cls=_LazyGroup,
    help="MineWatch: find, ledger and clear crypto-mining (NDRC notice 发改运行〔2021〕1283号).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
