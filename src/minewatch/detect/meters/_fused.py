"""The fused stage-one loop: every figure of a meter-day from one read of its 96 readings.

Compiled by Numba (cached on disk after the first run) and run in parallel over blocks of
rows. Plain numpy would read the batch once per figure; this reads it once, straight from
Arrow's column buffers: each block of rows is gathered into a small row-major buffer that stays
in the processor's cache, then each row takes two passes (faults out, then the figures).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange
from numba.np.numpy_support import carray

from minewatch.detect.meters._buffers import float32_pointer, uint8_pointer

FIGURES = (
    "valid_slots",
    "negative_slots",
    "absurd_slots",
    "mean_kw",
    "max_kw",
    "min_kw",
    "std_kw",
    "rough_kw",
    "max_step_kw",
    "floor_kw",
    "valley_kw",
    "daytime_kw",
    "night_kw",
    "valley_cv",
)
BLOCK = 128


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def reduce_days(
    n: int,
    values: npt.NDArray[np.int64],
    bitmaps: npt.NDArray[np.int64],
    nullable: npt.NDArray[np.bool_],
    negative_tolerance: float,
    absurd_kw: float,
    spike_ratio: float,
    spike_margin: float,
    valley: npt.NDArray[np.bool_],
    daytime: npt.NDArray[np.bool_],
    night: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:  # pragma: no cover - compiled
    """Every figure of ``n`` rows, from the 96 slot columns as Arrow holds them: ``values``
    are the addresses of the float32 value buffers, ``bitmaps`` of the null bitmaps, read
    where ``nullable`` (NaN is missing too). The caller keeps the buffers alive.

    Returns ``(len(FIGURES), rows)`` figures and ``(rows, 24)`` hourly means.
    """
    slots = values.size
    per_hour = slots // 24
    out = np.empty((len(FIGURES), n), dtype=np.float32)
    hourly = np.empty((n, 24), dtype=np.float32)
    blocks = (n + BLOCK - 1) // BLOCK
    for b in prange(blocks):
        first = b * BLOCK
        last = min(n, first + BLOCK)
        size = last - first
        buffer = np.empty((size, slots), dtype=np.float64)
        for j in range(slots):
            column = carray(float32_pointer(values[j]), (n,))
            for r in range(size):
                buffer[r, j] = column[first + r]
            if nullable[j]:
                bits = carray(uint8_pointer(bitmaps[j]), ((n + 7) // 8,))
                for r in range(size):
                    i = first + r
                    if not (bits[i >> 3] >> (i & 7)) & 1:
                        buffer[r, j] = np.nan
        for r in range(size):
            i = first + r
            row = buffer[r]
            negative = 0
            absurd = 0
            count = 0
            total = 0.0
            peak = -np.inf
            at = -1
            for j in range(slots):
                v = row[j]
                if np.isnan(v):
                    continue
                if v < -negative_tolerance:
                    negative += 1
                    row[j] = np.nan
                elif v > absurd_kw:
                    absurd += 1
                    row[j] = np.nan
                else:
                    count += 1
                    total += v
                    if v > peak:
                        peak = v
                        at = j
            # A reading far above the rest of its own day is a register fault (twice at most).
            for attempt in range(2):
                if (
                    count <= 4
                    or not peak > spike_ratio * (total - peak) / (count - 1) + spike_margin
                ):
                    break
                row[at] = np.nan
                count -= 1
                total -= peak
                absurd += 1
                if attempt == 0:
                    peak = -np.inf
                    for j in range(slots):
                        if row[j] > peak:
                            peak = row[j]
                            at = j
            mean = total / count if count > 0 else np.nan
            square = 0.0
            high = -np.inf
            low = np.inf
            rough = 0.0
            pairs = 0
            step = 0.0
            previous = np.nan
            floor = np.inf
            v_sum = 0.0
            v_sq = 0.0
            v_n = 0
            d_sum = 0.0
            d_n = 0
            n_sum = 0.0
            n_n = 0
            for h in range(24):
                s = 0.0
                c = 0
                for k in range(h * per_hour, (h + 1) * per_hour):
                    v = row[k]
                    if not np.isnan(v):
                        s += v
                        c += 1
                        square += v * v
                        high = max(high, v)
                        low = min(low, v)
                        if not np.isnan(previous):
                            change = abs(v - previous)
                            rough += change
                            pairs += 1
                            step = max(step, change)
                    previous = v
                # Hourly means; an hour without readings takes the day's mean.
                hour = s / c if c > 0 else mean
                hourly[i, h] = hour
                floor = min(floor, hour)
                if valley[h]:
                    v_sum += hour
                    v_sq += hour * hour
                    v_n += 1
                if daytime[h]:
                    d_sum += hour
                    d_n += 1
                if night[h]:
                    n_sum += hour
                    n_n += 1
            v_mean = v_sum / v_n
            out[0, i] = count
            out[1, i] = negative
            out[2, i] = absurd
            out[3, i] = mean
            if count > 0:
                out[4, i] = high
                out[5, i] = low
                out[6, i] = np.sqrt(max(square / count - mean * mean, 0.0))
                out[7, i] = rough / pairs if pairs > 0 else np.nan
                out[8, i] = step if pairs > 0 else np.nan
                out[9, i] = floor
                out[10, i] = v_mean
                out[11, i] = d_sum / d_n
                out[12, i] = n_sum / n_n
                spread = np.sqrt(max(v_sq / v_n - v_mean * v_mean, 0.0))
                out[13, i] = spread / v_mean if v_mean > 0 else np.nan
            else:
                for k in range(4, len(FIGURES)):
                    out[k, i] = np.nan
    return out, hourly


@njit(parallel=True, cache=True, nogil=True)
def tree_margin(
    x: npt.NDArray[np.float64],
    features: npt.NDArray[np.int64],
    thresholds: npt.NDArray[np.float64],
    leaves: npt.NDArray[np.float64],
    depth: int,
    base_score: float,
    learning_rate: float,
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    """The boosted trees' log-odds for every row (see ``TreeModel.margin``)."""
    n = x.shape[0]
    trees = features.shape[0]
    internal = 2**depth - 1
    out = np.empty(n, dtype=np.float64)
    for i in prange(n):
        total = base_score
        for t in range(trees):
            node = 0
            for _ in range(depth):
                right = x[i, features[t, node]] > thresholds[t, node]
                node = 2 * node + 1 + (1 if right else 0)
            total += learning_rate * leaves[t, node - internal]
        out[i] = total
    return out
