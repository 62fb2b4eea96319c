"""``minewatch credit``: credit commitments of data-centre enterprises and the records of broken
ones (notice 1283 （九）), exported for the credit-information sharing platform.

Who acts is given as for ``minewatch case`` (``--as``, ``--role``, ``--region`` or
``MINEWATCH_ACTOR``, ``MINEWATCH_ROLE``, ``MINEWATCH_REGION``).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minewatch.cli import context, output
from minewatch.cli.case import AsOption, RegionOption, RoleOption, actor_of
from minewatch.domain.credit import export, service
from minewatch.domain.credit.models import CommitmentKind, CommitmentStatus
from minewatch.domain.db import session_scope
from minewatch.domain.enterprises.service import EnterpriseData
from minewatch.errors import MineWatchError
from minewatch.reference import regions
from minewatch.reference.ledger import EnterpriseKind

app = typer.Typer(help="Credit commitments and breach records (notice 1283 （九）).")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise MineWatchError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from error


def _file_sha256(path: Path, option: str) -> str:
    if not path.is_file():
        raise MineWatchError(f"{option} {path}: no such file")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@app.command("commit")
def commit(
    uscc: Annotated[str, typer.Argument(help="The enterprise's credit code.")],
    text: Annotated[Path, typer.Option("--text", help="The commitment text signed (UTF-8).")],
    text_version: Annotated[str, typer.Option("--text-version", help="e.g. 2021-09.")],
    signed: Annotated[str, typer.Option("--signed", help="Signing date (YYYY-MM-DD).")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="Last day it binds.")],
    signatory: Annotated[str, typer.Option("--signatory")],
    document: Annotated[Path, typer.Option("--document", help="The signed document (scan).")],
    name: Annotated[
        str | None, typer.Option("--name", help="Enterprise name (creates or updates it).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--enterprise-region", help="Enterprise's region code.")
    ] = None,
    legal_representative: Annotated[str | None, typer.Option("--legal-representative")] = None,
    kind: Annotated[CommitmentKind, typer.Option("--kind")] = (CommitmentKind.DATA_CENTRE_OPERATOR),
    who: AsOption = None,
) -> None:
    """Record a signed credit commitment (信用承诺书)."""
    if not text.is_file():
        raise MineWatchError(f"--text {text}: no such file")
    data = service.CommitmentData(
        uscc=uscc,
        text_version=text_version,
        text_sha256=service.sha256_text(text.read_text(encoding="utf-8")),
        signed_date=_day(signed, "--signed"),
        valid_until=_day(valid_until, "--valid-until"),
        signatory=signatory,
        document_name=document.name,
        document_sha256=_file_sha256(document, "--document"),
        kind=kind,
    )
    enterprise = None
    if name is not None or region is not None or legal_representative is not None:
        if name is None or region is None:
            raise MineWatchError(
                "give both --name and --enterprise-region to create the enterprise"
            )
        enterprise = EnterpriseData(
            uscc=uscc, name=name, region_code=region, kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
            legal_representative=legal_representative,
        )  # fmt: skip
    with session_scope(context.engine()) as session:
        commitment = service.record_commitment(
            session, data, actor=who or context.default_actor(), enterprise=enterprise
        )
        output.info(
            f"commitment {commitment.id} of {commitment.uscc}: in force "
            f"{commitment.signed_date} – {commitment.valid_until}"
        )


@app.command("list")
def list_commitments(
    within: Annotated[str, typer.Option("--within", help="Region code.")] = regions.NATIONAL,
    status: Annotated[CommitmentStatus | None, typer.Option("--status")] = None,
) -> None:
    """Commitments of enterprises in a region."""
    table = Table("id", "credit code", "enterprise", "signed", "valid until", "status")
    with session_scope(context.engine()) as session:
        for c in service.list_commitments(session, within=within, status=status):
            table.add_row(str(c.id), c.uscc, c.enterprise.name, str(c.signed_date),
                          str(c.valid_until), c.status.value)  # fmt: skip
    output.show(table)


@app.command("breach")
def breach(
    case_no: str,
    authority: Annotated[
        str | None, typer.Option("--authority", help="Name of the deciding authority.")
    ] = None,
    authority_uscc: Annotated[
        str | None, typer.Option("--authority-uscc", help="Its credit code (optional).")
    ] = None,
    publicity_days: Annotated[
        int, typer.Option("--publicity-days", help="Days the record stays published.")
    ] = service.DEFAULT_PUBLICITY_DAYS,
    who: AsOption = None,
    role: RoleOption = None,
    region: RegionOption = None,
) -> None:
    """Make the credit record of a confirmed case whose enterprise had committed (once)."""
    with session_scope(context.engine()) as session:
        record = service.record_breach(
            session, case_no, actor=actor_of(who, role, region), authority_name=authority,
            authority_uscc=authority_uscc, publicity_days=publicity_days,
        )  # fmt: skip
        output.info(
            f"{record.record_no}: {record.status.value}, {record.uscc}, decided "
            f"{record.decision_date} by {record.authority_name}, published until "
            f"{record.publicity_until}"
        )


@app.command("revoke")
def revoke(
    record_no: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (the appeal's outcome).")],
    who: AsOption = None,
    role: RoleOption = None,
    region: RegionOption = None,
) -> None:
    """Revoke a credit record on appeal."""
    with session_scope(context.engine()) as session:
        record = service.get_record_by_no(session, record_no)
        service.revoke(session, record.id, reason, actor=actor_of(who, role, region))
        output.info(f"{record.record_no}: {record.status.value}")


@app.command("export")
def export_records(
    out: Annotated[Path, typer.Option("--out", help="CSV file (UTF-8 with BOM).")],
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Also as JSON lines.")] = None,
    within: Annotated[str, typer.Option("--within", help="Region code.")] = regions.NATIONAL,
) -> None:
    """Export credit records for the credit-information sharing platform (revocations
    included, as 撤销 rows)."""
    with session_scope(context.engine()) as session:
        rows = export.export_rows(session, within=within)
    n = export.write_csv(rows, out)
    if jsonl is not None:
        export.write_jsonl(rows, jsonl)
    output.info(f"{n} credit record(s) written to {out}" + (f" and {jsonl}" if jsonl else ""))
