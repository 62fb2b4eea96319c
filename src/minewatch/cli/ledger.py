"""``minewatch ledger``: import, export, weekly snapshot and week-over-week change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from minewatch.cli import context, output
from minewatch.domain.db import session_scope
from minewatch.domain.ledger import service, weekly
from minewatch.domain.ledger.weekly import Week
from minewatch.errors import MineWatchError
from minewatch.ingest.ledger_xlsx import header_of, read_ledger_xlsx, write_ledger_xlsx
from minewatch.reference import regions

app = typer.Typer(help="The mining-project ledger (项目台账), notice 1283 clauses (三)(四).")

WeekOption = Annotated[
    str | None,
    typer.Option("--week", help="ISO week like 2021-W40 or a date in it (default: the latest)."),
]
WithinOption = Annotated[
    str | None, typer.Option("--within", help="Only this region (code or Chinese name) and below.")
]


def _region(text: str | None) -> str | None:
    if text is None:
        return None
    region = regions.find(text) if text.isdigit() else regions.resolve_name(text)
    if region is None:
        raise MineWatchError(str(regions.UnknownRegionError(text)))
    return region.code


def _week(session: Session, text: str | None) -> Week:
    if text is not None:
        try:
            return Week.parse(text)
        except ValueError as error:
            raise MineWatchError(str(error)) from None
    weeks = weekly.weeks_with_history(session)
    if not weeks:
        raise MineWatchError(
            "the ledger has no history yet: import a workbook or run `minewatch demo`"
        )
    return weeks[-1]


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Ledger workbook (.xlsx) with the Chinese headers.")],
    actor: Annotated[
        str | None, typer.Option(help="Who imports (default: MINEWATCH_ACTOR or login).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, write nothing.")
    ] = False,
) -> None:
    """Import a workbook: every row is checked, then all rows are written, or none."""
    sheet = read_ledger_xlsx(path)
    for warning in sheet.warnings:
        output.info(f"warning: {path}: {warning.where()}: {warning.reason}")
    rows = [(r.row_number, r.entry) for r in sheet.rows]
    with session_scope(context.engine()) as session:
        summary = service.import_rows(
            session, rows, path=path, actor=actor or context.default_actor(), column_of=header_of()
        )
        if dry_run:
            session.rollback()
    verb = "would import" if dry_run else "imported"
    output.info(
        f"{path}: {verb} {summary.total} rows: {summary.created} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


@app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    week: WeekOption = None,
    within: WithinOption = None,
) -> None:
    """Write the ledger (as it stands, or as of a week) to a workbook with the Chinese headers."""
    region = _region(within)
    with session_scope(context.engine()) as session:
        if week is None:
            entries = service.current_entries(session, within=region)
            when = "当前"
        else:
            chosen = _week(session, week)
            ledger = weekly.ledger_of_week(session, chosen)
            entries = [
                e
                for e in ledger.values()
                if region is None or regions.is_within(e.region_code, region)
            ]
            when = f"{chosen.year}年第{chosen.week}周"
    place = regions.get(region).full_name if region else "全部地区"
    write_ledger_xlsx(entries, path, title=f"{place}虚拟货币“挖矿”项目台账（{when}）")
    output.info(f"{path}: wrote {len(entries)} projects")


@app.command("snapshot")
def snapshot(
    week: WeekOption = None,
    within: WithinOption = None,
    depth: Annotated[int | None, typer.Option(help="Levels below the top to show.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write that week's ledger (.xlsx).")] = None,
) -> None:
    """The ledger as of the end of a week, summed per county, city, province and the nation."""
    region = _region(within)
    with session_scope(context.engine()) as session:
        chosen = _week(session, week)
        report = weekly.weekly_report(session, chosen, within=region)
    output.show(output.summary_table(report, context.locale(), max_depth=depth))
    if out is not None:
        write_ledger_xlsx(
            list(report.ledger.values()),
            out,
            title=f"虚拟货币“挖矿”项目台账（{chosen.year}年第{chosen.week}周）",
        )
        output.info(f"{out}: wrote {len(report.ledger)} projects as of {chosen}")


@app.command("diff")
def diff(
    week: WeekOption = None,
    against: Annotated[
        str | None, typer.Option(help="Week to compare with (default: the week before).")
    ] = None,
    within: WithinOption = None,
    limit: Annotated[int, typer.Option(help="How many project changes to list.")] = 50,
) -> None:
    """What changed in the ledger in a week: new, changed and exited projects, per region."""
    region = _region(within)
    with session_scope(context.engine()) as session:
        chosen = _week(session, week)
        base = _week(session, against) if against else None
        report = weekly.weekly_report(session, chosen, against=base, within=region)
    locale = context.locale()
    output.show(output.summary_table(report, locale))
    output.show(output.changes_table(report.changes, locale, limit=limit))
    if len(report.changes) > limit:
        output.info(f"… and {len(report.changes) - limit} more (use --limit)")


@app.command("dual-control")
def dual_control(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    factor: Annotated[
        str,
        typer.Option(
            "--factor", help="calorific, equivalent_2020, equivalent_2021, or VALUE:SOURCE."
        ),
    ] = "calorific",
    within: WithinOption = None,
) -> None:
    """Mining energy per region for the dual-control assessment (clause 六): new projects
    count twice."""
    from datetime import date

    from rich.table import Table

    from minewatch.domain.measures.dual_control import conversion_factor, ledger_energy, tally

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as error:
        raise MineWatchError(f"--from/--to: {error}") from error
    chosen = conversion_factor(factor)
    region = _region(within)
    with session_scope(context.engine()) as session:
        result = tally(ledger_energy(session, first, last), chosen)
    table = Table("region", "projects", "new", "energy [MWh]", "counted [MWh]", "counted [tce]")
    for code, row in result.items():
        if region is not None and not regions.is_within(code, region):
            continue
        table.add_row(code, str(row.projects), str(row.new_projects),
                      f"{row.energy_kwh / 1000:,.1f}", f"{row.counted_kwh / 1000:,.1f}",
                      f"{row.counted_tce:,.1f}")  # fmt: skip
    output.show(table)
    output.info(f"factor {chosen.kgce_per_kwh} kgce/kWh: {chosen.name} ({chosen.source})")


@app.command("overdue-exits")
def overdue_exits(
    on: Annotated[str | None, typer.Option("--on", help="As of this day (default today).")] = None,
    leads: Annotated[
        bool, typer.Option("--leads", help="Record each as a lead for its site's case.")
    ] = False,
) -> None:
    """Live projects past their exit deadline (clause 十七: to be stopped or closed)."""
    from datetime import date

    from rich.table import Table

    from minewatch.domain.leads.service import record_leads
    from minewatch.domain.measures.closure import overdue_exit_leads
    from minewatch.domain.measures.closure import overdue_exits as find_overdue

    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError as error:
        raise MineWatchError(f"--on {on!r} is not a date") from error
    table = Table("project", "enterprise", "region", "deadline", "days late", "kW")
    with session_scope(context.engine()) as session:
        late = find_overdue(session, day)
        for row in late:
            kw = "" if row.rated_power_kw is None else f"{row.rated_power_kw:,.0f}"
            table.add_row(row.project_code, row.enterprise_name, row.region_code,
                          str(row.exit_deadline), str(row.days_late), kw)  # fmt: skip
        if leads and late:
            summary = record_leads(session, overdue_exit_leads(session, day),
                                   actor=context.default_actor())  # fmt: skip
            output.info(f"leads: {summary.created} new, {summary.updated} refreshed "
                        "(run `case fuse` to put them on cases)")  # fmt: skip
    output.show(table)
    output.info(f"{len(late)} project(s) past their exit deadline on {day}")
