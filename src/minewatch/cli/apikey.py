"""``minewatch apikey``: keys for systems (grid companies, ISPs) that push leads and pull lists."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from minewatch.cli import context, output
from minewatch.domain.apikeys.service import issue_key, list_keys, revoke_key
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope

app = typer.Typer(help="API keys for machine-to-machine access, scoped to a role and region.")


@app.command("issue")
def issue(
    name: Annotated[str, typer.Argument(help="The system that will use the key.")],
    role: Annotated[Role, typer.Option("--role")],
    region: Annotated[str, typer.Option("--region", help="Region code (000000: nation).")],
) -> None:
    """Issue a key; it is printed once, on standard output, and stored only as a hash."""
    with session_scope(context.engine()) as session:
        issued = issue_key(session, name, role=role, region_code=region,
                           actor=context.default_actor())  # fmt: skip
    output.info(f"API key {issued.key_id} for {name}: {role.value} in {region} (shown once)")
    typer.echo(issued.token)


@app.command("list")
def list_command() -> None:
    """Keys, their systems, roles and regions (never the secrets)."""
    table = Table("key id", "system", "role", "region", "issued", "revoked")
    with session_scope(context.engine()) as session:
        for key in list_keys(session):
            table.add_row(key.key_id, key.name, key.role.value, key.region_code,
                          f"{key.created_at:%Y-%m-%d}",
                          f"{key.revoked_at:%Y-%m-%d}" if key.revoked_at else "")  # fmt: skip
    output.show(table)


@app.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key at once; requests presenting it are refused from then on."""
    with session_scope(context.engine()) as session:
        revoke_key(session, key_id, actor=context.default_actor())
    output.info(f"API key {key_id} revoked")
