"""``minewatch user``: accounts for the web platform (an administrator's job)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from minewatch.cli import context, output
from minewatch.domain.accounts.models import User
from minewatch.domain.accounts.service import create_user
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope

app = typer.Typer(help="Web accounts: a role bound to a region.")


@app.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option("--role")],
    region: Annotated[str, typer.Option("--region", help="Region code (000000: nation).")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account; the password is asked for (or read from stdin), never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with session_scope(context.engine()) as session:
        create_user(session, username, password, display_name=name or username, role=role,
                    region_code=region, actor=context.default_actor())  # fmt: skip
    output.info(f"user {username}: {role.value} for {region}")


@app.command("list")
def list_users() -> None:
    """Accounts, their roles and regions (never their hashes)."""
    table = Table("user", "name", "role", "region", "active")
    with session_scope(context.engine()) as session:
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(user.username, user.display_name, user.role.value, user.region_code,
                          "yes" if user.active else "no")  # fmt: skip
    output.show(table)
