"""``minewatch demo``: the main job — a demo province from detection to cleared sites."""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import typer

from minewatch.cli import context, output
from minewatch.cli.scan import save_leads
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.db import describe_url, session_scope
from minewatch.domain.enterprises.service import EnterpriseData, save_enterprise
from minewatch.domain.ledger import weekly
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.ledger.weekly import Week
from minewatch.domain.migrate import open_database
from minewatch.engine.local import scan_meters
from minewatch.reference import regions
from minewatch.reference.ledger import EnterpriseKind
from minewatch.settings import Locale
from minewatch.synth.meters import MeterProvince, generate_meters, write_meter_province
from minewatch.synth.province import DemoProvince, generate_demo_province

if TYPE_CHECKING:
    from minewatch.synth.hosts import Server
    from minewatch.synth.province import DemoEnterprise as Enterprise
    from minewatch.synth.traffic import TrueFlow


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
    meters: Annotated[
        int, typer.Option(min=0, max=200_000, help="Meters of one prefecture to scan (0: none).")
    ] = 5000,
    network: Annotated[
        bool, typer.Option(help="Also generate and scan a server room's packet capture.")
    ] = True,
    plants: Annotated[
        bool, typer.Option(help="Also generate and scan the output of a prefecture's hydro plants.")
    ] = True,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="End by serving the demo province on the web (default: when run in a terminal).",
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --serve.")] = 8000,
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
    if meters:
        _demo_meters(url, generated, seed, meters, locale)
        with session_scope(engine) as session:
            audit = verify_chain(session)
    capture, truth = _demo_network(url, generated, seed, locale) if network else (None, [])
    clearance_files = _demo_selfcheck(url, generated, seed, truth) if network else None
    basins = _demo_plants(url, generated, seed, locale) if plants else None
    from minewatch.cli.demo_cases import (
        DEMO_PASSWORD,
        demo_accounts,
        run_enforcement,
        write_week_bulletin,
    )

    run_enforcement(url, generated.province_code)
    bulletin_files = write_week_bulletin(url, generated.province_code, db_path.parent)
    accounts = demo_accounts(url, generated.province_code)
    with session_scope(engine) as session:
        audit = verify_chain(session)
    for line in output.audit_lines(audit):
        output.info(line)
    elapsed = time.perf_counter() - started
    output.info(f"\ndatabase: {describe_url(url)}  ({elapsed:.1f} s)")
    output.info(
        f"next: minewatch --db {db_path} ledger snapshot --within 雅安市 | ledger diff | "
        "ledger export ledger.xlsx | audit verify"
    )
    if meters:
        output.info(
            f"      minewatch scan meters --readings {_meter_folder(db_path)}/readings.parquet "
            f"--customers {_meter_folder(db_path)}/customers.csv "
            f"--weather {_meter_folder(db_path)}/weather.csv --out findings.csv"
        )
        output.info(
            f"      minewatch estimate declarations --readings "
            f"{_meter_folder(db_path)}/readings.parquet --customers "
            f"{_meter_folder(db_path)}/customers.csv"
        )
    if capture is not None:
        output.info(
            f"      minewatch scan pcap {capture} --allocations {capture.parent}/allocations.csv "
            f"--dhcp-log {capture.parent}/dhcp-leases.csv --out flows.csv"
        )
    if clearance_files is not None:
        unit = _demo_unit(generated)
        output.info(
            f"      minewatch --db {db_path} selfcheck status {unit.name if unit else ''} | "
            f"selfcheck verify {clearance_files[0]}  (reports: {clearance_files[0].parent})"
        )
    if basins is not None:
        output.info(
            f"      minewatch scan plants --generation {basins}/generation.parquet "
            f"--plants {basins}/plants.csv --inflow {basins}/inflow.csv "
            f"--dispatch {basins}/events.csv --out plant-findings.csv"
        )
    output.info(
        f"      minewatch --db {db_path} case list | case overdue | bulletin --week "
        f"{Week.of(date.today()).year}-W{Week.of(date.today()).week:02d} --region "
        f"{generated.province_code}  (this week's: {bulletin_files[0]}, {bulletin_files[1]})"
    )
    if not audit.ok:
        raise typer.Exit(1)
    if serve is None:
        serve = sys.stdin.isatty() and sys.stdout.isatty()
    output.info(f"\nweb accounts (password {DEMO_PASSWORD!r}, for this demo only): "
                + ", ".join(f"{name} ({role})" for name, role in accounts))  # fmt: skip
    if serve:
        from minewatch.cli.serve import serve_database

        output.info(f"open http://127.0.0.1:{port}/login — Ctrl-C stops the server")
        serve_database(url, host="127.0.0.1", port=port)
    else:
        output.info(
            f"      minewatch --db {db_path} serve  (then open http://127.0.0.1:8000/login)"
        )


def _demo_plants(url: str, generated: DemoProvince, seed: int, locale: Locale) -> Path:
    """Generate two years of a few basins' hydro plants, scan them from their files, record
    the plants that feed miners as leads (notice 1283 clause 五)."""
    from minewatch.detect.plants.scan import scan_plants
    from minewatch.domain.leads.plants import plant_findings_as_leads
    from minewatch.domain.leads.service import record_leads
    from minewatch.ingest.plants import (
        read_generation,
        read_inflow,
        read_plant_events,
        read_plants,
    )
    from minewatch.synth.plants import PlantSynthParams, generate_plants, write_plant_basins

    folder = Path(url.removeprefix("sqlite:///")).parent / "demo-plants"
    # the last prefectures of a province are, as a rule, its mountain and autonomous ones
    prefectures = tuple(
        r.code for r in regions.children(generated.province_code) if not r.is_grouping
    )[-3:]
    basins = generate_plants(seed, PlantSynthParams(basins=3, prefectures=prefectures))
    paths = write_plant_basins(basins, folder, fmt="csv", generation_fmt="parquet")
    inflow, _ = read_inflow(paths["inflow"])
    result = scan_plants(
        read_plants(paths["plants"]),
        read_generation(paths["generation"]),
        inflow,
        read_plant_events(paths["events"]),
    )
    output.show(output.plant_findings_table(result.findings, 8, locale))
    truth = {r["plant_id"]: r for r in basins.truth.to_pylist()}
    found = {r["plant_id"] for r in result.findings.to_pylist() if not r["shared_with_peers"]}
    diverting = {p for p, r in truth.items() if r["diverting"]}
    output.info(
        f"{folder}: {len(truth)} plants over {basins.params.days} days; against the generator's "
        f"ground truth: {len(found & diverting)} of {len(diverting)} diverting plants found, "
        f"{len(found - diverting)} false alarms"
    )
    with session_scope(context.engine(url)) as session:
        summary = record_leads(
            session, plant_findings_as_leads(result.findings), actor="电网公司发电侧监测"
        )
    output.info(f"leads recorded: {summary.created} new")
    return folder


def _meter_folder(db_path: Path) -> Path:
    return db_path.parent / "demo-meters"


def _demo_prefecture(province_code: str) -> str:
    """雅安 for Sichuan (its hydro counties hosted the farms); else the first prefecture."""
    if province_code == "510000":
        return "511800"
    for region in regions.children(province_code):
        if region.level is regions.RegionLevel.PREFECTURE and regions.children(region.code):
            return region.code
    return province_code


def _demo_meters(
    url: str, generated: DemoProvince, seed: int, n_meters: int, locale: Locale
) -> None:
    """Generate one prefecture's meters over the last four weeks, scan them, record leads."""
    db_path = Path(url.removeprefix("sqlite:///"))
    start = generated.weeks[-1] - timedelta(days=21)
    province = generate_meters(
        seed,
        n_meters=n_meters,
        days=28,
        start=start,
        prefecture_code=_demo_prefecture(generated.province_code),
    )
    province = _as_ledger_operators(province, generated, seed)
    folder = _meter_folder(db_path)
    write_meter_province(province, folder, fmt="parquet")
    settings = MeterScanSettings()
    result = scan_meters(
        folder / "readings.parquet",
        customers=province.customers,
        weather=province.weather,
        settings=settings,
    )
    output.show(output.suspects_table(result.findings, 8, locale))
    output.info(output.scan_summary(result.findings, result.reading_rows, folder))
    truth = dict(
        zip(
            province.truth.column("meter_id").to_pylist(),
            province.truth.column("is_mining").to_pylist(),
            strict=True,
        )
    )
    flagged = result.findings.filter(result.findings.column("suspected"))
    hits = sum(bool(truth.get(m)) for m in flagged.column("meter_id").to_pylist())
    output.info(
        f"against the generator's ground truth: {hits} of {flagged.num_rows} suspects mine; "
        f"{sum(bool(v) for v in truth.values())} meters really mine"
    )
    summary = save_leads(
        result.findings, province.customers, settings, "电网公司用电分析", url,
        series=result.series,
    )  # fmt: skip
    output.info(f"leads recorded: {summary.created} new, {summary.linked} linked to an enterprise")


def _demo_network(
    url: str, generated: DemoProvince, seed: int, locale: Locale
) -> tuple[Path, list[TrueFlow]]:
    """An hour of a state-owned unit's server room: generated, scanned, compared with the
    truth, traced to the unit through its address plan and DHCP leases, recorded as leads."""
    from minewatch.cli.network import AttributionOptions, attribute
    from minewatch.detect.network.flows import scan_captures
    from minewatch.domain.leads.network import network_leads
    from minewatch.domain.leads.service import record_leads
    from minewatch.domain.selfcheck.service import place_on_assets
    from minewatch.synth.traffic import server_room_capture

    folder = Path(url.removeprefix("sqlite:///")).parent / "demo-network"
    folder.mkdir(parents=True, exist_ok=True)
    capture = folder / "server-room.pcap"
    truth = server_room_capture(capture, seed=seed, miners=8, others=60)
    options = AttributionOptions(asn=False)
    unit = _demo_unit(generated)
    if unit is not None:
        _demo_inventory(url, unit, seed, truth, folder)
        # The unit files its inside address plan like an ISP's allocation record, and its DHCP
        # server names the machines (a capture taken inside the server room).
        options = AttributionOptions(
            allocations=_write_csv(
                folder / "allocations.csv",
                ["ip_range", "organisation", "uscc", "address", "region_code", "isp", "valid_from"],
                [
                    [
                        "10.0.0.0/8",
                        unit.name,
                        unit.uscc,
                        unit.address,
                        unit.region_code,
                        f"{unit.name}信息中心",
                        "2020-01-01",
                    ]
                ],
            ),
            dhcp_log=_write_csv(
                folder / "dhcp-leases.csv",
                ["ip", "mac", "host_name", "start_at"],
                [
                    [f.client_ip, _mac(index), f"srv-{index:03d}", "2021-11-01 08:00:00"]
                    for index, f in enumerate(truth)
                ],
            ),
            asn=False,
        )
    findings = attribute(scan_captures([capture], all_flows=True), options)
    output.show(output.mining_flows_table(findings, 10, locale))
    mining = findings.filter(findings.column("mining"))
    found = {
        (r["client_ip"], r["client_port"], r["server_ip"], r["server_port"])
        for r in mining.to_pylist()
    }
    real = {(f.client_ip, f.client_port, f.server_ip, f.server_port) for f in truth}
    output.info(
        f"{capture}: {findings.num_rows} flows, {len(found)} flagged as mining; against the "
        f"generator's ground truth: {len(found & real)} of {len(real)} mining flows found, "
        f"{len(found - real)} false alarms"
    )
    engine = context.engine(url)
    with session_scope(engine) as session:
        leads = place_on_assets(session, network_leads(mining))
        summary = record_leads(session, leads, actor="省通信管理局（网络监测）")
    place = f"{unit.name}（{unit.uscc}）" if unit is not None else "—"
    on_servers = sum(lead.asset_key is not None for lead in leads)
    output.info(
        f"leads recorded: {summary.created} new, {summary.linked} linked to {place}, "
        f"{on_servers} placed on a server of its inventory"
    )
    return capture, truth


def _demo_unit(generated: DemoProvince) -> Enterprise | None:
    """The state-owned unit whose server room the demo inspects."""
    return next((e for e in generated.enterprises if e.state_owned), None)


_DEMO_SERVERS = 40
_DEMO_KEY = "selfcheck-unit.key"


def _demo_servers(seed: int, truth: Sequence[TrueFlow]) -> list[Server]:
    """The unit's servers: the generated room, its mining servers being the capture's miners
    (their addresses and the MACs the DHCP leases give them)."""
    from minewatch.synth.hosts import server_room

    servers = server_room(seed, servers=_DEMO_SERVERS, miners=min(len(truth), _DEMO_SERVERS))
    miners = iter(enumerate(truth))
    placed = []
    for server in servers:
        if server.miner is not None:
            index, flow = next(miners)
            server = dataclasses.replace(server, ips=(flow.client_ip,), macs=(_mac(index),))
        placed.append(server)
    return placed


def _demo_inventory(
    url: str, unit: Enterprise, seed: int, truth: Sequence[TrueFlow], folder: Path
) -> None:
    """The unit's server inventory imported and its unit key issued, before the network's
    findings are recorded (so they land on its servers)."""
    from minewatch.domain.assets.service import import_assets
    from minewatch.domain.selfcheck.keys import issue_unit_key
    from minewatch.ingest.assets import read_assets
    from minewatch.synth.hosts import INVENTORY_HEADER, inventory_rows

    servers = _demo_servers(seed, truth)
    path = _write_csv(folder / "资产台账.csv", INVENTORY_HEADER, inventory_rows(servers, unit.name))
    with session_scope(context.engine(url)) as session:
        import_assets(session, read_assets(path), source=path, actor=f"{unit.name}信息中心")
        issued = issue_unit_key(session, unit.name, region_code=unit.region_code, uscc=unit.uscc,
                                supervisor="省教育厅", actor=f"{unit.name}信息中心")  # fmt: skip
    (folder / _DEMO_KEY).write_text(issued.token + "\n", encoding="ascii")
    (folder / _DEMO_KEY).chmod(0o600)


def _demo_selfcheck(
    url: str, generated: DemoProvince, seed: int, truth: Sequence[TrueFlow]
) -> tuple[Path, Path] | None:
    """The unit's self-inspection: every server probed a week ago (but three), the miners
    found beside the network's findings on the same servers, most blocked and removed and
    probed again two days ago; the signed clearance report for its supervising department."""
    from minewatch.detect.hosts.rules import report_hits
    from minewatch.domain.selfcheck.clearance import clearance, sign_clearance
    from minewatch.domain.selfcheck.export import write_clearance_pdf, write_clearance_xlsx
    from minewatch.domain.selfcheck.service import receive_report, record_action
    from minewatch.probe.hostprobe import sign, signing_key
    from minewatch.synth.hosts import probe_report

    unit = _demo_unit(generated)
    if unit is None:
        return None
    folder = Path(url.removeprefix("sqlite:///")).parent / "demo-network"
    servers = _demo_servers(seed, truth)
    key_id, key = signing_key((folder / _DEMO_KEY).read_bytes())
    now = datetime.now(UTC).replace(microsecond=0)
    first, second = now - timedelta(days=7), now - timedelta(days=2)
    reports = folder / "probe-reports"
    reports.mkdir(exist_ok=True)
    actor = f"{unit.name}信息中心"
    miners = [s for s in servers if s.miner is not None]
    cleaned = miners[: max(len(miners) - 2, 0)]
    found = rechecked = 0
    with session_scope(context.engine(url)) as session:
        for index, server in enumerate(servers):
            if index >= len(servers) - 3 and server.miner is None:
                continue  # three servers were not probed yet
            report = sign(probe_report(server, seed, first), key, key_id)
            path = reports / f"{server.hostname}-{first:%Y%m%d}.json"
            path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
            got = receive_report(session, report, report_hits(report), actor=actor, at=first)
            found += not got.check.clean
        for server in cleaned:
            for kind in ("ip_blocked", "miner_removed"):
                record_action(session, unit.name, server.asset_id, kind,
                              taken_on=(first + timedelta(days=1)).date(), actor=actor,
                              at=first + timedelta(days=1))  # fmt: skip
            report = sign(probe_report(server, seed, second, miner=False), key, key_id)
            path = reports / f"{server.hostname}-{second:%Y%m%d}.json"
            path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
            got = receive_report(session, report, report_hits(report), actor=actor, at=second)
            rechecked += got.check.clean
        figures = clearance(session, unit.name, as_of=now)
        signed = sign_clearance(session, figures, actor=actor, at=now)
    files = (folder / "机房自查清理情况.xlsx", folder / "机房自查清理情况.pdf")
    write_clearance_xlsx(signed, files[0])
    write_clearance_pdf(signed, files[1])
    output.info(
        f"{unit.name} self-inspection: {figures.checked} of {figures.in_ledger} servers probed, "
        f"{found} with a miner (against the generator's truth: {len(miners)} mining servers), "
        f"{rechecked} re-checked clean after the miner was removed, {figures.open_findings} "
        f"open, {figures.unchecked} not yet probed; dynamic zero: "
        f"{'yes' if figures.dynamic_zero else 'no'}; signed clearance report: "
        f"{files[0].name}, {files[1].name}"
    )
    return files


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _mac(index: int) -> str:
    return f"3c:ec:ef:{index // 65536 % 256:02x}:{index // 256 % 256:02x}:{index % 256:02x}"


def _as_ledger_operators(meters: MeterProvince, ledger: DemoProvince, seed: int) -> MeterProvince:
    """Give half the generated mining meters to mining operators of the demo ledger.

    In a real province the grid's customer archive and the ledger name the same enterprises;
    the two generators do not know each other, so the demo makes the link the way the archive
    would carry it (the credit code), and the scan's leads land on those enterprises.
    """
    operators = [
        e.uscc
        for e in ledger.enterprises
        if e.kind is EnterpriseKind.MINING_OPERATOR
        and e.region_code.startswith(ledger.province_code[:2])
    ]
    if not operators:
        return meters
    rng = random.Random(seed)
    mining = {
        row["meter_id"]
        for row in meters.truth.to_pylist()
        if row["is_mining"] and rng.random() < 0.5
    }
    ids = meters.customers.column("meter_id").to_pylist()
    uscc = meters.customers.column("uscc").to_pylist()
    linked = [rng.choice(operators) if m in mining else u for m, u in zip(ids, uscc, strict=True)]
    # and, where the operator has a live project with a grid account, the meter is on it: the
    # ledger's declared figures can then be held against the meter (estimate declarations)
    ledger_now = ledger.ledger_as_of(ledger.week_end(len(ledger.weeks) - 1)).values()
    free: dict[str, list[str]] = {}
    for entry in sorted(ledger_now, key=lambda e: e.project_code or ""):
        if entry.grid_account_no and entry.status.is_active:
            free.setdefault(entry.enterprise_uscc, []).append(entry.grid_account_no)
    accounts = meters.customers.column("account_no").to_pylist()
    for row, (meter, code) in enumerate(zip(ids, linked, strict=True)):
        if meter in mining and free.get(code):
            accounts[row] = free[code].pop(0)
    customers = meters.customers.set_column(
        meters.customers.column_names.index("uscc"), "uscc", pa.array(linked, pa.string())
    ).set_column(
        meters.customers.column_names.index("account_no"),
        "account_no",
        pa.array(accounts, pa.string()),
    )
    return dataclasses.replace(meters, customers=customers)
