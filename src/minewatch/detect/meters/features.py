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

Every array is shaped ``(meters, days)`` or ``(meters, days, 24)``; no Python loop runs per
meter or per slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.meters.daily import hourly_matrix
from minewatch.detect.meters.settings import MeterScanSettings

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class MeterDays:
    """The days of a set of meters laid out densely on one calendar."""

    meter_ids: list[str]
    first_date: date
    hourly: npt.NDArray[np.float32]  # (m, d, 24) kW, NaN where missing
    mean_kw: F  # (m, d)
    max_kw: F  # the day's highest quarter-hour
    floor_kw: F  # lowest hourly mean of the day
    valley_kw: F  # mean over the valley (cheap-tariff) hours
    daytime_kw: F  # mean over 08:00–22:00
    night_kw: F  # mean over 00:00–06:00
    valley_cv: F  # spread of the valley hours / their mean
    std_kw: F
    rough_kw: F
    valid: B  # (m, d) the day has enough valid quarter-hours
    present: B  # (m, d) the day is in the input at all
    negative_slots: npt.NDArray[np.int64]  # (m,)
    absurd_slots: npt.NDArray[np.int64]
    duplicate_days: npt.NDArray[np.int64]
    missing_slots: npt.NDArray[np.int64]

    @property
    def days(self) -> int:
        return int(self.mean_kw.shape[1])

    def dates(self) -> list[date]:
        return [self.first_date + timedelta(days=i) for i in range(self.days)]


def lay_out(daily: pa.Table, settings: MeterScanSettings) -> MeterDays:
    """Arrange stage-one rows (any order, duplicates allowed) into dense per-meter arrays.

    Where a meter-day appears twice (exports that overlap), the copy with more valid
    quarter-hours is kept and the duplicate counted.
    """
    meter_col = daily.column("meter_id").combine_chunks()
    encoded = pc.dictionary_encode(meter_col)
    meter_ids = [str(v) for v in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    day_numbers = daily.column("date").cast(pa.int32()).to_numpy().astype(np.int64)
    valid_slots = daily.column("valid_slots").to_numpy().astype(np.int64)
    day_mean = np.nan_to_num(
        daily.column("mean_kw").to_numpy(zero_copy_only=False).astype(np.float64), nan=-1.0
    )
    m = len(meter_ids)
    if len(day_numbers) == 0:
        first = 0
        width = 1
    else:
        first = int(day_numbers.min())
        width = int(day_numbers.max()) - first + 1
    day_index = day_numbers - first
    # Keep, per (meter, day), the row with the most valid slots; the mean breaks ties, so the
    # kept copy does not depend on the order of the input. Duplicates are rare: only their
    # keys are sorted.
    key = codes * width + day_index
    seen = np.bincount(key, minlength=m * width)
    repeated = np.flatnonzero(seen[key] > 1)
    keep_mask = np.ones(len(key), dtype=bool)
    if repeated.size:
        order = repeated[np.lexsort((day_mean[repeated], valid_slots[repeated], key[repeated]))]
        last_of_key = np.ones(order.size, dtype=bool)
        last_of_key[:-1] = key[order][1:] != key[order][:-1]
        keep_mask[order[~last_of_key]] = False
    keep = np.flatnonzero(keep_mask)
    duplicates = np.bincount(codes[~keep_mask], minlength=m)
    rows_m, rows_d = codes[keep], day_index[keep]

    def dense(name: str, fill: float = np.nan) -> F:
        out = np.full((m, width), fill, dtype=np.float64)
        values = daily.column(name).to_numpy(zero_copy_only=False)
        out[rows_m, rows_d] = values[keep]
        return out

    hourly = np.full((m, width, 24), np.nan, dtype=np.float32)
    hourly[rows_m, rows_d] = hourly_matrix(daily)[keep]
    present = np.zeros((m, width), dtype=bool)
    present[rows_m, rows_d] = True
    slots = dense("valid_slots", 0.0)
    valid = present & (slots >= settings.min_valid_slots)
    negative = np.bincount(codes, daily.column("negative_slots").to_numpy(), minlength=m)
    absurd = np.bincount(codes, daily.column("absurd_slots").to_numpy(), minlength=m)
    missing = np.where(present, 96 - slots, 0).sum(axis=1)
    return MeterDays(
        meter_ids=meter_ids,
        first_date=EPOCH + timedelta(days=first),
        hourly=hourly,
        mean_kw=dense("mean_kw"),
        max_kw=dense("max_kw"),
        floor_kw=dense("floor_kw"),
        valley_kw=dense("valley_kw"),
        daytime_kw=dense("daytime_kw"),
        night_kw=dense("night_kw"),
        valley_cv=dense("valley_cv"),
        std_kw=dense("std_kw"),
        rough_kw=dense("rough_kw"),
        valid=valid,
        present=present,
        negative_slots=negative.astype(np.int64),
        absurd_slots=absurd.astype(np.int64),
        duplicate_days=duplicates.astype(np.int64),
        missing_slots=missing.astype(np.int64),
    )


def _masked(values: F, mask: B) -> F:
    return np.where(mask, values, np.nan)


def _nanquantile(values: F, q: float) -> F:
    """The ``q`` quantile of each row ignoring NaN (lower of the two middle values)."""
    ordered = np.sort(values, axis=1)  # NaN sort last
    n = (~np.isnan(values)).sum(axis=1)
    index = np.maximum(np.floor(q * (n - 1)).astype(np.int64), 0)
    picked = np.take_along_axis(ordered, index[:, None], 1)[:, 0]
    return np.where(n > 0, picked, np.nan)


def _nanmedian(values: F, axis: int) -> F:
    """The median ignoring NaN along ``axis`` (NaN where nothing is left); sort-based, which
    is many times faster than ``np.nanmedian`` on the short axes used here."""
    moved = np.moveaxis(values, axis, -1)
    ordered = np.sort(moved, axis=-1)  # NaN sort last
    n = (~np.isnan(moved)).sum(axis=-1)
    low = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[..., None], -1)[..., 0]
    high = np.take_along_axis(ordered, np.maximum(n // 2, 0)[..., None], -1)[..., 0]
    return np.where(n > 0, (low + high) / 2, np.nan)


def _nanmean(values: F, axis: int) -> F:
    count = (~np.isnan(values)).sum(axis=axis)
    total = np.nansum(values, axis=axis)
    with np.errstate(all="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _nanstd(values: F, axis: int) -> F:
    mean = _nanmean(values, axis)
    centred = values - np.expand_dims(mean, axis)
    return np.sqrt(_nanmean(centred * centred, axis))


def _nancorr(a: F, b: F, axis: int = 1) -> F:
    """Pearson correlation along ``axis`` over the positions where both are present."""
    both = ~(np.isnan(a) | np.isnan(b))
    a = np.where(both, a, np.nan)
    b = np.where(both, b, np.nan)
    da = a - np.expand_dims(_nanmean(a, axis), axis)
    db = b - np.expand_dims(_nanmean(b, axis), axis)
    num = np.nansum(da * db, axis=axis)
    den = np.sqrt(np.nansum(da * da, axis=axis) * np.nansum(db * db, axis=axis))
    with np.errstate(all="ignore"):
        r = np.where((den > 0) & (both.sum(axis=axis) >= 4), num / den, np.nan)
    return np.asarray(r, dtype=np.float64)


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


def compute_features(
    days: MeterDays, temperature: F | None, settings: MeterScanSettings
) -> MeterFeatures:
    """Per-meter features; ``temperature`` is ``(meters, days)`` °C (NaN where unknown)."""
    m, d = days.mean_kw.shape
    valid = days.valid
    day_mean = days.mean_kw
    hourly = days.hourly  # a gap within a day already holds the day's mean
    floor = _masked(days.floor_kw, valid)
    valley = _masked(days.valley_kw, valid)
    daytime = _masked(days.daytime_kw, valid)
    valid_days = valid.sum(axis=1)

    # Mining adds energy every day from its start: the daily mean carries the step whatever the
    # hours (a valley-only block moves the mean, not the median).
    # A constant block also lifts the daily floor, which is far steadier than the mean of a
    # household or a shop; a valley-hour block lifts the valley hours even when the day's
    # mean falls (a site's fit-out load stopping as the rigs start). Each meter's start is read
    # from whichever of the three shows the clearest step.
    candidates = [np.where(valid, day_mean, np.nan), floor, valley]
    points = [_change_point(c, valid, settings) for c in candidates]
    # Prefer the signal in which the new load is the largest share of what follows.
    day_no = np.arange(d)[None, :]
    shares = []
    for c, (begin, _t, level_before, _n) in zip(candidates, points, strict=True):
        after = _nanmedian(np.where(valid & (day_no >= begin[:, None]), c, np.nan), axis=1)
        with np.errstate(all="ignore"):
            rise_share = np.nan_to_num((after - level_before) / after)
        shares.append(np.where(begin >= 0, rise_share, -np.inf))
    choice = np.argmax(np.stack(shares), axis=0)
    rows_m = np.arange(m)
    start_index = np.stack([p[0] for p in points])[choice, rows_m]
    start_t = np.stack([p[1] for p in points])[choice, rows_m]
    # Earlier steps are searched in the small hours, when rigs run and people sleep: a shop
    # reopening after a holiday steps up its days, not its nights.
    night = _masked(days.night_kw, valid)
    start_index, start_hour = _refine_start(hourly, night, valid, start_index, settings)
    signal = np.where(valid, day_mean, np.nan)
    base = np.where(start_index >= 0, _before_median(signal, valid, start_index), 0.0)
    has_start = start_index >= 0
    day_idx = np.arange(d)[None, :]
    operating = valid & (~has_start[:, None] | (day_idx >= start_index[:, None]))
    op_signal = _nanmedian(_masked(signal, operating), axis=1)
    # Curtailed days: the mean falls to less than half way between the base and the usual.
    # (When the day's mean did not rise — a valley block replacing a site's daytime load —
    # there is no such level to fall from, and every operating day counts.)
    on_cut = np.where(op_signal > base, base + 0.5 * (op_signal - base), -np.inf)
    on = operating & (signal >= on_cut[:, None])
    off_days = (operating & ~on).sum(axis=1)
    on_fraction = on.sum(axis=1) / np.maximum(operating.sum(axis=1), 1)

    level_on = _masked(day_mean, on)
    floor_on = _masked(floor, on)
    mean_on = _masked(day_mean, on)
    level_kw = _nanmedian(level_on, axis=1)
    floor_kw = _nanmedian(floor_on, axis=1)
    with np.errstate(all="ignore"):
        pre_start = valid & has_start[:, None] & (day_idx < start_index[:, None])
        # The floor the site had before: its lower quartile, so that a start detected late (a
        # curtailed farm restarting) does not count the earlier mining as the base.
        pre_floor = _masked(floor, pre_start)
        lower = _nanquantile(pre_floor, 0.25)
        base_floor = np.where(has_start, lower, 0.0)
        base_floor = np.nan_to_num(base_floor)
        block_kw = np.maximum(floor_kw - base_floor, 0.0)
        mean_level = _nanmean(mean_on, axis=1)
        flat_cv = _nanmedian(_masked(days.std_kw / day_mean, on), axis=1)
        floor_share = floor_kw / mean_level
        floor_cv = _nanstd(floor_on, axis=1) / floor_kw
        level_cv = _nanstd(level_on, axis=1) / level_kw
        rough = _nanmedian(_masked(days.rough_kw / day_mean, on), axis=1)
        load_factor = _nanmedian(_masked(day_mean / days.max_kw, on), axis=1)

        # The day's shape (hours over the day's mean), averaged over odd and over even on-days:
        # a load that repeats its day shows the same shape in both halves.
        with np.errstate(all="ignore"):
            shape = hourly / day_mean.astype(np.float32)[:, :, None]
        shape = np.nan_to_num(shape, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        order = np.cumsum(on, axis=1)
        even = (on & (order % 2 == 0)).astype(np.float32)
        odd = (on & (order % 2 == 1)).astype(np.float32)
        profile_even = np.einsum("mdh,md->mh", shape, even) / even.sum(axis=1)[:, None]
        profile_odd = np.einsum("mdh,md->mh", shape, odd) / odd.sum(axis=1)[:, None]
        profile_corr = _nancorr(profile_even.astype(np.float64), profile_odd.astype(np.float64))
        n_on = on.sum(axis=1)
        profile = profile_even * even.sum(axis=1)[:, None] + profile_odd * odd.sum(axis=1)[:, None]
        profile = profile / np.maximum(n_on, 1)[:, None]
        profile_amp = np.where(n_on > 0, profile.max(axis=1) - profile.min(axis=1), np.nan)

        weekday = np.array([(days.first_date + timedelta(days=i)).weekday() for i in range(d)])
        weekend = on & (weekday[None, :] >= 5)
        workday = on & (weekday[None, :] < 5)
        weekly_ratio = (
            _nanmean(_masked(day_mean, weekend), axis=1)
            / _nanmean(_masked(day_mean, workday), axis=1)
            - 1.0
        )
        if temperature is not None:
            temp_on = _masked(temperature, on)
            temp_corr = _nancorr(level_on, temp_on)
            floor_temp_corr = _nancorr(floor_on, temp_on)
            t_centred = temp_on - _nanmean(temp_on, 1)[:, None]
            l_centred = level_on - _nanmean(level_on, 1)[:, None]
            var_t = _nanmean(t_centred * t_centred, 1)
            temp_slope = np.where(
                var_t > 0.25, _nanmean(t_centred * l_centred, 1) / var_t / level_kw, np.nan
            )
            f_centred = floor_on - _nanmean(floor_on, 1)[:, None]
            floor_temp_slope = np.where(
                var_t > 0.25, _nanmean(t_centred * f_centred, 1) / var_t / floor_kw, np.nan
            )
        else:
            temp_corr = floor_temp_corr = temp_slope = floor_temp_slope = np.full(m, np.nan)

        valley_block = _masked(valley - daytime, on)
        # A storage heater charges more on cold nights; rigs in the valley hours do not care.
        valley_temp_corr = (
            _nancorr(valley_block, _masked(temperature, on))
            if temperature is not None
            else np.full(m, np.nan)
        )
        valley_block_kw = np.maximum(_nanmedian(valley_block, axis=1), 0.0)
        valley_share = valley_block_kw / mean_level
        valley_day_cv = _nanstd(valley_block, axis=1) / valley_block_kw
        valley_flat = _nanmedian(_masked(days.valley_cv, on), axis=1)
        off_valley_share = _nanmedian(_masked(daytime / valley, on), axis=1)

    ramp_steps, step_kw = _ramp_steps(signal, operating, op_signal, base)
    return MeterFeatures(
        valid_days=valid_days.astype(np.int64),
        start_index=start_index,
        start_hour=start_hour,
        start_t=start_t,
        base_kw=base,
        level_kw=level_kw,
        floor_kw=floor_kw,
        block_kw=block_kw,
        valley_block_kw=valley_block_kw,
        flat_cv=flat_cv,
        floor_share=floor_share,
        floor_cv=floor_cv,
        level_cv=level_cv,
        rough=rough,
        load_factor=load_factor,
        profile_corr=profile_corr,
        profile_amp=profile_amp,
        weekly_ratio=weekly_ratio,
        temp_corr=temp_corr,
        temp_slope=temp_slope,
        floor_temp_corr=floor_temp_corr,
        floor_temp_slope=floor_temp_slope,
        valley_share=valley_share,
        valley_temp_corr=valley_temp_corr,
        valley_flat=valley_flat,
        valley_day_cv=valley_day_cv,
        off_valley_share=off_valley_share,
        on_fraction=on_fraction,
        off_days=off_days.astype(np.int64),
        ramp_steps=ramp_steps,
        step_kw=step_kw,
    )


def _change_point(
    level: F,
    valid: B,
    settings: MeterScanSettings,
    min_jump: F | float = 0.0,
    min_after: int = 4,
) -> tuple[npt.NDArray[np.int64], F, F, F]:
    """The day a lasting step up in the daily level begins, its t-statistic, the base and the
    day-to-day noise.

    A CUSUM-style scan over every split: mean after minus mean before, in units of the
    day-to-day noise. Returns ``-1`` where no split clears the bar.
    """
    m, d = level.shape
    filled = np.where(valid, level, 0.0)
    cum = np.cumsum(filled, axis=1)
    count = np.cumsum(valid, axis=1)
    total, n = cum[:, -1:], count[:, -1:]
    n_before = count[:, :-1].astype(np.float64)
    n_after = n - n_before
    with np.errstate(all="ignore"):
        mean_before = cum[:, :-1] / n_before
        mean_after = (total - cum[:, :-1]) / n_after
        delta = mean_after - mean_before
        steps = np.abs(np.diff(np.where(valid, level, np.nan), axis=1))
        noise = _nanmedian(steps, axis=1) / 0.954 + 0.003 * np.abs(_nanmedian(level, 1)) + 0.02
        stat = delta / noise[:, None] * np.sqrt(n_before * n_after / np.maximum(n, 1))
    # A start needs days after it to be judged on: a jump on the last days of an export is
    # not yet a lasting load (it may be a fault, or a load that will go again).
    allowed = (n_before >= 2) & (n_after >= min_after)
    stat = np.where(allowed & np.isfinite(stat), stat, -np.inf)
    # Among the significant splits, the one with the largest lasting rise: a small but
    # noise-free weekly rhythm of a site's lighting must not outrank the rigs' arrival.
    significant = stat > 8.0
    by_rise = np.argmax(np.where(significant, np.nan_to_num(delta, nan=-np.inf), -np.inf), axis=1)
    split = np.where(significant.any(axis=1), by_rise, np.argmax(stat, axis=1))
    rows = np.arange(m)
    best = stat[rows, split]
    jump = delta[rows, split]
    after = mean_after[rows, split]
    base = mean_before[rows, split]
    found = (
        (best > 8.0)
        & (jump > settings.min_mining_kw)
        & (jump > 0.2 * np.maximum(after, 1e-9))
        & (jump >= min_jump)
    )
    start = np.where(found, split + 1, -1).astype(np.int64)
    base_out = np.where(found, np.nan_to_num(base), 0.0)
    # Base from the median of the days before (robust to a partial first day).
    before = valid & (np.arange(d)[None, :] < start[:, None])
    median_before = _nanmedian(np.where(before, level, np.nan), axis=1)
    base_out = np.where(found & np.isfinite(median_before), median_before, base_out)
    strength = np.where(found, best, np.nan_to_num(best, neginf=0.0))
    return start, strength, base_out, noise


def _refine_start(
    hourly: npt.NDArray[np.float32],
    signal: F,  # the night-hours mean
    valid: B,
    start: npt.NDArray[np.int64],
    settings: MeterScanSettings,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Move the start back to the first step of the new load, and find the hour it began.

    Rigs arrive in batches and farms are curtailed now and then, so the strongest step is not
    always the first. The days before it are searched again (binary segmentation) for an
    earlier lasting step of at least 2 % of the whole rise and three small rigs; the weekly
    rhythm of a site's lighting load is not one. Then the hours at the end of the day before
    the start that already carry the new load move the start back to that day.
    """
    m = signal.shape[0]
    out_start = start.copy()
    out_hour = np.full(m, -1, dtype=np.int64)
    rows = np.flatnonzero(start >= 0)
    if rows.size:
        out_start[rows], out_hour[rows] = _refine_rows(
            hourly[rows], signal[rows], valid[rows], start[rows], settings
        )
    return out_start, out_hour


def _refine_rows(
    hourly: npt.NDArray[np.float32],
    signal: F,
    valid: B,
    start: npt.NDArray[np.int64],
    settings: MeterScanSettings,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`_refine_start` for meters that all have a start."""
    m, d = signal.shape
    has = np.ones(m, dtype=bool)
    rows = np.arange(m)
    start = start.copy()
    hour = np.full(m, -1, dtype=np.int64)
    day_idx = np.arange(d)[None, :]
    after = _nanmedian(np.where(valid & (day_idx >= start[:, None]), signal, np.nan), axis=1)
    rise = np.maximum(after - _before_median(signal, valid, start), 0.0)
    for _ in range(4):
        earlier = valid & (day_idx < start[:, None])
        sub_start, _t, _base, _noise = _change_point(
            np.where(earlier, signal, np.nan),
            earlier,
            settings,
            min_jump=np.maximum(0.02 * rise, 3 * settings.min_mining_kw),
            min_after=1,
        )
        moved = has & (sub_start >= 0) & (sub_start < start)
        if not moved.any():
            break
        start = np.where(moved, sub_start, start)
    rise = np.maximum(after - _before_median(signal, valid, start), 0.0)
    # Hour by hour against the same hour before the start (a household's evening peak is not
    # a rig), half-way up to the new load.
    before = (valid & (day_idx < start[:, None]))[:, :, None]
    usual = _nanmedian(np.where(before, hourly, np.nan), axis=1)
    usual = np.where(np.isnan(usual), _before_median(signal, valid, start)[:, None], usual)
    hour_threshold = usual + 0.5 * rise[:, None]
    prev = start - 1
    ok = has & (prev >= 0)
    idx = np.flatnonzero(ok)
    moved_rows = np.array([], dtype=np.int64)
    if idx.size:
        tail_hours = hourly[idx, prev[idx], :] > hour_threshold[idx]
        tail = np.flip(np.cumprod(np.flip(tail_hours, axis=1), axis=1), axis=1)
        tail_len = tail.sum(axis=1)
        moved = (tail_len >= 1) & (tail_len < 24) & valid[idx, prev[idx]]
        moved_rows = idx[moved]
        start[moved_rows] = prev[moved_rows]
        hour[moved_rows] = 24 - tail_len[moved]
    rest = rows[~np.isin(rows, moved_rows)]
    if rest.size:
        high = hourly[rest, start[rest], :] > hour_threshold[rest]
        hour[rest] = np.where(high.any(axis=1), np.argmax(high, axis=1), 0)
    return start, hour


def _before_median(signal: F, valid: B, start: npt.NDArray[np.int64]) -> F:
    """The median of the days before ``start`` (0 where there is no start or no such day)."""
    before = valid & (np.arange(signal.shape[1])[None, :] < start[:, None])
    return np.nan_to_num(_nanmedian(np.where(before, signal, np.nan), axis=1))


def _ramp_steps(signal: F, operating: B, op_signal: F, base: F) -> tuple[npt.NDArray[np.int64], F]:
    """Lasting steps up of the daily mean after the start: rigs added in batches.

    A rise from a curtailed day (back from near the base) is a restart, not a new batch.
    """
    values = np.where(operating, signal, np.nan)
    size = np.maximum(op_signal - base, 1e-9)
    jumps = np.diff(values, axis=1)
    with np.errstate(invalid="ignore"):
        running = values[:, :-1] > (base + 0.05 * size)[:, None]
        big = (jumps > 0.08 * size[:, None]) & running
    count = big.sum(axis=1).astype(np.int64)
    step_kw = _nanmedian(np.where(big, jumps, np.nan), axis=1)
    return count, step_kw
