"""What the generation-side readers share: units written in headers and cells, plant ids, and a
CSV or Parquet file read column by column with the exact row of every problem.

Not a public module: :mod:`minewatch.ingest.plants` is. The small-table machinery (headers,
cells, rows) is the meter readers' own (:mod:`minewatch.ingest.meters`); this adds what the
plant, output, inflow and dispatch files need on top of it.

**Units in headers.** A header may carry its unit in brackets (``装机容量(MW)``,
``上网电量（MWh）``, ``入库流量[m³/s]``), after a slash (``出力/MW``), after an underscore
(``capacity_mw``, ``terminal_kwh``) or glued on (``装机容量kW``); full-width brackets and
symbols such as ``㎾`` or ``m³`` are read after NFKC normalisation. The units understood are
in :data:`UNITS`; a known column name with a unit that is not there, or a unit of the wrong
quantity (``装机容量(kWh)``), is a header problem.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.meters import (
    _CSV_NULLS,
    MAX_PROBLEMS,
    BoolArray,
    IntArray,
    _alias_index,
    _as_text,
    _capped,
    _cell_number,
    _CellError,
    _CsvText,
    _extract,
    _file_problem,
    _format_of,
    _header_key,
    _header_positions,
    _ints,
    _mask,
    _parse_dates,
    _parse_timestamps,
    _sniff_csv,
)
from minewatch.ingest.schemas import LOCAL_TZ_NAME

__all__: list[str] = []  # private to the plant readers


class Quantity(StrEnum):
    """What a unit measures; each is converted to one base unit."""

    ENERGY = "energy"  # → kWh
    POWER = "power"  # → kW
    FLOW = "flow"  # → m³/s
    RATIO = "ratio"  # → a fraction (0.03 for 3 %)


BASE_UNITS: dict[Quantity, str] = {
    Quantity.ENERGY: "kWh",
    Quantity.POWER: "kW",
    Quantity.FLOW: "m³/s",
    Quantity.RATIO: "fraction",
}

_UNIT_SPELLINGS: dict[tuple[Quantity, float], tuple[str, ...]] = {
    (Quantity.ENERGY, 1.0): ("kWh", "kW·h", "kW.h", "kW*h", "千瓦时", "千瓦·时", "度"),
    (Quantity.ENERGY, 1e3): ("MWh", "MW·h", "MW.h", "兆瓦时", "千千瓦时"),
    (Quantity.ENERGY, 1e4): ("万kWh", "万千瓦时", "万度", "万kW·h"),
    (Quantity.ENERGY, 1e6): ("GWh", "百万千瓦时"),
    (Quantity.POWER, 1.0): ("kW", "千瓦"),
    (Quantity.POWER, 1e3): ("MW", "兆瓦"),
    (Quantity.POWER, 1e4): ("万kW", "万千瓦"),
    (Quantity.FLOW, 1.0): ("m3/s", "m^3/s", "m3s", "cms", "立方米/秒", "立方米每秒", "米3/秒"),
    (Quantity.RATIO, 0.01): ("%", "百分比", "percent", "pct"),
}
UNITS: dict[str, tuple[Quantity, float]] = {
    _header_key(spelling): unit for unit, names in _UNIT_SPELLINGS.items() for spelling in names
}
"""Unit (as a header key: NFKC, no spaces, lower case) → (quantity, factor to the base unit)."""
_UNITS_LONGEST_FIRST = sorted(UNITS, key=len, reverse=True)


def unit_names(quantities: Collection[Quantity]) -> str:
    """The first spellings of the units of ``quantities``, for messages: ``kW, MW, 万kW``."""
    return ", ".join(
        names[0]
        for (quantity, _), names in _UNIT_SPELLINGS.items()
        if quantity in quantities and names[0] != "GWh"
    )


PLANT_ID_ALIASES: tuple[str, ...] = (
    "plant",
    "plant_code",
    "plant_no",
    "station_id",
    "电站编号",
    "电厂编号",
    "电站代码",
    "电厂代码",
    "电站ID",
    "电厂ID",
    "场站编号",
    "厂站编号",
    "发电厂编号",
    "电源编号",
)
"""Headers of the plant id column in every plant file."""

# --------------------------------------------------------------------------- headers with units

HeaderIndex = Mapping[str, tuple[str, Quantity | None]]
"""Header key → (canonical column, the quantity its name implies, if any)."""


def unit_index(
    aliases: Mapping[str, Sequence[str]], implied: Mapping[str, Quantity] | None = None
) -> dict[str, tuple[str, Quantity | None]]:
    """An alias index (as :func:`~minewatch.ingest.meters._alias_index` builds it) whose names
    may imply a quantity: ``implied`` maps a name (as written) to the quantity it says
    (``机端电量`` is energy, ``机端出力`` power)."""
    said = {_header_key(name): quantity for name, quantity in (implied or {}).items()}
    return {key: (canonical, said.get(key)) for key, canonical in _alias_index(aliases).items()}


@dataclass(frozen=True)
class Column:
    """One recognised column of a file."""

    key: str  # canonical name
    position: int
    header: str  # as the file writes it
    quantity: Quantity | None = None  # from the unit or the name; None: not said
    factor: float | None = None  # to the base unit, when the header gives a unit


_BRACKETED = re.compile(r"^(?P<base>.+?)[(\[【<](?P<unit>[^()\[\]【】<>]+)[)\]】>]$")
_SLASHED = re.compile(r"^(?P<base>[^/]+)/(?P<unit>.+)$")
_SUFFIXED = re.compile(r"^(?P<base>.+)_(?P<unit>[^_]+)$")


def _splits(key: str) -> Iterator[tuple[str, str | None]]:
    """The ways ``key`` may read as a name followed by a unit (the name alone first)."""
    yield key, None
    for pattern in (_BRACKETED, _SLASHED, _SUFFIXED):
        match = pattern.match(key)
        if match is not None:
            yield match["base"], match["unit"]
    for unit in _UNITS_LONGEST_FIRST:
        if key.endswith(unit) and len(key) > len(unit):
            yield key[: -len(unit)].rstrip("_-/"), unit


def resolve_header(
    text: str, index: HeaderIndex, measured: Collection[str] | None = None
) -> Column | str | None:
    """The column ``text`` names (position 0; the caller sets it), a reason when it names a
    known column with a unit that is not understood or contradicts the name, or ``None``.

    Only the columns in ``measured`` (all when ``None``) take a unit: another name with a
    suffix (``时间(北京时间)``) is not recognised.
    """
    refused: str | None = None
    for base, unit in _splits(_header_key(text)):
        known = index.get(base)
        if known is None:
            continue
        canonical, implied = known
        if unit is None:
            return Column(canonical, 0, text.strip(), implied)
        if measured is not None and canonical not in measured:
            continue
        found = UNITS.get(unit)
        if found is None:
            refused = refused or f"unit {unit!r} is not understood"
            continue
        quantity, factor = found
        if implied is not None and quantity is not implied:
            refused = refused or (
                f"the name says {implied.value} but {unit!r} is a unit of {quantity.value}"
            )
            continue
        return Column(canonical, 0, text.strip(), quantity, factor)
    return refused


def plan_headers(
    path: Path,
    headers: Sequence[str],
    index: HeaderIndex,
    *,
    required: Sequence[str] = (),
    allowed: Mapping[str, Collection[Quantity]] | None = None,
    extra: Callable[[str], str | None] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Column]:
    """The recognised columns of a file by canonical name; raises :class:`InputFileError` for
    header problems: a column given twice, a unit not understood or not ``allowed`` for its
    column, a ``required`` column missing (named with its Chinese aliases from ``aliases``).

    ``extra`` names columns the index does not hold (such as ``p001`` … ``p096``).
    """
    problems: list[InputProblem] = []
    resolved: dict[int, Column] = {}
    for position, text in enumerate(headers):
        found = resolve_header(str(text), index, tuple((allowed or {}).keys()))
        if isinstance(found, str):
            problems.append(InputProblem(1, str(text).strip(), found))
            continue
        if found is None and extra is not None:
            key = extra(str(text))
            found = Column(key, 0, str(text).strip()) if key is not None else None
        if found is None:
            continue
        ok = (allowed or {}).get(found.key)
        if found.quantity is not None and ok is not None and found.quantity not in ok:
            reason = f"is {found.quantity.value}; write {found.key} in {unit_names(ok)}"
            problems.append(InputProblem(1, str(text).strip(), reason))
            continue
        resolved[position] = Column(
            found.key, position, found.header or found.key, found.quantity, found.factor
        )
    keys = {str(headers[position]): column.key for position, column in resolved.items()}
    positions, repeated = _header_positions(headers, keys.get)
    problems.extend(repeated)
    for key in required:
        if key not in positions:
            names = "/".join(a for a in (aliases or {}).get(key, ()) if not a.isascii())
            also = f" (or {names})" if names else ""
            problems.append(InputProblem(1, key, f"required column is missing{also}"))
    if problems:
        raise InputFileError(path, _capped(problems))
    return {key: resolved[position] for key, position in positions.items()}


# --------------------------------------------------------------------------- cells


def text_of(value: object) -> str | None:
    """A cell as trimmed NFKC text (integers written without ``.0``); ``None`` when empty."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


_CELL_UNIT = re.compile(
    r"^(?P<number>[+-]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[^\d.,\s+-].*)$"
)


def quantity_cell(
    value: object,
    quantities: Collection[Quantity],
    column: Column,
    *,
    default_factor: float = 1.0,
) -> float | None:
    """A number in a base unit; the cell may carry its own unit (``5MW``, ``3%``), which wins
    over the header's. Raises :class:`~minewatch.ingest.meters._CellError` when it is not one,
    or its unit is not one of ``quantities``."""
    factor = column.factor if column.factor is not None else default_factor
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _CELL_UNIT.match(text)
        if match is not None:
            unit = _header_key(match["unit"])
            found = UNITS.get(unit)
            if found is None or found[0] not in quantities:
                raise _CellError(
                    f"{text!r}: {match['unit'].strip()!r} is not a unit of "
                    f"{'/'.join(q.value for q in quantities)} ({unit_names(quantities)})"
                )
            factor = found[1]
            value = match["number"]
    number = _cell_number(value)
    return None if number is None else number * factor


# --------------------------------------------------------------------------- plant ids


def nfkc(text: Any) -> Any:
    """A string array in NFKC form (left as it is when it is all ASCII, as it mostly is)."""
    if len(text) == 0 or pc.all(pc.string_is_ascii(text)).as_py() is not False:
        return text
    return pc.utf8_normalize(text, "NFKC")


def normalise_ids(array: Any) -> tuple[Any, BoolArray]:
    """Ids as trimmed NFKC strings (as :func:`text_of` writes them), and which are empty."""
    text = pc.utf8_trim_whitespace(nfkc(_as_text(array)))
    return text, ~_mask(pc.greater(pc.utf8_length(text), 0))


@dataclass
class Codes:
    """Plant (or gauge) ids of many batches as int32 codes into one list of names."""

    names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def encode(self, ids: Any) -> IntArray:
        """The code of each id (null ids get 0; the caller has flagged them)."""
        if len(ids) == 0:
            return np.zeros(0, np.int64)
        encoded = pc.dictionary_encode(ids)
        local = np.fromiter(
            (self._code(name) for name in encoded.dictionary.to_pylist()),
            np.int64,
            len(encoded.dictionary),
        )
        if len(local) == 0:
            return np.zeros(len(ids), np.int64)
        indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        return np.asarray(local[np.asarray(indices, np.int64)], np.int64)

    def _code(self, name: str) -> int:
        code = self.index.get(name)
        if code is None:
            code = self.index[name] = len(self.names)
            self.names.append(name)
        return code


def distinct_map(
    array: Any, parse: Callable[[str | None], Any]
) -> tuple[list[Any], IntArray, list[str | None]]:
    """Apply ``parse`` once per distinct text of ``array`` (nulls as ``None``): the results, the
    index of each row's result, and each row's reason when ``parse`` raised ``_CellError``."""
    text = _as_text(array) if len(array) else pa.array([], pa.string())
    encoded = pc.dictionary_encode(text, null_encoding="encode")
    results: list[Any] = []
    reasons: list[str | None] = []
    for value in encoded.dictionary.to_pylist():
        try:
            results.append(parse(value))
            reasons.append(None)
        except _CellError as error:
            results.append(None)
            reasons.append(str(error))
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64)
    return results, indices, reasons


# --------------------------------------------------------------------------- times

DAY_SECONDS = 86_400
TIME_HINT = "write 2021-09-01 00:15, 2021-09-01T00:15:00+08:00 or, beside a date column, 00:15"
_CLOCK = r"^(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?$"
_AT_24 = r"(?:[ T]+)24:00(?::00)?$"


def local_days(array: Any) -> tuple[IntArray, BoolArray, BoolArray]:
    """Days since 1970-01-01 of a date column (Asia/Shanghai), bad cells, and which of the bad
    ones are empty (:func:`~minewatch.ingest.meters._parse_dates`)."""
    dates, bad, empty = _parse_dates(array)
    days = pc.fill_null(dates.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
    return np.asarray(days, np.int64), bad, empty


def local_seconds(
    array: Any, days: IntArray | None = None
) -> tuple[IntArray, BoolArray, BoolArray]:
    """Asia/Shanghai wall-clock seconds since the epoch of a time column, bad cells, and which
    of the bad ones are empty.

    Cells are instants as :func:`~minewatch.ingest.meters._parse_timestamps` reads them (a zone
    converts to Shanghai time; a date alone is its midnight), ``24:00`` being the midnight that
    ends the day; or, when ``days`` (a date column) is given, a time of day (``00:15``,
    ``24:00``) on that row's date.
    """
    kind = array.type
    n = len(array)
    if pa.types.is_time(kind):
        clock = pc.fill_null(array.cast(pa.time32("s")).cast(pa.int32()), 0)
        seconds = np.asarray(clock.to_numpy(zero_copy_only=False), np.int64)
        empty = np.asarray(array.is_null().to_numpy(zero_copy_only=False), np.bool_)
        if days is None:
            return np.zeros(n, np.int64), np.ones(n, np.bool_), empty
        return days * DAY_SECONDS + seconds, empty, empty
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _parse_timestamps(array)
    text = nfkc(_as_text(array))
    fast = _plain_times(text) if days is None else None
    if fast is not None:
        return fast
    empty = ~_mask(pc.greater(pc.utf8_length(text), 0))
    is_clock, parts = _extract(text, _CLOCK, ("H", "M", "S"))
    hour, minute, second = _ints(parts["H"]), _ints(parts["M"]), _ints(parts["S"])
    clock_ok = (
        is_clock
        & ((hour < 24) | ((hour == 24) & (minute == 0) & (second == 0)))
        & (minute < 60)
        & (second < 60)
    )
    at_24 = _mask(pc.match_substring_regex(text, _AT_24)) & ~is_clock
    if at_24.any():
        text = pc.replace_substring_regex(text, _AT_24, " 00:00")
    seconds, bad, _ = _parse_timestamps(text)
    seconds = seconds + np.where(at_24, DAY_SECONDS, 0)
    if is_clock.any():
        if days is None:
            bad = bad | is_clock
        else:
            clock = days * DAY_SECONDS + hour * 3600 + minute * 60 + second
            seconds = np.where(is_clock, clock, seconds)
            bad = np.where(is_clock, ~clock_ok, bad)
    return np.where(bad, 0, seconds), bad, empty & bad


_PLAIN_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def _plain_times(text: Any) -> tuple[IntArray, BoolArray, BoolArray] | None:
    """A batch whose every cell is a local time in one of the usual, zero-padded forms, read by
    Arrow's ``strptime``; ``None`` when a cell is not (the careful path reads it)."""
    if len(text) == 0 or text.null_count:
        return None
    for form in _PLAIN_FORMATS:
        parsed = pc.strptime(text, format=form, unit="s", error_is_null=True)
        if parsed.null_count == 0:
            # strptime makes 2021-02-30 March 2nd: only times written back unchanged count.
            if not pc.all(pc.equal(pc.strftime(parsed, format=form), text)).as_py():
                return None
            seconds = np.asarray(parsed.cast(pa.int64()).to_numpy(), np.int64)
            no = np.zeros(len(text), np.bool_)
            return seconds, no, no
        if parsed.null_count < len(text):
            return None
    return None


def local_text(seconds: int) -> str:
    """Wall-clock seconds since the epoch as ``2021-09-01 10:15``."""
    return (datetime(1970, 1, 1) + timedelta(seconds=int(seconds))).strftime("%Y-%m-%d %H:%M")


def _constant_offset(first: int, last: int) -> int | None:
    """The UTC offset [s] of Asia/Shanghai over the wall-clock seconds ``first`` … ``last``
    when it does not change (no daylight saving since 1991), else ``None``."""
    zone = ZoneInfo(LOCAL_TZ_NAME)
    epoch = datetime(1970, 1, 1)
    offsets = set()
    for day in range(first // DAY_SECONDS - 1, last // DAY_SECONDS + 2):
        offset = (epoch + timedelta(days=day)).replace(tzinfo=zone).utcoffset()
        offsets.add(None if offset is None else int(offset.total_seconds()))
        if len(offsets) > 1:
            return None
    found = offsets.pop()
    return found


def utc_instants(seconds: IntArray) -> Any:
    """Asia/Shanghai wall-clock seconds as a ``timestamp[ms, UTC]`` array."""
    seconds = np.asarray(seconds, np.int64)
    if len(seconds):
        offset = _constant_offset(int(seconds.min()), int(seconds.max()))
        if offset is not None:
            return pa.array((seconds - offset) * 1000, pa.timestamp("ms", tz="UTC"))
    local = pa.array(seconds * 1000, pa.timestamp("ms"))
    # The summer-time years 1986-1991: a repeated or skipped local hour takes its earlier reading.
    zoned = pc.assume_timezone(local, LOCAL_TZ_NAME, ambiguous="earliest", nonexistent="earliest")
    return zoned.cast(pa.timestamp("ms", tz="UTC"))


# --------------------------------------------------------------------------- issues and rows

Issue = tuple[int, str | None, str]  # (record index in the file, header, reason)


@dataclass
class Issues:
    """Problems of one file found column by column, by record index (0 = the first data
    record); turned into exact rows only when they are raised."""

    limit: int = MAX_PROBLEMS
    found: list[Issue] = field(default_factory=list)
    more: bool = False

    def flag(
        self, offset: int, bad: BoolArray, header: str | None, reason: Callable[[int], str]
    ) -> None:
        """Record the first problems of ``bad`` (indices in a batch starting at ``offset``)."""
        room = self.limit + 1 - len(self.found)
        hits = np.flatnonzero(bad)
        if len(hits) > max(room, 0):
            self.more = True
        for index in hits[: max(room, 0)]:
            self.found.append((offset + int(index), header, reason(int(index))))

    def add(self, record: int, header: str | None, reason: str) -> None:
        if len(self.found) > self.limit:
            self.more = True
            return
        self.found.append((record, header, reason))

    def __bool__(self) -> bool:
        return bool(self.found)


class NotNumbersError(Exception):
    """Arrow refused a cell of a column read as numbers; the text path will name it."""


@dataclass
class TableFile:
    """A CSV (UTF-8, UTF-8 with BOM or GB18030; ``,``/``;``/tab/``|``; optionally gzipped) or
    Parquet file, read column by column in batches."""

    path: Path
    headers: tuple[str, ...]
    text: _CsvText | None  # None: Parquet

    @classmethod
    def open(cls, path: Path) -> TableFile:
        kind = _format_of(path)
        if not path.is_file():
            raise _file_problem(path, "file not found" if not path.exists() else "is not a file")
        if kind is None:
            raise _file_problem(path, "is not a .csv, .csv.gz, .parquet or .pq file")
        if kind == "csv":
            text = _sniff_csv(path)
            return cls(path, text.headers, text)
        try:
            with pq.ParquetFile(path) as handle:
                headers = tuple(handle.schema_arrow.names)
        except (OSError, pa.ArrowException) as error:
            raise _file_problem(path, f"is not a readable Parquet file ({error})") from None
        return cls(path, headers, None)

    def batches(
        self, wanted: Mapping[str, Column], batch_rows: int, numbers: Collection[str] = ()
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index of the batch's first record, its columns by canonical name); CSV columns are
        text, except ``numbers``, which Arrow reads as float64 (raising :class:`NotNumbersError`
        when it refuses a cell: read the file again without them, to name it); Parquet columns
        keep their types. Raises :class:`InputFileError` when the file cannot be read (a row
        with the wrong number of cells, bad text, a broken file)."""
        try:
            if self.text is None:
                yield from self._parquet_batches(wanted, batch_rows)
            else:
                yield from self._csv_batches(self.text, wanted, batch_rows, numbers)
        except pa.ArrowInvalid as error:
            if numbers and "conversion error" in str(error):
                raise NotNumbersError(str(error)) from None
            raise self.unreadable(str(error)) from None
        except (pa.ArrowException, UnicodeError, OSError, EOFError) as error:
            raise self.unreadable(str(error)) from None

    def _parquet_batches(
        self, wanted: Mapping[str, Column], batch_rows: int
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        names = {key: self.headers[column.position] for key, column in wanted.items()}
        with pq.ParquetFile(self.path, pre_buffer=False) as handle:
            offset = 0
            for batch in handle.iter_batches(
                batch_size=batch_rows, columns=list(dict.fromkeys(names.values()))
            ):
                yield offset, {key: batch.column(name) for key, name in names.items()}
                offset += batch.num_rows

    def _csv_batches(
        self,
        text: _CsvText,
        wanted: Mapping[str, Column],
        batch_rows: int,
        numbers: Collection[str],
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        names = [f"c{i}" for i in range(len(self.headers))]
        chosen = {key: names[column.position] for key, column in wanted.items()}
        include = list(dict.fromkeys(chosen.values()))
        read = pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            block_size=min(max(batch_rows * 16 * len(names), 1 << 16), 1 << 27),
            encoding="utf8" if text.encoding.startswith("utf") else text.encoding,
        )
        convert = pacsv.ConvertOptions(
            column_types={
                **dict.fromkeys(include, pa.string()),
                **{chosen[key]: pa.float64() for key in numbers if key in chosen},
            },
            include_columns=include,
            null_values=_CSV_NULLS,
            strings_can_be_null=False,
        )
        parse = pacsv.ParseOptions(delimiter=text.delimiter)
        compression = "gzip" if text.compressed else None
        with (
            pa.input_stream(str(self.path), compression=compression) as stream,
            contextlib.closing(
                pacsv.open_csv(
                    stream, read_options=read, parse_options=parse, convert_options=convert
                )
            ) as reader,
        ):
            offset = 0
            for block in reader:
                for start in range(0, block.num_rows, batch_rows):
                    batch = block.slice(start, batch_rows)
                    yield offset, {key: batch.column(name) for key, name in chosen.items()}
                    offset += batch.num_rows

    def row_numbers(self, records: Collection[int]) -> dict[int, int]:
        """The row (as a spreadsheet or editor shows it; the header is row 1) of each record."""
        if self.text is None:
            return {record: record + 2 for record in records}
        wanted = set(records)
        rows: dict[int, int] = {}
        if not wanted:
            return rows
        last = max(wanted)
        with contextlib.suppress(UnicodeError, OSError, EOFError):
            for record, (row, _) in enumerate(self.text.records()):
                if record in wanted:
                    rows[record] = row
                if record >= last:
                    break
        return rows

    def unreadable(self, message: str) -> InputFileError:
        """The error for a file Arrow could not read: its rows of the wrong width if a careful
        pass finds them, else Arrow's message."""
        problems: list[InputProblem] = []
        if self.text is not None:
            width = len(self.headers)
            try:
                for row, cells in self.text.records():
                    if len(cells) != width:
                        reason = f"has {len(cells)} cells; the header has {width}"
                        problems.append(InputProblem(row, None, reason))
                        if len(problems) > MAX_PROBLEMS:
                            break
            except UnicodeDecodeError as error:
                name = "UTF-8" if self.text.encoding.startswith("utf") else "GB18030"
                problems.append(
                    InputProblem(None, None, f"is not valid {name} text ({error.reason})")
                )
            except (OSError, EOFError) as error:
                problems.append(InputProblem(None, None, f"cannot be read ({error})"))
        if not problems:
            problems.append(InputProblem(None, None, f"cannot be read ({message})"))
        return InputFileError(self.path, _capped(problems))

    def error(self, issues: Issues, note: str | None = None) -> InputFileError:
        """The :class:`InputFileError` of ``issues``, with exact rows."""
        rows = self.row_numbers({record for record, _, _ in issues.found if record >= 0})
        problems = [
            InputProblem(rows.get(record) if record >= 0 else None, header, reason)
            for record, header, reason in sorted(issues.found, key=lambda issue: issue[0])
        ]
        problems = list(dict.fromkeys(problems))
        if len(problems) > issues.limit or issues.more:
            problems = [
                *problems[: issues.limit],
                InputProblem(None, None, f"… and more; only the first {issues.limit} are listed"),
            ]
        if note is not None:
            problems.append(InputProblem(None, None, note))
        return InputFileError(self.path, problems)


def shown(array: Any, index: int) -> str:
    """A cell of ``array`` for a message."""
    value = array[index].as_py()
    return repr(value.strip() if isinstance(value, str) else value)
