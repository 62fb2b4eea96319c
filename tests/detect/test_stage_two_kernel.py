"""Stage two's compiled loop against a plain numpy statement of the same physics.

The reference below is written for clarity, one meter at a time, with numpy's own ``nan*``
functions; the C loop takes eight meters per vector and ranks values without sorting. They
must agree figure for figure (to the last bit where the arithmetic is the same, and to 1e-12
where numpy sums in another order)."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

from minewatch.detect.meters._fused import tree_margin, vector_lanes
from minewatch.detect.meters._per_meter import INPUTS, OUTPUTS, STAT_BAR, place_days
from minewatch.detect.meters.daily import daily_features, hourly_kw
from minewatch.detect.meters.features import MeterDays, compute_features, lay_out
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.synth.meters import MeterSynthParams, generate_meters

F = np.ndarray


def _median(values: F) -> float:
    kept = values[~np.isnan(values)]
    return np.float64(np.median(kept)) if kept.size else np.nan


def _quantile_low(values: F, q: float) -> float:
    kept = np.sort(values[~np.isnan(values)])
    if not kept.size:
        return np.nan
    return np.float64(kept[max(int(np.floor(q * (kept.size - 1))), 0)])


def _mean(values: F) -> float:
    kept = values[~np.isnan(values)]
    return np.float64(kept.sum() / kept.size) if kept.size else np.nan


def _std(values: F) -> float:
    kept = values[~np.isnan(values)]
    return (
        np.float64(np.sqrt(((kept - _mean(values)) ** 2).sum() / kept.size))
        if kept.size
        else np.nan
    )


def _corr(a: F, b: F) -> float:
    both = ~(np.isnan(a) | np.isnan(b))
    if both.sum() < 4:
        return np.nan
    x, y = a[both] - a[both].mean(), b[both] - b[both].mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return np.float64((x * y).sum() / den) if den > 0 else np.nan


def _slope(y: F, t: F, scale: float) -> float:
    has_t = ~np.isnan(t)
    if not has_t.any():
        return np.nan
    dt = t[has_t] - _mean(t)
    var = (dt * dt).sum() / has_t.sum()
    if not var > 0.25:
        return np.nan
    both = has_t & ~np.isnan(y)
    cov = ((t[both] - _mean(t)) * (y[both] - _mean(y))).sum() / both.sum() if both.any() else np.nan
    return np.float64(cov / var / scale)


def _nan_max(a: float, b: float) -> float:
    return np.float64(np.maximum(a, b))


def _clean(value: float, nan: float) -> float:
    return np.float64(np.nan_to_num(value, nan=nan))


def _change_point(
    level: F, valid: F, min_kw: float, min_jump: float, min_after: int
) -> tuple[int, float, float]:
    d = level.size
    if d < 2:
        return -1, 0.0, 0.0
    steps = np.where(valid[:-1] & valid[1:], np.abs(np.diff(level)), np.nan)
    noise = _median(steps) / 0.954 + 0.003 * abs(_median(level)) + 0.02
    n = int(valid.sum())
    total = level[valid].sum()
    best_stat, best_at, rise_at, rise = -np.inf, 0, -1, -np.inf
    for k in range(d - 1):
        before = valid[: k + 1]
        n_before = int(before.sum())
        n_after = n - n_before
        if n_before < 2 or n_after < min_after:
            continue
        cum = level[: k + 1][before].sum()
        delta = (total - cum) / n_after - cum / n_before
        stat = delta / noise * np.sqrt(n_before * n_after / max(n, 1))
        if not np.isfinite(stat):
            continue
        if stat > best_stat:
            best_stat, best_at = stat, k
        if stat > STAT_BAR and delta > rise:
            rise, rise_at = delta, k
    split = rise_at if rise_at >= 0 else best_at
    side = valid[: split + 1]
    n_before = int(side.sum())
    n_after = n - n_before
    cum = level[: split + 1][side].sum()
    before_mean = cum / n_before if n_before else np.nan
    after_mean = (total - cum) / n_after if n_after else np.nan
    jump = after_mean - before_mean
    stat = best_stat
    if rise_at >= 0 or best_stat > -np.inf:
        stat = jump / noise * np.sqrt(n_before * n_after / max(n, 1))
    found = (
        stat > STAT_BAR
        and jump > min_kw
        and jump > 0.2 * _nan_max(after_mean, 1e-9)
        and jump >= min_jump
    )
    if not found:
        return -1, (stat if np.isfinite(stat) else 0.0), 0.0
    start = split + 1
    base = _median(np.where(valid & (np.arange(d) < start), level, np.nan))
    return start, stat, base if np.isfinite(base) else _clean(before_mean, 0.0)


def _side(level: F, valid: F, start: int, after: bool) -> F:
    days = np.arange(level.size)
    return np.where(valid & ((days >= start) == after), level, np.nan)


def _refine(hours: F, night: F, valid: F, start: int, min_kw: float) -> tuple[int, int]:
    after = _median(_side(night, valid, start, True))
    rise = _nan_max(after - _clean(_median(_side(night, valid, start, False)), 0.0), 0.0)
    min_jump = _nan_max(0.02 * rise, 3 * min_kw)
    days = np.arange(night.size)
    for _ in range(4):
        earlier = valid & (days < start)
        sub, _stat, _base = _change_point(
            np.where(earlier, night, np.nan), earlier, min_kw, min_jump, 1
        )
        if not 0 <= sub < start:
            break
        start = sub
    base = _clean(_median(_side(night, valid, start, False)), 0.0)
    rise = _nan_max(after - base, 0.0)
    threshold = np.empty(24)
    for h in range(24):
        usual = _median(np.where(valid & (days < start), hours[:, h].astype(np.float64), np.nan))
        threshold[h] = (base if np.isnan(usual) else usual) + 0.5 * rise
    prev = start - 1
    if prev >= 0 and valid[prev]:
        tail = 0
        for h in range(23, -1, -1):
            if hours[prev, h] > threshold[h]:
                tail += 1
            else:
                break
        if 1 <= tail < 24:
            return prev, 24 - tail
    above = np.flatnonzero(hours[start].astype(np.float64) > threshold)
    return start, int(above[0]) if above.size else 0


def _reference_meter(
    figure: dict[str, F], hours: F, ok: F, temp: F, weekday: F, min_kw: float
) -> list[float]:
    d = ok.size
    days = np.arange(d)
    live = {name: np.where(ok, figure[name], np.nan) for name in figure}
    signal, floor, valley = live["mean_kw"], live["floor_kw"], live["valley_kw"]
    start, start_t, best_share = -1, 0.0, -np.inf
    for c, series in enumerate((signal, floor, valley)):
        begin, stat, before = _change_point(series, ok, min_kw, 0.0, 4)
        share = -np.inf
        if begin >= 0:
            after = _median(_side(series, ok, begin, True))
            share = _clean((after - before) / after, 0.0)
        if c == 0 or share > best_share:
            best_share, start, start_t = share, begin, stat
    start_hour = -1
    if start >= 0:
        start, start_hour = _refine(hours, live["night_kw"], ok, start, min_kw)
    has_start = start >= 0
    base = _clean(_median(_side(signal, ok, start, False)), 0.0) if has_start else 0.0
    operating = ok & (~has_start | (days >= start))
    op_signal = _median(np.where(operating, signal, np.nan))
    on_cut = base + 0.5 * (op_signal - base) if op_signal > base else -np.inf
    on = operating & (signal >= on_cut)
    n_on = int(on.sum())

    def when_on(values: F) -> F:
        return np.where(on, values, np.nan)

    level_on, floor_on, temp_on = when_on(signal), when_on(floor), when_on(temp)
    block_on = when_on(valley - live["daytime_kw"])
    on_days = np.flatnonzero(on)
    shape = hours[on_days] / figure["mean_kw"][on_days].astype(np.float32)[:, None]
    shape = np.where(np.isfinite(shape), shape, 0.0).astype(np.float64)
    odd, even = shape[0::2], shape[1::2]
    profile_odd = odd.sum(axis=0) / odd.shape[0] if odd.shape[0] else np.full(24, np.nan)
    profile_even = even.sum(axis=0) / even.shape[0] if even.shape[0] else np.full(24, np.nan)
    level_kw, floor_kw, mean_level = _median(level_on), _median(floor_on), _mean(level_on)
    base_floor = 0.0
    if has_start:
        base_floor = _clean(_quantile_low(_side(floor, ok, start, False), 0.25), 0.0)
    ratio = {name: when_on(figure[name] / figure["mean_kw"]) for name in ("std_kw", "rough_kw")}
    profile_amp = np.nan
    if n_on:
        p = (profile_even * even.shape[0] + profile_odd * odd.shape[0]) / n_on
        profile_amp = float(np.max(p) - np.min(p))
    weekend = np.asarray(weekday) >= 5
    valley_block = _nan_max(_median(block_on), 0.0)
    size = _nan_max(op_signal - base, 1e-9)
    here, there = np.where(operating, signal, np.nan)[:-1], np.where(operating, signal, np.nan)[1:]
    jump = there - here
    step = (jump > 0.08 * size) & (here > base + 0.05 * size)
    n_operating = int(operating.sum())
    return [
        int(ok.sum()),
        start,
        start_hour,
        start_t,
        base,
        level_kw,
        floor_kw,
        _nan_max(floor_kw - base_floor, 0.0),
        valley_block,
        _median(ratio["std_kw"]),
        floor_kw / mean_level,
        _std(floor_on) / floor_kw,
        _std(level_on) / level_kw,
        _median(ratio["rough_kw"]),
        _median(when_on(figure["mean_kw"] / figure["max_kw"])),
        _corr(profile_even, profile_odd),
        profile_amp,
        _mean(np.where(on & weekend, signal, np.nan))
        / _mean(np.where(on & ~weekend, signal, np.nan))
        - 1.0,
        _corr(level_on, temp_on),
        _slope(level_on, temp_on, level_kw),
        _corr(floor_on, temp_on),
        _slope(floor_on, temp_on, floor_kw),
        valley_block / mean_level,
        _corr(block_on, temp_on),
        _median(when_on(figure["valley_cv"])),
        _std(block_on) / valley_block,
        _median(when_on(live["daytime_kw"] / valley)),
        n_on / max(n_operating, 1),
        n_operating - n_on,
        int(step.sum()),
        _median(np.where(step, jump, np.nan)),
    ]


def _reference(daily: pa.Table, days: MeterDays, temperature: F, min_kw: float) -> F:
    table = daily.combine_chunks()
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in INPUTS}
    hourly = hourly_kw(table)
    weekday = np.array([(days.first_date + timedelta(days=k)).weekday() for k in range(days.days)])
    out = []
    for i in range(days.row_of.shape[0]):
        rows = days.row_of[i]
        there = rows >= 0
        figure = {}
        for name, values in columns.items():
            figure[name] = np.full(rows.size, np.nan)
            figure[name][there] = values[rows[there]]
        hours = np.full((rows.size, 24), np.nan, dtype=np.float32)
        hours[there] = hourly[rows[there]]
        out.append(_reference_meter(figure, hours, days.valid[i], temperature[i], weekday, min_kw))
    return np.asarray(out, dtype=np.float64)


def _province() -> tuple[pa.Table, F, MeterSynthParams]:
    params = MeterSynthParams(mining_share=0.4, lookalike_share=0.4, gap_rate=0.05,
                              missing_day_rate=0.08)  # fmt: skip
    province = generate_meters(31, n_meters=83, days=24, start=date(2021, 11, 20), params=params)
    daily = pa.Table.from_batches([daily_features(province.readings)])
    rng = np.random.default_rng(5)
    temperature = rng.normal(8, 6, size=(83, 24))
    temperature[rng.random(temperature.shape) < 0.1] = np.nan
    temperature[3] = np.nan  # a meter with no weather at all
    return daily, temperature, params


def test_stage_two_agrees_with_the_numpy_reference() -> None:
    daily, temperature, _ = _province()
    settings = MeterScanSettings()
    days = lay_out(daily, settings)
    got = compute_features(days, temperature, settings)
    matrix = np.column_stack([getattr(got, name).astype(np.float64) for name in OUTPUTS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = _reference(daily, days, temperature, settings.min_mining_kw)
    assert (got.start_index >= 0).sum() >= 20  # farms arrive mid-period: the refinement runs
    assert np.isfinite(got.temp_corr).sum() >= 40
    for j, name in enumerate(OUTPUTS):
        np.testing.assert_allclose(
            matrix[:, j], expected[:, j], rtol=1e-12, atol=1e-12, err_msg=name
        )


def test_stage_two_is_the_same_with_every_instruction_set() -> None:
    daily, temperature, _ = _province()
    settings = MeterScanSettings()
    days = lay_out(daily, settings)
    widest = vector_lanes()
    results = []
    try:
        for lanes in (4, 8, 16):
            if lanes <= widest:
                vector_lanes(lanes)
                features = compute_features(days, temperature, settings)
                results.append(np.column_stack([getattr(features, n) for n in OUTPUTS]))
    finally:
        vector_lanes(widest)
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_stage_two_handles_a_single_day_and_meters_without_rows() -> None:
    daily, _, _ = _province()
    settings = MeterScanSettings()
    one_day = daily.filter(pa.compute.equal(daily.column("date"), daily.column("date")[0]))
    features = compute_features(lay_out(one_day, settings), None, settings)
    assert (features.start_index == -1).all()
    assert (features.valid_days <= 1).all()


def test_place_days_refuses_rows_outside_the_calendar() -> None:
    starts = np.array([0, 2], dtype=np.int64)
    counts = np.zeros((3, 1), dtype=np.int64)
    means = np.zeros(1, dtype=np.int64)
    meter = np.array([0, 5], dtype=np.int32)  # meter 5 of 2
    day = np.array([0, 0], dtype=np.int32)
    with pytest.raises(ValueError, match="outside 2 meters"):
        place_days(meter, day, 0, starts, counts, means, 2, 1, 1, 96)


def _walk(x: F, features: F, thresholds: F, leaves: F, depth: int, base: float, rate: float) -> F:
    out = np.full(x.shape[0], base)
    for r in range(x.shape[0]):
        for t in range(features.shape[0]):
            node = 0
            for _ in range(depth):
                node = 2 * node + 1 + int(x[r, features[t, node]] > thresholds[t, node])
            out[r] += rate * leaves[t, node - (2**depth - 1)]
    return out


def test_tree_walk_matches_a_plain_walk() -> None:
    rng = np.random.default_rng(2)
    depth, trees, columns = 3, 11, 5
    features = rng.integers(0, columns, size=(trees, 2**depth - 1))
    thresholds = rng.normal(size=(trees, 2**depth - 1))
    leaves = rng.normal(size=(trees, 2**depth))
    x = rng.normal(size=(150, columns))
    x[4, 2] = np.nan  # NaN never goes right
    expected = _walk(x, features, thresholds, leaves, depth, 0.3, 0.1)
    # Row by row, and feature by feature (eight rows at a time, then the six left over).
    for layout, want in ((x, expected), (np.asfortranarray(x), expected), (x[::2], expected[::2])):
        got = tree_margin(layout, features, thresholds, leaves, depth, 0.3, 0.1)
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="beyond the 4 given"):
        tree_margin(x[:, :4], features, thresholds, leaves, depth, 0.3, 0.1)


def test_thread_count_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from minewatch.detect.meters._fused import THREADS_VARIABLE, split, threads
    from minewatch.errors import MineWatchError

    monkeypatch.setenv(THREADS_VARIABLE, "3")
    assert threads() == 3
    monkeypatch.setenv(THREADS_VARIABLE, "0")
    with pytest.raises(MineWatchError, match="positive whole number"):
        threads()
    monkeypatch.delenv(THREADS_VARIABLE)
    assert threads() >= 1
    # Runs start on multiples of the alignment and cover every row once.
    runs = split(1001, 3, 8)
    assert [start % 8 for start, _ in runs] == [0] * len(runs)
    assert runs[0][0] == 0
    assert runs[-1][1] == 1001
    assert all(a[1] == b[0] for a, b in pairwise(runs))
