"""``minewatch scan``: run a detector over exported data and write its findings."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import typer

from minewatch.cli import context, output
from minewatch.cli.network import (
    ActorOption,
    AllocationsOption,
    AsnOption,
    AttributionOptions,
    DhcpLogOption,
    LeadsOption,
    NatLogOption,
    StoredAllocationsOption,
    attribute,
    record_network_leads,
    traced_count,
    write_findings,
)
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.engine.local import ScanResult, scan_meters
from minewatch.engine.spark import SparkScanSettings
from minewatch.errors import MineWatchError
from minewatch.ingest.locations import local_copy
from minewatch.ingest.meters import read_customers, read_weather, write_table

if TYPE_CHECKING:  # the database layer is imported only when leads are written
    from minewatch.domain.leads.service import LeadData, LeadSummary

app = typer.Typer(
    help="Find mining in exported data: meter load curves, packet captures, flow records, "
    "plant output."
)


def suspects_as_leads(
    findings: pa.Table,
    customers: pa.Table | None,
    settings: MeterScanSettings,
    series: Mapping[str, dict[str, Any]] | None = None,
) -> list[LeadData]:
    """The suspected meters as leads, with what the customer archive says about each and, from
    ``series`` (:attr:`~minewatch.engine.local.ScanResult.series`), the meter's load curve."""
    from minewatch.domain.leads.service import LeadData

    suspects = findings.filter(findings.column("suspected")).to_pylist()
    archive: dict[str, dict[str, object]] = {}
    if customers is not None and suspects:
        wanted = pa.array([row["meter_id"] for row in suspects], pa.string())
        rows = customers.filter(pc.is_in(customers.column("meter_id"), value_set=wanted))
        archive = {r["meter_id"]: r for r in rows.to_pylist()}
    leads = []
    for row in suspects:
        customer = archive.get(str(row["meter_id"]), {})

        def text(key: str, _customer: dict[str, object] = customer) -> str | None:
            value = _customer.get(key)
            return None if value is None else str(value)

        leads.append(
            LeadData(
                source="meters",
                subject=str(row["meter_id"]),
                score=float(row["score"]),
                category=str(row["category"]),
                reasons=str(row["reasons"]),
                evidence={
                    "valid_days": row["valid_days"],
                    "warnings": row["warnings"],
                    "settings": {k: _jsonable(v) for k, v in settings.as_dict().items()},
                    **(
                        {"series": series[str(row["meter_id"])]}
                        if series and str(row["meter_id"]) in series
                        else {}
                    ),
                },
                account_no=text("account_no"),
                customer_name=text("customer_name"),
                uscc=text("uscc"),
                address=text("address"),
                region_code=text("region_code"),
                est_start_date=row["est_start_date"],
                est_mining_kw=row["est_mining_kw"],
                est_rigs=row["est_rigs"],
                est_hashrate_ths=row["est_hashrate_ths"],
            )
        )
    return leads


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def run_meter_scan(
    readings: str,
    customers_path: str | None,
    weather_path: str | None,
    settings: MeterScanSettings,
) -> tuple[ScanResult, pa.Table | None]:
    """Read the archive and the weather (local paths or URIs), then scan the readings with a
    progress display."""
    customers = None
    if customers_path is not None:
        with local_copy(customers_path) as path:
            customers, problems = read_customers(path)
        for problem in problems[:20]:
            output.info(f"warning: {customers_path}: {problem.where()}: {problem.reason}")
        if len(problems) > 20:
            output.info(f"warning: {customers_path}: … and {len(problems) - 20} more")
    weather = None
    if weather_path is not None:
        with local_copy(weather_path) as path:
            weather = read_weather(path)
    with output.progress("scanning meter-days") as advance:
        result = scan_meters(
            readings, customers=customers, weather=weather, settings=settings, progress=advance
        )
    return result, customers


class Engine(StrEnum):
    LOCAL = "local"
    SPARK = "spark"


@app.command("meters")
def meters(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Findings: a .csv or .parquet file; with the Spark engine a folder (or URI), "
            "written partitioned by county.",
        ),
    ],
    readings: Annotated[
        str | None,
        typer.Option(
            "--readings",
            help="Load data: a .csv/.parquet file, a glob or a folder of them; with the Spark "
            "engine also a URI (hdfs://…, s3://…).",
        ),
    ] = None,
    readings_table: Annotated[
        str | None,
        typer.Option(
            "--readings-table",
            help="Spark engine: load data from a table of Spark's catalog (a Hive table, "
            "db.table) with wide or hourly columns, instead of files.",
        ),
    ] = None,
    customers: Annotated[
        str | None, typer.Option("--customers", help="Customer archive (.csv or .parquet).")
    ] = None,
    weather: Annotated[
        str | None, typer.Option("--weather", help="Daily mean temperature per region.")
    ] = None,
    leads: Annotated[
        bool, typer.Option("--leads", help="Also record the suspects as leads in the database.")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Score above which a meter is suspected."),
    ] = None,
    top: Annotated[int, typer.Option(help="Suspects to show.")] = 10,
    actor: Annotated[str | None, typer.Option(help="Who records the leads.")] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: this process, streaming; spark: a Spark cluster (pip install "
            "'minewatch[spark]', Java 17)."
        ),
    ] = Engine.LOCAL,
    master: Annotated[
        str | None,
        typer.Option(
            help="Spark master (local[2], spark://host:7077, yarn …); by default spark-submit's, "
            "or local[*]."
        ),
    ] = None,
    conf: Annotated[
        list[str] | None,
        typer.Option("--conf", help="A Spark setting KEY=VALUE (repeatable)."),
    ] = None,
    rows_per_task: Annotated[
        int,
        typer.Option(min=1, help="Spark: meter-days read by one task."),
    ] = SparkScanSettings.rows_per_task,
    buckets: Annotated[
        int | None,
        typer.Option(min=1, help="Spark: scoring tasks (default: by data size, ≥ 2 per core)."),
    ] = None,
) -> None:
    """Score every meter: is it mining, since when, how much; one row per meter."""
    settings = MeterScanSettings(threshold=threshold)
    if (readings is None) == (readings_table is None):
        raise MineWatchError("give the load data: --readings (files) or --readings-table")
    if engine is Engine.SPARK:
        _meters_on_spark(
            SparkInputs(readings, readings_table, customers, weather), out, settings, master,
            conf or [], rows_per_task, buckets, top, leads, actor,
        )  # fmt: skip
        return
    if readings is None:
        raise MineWatchError("--readings-table is read on Spark: add --engine spark")
    target = Path(out)
    if target.suffix.lower() not in (".csv", ".parquet"):
        raise MineWatchError(f"{out}: the findings file must end in .csv or .parquet")
    result, archive = run_meter_scan(readings, customers, weather, settings)
    write_table(result.findings, target)
    output.show(output.suspects_table(result.findings, top, context.locale()))
    output.info(output.scan_summary(result.findings, result.reading_rows, target))
    if leads:
        summary = save_leads(result.findings, archive, settings, actor, series=result.series)
        _say_leads(summary)


def _say_leads(summary: LeadSummary) -> None:
    output.info(
        f"leads: {summary.created} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged; {summary.linked} linked to an enterprise"
    )


def _spark_conf(pairs: list[str]) -> dict[str, str]:
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise MineWatchError(f"--conf {pair!r}: write KEY=VALUE, e.g. spark.executor.memory=8g")
        conf[key.strip()] = value.strip()
    return conf


@dataclasses.dataclass(frozen=True)
class SparkInputs:
    readings: str | None
    readings_table: str | None
    customers: str | None
    weather: str | None


def _meters_on_spark(
    inputs: SparkInputs,
    out: str,
    settings: MeterScanSettings,
    master: str | None,
    conf: list[str],
    rows_per_task: int,
    buckets: int | None,
    top: int,
    leads: bool,
    actor: str | None,
) -> None:
    from minewatch.engine.spark import scan_meters_spark, spark_session

    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[*]"  # not under spark-submit, whose master is used otherwise
    session = spark_session(master, _spark_conf(conf))
    output.info(f"Spark {session.version} on {session.sparkContext.master}")
    result = scan_meters_spark(
        session,
        inputs.readings,
        out,
        readings_table=inputs.readings_table,
        customers=inputs.customers,
        weather=inputs.weather,
        settings=settings,
        cluster=SparkScanSettings(rows_per_task=rows_per_task, buckets=buckets),
    )
    for note in result.warnings[:20]:
        output.info(f"warning: {note}")
    if len(result.warnings) > 20:
        output.info(f"warning: … and {len(result.warnings) - 20} more")
    output.show(output.suspects_table(result.suspects, top, context.locale()))
    output.info(output.counts_summary(result.categories, result.reading_rows, result.suspects, out))
    if leads:
        _say_leads(save_cluster_leads(result.suspects, settings, actor))


@app.command("meter-leads")
def meter_leads(
    findings: Annotated[
        str,
        typer.Argument(help="The findings folder of a Spark scan (scan meters --engine spark)."),
    ],
    actor: Annotated[str | None, typer.Option(help="Who records the leads.")] = None,
) -> None:
    """Record the suspects of a Spark scan's findings as leads, each with its archive row and
    load curve, as `scan meters --leads` does."""
    from minewatch.engine.cluster_output import read_summary
    from minewatch.engine.spark import read_suspects

    summary = read_summary(findings)
    known = {f.name for f in dataclasses.fields(MeterScanSettings)}
    stored = {k: v for k, v in summary.get("settings", {}).items() if k in known}
    if isinstance(stored.get("valley_hours"), list):
        stored["valley_hours"] = tuple(stored["valley_hours"])
    settings = MeterScanSettings(**stored)
    suspects = read_suspects(findings)
    _say_leads(save_cluster_leads(suspects, settings, actor))


def save_cluster_leads(
    suspects: pa.Table, settings: MeterScanSettings, actor: str | None
) -> LeadSummary:
    """Record the suspects of a Spark scan (their findings carry the archive row and the load
    curve) as leads."""
    from minewatch.engine.spark import LEAD_FIELDS

    archive = suspects.select(["meter_id", *LEAD_FIELDS, "region_code"])
    series = {
        meter: json.loads(text)
        for meter, text in zip(
            suspects.column("meter_id").to_pylist(),
            suspects.column("series").to_pylist(),
            strict=True,
        )
        if text is not None
    }
    return save_leads(suspects, archive, settings, actor, series=series)


def save_leads(
    findings: pa.Table,
    customers: pa.Table | None,
    settings: MeterScanSettings,
    actor: str | None,
    url: str | None = None,
    *,
    series: Mapping[str, dict[str, Any]] | None = None,
) -> LeadSummary:
    """Record the suspects of a scan as leads (one transaction), each with its load curve."""
    from minewatch.domain.db import session_scope
    from minewatch.domain.leads.service import record_leads

    data = suspects_as_leads(findings, customers, settings, series)
    with session_scope(context.engine(url)) as session:
        return record_leads(session, data, actor=actor or context.default_actor())


@app.command("pcap")
def pcap(
    captures: Annotated[list[Path], typer.Argument(help="Packet captures (.pcap or .pcapng).")],
    out: Annotated[Path, typer.Option("--out", help="Findings file (.csv, .parquet or .jsonl).")],
    all_flows: Annotated[
        bool, typer.Option("--all-flows", help="Every flow with its verdict, not only mining.")
    ] = False,
    top: Annotated[int, typer.Option(help="Mining flows to show.")] = 10,
    allocations: AllocationsOption = None,
    stored_allocations: StoredAllocationsOption = False,
    nat_log: NatLogOption = None,
    dhcp_log: DhcpLogOption = None,
    asn: AsnOption = True,
    leads: LeadsOption = False,
    actor: ActorOption = None,
) -> None:
    """Find mining flows in packet captures: one row per flow, client → server, with the
    pool, coin, wallet, worker and the message that gave it away, traced to the enterprise,
    street address and machine (notice 1283 clause 十九)."""
    from minewatch.detect.network.flows import scan_captures

    _check_findings_name(out)
    options = AttributionOptions(allocations, stored_allocations, nat_log, dhcp_log, asn)
    findings = attribute(scan_captures(captures, all_flows=all_flows), options)
    write_findings(findings, out)
    mining = pc.sum(findings.column("mining")).as_py() or 0
    if mining and top:
        output.show(output.mining_flows_table(findings, top, context.locale()))
    output.info(
        f"{len(captures)} capture(s): {mining} mining flow(s)"
        + (f" of {findings.num_rows}" if all_flows else "")
        + f", {traced_count(findings)} traced to an enterprise; written to {out}"
    )
    if leads:
        record_network_leads(findings, actor)


def _check_findings_name(out: Path) -> None:
    if out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        raise MineWatchError(f"{out}: the findings file must end in .csv, .parquet or .jsonl")


def write_jsonl(table: pa.Table, path: Path) -> None:
    """One JSON object per row (timestamps in ISO 8601), written whole or not at all."""
    import json

    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            for row in table.to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False, default=_iso) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
    return str(isoformat())


@app.command("flows")
def flows(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Flow records: collector output (.parquet/.csv/.jsonl), nfcapd files."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Findings file (.csv, .parquet or .jsonl).")],
    pool_addresses: Annotated[
        Path | None,
        typer.Option("--pool-addresses", help="Pool addresses or CIDR blocks, one a line."),
    ] = None,
    pools_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--pools-from",
            help="Network findings (scan pcap output): their mining flows' servers are pools.",
        ),
    ] = None,
    dns_log: Annotated[
        Path | None,
        typer.Option(
            "--dns-log", help="CSV of DNS answers (query, answer): pool names' addresses."
        ),
    ] = None,
    all_conversations: Annotated[
        bool, typer.Option("--all", help="Every conversation with its score, not only mining.")
    ] = False,
    top: Annotated[int, typer.Option(help="Mining conversations to show.")] = 10,
    allocations: AllocationsOption = None,
    stored_allocations: StoredAllocationsOption = False,
    nat_log: NatLogOption = None,
    dhcp_log: DhcpLogOption = None,
    asn: AsnOption = True,
    leads: LeadsOption = False,
    actor: ActorOption = None,
) -> None:
    """Find mining in flow records alone (NetFlow, IPFIX, nfdump): one row per conversation,
    client → server, scored from pool addresses, pool ports and the conversation's shape."""
    from minewatch.detect.network.flow_shape import detect
    from minewatch.ingest.flow_records import read_flow_records
    from minewatch.ingest.nfdump import is_nfdump_file, read_nfdump
    from minewatch.ingest.pool_addresses import (
        PoolAddresses,
        read_dns_log,
        read_findings_pools,
        read_pool_addresses,
    )

    _check_findings_name(out)
    pools = PoolAddresses()
    if pool_addresses is not None:
        pools.update(read_pool_addresses(pool_addresses))
    for findings_file in pools_from or []:
        pools.update(read_findings_pools(findings_file))
    if dns_log is not None:
        pools.update(read_dns_log(dns_log))
    tables = []
    for path in inputs:
        if path.is_file() and is_nfdump_file(path):
            table = read_nfdump(path)
        else:
            table = read_flow_records(path)
        tables.append(table.append_column("source", pa.array([path.name] * table.num_rows)))
    records = pa.concat_tables(tables)
    options = AttributionOptions(allocations, stored_allocations, nat_log, dhcp_log, asn)
    findings = attribute(detect(records, pools=pools, all_conversations=all_conversations), options)
    write_findings(findings, out)
    mining = pc.sum(findings.column("mining")).as_py() or 0
    if mining and top:
        output.show(output.mining_flows_table(findings, top, context.locale()))
    output.info(
        f"{len(inputs)} file(s), {records.num_rows} flow record(s): {mining} mining "
        f"conversation(s)"
        + (f" of {findings.num_rows}" if all_conversations else "")
        + (f"; {len(pools)} pool address(es) known" if len(pools) else "")
        + f", {traced_count(findings)} traced to an enterprise; written to {out}"
    )
    if leads:
        record_network_leads(findings, actor)


@app.command("plants")
def plants(
    generation: Annotated[
        str,
        typer.Option(
            "--generation",
            help="Plant output (terminal and grid-tie meters): a file, a glob or a folder.",
        ),
    ],
    plants_path: Annotated[
        Path, typer.Option("--plants", help="The plants: capacity, basin, gauge, owner.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Findings file (.csv or .parquet).")],
    inflow: Annotated[
        str | None,
        typer.Option("--inflow", help="River inflow or upstream gauges (daily or hourly)."),
    ] = None,
    dispatch: Annotated[
        list[Path] | None,
        typer.Option(
            "--dispatch",
            help="Dispatch instructions, curtailment and maintenance records (repeatable).",
        ),
    ] = None,
    status_out: Annotated[
        Path | None,
        typer.Option("--status", help="Also write every plant's status (.csv or .parquet)."),
    ] = None,
    leads: Annotated[
        bool, typer.Option("--leads", help="Also record the findings as leads in the database.")
    ] = False,
    top: Annotated[int, typer.Option(help="Findings to show.")] = 10,
    actor: ActorOption = None,
) -> None:
    """Find plants that deliver less than their water allows for no recorded reason (notice
    1283 clause 五: output diverted to miners before the grid-tie meter); one row per plant."""
    from minewatch.detect.plants.scan import scan_plants
    from minewatch.ingest.plants import check_plant_ids, read_plants
    from minewatch.ingest.plants_events import read_plant_events
    from minewatch.ingest.plants_generation import read_generation
    from minewatch.ingest.plants_inflow import read_inflow

    for path in (out, status_out):
        if path is not None and path.suffix.lower() not in (".csv", ".parquet"):
            raise MineWatchError(f"{path}: the findings file must end in .csv or .parquet")
    plant_table = read_plants(plants_path)
    output_table = read_generation(generation)
    inflow_table = None
    if inflow is not None:
        inflow_table, problems = read_inflow(inflow)
        for problem in problems[:20]:
            output.info(f"warning: {problem.where()}: {problem.reason}")
        if len(problems) > 20:
            output.info(f"warning: {inflow}: … and {len(problems) - 20} more")
    events = read_plant_events(dispatch) if dispatch else None
    unknown = check_plant_ids(
        plant_table, generation=output_table, events=events, inflow=inflow_table
    )
    if unknown.gauges_without_inflow:
        shown = ", ".join(unknown.gauges_without_inflow[:10])
        output.info(f"warning: no inflow for gauge(s) {shown}: those plants borrow a peer's")
    result = scan_plants(plant_table, output_table, inflow_table, events)
    write_table(result.findings, out)
    if status_out is not None:
        write_table(result.status, status_out)
    if result.findings.num_rows and top:
        output.show(output.plant_findings_table(result.findings, top, context.locale()))
    counts = pc.value_counts(result.status.column("status")).to_pylist()
    by_status = {str(c["values"]): int(c["counts"]) for c in counts}
    output.info(
        f"{plant_table.num_rows} plant(s), {output_table.num_rows} metering interval(s): "
        f"{by_status.get('finding', 0)} short for no recorded reason, "
        f"{by_status.get('shared', 0)} short with their whole basin, "
        f"{by_status.get('clear', 0)} clear, "
        f"{by_status.get('insufficient_data', 0)} with too little data; written to {out}"
    )
    if leads:
        from minewatch.domain.db import session_scope
        from minewatch.domain.leads.plants import plant_findings_as_leads
        from minewatch.domain.leads.service import record_leads

        with session_scope(context.engine()) as session:
            summary = record_leads(
                session,
                plant_findings_as_leads(result.findings),
                actor=actor or context.default_actor(),
            )
        output.info(
            f"leads: {summary.created} new, {summary.updated} updated, "
            f"{summary.unchanged} unchanged; {summary.linked} linked to an enterprise"
        )
