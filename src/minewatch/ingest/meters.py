"""Smart-meter load curves, customer archives and weather, read into the canonical frames.

The grid companies' collection systems (用电信息采集系统) export load curves in three layouts,
each as CSV (UTF-8 with or without BOM, or GB18030/GBK from Chinese Excel; optionally gzipped)
or Parquet. The layout is recognised per file from its header:

* **wide 96-point** – ``meter_id, date, p001 … p096`` (average kW per 15-minute slot);
* **hourly 24-point** – ``meter_id, date, h01 … h24`` (average kW per hour; each hour fills its
  four slots);
* **long** – ``meter_id, timestamp, power_kw`` or ``meter_id, timestamp, energy_kwh``: one reading
  per row, at 15-, 30- or 60-minute intervals (inferred per file); a timestamp marks the *start*
  of its interval; naive timestamps are Asia/Shanghai local time.

Headers match after NFKC normalisation, ignoring spaces and case, and the usual Chinese names
are accepted (电表编号, 日期, 采集时间, 有功功率, 用电量 …). Every layout comes out as the wide
daily rows of :data:`~minewatch.ingest.schemas.READINGS_SCHEMA`.

Readers do not clean: negative or absurd values, NaN, empty cells (null) and repeated meter-days
pass through for the data-sufficiency checks downstream. A *malformed* file (a missing column, a
cell that is not a number or not a date, an empty meter id …) raises
:class:`~minewatch.errors.InputFileError` naming the file, the row (as a spreadsheet or text
editor shows it: the header is row 1; Parquet rows are counted the same way) and the column.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob
import gzip
import io
import math
import os
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from minewatch.errors import InputFileError, InputProblem, MineWatchError
from minewatch.ingest import locations
from minewatch.ingest.cells import DATE_PATTERNS, parse_day
from minewatch.ingest.schemas import (
    CUSTOMERS_SCHEMA,
    HOUR_COLUMNS,
    LOCAL_TZ_NAME,
    READINGS_SCHEMA,
    SLOT_COLUMNS,
    SLOTS_PER_DAY,
    WEATHER_SCHEMA,
    TariffClass,
)
from minewatch.reference import credit_code, regions

__all__ = [
    "MAX_PROBLEMS",
    "READING_SUFFIXES",
    "ReadingPart",
    "TableColumns",
    "expand_inputs",
    "expand_locations",
    "iter_reading_part",
    "iter_readings",
    "read_customers",
    "read_weather",
    "reading_days",
    "reading_parts",
    "table_columns",
    "table_days",
    "table_readings",
    "write_table",
]

READING_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".pq")
MAX_PROBLEMS = 20
"""How many problems a meter-readings error lists (the file may hold more)."""
_MAX_TABLE_PROBLEMS = 100  # customers and weather: small files, list (nearly) everything

_SNIFF_BYTES = 1 << 16
_SLOT_SECONDS = 900
_DAY_SECONDS = 86_400
_INTERVALS_MIN = (15, 30, 60)
_PENDING_LIMIT = 16  # long files: batches kept back at most while inferring the interval
_CSV_NULLS = ["", "NULL", "null", "NA", "N/A", "n/a", "#N/A", "None", "-", "--"]
_NUMBER_PATTERN = r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity|nan))\s*$"
_TIMESTAMP_PATTERN = (
    r"^(?P<y>\d{4})(?:[-/.]|年)(?P<m>\d{1,2})(?:[-/.]|月)(?P<d>\d{1,2})日?"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.0+)?)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_HINT = "write 2021-09-01, 2021/9/1 or 20210901"

Issue = tuple[int, str | None, str]  # (index in the batch, canonical column, reason)
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
_Batches = Generator[tuple[int, dict[str, Any]], None, None]


def _file_problem(path: Path | str, reason: str) -> InputFileError:
    return InputFileError(path, [InputProblem(None, None, reason)])


def _capped(problems: list[InputProblem], limit: int = MAX_PROBLEMS) -> list[InputProblem]:
    if len(problems) <= limit:
        return problems
    rest = len(problems) - limit
    return [*problems[:limit], InputProblem(None, None, f"… and {rest} more problem(s)")]


# --------------------------------------------------------------------------- finding files


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    return None


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def expand_inputs(spec: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files named by ``spec``: a file, a glob pattern or a folder, or a list of these.

    A pattern may use ``*``, ``?``, ``[…]`` and ``**`` (any depth) and keeps the files ending in
    ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq``; a folder gives those files anywhere inside it,
    hidden ones (name starting with ``.``) excepted. Each pattern's and folder's files are
    sorted; a file named twice is listed once. Raises :class:`InputFileError` when a path does
    not exist or a pattern or folder yields no file.
    """
    items: list[str | Path] = [spec] if isinstance(spec, str | Path) else list(spec)
    if not items:
        raise _file_problem("(inputs)", "no input file was given")
    found: list[Path] = []
    for item in items:
        text = str(item)
        path = Path(item)
        if re.search(r"[*?\[]", text) and not path.exists():
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file() and _format_of(m) is not None]
            if not files:
                what = "no file" if not matches else "no .csv, .csv.gz, .parquet or .pq file"
                raise _file_problem(text, f"the pattern matches {what}")
            found.extend(files)
        elif path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and _format_of(p) is not None and not _is_hidden(p, path)
            )
            if not files:
                raise _file_problem(path, "the folder holds no .csv, .csv.gz, .parquet or .pq file")
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            raise _file_problem(path, "file not found" if not path.exists() else "is not a file")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


# --------------------------------------------------------------------------- headers


def _header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", key).lower()


def _alias_index(aliases: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {_header_key(name): key for key, names in aliases.items() for name in (key, *names)}


_READING_ALIASES: dict[str, tuple[str, ...]] = {
    "meter_id": ("meterid", "meter", "电表编号", "表号", "计量点编号", "电能表编号", "电表号"),
    "date": ("日期", "数据日期", "采集日期"),
    "timestamp": ("time", "datetime", "时间", "采集时间", "数据时间", "时间点"),
    "power_kw": ("power", "有功功率", "有功功率(kW)", "功率", "功率(kW)", "负荷(kW)"),
    "energy_kwh": ("energy", "电量", "电量(kWh)", "用电量", "用电量(kWh)", "有功电量(kWh)"),
}
_READING_INDEX = _alias_index(_READING_ALIASES)
_NUMBERED = re.compile(r"^([ph])0*([1-9][0-9]?)$")


def _reading_column(text: str) -> str | None:
    key = _header_key(text)
    if key in _READING_INDEX:
        return _READING_INDEX[key]
    match = _NUMBERED.match(key)
    if match is not None:
        number = int(match.group(2))
        if match.group(1) == "p" and number <= SLOTS_PER_DAY:
            return SLOT_COLUMNS[number - 1]
        if match.group(1) == "h" and number <= len(HOUR_COLUMNS):
            return HOUR_COLUMNS[number - 1]
    return None


class _Layout(StrEnum):
    WIDE = "wide 96-point"
    HOURLY = "hourly 24-point"
    LONG = "long"


@dataclass(frozen=True)
class _Plan:
    """How to read one meter file: its layout and where each needed column sits."""

    layout: _Layout
    positions: dict[str, int]  # canonical name → index in the file's header
    headers: tuple[str, ...]
    value: str = "power_kw"  # the value column of a long file

    @property
    def numbers(self) -> tuple[str, ...]:
        if self.layout is _Layout.WIDE:
            return SLOT_COLUMNS
        if self.layout is _Layout.HOURLY:
            return HOUR_COLUMNS
        return (self.value,)

    @property
    def needed(self) -> tuple[str, ...]:
        when = "timestamp" if self.layout is _Layout.LONG else "date"
        return ("meter_id", when, *self.numbers)

    def header(self, canonical: str | None) -> str | None:
        if canonical is None:
            return None
        position = self.positions.get(canonical)
        if position is None:
            return canonical
        return str(self.headers[position]).strip() or canonical


def _missing(name: str) -> InputProblem:
    aliases = "/".join(a for a in _READING_ALIASES.get(name, ()) if not a.isascii())
    also = f" (or {aliases})" if aliases else ""
    return InputProblem(1, name, f"required column is missing{also}")


def _header_positions(
    headers: Sequence[str], canonical_of: Callable[[str], str | None]
) -> tuple[dict[str, int], list[InputProblem]]:
    """Where each known column is (by its canonical name), and the columns given twice."""
    positions: dict[str, int] = {}
    problems: list[InputProblem] = []
    for position, text in enumerate(headers):
        key = canonical_of(str(text))
        if key is None:
            continue
        if key in positions:
            first = str(headers[positions[key]]).strip()
            problems.append(
                InputProblem(1, str(text).strip(), f"repeats column {first!r} (both {key})")
            )
            continue
        positions[key] = position
    return positions, problems


def _plan_readings(path: Path | str, headers: Sequence[str]) -> _Plan:
    positions, problems = _header_positions(headers, _reading_column)
    value = "power_kw"
    if any(c in positions for c in SLOT_COLUMNS):
        layout = _Layout.WIDE
    elif any(c in positions for c in HOUR_COLUMNS):
        layout = _Layout.HOURLY
    elif {"timestamp", "power_kw", "energy_kwh"} & positions.keys():
        layout = _Layout.LONG
        if "power_kw" not in positions and "energy_kwh" in positions:
            value = "energy_kwh"
        if "power_kw" not in positions and "energy_kwh" not in positions:
            reason = "required column is missing: give power_kw (有功功率) or energy_kwh (用电量)"
            problems.append(InputProblem(1, "power_kw", reason))
    else:
        reason = (
            "no load-curve columns: expected p001 … p096 (wide), h01 … h24 (hourly) "
            "or timestamp with power_kw or energy_kwh (long)"
        )
        problems.append(InputProblem(1, None, reason))
        raise InputFileError(path, problems)
    plan = _Plan(layout, positions, tuple(str(h) for h in headers), value)
    problems.extend(_missing(c) for c in plan.needed[:2] if c not in positions)
    if layout is not _Layout.LONG:
        problems.extend(_missing(c) for c in plan.numbers if c not in positions)
    if problems:
        raise InputFileError(path, _capped(problems))
    return plan


# --------------------------------------------------------------------------- column parsing


def _is_text(kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _as_text(array: Any) -> Any:
    """A string array (dictionaries decoded, integers written out) with spaces trimmed."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if not pa.types.is_string(kind):
        array = array.cast(pa.string())
    return pc.utf8_trim_whitespace(array)


def _mask(array: Any) -> BoolArray:
    """A boolean array as numpy, null = False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _ints(array: Any) -> IntArray:
    filled = pc.fill_null(pc.if_else(pc.equal(array, ""), "0", array), "0")
    return np.asarray(filled.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _extract(text: Any, pattern: str, names: Sequence[str]) -> tuple[BoolArray, dict[str, Any]]:
    found = pc.extract_regex(text, pattern)
    matched = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return matched, {name: pc.struct_field(found, [name]) for name in names}


def _days_from_civil(y: IntArray, m: IntArray, d: IntArray) -> tuple[IntArray, BoolArray]:
    """Days since 1970-01-01 of each (year, month, day), and which triples are real dates."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    valid_month = (m >= 1) & (m <= 12)
    length = month_days[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)
    ok = valid_month & (d >= 1) & (d <= length) & (y >= 1) & (y <= 9999)
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468, ok


def _parse_dates(array: Any) -> tuple[Any, BoolArray, BoolArray]:
    """Date32 values, which cells are bad, and which of the bad ones are empty."""
    kind = array.type
    if pa.types.is_date32(kind) or pa.types.is_date64(kind) or pa.types.is_timestamp(kind):
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            array = pc.local_timestamp(array.cast(pa.timestamp(kind.unit, tz=LOCAL_TZ_NAME)))
        dates = array.cast(pa.date32(), safe=False)
        empty = np.asarray(dates.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        return dates, empty, empty
    text = _as_text(array)
    empty = ~_mask(pc.greater(pc.utf8_length(text), 0))
    n = len(text)
    y = np.zeros(n, np.int64)
    m = np.zeros(n, np.int64)
    d = np.zeros(n, np.int64)
    matched = np.zeros(n, np.bool_)
    for pattern in DATE_PATTERNS:
        hit, parts = _extract(text, pattern, ("y", "m", "d"))
        take = hit & ~matched
        y = np.where(take, _ints(parts["y"]), y)
        m = np.where(take, _ints(parts["m"]), m)
        d = np.where(take, _ints(parts["d"]), d)
        matched |= hit
    days, real = _days_from_civil(y, m, d)
    ok = matched & real
    dates = pa.array(np.where(ok, days, 0).astype(np.int32), mask=~ok).cast(pa.date32())
    return dates, ~ok, empty


def _parse_timestamps(array: Any) -> tuple[IntArray, BoolArray, BoolArray]:
    """Local (Asia/Shanghai) seconds since the epoch, bad cells, and which bad ones are empty."""
    kind = array.type
    if pa.types.is_timestamp(kind) or pa.types.is_date32(kind) or pa.types.is_date64(kind):
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            array = pc.local_timestamp(array.cast(pa.timestamp(kind.unit, tz=LOCAL_TZ_NAME)))
        seconds = array.cast(pa.timestamp("s"), safe=False).cast(pa.int64())
        bad = np.asarray(seconds.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        values = np.asarray(pc.fill_null(seconds, 0).to_numpy(), dtype=np.int64)
        return values, bad, bad
    text = _as_text(array)
    empty = ~_mask(pc.greater(pc.utf8_length(text), 0))
    matched, parts = _extract(text, _TIMESTAMP_PATTERN, ("y", "m", "d", "H", "M", "S", "z"))
    days, real = _days_from_civil(_ints(parts["y"]), _ints(parts["m"]), _ints(parts["d"]))
    hour, minute, second = _ints(parts["H"]), _ints(parts["M"]), _ints(parts["S"])
    ok = matched & real & (hour < 24) & (minute < 60) & (second < 60)
    clock = days * _DAY_SECONDS + hour * 3600 + minute * 60 + second
    zone = pc.fill_null(parts["z"], "")
    aware = _mask(pc.greater(pc.utf8_length(zone), 0)) & ok
    if aware.any():
        _, offset_parts = _extract(
            zone, r"^(?P<s>[+-])(?P<h>\d{2}):?(?P<mm>\d{2})?$", ["s", "h", "mm"]
        )
        sign = np.where(_mask(pc.equal(offset_parts["s"], "-")), -1, 1)
        hours, mins = _ints(offset_parts["h"]), _ints(offset_parts["mm"])
        ok &= ~aware | ((hours <= 14) & (mins < 60))
        offset = sign * (hours * 3600 + mins * 60)  # "Z" leaves every part empty: offset 0
        utc = pa.array(np.where(aware, clock - offset, 0), type=pa.int64())
        instants = utc.cast(pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s", tz=LOCAL_TZ_NAME))
        local = np.asarray(pc.local_timestamp(instants).cast(pa.int64()).to_numpy(), np.int64)
        clock = np.where(aware, local, clock)
    return np.where(ok, clock, 0), ~ok, empty


def _parse_numbers(array: Any, as_type: Any = None) -> tuple[Any, BoolArray] | None:
    """Float32 values (or ``as_type``, e.g. float64) and which cells are not numbers; None when
    the column type is unusable."""
    target = pa.float32() if as_type is None else as_type
    kind = array.type
    if kind == target:
        return array, np.zeros(len(array), np.bool_)
    if pa.types.is_null(kind):
        return pa.nulls(len(array), target), np.zeros(len(array), np.bool_)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return array.cast(target, safe=False), np.zeros(len(array), np.bool_)
    if not (_is_text(kind) or pa.types.is_dictionary(kind)):
        return None
    raw = array.cast(pa.string()) if not pa.types.is_string(kind) else array
    gap = _mask(pc.is_in(raw, value_set=pa.array(_CSV_NULLS))) | _mask(raw.is_null())
    number = _mask(pc.match_substring_regex(raw, _NUMBER_PATTERN)) & ~gap
    kept = pc.if_else(pa.array(number), pc.utf8_trim_whitespace(raw), pa.scalar(None, pa.string()))
    values = kept.cast(pa.float64()).cast(target, safe=False)
    return values, ~gap & ~number


@dataclass
class _Parsed:
    """One batch of a meter file, parsed; ``issues`` lists what is wrong with it."""

    meter: Any
    date: Any  # date32 (wide and hourly files)
    seconds: IntArray  # local seconds since the epoch (long files)
    values: list[Any]
    issues: list[Issue] = field(default_factory=list)


def _flag(issues: list[Issue], bad: BoolArray, column: str, reason: Callable[[int], str]) -> None:
    for index in np.flatnonzero(bad)[: MAX_PROBLEMS + 1]:
        issues.append((int(index), column, reason(int(index))))


def _shown(array: Any, index: int) -> str:
    value = array[index].as_py()
    return repr(value if not isinstance(value, str) else value.strip())


def _not_a_number(column: Any) -> Callable[[int], str]:
    return lambda i: f"{_shown(column, i)} is not a number"


def _parse(raw: Mapping[str, Any], plan: _Plan) -> _Parsed:
    issues: list[Issue] = []
    meter = _as_text(raw["meter_id"])
    no_meter = ~_mask(pc.greater(pc.utf8_length(meter), 0))
    _flag(issues, no_meter, "meter_id", lambda i: "meter_id is empty")
    n = len(meter)
    dates: Any = None
    seconds = np.zeros(0, np.int64)
    if plan.layout is _Layout.LONG:
        seconds, bad, empty = _parse_timestamps(raw["timestamp"])
        source = raw["timestamp"]
        _flag(
            issues,
            bad,
            "timestamp",
            lambda i: (
                "timestamp is empty"
                if empty[i]
                else f"{_shown(source, i)} is not a timestamp (write 2021-09-01 00:15 or "
                "2021-09-01T00:15:00+08:00)"
            ),
        )
    else:
        dates, bad, empty = _parse_dates(raw["date"])
        source = raw["date"]
        _flag(
            issues,
            bad,
            "date",
            lambda i: (
                "date is empty" if empty[i] else f"{_shown(source, i)} is not a date ({_DATE_HINT})"
            ),
        )
    values: list[Any] = []
    for name in plan.numbers:
        column = raw[name]
        parsed = _parse_numbers(column)
        if parsed is None:
            issues.append((-1, name, f"holds {column.type} values; expected numbers"))
            values.append(pa.nulls(n, pa.float32()))
            continue
        values.append(parsed[0])
        _flag(issues, parsed[1], name, _not_a_number(column))
    issues.sort(key=lambda issue: issue[0])
    return _Parsed(meter, dates, seconds, values, issues)


def _grid_issues(parsed: _Parsed, raw: Mapping[str, Any], interval: int) -> list[Issue]:
    off = np.flatnonzero(parsed.seconds % (interval * 60) != 0)[: MAX_PROBLEMS + 1]
    source = raw["timestamp"]
    return [
        (
            int(i),
            "timestamp",
            f"{_shown(source, int(i))} is not on the {interval}-minute grid of this file "
            "(a timestamp marks the start of its interval)",
        )
        for i in off
    ]


def _infer_interval(parsed: Iterable[_Parsed]) -> int:
    step = 3600
    for batch in parsed:
        if len(batch.seconds):
            step = math.gcd(step, int(np.gcd.reduce(batch.seconds % _DAY_SECONDS)))
    minutes = step // 60
    return minutes if step % 60 == 0 and minutes in _INTERVALS_MIN else 15


def _wide_batch(parsed: _Parsed, plan: _Plan) -> Any:
    if plan.layout is _Layout.HOURLY:
        slots = [parsed.values[i // 4] for i in range(SLOTS_PER_DAY)]
    else:
        slots = parsed.values
    return pa.RecordBatch.from_arrays([parsed.meter, parsed.date, *slots], schema=READINGS_SCHEMA)


def _take(parsed: _Parsed, rows: IntArray) -> _Parsed:
    index = pa.array(rows, pa.int64())
    return _Parsed(
        meter=parsed.meter.take(index),
        date=parsed.date,
        seconds=parsed.seconds[rows],
        values=[v.take(index) for v in parsed.values],
    )


def _joined(parts: list[_Parsed]) -> _Parsed:
    """Parsed long batches as one (empty parts are dropped)."""
    kept = [p for p in parts if len(p.meter)]
    if len(kept) <= 1:
        return kept[0] if kept else parts[-1]
    parts = kept
    return _Parsed(
        meter=pa.concat_arrays([p.meter for p in parts]),
        date=parts[-1].date,
        seconds=np.concatenate([p.seconds for p in parts]),
        values=[
            pa.concat_arrays([p.values[k] for p in parts]) for k in range(len(parts[0].values))
        ],
    )


def _split_last_day(parsed: _Parsed) -> tuple[_Parsed, _Parsed]:
    """(everything but the readings of the batch's last meter-day, those readings)."""
    n = len(parsed.meter)
    if n == 0:
        return parsed, parsed
    last_meter = parsed.meter[n - 1].as_py()
    day = parsed.seconds // _DAY_SECONDS
    same_meter = np.asarray(
        pc.equal(parsed.meter, last_meter).fill_null(False).to_numpy(zero_copy_only=False),
        dtype=np.bool_,
    )
    tail = same_meter & (day == day[n - 1])
    return _take(parsed, np.flatnonzero(~tail)), _take(parsed, np.flatnonzero(tail))


def _pivot(parsed: _Parsed, plan: _Plan, interval: int) -> Any:
    """Wide rows of a batch of a long file; the n-th repeat of a reading goes to the n-th row."""
    n = len(parsed.meter)
    if n == 0:
        return None
    encoded = pc.dictionary_encode(parsed.meter)
    meter_index = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    day = parsed.seconds // _DAY_SECONDS
    slot = (parsed.seconds % _DAY_SECONDS) // _SLOT_SECONDS
    first_day = int(day.min())
    meter_day = meter_index * (int(day.max()) - first_day + 1) + (day - first_day)
    order = np.lexsort((slot, meter_day))
    reading = meter_day[order] * SLOTS_PER_DAY + slot[order]
    starts = np.r_[True, reading[1:] != reading[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    repeat = np.empty(n, np.int64)
    repeat[order] = np.arange(n) - group_start
    keys = meter_day * (int(repeat.max()) + 1) + repeat
    rows, first_of_row, row_of = np.unique(keys, return_index=True, return_inverse=True)
    row_of = row_of.reshape(-1)
    width = interval // 15
    value_array = parsed.values[0]
    values = np.asarray(
        pc.fill_null(value_array, 0).to_numpy(zero_copy_only=False), dtype=np.float32
    )
    if plan.value == "energy_kwh":
        values = values / np.float32(interval / 60)
    present = ~np.asarray(value_array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    grid = np.full((SLOTS_PER_DAY, len(rows)), np.nan, np.float32)
    filled = np.zeros((SLOTS_PER_DAY, len(rows)), np.bool_)
    for step in range(width):
        grid[slot + step, row_of] = values
        filled[slot + step, row_of] = present
    meters = parsed.meter.take(pa.array(first_of_row))
    days = pa.array(day[first_of_row].astype(np.int32)).cast(pa.date32())
    slots = [pa.array(grid[i], mask=~filled[i]) for i in range(SLOTS_PER_DAY)]
    return pa.RecordBatch.from_arrays([meters, days, *slots], schema=READINGS_SCHEMA)


def _sliced(batch: Any, rows: int) -> Iterator[Any]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


# --------------------------------------------------------------------------- sources


def _unique(problems: Iterable[InputProblem]) -> list[InputProblem]:
    return list(dict.fromkeys(problems))


def _chunk_problems(
    rows: Sequence[int], raw: Mapping[str, Any], plan: _Plan, interval: int | None
) -> list[InputProblem]:
    parsed = _parse(raw, plan)
    issues = list(parsed.issues)
    if plan.layout is _Layout.LONG and interval is not None:
        issues += _grid_issues(parsed, raw, interval)
    return [
        InputProblem(rows[index] if index >= 0 else None, plan.header(column), reason)
        for index, column, reason in sorted(issues, key=lambda issue: issue[0])
    ]


class _Source(ABC):
    """A meter file opened for reading: batches fast, and the slow scan that names bad cells."""

    path: Path | str
    plan: _Plan

    @abstractmethod
    def raw_batches(self, batch_rows: int) -> _Batches:
        """(index of the first data record, the needed columns by canonical name) per batch."""

    @abstractmethod
    def scan(self, interval: int | None, start: int) -> list[InputProblem]:
        """The problems (up to :data:`MAX_PROBLEMS` and one more) from data record ``start`` on,
        with exact rows; the records before ``start`` passed the fast checks already."""

    def failure(
        self,
        interval: int | None,
        start: int,
        message: str | None,
        found: Sequence[tuple[int, Issue]] = (),
    ) -> InputFileError:
        problems = self.scan(interval, start)
        if not problems:  # the careful scan disagrees with the fast one: say what we know
            problems = [
                InputProblem(None, self.plan.header(column), f"data record {offset + i + 1}: {why}")
                for offset, (i, column, why) in found
            ]
        if not problems:
            problems = [InputProblem(None, None, f"cannot be read: {message}")]
        problems.sort(key=lambda p: p.row if p.row is not None else 0)
        if len(problems) > MAX_PROBLEMS:
            note = f"… and more; only the first {MAX_PROBLEMS} problems are listed"
            problems = [*problems[:MAX_PROBLEMS], InputProblem(None, None, note)]
        return InputFileError(self.path, problems)


@dataclass(frozen=True)
class _CsvText:
    """A CSV file's encoding, delimiter and header, sniffed from its first bytes."""

    path: Path
    encoding: str  # a Python codec: utf-8-sig or gb18030
    delimiter: str
    headers: tuple[str, ...]

    @property
    def compressed(self) -> bool:
        return self.path.name.lower().endswith(".gz")

    def open_text(self) -> IO[str]:
        if self.compressed:
            return gzip.open(self.path, "rt", encoding=self.encoding, newline="")
        return open(self.path, encoding=self.encoding, newline="")

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of every data record; blank lines are skipped, as pyarrow does."""
        with self.open_text() as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)
            line = reader.line_num
            for cells in reader:
                row, line = line + 1, reader.line_num
                if cells:
                    yield row, cells


def _sniff_csv(path: Path) -> _CsvText:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        else:
            with open(path, "rb") as handle:
                head = handle.read(_SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise _file_problem(path, f"cannot be read ({error})") from None
    complete = len(head) < _SNIFF_BYTES
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"
    text = head.decode(encoding, errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        reason = "is empty" if not text.strip() else "line 1 is empty; the header must be on line 1"
        raise _file_problem(path, reason)
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    headers = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    return _CsvText(path, encoding, delimiter, tuple(h.strip() for h in headers))


class _CsvSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = _sniff_csv(path)
        self.plan = _plan_readings(path, self.text.headers)

    def raw_batches(self, batch_rows: int) -> _Batches:
        plan = self.plan
        names = [f"c{i}" for i in range(len(self.text.headers))]
        wanted = {c: names[plan.positions[c]] for c in plan.needed}
        types = {name: pa.string() for name in wanted.values()}
        types.update({wanted[c]: pa.float32() for c in plan.numbers})
        block = min(max(batch_rows * 12 * len(names), 1 << 16), 1 << 27)
        read = pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            block_size=block,
            encoding="utf8" if self.text.encoding.startswith("utf") else self.text.encoding,
        )
        parse = pacsv.ParseOptions(delimiter=self.text.delimiter)
        convert = pacsv.ConvertOptions(
            column_types=types,
            include_columns=list(wanted.values()),
            null_values=_CSV_NULLS,
            strings_can_be_null=False,
        )
        compression = "gzip" if self.text.compressed else None
        with pa.input_stream(str(self.path), compression=compression) as stream:
            reader = pacsv.open_csv(
                stream, read_options=read, parse_options=parse, convert_options=convert
            )
            offset = 0
            for block_batch in reader:
                for batch in _sliced(block_batch, batch_rows):
                    yield offset, {c: batch.column(name) for c, name in wanted.items()}
                    offset += batch.num_rows

    def scan(self, interval: int | None, start: int) -> list[InputProblem]:
        plan = self.plan
        width = len(self.text.headers)
        columns = [(c, plan.positions[c]) for c in plan.needed]
        problems: list[InputProblem] = []
        rows: list[int] = []
        records: list[list[str]] = []

        def check() -> None:
            raw = {c: pa.array([r[p] for r in records], pa.string()) for c, p in columns}
            problems.extend(_chunk_problems(rows, raw, plan, interval))
            rows.clear()
            records.clear()

        try:
            for record, (row, cells) in enumerate(self.text.records()):
                if record < start:
                    continue
                if len(cells) != width:
                    problems.append(
                        InputProblem(row, None, f"has {len(cells)} cells; the header has {width}")
                    )
                else:
                    rows.append(row)
                    records.append(cells)
                if len(records) >= 8192:
                    check()
                if len(problems) > MAX_PROBLEMS:
                    break
            if records and len(problems) <= MAX_PROBLEMS:
                check()
        except UnicodeDecodeError as error:
            name = "UTF-8" if self.text.encoding.startswith("utf") else "GB18030"
            reason = f"is not valid {name} text ({error.reason}); save it as UTF-8"
            problems.append(InputProblem(None, None, reason))
        except (OSError, EOFError, csv.Error) as error:
            problems.append(InputProblem(None, None, f"cannot be read ({error})"))
        return _unique(problems)


class _ParquetSource(_Source):
    """A Parquet file on the local disk, or on any Arrow filesystem (``filesystem``: HDFS, S3 …,
    ``path`` then being the filesystem's path and ``shown`` what errors call the file).

    ``row_groups`` = ``(first, stop)`` reads only those row groups; rows keep their numbers in
    the whole file, so an error names the same row either way."""

    def __init__(
        self,
        path: Path | str,
        *,
        filesystem: Any = None,
        row_groups: tuple[int, int] | None = None,
        shown: str | None = None,
    ) -> None:
        self.path: Path | str = shown if shown is not None else Path(path)
        self._location = path
        self._filesystem = filesystem
        self._row_groups = row_groups
        try:
            with self._open() as handle:
                headers = tuple(handle.schema_arrow.names)
                self._skipped = 0
                self._groups: list[int] | None = None
                if row_groups is not None:
                    first, stop = row_groups
                    if not 0 <= first <= stop <= handle.num_row_groups:
                        raise _file_problem(
                            self.path,
                            f"has {handle.num_row_groups} row groups, not {first} … {stop - 1}",
                        )
                    meta = handle.metadata
                    self._skipped = sum(meta.row_group(g).num_rows for g in range(first))
                    self._groups = list(range(first, stop))
        except (OSError, pa.ArrowException) as error:
            raise _file_problem(self.path, f"is not a readable Parquet file ({error})") from None
        self.plan = _plan_readings(self.path, headers)

    def _open(self, **options: Any) -> pq.ParquetFile:
        if self._filesystem is None:
            return pq.ParquetFile(self._location, **options)
        return pq.ParquetFile(self._filesystem.open_input_file(str(self._location)), **options)

    def raw_batches(self, batch_rows: int) -> _Batches:
        plan = self.plan
        wanted = {c: plan.headers[plan.positions[c]] for c in plan.needed}
        # Row groups are read one after the other: without pre-buffering, Arrow reads each
        # column chunk as it decodes it, and the scan's memory stays flat (pre-buffering held
        # about the whole file, 1.8 GB for 100,000 meters × 28 days, and was slower).
        with self._open(pre_buffer=False) as handle:
            offset = self._skipped
            for batch in handle.iter_batches(
                batch_size=batch_rows, columns=list(wanted.values()), row_groups=self._groups
            ):
                yield offset, {c: batch.column(name) for c, name in wanted.items()}
                offset += batch.num_rows

    def scan(self, interval: int | None, start: int) -> list[InputProblem]:
        problems: list[InputProblem] = []
        try:
            for offset, raw in self.raw_batches(65_536):
                if offset + len(raw["meter_id"]) <= start:
                    continue
                rows = range(offset + 2, offset + 2 + len(raw["meter_id"]))
                problems.extend(_chunk_problems(rows, raw, self.plan, interval))
                if len(problems) > MAX_PROBLEMS:
                    break
        except (OSError, pa.ArrowException) as error:
            problems.append(InputProblem(None, None, f"cannot be read ({error})"))
        return _unique(problems)


# --------------------------------------------------------------------------- meter readings


def iter_readings(
    spec: str | Path | Sequence[str | Path], *, batch_rows: int = 65_536
) -> Iterator[Any]:
    """Stream the load curves in ``spec`` (see :func:`expand_locations`: local files, globs and
    folders, or URIs such as ``s3://…``) as READINGS_SCHEMA batches.

    Files are read one after the other, each in batches of at most ``batch_rows`` input rows
    (Parquet row groups via ``iter_batches``, CSV via pyarrow's streaming reader); a yielded
    batch never holds more than ``batch_rows`` rows. Values are not cleaned: negative or huge
    numbers and NaN pass through, empty cells (and ``NULL``, ``NA``, ``-`` …) become null, and a
    meter-day given twice comes out twice.

    Long files are pivoted batch by batch, so one (meter_id, date) may come out in several rows
    (when its readings straddle a batch boundary, or when the file repeats a timestamp: the
    n-th repeat goes to the n-th row); every other slot of such a row is null. Consumers merge
    or deduplicate by (meter_id, date), as they must for repeated meter-days anyway.

    **Errors while streaming.** A file's header is checked before anything of it is yielded;
    its cells are checked batch by batch, so a bad cell deep in a file raises
    :class:`InputFileError` *after* the batches before it (and earlier files) were yielded,
    despite the error's "nothing was imported" wording. The error names the exact row (the
    header is row 1; Parquet rows are counted the same way) and column of up to
    :data:`MAX_PROBLEMS` problems: on the first bad batch the file is scanned again cell by cell
    to find them. Callers that need all-or-nothing must collect the batches before using them.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    for location in expand_locations(spec):
        if locations.is_uri(location):
            yield from iter_reading_part(ReadingPart(location, None, -1), batch_rows=batch_rows)
        else:
            yield from _read_file(Path(location), batch_rows)


@dataclass(frozen=True)
class ReadingPart:
    """A piece of one readings file that a cluster task reads on its own."""

    location: str
    """The file: a local path or a URI (see :mod:`minewatch.ingest.locations`)."""
    row_groups: tuple[int, int] | None
    """Parquet row groups ``first … stop - 1``; ``None``: the whole file."""
    rows: int
    """Data rows in the part; -1 where unknown before reading (CSV)."""


def expand_locations(spec: str | Path | Sequence[str | Path]) -> list[str]:
    """The input files (readings, archives) named by ``spec``, as :func:`expand_inputs` names
    them, where a URI (``hdfs://…``, ``s3://…``) is listed on its own filesystem."""
    items: list[str | Path] = [spec] if isinstance(spec, str | Path) else list(spec)
    found: list[str] = []
    for item in items:
        if locations.is_uri(item):
            found.extend(locations.expand_uri(str(item), READING_SUFFIXES))
        else:
            found.extend(str(path) for path in expand_inputs(item))
    if not found:
        raise _file_problem("(inputs)", "no input file was given")
    return list(dict.fromkeys(found))


def _parquet_source(location: str, row_groups: tuple[int, int] | None = None) -> _ParquetSource:
    if locations.is_uri(location):
        filesystem, path = locations.resolve(location)
        return _ParquetSource(path, filesystem=filesystem, row_groups=row_groups, shown=location)
    return _ParquetSource(location, row_groups=row_groups)


def reading_parts(location: str, rows_per_part: int) -> list[ReadingPart]:
    """Split one readings file into parts of about ``rows_per_part`` rows, at row-group
    boundaries. Only wide and hourly Parquet files split (each row is a whole meter-day); a
    long file keeps its meter-days across row groups and, like a CSV file, is one part.
    The file's header is checked here: a malformed one raises :class:`InputFileError`."""
    if rows_per_part < 1:
        raise ValueError("rows_per_part must be at least 1")
    kind = _format_of(Path(location))
    if kind is None:
        raise _file_problem(location, "is not a .csv, .csv.gz, .parquet or .pq file")
    if kind == "csv":
        return [ReadingPart(location, None, -1)]
    source = _parquet_source(location)
    with source._open() as handle:
        meta = handle.metadata
        sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    if source.plan.layout is _Layout.LONG or not sizes:
        return [ReadingPart(location, None, sum(sizes))]
    parts: list[ReadingPart] = []
    first, rows = 0, 0
    for group, size in enumerate(sizes):
        rows += size
        if rows >= rows_per_part or group == len(sizes) - 1:
            parts.append(ReadingPart(location, (first, group + 1), rows))
            first, rows = group + 1, 0
    return parts


def iter_reading_part(part: ReadingPart, *, batch_rows: int = 65_536) -> Iterator[Any]:
    """Stream one part (see :func:`reading_parts`) as READINGS_SCHEMA batches, checked as
    :func:`iter_readings` checks a whole file; errors name the file and its row."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if _format_of(Path(part.location)) == "parquet":
        yield from _read_source(_parquet_source(part.location, part.row_groups), batch_rows)
        return
    with locations.local_copy(part.location) as path:
        yield from _read_file(path, batch_rows)


def reading_days(part: ReadingPart, *, batch_rows: int = 65_536) -> tuple[date, date] | None:
    """The first and last day of one part's readings (``None`` when it has no rows).

    A wide or hourly Parquet part is read for its date column alone (a few per cent of the
    file); other parts are read whole. A date that cannot be read raises the error a full read
    would raise."""
    low: int | None = None
    high: int | None = None

    def widen(days: Any) -> None:
        nonlocal low, high
        if len(days) == 0 or days.null_count == len(days):
            return
        first, last = (v.as_py() for v in pc.min_max(days.cast(pa.int32())).values())
        low = first if low is None else min(low, first)
        high = last if high is None else max(high, last)

    source = (
        _parquet_source(part.location, part.row_groups)
        if _format_of(Path(part.location)) == "parquet"
        else None
    )
    if source is None or source.plan.layout is _Layout.LONG:
        for batch in iter_reading_part(part, batch_rows=batch_rows):
            widen(batch.column("date"))
    else:
        column = source.plan.headers[source.plan.positions["date"]]
        with source._open(pre_buffer=False) as handle:
            offset = source._skipped
            for batch in handle.iter_batches(
                batch_size=batch_rows, columns=[column], row_groups=source._groups
            ):
                dates, bad, _ = _parse_dates(batch.column(0))
                if bad.any():
                    raise source.failure(None, offset, None)
                widen(dates)
                offset += batch.num_rows
    if low is None or high is None:
        return None
    epoch = date(1970, 1, 1).toordinal()
    return date.fromordinal(epoch + low), date.fromordinal(epoch + high)


@dataclass(frozen=True)
class TableColumns:
    """Where a table's load-curve columns are: for readings kept in a database table (a Hive
    table of a grid company's metering platform), recognised from its column names as a file's
    header is, in the wide or hourly layout."""

    name: str
    """The table, as errors name it."""
    columns: dict[str, str]
    """The table's column for each canonical column needed (``meter_id``, ``date``, slots)."""
    plan: _Plan
    """How its batches are parsed (the layout, wide or hourly), decided once."""


def table_columns(name: str, columns: Sequence[str]) -> TableColumns:
    """Recognise a readings table from its column names (raises :class:`InputFileError`
    naming the missing ones). A long table (one reading per row) is refused: its meter-days
    would have to be gathered across rows first."""
    plan = _plan_readings(name, columns)
    if plan.layout is _Layout.LONG:
        raise _file_problem(
            name, "holds one reading per row (long layout); a table needs p001 … p096 or h01 … h24"
        )
    wanted = {c: plan.headers[plan.positions[c]] for c in plan.needed}
    return TableColumns(name, wanted, plan)


def table_readings(batch: Any, table: TableColumns) -> Any:
    """One batch of a readings table (its columns named as :attr:`TableColumns.columns` says)
    as READINGS_SCHEMA, checked as a file is; a table has no row numbers, so a problem names
    the meter and the date of its row."""
    plan = table.plan
    raw = {c: batch.column(name) for c, name in table.columns.items()}
    parsed = _parse(raw, plan)
    if parsed.issues:
        meters, dates = raw["meter_id"], raw["date"]
        problems = [
            InputProblem(
                None,
                plan.header(column),
                f"meter {_shown(meters, index)} on {_shown(dates, index)}: {reason}"
                if index >= 0
                else reason,
            )
            for index, column, reason in parsed.issues[:MAX_PROBLEMS]
        ]
        raise InputFileError(table.name, problems)
    return _wide_batch(parsed, plan)


def table_days(batch: Any, table: TableColumns) -> tuple[int, int] | None:
    """The first and last day (days since 1970-01-01) of one batch of a readings table, its
    dates alone read; a date that cannot be read names its meter."""
    dates, bad, empty = _parse_dates(batch.column(table.columns["date"]))
    if bad.any():
        meters, raw = batch.column(table.columns["meter_id"]), batch.column(table.columns["date"])
        problems = [
            InputProblem(
                None,
                table.columns["date"],
                f"meter {_shown(meters, i)}: "
                + ("date is empty" if empty[i] else f"{_shown(raw, i)} is not a date"),
            )
            for i in np.flatnonzero(bad)[:MAX_PROBLEMS].tolist()
        ]
        raise InputFileError(table.name, problems)
    if len(dates) == 0:
        return None
    low, high = pc.min_max(dates.cast(pa.int32())).values()
    return int(low.as_py()), int(high.as_py())


def _read_file(path: Path, batch_rows: int) -> Iterator[Any]:
    kind = _format_of(path)
    if kind is None:
        raise _file_problem(path, "is not a .csv, .csv.gz, .parquet or .pq file")
    source: _Source = _CsvSource(path) if kind == "csv" else _ParquetSource(path)
    yield from _read_source(source, batch_rows)


def _read_source(source: _Source, batch_rows: int) -> Iterator[Any]:
    plan = source.plan
    interval: int | None = None
    pending: list[tuple[int, _Parsed, Mapping[str, Any]]] = []
    times: set[int] = set()
    checked = 0  # data records that passed the fast checks

    carried: list[_Parsed] = []  # the last meter-day of the previous batch, held back

    def emit(offset: int, parsed: _Parsed, raw: Mapping[str, Any]) -> Iterator[Any]:
        assert interval is not None
        found = _grid_issues(parsed, raw, interval)
        if found:
            raise source.failure(interval, offset, None, [(offset, i) for i in found])
        # A meter-day may straddle two batches (exports sorted by meter and time): its
        # readings are held back and pivoted with the next batch, so it stays one row.
        whole = _joined([*carried, parsed])
        head, tail = _split_last_day(whole)
        carried[:] = [tail]
        batch = _pivot(head, plan, interval)
        if batch is not None:
            yield from _sliced(batch, batch_rows)

    def flush() -> Iterator[Any]:
        assert interval is not None
        if carried:
            batch = _pivot(carried.pop(), plan, interval)
            if batch is not None:
                yield from _sliced(batch, batch_rows)

    with contextlib.closing(source.raw_batches(batch_rows)) as batches:
        while True:
            try:
                item = next(batches, None)
            except (pa.ArrowException, UnicodeError, OSError, EOFError) as error:
                raise source.failure(interval, checked, str(error)) from None
            if item is None:
                break
            offset, raw = item
            parsed = _parse(raw, plan)
            if parsed.issues:
                raise source.failure(interval, offset, None, [(offset, i) for i in parsed.issues])
            checked = offset + len(parsed.meter)
            if plan.layout is not _Layout.LONG:
                yield from _sliced(_wide_batch(parsed, plan), batch_rows)
            elif interval is not None:
                yield from emit(offset, parsed, raw)
            else:
                pending.append((offset, parsed, raw))
                times.update(np.unique(parsed.seconds % _DAY_SECONDS)[:2].tolist())
                if len(times) >= 2 or len(pending) >= _PENDING_LIMIT:
                    interval = _infer_interval(p for _, p, _ in pending)
                    for kept in pending:
                        yield from emit(*kept)
                    pending.clear()
    if pending:
        interval = _infer_interval(p for _, p, _ in pending)
        for kept in pending:
            yield from emit(*kept)
    if interval is not None:
        yield from flush()


# --------------------------------------------------------------------------- small tables


class _CellError(ValueError):
    """A cell that cannot be read; the message is the reason."""


def _xlsx_records(path: Path) -> tuple[tuple[str, ...], list[tuple[int, list[Any]]]]:
    """The first sheet of a workbook: its first row as the header, then every row that holds
    anything, numbered as Excel shows it."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as error:
        raise _file_problem(path, f"is not a readable .xlsx workbook ({error})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise _file_problem(path, "the first sheet is empty")
        width = max((i + 1 for i, v in enumerate(header) if v not in (None, "")), default=0)
        headers = tuple("" if v is None else str(v) for v in header[:width])
        records = []
        for number, values in enumerate(rows, start=2):
            cells = list(values[:width]) + [None] * (width - len(values[:width]))
            if any(v not in (None, "") for v in cells):
                records.append((number, cells))
        return headers, records
    finally:
        book.close()


def _table_records(path: Path) -> tuple[tuple[str, ...], list[tuple[int, list[Any]]]]:
    """The header and the (row number, cells) of a whole CSV, Parquet or .xlsx file."""
    kind = _format_of(path)
    if not path.is_file():
        raise _file_problem(path, "file not found" if not path.exists() else "is not a file")
    if path.suffix.lower() == ".xlsx":
        return _xlsx_records(path)
    if kind is None:
        raise _file_problem(path, "is not a .csv, .csv.gz, .parquet, .pq or .xlsx file")
    try:
        if kind == "csv":
            text = _sniff_csv(path)
            return text.headers, list(text.records())
        with pq.ParquetFile(path) as handle:
            names = tuple(handle.schema_arrow.names)
            records: list[tuple[int, list[Any]]] = []
            for batch in handle.iter_batches(batch_size=65_536):
                for values in batch.to_pylist():
                    records.append((len(records) + 2, [values[n] for n in names]))
            return names, records
    except UnicodeDecodeError as error:
        raise _file_problem(path, f"is not UTF-8 or GB18030 text ({error.reason})") from None
    except (OSError, EOFError, csv.Error, pa.ArrowException) as error:
        raise _file_problem(path, f"cannot be read ({error})") from None


def _map_columns(
    path: Path, headers: Sequence[str], index: Mapping[str, str], required: Sequence[str]
) -> dict[str, int]:
    positions, problems = _header_positions(headers, lambda text: index.get(_header_key(text)))
    problems.extend(
        InputProblem(1, key, "required column is missing")
        for key in required
        if key not in positions
    )
    if problems:
        raise InputFileError(path, problems)
    return positions


def _cell_text(value: object, normalise: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value)
    if normalise:
        text = unicodedata.normalize("NFKC", text)
    return text.strip() or None


_UNIT_SUFFIX = re.compile(r"(?i)\s*(?:kva|kv|千伏安|千伏|°c|℃)$")


def _cell_number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _CellError(f"expected a number, found {value}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        text = _UNIT_SUFFIX.sub("", text)
        if text in _CSV_NULLS:
            return None
        try:
            number = float(text)
        except ValueError:
            raise _CellError(f"{str(value).strip()!r} is not a number") from None
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise _CellError(f"{value!r} is not a finite number")
    return number


def _cell_date(value: object) -> date | None:
    try:
        return parse_day(value)
    except ValueError as error:
        raise _CellError(f"{error} ({_DATE_HINT})") from None


@dataclass
class _Rows:
    """Collects the problems of a small table while its rows are read."""

    path: Path
    headers: Sequence[str]
    positions: Mapping[str, int]
    problems: list[InputProblem] = field(default_factory=list)
    warnings: list[InputProblem] = field(default_factory=list)

    def header(self, key: str) -> str:
        return str(self.headers[self.positions[key]]).strip() or key

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.positions.get(key)
        return cells[position] if position is not None and position < len(cells) else None

    def column(self, records: Sequence[tuple[int, Sequence[Any]]], key: str) -> list[Any]:
        """The cells of ``key`` in every record (None where the file has no such column)."""
        position = self.positions.get(key)
        if position is None:
            return [None] * len(records)
        return [cells[position] for _, cells in records]

    def parse(
        self,
        rows: Sequence[int],
        values: Sequence[Any],
        key: str,
        parse: Callable[[Any], Any],
        warn: bool = False,
    ) -> list[Any]:
        """``parse`` each value, once per distinct value; a value it refuses becomes None and a
        problem (or, with ``warn``, a warning) at its row."""
        seen: dict[tuple[type, Any], tuple[bool, Any]] = {}
        out: list[Any] = []
        found = self.warnings if warn else self.problems
        for row, value in zip(rows, values, strict=True):
            memo = (type(value), value)
            outcome = seen.get(memo)
            if outcome is None:
                try:
                    outcome = (True, parse(value))
                except _CellError as error:
                    outcome = (False, str(error))
                seen[memo] = outcome
            ok, result = outcome
            if ok:
                out.append(result)
            else:
                found.append(InputProblem(row, self.header(key), result))
                out.append(None)
        return out

    def get(self, row: int, cells: Sequence[Any], key: str, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.cell(cells, key))
        except _CellError as error:
            self.problems.append(InputProblem(row, self.header(key), str(error)))
            return None

    def shape(self, row: int, cells: Sequence[Any]) -> bool:
        if len(cells) == len(self.headers):
            return True
        reason = f"has {len(cells)} cells; the header has {len(self.headers)}"
        self.problems.append(InputProblem(row, None, reason))
        return False

    def raise_problems(self) -> None:
        if self.problems:
            self.problems.sort(key=lambda p: p.row or 0)
            raise InputFileError(self.path, _capped_exact(self.problems))


def _capped_exact(problems: list[InputProblem]) -> list[InputProblem]:
    if len(problems) <= _MAX_TABLE_PROBLEMS:
        return problems
    rest = len(problems) - _MAX_TABLE_PROBLEMS
    return [*problems[:_MAX_TABLE_PROBLEMS], InputProblem(None, None, f"… and {rest} more")]


_CUSTOMER_ALIASES: dict[str, tuple[str, ...]] = {
    "meter_id": _READING_ALIASES["meter_id"],
    "account_no": ("户号", "用电户号", "客户编号", "用户编号"),
    "customer_name": ("户名", "客户名称", "用户名称", "用电户名"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码"),
    "address": ("地址", "用电地址"),
    "region_code": ("行政区划代码", "区划代码"),
    "tariff_class": ("电价类别", "用电类别", "电价类型"),
    "contract_kva": ("合同容量", "合同容量(kVA)", "报装容量", "报装容量(kVA)"),
    "voltage_kv": ("电压等级", "电压等级(kV)", "供电电压(kV)"),
}
_CUSTOMER_INDEX = _alias_index(_CUSTOMER_ALIASES)

_TARIFF_LABELS: dict[TariffClass, tuple[str, ...]] = {
    TariffClass.RESIDENTIAL: ("居民", "居民生活", "居民生活用电", "城乡居民生活用电"),
    TariffClass.COMMERCIAL: ("一般工商业", "商业", "一般工商业用电", "工商业"),
    TariffClass.INDUSTRIAL: ("大工业", "工业", "大工业用电"),
    TariffClass.AGRICULTURAL: ("农业", "农业生产", "农业生产用电"),
}
_TARIFF_INDEX = {
    _header_key(name): tariff
    for tariff, labels in _TARIFF_LABELS.items()
    for name in (tariff.value, *labels)
}


def _tariff(value: object) -> str | None:
    text = _cell_text(value, normalise=True)
    if text is None:
        return None
    tariff = _TARIFF_INDEX.get(_header_key(text))
    if tariff is None:
        choices = "、".join(labels[0] for labels in _TARIFF_LABELS.values())
        english = ", ".join(t.value for t in TariffClass)
        raise _CellError(f"{text!r} is not a tariff class ({choices}; or {english})")
    return tariff.value


def _capacity(value: object) -> float | None:
    number = _cell_number(value)
    if number is not None and number < 0:
        raise _CellError(f"{number:g} is negative")
    return number


def read_customers(path: Path | str) -> tuple[Any, list[InputProblem]]:
    """Read a customer archive (CSV or Parquet) as CUSTOMERS_SCHEMA, with its warnings.

    Errors — an empty or repeated meter_id, an unknown tariff class, a capacity or voltage that
    is not a non-negative number, a row with the wrong number of cells — are all collected and
    raised as one :class:`InputFileError` (up to 100 listed). An invalid credit code or an
    unknown region code is only a warning (grid archives are messy): the value is set to null and
    the warning, with its row and column, is returned next to the table. Tariff classes may be
    written in English or as the Chinese labels (居民, 一般工商业, 大工业, 农业 …).
    """
    path = Path(path)
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _CUSTOMER_INDEX, ("meter_id",))
    rows = _Rows(path, headers, positions)
    kept = [(row, cells) for row, cells in records if rows.shape(row, cells)]
    numbers = [row for row, _ in kept]
    # Column by column; each distinct cell is parsed once (archives repeat tariffs, regions,
    # capacities and voltages on most rows).
    cells = {key: rows.column(kept, key) for key in CUSTOMERS_SCHEMA.names}
    meters = [_cell_text(value, normalise=True) for value in cells["meter_id"]]
    first_row: dict[str, int] = {}
    for row, meter in zip(numbers, meters, strict=True):
        if meter is None:
            rows.problems.append(InputProblem(row, rows.header("meter_id"), "meter_id is empty"))
        elif meter in first_row:
            reason = f"{meter} is already given in row {first_row[meter]}"
            rows.problems.append(InputProblem(row, rows.header("meter_id"), reason))
        else:
            first_row[meter] = row
    columns: dict[str, list[Any]] = {
        "meter_id": meters,
        "account_no": [_cell_text(v, normalise=True) for v in cells["account_no"]],
        "customer_name": [_cell_text(v) for v in cells["customer_name"]],
        "uscc": rows.parse(numbers, cells["uscc"], "uscc", _credit_code, warn=True),
        "address": [_cell_text(v) for v in cells["address"]],
        "region_code": rows.parse(numbers, cells["region_code"], "region_code", _region, warn=True),
        "tariff_class": rows.parse(numbers, cells["tariff_class"], "tariff_class", _tariff),
        "contract_kva": rows.parse(numbers, cells["contract_kva"], "contract_kva", _capacity),
        "voltage_kv": rows.parse(numbers, cells["voltage_kv"], "voltage_kv", _capacity),
    }
    rows.raise_problems()
    rows.warnings.sort(key=lambda w: w.row or 0)
    return pa.table(columns, schema=CUSTOMERS_SCHEMA), rows.warnings


def _uscc_cell(value: object) -> str | None:
    """A valid unified social credit code, or None when empty; an invalid one is a cell error
    (the small tables of allocations and plants refuse it)."""
    text = _cell_text(value, normalise=True)
    if text is None:
        return None
    try:
        return credit_code.validate(text)
    except credit_code.InvalidCreditCodeError as error:
        raise _CellError(str(error)) from None


def _region_cell(value: object) -> str | None:
    """A GB/T 2260 region code, current or retired, or None when empty; else a cell error."""
    text = _cell_text(value, normalise=True)
    if text is not None and not regions.is_valid_code(text, include_retired=True):
        raise _CellError(f"{text!r} is not a GB/T 2260 region code")
    return text


def _credit_code(value: object) -> str | None:
    """A valid unified social credit code, or None; an invalid one is a warning, not kept."""
    text = _cell_text(value, normalise=True)
    if text is None:
        return None
    try:
        return credit_code.validate(text)
    except credit_code.InvalidCreditCodeError as error:
        raise _CellError(f"{error}; not kept") from None


def _region(value: object) -> str | None:
    """A GB/T 2260 region code, or None; an unknown one is a warning, not kept."""
    text = _cell_text(value, normalise=True)
    if text is not None and regions.find(text) is None:
        raise _CellError(f"{text!r} is not a GB/T 2260 region code; not kept")
    return text


_WEATHER_ALIASES: dict[str, tuple[str, ...]] = {
    "region_code": ("区划代码", "行政区划代码"),
    "date": ("日期", "数据日期"),
    "temp_mean_c": ("日平均气温", "平均气温", "日平均气温(℃)", "平均气温(℃)", "平均气温(°C)"),
}
_WEATHER_INDEX = _alias_index(_WEATHER_ALIASES)
TEMPERATURE_RANGE_C = (-60.0, 60.0)


def _temperature(value: object) -> float | None:
    number = _cell_number(value)
    low, high = TEMPERATURE_RANGE_C
    if number is not None and not low <= number <= high:
        raise _CellError(f"{number:g} °C is outside {low:g} … {high:g} °C")
    return number


def read_weather(path: Path | str) -> Any:
    """Read daily mean temperatures per region (CSV or Parquet) as WEATHER_SCHEMA.

    region_code and date are required in every row; an empty temperature is null (a gap); a
    temperature that is not a number or lies outside −60 … 60 °C is an error. All errors are
    raised together as one :class:`InputFileError`.
    """
    path = Path(path)
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _WEATHER_INDEX, ("region_code", "date", "temp_mean_c"))
    rows = _Rows(path, headers, positions)
    columns: dict[str, list[Any]] = {name: [] for name in WEATHER_SCHEMA.names}
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        region = _cell_text(rows.cell(cells, "region_code"), normalise=True)
        if region is None:
            rows.problems.append(InputProblem(row, rows.header("region_code"), "is empty"))
        day = rows.get(row, cells, "date", _cell_date)
        if day is None and _cell_text(rows.cell(cells, "date")) is None:
            rows.problems.append(InputProblem(row, rows.header("date"), "is empty"))
        columns["region_code"].append(region)
        columns["date"].append(day)
        columns["temp_mean_c"].append(rows.get(row, cells, "temp_mean_c", _temperature))
    rows.raise_problems()
    return pa.table(columns, schema=WEATHER_SCHEMA)


# --------------------------------------------------------------------------- writing


def write_table(table: Any, path: Path | str) -> None:
    """Write ``table`` as ``.csv`` (UTF-8 with BOM, so Excel shows Chinese) or ``.parquet``/``.pq``.

    The file appears whole or not at all: it is written next to ``path`` and then renamed; on
    failure the temporary file is removed and an existing ``path`` is left untouched.
    """
    path = Path(path)
    name = path.name.lower()
    if not name.endswith((".csv", ".parquet", ".pq")):
        raise MineWatchError(f"{path}: cannot write this kind of file; use .csv or .parquet")
    tmp = path.with_name(f".{path.name}.part")
    try:
        if name.endswith(".csv"):
            with open(tmp, "wb") as handle:
                handle.write(codecs.BOM_UTF8)
                pacsv.write_csv(table, handle)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
