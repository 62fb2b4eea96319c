"""``minewatch case``: leads fused into cases and carried from assignment to re-checked.

Who acts is given once per shell (``MINEWATCH_ACTOR``, ``MINEWATCH_ROLE``, ``MINEWATCH_REGION``)
or per command (``--as``, ``--role``, ``--region``); every transition is refused unless that
role, in that region, may take it.
"""

from __future__ import annotations

import csv
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from minewatch.cli import context, output
from minewatch.domain.cases import service
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind
from minewatch.domain.cases.states import CaseStatus, Role, next_actions
from minewatch.domain.db import session_scope
from minewatch.errors import MineWatchError
from minewatch.reference import regions

app = typer.Typer(
    help="Cases: from a lead to a cleared and re-checked site (notice 1283 十二-十七)."
)

AsOption = Annotated[str | None, typer.Option("--as", help="Who acts (default MINEWATCH_ACTOR).")]
RoleOption = Annotated[
    Role | None, typer.Option("--role", help="Their role (default MINEWATCH_ROLE).")
]
RegionOption = Annotated[
    str | None,
    typer.Option("--region", help="The region they answer for (default MINEWATCH_REGION)."),
]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit).")]
VersionOption = Annotated[
    int | None,
    typer.Option("--expect-version", help="Refuse if the case changed since this version."),
]


def actor_of(name: str | None, role: Role | None, region: str | None) -> service.Actor:
    role_text = role.value if role is not None else os.environ.get("MINEWATCH_ROLE")
    if not role_text:
        raise MineWatchError("say who acts: --role (or MINEWATCH_ROLE), e.g. --role county")
    try:
        chosen = Role(role_text)
    except ValueError as error:
        roles = ", ".join(r.value for r in Role)
        raise MineWatchError(f"unknown role {role_text!r} (one of {roles})") from error
    code = region or os.environ.get("MINEWATCH_REGION") or regions.NATIONAL
    if code != regions.NATIONAL and not regions.is_valid_code(code, include_retired=False):
        raise MineWatchError(f"{code} is not a region code")
    return service.Actor(name or context.default_actor(), chosen, code)


def _done(case: Case) -> None:
    due = "" if case.stage_due_at is None else f", due {case.stage_due_at:%Y-%m-%d}"
    output.info(f"{case.case_no}: {case.status.value} (version {case.version}{due})")


@app.command("fuse")
def fuse(who: AsOption = None) -> None:
    """Attach every open lead to the case of its site, opening cases as needed."""
    with session_scope(context.engine()) as session:
        summary = service.fuse_leads(session, actor=who or context.default_actor())
    output.info(
        f"{summary.opened} case(s) opened, {summary.attached} lead(s) attached to open cases, "
        f"{summary.already} already on a case"
    )


@app.command("list")
def list_cases(
    status: Annotated[CaseStatus | None, typer.Option("--status")] = None,
    within: Annotated[str | None, typer.Option("--within", help="Region code and below.")] = None,
) -> None:
    """Cases, most confident first."""
    table = Table("case", "status", "region", "sources", "confidence", "address", "due")
    with session_scope(context.engine()) as session:
        query = select(Case).order_by(Case.confidence.desc(), Case.case_no)
        if status is not None:
            query = query.where(Case.status == status)
        for case in session.scalars(query):
            region = case.assigned_region_code or case.region_code
            if within and (region is None or not regions.is_within(region, within)):
                continue
            table.add_row(
                case.case_no, case.status.value, region or "", case.sources,
                f"{case.confidence:.2f}", case.address or "",
                "" if case.stage_due_at is None else f"{case.stage_due_at:%Y-%m-%d}",
            )  # fmt: skip
    output.show(table)


@app.command("show")
def show(case_no: str, role: RoleOption = None) -> None:
    """One case: its leads, checks, measures and what the given role may do next."""
    with session_scope(context.engine()) as session:
        case = service.get_case(session, case_no)
        output.info(
            f"{case.case_no}  {case.status.value}  version {case.version}  confidence "
            f"{case.confidence:.2f} ({case.sources})"
        )
        output.info(
            f"  site: {case.address or '?'}  account {case.account_no or '?'}  "
            f"credit code {case.uscc or '?'}  region {case.region_code or '?'}"
        )
        for link in case.leads:
            lead = link.lead
            output.info(
                f"  lead {lead.source}:{lead.subject} score {lead.score:.2f} "
                f"({link.matched_on}) {lead.reasons}"
            )
        for check in case.checks:
            output.info(
                f"  {'re-check' if check.recheck else 'check'} {check.checked_on}: "
                f"{check.outcome.value}, {check.rigs_found} rigs ({check.inspectors})"
            )
        for measure in case.measures:
            output.info(
                f"  measure {measure.kind.value} (clause {measure.clause}, {measure.agency}): "
                f"{measure.status.value}, due {measure.due_date}"
            )
        if role is not None:
            actions = ", ".join(t.value for t in next_actions(case.status, role)) or "none"
            output.info(f"  a {role.value} may: {actions}")


@app.command("assign")
def assign(
    case_no: str, county: str, who: AsOption = None, role: RoleOption = None,
    region: RegionOption = None, reason: ReasonOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Hand a case to a county."""
    with session_scope(context.engine()) as session:
        _done(service.assign(session, case_no, county, actor=actor_of(who, role, region),
                             reason=reason, expected_version=version))  # fmt: skip


def _rigs(values: list[str]) -> dict[str, int]:
    rigs: dict[str, int] = {}
    for value in values:
        model, sep, count = value.rpartition("=")
        if not sep or not model.strip() or not count.strip().isdigit():
            raise MineWatchError(f"--rigs {value!r}: write MODEL=COUNT, e.g. 'Antminer S19=120'")
        rigs[model.strip()] = rigs.get(model.strip(), 0) + int(count)
    return rigs


CheckDate = Annotated[str, typer.Option("--date", help="Day of the visit (YYYY-MM-DD).")]
Inspectors = Annotated[list[str], typer.Option("--inspector", help="Repeat for each inspector.")]
Outcome = Annotated[CheckOutcome, typer.Option("--outcome")]
Rigs = Annotated[list[str] | None, typer.Option("--rigs", help="MODEL=COUNT, repeatable.")]
Notes = Annotated[str | None, typer.Option("--notes")]


def _check(day: str, inspectors: list[str], outcome: CheckOutcome, rigs: list[str] | None,
           notes: str | None) -> service.CheckData:  # fmt: skip
    try:
        checked_on = date.fromisoformat(day)
    except ValueError as error:
        raise MineWatchError(f"--date {day!r} is not a date (YYYY-MM-DD)") from error
    return service.CheckData(checked_on, tuple(inspectors), outcome, _rigs(rigs or []),
                             notes=notes)  # fmt: skip


@app.command("check")
def check(
    case_no: str, day: CheckDate, inspector: Inspectors, outcome: Outcome, rigs: Rigs = None,
    notes: Notes = None, who: AsOption = None, role: RoleOption = None,
    region: RegionOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Record a site check."""
    data = _check(day, inspector, outcome, rigs, notes)
    with session_scope(context.engine()) as session:
        _done(service.record_check(session, case_no, data, actor=actor_of(who, role, region),
                                   expected_version=version))  # fmt: skip


@app.command("recheck")
def recheck(
    case_no: str, day: CheckDate, inspector: Inspectors, outcome: Outcome, rigs: Rigs = None,
    notes: Notes = None, who: AsOption = None, role: RoleOption = None,
    region: RegionOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Re-check a cleared site (mining found again reopens the case)."""
    data = _check(day, inspector, outcome, rigs, notes)
    with session_scope(context.engine()) as session:
        _done(service.recheck(session, case_no, data, actor=actor_of(who, role, region),
                              expected_version=version))  # fmt: skip


@app.command("confirm")
def confirm(
    case_no: str, who: AsOption = None, role: RoleOption = None, region: RegionOption = None,
    reason: ReasonOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Confirm mining after a check that found it (enter the project with `ledger import`)."""
    with session_scope(context.engine()) as session:
        _done(service.confirm(session, case_no, actor=actor_of(who, role, region), reason=reason,
                              expected_version=version))  # fmt: skip


@app.command("dismiss")
def dismiss(
    case_no: str, reason: Annotated[str, typer.Option("--reason")], who: AsOption = None,
    role: RoleOption = None, region: RegionOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """No mining: close with the reason; the leads become labelled negatives."""
    with session_scope(context.engine()) as session:
        _done(service.dismiss(session, case_no, reason=reason, actor=actor_of(who, role, region),
                              expected_version=version))  # fmt: skip


@app.command("order")
def order(
    case_no: str,
    measure: Annotated[
        list[str], typer.Option("--measure", help="KIND:DUE, e.g. power_cut:2021-11-05.")
    ],
    who: AsOption = None, role: RoleOption = None, region: RegionOption = None,
    reason: ReasonOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Order measures of the notice on a confirmed case."""
    orders = []
    for text in measure:
        kind, _, due = text.partition(":")
        try:
            orders.append(service.MeasureOrder(MeasureKind(kind), date.fromisoformat(due)))
        except ValueError as error:
            kinds = ", ".join(k.value for k in MeasureKind)
            raise MineWatchError(f"--measure {text!r}: write KIND:YYYY-MM-DD ({kinds})") from error
    with session_scope(context.engine()) as session:
        _done(service.order_measures(session, case_no, orders, actor=actor_of(who, role, region),
                                     reason=reason, expected_version=version))  # fmt: skip


@app.command("complete")
def complete(
    case_no: str, measure: Annotated[MeasureKind, typer.Option("--measure")],
    who: AsOption = None, role: RoleOption = None, region: RegionOption = None,
    reason: ReasonOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Mark an ordered measure done."""
    with session_scope(context.engine()) as session:
        _done(service.complete_measure(session, case_no, measure, actor=actor_of(who, role, region),
                                       reason=reason, expected_version=version))  # fmt: skip


@app.command("clear")
def clear(
    case_no: str, who: AsOption = None, role: RoleOption = None, region: RegionOption = None,
    reason: ReasonOption = None, version: VersionOption = None,
) -> None:  # fmt: skip
    """Every measure done: the site is cleared and due for re-check."""
    with session_scope(context.engine()) as session:
        _done(service.clear(session, case_no, actor=actor_of(who, role, region), reason=reason,
                            expected_version=version))  # fmt: skip


@app.command("overdue")
def overdue(
    within: Annotated[str, typer.Option("--within", help="Region code.")] = regions.NATIONAL,
) -> None:
    """Cases past their stage's deadline, per region."""
    table = Table("region", "case", "stage", "due", "days overdue")
    with session_scope(context.engine()) as session:
        for region, cases in service.overdue_cases(session, within=within).items():
            for item in cases:
                table.add_row(region, item.case_no, item.status.value,
                              f"{item.due_at:%Y-%m-%d}", str(item.days_overdue))  # fmt: skip
    output.show(table)


@app.command("labels")
def labels(
    out: Annotated[Path, typer.Option("--out", help="Labelled leads (CSV).")],
    source: Annotated[str | None, typer.Option("--source", help="meters, network, plants…")] = None,
) -> None:
    """Leads judged on site — confirmed mining or dismissed — as labels a detector learns from."""
    with session_scope(context.engine()) as session:
        rows = service.lead_labels(session, source)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "subject", "label", "case_no", "decided_at", "reason",
                         "detector_reasons"])  # fmt: skip
        for row in rows:
            writer.writerow([row.source, row.subject, row.label, row.case_no,
                             row.decided_at.isoformat(timespec="seconds"), row.reason or "",
                             row.reasons])  # fmt: skip
    negatives = sum(row.label == "not_mining" for row in rows)
    output.info(f"{len(rows)} labelled lead(s), {negatives} negative, written to {out}")
