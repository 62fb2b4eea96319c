"""River inflow (入库流量, 来水) per gauge and local day, from hydrology bureaux or the plants'
own reservoir records, read into :data:`~minewatch.ingest.schemas.INFLOW_SCHEMA`.

Notice 1283 clause (五) excuses output drops that water explains (来水); the detector compares
a plant's output with the flow that feeds it. One reading per row, CSV or Parquet (see
:mod:`minewatch.ingest.plants`), daily or at any finer step:

==================  ===============================================  ===========================
column              also accepted                                    content
==================  ===============================================  ===========================
``gauge_id``        水文站, 水文站编号, 测站编号, 测站, 站码, 站号,    required; a plant's own
                    gauge, station; or 电站编号 (a plant id)         record may go by its
                                                                     plant id (then give that
                                                                     id as its gauge_id)
``date``            日期, 数据日期, 观测日期                          a daily file
``timestamp``       时间, 时刻, 观测时间, 数据时间, 采集时间, time    an hourly (or finer) file;
                                                                     with ``date``: times of day
``inflow_m3s``      入库流量, 流量, 平均流量, 日平均流量, 日均流量,    m³/s (a unit in the header
                    来水流量, 入流, inflow, flow, discharge          must be m³/s)
==================  ===============================================  ===========================

A file is **daily** when it has a date column alone, or a time column whose every value is a
local midnight (a date); otherwise its rows are **readings at instants** (Asia/Shanghai unless
they carry a zone). Readings are averaged by local clock hour, and the hours by local day; a
day with readings in fewer than ``min_hours`` (20) of its 24 hours gets a null mean rather
than a biased one, and is reported as a warning. (A gauge observed a few times a day — 08:00,
14:00 … — therefore gives no daily means: give the bureau's daily series instead.)

Checked, each with its file, row and column: an empty gauge id, a date or time that is not
one, a flow that is not a number, negative or infinite; across rows and files, the same gauge
and day (daily) or instant given twice with different values (the same value twice is kept
once), and a gauge-day given both as a daily mean and as readings. An empty flow is a missing
reading; a day listed with no flow at all has a null mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.meters import IntArray, _parse_numbers, expand_inputs
from minewatch.ingest.plants_common import (
    DAY_SECONDS,
    PLANT_ID_ALIASES,
    TIME_HINT,
    Codes,
    Issues,
    Quantity,
    TableFile,
    local_days,
    local_seconds,
    local_text,
    normalise_ids,
    plan_headers,
    shown,
    unit_index,
)
from minewatch.ingest.schemas import INFLOW_SCHEMA

__all__ = ["MIN_HOURS", "read_inflow"]

MIN_HOURS = 20
"""The hours of a day (of 24) that must have readings for the day to have a mean."""

_BATCH_ROWS = 65_536
_ALIASES: dict[str, tuple[str, ...]] = {
    "gauge_id": (
        "gauge",
        "gauge_code",
        "station",
        "station_code",
        "水文站",
        "水文站编号",
        "水文站代码",
        "测站编号",
        "测站代码",
        "测站",
        "站码",
        "站号",
        "水文测站",
    ),
    "plant_id": PLANT_ID_ALIASES,
    "date": ("day", "日期", "数据日期", "观测日期"),
    "timestamp": ("time", "datetime", "时间", "时刻", "观测时间", "数据时间", "采集时间", "时间点"),
    "inflow_m3s": (
        "inflow",
        "flow",
        "discharge",
        "入库流量",
        "流量",
        "平均流量",
        "日平均流量",
        "日均流量",
        "来水流量",
        "入流",
        "入库",
        "实测流量",
    ),
}
_INDEX = unit_index(_ALIASES, {"inflow_m3s": Quantity.FLOW, "inflow": Quantity.FLOW})
_ALLOWED = {"inflow_m3s": (Quantity.FLOW,)}


@dataclass
class _Flows:
    """Readings of every file: gauge code, local seconds, flow (NaN: none), where from."""

    gauge: list[IntArray] = field(default_factory=list)
    seconds: list[IntArray] = field(default_factory=list)
    flow: list[Any] = field(default_factory=list)
    daily: list[Any] = field(default_factory=list)
    file: list[IntArray] = field(default_factory=list)
    record: list[IntArray] = field(default_factory=list)

    def joined(self) -> dict[str, Any]:
        kinds = {
            "gauge": np.int64,
            "seconds": np.int64,
            "flow": np.float64,
            "daily": np.bool_,
            "file": np.int64,
            "record": np.int64,
        }
        return {
            name: np.concatenate(parts).astype(kind, copy=False)
            if (parts := getattr(self, name))
            else np.zeros(0, kind)
            for name, kind in kinds.items()
        }


def read_inflow(
    spec: str | Path | Sequence[str | Path], *, min_hours: int = MIN_HOURS
) -> tuple[pa.Table, list[InputProblem]]:
    """Read inflow series (see the module's description) as daily means.

    Parameters
    ----------
    spec : str, Path or a sequence of them
        A file, a glob pattern or a folder (:func:`~minewatch.ingest.meters.expand_inputs`);
        all its files are one data set.
    min_hours : int, default 20
        Hours of a local day (1 … 24) that must hold readings for a day to have a mean.

    Returns
    -------
    table : pyarrow.Table
        :data:`~minewatch.ingest.schemas.INFLOW_SCHEMA`, one row per gauge and local day
        listed, sorted by gauge and date; ``inflow_m3s`` the mean [m³/s], null when missing
        or when readings cover fewer than ``min_hours`` hours.
    warnings : list of InputProblem
        One per gauge with days left empty for short coverage (the days and their hours).

    Raises
    ------
    InputFileError
        Naming the problems (file, row, column) of the first file that has any.
    """
    if not 1 <= min_hours <= 24:
        raise ValueError("min_hours must be between 1 and 24")
    codes = Codes()
    flows = _Flows()
    files: list[TableFile] = []
    headers: list[str] = []
    for path in expand_inputs(spec):
        source = TableFile.open(path)
        columns = plan_headers(
            path, source.headers, _INDEX, required=("inflow_m3s",), allowed=_ALLOWED,
            aliases=_ALIASES,
        )  # fmt: skip
        problems = []
        if "gauge_id" not in columns and "plant_id" not in columns:
            problems.append(InputProblem(1, "gauge_id", "required column is missing (or 测站编号)"))
        if "date" not in columns and "timestamp" not in columns:
            problems.append(InputProblem(1, "date", "required column is missing (or 日期, 时间)"))
        if problems:
            raise InputFileError(path, problems)
        if "gauge_id" in columns:
            columns.pop("plant_id", None)
        issues = Issues()
        index = len(files)
        files.append(source)
        headers.append(columns["inflow_m3s"].header)
        parts: list[tuple[IntArray, IntArray, Any, IntArray]] = []
        for offset, raw in source.batches(columns, _BATCH_ROWS):
            parts.append(_parse(raw, columns, offset, codes, issues))
            if len(issues.found) > issues.limit:
                break
        if issues:
            raise source.error(issues)
        seconds = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        daily = "timestamp" not in columns or bool(np.all(seconds % DAY_SECONDS == 0))
        for gauge, at, flow, records in parts:
            flows.gauge.append(gauge)
            flows.seconds.append(at)
            flows.flow.append(flow)
            flows.daily.append(np.full(len(gauge), daily))
            flows.file.append(np.full(len(gauge), index))
            flows.record.append(records)
    return _daily_means(flows.joined(), files, headers, codes, min_hours)


def _parse(
    raw: dict[str, Any], columns: dict[str, Any], offset: int, codes: Codes, issues: Issues
) -> tuple[IntArray, IntArray, Any, IntArray]:
    key = "gauge_id" if "gauge_id" in raw else "plant_id"
    ids, empty_id = normalise_ids(raw[key])
    issues.flag(offset, empty_id, columns[key].header, lambda i: "is empty")
    days = None
    if "date" in raw:
        days, bad, empty = local_days(raw["date"])
        source = raw["date"]
        header = columns["date"].header
        issues.flag(
            offset,
            bad,
            header,
            lambda i: (
                "is empty"
                if empty[i]
                else f"{shown(source, i)} is not a date (write 2021-07-01, 2021/7/1 or 20210701)"
            ),
        )
        seconds = days * DAY_SECONDS
    if "timestamp" in raw:
        seconds, bad, empty = local_seconds(raw["timestamp"], days)
        source_t = raw["timestamp"]
        issues.flag(
            offset,
            bad,
            columns["timestamp"].header,
            lambda i: (
                "is empty"
                if empty[i]
                else f"{shown(source_t, i)} is not a date and time ({TIME_HINT})"
            ),
        )
    flow_header = columns["inflow_m3s"].header
    parsed = _parse_numbers(raw["inflow_m3s"], pa.float64())
    if parsed is None:
        issues.add(-1, flow_header, f"holds {raw['inflow_m3s'].type} values; expected numbers")
        flow = np.full(len(ids), np.nan)
    else:
        values, bad_flow = parsed
        column = raw["inflow_m3s"]
        issues.flag(offset, bad_flow, flow_header, lambda i: f"{shown(column, i)} is not a number")
        flow = np.asarray(values.to_numpy(zero_copy_only=False), np.float64)
        issues.flag(offset, np.isinf(flow), flow_header, lambda i: "is not a finite number")
        with np.errstate(invalid="ignore"):
            negative = flow < 0
        issues.flag(offset, negative, flow_header, lambda i: f"{flow[i]:g} m³/s is negative")
        flow = flow * (columns["inflow_m3s"].factor or 1.0)
    records = np.arange(offset, offset + len(ids), dtype=np.int64)
    return codes.encode(ids), seconds, flow, records


def _place(files: Sequence[TableFile], here: int, file: int, row: int | None, record: int) -> str:
    place = f"row {row}" if row is not None else f"data record {record + 1}"
    return place if file == here else f"{files[file].path}, {place}"


def _daily_means(
    r: dict[str, Any],
    files: Sequence[TableFile],
    headers: Sequence[str],
    codes: Codes,
    min_hours: int,
) -> tuple[pa.Table, list[InputProblem]]:
    names = sorted(codes.names)
    rank = np.zeros(len(codes.names), np.int64)
    for position, name in enumerate(names):
        rank[codes.index[name]] = position
    gauge = rank[r["gauge"]] if len(names) else r["gauge"]
    seconds, flow, daily = r["seconds"], r["flow"], r["daily"]
    file, record = r["file"], r["record"]
    day = seconds // DAY_SECONDS
    conflicts: list[tuple[int, int, int, int, str]] = []  # later (file, record), earlier, why

    # The same gauge and day (daily) or instant (readings) twice, with different values.
    has = ~np.isnan(flow)
    index = np.flatnonzero(has)
    order = index[
        np.lexsort((record[index], file[index], seconds[index], daily[index], gauge[index]))
    ]
    g, s, v, k = gauge[order], seconds[order], flow[order], daily[order]
    same = (g[1:] == g[:-1]) & (k[1:] == k[:-1]) & (s[1:] == s[:-1])
    differ = same & (v[1:] != v[:-1])
    for i in np.flatnonzero(differ)[:100]:
        a, b = int(order[i]), int(order[i + 1])
        what = "day" if daily[b] else "time"
        when = local_text(seconds[b])[: 10 if daily[b] else 16]
        why = (
            f"gauge {names[int(gauge[b])]}, {what} {when}: {flow[b]:g} m³/s here, "
            f"{flow[a]:g} m³/s in {{place}}"
        )
        conflicts.append((int(file[b]), int(record[b]), int(file[a]), int(record[a]), why))
    duplicate = np.zeros(len(flow), np.bool_)
    duplicate[order[1:][same & ~differ]] = True

    # A gauge-day given both ways.
    day_key = gauge * (1 << 32) + day
    given_daily = np.unique(day_key[daily])
    from_readings = ~daily & np.isin(day_key, given_daily)
    for b in np.flatnonzero(from_readings)[:1]:
        a = int(np.flatnonzero(daily & (day_key == day_key[b]))[0])
        why = (
            f"gauge {names[int(gauge[b])]}, day {local_text(seconds[b])[:10]}: readings here, "
            "and a daily mean in {place}; give one or the other"
        )
        conflicts.append((int(file[b]), int(record[b]), int(file[a]), int(record[a]), why))
    if conflicts:
        _raise(conflicts, files, headers)

    # Daily values as they are.
    keep = daily & ~duplicate
    d_gauge, d_day, d_flow = gauge[keep], day[keep], flow[keep]
    d_key = d_gauge * (1 << 32) + d_day
    uniq, first, inverse = np.unique(d_key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    mean = np.full(len(uniq), np.nan)
    valued = ~np.isnan(d_flow)
    mean[inverse[valued]] = d_flow[valued]
    out_gauge = [d_gauge[first]]
    out_day = [d_day[first]]
    out_flow = [mean]

    # Readings: per clock hour, then per day when enough hours have one.
    take = ~daily & ~duplicate
    h_gauge, h_seconds, h_flow = gauge[take], seconds[take], flow[take]
    warnings: list[InputProblem] = []
    if len(h_gauge):
        day_key = h_gauge * (1 << 32) + h_seconds // DAY_SECONDS
        listed = np.unique(day_key)
        ok = ~np.isnan(h_flow)
        hour_key = h_gauge[ok] * (1 << 40) + h_seconds[ok] // 3600
        _, first_of_hour, hour_of = np.unique(hour_key, return_index=True, return_inverse=True)
        hour_mean = np.bincount(hour_of, weights=h_flow[ok]) / np.bincount(hour_of)
        day_of_hour = np.searchsorted(listed, day_key[ok][first_of_hour])
        hours = np.bincount(day_of_hour, minlength=len(listed))
        total = np.bincount(day_of_hour, weights=hour_mean, minlength=len(listed))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(hours >= min_hours, total / hours, np.nan)
        out_gauge.append(listed >> 32)
        out_day.append(listed & ((1 << 32) - 1))
        out_flow.append(means)
        short = hours < min_hours
        warnings = _coverage_warnings(listed[short], hours[short], names, min_hours)

    all_gauge = np.concatenate(out_gauge)
    all_day = np.concatenate(out_day)
    all_flow = np.concatenate(out_flow)
    order = np.lexsort((all_day, all_gauge))
    all_gauge, all_day, all_flow = all_gauge[order], all_day[order], all_flow[order]
    table = pa.table(
        {
            "gauge_id": pa.array(names, pa.string()).take(pa.array(all_gauge, pa.int64())),
            "date": pa.array(all_day.astype(np.int32), pa.int32()).cast(pa.date32()),
            "inflow_m3s": pa.array(all_flow, mask=np.isnan(all_flow)),
        },
        schema=INFLOW_SCHEMA,
    )
    return table, warnings


def _coverage_warnings(
    days: IntArray, hours: IntArray, names: Sequence[str], min_hours: int
) -> list[InputProblem]:
    warnings: list[InputProblem] = []
    gauges = days >> 32
    for gauge in np.unique(gauges):
        mine = gauges == gauge
        listed = [
            f"{local_text(int(d & ((1 << 32) - 1)) * DAY_SECONDS)[:10]} ({int(h)} h)"
            for d, h in zip(days[mine][:10], hours[mine][:10], strict=True)
        ]
        more = " …" if mine.sum() > 10 else ""
        reason = (
            f"gauge {names[int(gauge)]}: {int(mine.sum())} day(s) with readings in fewer than "
            f"{min_hours} of 24 hours have no mean: {', '.join(listed)}{more}"
        )
        warnings.append(InputProblem(None, "inflow_m3s", reason))
    return warnings


def _raise(
    conflicts: list[tuple[int, int, int, int, str]],
    files: Sequence[TableFile],
    headers: Sequence[str],
) -> None:
    first = min(c[0] for c in conflicts)
    wanted: dict[int, set[int]] = {}
    for later_file, later, earlier_file, earlier, _ in conflicts:
        wanted.setdefault(later_file, set()).add(later)
        wanted.setdefault(earlier_file, set()).add(earlier)
    rows = {
        (file, record): row
        for file, records in wanted.items()
        for record, row in files[file].row_numbers(records).items()
    }
    issues = Issues()
    for later_file, later, earlier_file, earlier, why in conflicts:
        if later_file == first:
            place = _place(files, first, earlier_file, rows.get((earlier_file, earlier)), earlier)
            issues.add(later, headers[first], why.replace("{place}", place))
    raise files[first].error(issues)
