"""Metered energy per grid account (户号), as billing or marketing systems export it.

A table (CSV, also GB18030 or gzipped, or Parquet) with one row per account and period:

* ``account_no`` (户号, 用电户号, 客户编号 …) — required;
* ``meter_id`` (电表编号 …) — optional; rows without it are the account's whole consumption;
* the period: ``period`` (月份, 期间, 电费年月 …) as a month (``2021-09``, ``2021年9月``,
  ``202109``) or a day (``2021-09-01``), or ``start_date`` and ``end_date`` (起始日期, 截止日期;
  both days count);
* ``energy_kwh`` (用电量, 电量, 用电量(kWh) …) — required, not negative.

It comes out as :data:`~minewatch.ingest.schemas.ACCOUNT_ENERGY_SCHEMA`, ``covered_h`` being the
period's days × 24. A file is accepted whole or not at all: every problem (an empty account, a
period that is not a month or a day, an end before its start, an energy that is not a
non-negative number, two overlapping periods of one account and meter) is reported with its row
and column in one :class:`~minewatch.errors.InputFileError`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from minewatch.errors import InputProblem
from minewatch.ingest.cells import parse_day
from minewatch.ingest.meters import (
    _READING_ALIASES,
    _alias_index,
    _cell_number,
    _cell_text,
    _CellError,
    _file_problem,
    _format_of,
    _header_key,
    _map_columns,
    _Rows,
    _sniff_csv,
    _table_records,
)
from minewatch.ingest.schemas import ACCOUNT_ENERGY_SCHEMA

__all__ = ["is_account_energy_file", "read_account_energy"]

_ALIASES: dict[str, tuple[str, ...]] = {
    "account_no": ("户号", "用电户号", "客户编号", "用户编号", "account", "grid_account_no"),
    "meter_id": _READING_ALIASES["meter_id"],
    "period": ("月份", "期间", "统计期间", "电费年月", "抄表年月", "账期", "month"),
    "start_date": ("起始日期", "开始日期", "起始时间", "start"),
    "end_date": ("截止日期", "结束日期", "截止时间", "end"),
    "energy_kwh": (
        *_READING_ALIASES["energy_kwh"],
        "kwh",
        "电量(千瓦时)",
        "用电量(千瓦时)",
        "抄见电量",
        "结算电量",
    ),
}
_INDEX = _alias_index(_ALIASES)
_MONTH = re.compile(r"^(?P<y>\d{4})(?:[-/.]|年)?(?P<m>\d{1,2})月?$")


def is_account_energy_file(path: Path | str) -> bool:
    """Whether ``path`` is a single table of energy per account (an account and an energy
    column, no timestamp and no 96/24-point columns), as opposed to meter load curves."""
    path = Path(path)
    if not path.is_file() or _format_of(path) is None:
        return False
    if _format_of(path) == "csv":
        headers: tuple[str, ...] = _sniff_csv(path).headers
    else:
        try:
            headers = tuple(pq.read_schema(path).names)
        except (OSError, pa.ArrowException):
            return False
    keys = {_INDEX.get(_header_key(h)) for h in headers}
    return "account_no" in keys and "energy_kwh" in keys


def _month_or_day(value: object) -> tuple[date, date] | None:
    text = _cell_text(value, normalise=True)
    if text is None:
        return None
    match = _MONTH.match(text)
    if match is not None and 1 <= int(match["m"]) <= 12:
        first = date(int(match["y"]), int(match["m"]), 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    try:
        day = parse_day(value)
    except ValueError:
        raise _CellError(
            f"{text!r} is neither a month nor a day (write 2021-09, 2021年9月 or 2021-09-01)"
        ) from None
    assert day is not None
    return day, day


def _day(value: object) -> date | None:
    try:
        return parse_day(value)
    except ValueError as error:
        raise _CellError(f"{error} (write 2021-09-01)") from None


def _energy(value: object) -> float | None:
    text = value if not isinstance(value, str) else re.sub(r"(?i)\s*(kwh|千瓦时|度)$", "", value)
    number = _cell_number(text)
    if number is not None and number < 0:
        raise _CellError(f"{number:g} kWh is negative")
    return number


def read_account_energy(path: Path | str) -> Any:
    """Read metered energy per account and period as ``ACCOUNT_ENERGY_SCHEMA``.

    Parameters
    ----------
    path : path
        A CSV (UTF-8 or GB18030, optionally gzipped) or Parquet file; see the module's
        docstring for its columns.

    Returns
    -------
    pyarrow.Table
        One row per input row; ``covered_h`` = (end − start + 1 days) × 24 [h].

    Raises
    ------
    InputFileError
        Naming the row and column of every problem; nothing is returned then.
    """
    path = Path(path)
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _INDEX, ("account_no", "energy_kwh"))
    rows = _Rows(path, headers, positions)
    has_period = "period" in positions
    has_range = "start_date" in positions and "end_date" in positions
    if not has_period and not has_range:
        missing = "a period column (月份) or start_date and end_date (起始日期, 截止日期)"
        raise _file_problem(path, f"no {missing}")
    out: dict[str, list[Any]] = {name: [] for name in ACCOUNT_ENERGY_SCHEMA.names}
    source_rows: list[int] = []
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        account = _cell_text(rows.cell(cells, "account_no"), normalise=True)
        if account is None:
            rows.problems.append(InputProblem(row, rows.header("account_no"), "is empty"))
        energy = rows.get(row, cells, "energy_kwh", _energy)
        if energy is None and _cell_text(rows.cell(cells, "energy_kwh")) is None:
            rows.problems.append(InputProblem(row, rows.header("energy_kwh"), "is empty"))
        period: tuple[date, date] | None = None
        if has_period and _cell_text(rows.cell(cells, "period")) is not None:
            period = rows.get(row, cells, "period", _month_or_day)
            if period is None:
                continue
        elif has_range:
            for key in ("start_date", "end_date"):
                if _cell_text(rows.cell(cells, key)) is None:
                    rows.problems.append(InputProblem(row, rows.header(key), "is empty"))
            start = rows.get(row, cells, "start_date", _day)
            end = rows.get(row, cells, "end_date", _day)
            if start is None or end is None:
                continue
            if end < start:
                reason = f"{end} is before the start date {start}"
                rows.problems.append(InputProblem(row, rows.header("end_date"), reason))
                continue
            period = (start, end)
        else:
            rows.problems.append(InputProblem(row, rows.header("period"), "is empty"))
            continue
        if account is None or energy is None:
            continue
        meter = (
            _cell_text(rows.cell(cells, "meter_id"), normalise=True)
            if "meter_id" in positions
            else None
        )
        out["account_no"].append(account)
        out["meter_id"].append(meter)
        out["start_date"].append(period[0])
        out["end_date"].append(period[1])
        out["energy_kwh"].append(energy)
        out["covered_h"].append(((period[1] - period[0]).days + 1) * 24.0)
        source_rows.append(row)
    _overlaps(out, source_rows, rows)
    rows.raise_problems()
    return pa.table(out, schema=ACCOUNT_ENERGY_SCHEMA)


def _overlaps(out: dict[str, list[Any]], source_rows: list[int], rows: _Rows) -> None:
    """Two periods of one account and meter that share a day would count it twice."""
    by_key: dict[tuple[str, str | None], list[int]] = {}
    for index, key in enumerate(zip(out["account_no"], out["meter_id"], strict=True)):
        by_key.setdefault(key, []).append(index)
    column = rows.header("period") if "period" in rows.positions else rows.header("start_date")
    for indices in by_key.values():
        indices.sort(key=lambda i: out["start_date"][i])
        for previous, current in pairwise(indices):
            if out["start_date"][current] <= out["end_date"][previous]:
                reason = (
                    f"{out['start_date'][current]}–{out['end_date'][current]} overlaps "
                    f"row {source_rows[previous]} of the same account "
                    f"({out['start_date'][previous]}–{out['end_date'][previous]})"
                )
                rows.problems.append(InputProblem(source_rows[current], column, reason))
