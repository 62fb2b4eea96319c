"""Stage one of the meter kernel: one row per meter-day, reduced to what the meter stage needs.

A row of 96 quarter-hour powers becomes a handful of figures (energy, spread, roughness, the
largest step and where it falls, the 24 hourly means). The reduction is row-local, so it runs
on any batch, in any order, on any engine; the meter stage then needs only these small rows.

Bad values are not guessed at: a negative power or a spike that no meter of that size can draw
is counted and dropped from the day, and the day keeps the count of slots it really has.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import SLOT_COLUMNS, SLOTS_PER_DAY

HOURLY_COLUMNS: tuple[str, ...] = tuple(f"hour{h:02d}_kw" for h in range(24))

DAILY_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("valid_slots", pa.int16()),
        pa.field("negative_slots", pa.int16()),
        pa.field("absurd_slots", pa.int16()),
        pa.field("mean_kw", pa.float32()),
        pa.field("max_kw", pa.float32()),
        pa.field("min_kw", pa.float32()),
        pa.field("std_kw", pa.float32()),
        pa.field("rough_kw", pa.float32()),
        pa.field("max_step_kw", pa.float32()),
        pa.field("max_step_slot", pa.int16()),
        *(pa.field(name, pa.float32()) for name in HOURLY_COLUMNS),
    ]
)

Matrix = npt.NDArray[np.float32]


def slot_matrix(batch: pa.RecordBatch | pa.Table) -> Matrix:
    """The ``(rows, 96)`` float32 matrix of a wide readings batch; nulls become NaN."""
    columns = [
        batch.column(name).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        for name in SLOT_COLUMNS
    ]
    return np.column_stack(columns) if columns[0].size else np.empty((0, 96), np.float32)


def daily_features(
    batch: pa.RecordBatch | pa.Table, settings: MeterScanSettings | None = None
) -> pa.RecordBatch:
    """Reduce wide readings (``READINGS_SCHEMA``) to one :data:`DAILY_SCHEMA` row per input row."""
    settings = settings or MeterScanSettings()
    x = slot_matrix(batch)
    n = x.shape[0]
    with np.errstate(invalid="ignore"):
        negative = x < -settings.negative_tolerance_kw
        absurd = x > settings.absurd_kw
    bad = negative | absurd
    negative_count = negative.sum(axis=1)
    absurd_count = absurd.sum(axis=1)
    if bad.any():
        x[bad] = np.nan
    valid = ~np.isnan(x)
    _drop_spikes(x, valid, absurd_count, settings)
    count = valid.sum(axis=1)
    filled = np.where(valid, x, np.float32(0.0))
    safe = np.maximum(count, 1)
    mean = filled.sum(axis=1, dtype=np.float64) / safe
    square = np.square(filled).sum(axis=1, dtype=np.float64) / safe
    std = np.sqrt(np.maximum(square - mean * mean, 0.0))
    diff = np.abs(np.diff(x, axis=1))
    diff_valid = ~np.isnan(diff)
    rough = np.where(diff_valid, diff, np.float32(0.0)).sum(axis=1, dtype=np.float64)
    rough /= np.maximum(diff_valid.sum(axis=1), 1)
    step_slot = np.zeros(n, dtype=np.int16)
    step_kw = np.full(n, np.nan, dtype=np.float32)
    has_step = diff_valid.any(axis=1)
    if has_step.any():
        rows = np.flatnonzero(has_step)
        where = np.nanargmax(diff[rows], axis=1)
        step_slot[rows] = where + 1  # the slot the new level starts in
        step_kw[rows] = diff[rows, where]
    per_hour = SLOTS_PER_DAY // 24
    hourly_sum = filled.reshape(n, 24, per_hour).sum(axis=2)
    hourly_count = valid.reshape(n, 24, per_hour).sum(axis=2)
    empty = count == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        hourly = np.where(hourly_count > 0, hourly_sum / hourly_count, np.float32(np.nan))
    mean[empty] = np.nan
    std[empty] = np.nan
    rough[empty] = np.nan
    arrays: list[pa.Array] = [
        batch.column("meter_id"),
        batch.column("date"),
        pa.array(count.astype(np.int16)),
        pa.array(negative_count.astype(np.int16)),
        pa.array(absurd_count.astype(np.int16)),
        pa.array(mean.astype(np.float32)),
        pa.array(np.fmax.reduce(x, axis=1).astype(np.float32)),
        pa.array(np.fmin.reduce(x, axis=1).astype(np.float32)),
        pa.array(std.astype(np.float32)),
        pa.array(rough.astype(np.float32)),
        pa.array(step_kw),
        pa.array(step_slot),
        *(pa.array(hourly[:, h].astype(np.float32)) for h in range(24)),
    ]
    if isinstance(arrays[0], pa.ChunkedArray):
        arrays[0] = arrays[0].combine_chunks()
        arrays[1] = arrays[1].combine_chunks()
    return pa.RecordBatch.from_arrays(arrays, schema=DAILY_SCHEMA)


def _drop_spikes(
    x: Matrix,
    valid: npt.NDArray[np.bool_],
    absurd_count: npt.NDArray[np.int64],
    settings: MeterScanSettings,
) -> None:
    """Blank (in place) a reading that towers over the rest of its day: a meter fault.

    A real load cannot jump to ``spike_ratio`` times its own daily mean for one quarter-hour
    and fall back; a register glitch (1e7 kW, 9999.9) does. At most two per day are dropped.
    """
    for _ in range(2):
        count = valid.sum(axis=1)
        total = np.where(valid, x, np.float32(0.0)).sum(axis=1, dtype=np.float64)
        peak = np.fmax.reduce(x, axis=1)
        rest = (total - np.nan_to_num(peak)) / np.maximum(count - 1, 1)
        with np.errstate(invalid="ignore"):
            spike = (count > 4) & (peak > settings.spike_ratio * rest + settings.spike_margin_kw)
        if not spike.any():
            return
        rows = np.flatnonzero(spike)
        cols = np.nanargmax(x[rows], axis=1)
        x[rows, cols] = np.nan
        valid[rows, cols] = False
        absurd_count += spike
