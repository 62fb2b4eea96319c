"""The fused stage-one loop: every figure of a meter-day from one read of its 96 readings.

Compiled by Numba (cached on disk after the first run) and run in parallel over blocks of
rows. Plain numpy would read the batch once per figure; this reads it once, straight from
Arrow's column buffers, a block of rows at a time (see :func:`reduce_days`).
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
BLOCK = 512
TREE_BLOCK = 64


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

    Each block of rows is copied column by column into a buffer that stays in the processor's
    cache (nulls becoming NaN); the passes then run a column at a time, every row of the block
    keeping its running figures, which the processor does for many rows at once (the loops
    are short, touch few arrays and work in float32, so that they compile to wide vector
    instructions). Pass one counts the faults (negative, impossibly large) and blanks them,
    and finds each day's peak; a peak far above the rest of its own day (``spike_ratio`` ×
    their mean + ``spike_margin``) is a register fault and is blanked too (twice at most).
    Pass two takes the figures and the hourly means of what is left; the spread is taken
    about the day's mean, which keeps float32 exact enough for the flattest loads.

    Returns ``(len(FIGURES), rows)`` figures and ``(24, rows)`` hourly means.
    """
    slots = values.size
    per_hour = slots // 24
    out = np.empty((len(FIGURES), n), dtype=np.float32)
    hourly = np.empty((24, n), dtype=np.float32)
    blocks = (n + BLOCK - 1) // BLOCK
    low_ok = np.float32(-negative_tolerance)
    high_ok = np.float32(absurd_kw)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    blank = np.float32(np.nan)
    for b in prange(blocks):
        first = b * BLOCK  # a multiple of 8: a block starts on a whole byte of a bitmap
        size = min(n, first + BLOCK) - first
        end = first + size
        block = np.empty((slots, size), dtype=np.float32)
        for j in range(slots):
            column = carray(float32_pointer(values[j]), (n,))
            row = block[j]
            for r in range(size):
                row[r] = column[first + r]
            if nullable[j]:  # nulls are rare: a byte of eight valid rows is skipped whole
                bits = carray(uint8_pointer(bitmaps[j]), ((n + 7) // 8,))
                for byte in range(first >> 3, (end + 7) >> 3):
                    mask = bits[byte]
                    if mask == 0xFF:
                        continue
                    for k in range(8):
                        i = byte * 8 + k
                        if i < end and not (mask >> k) & 1:
                            row[i - first] = blank
        # Pass one: faults, the valid count and sum, and the peak.
        count = np.zeros(size, dtype=np.float32)
        negative = np.zeros(size, dtype=np.float32)
        absurd = np.zeros(size, dtype=np.float32)
        total = np.zeros(size)
        peak = np.full(size, -np.inf, dtype=np.float32)
        at = np.full(size, -1.0, dtype=np.float32)
        for j in range(slots):
            row = block[j]
            slot = np.float32(j)
            for r in range(size):
                v = row[r]
                negative[r] += one if v < low_ok else zero
                absurd[r] += one if v > high_ok else zero
                row[r] = v if (v >= low_ok and v <= high_ok) else blank
            for r in range(size):
                v = row[r]
                kept = v == v
                count[r] += one if kept else zero
                total[r] += np.float64(v) if kept else 0.0
            for r in range(size):
                v = row[r]
                better = v > peak[r]
                peak[r] = v if better else peak[r]
                at[r] = slot if better else at[r]
        # Register faults: a reading towering over the rest of its own day.
        for r in range(size):
            for attempt in range(2):
                c = count[r]
                top = np.float64(peak[r])
                if c <= 4 or not top > spike_ratio * (total[r] - top) / (c - 1) + spike_margin:
                    break
                block[int(at[r]), r] = blank
                count[r] -= one
                total[r] -= top
                absurd[r] += one
                if attempt == 0:  # the next highest, for a second look
                    peak[r] = -np.inf
                    for j in range(slots):
                        v = block[j, r]
                        if v > peak[r]:
                            peak[r] = v
                            at[r] = j
        mean = np.empty(size, dtype=np.float32)
        for r in range(size):
            mean[r] = total[r] / count[r] if count[r] > 0 else np.nan
        # Pass two: the figures of what is left, and the hourly means.
        square = np.zeros(size, dtype=np.float32)
        high = np.full(size, -np.inf, dtype=np.float32)
        low = np.full(size, np.inf, dtype=np.float32)
        rough = np.zeros(size, dtype=np.float32)
        pairs = np.zeros(size, dtype=np.float32)
        step = np.zeros(size, dtype=np.float32)
        hour_sum = np.zeros(size, dtype=np.float32)
        hour_n = np.zeros(size, dtype=np.float32)
        floor = np.full(size, np.inf, dtype=np.float32)
        v_sum = np.zeros(size)
        v_sq = np.zeros(size)
        d_sum = np.zeros(size)
        n_sum = np.zeros(size)
        v_n = 0
        d_n = 0
        n_n = 0
        for j in range(slots):
            row = block[j]  # faults are NaN now
            for r in range(size):
                v = row[r]
                kept = v == v
                hour_sum[r] += v if kept else zero
                hour_n[r] += one if kept else zero
            for r in range(size):
                v = row[r]
                deviation = v - mean[r]
                square[r] += deviation * deviation if v == v else zero
            for r in range(size):
                v = row[r]
                high[r] = v if v > high[r] else high[r]
                low[r] = v if v < low[r] else low[r]
            if j > 0:
                previous = block[j - 1]
                for r in range(size):
                    change = abs(row[r] - previous[r])
                    both = change == change
                    rough[r] += change if both else zero
                    pairs[r] += one if both else zero
                    step[r] = change if change > step[r] else step[r]
            if (j + 1) % per_hour:
                continue
            # The hour is complete: its mean (the day's mean where it has no readings).
            h = j // per_hour
            hour = hourly[h, first:end]
            for r in range(size):
                n_h = hour_n[r]
                hour[r] = hour_sum[r] / n_h if n_h > 0 else mean[r]
                floor[r] = hour[r] if hour[r] < floor[r] else floor[r]
                hour_sum[r] = zero
                hour_n[r] = zero
            if valley[h]:
                v_n += 1
                for r in range(size):
                    value = np.float64(hour[r])
                    v_sum[r] += value
                    v_sq[r] += value * value
            if daytime[h]:
                d_n += 1
                for r in range(size):
                    d_sum[r] += hour[r]
            if night[h]:
                n_n += 1
                for r in range(size):
                    n_sum[r] += hour[r]
        # The figures, a column at a time (a day without readings has NaN for each).
        out[0, first:end] = count
        out[1, first:end] = negative
        out[2, first:end] = absurd
        out[3, first:end] = mean
        some = out[4, first:end]
        for r in range(size):
            some[r] = high[r] if count[r] > 0 else blank
        some = out[5, first:end]
        for r in range(size):
            some[r] = low[r] if count[r] > 0 else blank
        some = out[6, first:end]
        for r in range(size):
            some[r] = np.sqrt(square[r] / count[r])
        some = out[7, first:end]
        for r in range(size):
            some[r] = rough[r] / pairs[r] if pairs[r] > 0 else blank
        some = out[8, first:end]
        for r in range(size):
            some[r] = step[r] if pairs[r] > 0 else blank
        some = out[9, first:end]
        for r in range(size):
            some[r] = floor[r] if count[r] > 0 else blank
        some = out[10, first:end]
        for r in range(size):
            some[r] = v_sum[r] / v_n
        some = out[11, first:end]
        for r in range(size):
            some[r] = d_sum[r] / d_n
        some = out[12, first:end]
        for r in range(size):
            some[r] = n_sum[r] / n_n
        some = out[13, first:end]
        for r in range(size):
            v_mean = v_sum[r] / v_n
            spread = np.sqrt(max(v_sq[r] / v_n - v_mean * v_mean, 0.0))
            some[r] = spread / v_mean if v_mean > 0 else np.nan
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
    """The boosted trees' log-odds for every row (see ``TreeModel.margin``).

    A block of rows goes down each tree together: the rows' walks do not depend on one
    another, so the processor overlaps them; each row still adds the trees in order."""
    n = x.shape[0]
    trees = features.shape[0]
    internal = 2**depth - 1
    out = np.empty(n, dtype=np.float64)
    blocks = (n + TREE_BLOCK - 1) // TREE_BLOCK
    for b in prange(blocks):
        first = b * TREE_BLOCK
        size = min(n, first + TREE_BLOCK) - first
        total = np.full(size, base_score)
        node = np.empty(size, dtype=np.int64)
        for t in range(trees):
            split_on = features[t]
            split_at = thresholds[t]
            leaf = leaves[t]
            for r in range(size):
                node[r] = 0
            for _ in range(depth):
                for r in range(size):
                    k = node[r]
                    right = x[first + r, split_on[k]] > split_at[k]
                    node[r] = 2 * k + 1 + (1 if right else 0)
            for r in range(size):
                total[r] += learning_rate * leaf[node[r] - internal]
        for r in range(size):
            out[first + r] = total[r]
    return out
