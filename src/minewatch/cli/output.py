"""Everything the CLI shows goes through here (the only place that prints)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from minewatch.reference.ledger import label
from minewatch.settings import Locale

if TYPE_CHECKING:  # the database layer is imported by the commands that use it
    from minewatch.domain.audit.service import AuditReport
    from minewatch.domain.ledger.weekly import ProjectChange, RegionSummary, WeeklyReport

# Wide enough for the summary tables when the output is a file or a pipe.
_WIDTH = None if sys.stdout.isatty() else 220
console = Console(highlight=False, soft_wrap=False, width=_WIDTH)
error_console = Console(stderr=True, highlight=False, width=_WIDTH)

_TEXT: dict[str, tuple[str, str]] = {
    "region": ("地区", "Region"),
    "code": ("区划代码", "Code"),
    "operating": ("在运", "Operating"),
    "in_construction": ("在建", "In constr."),
    "exited_total": ("已关停/清理", "Shut/cleared"),
    "machines": ("矿机（台）", "Machines"),
    "power": ("额定功率（MW）", "Rated MW"),
    "energy": ("月耗电（万千瓦时）", "MWh/month ×10"),
    "hashrate": ("比特币算力（PH/s）", "BTC PH/s"),
    "new": ("本周新增", "New"),
    "changed": ("本周变更", "Changed"),
    "exited": ("本周退出", "Exited"),
    "exited_power": ("退出功率（MW）", "Exited MW"),
    "week": ("周", "Week"),
    "summary_title": (
        "虚拟货币“挖矿”项目台账周报 {week}（{start}—{end}）",
        "Mining-project ledger, week {week} ({start} to {end})",
    ),
    "changes_title": ("本周变化明细", "Changes this week"),
    "trend_title": ("逐周趋势（{region}）", "Week by week ({region})"),
    "project": ("项目编号", "Project"),
    "enterprise": ("所属企业", "Enterprise"),
    "kind": ("变化", "Change"),
    "what": ("内容", "What"),
    "status": ("状态", "Status"),
}
_CHANGE = {"new": ("新增", "new"), "changed": ("变更", "changed"), "exited": ("退出", "exited")}


def t(key: str, locale: Locale, **values: object) -> str:
    """A UI text in ``locale``."""
    zh, en = _TEXT[key]
    return (zh if locale is Locale.ZH_CN else en).format(**values)


def info(message: str) -> None:
    console.print(message)


def error(message: str) -> None:
    error_console.print(f"[bold red]error:[/] {message}", markup=True)


def _mw(kw: float) -> str:
    return f"{kw / 1000:,.1f}"


def summary_table(report: WeeklyReport, locale: Locale, max_depth: int | None = None) -> Table:
    """The weekly summary per region, nation → province → city → county."""
    week = report.week
    table = Table(
        title=t("summary_title", locale, week=str(week), start=week.monday, end=week.sunday),
        title_justify="left",
    )
    table.add_column(t("region", locale))
    table.add_column(t("code", locale))
    for key in ("operating", "in_construction", "exited_total", "machines", "power", "energy",
                "hashrate", "new", "changed", "exited", "exited_power"):  # fmt: skip
        table.add_column(t(key, locale), justify="right")
    for s in report.summaries:
        if max_depth is not None and s.depth > max_depth:
            continue
        table.add_row(*_summary_cells(s), style="bold" if s.depth <= 1 else None)
    return table


def _summary_cells(s: RegionSummary) -> list[str]:
    return [
        "  " * s.depth + s.name,
        "" if s.region_code == "000000" else s.region_code,
        str(s.operating),
        str(s.in_construction),
        str(s.shut_down + s.cleared),
        f"{s.machines:,}",
        _mw(s.rated_power_kw),
        f"{s.monthly_energy_kwh / 1e4:,.1f}",
        f"{s.hashrate_ths / 1000:,.1f}",
        str(s.new),
        str(s.changed),
        str(s.exited),
        _mw(s.exited_power_kw),
    ]


def trend_table(reports: Sequence[WeeklyReport], region_name: str, locale: Locale) -> Table:
    """One line a week for the top region of each report."""
    table = Table(title=t("trend_title", locale, region=region_name), title_justify="left")
    table.add_column(t("week", locale))
    for key in (
        "operating",
        "in_construction",
        "power",
        "hashrate",
        "new",
        "exited",
        "exited_power",
    ):
        table.add_column(t(key, locale), justify="right")
    for report in reports:
        top = next((s for s in report.summaries if s.depth == 0), None)
        if top is None:
            continue
        table.add_row(
            str(report.week), str(top.operating), str(top.in_construction),
            _mw(top.rated_power_kw), f"{top.hashrate_ths / 1000:,.1f}", str(top.new),
            str(top.exited), _mw(top.exited_power_kw),
        )  # fmt: skip
    return table


def changes_table(changes: Sequence[ProjectChange], locale: Locale, limit: int = 20) -> Table:
    """The first ``limit`` project changes of a week."""
    table = Table(title=t("changes_title", locale), title_justify="left")
    for key in ("project", "enterprise", "kind", "status", "what"):
        table.add_column(t(key, locale))
    zh = locale is Locale.ZH_CN
    from minewatch.ingest.ledger_xlsx import header_of

    headers = header_of()
    for change in list(changes)[:limit]:
        parts = []
        for name in change.fields:
            if name == "project_code":
                continue
            text = headers.get(name, name) if zh else name.replace("_", " ")
            if name == "status" and change.before is not None:
                before, after = change.before.status, change.after.status
                text += f" {label(before, locale)}→{label(after, locale)}"
            parts.append(text)
        what = ("、" if zh else ", ").join(parts)
        table.add_row(
            change.project_code,
            change.after.enterprise_name,
            _CHANGE[change.kind.value][0 if zh else 1],
            label(change.after.status, locale),
            what,
        )
    return table


def show(renderable: object) -> None:
    console.print(renderable)


def audit_lines(report: AuditReport) -> list[str]:
    """The verification result as lines of text."""
    if report.ok:
        return [
            f"audit chain intact: {report.n_events} events, head {report.head_seq} "
            f"{report.head_hash[:16]}…; every audited record matches its last event"
        ]
    lines = [f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.n_events} events"]
    lines += [f"  [{p.kind.value}] {p.detail}" for p in report.problems]
    return lines


@contextmanager
def progress(description: str) -> Iterator[Callable[[int], None]]:
    """A live row counter on a terminal; silent when the output is a file or a pipe."""
    if not console.is_terminal:
        yield lambda _rows: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda rows: bar.advance(task, rows)


def suspects_table(findings: pa.Table, top: int, locale: Locale) -> Table:
    """The highest-scoring suspected meters with their estimates and reasons."""
    zh = locale is Locale.ZH_CN
    table = Table(
        title="疑似挖矿电表（得分最高者）" if zh else "Suspected mining meters (highest scores)",
        title_justify="left",
    )
    headers = (
        ("电表", "得分", "估计开始日期", "挖矿负荷（千瓦）", "矿机（台）", "算力（TH/s）", "依据")
        if zh
        else ("Meter", "Score", "Since", "Mining kW", "Rigs", "TH/s", "Reasons")
    )
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if 1 <= index <= 5 else "left")
    suspects = findings.filter(findings.column("suspected")).slice(0, top).to_pylist()
    for row in suspects:
        table.add_row(
            str(row["meter_id"]),
            f"{row['score']:.3f}",
            str(row["est_start_date"] or "—"),
            f"{row['est_mining_kw']:,.1f}",
            f"{row['est_rigs']:,}",
            f"{row['est_hashrate_ths']:,.0f}" if row["est_hashrate_ths"] else "—",
            str(row["reasons"]).replace("; ", "\n"),
        )
    return table


def scan_summary(findings: pa.Table, rows: int, out: Path | str) -> str:
    """One line: how much was scanned and what was found."""
    counts = dict(
        zip(
            *(c.to_pylist() for c in pc.value_counts(findings.column("category")).flatten()),
            strict=True,
        )
    )
    suspects = findings.filter(pc.fill_null(findings.column("suspected"), False))
    return counts_summary(counts, rows, suspects, out)


def counts_summary(
    categories: Mapping[str, int], rows: int, suspects: pa.Table, out: Path | str
) -> str:
    """One line from the meters by category and the suspects' findings."""
    mining_kw = pc.sum(suspects.column("est_mining_kw")).as_py() or 0
    parts = ", ".join(f"{k} {v:,}" for k, v in sorted(categories.items()))
    return (
        f"{sum(categories.values()):,} meters ({rows:,} meter-days) scanned: "
        f"{suspects.num_rows:,} suspected, {mining_kw / 1000:,.2f} MW of estimated mining load; "
        f"{parts}; findings in {out}"
    )


def mining_flows_table(findings: pa.Table, top: int, locale: Locale) -> Table:
    """The mining flows of a capture scan, most confident first: who, towards which pool, with
    which wallet and worker, and what gave it away."""
    zh = locale is Locale.ZH_CN
    table = Table(
        title="挖矿流量（置信度最高者）" if zh else "Mining flows (most confident first)",
        title_justify="left",
    )
    headers = (
        ("客户端", "矿池", "币种", "钱包 / 矿工", "首次—末次（UTC）", "置信度", "依据")
        if zh
        else ("Client", "Pool", "Coin", "Wallet / worker", "First–last (UTC)", "Conf.", "Reasons")
    )
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if index == 5 else "left")
    mining = findings.filter(findings.column("mining"))
    traced = "enterprise" in mining.column_names and mining.column("enterprise").null_count < len(
        mining
    )
    if traced:
        table.add_column("单位 / 地址" if zh else "Enterprise / address")
    order = pc.sort_indices(mining, sort_keys=[("confidence", "descending")])
    for row in mining.take(order).slice(0, top).to_pylist():
        pool = f"{row['server_ip']}:{row['server_port']}"
        if row["pool_host"]:
            pool += f"\n{row['pool_host']}"
        wallet = str(row["wallet"] or "—")
        if len(wallet) > 24:
            wallet = f"{wallet[:10]}…{wallet[-8:]}"
        client = f"{row['client_ip']}:{row['client_port']}"
        machine = row.get("host_name") or row.get("mac")
        if machine:
            client += f"\n{machine}"
        cells = [
            client,
            pool,
            str(row["coin"] or "—"),
            f"{wallet}\n{row['worker'] or '—'}",
            f"{row['first_seen']:%m-%d %H:%M:%S}\n{row['last_seen']:%m-%d %H:%M:%S}",
            f"{row['confidence']:.2f}",
            str(row["reason"]).replace("; ", "\n"),
        ]
        if traced:
            cells.append(f"{row['enterprise'] or '—'}\n{row['address'] or ''}")
        table.add_row(*cells)
    return table


def plant_findings_table(findings: pa.Table, top: int, locale: Locale) -> Table:
    """Plants that fall short for no recorded reason: period, energy, the private line's draw."""
    zh = locale is Locale.ZH_CN
    table = Table(
        title="发电异常电站（疑似网前供电/专线直供）"
        if zh
        else "Plants short of what they should deliver",
        title_justify="left",
    )
    headers = (
        (
            "电站",
            "业主",
            "时段",
            "应发（万千瓦时）",
            "上网（万千瓦时）",
            "外送负荷（千瓦）",
            "外送电量（万千瓦时）",
            "置信度",
            "依据",
        )
        if zh
        else (
            "Plant",
            "Owner",
            "Period",
            "Expected MWh",
            "Delivered MWh",
            "Draw kW",
            "Diverted MWh",
            "Confidence",
            "Reasons",
        )
    )
    energy = 1e4 if zh else 1e3
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if 3 <= index <= 7 else "left")
    for row in findings.slice(0, top).to_pylist():
        table.add_row(
            f"{row['plant_id']}\n{row['name'] or ''}",
            str(row["owner"] or "—"),
            f"{row['period_start_date']}\n{row['period_end_date']}",
            f"{row['expected_kwh'] / energy:,.1f}",
            f"{row['observed_kwh'] / energy:,.1f}",
            f"{row['diverted_kw']:,.0f}",
            f"{row['diverted_kwh'] / energy:,.1f}",
            f"{row['confidence']:.2f}",
            str(row["reasons"]).replace("; ", "\n"),
        )
    return table
