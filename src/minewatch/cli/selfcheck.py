"""``minewatch selfcheck``: the server-room self-inspection of a state-owned unit (机房自查).

A unit gets a key (``key issue``), runs the probe on every server (``minewatch probe export``
hands out the file; the probe signs its report with the key, or posts it), the reports come in
(``receive``, or the platform's API), actions on servers are recorded (``action``), and the
clearance report goes to the supervising department (``report``; ``verify`` checks a copy).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from minewatch.cli import context, output
from minewatch.errors import MineWatchError

app = typer.Typer(help="Server-room self-inspection of state-owned units: keys, reports, "
                       "actions, clearance report.")  # fmt: skip
key_app = typer.Typer(help="Unit keys: the probe signs and posts reports with them.")
app.add_typer(key_app, name="key")

RulePaths = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Rule files or folders (default: the packaged rules)."),
]


@key_app.command("issue")
def key_issue(
    unit: Annotated[str, typer.Argument(help="The unit, named exactly as its inventory does.")],
    region: Annotated[str, typer.Option("--region", help="The unit's county (GB/T 2260).")],
    uscc: Annotated[str | None, typer.Option(help="The unit's credit code (GB 32100).")] = None,
    supervisor: Annotated[
        str | None, typer.Option(help="Its supervising department (主管部门).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the key to this file (owner-only) for the probe.")
    ] = None,
) -> None:
    """Issue a unit key; it is shown once (or written to --out) and stored only as a hash."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.keys import issue_unit_key

    if out is not None and out.exists():
        raise MineWatchError(f"{out} exists; a key file is never overwritten")
    with session_scope(context.engine()) as session:
        issued = issue_unit_key(session, unit, region_code=region, uscc=uscc,
                                supervisor=supervisor, actor=context.default_actor())  # fmt: skip
        if out is not None:
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(issued.token + "\n")
    output.info(f"unit key {issued.key_id} for {unit} ({region})"
                + (f" written to {out}" if out else " (shown once)"))  # fmt: skip
    if out is None:
        typer.echo(issued.token)


@key_app.command("list")
def key_list(unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None) -> None:
    """Unit keys: id, unit, region, credit code, issued, revoked (never the secrets)."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.keys import unit_keys

    table = Table("key id", "unit", "region", "credit code", "supervisor", "issued", "revoked")
    with session_scope(context.engine()) as session:
        for key in unit_keys(session, unit):
            table.add_row(key.key_id, key.unit, key.region_code, key.uscc or "—",
                          key.supervisor or "—", f"{key.created_at:%Y-%m-%d}",
                          f"{key.revoked_at:%Y-%m-%d}" if key.revoked_at else "")  # fmt: skip
    output.show(table)


@key_app.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a unit key: reports posted or signed with it are refused from now on."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.keys import revoke_unit_key

    with session_scope(context.engine()) as session:
        revoke_unit_key(session, key_id, actor=context.default_actor())
    output.info(f"unit key {key_id} revoked")


def read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MineWatchError(f"{path}: not a readable JSON report ({error})") from None
    if not isinstance(data, dict):
        raise MineWatchError(f"{path}: a probe report is a JSON object")
    return data


@app.command("receive")
def receive(
    reports: Annotated[list[Path], typer.Argument(help="Signed probe reports (JSON).")],
    paths: RulePaths = None,
) -> None:
    """Take probe reports carried in by hand (each signed with its unit's key): every report is
    checked, then all are stored, or none."""
    from minewatch.detect.hosts.rules import load_rules, report_hits
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.service import receive_report

    rules = load_rules(paths) if paths else None
    table = Table("report", "unit", "asset", "matched by", "result", "case")
    with session_scope(context.engine()) as session:
        for path in reports:
            data = read_report(path)
            try:
                hits = report_hits(data, rules)
                got = receive_report(session, data, hits, actor=context.default_actor())
            except MineWatchError as error:
                raise MineWatchError(f"{path}: {error}; no report was stored") from None
            check = got.check
            result = "clean" if check.clean else f"finding ({check.level})"
            table.add_row(path.name, check.unit, check.asset_id or "—",
                          check.matched_by or "not in inventory",
                          result if got.new else f"{result}, received before",
                          got.case_no or "—")  # fmt: skip
    output.show(table)


@app.command("action")
def action(
    unit: str,
    asset_id: Annotated[str, typer.Argument(help="The server's asset id.")],
    kind: Annotated[
        str, typer.Argument(help="ip_blocked, account_blocked, miner_removed or taken_offline.")
    ],
    on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="When (default: today).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="What was done, by whom.")] = None,
) -> None:
    """Record what the unit did about a server (audited)."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.service import ACTION_LABELS, record_action

    taken = on.date() if on is not None else datetime.now(UTC).date()
    with session_scope(context.engine()) as session:
        record_action(session, unit, asset_id, kind, taken_on=taken, note=note,
                      actor=context.default_actor())  # fmt: skip
    output.info(f"{unit} {asset_id}: {ACTION_LABELS[kind]} on {taken}")


Since = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Count checks from this day (a round's start)."),
]


@app.command("status")
def status(unit: str, since: Since = None) -> None:
    """The unit's figures now: servers checked, findings, re-checks, open items, dynamic zero."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.clearance import clearance
    from minewatch.domain.selfcheck.service import ACTION_LABELS

    with session_scope(context.engine()) as session:
        figures = clearance(session, unit, since=since.date() if since else None)
    table = Table(title=f"{unit}: {figures.in_ledger} server(s) in the inventory",
                  title_justify="left")  # fmt: skip
    for header in ("asset", "department", "checks", "last finding", "rules", "actions", "state"):
        table.add_column(header)
    for host in figures.hosts:
        table.add_row(host.asset_id, host.department or "—", str(host.checks),
                      host.last_finding_at or "—", "、".join(host.rules) or "—",
                      "；".join(host.actions) or "—", host.state)  # fmt: skip
    output.show(table)
    done = ", ".join(f"{ACTION_LABELS[k]} {n}" for k, n in figures.actions.items() if n)
    output.info(
        f"checked {figures.checked}/{figures.in_ledger}, with findings {figures.with_findings}, "
        f"re-checked clean {figures.rechecked_clean}, open {figures.open_findings}, "
        f"not in inventory {figures.unlisted_hosts}; actions: {done or 'none'}"
    )
    for item in figures.open_items:
        output.info(f"open: {item}")
    output.info("dynamic zero: " + ("yes (动态清零)" if figures.dynamic_zero else "no"))


@app.command("report")
def report(
    unit: str,
    out: Annotated[list[Path], typer.Option("--out", help="Report file(s): .xlsx and/or .pdf.")],
    since: Since = None,
) -> None:
    """The signed clearance report for the supervising department (.xlsx and PDF, Chinese)."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.clearance import clearance, sign_clearance
    from minewatch.domain.selfcheck.export import write_clearance_pdf, write_clearance_xlsx

    for path in out:
        if path.suffix.lower() not in (".xlsx", ".pdf"):
            raise MineWatchError(f"{path}: the report is written as .xlsx or .pdf")
    with session_scope(context.engine()) as session:
        figures = clearance(session, unit, since=since.date() if since else None)
        signed = sign_clearance(session, figures, actor=context.default_actor())
        for path in out:
            if path.suffix.lower() == ".xlsx":
                write_clearance_xlsx(signed, path)
            else:
                write_clearance_pdf(signed, path)
    output.info(
        f"{unit}: clearance report as of {figures.as_of} "
        f"({'dynamic zero' if figures.dynamic_zero else 'not at dynamic zero'}), signed with "
        f"unit key {signed.key_id}, sha256 {signed.sha256[:16]}…; written to "
        + ", ".join(str(p) for p in out)
    )


@app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="A clearance report (.xlsx or .pdf).")],
) -> None:
    """Check a clearance report: signed with its unit's key, issued by this platform (in the
    audit chain), and (a workbook) its figures unchanged. Exit 1 when any check fails."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.selfcheck.clearance import check_clearance
    from minewatch.domain.selfcheck.export import read_clearance_file

    key_id, digest, signature, payload = read_clearance_file(path)
    with session_scope(context.engine()) as session:
        result = check_clearance(session, key_id=key_id, sha256=digest, signature=signature,
                                 payload=payload)  # fmt: skip
    output.info(f"{path}: unit {result.unit}, key {key_id}, sha256 {digest}")
    output.info(f"signature: {'valid' if result.signature_ok else 'INVALID'}")
    output.info(
        f"issued by MineWatch: {'yes' if result.recorded else 'NO record in the audit chain'}"
    )
    if result.payload_ok is not None:
        output.info(f"figures: {'unchanged' if result.payload_ok else 'CHANGED after signing'}")
    if not result.ok:
        raise MineWatchError(f"{path}: the clearance report does not verify")
    output.info(f"{path}: verified")


__all__ = ["app"]
