"""Stage two's compiled loops: the calendar of each meter, and every figure of a meter from
its days.

Both are C (``_stage_two.c``, in the package's compiled kernels, see :mod:`._fused`). Stage
two works on short series (one value per day, a few weeks): eight meters go together, one per
vector lane, so that each step below runs on all eight at once. :mod:`.features` calls
:func:`meter_features` and names its columns; what each figure means is documented there.
Missing values are NaN throughout and are skipped as numpy's ``nan*`` functions skip them;
medians are the mean of the two middle values, quantiles the lower of two neighbours.

**The start** of mining is read three times, from the daily mean, the daily floor and the
valley hours; the reading that shows the new load as the largest share of what follows wins.
Each reading is a change-point scan: every split of the days is scored as the mean after
minus the mean before, in units of the day-to-day noise (the median absolute change between
neighbouring valid days / 0.954, plus 0.3 % of the median level and 0.02 kW) and weighted by
how many days stand on each side (a CUSUM-style scan). Among the splits that clear
:data:`STAT_BAR`, the largest rise wins: a small but noise-free weekly rhythm must not outrank
the rigs' arrival. A step counts when it is significant, above the smallest rig, at least a
fifth of the level after it, and has four valid days after it; the base is the median of the
days before.

**Refining it.** Rigs arrive in batches and farms are curtailed now and then, so the
strongest step is not always the first. The nights before it are searched again (binary
segmentation, four rounds at most) for an earlier lasting step of at least 2 % of the whole
rise and three small rigs; the weekly rhythm of a site's lighting load is not one. Then the
hours at the end of the day before the start that already carry the new load (half-way up
from the same hour's usual level before the start) move the start back to that day; the
start hour is the first hour that carries it.

**After the start**, days whose mean falls to less than half way between the base and the
usual are curtailed ("off"); the figures describe the days that are on.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from minewatch.detect.meters._fused import address, library, run_split, threads

OUTPUTS = (
    "valid_days",
    "start_index",
    "start_hour",
    "start_t",
    "base_kw",
    "level_kw",
    "floor_kw",
    "block_kw",
    "valley_block_kw",
    "flat_cv",
    "floor_share",
    "floor_cv",
    "level_cv",
    "rough",
    "load_factor",
    "profile_corr",
    "profile_amp",
    "weekly_ratio",
    "temp_corr",
    "temp_slope",
    "floor_temp_corr",
    "floor_temp_slope",
    "valley_share",
    "valley_temp_corr",
    "valley_flat",
    "valley_day_cv",
    "off_valley_share",
    "on_fraction",
    "off_days",
    "ramp_steps",
    "step_kw",
)
"""The columns of :func:`meter_features`' result, in order (``OUTPUTS`` in the C source)."""

INPUTS = (
    "mean_kw",
    "max_kw",
    "floor_kw",
    "valley_kw",
    "daytime_kw",
    "night_kw",
    "valley_cv",
    "std_kw",
    "rough_kw",
)
"""The stage-one columns :func:`meter_features` reads, in this order."""

LANES = 8
"""Meters taken together (one per vector lane); a thread's meters start on a multiple."""
STAT_BAR = 8.0
"""A step must stand this many noise units above the day-to-day wobble."""
MIN_METERS_PER_THREAD = 2_048

I64 = npt.NDArray[np.int64]


def _int64(array: npt.ArrayLike) -> I64:
    return np.ascontiguousarray(array, dtype=np.int64)


def place_days(
    meter: npt.NDArray[np.int32],
    day: npt.NDArray[np.int32],
    first_day: int,
    starts: I64,
    counts: I64,
    means: I64,
    meters: int,
    days: int,
    min_valid_slots: int,
    slots_per_day: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_], I64]:
    """Place stage-one rows on a ``(meters, days)`` calendar in one pass, reading the table in
    place (:mod:`._buffers`): ``starts`` are its chunks' first rows (and the total),
    ``counts[k, c]`` the addresses of the int16 columns valid, negative and absurd slots and
    ``means[c]`` of the float32 daily mean. ``meter`` is each row's meter code (0 …
    ``meters`` - 1), ``day`` its day number (from ``first_day``, ``days`` of them).

    Of two rows for one meter-day the one with more valid quarter-hours stays, then the one
    with the higher mean (a missing mean counts as -1), then the later. Returns the row of
    each meter-day (-1 where there is none), whether the day has ``min_valid_slots``, and per
    meter ``(present days, duplicates dropped, negative slots, impossible slots, missing
    slots)`` as a ``(5, meters)`` array.
    """
    meter = np.ascontiguousarray(meter, dtype=np.int32)
    day = np.ascontiguousarray(day, dtype=np.int32)
    starts, counts, means = _int64(starts), _int64(counts), _int64(means)
    chunks = starts.size - 1
    if meter.size != day.size or counts.shape != (3, chunks) or means.shape != (chunks,):
        raise ValueError("place_days: the rows, chunks and column addresses do not match")
    if chunks < 1 or int(starts[-1]) != meter.size:
        raise ValueError("place_days: the chunks do not cover the rows")
    row_of = np.empty((meters, days), dtype=np.int32)
    valid = np.empty((meters, days), dtype=np.bool_)
    totals = np.empty((5, meters), dtype=np.int64)
    kept = np.empty((meters, days), dtype=np.int16)
    code = library().mw_place_days(
        meter.size, address(meter), address(day), first_day, chunks, address(starts),
        address(counts), address(means), meters, days, min_valid_slots, slots_per_day,
        address(row_of), address(valid), address(totals), address(kept),
    )  # fmt: skip
    if code:
        raise ValueError(f"place_days: a row falls outside {meters} meters × {days} days")
    return row_of, valid, totals


def meter_features(
    row_of: npt.NDArray[np.int32],
    starts: I64,
    figures: I64,
    hourly: I64,
    valid: npt.NDArray[np.bool_],
    temperature: npt.NDArray[np.float64],
    temperature_row: npt.NDArray[np.int32],
    weekday: I64,
    min_mining_kw: float,
) -> npt.NDArray[np.float64]:
    """Stage two for every meter.

    ``row_of`` ``(meters, days)`` is the stage-one row of each meter-day (-1 where absent);
    the stage-one table is read in place (:mod:`._buffers`): ``starts`` are its chunks' first
    rows (and the total), ``figures[k, c]`` the address of column ``INPUTS[k]`` in chunk
    ``c`` and ``hourly[h, c]`` that of hour ``h``'s means. ``valid`` is ``(meters, days)``;
    meter ``i``'s temperatures are ``temperature[temperature_row[i]]`` (``(series, days)``,
    NaN where unknown); ``weekday`` is the day of week of each day (Monday 0). Returns
    ``(len(OUTPUTS), meters)``, figure by figure.
    """
    row_of = np.ascontiguousarray(row_of, dtype=np.int32)
    meters, days = row_of.shape
    starts, figures, hourly, weekday = (
        _int64(starts),
        _int64(figures),
        _int64(hourly),
        _int64(weekday),
    )
    chunks = starts.size - 1
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    temperature = np.ascontiguousarray(temperature, dtype=np.float64)
    temperature_row = np.ascontiguousarray(temperature_row, dtype=np.int32)
    if (
        valid.shape != row_of.shape
        or temperature.ndim != 2
        or temperature.shape[1] != days
        or temperature_row.shape != (meters,)
        or (
            meters
            and not 0 <= int(temperature_row.min()) <= int(temperature_row.max()) < len(temperature)
        )
        or weekday.shape != (days,)
        or figures.shape != (len(INPUTS), chunks)
        or hourly.shape != (24, chunks)
    ):
        raise ValueError("meter_features: the calendar, weather and column addresses do not match")
    out = np.empty((len(OUTPUTS), meters), dtype=np.float64)
    if meters == 0:
        return out
    function = library().mw_meter_features

    def run(bound: tuple[int, int]) -> int:
        return int(
            function(
                meters, bound[0], bound[1], days, chunks, address(row_of), address(starts),
                address(figures), address(hourly), address(valid), address(temperature),
                address(temperature_row), address(weekday), min_mining_kw, address(out),
            )
        )  # fmt: skip

    workers = max(1, min(threads(), meters // MIN_METERS_PER_THREAD))
    if any(run_split(run, meters, workers, LANES)):
        raise MemoryError(f"stage two could not allocate its working memory for {days} days")
    return out
