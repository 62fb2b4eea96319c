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

from minewatch.detect.meters._fused import FIGURES, reduce_days
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import SLOT_COLUMNS

_INTEGER_FIGURES = FIGURES[:3]

DAILY_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        *(pa.field(name, pa.int16()) for name in _INTEGER_FIGURES),
        *(pa.field(name, pa.float32()) for name in FIGURES[3:]),
        pa.field("hourly_kw", pa.list_(pa.float32(), 24)),
    ]
)
"""One meter-day: fault counts, the day's figures, the valley (cheap-tariff), daytime
(08–22) and night (00–06) means, and the 24 hourly means (a gap takes the day's mean)."""

DAYTIME_HOURS = tuple(range(8, 22))
NIGHT_HOURS = (0, 1, 2, 3, 4, 5)

Matrix = npt.NDArray[np.float32]


def slot_matrix(batch: pa.RecordBatch | pa.Table) -> Matrix:
    """The ``(rows, 96)`` float32 matrix of a wide readings batch; nulls become NaN.

    Column-major, as Arrow holds the slots: a reduction across a row then adds 96
    contiguous columns, which is what the processor does fastest.
    """
    n = batch.num_rows
    x = np.empty((n, len(SLOT_COLUMNS)), dtype=np.float32, order="F")
    for i, name in enumerate(SLOT_COLUMNS):
        column = batch.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if column.type != pa.float32() or n == 0:
            x[:, i] = column.to_numpy(zero_copy_only=False)
            continue
        # Straight from the Arrow buffers: no intermediate copy, nulls blanked from the bitmap.
        validity, data = column.buffers()
        x[:, i] = np.frombuffer(data, dtype=np.float32, count=n, offset=column.offset * 4)
        if column.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[
                column.offset : column.offset + n
            ]
            x[bits == 0, i] = np.nan
    return x


def daily_features(
    batch: pa.RecordBatch | pa.Table, settings: MeterScanSettings | None = None
) -> pa.RecordBatch:
    """Reduce wide readings (``READINGS_SCHEMA``) to one :data:`DAILY_SCHEMA` row per input row.

    One fused pass per row (:mod:`._fused`): faults are counted and dropped — negative
    readings, readings above ``absurd_kw``, and a reading that towers over the rest of its own
    day (``spike_ratio`` × the day's mean + ``spike_margin_kw``: a register glitch such as
    65535 or 1e7, never a real load) — then the day's figures and hourly means are taken.
    """
    settings = settings or MeterScanSettings()
    x = slot_matrix(batch)
    figures, hourly = reduce_days(
        x,
        settings.negative_tolerance_kw,
        settings.absurd_kw,
        settings.spike_ratio,
        settings.spike_margin_kw,
        _hours_mask(settings.valley_hours),
        _hours_mask(DAYTIME_HOURS),
        _hours_mask(NIGHT_HOURS),
    )
    count = len(FIGURES)
    # The identifiers are copied, not referenced: a kept reference would pin the whole
    # decoded batch in memory, and the next batches would then pay for fresh pages.
    every = pa.array(np.arange(batch.num_rows))
    arrays: list[pa.Array] = [
        _plain(batch.column("meter_id")).take(every),
        _plain(batch.column("date")).take(every),
        *(pa.array(figures[:, k].astype(np.int16)) for k in range(len(_INTEGER_FIGURES))),
        *(pa.array(figures[:, k].astype(np.float32)) for k in range(len(_INTEGER_FIGURES), count)),
        pa.FixedSizeListArray.from_arrays(pa.array(hourly.ravel()), 24),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=DAILY_SCHEMA)


def _hours_mask(hours: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(24, dtype=np.bool_)
    mask[list(hours)] = True
    return mask


def hourly_matrix(daily: pa.Table | pa.RecordBatch) -> npt.NDArray[np.float32]:
    """The ``(rows, 24)`` hourly means of stage-one rows, without copying where possible."""
    column = daily.column("hourly_kw")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    values = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32).reshape(-1, 24)


def _plain(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
