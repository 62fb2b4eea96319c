"""``minewatch estimate``: hash rate ↔ power, for the network, a site, and the ledger's
declarations (notice 1283 clauses 三, 四)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from minewatch.cli import context, output
from minewatch.errors import MineWatchError
from minewatch.settings import Locale

if TYPE_CHECKING:
    from minewatch.detect.power.declarations import DeclarationCheck
    from minewatch.detect.power.metered import MeteredAccount
    from minewatch.detect.power.site import HashrateBounds, PowerBounds, SiteEstimateSettings
    from minewatch.reference.ledger import LedgerEntry

app = typer.Typer(
    help="Hash rate ↔ power: the bitcoin network (CBECI method), a site, the ledger's declarations."
)

DateOption = Annotated[
    str | None,
    typer.Option("--date", help="Day of the estimate, YYYY-MM-DD (default: today, Asia/Shanghai)."),
]


def _zh() -> bool:
    return context.locale() is Locale.ZH_CN


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (write 2021-05-14)", param_hint=option
        ) from None


_HASHRATE_UNITS = (("EH/s", 1e18), ("PH/s", 1e15), ("TH/s", 1e12), ("GH/s", 1e9), ("MH/s", 1e6))


def hashrate_text(hashrate_hs: float) -> str:
    """A hash rate [H/s] in the largest unit that keeps it at 1 or more."""
    for unit, factor in _HASHRATE_UNITS:
        if abs(hashrate_hs) >= factor:
            return f"{hashrate_hs / factor:,.2f} {unit}"
    return f"{hashrate_hs:,.2f} H/s"


# --------------------------------------------------------------------------- network


@app.command("network")
def network(
    hashrate_ehs: Annotated[
        float, typer.Option("--hashrate-ehs", min=0.0, help="Network hash rate [EH/s].")
    ],
    price_usd_kwh: Annotated[
        float | None,
        typer.Option(
            "--price-usd-kwh", min=0.0, help="Electricity price [USD/kWh] (needed with revenue)."
        ),
    ] = None,
    revenue_usd_day: Annotated[
        float | None,
        typer.Option(
            "--revenue-usd-day", min=0.0, help="Miners' revenue, rewards and fees [USD/day]."
        ),
    ] = None,
    threshold_j_gh: Annotated[
        float | None,
        typer.Option("--threshold-j-gh", min=0.0, help="Profitability threshold [J/GH], given."),
    ] = None,
    day: DateOption = None,
) -> None:
    """The bitcoin network's power by the Cambridge CBECI method: lower, best, upper [GW]."""
    from minewatch.detect.power.cbeci import (
        TH_PER_EH,
        break_even_revenue_usd_day,
        estimate_network_power,
    )

    if (revenue_usd_day is None) == (threshold_j_gh is None):
        raise typer.BadParameter(
            "give --revenue-usd-day (with --price-usd-kwh) or --threshold-j-gh",
            param_hint="--revenue-usd-day / --threshold-j-gh",
        )
    if revenue_usd_day is not None and price_usd_kwh is None:
        raise typer.BadParameter("needed with --revenue-usd-day", param_hint="--price-usd-kwh")
    when = _parse_date(day, "--date") or _today()
    try:
        estimate = estimate_network_power(
            when,
            hashrate_ehs * TH_PER_EH,
            threshold_j_gh=threshold_j_gh,
            revenue_usd_day=revenue_usd_day,
            price_usd_kwh=price_usd_kwh,
        )
    except ValueError as error:
        raise MineWatchError(str(error)) from None
    zh = _zh()
    output.info(
        f"比特币全网用电估算（剑桥 CBECI 方法），{when}"
        if zh
        else f"Bitcoin network power by the Cambridge CBECI method, {when}"
    )
    price = f"{price_usd_kwh:g}" if price_usd_kwh is not None else "—"
    output.info(
        f"  全网算力 {hashrate_ehs:g} EH/s；电价 {price} 美元/千瓦时"
        if zh
        else f"  network hash rate {hashrate_ehs:g} EH/s; electricity {price} USD/kWh"
    )
    if revenue_usd_day is not None:
        source = (
            f"由矿工日收入 {revenue_usd_day:,.0f} 美元算得"
            if zh
            else f"from miners' revenue of {revenue_usd_day:,.0f} USD/day"
        )
    else:
        source = "给定" if zh else "given"
        if price_usd_kwh is not None:
            revenue = break_even_revenue_usd_day(
                estimate.threshold_j_gh, estimate.hashrate_ths, price_usd_kwh
            )
            source += (
                f"，相当于矿工日收入 {revenue:,.0f} 美元"
                if zh
                else f", i.e. miners' revenue of {revenue:,.0f} USD/day"
            )
    output.info(
        f"  盈利阈值 {estimate.threshold_j_gh:.4f} J/GH（{source}）"
        if zh
        else f"  profitability threshold {estimate.threshold_j_gh:.4f} J/GH ({source})"
    )
    output.info(
        f"  盈利机型 {estimate.profitable_model_count} 种（{when} 前发布且能效优于阈值；"
        f"能效 {estimate.efficiency_min_j_gh:.4f}–{estimate.efficiency_max_j_gh:.4f} J/GH，"
        f"平均 {estimate.efficiency_mean_j_gh:.4f}）"
        if zh
        else f"  profitable models {estimate.profitable_model_count} (released before {when}, "
        f"efficiency below the threshold: {estimate.efficiency_min_j_gh:.4f}–"
        f"{estimate.efficiency_max_j_gh:.4f} J/GH, mean {estimate.efficiency_mean_j_gh:.4f})"
    )
    table = Table(title_justify="left")
    for header in ("", "下限", "最佳估计", "上限") if zh else ("", "Lower", "Best", "Upper"):
        table.add_column(header, justify="right" if header else "left")
    gw = (estimate.lower_gw, estimate.best_gw, estimate.upper_gw)
    table.add_row("功率（GW）" if zh else "Power (GW)", *(f"{v:,.2f}" for v in gw))
    table.add_row(
        "年化用电量（TWh）" if zh else "Annualised (TWh/yr)",
        *(f"{v * 8.766:,.1f}" for v in gw),  # GW × 8,766 h/yr = GWh/yr ÷ 1,000
    )
    s = estimate.settings
    table.add_row("PUE", f"{s.pue_lower:g}", f"{s.pue_best:g}", f"{s.pue_upper:g}")
    output.show(table)


# --------------------------------------------------------------------------- site

_MACHINE_ITEM = re.compile(
    r"^\s*(?P<model>.+?)\s*(?::|：|×|\*|\s[xX]\s)\s*(?P<count>\d+)\s*台?\s*$"
)


def parse_machines_option(text: str) -> dict[str, int]:
    """``Antminer S19:120,Whatsminer M30S:40`` (also ``×`` and the ledger's ；、 separators)."""
    counts: dict[str, int] = {}
    for part in re.split(r"[,，;；、\n]+", unicodedata.normalize("NFKC", text)):
        if not part.strip():
            continue
        match = _MACHINE_ITEM.match(part)
        if match is None:
            raise typer.BadParameter(
                f"{part.strip()!r} is not model:count (e.g. 'Antminer S19:120')",
                param_hint="--machines",
            )
        counts[match["model"]] = counts.get(match["model"], 0) + int(match["count"])
    if not counts:
        raise typer.BadParameter("no machines given", param_hint="--machines")
    return counts


def _bounds_table(zh: bool) -> Table:
    table = Table(title_justify="left")
    for header in ("", "下限", "最佳估计", "上限") if zh else ("", "Lower", "Best", "Upper"):
        table.add_column(header, justify="right" if header else "left")
    return table


def _kw_row(table: Table, label: str, bounds: PowerBounds) -> None:
    values = (bounds.lower_kw, bounds.best_kw, bounds.upper_kw)
    table.add_row(label, *(f"{v:,.1f}" for v in values))


def _hashrate_row(table: Table, label: str, bounds: HashrateBounds) -> None:
    values = (bounds.lower_hs, bounds.best_hs, bounds.upper_hs)
    table.add_row(label, *(hashrate_text(v) for v in values))


def _factors_line(s: SiteEstimateSettings, zh: bool) -> str:
    if zh:
        return (
            f"  系数：铭牌功率 ±{s.power_tolerance:.0%}、算力 ±{s.hashrate_tolerance:.0%}；"
            f"PUE {s.pue_lower:g}/{s.pue_best:g}/{s.pue_upper:g}；供电损耗 "
            f"{s.supply_loss_lower:.1%}/{s.supply_loss_best:.1%}/{s.supply_loss_upper:.1%}"
        )
    return (
        f"  factors: nameplate power ±{s.power_tolerance:.0%}, hash rate "
        f"±{s.hashrate_tolerance:.0%}; PUE {s.pue_lower:g}/{s.pue_best:g}/{s.pue_upper:g}; "
        f"supply losses {s.supply_loss_lower:.1%}/{s.supply_loss_best:.1%}/"
        f"{s.supply_loss_upper:.1%}"
    )


@app.command("site")
def site(
    machines: Annotated[
        str | None,
        typer.Option(
            "--machines", help="Machines by model: 'Antminer S19:120,Whatsminer M30S:40'."
        ),
    ] = None,
    hashrate: Annotated[
        str | None,
        typer.Option("--hashrate", help="The site's hash rate with its unit: '12 PH/s'."),
    ] = None,
    power_kw: Annotated[
        float | None,
        typer.Option("--power-kw", min=0.0, help="The site's power, metered or rated [kW]."),
    ] = None,
    algorithm: Annotated[
        str | None,
        typer.Option(
            "--algorithm", help="With --hashrate or --power-kw: SHA-256, Scrypt … or BTC."
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option("--date", help="Only models released by this day count (YYYY-MM-DD)."),
    ] = None,
) -> None:
    """A site's power from its machines or its hash rate, or its hash rate from its power, each
    with lower, best and upper bounds."""
    from minewatch.detect.power.site import (
        SiteEstimateSettings,
        hashrate_from_power,
        power_from_hashrate,
        power_from_machines,
    )
    from minewatch.reference.hardware import UnknownAlgorithmError
    from minewatch.reference.ledger import parse_hashrate

    given = [name for name, value in (("--machines", machines), ("--hashrate", hashrate),
                                      ("--power-kw", power_kw)) if value is not None]  # fmt: skip
    if len(given) != 1:
        raise typer.BadParameter(
            "give one of --machines, --hashrate or --power-kw",
            param_hint="/".join(given) or "--machines / --hashrate / --power-kw",
        )
    if machines is None and algorithm is None:
        raise typer.BadParameter(f"needed with {given[0]}", param_hint="--algorithm")
    as_of = _parse_date(day, "--date")
    settings = SiteEstimateSettings()
    zh = _zh()
    table = _bounds_table(zh)
    try:
        if machines is not None:
            estimate = power_from_machines(parse_machines_option(machines), settings)
            output.info(
                f"按申报机型估算：已知机型 {estimate.machines_known} 台"
                if zh
                else f"From the machines: {estimate.machines_known} of known models"
            )
            _kw_row(table, "矿机功率（插座侧，kW）" if zh else "Machines at the wall (kW)",
                    estimate.wall_power_kw)  # fmt: skip
            _kw_row(table, "场站功率（含制冷、供电损耗，kW）" if zh else "Site, with overhead (kW)",
                    estimate.power_kw)  # fmt: skip
            for bounds in estimate.hashrate:
                _hashrate_row(table, f"{'算力' if zh else 'Hash rate'} {bounds.algorithm}", bounds)
            output.show(table)
            for unknown in estimate.unknown_models:
                output.info(
                    f"  未知机型，未计入：{unknown.model} × {unknown.count}"
                    if zh
                    else f"  unknown model, not counted: {unknown.model} × {unknown.count}"
                )
        elif hashrate is not None:
            assert algorithm is not None
            try:
                value, unit = parse_hashrate(hashrate)
            except ValueError as error:
                raise typer.BadParameter(str(error), param_hint="--hashrate") from None
            from_hashrate = power_from_hashrate(
                value * unit.hashes_per_second, algorithm, as_of, settings
            )
            spread = from_hashrate.spread
            output.info(
                f"按算力 {value:g} {unit.value}（{spread.algorithm}）估算用电功率"
                if zh
                else f"Power from a hash rate of {value:g} {unit.value} ({spread.algorithm})"
            )
            _kw_row(table, "场站功率（kW）" if zh else "Site power (kW)", from_hashrate.power_kw)
            output.show(table)
            output.info(_spread_line(spread.models, spread.min_j_th, spread.mean_j_th,
                                     spread.max_j_th, as_of, zh))  # fmt: skip
        else:
            assert power_kw is not None
            assert algorithm is not None
            from_power = hashrate_from_power(power_kw, algorithm, as_of, settings)
            spread = from_power.spread
            output.info(
                f"按功率 {power_kw:,.1f} kW（{spread.algorithm}）估算算力"
                if zh
                else f"Hash rate from {power_kw:,.1f} kW ({spread.algorithm})"
            )
            _hashrate_row(table, "算力" if zh else "Hash rate", from_power.hashrate)
            output.show(table)
            output.info(_spread_line(spread.models, spread.min_j_th, spread.mean_j_th,
                                     spread.max_j_th, as_of, zh))  # fmt: skip
    except UnknownAlgorithmError as error:
        raise typer.BadParameter(str(error), param_hint="--algorithm") from None
    output.info(_factors_line(settings, zh))


def _spread_line(
    models: tuple[str, ...], low: float, mean: float, high: float, as_of: date | None, zh: bool
) -> str:
    if zh:
        when = f" {as_of} 前发布的" if as_of else ""
        return (
            f"  依据目录中{when} {len(models)} 种机型的能效 {low:.1f}–{high:.1f} J/TH"
            f"（平均 {mean:.1f}）"
        )
    when = f" released by {as_of}" if as_of else ""
    return (
        f"  from the efficiencies of {len(models)} catalogue models{when}: "
        f"{low:.1f}–{high:.1f} J/TH (mean {mean:.1f})"
    )


# --------------------------------------------------------------------------- declarations


def _metered_accounts(
    readings: str,
    customers: Path | None,
    entries: list[LedgerEntry],
    start: date | None,
    end: date | None,
) -> dict[str, MeteredAccount]:
    """The metered figures of the ledger's grid accounts: from a table of energy per account,
    or from load curves (their meters mapped to accounts by the customer archive, or taken as
    account numbers without one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from minewatch.detect.power.metered import (
        account_key,
        account_summaries,
        clip_to_window,
        energy_from_readings,
    )
    from minewatch.ingest.account_energy import is_account_energy_file, read_account_energy
    from minewatch.ingest.meters import iter_readings, read_customers
    from minewatch.ingest.schemas import READINGS_SCHEMA

    if is_account_energy_file(readings):
        if customers is not None:
            output.info("warning: --customers is not needed with a table of energy per account")
        return account_summaries(clip_to_window(read_account_energy(readings), start, end))
    accounts = {account_key(e.grid_account_no) for e in entries if e.grid_account_no}
    if customers is not None:
        archive, problems = read_customers(customers)
        for problem in problems[:20]:
            output.info(f"warning: {customers}: {problem.where()}: {problem.reason}")
        meter_accounts = {
            row["meter_id"]: row["account_no"]
            for row in archive.select(["meter_id", "account_no"]).to_pylist()
            if row["account_no"] and account_key(row["account_no"]) in accounts
        }
        if accounts and not meter_accounts:
            output.info(f"warning: {customers}: no meter of the archive is on a ledger account")
    else:
        meter_accounts = {account: account for account in accounts}
    wanted = pa.array(sorted(meter_accounts), pa.string())
    kept = []
    with output.progress("reading meter-days") as advance:
        for batch in iter_readings(readings):
            advance(batch.num_rows)
            mask = pc.is_in(batch.column("meter_id"), value_set=wanted)
            kept.append(batch.filter(mask))
    table = pa.Table.from_batches(kept, schema=READINGS_SCHEMA)
    return account_summaries(energy_from_readings(table, meter_accounts, start=start, end=end))


@app.command("declarations")
def declarations(
    readings: Annotated[
        str,
        typer.Option(
            "--readings",
            help="Energy per account (account_no, period or start/end, energy_kwh), or load "
            "curves: a .csv/.parquet file, a glob or a folder.",
        ),
    ],
    customers: Annotated[
        Path | None,
        typer.Option(
            "--customers",
            help="Customer archive mapping load-curve meters to accounts (default: meter id = "
            "account number).",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day of the window (YYYY-MM-DD).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day of the window (YYYY-MM-DD).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Findings file (.csv, .parquet or .jsonl).")
    ] = None,
    within: Annotated[
        str | None, typer.Option("--within", help="Only this region (code or Chinese name).")
    ] = None,
    all_statuses: Annotated[
        bool, typer.Option("--all", help="Also shut-down and cleared projects.")
    ] = False,
    top: Annotated[int, typer.Option(help="Flagged projects to show.")] = 20,
) -> None:
    """Hold every ledger project's declared hash rate, power and consumption against its
    machines and its metered energy; flag the ones that declare too little."""
    from minewatch.cli.ledger import _region
    from minewatch.detect.power.declarations import (
        DeclarationSettings,
        check_declarations,
        checks_table,
    )
    from minewatch.domain.db import session_scope
    from minewatch.domain.ledger import service

    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".jsonl"):
        raise MineWatchError(f"{out}: the findings file must end in .csv, .parquet or .jsonl")
    first, last = _parse_date(start, "--from"), _parse_date(end, "--to")
    if first is not None and last is not None and last < first:
        raise typer.BadParameter(f"{last} is before --from {first}", param_hint="--to")
    region = _region(within)
    with session_scope(context.engine()) as session:
        entries = service.current_entries(session, within=region)
    if not all_statuses:
        entries = [e for e in entries if e.status.is_active]
    metered = _metered_accounts(readings, customers, entries, first, last)
    as_of = last or max((m.end_date for m in metered.values()), default=None) or _today()
    settings = DeclarationSettings()
    checks = check_declarations(entries, metered, as_of=as_of, settings=settings)
    if out is not None:
        from minewatch.cli.network import write_findings

        write_findings(checks_table(checks, settings), out)
    zh = _zh()
    flagged = [c for c in checks if c.flagged]
    if flagged and top:
        output.show(_flagged_table(flagged, top, zh))
    unmetered = sum(1 for c in checks if c.metered is None)
    output.info(
        f"核对 {len(checks)} 个项目（截至 {as_of} 的机型目录）：{len(flagged)} 个申报低于计量或"
        f"设备所示；{unmetered} 个无计量数据（无户号或读数中无此户号）"
        + (f"；结果写入 {out}" if out is not None else "")
        if zh
        else f"{len(checks)} project(s) checked (catalogue as of {as_of}): {len(flagged)} "
        f"declare less than their meter or machines show; {unmetered} without metered energy"
        + (f"; findings in {out}" if out is not None else "")
    )


def _flagged_table(checks: list[DeclarationCheck], top: int, zh: bool) -> Table:
    table = Table(
        title="申报与计量/设备不符的项目" if zh else "Declarations short of meter or machines",
        title_justify="left",
    )
    headers = (
        ("项目编号", "所属企业", "户号", "申报功率（kW）", "计量平均（kW）", "申报算力", "依据")
        if zh
        else (
            "Project",
            "Enterprise",
            "Account",
            "Declared kW",
            "Metered kW",
            "Declared",
            "Reasons",
        )
    )
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if index in (3, 4, 5) else "left")

    def worst(check: DeclarationCheck) -> float:
        return max(float(f.as_dict().get("ratio", 0.0)) for f in check.findings)

    for check in sorted(checks, key=worst, reverse=True)[:top]:
        e = check.entry
        declared = "—" if e.hashrate_hs is None else hashrate_text(e.hashrate_hs)
        table.add_row(
            e.project_code or "—",
            e.enterprise_name,
            e.grid_account_no or "—",
            _number(e.rated_power_kw),
            _number(check.metered.mean_kw if check.metered else None),
            declared,
            "\n".join(f.brief() for f in check.findings),
        )
    return table


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f}"
