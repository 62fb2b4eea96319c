"""The fused stage-one loop: every figure of a meter-day from one read of its 96 readings.

Compiled by Numba (cached on disk after the first run) and run in parallel over blocks of
rows. Plain numpy would read the batch once per figure; this reads it once. The readings
arrive column by column (as Arrow holds them); each block is first gathered into a small
row-major buffer that stays in the processor's cache.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

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
BLOCK = 256


@njit(parallel=True, cache=True, nogil=True)
def reduce_days(
    x: npt.NDArray[np.float32],
    negative_tolerance: float,
    absurd_kw: float,
    spike_ratio: float,
    spike_margin: float,
    valley: npt.NDArray[np.bool_],
    daytime: npt.NDArray[np.bool_],
    night: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:  # pragma: no cover - compiled
    n, slots = x.shape
    per_hour = slots // 24
    out = np.empty((n, len(FIGURES)), dtype=np.float64)
    hourly = np.empty((n, 24), dtype=np.float32)
    blocks = (n + BLOCK - 1) // BLOCK
    for b in prange(blocks):
        first = b * BLOCK
        last = min(n, first + BLOCK)
        size = last - first
        buffer = np.empty((size, slots), dtype=np.float64)
        for j in range(slots):
            for r in range(size):
                buffer[r, j] = x[first + r, j]
        hours = np.empty(24, dtype=np.float64)
        for r in range(size):
            i = first + r
            row = buffer[r]
            negative = 0
            absurd = 0
            count = 0
            total = 0.0
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
            # A reading far above the rest of its own day is a register fault (twice at most).
            for _ in range(2):
                if count <= 4:
                    break
                peak = -np.inf
                at = -1
                for j in range(slots):
                    if row[j] > peak:
                        peak = row[j]
                        at = j
                if peak > spike_ratio * (total - peak) / (count - 1) + spike_margin:
                    row[at] = np.nan
                    count -= 1
                    total -= peak
                    absurd += 1
                else:
                    break
            square = 0.0
            high = -np.inf
            low = np.inf
            rough = 0.0
            pairs = 0
            step = 0.0
            for j in range(slots):
                v = row[j]
                if np.isnan(v):
                    continue
                square += v * v
                high = max(high, v)
                low = min(low, v)
                if j > 0 and not np.isnan(row[j - 1]):
                    d = abs(v - row[j - 1])
                    rough += d
                    pairs += 1
                    step = max(step, d)
            mean = total / count if count > 0 else np.nan
            # Hourly means; an hour without readings takes the day's mean.
            floor = np.inf
            for h in range(24):
                s = 0.0
                c = 0
                for k in range(per_hour):
                    v = row[h * per_hour + k]
                    if not np.isnan(v):
                        s += v
                        c += 1
                hours[h] = s / c if c > 0 else mean
                hourly[i, h] = hours[h]
                floor = min(floor, hours[h])
            v_sum = 0.0
            v_sq = 0.0
            v_n = 0
            d_sum = 0.0
            d_n = 0
            n_sum = 0.0
            n_n = 0
            for h in range(24):
                if valley[h]:
                    v_sum += hours[h]
                    v_sq += hours[h] * hours[h]
                    v_n += 1
                if daytime[h]:
                    d_sum += hours[h]
                    d_n += 1
                if night[h]:
                    n_sum += hours[h]
                    n_n += 1
            v_mean = v_sum / v_n
            out[i, 0] = count
            out[i, 1] = negative
            out[i, 2] = absurd
            out[i, 3] = mean
            if count > 0:
                out[i, 4] = high
                out[i, 5] = low
                out[i, 6] = np.sqrt(max(square / count - mean * mean, 0.0))
                out[i, 7] = rough / pairs if pairs > 0 else np.nan
                out[i, 8] = step if pairs > 0 else np.nan
                out[i, 9] = floor
                out[i, 10] = v_mean
                out[i, 11] = d_sum / d_n
                out[i, 12] = n_sum / n_n
                spread = np.sqrt(max(v_sq / v_n - v_mean * v_mean, 0.0))
                out[i, 13] = spread / v_mean if v_mean > 0 else np.nan
            else:
                for k in range(4, len(FIGURES)):
                    out[i, k] = np.nan
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
