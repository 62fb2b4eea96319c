"""Plant output as grid companies export it — terminal (机端) and grid-tie (上网/关口) meters
at 15 or 60 minutes — read column by column into
:data:`~minewatch.ingest.schemas.GENERATION_SCHEMA`.

Notice 1283 clause (五): a plant whose output drops for no reason of water or dispatch may be
feeding miners through a private line; a terminal meter that runs ahead of the grid-tie meter
says where the energy went. Exports come in three layouts, each CSV or Parquet (see
:mod:`minewatch.ingest.plants`), recognised per file from the header:

* **long** – one row per plant and interval, a column per meter:
  ``plant_id, interval_start_at, terminal_kwh, grid_tie_kwh`` (either meter may be absent);
* **long by meter** – one row per plant, interval and meter: ``plant_id, interval_start_at,
  meter_kind, value`` (``meter_kind`` a meter name as below);
* **wide** – one row per plant, local day and meter: ``plant_id, date, meter_kind`` and
  ``p001 … p096`` (15 minutes; ``p001`` = 00:00–00:15), ``h01 … h24`` (hourly), or clock
  headers ``00:15 … 24:00`` (each the *end* of its interval) or ``00:00 … 23:45`` (the start),
  hourly ``01:00 … 24:00`` / ``00:00 … 23:00`` likewise. This is the 96-point layout of the
  grid's energy-metering systems (电能量采集系统).

=====================  ==============================================  ========================
column                 also accepted                                   content
=====================  ==============================================  ========================
``plant_id``           电站编号, 电厂编号, 电站代码, 场站编号, plant    required
``interval_start_at``  时间, 时刻, 数据时间, 采集时间, 开始时间,         the start of the
                       timestamp, time                                 interval (long layouts)
``interval_end_at``    结束时间, 结束时刻, 时段结束, interval_end       instead: its end; with
                                                                       a start: per-row length
``date``               日期, 数据日期, 采集日期                        wide layout; in a long
                                                                       file, the date of
                                                                       times of day (``00:15``)
``interval_minutes``   时间间隔, 采集间隔, 采集周期, 间隔, interval     15 or 60 (``15分钟``,
                                                                       ``1h``); else inferred
``terminal``           机端电量, 发电量, 机端出力, 机端功率, 机端,       generator-terminal
                       terminal_kwh, terminal_kw                       meter
``grid_tie``           上网电量, 关口电量, 送出电量, 上网出力, 关口功率,  grid-tie (gateway)
                       上网, 关口, grid_tie_kwh, grid_tie_kw            meter
``meter_kind``         表计类型, 计量点类型, 电量类型, 表计, 计量类型    a meter name, as the
                                                                       two headers above
``value``              电量, 功率, 出力, 有功功率, 数值, 值             long-by-meter values
``unit``               单位, 计量单位                                  kWh, MWh, 万kWh, kW, MW
=====================  ==============================================  ========================

**Units.** Values are energy in the interval (kWh, MWh, 万kWh) or average power (kW, MW,
万kW; multiplied by the interval's length), as the header (``上网电量(MWh)``,
``grid_tie_mw``, ``机端出力``), the meter-kind cell (``上网电量(MWh)``) or the unit column
says; sources that disagree are an error. When nothing says, a value is energy in kWh
(``电量``, ``terminal``); ``出力``/``功率`` alone are power in kW.

**Times.** Asia/Shanghai unless a timestamp carries a zone (``+08:00``, ``Z``); Parquet
timestamps with a zone are converted. ``24:00`` is the midnight that ends the day. A file with
``interval_end_at`` alone labels each interval by its end (as many dispatch exports do).

**Intervals.** ``interval_minutes`` or ``interval_end_at − interval_start_at`` give each row's
length; otherwise it is inferred per plant and meter from all the files of one call: 15
minutes when any reading falls off the hour, else 60. A plant and meter read only at :00 and
:30 (30-minute data) is refused: the frame holds 15- or 60-minute intervals.

**Checked**, each with its file, row and column, nothing returned when there is one: an empty
plant id, a time or date that is not one, a time off the 15-minute grid (or off the hour for a
60-minute interval), an interval that is not 15 or 60 minutes, a value that is not a number,
negative or infinite, an unknown meter kind or unit; across rows and files, the same plant,
meter and interval given twice with different values, or overlapping intervals (the same
values twice are kept once: monthly exports often overlap), and terminal and grid-tie readings
of one plant at different intervals. Empty cells (and ``NULL``, ``-`` …) are missing readings;
an interval with no reading at all is left out. Rows come out sorted by plant and time.

Files are parsed in batches with Arrow and NumPy (no Python per row); all of them are held
in memory while they are checked, the peak about 80 bytes per reading (one meter, one
interval). A year of 1,000 plants' two meters at 15 minutes (70 million readings, wide
Parquet) takes about 15 s and 6 GB; a month of them from a long CSV, 5 s and 0.8 GB. A
province's two years are best read basin by basin, or a few months at a time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.meters import (
    _NUMBERED,
    BoolArray,
    IntArray,
    _as_text,
    _CellError,
    _header_key,
    _parse_numbers,
    expand_inputs,
)
from minewatch.ingest.plants_common import (
    DAY_SECONDS,
    PLANT_ID_ALIASES,
    TIME_HINT,
    UNITS,
    Codes,
    Column,
    Issues,
    NotNumbersError,
    Quantity,
    TableFile,
    distinct_map,
    local_days,
    local_seconds,
    local_text,
    nfkc,
    normalise_ids,
    plan_headers,
    resolve_header,
    shown,
    unit_index,
    unit_names,
    utc_instants,
)
from minewatch.ingest.schemas import GENERATION_SCHEMA

__all__ = ["METER_KINDS", "read_generation"]

_log = logging.getLogger(__name__)

_BATCH_ROWS = 65_536
_TERMINAL, _GRID_TIE = 0, 1
METER_KINDS: tuple[str, str] = ("terminal", "grid_tie")
"""The meters of a plant, in the order of their codes (``terminal_kwh``, ``grid_tie_kwh``)."""
_METER_WORDS = {"terminal": "terminal (机端)", "grid_tie": "grid-tie (上网)"}

_TERMINAL_ENERGY = ("terminal_energy", "机端电量", "发电量", "机端发电量", "发电机端电量")
_TERMINAL_POWER = ("terminal_power", "机端功率", "机端出力", "机端有功", "机端有功功率", "发电出力")
_GRID_ENERGY = ("grid_tie_energy", "上网电量", "关口电量", "送出电量", "关口表电量", "上网关口电量")
_GRID_POWER = (
    "grid_tie_power",
    "上网功率",
    "上网出力",
    "关口功率",
    "关口有功",
    "上网有功",
    "送出功率",
)
_VALUE_ENERGY = ("energy", "电量")
_VALUE_POWER = ("power", "功率", "出力", "有功功率", "有功", "负荷")

_ALIASES: dict[str, tuple[str, ...]] = {
    "plant_id": PLANT_ID_ALIASES,
    "date": ("day", "日期", "数据日期", "采集日期"),
    "interval_start_at": (
        "interval_start",
        "start",
        "timestamp",
        "time",
        "datetime",
        "start_time",
        "时间",
        "时刻",
        "数据时间",
        "采集时间",
        "时间点",
        "开始时间",
        "起始时间",
        "开始时刻",
        "起始时刻",
        "时段开始",
        "时段开始时间",
    ),
    "interval_end_at": (
        "interval_end",
        "end",
        "end_time",
        "结束时间",
        "结束时刻",
        "截止时刻",
        "时段结束",
        "时段结束时间",
    ),
    "interval_minutes": (
        "interval",
        "interval_min",
        "时间间隔",
        "采集间隔",
        "采集周期",
        "间隔",
        "周期",
        "时段长度",
        "数据间隔",
        "interval(min)",
        "间隔(分钟)",
        "时间间隔(分钟)",
        "采集间隔(分钟)",
        "采集周期(分钟)",
    ),
    "meter_kind": (
        "meter",
        "kind",
        "表计类型",
        "计量点类型",
        "电量类型",
        "表计",
        "计量类型",
        "测点类型",
    ),
    "unit": ("单位", "计量单位"),
    "value": ("值", "数值", "读数", *_VALUE_ENERGY, *_VALUE_POWER),
    "terminal": ("机端", "发电机端", "generation", *_TERMINAL_ENERGY, *_TERMINAL_POWER),
    "grid_tie": ("grid", "上网", "关口", "export", *_GRID_ENERGY, *_GRID_POWER),
}
_IMPLIED = {
    **dict.fromkeys((*_TERMINAL_ENERGY, *_GRID_ENERGY, *_VALUE_ENERGY), Quantity.ENERGY),
    **dict.fromkeys((*_TERMINAL_POWER, *_GRID_POWER, *_VALUE_POWER), Quantity.POWER),
}
_INDEX = unit_index(_ALIASES, _IMPLIED)
_METER_INDEX = {key: known for key, known in _INDEX.items() if known[0] in METER_KINDS}
_OUTPUT = (Quantity.ENERGY, Quantity.POWER)
_ALLOWED = dict.fromkeys(("terminal", "grid_tie", "value"), _OUTPUT)


class _Layout(StrEnum):
    LONG = "long"
    LONG_BY_METER = "long by meter"
    WIDE = "wide"


_CLOCK_HEADER = re.compile(r"^(\d{1,2}):(\d{2})$")


def _slot_column(text: str) -> str | None:
    """``p1``…``p96``, ``h1``…``h24`` or ``t<minute of the day>`` for a wide value header."""
    key = _header_key(text)
    numbered = _NUMBERED.match(key)
    if numbered is not None:
        letter, number = numbered.group(1), int(numbered.group(2))
        if number <= (96 if letter == "p" else 24):
            return f"{letter}{number}"
        return None
    clock = _CLOCK_HEADER.match(key)
    if clock is not None:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if minute < 60 and (hour < 24 or (hour == 24 and minute == 0)):
            return f"t{hour * 60 + minute}"
    return None


@dataclass(frozen=True)
class _Measure:
    """What one value is: which meter, energy or power, and the factor to kWh or kW."""

    kind: int
    power: bool
    factor: float


@dataclass(frozen=True)
class _Plan:
    """How to read one output file."""

    path: Path
    layout: _Layout
    columns: dict[str, Column]
    slots: tuple[tuple[str, int], ...] = ()  # wide: (column, start of its interval [s])
    slot_minutes: int = 0  # wide: 15 or 60
    end_labels: bool = False  # long: the time column marks the end of each interval

    @property
    def meters(self) -> tuple[str, ...]:
        """The value columns of a long file."""
        if self.layout is _Layout.LONG:
            return tuple(k for k in METER_KINDS if k in self.columns)
        if self.layout is _Layout.LONG_BY_METER:
            return ("value",)
        return tuple(name for name, _ in self.slots)

    def header(self, key: str) -> str:
        return self.columns[key].header


def _wide_slots(path: Path, columns: dict[str, Column]) -> tuple[tuple[tuple[str, int], ...], int]:
    names = [key for key in columns if key[0] in "pht" and key[1:].isdigit()]
    letters = {key[0] for key in names}
    numbers = {int(key[1:]) for key in names}
    problem: str | None = None
    if len(letters) > 1:
        problem = "mixes value-column styles (p001 …, h01 …, 00:15 …); use one"
    elif letters == {"p"} or letters == {"h"}:
        count = 96 if letters == {"p"} else 24
        minutes = 1440 // count
        missing = sorted(set(range(1, count + 1)) - numbers)
        if missing:
            letter = next(iter(letters))
            listed = ", ".join(f"{letter}{m:0{3 if count == 96 else 2}d}" for m in missing[:8])
            problem = f"a wide file needs all {count} value columns; missing {listed}"
        else:
            slots = tuple(
                (f"{next(iter(letters))}{i}", (i - 1) * minutes * 60) for i in range(1, count + 1)
            )
            return slots, minutes
    else:
        for minutes in (15, 60):
            count = 1440 // minutes
            starts = set(range(0, 1440, minutes))
            ends = set(range(minutes, 1441, minutes))
            if len(numbers) == count and numbers in (starts, ends):
                shift = minutes if numbers == ends else 0
                slots = tuple((f"t{m}", (m - shift) * 60) for m in sorted(numbers))
                return slots, minutes
        problem = (
            f"the {len(numbers)} time-of-day columns are not a whole day: write 00:15 … 24:00 "
            "or 00:00 … 23:45 (15 minutes), 01:00 … 24:00 or 00:00 … 23:00 (hourly)"
        )
    raise InputFileError(path, [InputProblem(1, None, problem)])


def _plan(path: Path, headers: Sequence[str], measure: Column | None) -> _Plan:
    columns = plan_headers(
        path,
        headers,
        _INDEX,
        required=("plant_id",),
        allowed=_ALLOWED,
        extra=_slot_column,
        aliases=_ALIASES,
    )
    problems: list[InputProblem] = []
    has_slots = any(key[0] in "pht" and key[1:].isdigit() for key in columns)
    named = [key for key in METER_KINDS if key in columns]
    kinded = "meter_kind" in columns or measure is not None
    if has_slots:
        slots, minutes = _wide_slots(path, columns)
        if "date" not in columns:
            problems.append(InputProblem(1, "date", "required column is missing (or 日期)"))
        if not kinded:
            reason = (
                "a wide file needs a meter_kind column (表计类型: 机端电量, 上网电量 …) or "
                "the measure of its values (measure='grid_tie_kwh')"
            )
            problems.append(InputProblem(1, "meter_kind", reason))
        if named or "value" in columns:
            key = (named or ["value"])[0]
            reason = "a wide file holds its values in the day's columns; this column is extra"
            problems.append(InputProblem(1, columns[key].header, reason))
        if problems:
            raise InputFileError(path, problems)
        return _Plan(path, _Layout.WIDE, columns, slots, minutes)
    if named:
        layout = _Layout.LONG
        for key in ("value", "meter_kind"):
            if key in columns:
                reason = f"{key} beside the meter columns {', '.join(named)}: use one layout"
                problems.append(InputProblem(1, columns[key].header, reason))
    elif "value" in columns and kinded:
        layout = _Layout.LONG_BY_METER
    elif "value" in columns:
        reason = (
            "the values do not say which meter they are: add a meter_kind column (表计类型: "
            "机端电量, 上网电量 …), name the column after its meter (上网电量), or give the "
            "measure (measure='grid_tie_kwh')"
        )
        raise InputFileError(path, [InputProblem(1, columns["value"].header, reason)])
    else:
        reason = (
            "no output columns: expected 机端电量/上网电量 (terminal_kwh, grid_tie_kwh), a "
            "meter_kind column (表计类型) with a value column (电量), or the day's columns "
            "p001 … p096 / 00:15 … 24:00 of a wide file"
        )
        raise InputFileError(path, [InputProblem(1, None, reason)])
    if "interval_start_at" not in columns and "interval_end_at" not in columns:
        problems.append(
            InputProblem(
                1, "interval_start_at", "required column is missing (or 时间/时刻/数据时间)"
            )
        )
    if problems:
        raise InputFileError(path, problems)
    end_labels = "interval_end_at" in columns and "interval_start_at" not in columns
    return _Plan(path, layout, columns, end_labels=end_labels)


# --------------------------------------------------------------------------- measures


def _combine(meter: Column | None, unit: str | None, header: Column | None) -> _Measure:
    """One value's measure from what its meter (a meter-kind cell, a meter header or the
    ``measure`` argument), its unit cell and its value header say; ``_CellError`` when they
    disagree. Energy in kWh when none of them says."""
    if meter is None:
        raise _CellError("is empty; name the meter (机端电量, 上网电量, terminal_kwh …)")
    sources = [meter, header]
    if unit is not None:
        found = UNITS.get(_header_key(unit))
        if found is None or found[0] not in _OUTPUT:
            raise _CellError(f"unit {unit!r} is not one of {unit_names(_OUTPUT)}")
        sources.append(Column("unit", 0, unit, found[0], found[1]))
    quantities = {c.quantity for c in sources if c is not None and c.quantity is not None}
    factors = {c.factor for c in sources if c is not None and c.factor is not None}
    if len(quantities) > 1:
        raise _CellError("the meter, the unit and the header disagree on energy or power")
    if len(factors) > 1:
        raise _CellError("the meter, the unit and the header disagree on the unit")
    power = quantities == {Quantity.POWER}
    return _Measure(METER_KINDS.index(meter.key), power, factors.pop() if factors else 1.0)


def _meter_of(text: str) -> Column:
    """The ``measure`` argument (``grid_tie_kwh``, ``上网电量(MWh)``, ``机端出力(MW)``)."""
    found = resolve_header(text, _METER_INDEX)
    if not isinstance(found, Column):
        why = found or "names no meter"
        raise ValueError(f"measure {text!r}: {why} (write terminal_kwh, grid_tie_mw, 上网电量 …)")
    return found


# --------------------------------------------------------------------------- parsing batches


_ORIGIN = ("file", "record", "column")
_FIELDS: dict[str, Any] = {
    "plant": np.int32,  # code in Codes
    "label": np.int64,  # local seconds of the time written
    "interval": np.int16,  # minutes; 0: to infer
    "kind": np.int8,  # 0 terminal, 1 grid-tie
    "value": np.float64,  # kWh, or kW when ``power``
    "power": np.bool_,
    "file": np.int32,
    "record": np.int64,
    "column": np.int16,  # position of the value's header
}


@dataclass
class _Readings:
    """The readings of every file so far — one per value that holds a number — and what the
    interval inference has seen of every reading, empty ones included (a row's time says how
    often a plant is read even when its value is missing)."""

    parts: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in _FIELDS})
    off_hour: BoolArray = field(default_factory=lambda: np.zeros(0, np.bool_))
    quarter: BoolArray = field(default_factory=lambda: np.zeros(0, np.bool_))  # :15 or :45
    half: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # first :30 reading
    end_labels: list[bool] = field(default_factory=list)  # per file

    def add(self, **arrays: Any) -> None:
        """Add one batch; scalars stand for a whole column."""
        n = len(arrays["value"])
        full = {
            name: np.broadcast_to(np.asarray(arrays[name], kind), (n,))
            for name, kind in _FIELDS.items()
        }
        unknown = full["interval"] == 0
        if unknown.any():
            self._tally(full, unknown)
        keep = ~np.isnan(full["value"])
        for name, values in full.items():
            self.parts[name].append(values[keep])  # a new array: keeps no batch alive

    def _tally(self, full: dict[str, Any], unknown: BoolArray) -> None:
        groups = full["plant"][unknown].astype(np.int64) * 2 + full["kind"][unknown]
        size = int(groups.max()) + 1
        if size > len(self.off_hour):
            grow = max(size, 2 * len(self.off_hour)) - len(self.off_hour)
            self.off_hour = np.r_[self.off_hour, np.zeros(grow, np.bool_)]
            self.quarter = np.r_[self.quarter, np.zeros(grow, np.bool_)]
        label = full["label"][unknown]
        off = label % 3600 != 0
        quarter = label % 1800 != 0
        self.off_hour[groups[off]] = True
        self.quarter[groups[quarter]] = True
        half = off & ~quarter
        if half.any():
            first_of, where = np.unique(groups[half], return_index=True)
            rows = np.flatnonzero(unknown)[np.flatnonzero(half)[where]]
            for group, row in zip(first_of.tolist(), rows.tolist(), strict=True):
                self.half.setdefault(
                    group,
                    (int(full["file"][row]), int(full["record"][row]), int(full["column"][row])),
                )

    def mark(self) -> tuple[int, BoolArray, BoolArray, dict[int, tuple[int, int, int]]]:
        """What :meth:`rollback` restores: the store as it is now."""
        count = len(self.parts["value"])
        return count, self.off_hour.copy(), self.quarter.copy(), dict(self.half)

    def rollback(
        self, mark: tuple[int, BoolArray, BoolArray, dict[int, tuple[int, int, int]]]
    ) -> None:
        count, self.off_hour, self.quarter, self.half = mark
        for parts in self.parts.values():
            del parts[count:]

    def joined(self) -> dict[str, Any]:
        """The fields the checks need, each as one array (the batches are let go as each is
        joined); where a reading came from stays in batches (:meth:`origin`)."""
        out = {}
        for name, kind in _FIELDS.items():
            if name in _ORIGIN:
                continue
            parts = self.parts[name]
            out[name] = np.concatenate(parts) if parts else np.zeros(0, kind)
            parts.clear()
        return out

    def origin(self, index: int) -> tuple[int, int, int]:
        """(file, record, column) of a reading, by its index in :meth:`joined`'s arrays."""
        ends = np.cumsum([len(part) for part in self.parts["file"]])
        part = int(np.searchsorted(ends, index, side="right"))
        at = index - (int(ends[part - 1]) if part else 0)
        file, record, column = (int(self.parts[name][part][at]) for name in _ORIGIN)
        return file, record, column


def _interval_minutes(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    match = re.match(
        r"^(\d+(?:\.\d+)?)\s*(min|mins|minute|minutes|m|分钟|分|h|hr|hour|hours|小时|时)?$",
        text.strip().lower(),
    )
    if match is None:
        raise _CellError(f"{text!r} is not an interval (write 15 or 60, 15分钟, 1小时)")
    minutes = float(match.group(1)) * (60 if (match.group(2) or "m")[0] in "h小时" else 1)
    if minutes not in (15, 60):
        raise _CellError(
            f"{text!r} is a {minutes:g}-minute interval; the output frame holds 15 or 60 minutes"
        )
    return int(minutes)


def _numbers(array: Any, header: str, offset: int, issues: Issues) -> Any:
    """Float64 values (NaN: empty), with bad, negative and infinite cells flagged."""
    parsed = _parse_numbers(array, pa.float64())
    if parsed is None:
        issues.add(-1, header, f"holds {array.type} values; expected numbers")
        return np.full(len(array), np.nan)
    values, bad = parsed
    issues.flag(offset, bad, header, lambda i: f"{shown(array, i)} is not a number")
    numbers = np.asarray(values.to_numpy(zero_copy_only=False), np.float64)
    issues.flag(offset, np.isinf(numbers), header, lambda i: f"{numbers[i]} is not a finite number")
    with np.errstate(invalid="ignore"):
        negative = numbers < 0
    issues.flag(offset, negative, header, lambda i: f"{numbers[i]:g} is negative")
    return numbers


def _row_measures(
    plan: _Plan,
    raw: dict[str, Any],
    offset: int,
    issues: Issues,
    *,
    meter: Column | None,
    header: Column | None,
    fallback: Column | None,
) -> tuple[IntArray, BoolArray, Any]:
    """Per row: meter code, power or energy, factor to kWh or kW. The meter is ``meter`` (a
    long file's meter header) or the row's meter-kind cell (``fallback`` when it is empty or
    there is no such column); the unit cell and ``header`` add what they say."""
    n = len(raw["plant_id"])
    kinds = raw.get("meter_kind") if meter is None else None
    units = raw.get("unit")
    if kinds is None and units is None:
        try:
            measure = _combine(meter or fallback, None, header)
        except _CellError as error:  # disagreeing headers: a header problem
            where = header.header if header is not None else None
            raise InputFileError(plan.path, [InputProblem(1, where, str(error))]) from None
        return (
            np.full(n, measure.kind, np.int64),
            np.full(n, measure.power),
            np.full(n, measure.factor),
        )
    blank = pa.array([""] * n, pa.string())
    key = pc.binary_join_element_wise(_text_or(kinds, blank), _text_or(units, blank), "\x00")

    def parse(text: str | None) -> _Measure:
        kind_text, _, unit_text = (text or "").partition("\x00")
        said = meter or fallback
        if kind_text:
            found = resolve_header(kind_text, _METER_INDEX)
            if not isinstance(found, Column):
                raise _CellError(
                    f"{kind_text!r}: {found or 'names no meter'} (机端电量, 上网电量, "
                    "terminal_kwh, grid_tie_kw …)"
                )
            said = found
        return _combine(said, unit_text or None, header)

    results, index, reasons = distinct_map(key, parse)
    where = plan.header("meter_kind") if kinds is not None else plan.header("unit")
    bad = np.array([reason is not None for reason in reasons], np.bool_)[index]
    issues.flag(offset, bad, where, lambda i: str(reasons[index[i]]))
    ok = [m if m is not None else _Measure(0, False, 1.0) for m in results]
    return (
        np.array([m.kind for m in ok], np.int64)[index],
        np.array([m.power for m in ok], np.bool_)[index],
        np.array([m.factor for m in ok], np.float64)[index],
    )


def _text_or(array: Any, default: Any) -> Any:
    if array is None:
        return default
    return pc.fill_null(nfkc(_as_text(array)), "")


def _explicit_intervals(
    plan: _Plan, raw: dict[str, Any], offset: int, issues: Issues, starts: IntArray | None
) -> IntArray:
    """Per row: the interval the file gives (a column, or end − start), 0 where none."""
    n = len(raw["plant_id"])
    given = np.zeros(n, np.int64)
    if "interval_minutes" in raw:
        results, index, reasons = distinct_map(raw["interval_minutes"], _interval_minutes)
        header = plan.header("interval_minutes")
        bad = np.array([r is not None for r in reasons], np.bool_)[index]
        issues.flag(offset, bad, header, lambda i: str(reasons[index[i]]))
        given = np.array([m or 0 for m in results], np.int64)[index]
    if starts is not None and "interval_end_at" in raw and "interval_start_at" in raw:
        ends, bad, empty = local_seconds(raw["interval_end_at"], _days(raw))
        header = plan.header("interval_end_at")
        source = raw["interval_end_at"]
        issues.flag(
            offset,
            bad & ~empty,
            header,
            lambda i: f"{shown(source, i)} is not a date and time ({TIME_HINT})",
        )
        length = (ends - starts) // 60
        has_end = ~bad
        wrong = has_end & ~np.isin(length, (15, 60))
        issues.flag(
            offset,
            wrong,
            header,
            lambda i: f"the interval from its start is {length[i]} minutes; it must be 15 or 60",
        )
        clash = has_end & ~wrong & (given > 0) & (given != length)
        issues.flag(
            offset,
            clash,
            header,
            lambda i: (
                f"the interval from its start is {length[i]} minutes, "
                f"but {plan.header('interval_minutes')} says {given[i]}"
            ),
        )
        given = np.where(has_end & ~wrong & (given == 0), length, given)
    return given


def _days(raw: dict[str, Any]) -> IntArray | None:
    if "date" not in raw:
        return None
    days, _, _ = local_days(raw["date"])
    return days


def _parse_batch(
    plan: _Plan,
    raw: dict[str, Any],
    offset: int,
    file: int,
    codes: Codes,
    fallback: Column | None,
    issues: Issues,
    out: _Readings,
) -> None:
    n = len(raw["plant_id"])
    ids, no_id = normalise_ids(raw["plant_id"])
    issues.flag(offset, no_id, plan.header("plant_id"), lambda i: "is empty")
    plant = codes.encode(ids)
    days: IntArray | None = None
    if "date" in raw:
        days, bad, empty = local_days(raw["date"])
        source = raw["date"]
        if plan.layout is _Layout.WIDE:
            issues.flag(offset, empty, plan.header("date"), lambda i: "is empty")
        issues.flag(
            offset,
            bad & ~empty,
            plan.header("date"),
            lambda i: f"{shown(source, i)} is not a date (write 2021-09-01, 2021/9/1 or 20210901)",
        )
    records = np.arange(offset, offset + n, dtype=np.int64)
    if plan.layout is _Layout.WIDE:
        assert days is not None
        _parse_wide(plan, raw, offset, file, plant, days, records, fallback, issues, out)
        return
    time_key = "interval_end_at" if plan.end_labels else "interval_start_at"
    labels, bad, empty = local_seconds(raw[time_key], days)
    source = raw[time_key]
    header = plan.header(time_key)
    issues.flag(
        offset,
        bad,
        header,
        lambda i: (
            "is empty" if empty[i] else f"{shown(source, i)} is not a date and time ({TIME_HINT})"
        ),
    )
    given = _explicit_intervals(plan, raw, offset, issues, None if plan.end_labels else labels)
    off_grid = ~bad & (labels % 900 != 0)
    issues.flag(
        offset,
        off_grid,
        header,
        lambda i: (
            f"{shown(source, i)} is not on the 15-minute grid (a time marks the "
            f"{'end' if plan.end_labels else 'start'} of its interval)"
        ),
    )
    off_hour = ~bad & ~off_grid & (given == 60) & (labels % 3600 != 0)
    issues.flag(
        offset,
        off_hour,
        header,
        lambda i: f"{shown(source, i)} is not on the hour (a 60-minute interval)",
    )
    if plan.layout is _Layout.LONG_BY_METER:
        column = plan.columns["value"]
        kind, power, factor = _row_measures(
            plan, raw, offset, issues, meter=None, header=column, fallback=fallback
        )
        values = _numbers(raw["value"], column.header, offset, issues) * factor
        out.add(
            plant=plant, label=labels, interval=given, kind=kind, value=values, power=power,
            file=file, record=records, column=column.position,
        )  # fmt: skip
        return
    for meter in plan.meters:
        column = plan.columns[meter]
        kind, power, factor = _row_measures(
            plan, raw, offset, issues, meter=column, header=None, fallback=None
        )
        values = _numbers(raw[meter], column.header, offset, issues) * factor
        out.add(
            plant=plant, label=labels, interval=given, kind=kind, value=values, power=power,
            file=file, record=records, column=column.position,
        )  # fmt: skip


def _parse_wide(
    plan: _Plan,
    raw: dict[str, Any],
    offset: int,
    file: int,
    plant: IntArray,
    days: IntArray,
    records: IntArray,
    fallback: Column | None,
    issues: Issues,
    out: _Readings,
) -> None:
    n = len(plant)
    given = _explicit_intervals(plan, raw, offset, issues, None)
    clash = (given > 0) & (given != plan.slot_minutes)
    issues.flag(
        offset,
        clash,
        plan.header("interval_minutes") if "interval_minutes" in plan.columns else None,
        lambda i: (
            f"says {given[i]} minutes, but the file has "
            f"{1440 // plan.slot_minutes} value columns a day"
        ),
    )
    kind, power, factor = _row_measures(
        plan, raw, offset, issues, meter=None, header=None, fallback=fallback
    )
    slots = len(plan.slots)
    values = np.empty((n, slots), np.float64)
    starts = np.empty(slots, np.int64)
    positions = np.empty(slots, np.int64)
    for j, (name, start) in enumerate(plan.slots):
        column = plan.columns[name]
        values[:, j] = _numbers(raw[name], column.header, offset, issues) * factor
        starts[j] = start
        positions[j] = column.position
    out.add(
        plant=np.repeat(plant, slots),
        label=(days[:, None] * DAY_SECONDS + starts[None, :]).ravel(),
        interval=plan.slot_minutes,
        kind=np.repeat(kind, slots),
        value=values.ravel(),
        power=np.repeat(power, slots),
        file=file,
        record=np.repeat(records, slots),
        column=np.tile(positions, n),
    )


# --------------------------------------------------------------------------- reading


def read_generation(
    spec: str | Path | Sequence[str | Path], *, measure: str | None = None
) -> pa.Table:
    """Read plant output (see the module's description) as one checked frame.

    Parameters
    ----------
    spec : str, Path or a sequence of them
        A file, a glob pattern or a folder (:func:`~minewatch.ingest.meters.expand_inputs`);
        all its files are one data set (duplicates and intervals are checked across them).
    measure : str, optional
        What the values are in files that do not name their meter (a wide or long-by-meter
        file without a ``meter_kind`` column), written as a header would be:
        ``grid_tie_kwh``, ``上网电量(MWh)``, ``机端出力(MW)``. Also used for empty
        meter-kind cells.

    Returns
    -------
    pyarrow.Table
        :data:`~minewatch.ingest.schemas.GENERATION_SCHEMA`: one row per plant and interval
        with at least one reading, sorted by ``plant_id`` and ``interval_start_at`` (UTC);
        energy in the interval [kWh] at each meter, null where that meter has no reading.

    Raises
    ------
    InputFileError
        Naming the problems (file, row, column) of the first file that has any; nothing is
        returned.
    ValueError
        When ``measure`` names no meter.
    """
    fallback = _meter_of(measure) if measure is not None else None
    codes = Codes()
    readings = _Readings()
    files: list[TableFile] = []
    for path in expand_inputs(spec):
        source = TableFile.open(path)
        plan = _plan(path, source.headers, fallback)
        index = len(files)
        files.append(source)
        readings.end_labels.append(plan.end_labels)
        mark = readings.mark()
        try:  # numbers as Arrow reads them; a cell it refuses is named by the text path
            _read_file(source, plan, index, codes, fallback, readings, plan.meters)
        except NotNumbersError:
            readings.rollback(mark)
            _read_file(source, plan, index, codes, fallback, readings, ())
    return _assemble(readings, files, codes)


def _read_file(
    source: TableFile,
    plan: _Plan,
    index: int,
    codes: Codes,
    fallback: Column | None,
    readings: _Readings,
    numbers: Sequence[str],
) -> None:
    issues = Issues()
    for offset, raw in source.batches(plan.columns, _BATCH_ROWS, numbers):
        _parse_batch(plan, raw, offset, index, codes, fallback, issues, readings)
        if len(issues.found) > issues.limit:
            break
    if issues:
        raise source.error(issues)


_PLACE = "\x00place\x00"  # where the earlier reading is, filled in once rows are known
_LISTED_CONFLICTS = 200
_SLOT_BITS = 40  # a key packs (plant, meter) above the 15-minute slot


@dataclass(frozen=True)
class _Conflict:
    """A problem at a reading, naming (for a pair) where the earlier reading is."""

    file: int
    record: int
    column: int
    reason: str  # with _PLACE standing for the earlier reading's place
    earlier: tuple[int, int] | None  # (file, record)


@dataclass
class _Conflicts:
    files: Sequence[TableFile]
    readings: _Readings
    found: list[_Conflict] = field(default_factory=list)

    def add(self, later: int, reason: str, earlier: int | None = None) -> None:
        """A problem at reading ``later`` (an index into the joined readings)."""
        if len(self.found) >= _LISTED_CONFLICTS:
            return
        before = None
        if earlier is not None:
            before = self.readings.origin(earlier)[:2]
        self.found.append(_Conflict(*self.readings.origin(later), reason, before))

    def raise_any(self) -> None:
        """Raise the problems of the first file that has any, with exact rows."""
        if not self.found:
            return
        first = min(c.file for c in self.found)
        wanted: dict[int, set[int]] = {}
        for c in self.found:
            wanted.setdefault(c.file, set()).add(c.record)
            if c.earlier is not None:
                wanted.setdefault(c.earlier[0], set()).add(c.earlier[1])
        rows = {
            (file, record): row
            for file, records in wanted.items()
            for record, row in self.files[file].row_numbers(records).items()
        }
        source = self.files[first]
        issues = Issues()
        for c in self.found:
            if c.file != first:
                continue
            reason = c.reason
            if c.earlier is not None:
                file, record = c.earlier
                row = rows.get((file, record))
                place = f"row {row}" if row is not None else f"data record {record + 1}"
                if file != first:
                    place = f"{self.files[file].path}, {place}"
                reason = reason.replace(_PLACE, place)
            issues.add(c.record, source.headers[c.column].strip(), reason)
        elsewhere = sorted({c.file for c in self.found if c.file != first})
        note = None
        if elsewhere:
            names = ", ".join(str(self.files[f].path) for f in elsewhere[:5])
            note = f"other files have such problems too: {names}"
        raise source.error(issues, note)


def _assemble(readings: _Readings, files: Sequence[TableFile], codes: Codes) -> pa.Table:
    """Infer intervals, check repeats and overlaps, join the two meters, build the frame.

    Works in place where it can: a province's readings are held once, and the sort keys and
    orders about twice more.
    """
    r = readings.joined()
    conflicts = _Conflicts(files, readings)
    for group, (file, record, column) in sorted(readings.half.items()):
        if readings.quarter[group]:
            continue
        meter = _METER_WORDS[METER_KINDS[group % 2]]
        reason = (
            f"plant {codes.names[group // 2]}: its {meter} readings fall on :00 and :30 only "
            "(30-minute data); the output frame holds 15- or 60-minute intervals"
        )
        conflicts.found.append(_Conflict(file, record, column, reason, None))
    conflicts.raise_any()

    # Interval (inferred where not given), start of the interval, energy in it.
    interval = r.pop("interval")
    unknown = np.flatnonzero(interval == 0)
    groups = r["plant"][unknown].astype(np.int64) * 2 + r["kind"][unknown]
    interval[unknown] = np.where(readings.off_hour[groups], 15, 60)
    del unknown, groups
    start = r.pop("label")
    if any(readings.end_labels):
        ends = np.asarray(readings.end_labels, np.bool_)[np.concatenate(readings.parts["file"])]
        start[ends] -= interval[ends].astype(np.int64) * 60
        del ends
    kwh = r.pop("value")
    power = r.pop("power")
    if power.any():
        kwh[power] *= interval[power] / 60
    del power

    names = sorted(codes.names)
    if len(names) >= 1 << 21:
        raise ValueError("more than two million plants in one read: read them in parts")
    rank = np.zeros(len(codes.names), np.int64)
    rank[[codes.index[name] for name in names]] = np.arange(len(names))
    base = int(start.min()) if len(start) else 0
    key = start  # becomes (plant, 15-minute slot, meter) packed in one integer
    key -= base
    key //= 900
    key <<= 1
    key |= r.pop("kind")
    key |= rank[r.pop("plant")] << (_SLOT_BITS + 1)

    # In (plant, time, meter) order — stable: the files' order among equals — a plant's two
    # meters of one interval are neighbours, and so are two readings of one meter and start.
    order = np.argsort(key, kind="stable")
    key = key[order]
    iv = interval[order]
    w = kwh[order]
    del interval, kwh
    slot_mask = (1 << _SLOT_BITS) - 1

    def plant_of(i: int) -> str:
        return names[int(key[i] >> (_SLOT_BITS + 1))]

    def time_of(i: int) -> str:
        return local_text(base + 900 * int((key[i] >> 1) & slot_mask))

    def meter_of(i: int) -> str:
        return _METER_WORDS[METER_KINDS[int(key[i] & 1)]]

    # One meter, one start, twice: kept once when interval and value agree, else a problem.
    repeat = key[1:] == key[:-1]
    identical = repeat & (iv[1:] == iv[:-1]) & (w[1:] == w[:-1])
    for i in np.flatnonzero(repeat & ~identical)[:_LISTED_CONFLICTS]:
        reason = (
            f"plant {plant_of(i + 1)}: the {meter_of(i + 1)} reading of {time_of(i + 1)} "
            f"({iv[i + 1]} min) is also given in {_PLACE} with another value "
            f"({w[i + 1]:g} kWh here, {w[i]:g} kWh there)"
        )
        conflicts.add(int(order[i + 1]), reason, int(order[i]))
    conflicts.raise_any()
    del repeat
    if identical.any():
        _log.info("%d repeated readings (plant, meter, interval, value) kept once", identical.sum())
        keep = np.ones(len(key), np.bool_)
        keep[1:] = ~identical
        order, key, iv, w = order[keep], key[keep], iv[keep], w[keep]
        del keep
    del identical

    # One meter, overlapping intervals (only where lengths are mixed): each meter's readings
    # in time order, each against the one before.
    if len(iv) and iv.min() != iv.max():
        for code in (_TERMINAL, _GRID_TIE):
            mine = np.flatnonzero((key & 1) == code)
            k, length = key[mine], iv[mine]
            overlap = ((k[1:] >> (_SLOT_BITS + 1)) == (k[:-1] >> (_SLOT_BITS + 1))) & (
                ((k[1:] >> 1) & slot_mask) < ((k[:-1] >> 1) & slot_mask) + length[:-1] // 15
            )
            for j in np.flatnonzero(overlap)[:_LISTED_CONFLICTS]:
                a, b = int(mine[j]), int(mine[j + 1])
                reason = (
                    f"plant {plant_of(b)}: the {meter_of(b)} {iv[b]}-minute interval from "
                    f"{time_of(b)} overlaps the {iv[a]}-minute interval from {time_of(a)} in "
                    f"{_PLACE}"
                )
                conflicts.add(int(order[b]), reason, int(order[a]))
        conflicts.raise_any()

    # The two meters side by side: one row per plant and interval start.
    first = np.ones(len(key), np.bool_)
    first[1:] = (key[1:] >> 1) != (key[:-1] >> 1)
    for b in np.flatnonzero(~first[1:] & (iv[1:] != iv[:-1]))[:_LISTED_CONFLICTS] + 1:
        reason = (
            f"plant {plant_of(b)}: the grid-tie reading from {time_of(b)} is for {iv[b]} "
            f"minutes, the terminal reading in {_PLACE} for {iv[b - 1]}; give both meters at "
            "one interval"
        )
        conflicts.add(int(order[b]), reason, int(order[b - 1]))
    heads = np.flatnonzero(first)
    head_key, head_iv = key[heads] >> 1, iv[heads]
    if len(head_iv) and head_iv.min() != head_iv.max():
        across = ((head_key[1:] >> _SLOT_BITS) == (head_key[:-1] >> _SLOT_BITS)) & (
            (head_key[1:] & slot_mask) < (head_key[:-1] & slot_mask) + head_iv[:-1] // 15
        )
        for i in np.flatnonzero(across)[:_LISTED_CONFLICTS]:
            a, b = int(heads[i]), int(heads[i + 1])
            reason = (
                f"plant {plant_of(b)}: the {iv[b]}-minute interval from {time_of(b)} overlaps "
                f"the {iv[a]}-minute interval from {time_of(a)} in {_PLACE} (the terminal and "
                "grid-tie meters are read at different intervals)"
            )
            conflicts.add(int(order[b]), reason, int(order[a]))
    conflicts.raise_any()
    del order, r, conflicts
    readings.parts.clear()  # where readings came from: no longer asked
    meter_bit = key & 1

    # A row's readings are its head and, when both meters read, the grid-tie one after it.
    head_meter = meter_bit[heads]
    head_w = w[heads]
    paired = np.zeros(len(heads), np.bool_)
    paired[:-1] = heads[1:] - heads[:-1] == 2
    if len(heads):
        paired[-1] = len(w) - heads[-1] == 2
    second = np.where(paired, w[np.minimum(heads + 1, len(w) - 1)], np.nan)
    terminal = np.where(head_meter == _TERMINAL, head_w, np.nan)
    grid_tie = np.where(head_meter == _TERMINAL, second, head_w)
    del head_meter, head_w, paired, second, w, meter_bit
    return pa.table(
        {
            "plant_id": pa.array(names, pa.string()).take(pa.array(head_key >> _SLOT_BITS)),
            "interval_start_at": utc_instants(base + 900 * (head_key & slot_mask)),
            "interval_minutes": pa.array(head_iv, pa.int16()),
            "terminal_kwh": pa.array(terminal, mask=np.isnan(terminal)),
            "grid_tie_kwh": pa.array(grid_tie, mask=np.isnan(grid_tie)),
        },
        schema=GENERATION_SCHEMA,
    )
