"""``minewatch report``: public reports taken at a hotline or from letters, triaged, answered.

The web portal (a later issue) calls the same service; at the command line an intake desk
records what a caller or a letter said and reads the receipt code back to them.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from minewatch.cli import context, output
from minewatch.cli.case import AsOption, RegionOption, RoleOption, actor_of
from minewatch.domain.db import session_scope
from minewatch.domain.reports import service
from minewatch.domain.reports.models import Channel
from minewatch.reference import regions

app = typer.Typer(help="Public reports (举报): intake, triage, contact, answer, status.")


def _vault() -> service.ContactVault:
    return service.ContactVault(context.settings().secret_key.get_secret_value())


@app.command("submit")
def submit(
    channel: Annotated[Channel, typer.Option("--channel")],
    address: Annotated[str, typer.Option("--address", help="Where the site is.")],
    observed: Annotated[str, typer.Option("--observed", help="What was seen or heard.")],
    enterprise: Annotated[str | None, typer.Option("--enterprise")] = None,
    power_use: Annotated[str | None, typer.Option("--power-use")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="Stored encrypted; optional.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="If the desk knows it.")] = None,
) -> None:
    """Take a report; prints the receipt code to give the reporter."""
    data = service.ReportData(channel, address, observed, enterprise, power_use, contact, region)
    with session_scope(context.engine()) as session:
        report = service.submit_report(session, data, vault=_vault())
        code, where = report.receipt_code, report.region_code or "unknown region"
    output.info(f"receipt code {code} ({where}); keep it to follow the report")


@app.command("triage")
def triage(
    receipt_code: str, county: str, who: AsOption = None, role: RoleOption = None,
    region: RegionOption = None,
) -> None:  # fmt: skip
    """Hand a report to a county: it becomes a lead on its site's case."""
    with session_scope(context.engine()) as session:
        report = service.triage(session, receipt_code, county, actor=actor_of(who, role, region))
        output.info(f"{report.receipt_code}: triaged to {county}, answer due "
                    f"{report.due_at:%Y-%m-%d}")  # fmt: skip


@app.command("contact")
def contact(
    receipt_code: str, reason: Annotated[str, typer.Option("--reason")], who: AsOption = None,
    role: RoleOption = None, region: RegionOption = None,
) -> None:  # fmt: skip
    """Read the reporter's contact (handling county only; the reading is audited)."""
    with session_scope(context.engine()) as session:
        value = service.reveal_contact(session, receipt_code, actor=actor_of(who, role, region),
                                       vault=_vault(), reason=reason)  # fmt: skip
    output.info(value or "the reporter left no contact")


@app.command("close")
def close(
    receipt_code: str, answer: Annotated[str, typer.Option("--answer", help="For the reporter.")],
    who: AsOption = None, role: RoleOption = None, region: RegionOption = None,
) -> None:  # fmt: skip
    """Close a report with the answer the reporter will read."""
    with session_scope(context.engine()) as session:
        service.close_report(session, receipt_code, actor=actor_of(who, role, region),
                             public_note=answer)  # fmt: skip
    output.info(f"{receipt_code}: closed")


@app.command("status")
def status(receipt_code: str) -> None:
    """What the reporter sees for a receipt code."""
    with session_scope(context.engine()) as session:
        shown = service.public_status(session, receipt_code)
    output.info(f"{shown.receipt_code}  收到 {shown.received_date}  {shown.progress}")
    if shown.note:
        output.info(f"  答复：{shown.note}")


@app.command("overdue")
def overdue(
    within: Annotated[str, typer.Option("--within", help="Region code.")] = regions.NATIONAL,
) -> None:
    """Reports past their service-level deadline."""
    table = Table("receipt", "status", "region", "due")
    with session_scope(context.engine()) as session:
        for report in service.overdue_reports(session, within=within):
            assert report.due_at is not None
            table.add_row(report.receipt_code, report.status.value,
                          report.assigned_region_code or report.region_code or "",
                          f"{report.due_at:%Y-%m-%d}")  # fmt: skip
    output.show(table)
