"""Stage two of the meter kernel: per-meter features from its days, all meters at once.

The physics the features encode:

- a rig draws the same power every quarter-hour of every day: its load has no daily or weekly
  rhythm, does not follow the weather and sits as a constant *floor* under whatever else the
  meter feeds;
- a data centre is flat too, but its cooling follows outdoor temperature and its IT load follows
  its users' day, so its profile repeats from one day to the next; base stations, hospitals,
  water works and shift industry repeat their day as well;
- mining begins on a day: a new constant block appears and stays (save for curtailment);
- valley-hour mining is a block at exactly the cheap hours every night, whatever the weather,
  where a storage heater's block grows on cold nights and shrinks on mild ones.

The stage-one rows are placed on a ``(meters, days)`` calendar; the figures are then taken
meter by meter in compiled code (:mod:`._per_meter`), never in a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.meters._buffers import ChunkedFloats, chunked_floats
from minewatch.detect.meters._per_meter import INPUTS, OUTPUTS, meter_features, place_days
from minewatch.detect.meters.daily import HOURLY, HOURLY_TYPE, plain_array
from minewatch.detect.meters.daily import INTEGER_FIGURES as _INTEGER_FIGURES
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import SLOTS_PER_DAY

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class MeterDays:
    """The days of a set of meters placed on one calendar.

    The stage-one rows stay where they are; ``row_of`` says which row holds each meter-day.
    """

    meter_ids: pa.StringArray
    first_date: date
    row_of: npt.NDArray[np.int32]  # (m, d) the stage-one row of each meter-day, -1 if absent
    columns: ChunkedFloats  # the stage-one columns named in INPUTS, in place
    hourly: ChunkedFloats  # the hourly means (bfloat16), in place
    valid: B  # (m, d) the day has enough valid quarter-hours
    present_days: npt.NDArray[np.int64]  # (m,) days in the input at all
    negative_slots: npt.NDArray[np.int64]  # (m,)
    absurd_slots: npt.NDArray[np.int64]
    duplicate_days: npt.NDArray[np.int64]
    missing_slots: npt.NDArray[np.int64]

    @property
    def days(self) -> int:
        return int(self.row_of.shape[1])

    @property
    def present(self) -> B:
        """(m, d) the day is in the input at all."""
        return np.asarray(self.row_of >= 0)

    def dates(self) -> list[date]:
        return [self.first_date + timedelta(days=i) for i in range(self.days)]


def meter_codes(column: pa.ChunkedArray | pa.Array) -> tuple[pa.StringArray, npt.NDArray[np.int32]]:
    """The distinct meters of a stage-one column (in order of first appearance, as an Arrow
    string array) and each row's index among them. Batches' dictionaries are unified, not
    their rows re-hashed."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if not pa.types.is_dictionary(column.type):
        column = pa.chunked_array([pc.dictionary_encode(column.combine_chunks())])
    unified = column.unify_dictionaries()
    if unified.num_chunks == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int32)
    dictionary = unified.chunk(0).dictionary.cast(pa.string())
    indices = [chunk.indices for chunk in unified.chunks]
    codes = pa.chunked_array(indices, indices[0].type).combine_chunks().cast(pa.int32())
    used = np.zeros(len(dictionary), dtype=np.bool_)
    values = codes.to_numpy(zero_copy_only=False)
    used[values] = True
    if used.all():
        return dictionary, values
    # A dictionary may hold values no row uses (a sliced batch): keep the used ones, in order.
    kept = np.flatnonzero(used)
    renumber = np.full(len(dictionary), -1, dtype=np.int32)
    renumber[kept] = np.arange(kept.size, dtype=np.int32)
    return dictionary.take(pa.array(kept)), renumber[values]


def day_span(daily: pa.Table) -> tuple[date, date] | None:
    """The first and last day of stage-one rows (``None`` without rows)."""
    if daily.num_rows == 0:
        return None
    low, high = pc.min_max(daily.column("date")).values()
    return low.as_py(), high.as_py()


def lay_out(
    daily: pa.Table, settings: MeterScanSettings, span: tuple[date, date] | None = None
) -> MeterDays:
    """Place stage-one rows (any order, duplicates allowed) on one calendar per meter.

    The calendar runs from the first to the last day of ``daily``, or over ``span`` (first and
    last day) when given: an engine that scores meters in parts gives every part the whole
    scan's span, so that a meter's missing days are counted the same way in any part.
    Where a meter-day appears twice (exports that overlap), the copy with more valid
    quarter-hours is kept (then the higher mean, then the later row) and the duplicate counted.
    The columns are read where they are (one compiled pass, :func:`._per_meter.place_days`).
    """
    meter_ids, codes = meter_codes(daily.column("meter_id"))
    day_numbers = plain_array(daily.column("date")).view(pa.int32()).to_numpy()
    m = len(meter_ids)
    first = int(day_numbers.min()) if day_numbers.size else 0
    width = int(day_numbers.max()) - first + 1 if day_numbers.size else 1
    if span is not None:
        low, high = ((day - EPOCH).days for day in span)
        if day_numbers.size and not low <= first <= first + width - 1 <= high:
            raise ValueError(f"the rows' days fall outside the span {span[0]} … {span[1]}")
        first, width = low, high - low + 1
    counts = chunked_floats(daily, _INTEGER_FIGURES, pa.int16())
    columns = chunked_floats(daily, INPUTS)
    hourly = chunked_floats(daily, HOURLY, HOURLY_TYPE)
    row_of, valid, totals = place_days(
        codes,
        day_numbers,
        first,
        counts.starts,
        counts.addresses,
        columns.addresses[INPUTS.index("mean_kw")],
        m,
        width,
        settings.min_valid_slots,
        SLOTS_PER_DAY,
    )
    return MeterDays(
        meter_ids=meter_ids,
        first_date=EPOCH + timedelta(days=first),
        row_of=row_of,
        columns=columns,
        hourly=hourly,
        valid=valid,
        present_days=totals[0],
        duplicate_days=totals[1],
        negative_slots=totals[2],
        absurd_slots=totals[3],
        missing_slots=totals[4],
    )


@dataclass(frozen=True)
class MeterFeatures:
    """Per-meter figures (arrays of length ``meters``); NaN where a figure cannot be had."""

    valid_days: npt.NDArray[np.int64]
    start_index: npt.NDArray[np.int64]  # day index mining began, -1 when no start seen
    start_hour: npt.NDArray[np.int64]
    start_t: F  # strength of the step (t-statistic)
    base_kw: F  # level before the start (0 without a start)
    level_kw: F  # median daily level on operating days
    floor_kw: F  # median daily floor (lowest hourly mean) on operating days
    block_kw: F  # the constant block attributed to mining
    valley_block_kw: F  # valley-hour block above the rest of the day
    flat_cv: F  # median within-day coefficient of variation
    floor_share: F  # floor / mean
    floor_cv: F  # day-to-day variation of the floor
    level_cv: F  # day-to-day variation of the level
    rough: F  # slot-to-slot roughness / level
    load_factor: F  # the day's mean over its peak quarter-hour
    profile_corr: F  # repeatability of the daily shape (odd vs even days)
    profile_amp: F  # amplitude of the mean daily shape / level
    weekly_ratio: F  # weekend / weekday level − 1
    temp_corr: F  # correlation of the daily level with the daily temperature
    temp_slope: F  # level change per °C / level
    floor_temp_corr: F
    floor_temp_slope: F  # floor change per °C / floor
    valley_share: F  # valley block / mean
    valley_temp_corr: F  # correlation of the valley block with the daily temperature
    valley_flat: F  # CV across the valley hours, within the block
    valley_day_cv: F  # day-to-day variation of the valley block
    off_valley_share: F  # mean outside the valley / valley mean
    on_fraction: F  # operating days that are on (not curtailed)
    off_days: npt.NDArray[np.int64]
    ramp_steps: npt.NDArray[np.int64]  # level steps up on later days (batches of rigs)
    step_kw: F  # median size of those steps


@dataclass(frozen=True)
class Temperatures:
    """Daily mean temperatures [°C] of the meters: meter ``i`` has ``series[row[i]]``, one
    value per day of the calendar (NaN where unknown). Meters of one region share a series."""

    series: F  # (series, days)
    row: npt.NDArray[np.int32]  # (meters,)

    @classmethod
    def per_meter(cls, temperature: F) -> Temperatures:
        """A ``(meters, days)`` array: every meter its own series."""
        temperature = np.ascontiguousarray(temperature, dtype=np.float64)
        return cls(temperature, np.arange(temperature.shape[0], dtype=np.int32))


def compute_features(
    days: MeterDays, temperature: F | Temperatures | None, settings: MeterScanSettings
) -> MeterFeatures:
    """Per-meter features; ``temperature`` is ``(meters, days)`` °C or :class:`Temperatures`
    (NaN where unknown).

    The figures come from one compiled pass per meter (:func:`._per_meter.meter_features`).
    """
    m, d = days.row_of.shape
    if temperature is None:
        temperature = Temperatures(np.full((1, d), np.nan), np.zeros(m, dtype=np.int32))
    elif not isinstance(temperature, Temperatures):
        temperature = Temperatures.per_meter(temperature)
    if temperature.series.shape[1:] != (d,) or temperature.row.shape != (m,):
        raise ValueError(f"temperatures must cover {m} meters × {d} days")
    weekday = np.array(
        [(days.first_date + timedelta(days=i)).weekday() for i in range(d)], dtype=np.int64
    )
    out = meter_features(
        days.row_of,
        days.columns.starts,
        days.columns.addresses,
        days.hourly.addresses,
        days.valid,
        temperature.series,
        temperature.row,
        weekday,
        float(settings.min_mining_kw),
    )
    counts = {"valid_days", "start_index", "start_hour", "off_days", "ramp_steps"}
    return MeterFeatures(
        **{
            name: (values.astype(np.int64) if name in counts else values)
            for name, values in zip(OUTPUTS, out, strict=True)
        }
    )
