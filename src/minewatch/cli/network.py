"""``minewatch network``: IP allocations, and tracing network findings to enterprises.

``network allocations import|list`` keeps the ISPs' allocation records in the database;
:func:`attribute` and :func:`save_network_leads` are what ``scan pcap`` (and any other network
scan) call to fill the findings' enterprise, address and machine and to record leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import typer

from minewatch.cli import context, output
from minewatch.errors import MineWatchError

if TYPE_CHECKING:
    from minewatch.domain.leads.service import LeadSummary

app = typer.Typer(help="Network attribution: IP allocations → enterprise → address (clause 十九).")
allocations_app = typer.Typer(help="IP address allocation records as ISPs file them.")
app.add_typer(allocations_app, name="allocations")

# The tracing options every network scan takes (scan pcap, scan flows, network attribute).
AllocationsOption = Annotated[
    Path | None,
    typer.Option("--allocations", help="IP allocation records (.csv/.parquet) to trace with."),
]
StoredAllocationsOption = Annotated[
    bool, typer.Option("--stored-allocations", help="Trace with the allocations in the database.")
]
NatLogOption = Annotated[
    Path | None, typer.Option("--nat-log", help="NAT log: public address:port → inside host.")
]
DhcpLogOption = Annotated[
    Path | None, typer.Option("--dhcp-log", help="DHCP leases (.csv/.parquet or ISC dhcpd.leases).")
]
AsnOption = Annotated[
    bool, typer.Option("--asn/--no-asn", help="Name the AS of addresses no allocation holds.")
]
LeadsOption = Annotated[
    bool, typer.Option("--leads", help="Also record the mining machines as leads.")
]
ActorOption = Annotated[str | None, typer.Option(help="Who records the leads.")]


@allocations_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Allocation records (.csv or .parquet).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Remove every stored allocation first.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, write nothing.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who imports.")] = None,
) -> None:
    """Import allocation records: every row is checked, then all are stored, or none."""
    from minewatch.domain.allocations.service import import_allocations
    from minewatch.domain.db import session_scope
    from minewatch.ingest.allocations import read_allocations

    table = read_allocations(path)
    with session_scope(context.engine()) as session:
        summary = import_allocations(
            session, table, source=path, actor=actor or context.default_actor(), replace=replace
        )
        if dry_run:
            session.rollback()
    verb = "would import" if dry_run else "imported"
    output.info(
        f"{path}: {verb} {table.num_rows} allocation(s): {summary.added} new, "
        f"{summary.unchanged} unchanged, {summary.removed} removed; {summary.total} stored"
    )


@allocations_app.command("list")
def list_(
    ip: Annotated[
        str | None, typer.Option("--ip", help="Only the allocation that holds this address.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="With --ip: at this time (default: now; Asia/Shanghai)."),
    ] = None,
) -> None:
    """List the stored allocations, or find the one an address belongs to."""
    from minewatch.detect.network.attribution import AllocationIndex
    from minewatch.domain.allocations.service import stored_allocations
    from minewatch.domain.db import session_scope, utcnow
    from minewatch.ingest.cells import parse_instant

    with session_scope(context.engine()) as session:
        table = stored_allocations(session)
    if ip is not None:
        try:
            when = parse_instant(at) if at else utcnow()
        except ValueError as error:
            raise MineWatchError(f"--at: {error}") from None
        assert when is not None
        import numpy as np

        row = int(AllocationIndex.build(table).match([ip], np.array([int(when.timestamp())]))[0])
        if row < 0:
            raise MineWatchError(f"no stored allocation holds {ip} at {when:%Y-%m-%d %H:%M} UTC")
        table = table.slice(row, 1)
    for record in table.to_pylist():
        until = record["valid_to"]
        output.info(
            f"{record['ip_range']}\t{record['organisation']}\t{record['uscc'] or '-'}\t"
            f"{record['address'] or '-'}\t{record['isp'] or '-'}\t"
            f"{_day(record['valid_from']) or '…'} – {_day(until) or '…'}"
        )
    output.info(f"{table.num_rows} allocation(s)")


def _day(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="minutes")


@app.command("attribute")
def attribute_file(
    findings: Annotated[Path, typer.Argument(help="Network findings (.parquet) from a scan.")],
    out: Annotated[Path, typer.Option("--out", help="Findings file (.csv, .parquet or .jsonl).")],
    allocations: AllocationsOption = None,
    stored_allocations: StoredAllocationsOption = False,
    nat_log: NatLogOption = None,
    dhcp_log: DhcpLogOption = None,
    asn: AsnOption = True,
    leads: LeadsOption = False,
    actor: ActorOption = None,
) -> None:
    """Trace the flows of a findings file (written earlier by a network scan) to enterprises,
    addresses and machines, without scanning again."""
    import pyarrow.parquet as pq

    if out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        raise MineWatchError(f"{out}: the findings file must end in .csv, .parquet or .jsonl")
    try:
        table = pq.read_table(findings)
    except (OSError, pa.ArrowException) as error:
        raise MineWatchError(
            f"{findings}: not a readable Parquet findings file ({error})"
        ) from None
    missing = {"client_ip", "client_port", "transport", "first_seen"} - set(table.column_names)
    if missing:
        raise MineWatchError(f"{findings}: not network findings (no {', '.join(sorted(missing))})")
    options = AttributionOptions(allocations, stored_allocations, nat_log, dhcp_log, asn)
    traced = attribute(table, options)
    write_findings(traced, out)
    output.info(
        f"{traced.num_rows} flow(s), {traced_count(traced)} traced to an enterprise; "
        f"written to {out}"
    )
    if leads:
        record_network_leads(traced, actor)


def write_findings(findings: pa.Table, out: Path) -> None:
    """A network findings table as .csv, .parquet or .jsonl (whole or not at all)."""
    from minewatch.cli.scan import write_jsonl
    from minewatch.ingest.meters import write_table

    if out.suffix.lower() == ".jsonl":
        write_jsonl(findings, out)
    else:
        write_table(findings, out)


def traced_count(findings: pa.Table) -> int:
    """Rows of attributed findings that were traced to an enterprise."""
    import pyarrow.compute as pc

    return int(pc.sum(pc.is_valid(findings.column("enterprise"))).as_py() or 0)


def record_network_leads(findings: pa.Table, actor: str | None) -> None:
    """Record the mining flows of attributed findings as leads and say what changed."""
    summary, on_servers = save_network_leads(findings, actor)
    output.info(
        f"leads: {summary.created} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged; {summary.linked} linked to an enterprise"
        + (f"; {on_servers} on a server of a unit's inventory" if on_servers else "")
    )


@dataclass(frozen=True)
class AttributionOptions:
    """Where a scan finds what it traces its findings with."""

    allocations: Path | None = None
    stored_allocations: bool = False
    nat_log: Path | None = None
    dhcp_log: Path | None = None
    asn: bool = True


def attribute(findings: pa.Table, options: AttributionOptions) -> pa.Table:
    """Read the sources named by ``options`` and fill the findings' attribution columns."""
    from minewatch.detect.network.attribution import (
        AllocationIndex,
        attribute_findings,
        dhcp_index,
        nat_index,
    )
    from minewatch.detect.network.ranges import CrossingRangesError
    from minewatch.ingest.allocations import read_allocations
    from minewatch.ingest.dhcp_leases import read_dhcp_leases
    from minewatch.ingest.nat_log import read_nat_log
    from minewatch.reference.asn import lookup_as

    tables = []
    if options.allocations is not None:
        tables.append(read_allocations(options.allocations))
    if options.stored_allocations:
        from minewatch.domain.allocations.service import stored_allocations
        from minewatch.domain.db import session_scope

        with session_scope(context.engine()) as session:
            tables.append(stored_allocations(session))
    try:
        allocations = AllocationIndex.build(pa.concat_tables(tables)) if tables else None
    except CrossingRangesError as error:
        raise MineWatchError(
            f"the allocation file and the stored allocations overlap without nesting ({error}); "
            "import the file to see which rows"
        ) from None
    try:
        nat = nat_index(read_nat_log(options.nat_log)) if options.nat_log else None
    except CrossingRangesError as error:
        raise MineWatchError(f"{options.nat_log}: port blocks {error}") from None
    dhcp = dhcp_index(read_dhcp_leases(options.dhcp_log)) if options.dhcp_log else None
    return attribute_findings(
        findings,
        allocations=allocations,
        nat=nat,
        dhcp=dhcp,
        as_lookup=lookup_as if options.asn else None,
    )


def save_network_leads(findings: pa.Table, actor: str | None) -> tuple[LeadSummary, int]:
    """Record the mining flows of attributed findings as leads (one transaction); a flow traced
    to an inside address or MAC of a unit's server lands on that server. The summary, and how
    many leads landed on a server."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.leads.network import network_leads
    from minewatch.domain.leads.service import record_leads
    from minewatch.domain.selfcheck.service import place_on_assets

    with session_scope(context.engine()) as session:
        data = place_on_assets(session, network_leads(findings))
        summary = record_leads(session, data, actor=actor or context.default_actor())
    return summary, sum(lead.asset_key is not None for lead in data)
