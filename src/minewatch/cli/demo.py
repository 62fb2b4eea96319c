"""``minewatch demo``: the main job at this stage — a demo province's weekly ledger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.db import describe_url, session_scope
from minewatch.domain.enterprises.service import EnterpriseData, save_enterprise
from minewatch.domain.ledger import weekly
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.ledger.weekly import Week
from minewatch.domain.migrate import open_database
from minewatch.reference import regions
from minewatch.synth.province import DemoProvince, generate_demo_province


def load_demo(url: str, province: DemoProvince) -> None:
    """Load a generated province into the database at ``url``, in one transaction."""
    engine = open_database(url, busy_timeout_s=context.settings().db_busy_timeout_s)
    first_change = province.changes[0].at if province.changes else None
    with session_scope(engine) as session:
        for enterprise in province.enterprises:
            save_enterprise(
                session,
                EnterpriseData(
                    uscc=enterprise.uscc,
                    name=enterprise.name,
                    region_code=enterprise.region_code,
                    kind=enterprise.kind,
                    legal_representative=enterprise.legal_representative,
                    address=enterprise.address,
                    state_owned=enterprise.state_owned,
                ),
                actor="省市场监管局（企业登记信息）",
                at=first_change,
                reason="企业登记信息导入",
                merge=False,
            )
        for change in province.changes:
            save_entry(
                session, change.entry, actor=change.actor, at=change.at, reason=change.reason
            )


def demo(
    db_path: Annotated[
        Path | None,
        typer.Option("--db-file", help="SQLite file for the demo (default: DATA_DIR/demo.db)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated province.")] = 1283,
    province: Annotated[str, typer.Option(help="Province code (GB/T 2260).")] = "510000",
    weeks: Annotated[int, typer.Option(min=2, max=52, help="Weeks of history.")] = 8,
    projects: Annotated[int, typer.Option(min=10, max=20000, help="Projects to generate.")] = 400,
) -> None:
    """Create an embedded database, load a demo province with weeks of history, print its
    weekly ledger summary per region and verify the audit chain."""
    started = time.perf_counter()
    locale = context.locale()
    if db_path is None:
        data_dir = context.settings().data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        db_path = data_dir / "demo.db"
    db_path = db_path.expanduser().resolve()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path.as_posix()}"

    generated = generate_demo_province(
        seed, province_code=province, weeks=weeks, n_projects=projects
    )
    place = regions.get(generated.province_code).name
    output.info(
        f"MineWatch demo: {place}, {len(generated.enterprises)} enterprises, "
        f"{len({c.entry.project_code for c in generated.changes})} projects, "
        f"{len(generated.changes)} ledger changes over {len(generated.weeks)} weeks (seed {seed})"
    )
    load_demo(url, generated)

    engine = open_database(url)
    with session_scope(engine) as session:
        history = [Week.of(monday) for monday in generated.weeks]
        reports = [weekly.weekly_report(session, week) for week in history]
        audit = verify_chain(session)
    output.show(output.trend_table(reports, place, locale))
    # Nation, province and prefectures; `ledger snapshot` shows every county.
    output.show(output.summary_table(reports[-1], locale, max_depth=2))
    for line in output.audit_lines(audit):
        output.info(line)
    elapsed = time.perf_counter() - started
    output.info(f"\ndatabase: {describe_url(url)}  ({elapsed:.1f} s)")
    output.info(
        f"next: minewatch --db {db_path} ledger snapshot --within 雅安市 | ledger diff | "
        "ledger export ledger.xlsx | audit verify"
    )
    if not audit.ok:
        raise typer.Exit(1)
