"""``minewatch assets``: state-owned units' server inventories (资产台账)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minewatch.cli import context, output

app = typer.Typer(help="Server inventories of state-owned units (资产台账): import, list.")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Inventory (.xlsx, .csv or .parquet).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, write nothing.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who imports.")] = None,
) -> None:
    """Import a server inventory: it replaces the stored inventory of each unit it names; every
    row is checked, then all are stored, or none."""
    from minewatch.domain.assets.service import import_assets
    from minewatch.domain.db import session_scope
    from minewatch.ingest.assets import read_assets

    table = read_assets(path)
    with session_scope(context.engine()) as session:
        summary = import_assets(session, table, source=path, actor=actor or context.default_actor())
        if dry_run:
            session.rollback()
    verb = "would import" if dry_run else "imported"
    output.info(
        f"{path}: {verb} {summary.added} server(s) of {summary.units} unit(s), replacing "
        f"{summary.removed}"
    )


@app.command("list")
def list_(
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
) -> None:
    """The stored servers: unit, asset id, department, room and rack, addresses."""
    from minewatch.domain.assets.service import assets_table
    from minewatch.domain.db import session_scope

    with session_scope(context.engine()) as session:
        rows = assets_table(session, unit).to_pylist()
    table = Table(title=f"servers ({len(rows)})", title_justify="left")
    for header in ("unit", "asset", "department", "room / rack", "IP", "CPU", "GPU"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row["unit"], row["asset_id"], row["department"] or "—",
            " / ".join(x for x in (row["room"], row["rack"]) if x) or "—",
            ", ".join(row["ips"]) or "—", str(row["cpu_count"] or "—"),
            str(row["gpu_count"] or "—"),
        )  # fmt: skip
    output.show(table)
