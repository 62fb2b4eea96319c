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

Files are parsed in batches with Arrow and NumPy (no Python per row); the whole result is
held in memory, about 40 bytes per reading while it is checked, so a province's two years
are best read basin by basin or a few months at a time.
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
    Quantity,
    TableFile,
    distinct_map,
    local_days,
    local_seconds,
    local_text,
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


@dataclass
class _Readings:
    """Readings of one or more batches, one per value: the arrays the checks work on."""

    plant: list[IntArray] = field(default_factory=list)
    label: list[IntArray] = field(default_factory=list)  # local seconds of the time written
    interval: list[IntArray] = field(default_factory=list)  # minutes; 0: infer
    kind: list[IntArray] = field(default_factory=list)
    value: list[Any] = field(default_factory=list)  # float64, NaN: no reading
    power: list[BoolArray] = field(default_factory=list)
    end: list[BoolArray] = field(default_factory=list)  # label is the interval's end
    file: list[IntArray] = field(default_factory=list)
    record: list[IntArray] = field(default_factory=list)
    column: list[IntArray] = field(default_factory=list)  # position of the value's header

    def add(self, **arrays: Any) -> None:
        n = len(arrays["value"])
        for name, values in arrays.items():
            part = np.broadcast_to(values, (n,)) if np.ndim(values) == 0 else values
            getattr(self, name).append(np.asarray(part))

    def joined(self) -> dict[str, Any]:
        types = {
            "plant": np.int64,
            "label": np.int64,
            "interval": np.int64,
            "kind": np.int64,
            "value": np.float64,
            "power": np.bool_,
            "end": np.bool_,
            "file": np.int64,
            "record": np.int64,
            "column": np.int64,
        }
        return {
            name: np.concatenate(parts).astype(kind, copy=False)
            if (parts := getattr(self, name))
            else np.zeros(0, kind)
            for name, kind in types.items()
        }


def _interval_minutes(text: str | None) -> int | None:
    if text is None:
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
    key = pc.binary_join_element_wise(_text_or(kinds, blank), _text_or(units, blank), "\x1f")

    def parse(text: str | None) -> _Measure:
        kind_text, _, unit_text = (text or "").partition("\x1f")
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
    return pc.fill_null(pc.utf8_normalize(_as_text(array), "NFKC"), "")


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
            end=plan.end_labels, file=file, record=records, column=column.position,
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
            end=plan.end_labels, file=file, record=records, column=column.position,
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
        end=False,
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
    plans: list[_Plan] = []
    for path in expand_inputs(spec):
        source = TableFile.open(path)
        plan = _plan(path, source.headers, fallback)
        issues = Issues()
        index = len(files)
        files.append(source)
        plans.append(plan)
        for offset, raw in source.batches(plan.columns, _BATCH_ROWS):
            _parse_batch(plan, raw, offset, index, codes, fallback, issues, readings)
            if len(issues.found) > issues.limit:
                break
        if issues:
            raise source.error(issues)
    return _assemble(readings.joined(), files, codes)


_PLACE = "\x00place\x00"  # where the earlier reading is, filled in once rows are known
_LISTED_CONFLICTS = 200


@dataclass(frozen=True)
class _Conflict:
    """A problem between two readings: at the later one, naming where the earlier one is."""

    file: int
    record: int
    column: int
    reason: str  # with _PLACE standing for the earlier reading's place
    earlier: tuple[int, int] | None  # (file, record)


@dataclass
class _Conflicts:
    files: Sequence[TableFile]
    found: list[_Conflict] = field(default_factory=list)

    def add(self, r: _Sorted, later: int, reason: str, earlier: int | None = None) -> None:
        if len(self.found) >= _LISTED_CONFLICTS:
            return
        before = None if earlier is None else (int(r.file[earlier]), int(r.record[earlier]))
        self.found.append(
            _Conflict(
                int(r.file[later]), int(r.record[later]), int(r.column[later]), reason, before
            )
        )

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


@dataclass
class _Sorted:
    """The readings as the checks see them, each array in the same order."""

    plant: IntArray  # rank of the plant id in sorted order
    start: IntArray  # local seconds of the interval's start
    interval: IntArray
    kind: IntArray
    kwh: Any
    file: IntArray
    record: IntArray
    column: IntArray

    def take(self, index: Any) -> _Sorted:
        return _Sorted(*(getattr(self, name)[index] for name in _SORTED_FIELDS))


_SORTED_FIELDS = ("plant", "start", "interval", "kind", "kwh", "file", "record", "column")


def _infer_intervals(
    r: dict[str, Any], plant: IntArray, groups: int, names: Sequence[str], conflicts: _Conflicts
) -> IntArray:
    """Each reading's interval: as given, else 15 minutes for a plant and meter with any
    reading off the hour, 60 for one read on the hour only; 30-minute data is a problem."""
    interval = np.asarray(r["interval"], np.int64).copy()
    label, kind = r["label"], r["kind"]
    unknown = interval == 0
    keys = plant * 2 + kind
    off_hour = (label % 3600 != 0) & unknown
    quarter = (label % 1800 != 0) & unknown
    has_off = np.bincount(keys, weights=off_hour, minlength=groups) > 0
    has_quarter = np.bincount(keys, weights=quarter, minlength=groups) > 0
    everything = _Sorted(
        plant, label, interval, kind, r["value"], r["file"], r["record"], r["column"]
    )
    for group in np.flatnonzero(has_off & ~has_quarter):
        hit = int(np.flatnonzero((keys == group) & off_hour)[0])
        meter = _METER_WORDS[METER_KINDS[int(group % 2)]]
        reason = (
            f"plant {names[int(group // 2)]}: its {meter} readings fall on :00 and :30 only "
            "(30-minute data); the output frame holds 15- or 60-minute intervals"
        )
        conflicts.add(everything, hit, reason)
    interval[unknown] = np.where(has_off, 15, 60)[keys[unknown]]
    return interval


def _assemble(r: dict[str, Any], files: Sequence[TableFile], codes: Codes) -> pa.Table:
    """Infer intervals, check duplicates and overlaps, join the two meters, build the frame."""
    names = sorted(codes.names)
    rank = np.zeros(len(codes.names), np.int64)
    for position, name in enumerate(names):
        rank[codes.index[name]] = position
    plant = rank[r["plant"]] if len(names) else np.asarray(r["plant"], np.int64)
    conflicts = _Conflicts(files)
    interval = _infer_intervals(r, plant, max(len(names), 1) * 2, names, conflicts)
    start = r["label"] - np.where(r["end"], interval * 60, 0)
    kwh = r["value"] * np.where(r["power"], interval / 60, 1.0)
    readings = _Sorted(plant, start, interval, r["kind"], kwh, r["file"], r["record"], r["column"])
    readings = readings.take(~np.isnan(kwh))
    x = readings.take(
        np.lexsort((readings.record, readings.file, readings.start, readings.kind, readings.plant))
    )

    # One meter of one plant: the same interval twice (kept once when the values agree), or
    # intervals that overlap.
    same = (x.plant[1:] == x.plant[:-1]) & (x.kind[1:] == x.kind[:-1])
    identical = (
        same & (x.start[1:] == x.start[:-1]) & (x.interval[1:] == x.interval[:-1])
        & (x.kwh[1:] == x.kwh[:-1])
    )  # fmt: skip
    overlap = same & ~identical & (x.start[1:] < x.start[:-1] + x.interval[:-1] * 60)
    for i in np.flatnonzero(overlap)[:_LISTED_CONFLICTS]:
        a, b = int(i), int(i) + 1
        meter = _METER_WORDS[METER_KINDS[int(x.kind[b])]]
        if x.start[a] == x.start[b] and x.interval[a] == x.interval[b]:
            reason = (
                f"plant {names[int(x.plant[b])]}: the {meter} reading of "
                f"{local_text(x.start[b])} ({x.interval[b]} min) is also given in {_PLACE} "
                f"with another value ({x.kwh[b]:g} kWh here, {x.kwh[a]:g} kWh there)"
            )
        else:
            reason = (
                f"plant {names[int(x.plant[b])]}: the {meter} {x.interval[b]}-minute interval "
                f"from {local_text(x.start[b])} overlaps the {x.interval[a]}-minute interval "
                f"from {local_text(x.start[a])} in {_PLACE}"
            )
        conflicts.add(x, b, reason, a)
    repeated = int(identical.sum())
    if repeated:
        _log.info("%d repeated readings (same plant, meter, interval, value) kept once", repeated)
    x = x.take(~np.r_[False, identical])

    # The two meters of one plant side by side: one row per plant and interval start.
    x = x.take(np.lexsort((x.kind, x.start, x.plant)))
    first = np.r_[True, (x.plant[1:] != x.plant[:-1]) | (x.start[1:] != x.start[:-1])]
    first = first[: len(x.plant)]
    for b in np.flatnonzero(~first & (np.r_[0, x.interval[:-1]] != x.interval))[:_LISTED_CONFLICTS]:
        b = int(b)
        reason = (
            f"plant {names[int(x.plant[b])]}: the grid-tie reading from "
            f"{local_text(x.start[b])} is for {x.interval[b]} minutes, the terminal reading in "
            f"{_PLACE} for {x.interval[b - 1]}; give both meters at one interval"
        )
        conflicts.add(x, b, reason, b - 1)
    heads = np.flatnonzero(first)
    rows = x.take(heads)
    across = (rows.plant[1:] == rows.plant[:-1]) & (
        rows.start[1:] < rows.start[:-1] + rows.interval[:-1] * 60
    )
    for i in np.flatnonzero(across)[:_LISTED_CONFLICTS]:
        a, b = int(heads[i]), int(heads[i + 1])
        reason = (
            f"plant {names[int(x.plant[b])]}: the {x.interval[b]}-minute interval from "
            f"{local_text(x.start[b])} overlaps the {x.interval[a]}-minute interval from "
            f"{local_text(x.start[a])} in {_PLACE} (the terminal and grid-tie meters are "
            "read at different intervals)"
        )
        conflicts.add(x, b, reason, a)
    conflicts.raise_any()

    row_of = np.cumsum(first) - 1
    terminal = np.full(len(heads), np.nan)
    grid_tie = np.full(len(heads), np.nan)
    is_terminal = x.kind == _TERMINAL
    terminal[row_of[is_terminal]] = x.kwh[is_terminal]
    grid_tie[row_of[~is_terminal]] = x.kwh[~is_terminal]
    return pa.table(
        {
            "plant_id": pa.array(names, pa.string()).take(pa.array(rows.plant, pa.int64())),
            "interval_start_at": utc_instants(rows.start),
            "interval_minutes": pa.array(rows.interval.astype(np.int16), pa.int16()),
            "terminal_kwh": pa.array(terminal, mask=np.isnan(terminal)),
            "grid_tie_kwh": pa.array(grid_tie, mask=np.isnan(grid_tie)),
        },
        schema=GENERATION_SCHEMA,
    )
