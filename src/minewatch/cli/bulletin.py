"""``minewatch bulletin``: the weekly bulletin (周报/通报) of a region, notice 1283 （二十）.

``minewatch bulletin --week 2021-W40 --region 510000 --xlsx out.xlsx --pdf out.pdf
--assessment out.csv`` writes the workbook, the PDF and the per-case export for third-party
assessment (``.json`` for JSON, anything else CSV), and prints the region's headline figures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.bulletins.assessment import (
    assessment_records,
    write_assessment_csv,
    write_assessment_json,
)
from minewatch.domain.bulletins.figures import bulletin_for_week
from minewatch.domain.bulletins.pdf import write_bulletin_pdf
from minewatch.domain.bulletins.xlsx import bulletin_title, write_bulletin_xlsx
from minewatch.domain.db import session_scope
from minewatch.domain.ledger.weekly import Week
from minewatch.errors import MineWatchError
from minewatch.reference import regions


def _region(text: str) -> str:
    region = regions.find(text) if text.isdigit() else regions.resolve_name(text)
    if region is None:
        raise MineWatchError(str(regions.UnknownRegionError(text)))
    return region.code


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MineWatchError(f"--now {text!r} is not an ISO date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def bulletin(
    week: Annotated[str, typer.Option("--week", help="ISO week like 2021-W40, or a date in it.")],
    region: Annotated[
        str, typer.Option("--region", help="Province, prefecture or county (code or name).")
    ],
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the workbook (汇总, 逾期案件, 说明).")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the A4 PDF.")] = None,
    assessment: Annotated[
        Path | None,
        typer.Option("--assessment", help="Write the per-case export (.csv, or .json)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Generation time, ISO (default: now); an unfinished week is read to it."
        ),
    ] = None,
) -> None:
    """Write a region's weekly bulletin for a week (notice 1283 （二十）)."""
    try:
        chosen = Week.parse(week)
    except ValueError as error:
        raise MineWatchError(str(error)) from None
    code = _region(region)
    with session_scope(context.engine()) as session:
        result = bulletin_for_week(session, chosen, code, now=_moment(now))
        records = assessment_records(session, result) if assessment is not None else []
    if xlsx is not None:
        write_bulletin_xlsx(result, xlsx)
        output.info(f"workbook: {xlsx}")
    if pdf is not None:
        write_bulletin_pdf(result, pdf)
        output.info(f"PDF: {pdf}")
    if assessment is not None:
        if assessment.suffix.lower() == ".json":
            write_assessment_json(records, result, assessment)
        else:
            write_assessment_csv(records, assessment)
        output.info(f"assessment: {assessment} ({len(records)} case(s))")
    total = result.total
    output.info(bulletin_title(result))
    output.info(
        f"week: {total.week.opened} opened, {total.week.confirmed} confirmed, "
        f"{total.week.dismissed} dismissed, {total.week.cleared} cleared, "
        f"{total.week.relapsed} relapsed; to date: {total.cumulative.cleared} cleared, "
        f"{total.open_cases} open, {total.overdue_cases} overdue"
    )


app = typer.Typer(help="Weekly bulletins (周报/通报), notice 1283 （二十）.")
app.command("bulletin")(bulletin)
