"""The compiled loop of stage two: every figure of one meter from its days, meter by meter.

Stage two works on short series (one value per day, a few weeks), where numpy spends its time
allocating whole-batch temporaries for every step. Here each meter's days stay in the
processor's cache while all its figures are taken; meters run in parallel blocks, and each block
reuses one set of scratch buffers. The physics is documented in :mod:`.features`, which calls
:func:`meter_features` and names its columns.

Missing values are NaN throughout and are skipped as numpy's ``nan*`` functions skip them;
medians count ranks and quantiles select from what is left (a few dozen values).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from minewatch.detect.meters._buffers import chunk_of, read_float32, read_int16

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
"""The columns of :func:`meter_features`' result, in order."""

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

BLOCK = 64
STAT_BAR = 8.0
"""A step must stand this many noise units above the day-to-day wobble."""

_MEAN, _MAX, _FLOOR, _VALLEY, _DAYTIME, _NIGHT, _VALLEY_CV, _STD, _ROUGH = range(len(INPUTS))


@njit(cache=True, nogil=True, error_model="numpy")
def _select(
    values: npt.NDArray[np.float64], n: int, k: int
) -> float:  # pragma: no cover - compiled
    """The ``k``-th smallest of ``values[:n]``, reordering them so that everything after
    position ``k`` is at least as large (Wirth's selection: linear time, in place)."""
    lo = 0
    hi = n - 1
    while lo < hi:
        pivot = values[k]
        i = lo
        j = hi
        while True:
            while values[i] < pivot:
                i += 1
            while pivot < values[j]:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
            if i > j:
                break
        if j < k:
            lo = i
        if k < i:
            hi = j
    return float(values[k])


@njit(cache=True, nogil=True, error_model="numpy")
def _present(
    values: npt.NDArray[np.float64], scratch: npt.NDArray[np.float64]
) -> int:  # pragma: no cover - compiled
    """Copy the non-NaN ``values`` to the front of ``scratch``; return how many there are."""
    n = 0
    for v in values:
        if not np.isnan(v):
            scratch[n] = v
            n += 1
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def _median(
    values: npt.NDArray[np.float64], scratch: npt.NDArray[np.float64]
) -> float:  # pragma: no cover - compiled
    """The median of the non-NaN ``values`` (mean of the two middle ones); NaN if none.

    Each value's rank is counted against all the others: quadratic, but without a branch the
    processor could mispredict, which for a few dozen days beats sorting or selecting."""
    n = _present(values, scratch)
    if n == 0:
        return np.nan
    low_rank = (n - 1) // 2
    high_rank = n // 2
    low = np.nan
    high = np.nan
    for i in range(n):
        x = scratch[i]
        below = 0
        equal = 0
        for j in range(n):
            below += scratch[j] < x
            equal += scratch[j] == x
        # x holds ranks below … below + equal - 1.
        if below <= low_rank < below + equal:
            low = x
        if below <= high_rank < below + equal:
            high = x
    return 0.5 * (low + high)


@njit(cache=True, nogil=True, error_model="numpy")
def _quantile(
    values: npt.NDArray[np.float64], q: float, scratch: npt.NDArray[np.float64]
) -> float:  # pragma: no cover - compiled
    """The ``q`` quantile of the non-NaN ``values`` (the lower of two neighbours)."""
    n = _present(values, scratch)
    if n == 0:
        return np.nan
    return _select(scratch, n, max(int(np.floor(q * (n - 1))), 0))


@njit(cache=True, nogil=True, error_model="numpy")
def _mean(values: npt.NDArray[np.float64]) -> float:  # pragma: no cover - compiled
    total = 0.0
    n = 0
    for v in values:
        if not np.isnan(v):
            total += v
            n += 1
    return total / n if n > 0 else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _std(values: npt.NDArray[np.float64]) -> float:  # pragma: no cover - compiled
    mean = _mean(values)
    total = 0.0
    n = 0
    for v in values:
        if not np.isnan(v):
            total += (v - mean) * (v - mean)
            n += 1
    return np.sqrt(total / n) if n > 0 else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _corr(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> float:  # pragma: no cover - compiled
    """Pearson correlation over the positions where both are present (at least four)."""
    sa = 0.0
    sb = 0.0
    n = 0
    for k in range(a.size):
        if not (np.isnan(a[k]) or np.isnan(b[k])):
            sa += a[k]
            sb += b[k]
            n += 1
    if n < 4:
        return np.nan
    ma = sa / n
    mb = sb / n
    num = 0.0
    va = 0.0
    vb = 0.0
    for k in range(a.size):
        if not (np.isnan(a[k]) or np.isnan(b[k])):
            num += (a[k] - ma) * (b[k] - mb)
            va += (a[k] - ma) * (a[k] - ma)
            vb += (b[k] - mb) * (b[k] - mb)
    den = np.sqrt(va * vb)
    return num / den if den > 0 else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _slope(
    y: npt.NDArray[np.float64], t: npt.NDArray[np.float64], scale: float
) -> float:  # pragma: no cover - compiled
    """The change of ``y`` per unit of ``t`` over ``scale`` (NaN when ``t`` barely varies).

    Each series is centred on its own mean; the covariance counts the days both are known."""
    mt = _mean(t)
    my = _mean(y)
    var = 0.0
    nv = 0
    cov = 0.0
    nc = 0
    for k in range(t.size):
        if not np.isnan(t[k]):
            var += (t[k] - mt) * (t[k] - mt)
            nv += 1
            if not np.isnan(y[k]):
                cov += (t[k] - mt) * (y[k] - my)
                nc += 1
    if nv == 0:
        return np.nan
    var /= nv
    if not var > 0.25:
        return np.nan
    return (cov / nc if nc > 0 else np.nan) / var / scale


@njit(cache=True, nogil=True, error_model="numpy")
def _nan_max(a: float, b: float) -> float:  # pragma: no cover - compiled
    """``np.maximum``: NaN if either is NaN."""
    if np.isnan(a) or np.isnan(b):
        return np.nan
    return a if a > b else b


@njit(cache=True, nogil=True, error_model="numpy")
def _clean(value: float, nan: float) -> float:  # pragma: no cover - compiled
    """``np.nan_to_num``: NaN to ``nan``, infinities to the largest finite values."""
    if np.isnan(value):
        return nan
    if value == np.inf:
        return np.finfo(np.float64).max
    if value == -np.inf:
        return -np.finfo(np.float64).max
    return value


@njit(cache=True, nogil=True, error_model="numpy")
def _median_of(
    level: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_],
    start: int,
    after: bool,
    work: npt.NDArray[np.float64],
    scratch: npt.NDArray[np.float64],
) -> float:  # pragma: no cover - compiled
    """The median of the valid days before ``start``, or from ``start`` on when ``after``
    (NaN where there is none)."""
    for k in range(level.size):
        work[k] = level[k] if (valid[k] and (k >= start) == after) else np.nan
    return _median(work, scratch)


@njit(cache=True, nogil=True, error_model="numpy")
def _change_point(
    level: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_],
    min_mining_kw: float,
    min_jump: float,
    min_after: int,
    work: npt.NDArray[np.float64],
    scratch: npt.NDArray[np.float64],
) -> tuple[int, float, float]:  # pragma: no cover - compiled
    """The day a lasting step up in ``level`` begins (-1 if none), its strength and the base.

    Every split is scored as the mean after minus the mean before, in units of the day-to-day
    noise and weighted by how many days stand on each side (a CUSUM-style scan). Among the
    splits that clear :data:`STAT_BAR`, the largest rise wins: a small but noise-free weekly
    rhythm must not outrank the rigs' arrival. A start needs ``min_after`` valid days after it.
    """
    d = level.size
    if d < 2:
        return -1, 0.0, 0.0
    # Day-to-day noise: the median absolute change between neighbouring valid days.
    for k in range(d - 1):
        if valid[k] and valid[k + 1]:
            work[k] = abs(level[k + 1] - level[k])
        else:
            work[k] = np.nan
    work[d - 1] = np.nan
    noise = _median(work, scratch) / 0.954 + 0.003 * abs(_median(level, scratch)) + 0.02
    total = 0.0
    n = 0
    for k in range(d):
        if valid[k]:
            total += level[k]
            n += 1
    cum = 0.0
    n_before = 0
    best_stat = -np.inf  # the strongest split
    best_at = 0
    rise_at = -1  # the largest rise among the significant splits
    rise = -np.inf
    for k in range(d - 1):
        if valid[k]:
            cum += level[k]
            n_before += 1
        n_after = n - n_before
        if n_before < 2 or n_after < min_after:
            continue
        delta = (total - cum) / n_after - cum / n_before
        stat = delta / noise * np.sqrt(n_before * n_after / max(n, 1))
        if not np.isfinite(stat):
            continue
        if stat > best_stat:
            best_stat = stat
            best_at = k
        if stat > STAT_BAR and delta > rise:
            rise = delta
            rise_at = k
    split = rise_at if rise_at >= 0 else best_at
    # The figures at the chosen split.
    cum = 0.0
    n_before = 0
    for k in range(split + 1):
        if valid[k]:
            cum += level[k]
            n_before += 1
    n_after = n - n_before
    before = cum / n_before if n_before > 0 else np.nan
    after = (total - cum) / n_after if n_after > 0 else np.nan
    jump = after - before
    stat = best_stat
    if rise_at >= 0 or best_stat > -np.inf:
        stat = jump / noise * np.sqrt(n_before * n_after / max(n, 1))
    found = (
        stat > STAT_BAR
        and jump > min_mining_kw
        and jump > 0.2 * _nan_max(after, 1e-9)
        and jump >= min_jump
    )
    if not found:
        return -1, (stat if np.isfinite(stat) else 0.0), 0.0
    start = split + 1
    # The base is the median of the days before (robust to a partial first day).
    base = _median_of(level, valid, start, False, work, scratch)
    if not np.isfinite(base):
        base = _clean(before, 0.0)
    return start, stat, base


@njit(cache=True, nogil=True, error_model="numpy")
def _refine_start(
    hourly: npt.NDArray[np.float32],
    night: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_],
    start: int,
    min_mining_kw: float,
    earlier: npt.NDArray[np.bool_],
    work: npt.NDArray[np.float64],
    work2: npt.NDArray[np.float64],
    scratch: npt.NDArray[np.float64],
    threshold: npt.NDArray[np.float64],
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Move the start back to the first step of the new load, and find the hour it began.

    Rigs arrive in batches and farms are curtailed now and then, so the strongest step is not
    always the first. The nights before it are searched again (binary segmentation) for an
    earlier lasting step of at least 2 % of the whole rise and three small rigs; the weekly
    rhythm of a site's lighting load is not one. Then the hours at the end of the day before
    the start that already carry the new load (half-way up from the same hour's usual level)
    move the start back to that day.
    """
    d = night.size
    after = _median_of(night, valid, start, True, work, scratch)
    rise = _nan_max(after - _clean(_median_of(night, valid, start, False, work, scratch), 0.0), 0.0)
    min_jump = _nan_max(0.02 * rise, 3 * min_mining_kw)
    for _ in range(4):
        for k in range(d):
            earlier[k] = valid[k] and k < start
            work2[k] = night[k] if earlier[k] else np.nan
        sub_start, _stat, _base = _change_point(
            work2, earlier, min_mining_kw, min_jump, 1, work, scratch
        )
        if not (0 <= sub_start < start):
            break
        start = sub_start
    base = _clean(_median_of(night, valid, start, False, work, scratch), 0.0)
    rise = _nan_max(after - base, 0.0)
    # Hour by hour against the same hour before the start (an evening peak is not a rig).
    for h in range(24):
        for k in range(d):
            work2[k] = hourly[k, h] if (valid[k] and k < start) else np.nan
        usual = _median(work2, scratch)
        threshold[h] = (base if np.isnan(usual) else usual) + 0.5 * rise
    prev = start - 1
    if prev >= 0 and valid[prev]:
        tail = 0
        for h in range(23, -1, -1):
            if hourly[prev, h] > threshold[h]:
                tail += 1
            else:
                break
        if 1 <= tail < 24:
            return prev, 24 - tail
    for h in range(24):
        if hourly[start, h] > threshold[h]:
            return start, h
    return start, 0


@njit(cache=True, nogil=True, error_model="numpy")
def place_days(
    meter: npt.NDArray[np.int32],
    day: npt.NDArray[np.int32],
    first_day: int,
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    means: npt.NDArray[np.int64],
    meters: int,
    days: int,
    min_valid_slots: int,
    slots_per_day: int,
) -> tuple[
    npt.NDArray[np.int32], npt.NDArray[np.bool_], npt.NDArray[np.int64]
]:  # pragma: no cover - compiled
    """Place stage-one rows on a ``(meters, days)`` calendar in one pass, reading the table in
    place (:mod:`._buffers`): ``starts`` are its chunks' first rows, ``counts[k, c]`` the
    addresses of the int16 columns valid, negative and absurd slots and ``means[c]`` of the
    float32 daily mean. ``meter`` is each row's meter code, ``day`` its day number.

    Of two rows for one meter-day the one with more valid quarter-hours stays, then the one
    with the higher mean (a missing mean counts as -1), then the later. Returns the row of
    each meter-day (-1 where there is none), whether the day has ``min_valid_slots``, and per
    meter ``(present days, duplicates dropped, negative slots, impossible slots, missing
    slots)`` as a ``(5, meters)`` array.
    """
    row_of = np.full((meters, days), -1, dtype=np.int32)
    kept_slots = np.zeros((meters, days), dtype=np.int16)
    totals = np.zeros((5, meters), dtype=np.int64)
    chunk = 0
    for r in range(meter.size):
        while starts[chunk + 1] <= r:
            chunk += 1
        local = r - starts[chunk]
        i = meter[r]
        k = day[r] - first_day
        slots = read_int16(counts[0, chunk], local)
        totals[2, i] += read_int16(counts[1, chunk], local)
        totals[3, i] += read_int16(counts[2, chunk], local)
        held = row_of[i, k]
        if held >= 0:
            totals[1, i] += 1
            theirs_slots = kept_slots[i, k]
            if slots < theirs_slots:
                continue
            if slots == theirs_slots:
                mine = read_float32(means[chunk], local)
                other = chunk_of(starts, held)
                theirs = read_float32(means[other], held - starts[other])
                mine = -1.0 if np.isnan(mine) else mine
                theirs = -1.0 if np.isnan(theirs) else theirs
                if mine < theirs:
                    continue
        row_of[i, k] = r
        kept_slots[i, k] = slots
    valid = np.zeros((meters, days), dtype=np.bool_)
    for i in range(meters):
        for k in range(days):
            if row_of[i, k] >= 0:
                slots = kept_slots[i, k]
                totals[0, i] += 1
                totals[4, i] += slots_per_day - slots
                valid[i, k] = slots >= min_valid_slots
    return row_of, valid, totals


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def meter_features(
    row_of: npt.NDArray[np.int32],
    starts: npt.NDArray[np.int64],
    figures: npt.NDArray[np.int64],
    hourly: npt.NDArray[np.int64],
    valid: npt.NDArray[np.bool_],
    temperature: npt.NDArray[np.float64],
    weekday: npt.NDArray[np.int64],
    min_mining_kw: float,
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    """Stage two for every meter.

    ``row_of`` ``(meters, days)`` is the stage-one row of each meter-day (-1 where absent);
    the stage-one table is read in place (:mod:`._buffers`): ``starts`` are its chunks' first
    rows, ``figures[k, c]`` the address of column ``INPUTS[k]`` in chunk ``c`` and
    ``hourly[h, c]`` that of hour ``h``'s means. ``valid`` and ``temperature``
    are ``(meters, days)`` (temperature all NaN where unknown), ``weekday`` the day of week of
    each day (Monday 0). Returns ``(meters, len(OUTPUTS))``.
    """
    m, d = row_of.shape
    out = np.empty((m, len(OUTPUTS)), dtype=np.float64)
    blocks = (m + BLOCK - 1) // BLOCK
    for b in prange(blocks):
        scratch = np.empty(max(d, 24), dtype=np.float64)
        work = np.empty(d, dtype=np.float64)  # one value per day: helpers read all of it
        work2 = np.empty(d, dtype=np.float64)
        day = np.empty((len(INPUTS), d), dtype=np.float64)
        hours = np.empty((d, 24), dtype=np.float32)
        signal = np.empty(d, dtype=np.float64)
        floor = np.empty(d, dtype=np.float64)
        valley = np.empty(d, dtype=np.float64)
        daytime = np.empty(d, dtype=np.float64)
        night = np.empty(d, dtype=np.float64)
        level_on = np.empty(d, dtype=np.float64)
        floor_on = np.empty(d, dtype=np.float64)
        temp_on = np.empty(d, dtype=np.float64)
        block_on = np.empty(d, dtype=np.float64)
        operating = np.empty(d, dtype=np.bool_)
        on = np.empty(d, dtype=np.bool_)
        earlier = np.empty(d, dtype=np.bool_)
        threshold = np.empty(24, dtype=np.float64)
        profile_even = np.empty(24, dtype=np.float64)
        profile_odd = np.empty(24, dtype=np.float64)
        for i in range(b * BLOCK, min(m, (b + 1) * BLOCK)):
            ok = valid[i]
            n_valid = 0
            # Gather the meter's days (NaN where a day is absent).
            for k in range(d):
                r = row_of[i, k]
                if r >= 0:
                    chunk = chunk_of(starts, r)
                    local = r - starts[chunk]
                    for c in range(len(INPUTS)):
                        day[c, k] = read_float32(figures[c, chunk], local)
                    for h in range(24):
                        hours[k, h] = read_float32(hourly[h, chunk], local)
                else:
                    day[:, k] = np.nan
                    hours[k, :] = np.nan
                live = ok[k]
                n_valid += live
                signal[k] = day[_MEAN, k] if live else np.nan
                floor[k] = day[_FLOOR, k] if live else np.nan
                valley[k] = day[_VALLEY, k] if live else np.nan
                daytime[k] = day[_DAYTIME, k] if live else np.nan
                night[k] = day[_NIGHT, k] if live else np.nan
            # The start: read from the daily mean, the floor or the valley hours, whichever
            # shows the new load as the largest share of what follows.
            start = -1
            start_t = 0.0
            best_share = -np.inf
            for c in range(3):
                series = signal if c == 0 else (floor if c == 1 else valley)
                begin, stat, before = _change_point(
                    series, ok, min_mining_kw, 0.0, 4, work, scratch
                )
                share = -np.inf
                if begin >= 0:
                    after = _median_of(series, ok, begin, True, work, scratch)
                    share = _clean((after - before) / after, 0.0)
                if c == 0 or share > best_share:
                    best_share = share
                    start = begin
                    start_t = stat
            start_hour = -1
            if start >= 0:
                start, start_hour = _refine_start(
                    hours, night, ok, start, min_mining_kw,
                    earlier, work, work2, scratch, threshold,
                )  # fmt: skip
            has_start = start >= 0
            base = (
                _clean(_median_of(signal, ok, start, False, work, scratch), 0.0)
                if has_start
                else 0.0
            )
            n_operating = 0
            for k in range(d):
                operating[k] = ok[k] and (not has_start or k >= start)
                n_operating += operating[k]
                work[k] = signal[k] if operating[k] else np.nan
            op_signal = _median(work, scratch)
            # Curtailed days: the mean falls to less than half way between the base and the
            # usual (when the mean did not rise at all, every operating day counts).
            on_cut = base + 0.5 * (op_signal - base) if op_signal > base else -np.inf
            n_on = 0
            parity = 0
            n_even = 0
            n_odd = 0
            profile_even[:] = 0.0
            profile_odd[:] = 0.0
            for k in range(d):
                on[k] = operating[k] and signal[k] >= on_cut
                level_on[k] = signal[k] if on[k] else np.nan
                floor_on[k] = floor[k] if on[k] else np.nan
                temp_on[k] = temperature[i, k] if on[k] else np.nan
                block_on[k] = valley[k] - daytime[k] if on[k] else np.nan
                if on[k]:
                    n_on += 1
                    parity = 1 - parity
                    # The day's shape (hours over the day's mean), odd and even on-days apart:
                    # a load that repeats its day shows the same shape in both.
                    mean32 = np.float32(day[_MEAN, k])
                    target = profile_odd if parity == 1 else profile_even
                    if parity == 1:
                        n_odd += 1
                    else:
                        n_even += 1
                    for h in range(24):
                        v = hours[k, h] / mean32
                        if np.isfinite(v):
                            target[h] += v
            level_kw = _median(level_on, scratch)
            floor_kw = _median(floor_on, scratch)
            mean_level = _mean(level_on)
            base_floor = 0.0
            if has_start:
                for k in range(d):
                    work[k] = floor[k] if (ok[k] and k < start) else np.nan
                base_floor = _clean(_quantile(work, 0.25, scratch), 0.0)
            for k in range(d):
                work2[k] = day[_STD, k] / day[_MEAN, k] if on[k] else np.nan
            flat_cv = _median(work2, scratch)
            for k in range(d):
                work2[k] = day[_ROUGH, k] / day[_MEAN, k] if on[k] else np.nan
            rough = _median(work2, scratch)
            for k in range(d):
                work2[k] = day[_MEAN, k] / day[_MAX, k] if on[k] else np.nan
            load_factor = _median(work2, scratch)
            for h in range(24):
                profile_even[h] /= n_even
                profile_odd[h] /= n_odd
            profile_corr = _corr(profile_even, profile_odd)
            profile_amp = np.nan
            if n_on > 0:
                high = -np.inf
                low = np.inf
                for h in range(24):
                    p = (profile_even[h] * n_even + profile_odd[h] * n_odd) / n_on
                    high = _nan_max(high, p)
                    low = -_nan_max(-low, -p)
                profile_amp = high - low
            for k in range(d):
                work[k] = signal[k] if (on[k] and weekday[k] >= 5) else np.nan
                work2[k] = signal[k] if (on[k] and weekday[k] < 5) else np.nan
            weekly_ratio = _mean(work) / _mean(work2) - 1.0
            temp_corr = _corr(level_on, temp_on)
            floor_temp_corr = _corr(floor_on, temp_on)
            temp_slope = _slope(level_on, temp_on, level_kw)
            floor_temp_slope = _slope(floor_on, temp_on, floor_kw)
            # A storage heater charges more on cold nights; rigs in the valley hours do not care.
            valley_temp_corr = _corr(block_on, temp_on)
            valley_block_kw = _nan_max(_median(block_on, scratch), 0.0)
            for k in range(d):
                work2[k] = day[_VALLEY_CV, k] if on[k] else np.nan
            valley_flat = _median(work2, scratch)
            for k in range(d):
                work2[k] = daytime[k] / valley[k] if on[k] else np.nan
            off_valley_share = _median(work2, scratch)
            # Lasting steps up after the start (rigs added in batches); a rise from a
            # curtailed day back from near the base is a restart, not a new batch.
            size = _nan_max(op_signal - base, 1e-9)
            steps = 0
            for k in range(d - 1):
                work2[k] = np.nan
                here = signal[k] if operating[k] else np.nan
                there = signal[k + 1] if operating[k + 1] else np.nan
                jump = there - here
                if jump > 0.08 * size and here > base + 0.05 * size:
                    steps += 1
                    work2[k] = jump
            if d > 0:
                work2[d - 1] = np.nan
            step_kw = _median(work2, scratch)

            row = out[i]
            row[0] = n_valid
            row[1] = start
            row[2] = start_hour
            row[3] = start_t
            row[4] = base
            row[5] = level_kw
            row[6] = floor_kw
            row[7] = _nan_max(floor_kw - base_floor, 0.0)
            row[8] = valley_block_kw
            row[9] = flat_cv
            row[10] = floor_kw / mean_level
            row[11] = _std(floor_on) / floor_kw
            row[12] = _std(level_on) / level_kw
            row[13] = rough
            row[14] = load_factor
            row[15] = profile_corr
            row[16] = profile_amp
            row[17] = weekly_ratio
            row[18] = temp_corr
            row[19] = temp_slope
            row[20] = floor_temp_corr
            row[21] = floor_temp_slope
            row[22] = valley_block_kw / mean_level
            row[23] = valley_temp_corr
            row[24] = valley_flat
            row[25] = _std(block_on) / valley_block_kw
            row[26] = off_valley_share
            row[27] = n_on / max(n_operating, 1)
            row[28] = n_operating - n_on
            row[29] = steps
            row[30] = step_kw
    return out
