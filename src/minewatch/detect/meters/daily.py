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
import pyarrow.compute as pc

from minewatch.detect.meters._buffers import slot_buffers
from minewatch.detect.meters._fused import COUNTS, FIGURES, reduce_days
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import SLOT_COLUMNS

INTEGER_FIGURES = COUNTS
"""The fault counts and valid slots, kept as int16."""

METER_CODES = pa.dictionary(pa.int32(), pa.string())
"""Meter identifiers in the stage-one rows: each batch's own dictionary of them."""

HOURLY = tuple(f"kw_h{h:02d}" for h in range(24))
"""The hourly means of a day (from 00:00), one column per hour."""

HOURLY_TYPE = pa.uint16()
"""The hourly means are bfloat16 (the upper half of a float32, rounded to nearest): within
0.2 %, below the accuracy class of the meters that measured them (0.5–2 %), in half the
memory of float32; :func:`hourly_kw` reads them back. Arrow has no bfloat16 type, so the bits
travel as uint16."""

DAILY_SCHEMA = pa.schema(
    [
        pa.field("meter_id", METER_CODES, nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        *(pa.field(name, pa.int16()) for name in INTEGER_FIGURES),
        *(pa.field(name, pa.float32()) for name in FIGURES),
        *(pa.field(name, HOURLY_TYPE) for name in HOURLY),
    ]
)
"""One meter-day: fault counts, the day's figures, the valley (cheap-tariff), daytime
(08–22) and night (00–06) means, and the 24 hourly means (a gap takes the day's mean; see
:data:`HOURLY_TYPE`)."""

DAYTIME_HOURS = tuple(range(8, 22))
NIGHT_HOURS = (0, 1, 2, 3, 4, 5)


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
    slots = slot_buffers(batch, SLOT_COLUMNS)
    figures, counts, hourly = reduce_days(
        slots.rows,
        slots.values,
        slots.bitmaps,
        slots.nullable,
        settings.negative_tolerance_kw,
        settings.absurd_kw,
        settings.spike_ratio,
        settings.spike_margin_kw,
        _hours_mask(settings.valley_hours),
        _hours_mask(DAYTIME_HOURS),
        _hours_mask(NIGHT_HOURS),
    )
    # The identifiers are encoded (a few thousand distinct per batch of a meter-sorted
    # export) and the dates copied: a kept reference would pin the whole decoded batch in
    # memory, and the next batches would then pay for fresh pages.
    meters = plain_array(batch.column("meter_id"))
    if not pa.types.is_dictionary(meters.type):
        meters = pc.dictionary_encode(meters)
    every = pa.array(np.arange(batch.num_rows))
    arrays: list[pa.Array] = [
        meters.cast(METER_CODES),
        plain_array(batch.column("date")).take(every),
        *(pa.array(counts[k]) for k in range(len(COUNTS))),
        *(pa.array(figures[k]) for k in range(len(FIGURES))),
        *(pa.array(hourly[h]) for h in range(len(HOURLY))),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=DAILY_SCHEMA)


def hourly_kw(daily: pa.Table | pa.RecordBatch) -> npt.NDArray[np.float32]:
    """The ``(rows, 24)`` hourly means of stage-one rows, as float32."""
    bits = np.stack([np.asarray(daily.column(name).to_numpy()) for name in HOURLY], axis=1)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _hours_mask(hours: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(24, dtype=np.bool_)
    mask[list(hours)] = True
    return mask


def plain_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (chunks are combined)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
