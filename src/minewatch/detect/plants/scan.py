"""Generation-side scan (notice 1283 clause 五): plants whose output drops for no recorded reason.

:func:`scan_plants` judges every plant on two independent lines of evidence:

``plants.terminal_tie_gap``
    Where the plant files generator-terminal readings: energy that leaves between the terminal
    and the grid-tie meter beyond the plant's normal losses. The normal loss is learned as a
    curve of the day's loss against the day's grid-tie energy (no-load plus load losses; the
    lower envelope first, then the median of the days outside any suspected run) and never
    exceeds :attr:`~PlantScanSettings.normal_loss_share` of the terminal energy.

``plants.shortfall_unexplained``
    Grid-tie output below what the plant's water allows, by the plant's own output curve against
    its intake gauge, or — for a plant without a gauge — against a synthetic gauge (the
    non-negative blend of the same-basin gauges that best explains its output below capacity),
    the same-basin gauge that ranks its output best, the basin's median water, or, with no gauge
    in the basin, its peers' output. Days under a dispatch instruction, a curtailment record or
    a maintenance outage are judged against the ceiling the record sets, and carry no weight in
    a run.

A run of shortfall (:func:`~minewatch.detect.plants.model.best_run`) is a finding when its
evidence passes the threshold (higher for a plant judged on a proxy of its water, and higher
again when its terminal readings agree with its grid-tie meter), it lasts long enough, the
shortfall is a real load and a steady one (a private line draws the same kW every day; judged
again after the curve has been refitted with the draw added back), and — for a plant without a
gauge — it was not spent mostly in a basin drought. Each finding carries expected and observed
energy over the period, the private line's draw and the energy it took, and the explanations
ruled out (water, dispatch and curtailment, maintenance, losses, peers). A run that the
same-basin peers share is marked ``plants.shortfall_shared`` instead: an unrecorded grid
constraint or a bad gauge is likelier than every plant of a basin wiring a private line in the
same week.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from minewatch.detect.plants.daily import PlantDays, plant_days
from minewatch.detect.plants.model import (
    Curve,
    Run,
    best_run,
    binned_spread,
    fit_curve,
    persistence,
    robust_scale,
    standardise,
    step_robust_spread,
)
from minewatch.detect.plants.settings import PlantScanSettings

Arr = np.ndarray[Any, Any]

PLANT_FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("basin", pa.string()),
        pa.field("owner", pa.string()),
        pa.field("uscc", pa.string()),
        pa.field("address", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("capacity_kw", pa.float64()),
        pa.field("reasons", pa.string()),  # dotted codes, "; "-separated, strongest first
        pa.field("period_start_date", pa.date32()),
        pa.field("period_end_date", pa.date32()),  # inclusive
        pa.field("days", pa.int32()),
        pa.field("expected_kwh", pa.float64()),  # what the water (or the terminal) allowed
        pa.field("observed_kwh", pa.float64()),  # what reached the grid-tie meter
        pa.field("shortfall_kwh", pa.float64()),
        pa.field("diverted_kw", pa.float64()),  # the steady draw of the private line
        pa.field("diverted_kwh", pa.float64()),  # energy it took over the period
        pa.field("score", pa.float64()),  # evidence in standard units (≥ threshold)
        pa.field("confidence", pa.float64()),
        pa.field("shared_with_peers", pa.bool_()),
        pa.field("driver", pa.string()),  # what the water model compared against
        pa.field("ruled_out", pa.string()),  # JSON list: explanation, finding, figures
        pa.field("evidence", pa.string()),  # JSON
        pa.field("settings", pa.string()),  # JSON
    ]
)

PLANT_STATUS_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("status", pa.string()),  # finding | shared | clear | insufficient_data
        pa.field("driver", pa.string()),
        pa.field("valid_days", pa.int32()),
        pa.field("terminal_days", pa.int32()),
        pa.field("note", pa.string()),
    ]
)


@dataclass(frozen=True)
class PlantScan:
    findings: pa.Table
    status: pa.Table


@dataclass(frozen=True)
class _Path:
    """One line of evidence's verdict for one plant."""

    reason: str
    run: Run
    score: float
    expected: Arr
    observed: Arr
    residual: Arr
    diverted_kw: float
    diverted_kwh: float
    steady_share: float
    """Share of the run's days (with output reaching the grid) whose shortfall is within half of
    the steady draw: a private line takes the same kW every day, a misfit of the water model
    does not."""
    onset_step: float = float("nan")
    """How sharply the shortfall starts: median shortfall over the three weeks after the
    period's first day less that over the three weeks before, as a share of the draw (about 1
    when a line is switched on; NaN when the plant delivered nothing on either side)."""
    draw_to_scatter: float = 0.0
    """The draw [kWh/day] over the plant's robust day-to-day scatter outside the run."""
    detected: Run | None = None
    """The run as detected, when the reported period was widened from it: the peers are
    judged on the weeks the evidence came from."""
    ratio: float = float("nan")
    """The profile likelihood ratio of a line against water (see :class:`_Profile`)."""
    test: str = "run"
    """Which test reported it: ``run`` (the run statistic, then confirmed) or ``profile`` (the
    profile likelihood ratio)."""
    threshold: float = float("nan")
    """The evidence ``score`` had to reach."""


@dataclass(frozen=True)
class _FirstPass:
    """The run the first fits found, and the model and residual it was found against."""

    run: Run
    model: _WaterModel
    residual: Arr


@dataclass(frozen=True)
class _Series:
    """One plant's days as the water line of evidence reads them."""

    obs: Arr  # grid-tie energy [kWh/day]
    driver: Arr  # its water
    clean: Arr  # days with both and no dispatch or maintenance record
    ceiling: Arr  # the most records allowed [kWh/day]
    available: Arr  # the most maintenance left (what a private line could take)
    capacity: float  # [kW]


@dataclass(frozen=True)
class _WaterModel:
    expected: Arr  # with dispatch/maintenance ceilings
    potential: Arr  # with maintenance only (what a private line could take)


# ----------------------------------------------------------------------------------------------
# the water driver


def _relative(series: Arr) -> Arr:
    median = np.nanmedian(series) if np.isfinite(series).any() else np.nan
    if not np.isfinite(median) or median <= 0:
        return np.full_like(series, np.nan)
    return np.asarray(series / median)


def _nanmedian_rows(stack: Arr) -> Arr:
    """Median over rows, NaN where a column has no value (without numpy's warning)."""
    out = np.full(stack.shape[1], np.nan)
    seen = np.isfinite(stack).any(axis=0)
    if seen.any():
        out[seen] = np.nanmedian(stack[:, seen], axis=0)
    return out


def _droughts(data: PlantDays, settings: PlantScanSettings) -> Arr:
    """Per plant and day: is its basin in drought? The basin's water (the median of its gauges,
    each relative to its usual flow) below ``drought_ratio`` of what it is at that time of year
    (±15 days, every year of the record). A plant without a gauge of its own is judged on a
    neighbour's river, and in a drought catchments part ways (how much ground water each holds),
    so its shortfall on such days is not held against it."""
    n, days = data.tie_kwh.shape
    out = np.zeros((n, days), dtype=bool)
    own = np.isfinite(data.water).sum(axis=1) >= settings.min_days
    doy = np.array([data.date_of(t).timetuple().tm_yday for t in range(days)])
    gap = np.abs(doy[:, None] - doy[None, :])
    near = np.minimum(gap, 365 - gap) <= 15
    for basin in {b for b in data.basin if b is not None}:
        rows = [i for i, b in enumerate(data.basin) if b == basin]
        gauged = [i for i in rows if own[i]]
        if not gauged:
            continue
        water = _nanmedian_rows(np.vstack([_relative(data.water[i]) for i in gauged]))
        seen = np.isfinite(water)
        total = near @ np.where(seen, water, 0.0)
        count = near @ seen.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            usual = total / count
            dry = seen & (water < settings.drought_ratio * usual)
        for i in rows:
            out[i] = dry
    return out


def _drivers(data: PlantDays, settings: PlantScanSettings) -> tuple[Arr, list[str]]:
    """Each plant's water driver and its description."""
    n, days = data.tie_kwh.shape
    driver = np.full((n, days), np.nan)
    label = [""] * n
    own = np.isfinite(data.water).sum(axis=1) >= settings.min_days
    event = (data.dispatch_share > 0) | (data.maintenance_share > 0)
    members: dict[str | None, list[int]] = {}
    for i, basin in enumerate(data.basin):
        members.setdefault(basin, []).append(i)
    for basin, rows in members.items():
        gauged = [i for i in rows if own[i]]
        basin_water = (
            _nanmedian_rows(np.vstack([_relative(data.water[i]) for i in gauged]))
            if gauged
            else None
        )
        for i in rows:
            if own[i]:
                driver[i] = data.water[i]
                label[i] = f"gauge {data.gauge_id[i]}"
            elif basin is not None and gauged:
                blend = _blend(data, i, gauged, event)
                donor, fit = (None, 0.0) if blend is not None else _donor(data, i, gauged, event)
                if blend is not None:
                    driver[i], names = blend
                    label[i] = f"blend of gauges {names}"
                elif donor is not None and fit >= settings.donor_min_correlation:
                    driver[i] = data.water[donor]
                    label[i] = f"donor gauge {data.gauge_id[donor]} (rank correlation {fit:.2f})"
                else:
                    driver[i] = basin_water
                    label[i] = f"basin water ({len(gauged)} gauges of {basin})"
            else:
                peers = [j for j in rows if j != i]
                if basin is None or not peers:
                    continue
                outputs = np.vstack(
                    [_relative(np.where(event[j], np.nan, data.tie_kwh[j])) for j in peers]
                )
                driver[i] = _nanmedian_rows(outputs)
                label[i] = f"peers' output ({len(peers)} plants of {basin})"
    return driver, label


def _blend(
    data: PlantDays, row: int, gauged: list[int], event: Arr, min_days: int = 60
) -> tuple[Arr, str] | None:
    """A synthetic gauge for an ungauged plant: the non-negative blend of the same-basin
    gauges (each relative to its usual flow) that best explains the plant's output on days it
    ran below capacity with no record — in its range a run-of-river plant's output is linear
    in its flow, and its flow a mix of its neighbours'."""
    obs = data.tie_kwh[row]
    capacity_day = data.capacity_kw[row] * 24.0
    flows = np.vstack([_relative(data.water[j]) for j in gauged])
    ok = (
        np.isfinite(obs)
        & ~event[row]
        & (obs > 0.05 * capacity_day)
        & (obs < 0.9 * capacity_day)
        & np.isfinite(flows).all(axis=0)
    )
    if ok.sum() < min_days:
        return None
    chosen = list(range(len(gauged)))
    while chosen:
        design = np.column_stack([flows[chosen][:, ok].T, np.ones(int(ok.sum()))])
        weights, *_ = np.linalg.lstsq(design, obs[ok], rcond=None)
        negative = [k for k, w in zip(chosen, weights[:-1], strict=True) if w <= 0]
        if not negative:
            break
        worst = min(negative, key=lambda k: weights[chosen.index(k)])
        chosen.remove(worst)
    if not chosen:
        return None
    blend = np.nansum(flows[chosen] * (weights[:-1] / weights[:-1].sum())[:, None], axis=0)
    missing = ~np.isfinite(flows[chosen]).all(axis=0)
    blend[missing] = np.nan
    names = "+".join(str(data.gauge_id[gauged[k]]) for k in chosen)
    return blend, names


def _ranks(values: Arr) -> Arr:
    return np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(float)


def _donor(data: PlantDays, row: int, gauged: list[int], event: Arr) -> tuple[int | None, float]:
    """The same-basin gauge whose flow ranks the plant's unsaturated output best (the donor-gauge
    method of hydrology for an ungauged site), with its rank correlation."""
    obs = data.tie_kwh[row]
    top = 0.9 * data.capacity_kw[row] * 24.0
    best, best_fit = None, -1.0
    for j in gauged:
        water = data.water[j]
        ok = np.isfinite(obs) & np.isfinite(water) & ~event[row] & (obs < top) & (obs > 0)
        if ok.sum() < 30:
            continue
        a, b = _ranks(obs[ok]), _ranks(water[ok])
        fit = float(np.corrcoef(a, b)[0, 1])
        if fit > best_fit:
            best, best_fit = j, fit
    return best, best_fit


# ----------------------------------------------------------------------------------------------
# the two lines of evidence


def _run_search(
    residual: Arr,
    x: Arr,
    judged: Arr,
    reference: Arr,
    floor: float,
    settings: PlantScanSettings,
    *,
    centre: bool,
) -> Run | None:
    """The best run of standardised shortfall less the drift (see the module docstring)."""
    sample = judged & reference
    spread = step_robust_spread(x, np.where(sample, residual, np.nan), settings.bins, floor)(x)
    z, _ = standardise(residual, spread, judged, reference, centre=centre)
    gain = np.where(judged, z - settings.drift, 0.0)
    return best_run(gain)


def _water_path(
    obs: Arr,
    driver: Arr,
    data: PlantDays,
    row: int,
    settings: PlantScanSettings,
    *,
    own_gauge: bool = True,
    vouched: bool = False,
    drought: Arr | None = None,
) -> tuple[_Path | None, _WaterModel | None]:
    capacity = float(data.capacity_kw[row])
    ceiling, available = data.ceiling_kwh[row], data.available_kwh[row]
    events = (data.dispatch_share[row] > 0) | (data.maintenance_share[row] > 0)
    valid = np.isfinite(obs) & np.isfinite(driver)
    clean = valid & ~events
    if clean.sum() < settings.min_days // 2:
        return None, None
    days = obs.size
    suspect = np.zeros(days, dtype=bool)
    quantile = settings.first_fit_quantile
    run: Run | None = None
    model: _WaterModel | None = None
    residual = np.full(days, np.nan)
    for _ in range(settings.iterations):
        fit_on = clean & ~suspect
        if fit_on.sum() < settings.min_days // 2:
            break
        curve = fit_curve(driver[fit_on], obs[fit_on], settings.bins, quantile)
        raw = curve(driver)
        expected = np.minimum(ceiling, raw)
        model = _WaterModel(expected, np.minimum(available, raw))
        residual = expected - obs
        # a run is judged on the clean days; dispatch and maintenance days are neutral
        floor = settings.min_spread_share * capacity * 24.0
        first = quantile != 0.5
        run = _run_search(residual, driver, clean, ~suspect, floor, settings, centre=first)
        quantile = 0.5
        if run is None:
            break
        suspect = run.mask(days)
    if run is None or model is None:
        return None, model
    series = _Series(obs, driver, clean, ceiling, available, capacity)
    first_pass = _FirstPass(run, model, residual)
    verdict, last = _confirmed(
        first_pass, series, settings, own_gauge=own_gauge, vouched=vouched, drought=drought
    )
    if verdict is not None:
        return verdict, last
    verdict, restored = _profiled(
        first_pass, series, settings, own_gauge=own_gauge, drought=drought
    )
    return (verdict, restored) if verdict is not None else (None, last)


def _confirmed(
    first: _FirstPass,
    series: _Series,
    settings: PlantScanSettings,
    *,
    own_gauge: bool,
    vouched: bool,
    drought: Arr | None,
) -> tuple[_Path | None, _WaterModel]:
    """The detected run judged (:func:`_verdict`), its period refined with the curve refitted,
    and judged again for a real and steady draw; the last model either way."""
    run, model, residual = first.run, first.model, first.residual
    obs, driver, clean = series.obs, series.driver, series.clean
    ceiling, available, capacity = series.ceiling, series.available, series.capacity
    days = obs.size
    suspect = run.mask(days)
    verdict = _verdict(
        "plants.shortfall_unexplained",
        run,
        obs,
        model.expected,
        residual,
        clean,
        model.potential,
        capacity,
        settings,
        own_gauge=own_gauge,
        vouched=vouched,
        drought=drought,
    )
    if verdict is None:
        return None, model
    floor = settings.min_spread_share * capacity * 24.0
    previous_draw = -1.0
    for step in range(2 * settings.iterations + 1):
        sample = clean & ~suspect
        spread = binned_spread(driver[sample], residual[sample], settings.bins, floor)(driver)
        verdict = _refine(verdict, model, residual, clean, spread)
        period = verdict.run.mask(days)
        settled = (period == suspect).all() and abs(verdict.diverted_kw - previous_draw) <= (
            0.01 * verdict.diverted_kw
        )
        if step == 2 * settings.iterations or (step and settled):
            break
        suspect = period
        previous_draw = verdict.diverted_kw
        # refit on every clean day, the period's days with the draw added back: the curve then
        # learns from the low flows a long diversion would otherwise leave it few honest days of
        draw = np.minimum(verdict.diverted_kw * 24.0, np.maximum(model.potential, 0.0))
        restored = np.where(period, obs + np.nan_to_num(draw), obs)
        curve = _with_plateau(
            fit_curve(driver[clean], restored[clean], settings.bins, 0.5), obs, clean & ~period
        )
        raw = curve(driver)
        model = _WaterModel(np.minimum(ceiling, raw), np.minimum(available, raw))
        residual = model.expected - obs
        # and the draw, measured again against the curve that no longer learned it away
        draw_kw = _draw_kw(residual, obs, raw, ceiling, period & clean, capacity, verdict)
        verdict = replace(verdict, expected=model.expected, residual=residual, diverted_kw=draw_kw)
    if verdict.diverted_kw < max(
        settings.min_shortfall_kw, settings.min_water_shortfall_share * capacity
    ):
        return None, model  # measured against the refitted curve, the draw is not a real load
    feeding = clean & (obs > 0.02 * capacity * 24.0) & np.isfinite(verdict.residual)
    inside = feeding & verdict.run.mask(days)
    if inside.sum() >= settings.min_feeding_days:
        scatter = _scatter(verdict.residual, clean & ~suspect)
        steady = _steady_share(verdict.residual, inside, verdict.diverted_kw, scatter)
        if steady < settings.min_steady_share:
            return None, model  # against the refitted curve the shortfall is not a steady draw
        verdict = replace(verdict, steady_share=steady)
    verdict, model = _widest_period(
        verdict, model, obs, driver, clean, ceiling, available, settings, own_gauge=own_gauge
    )
    return replace(verdict, onset_step=_onset_step(verdict, feeding)), model


@dataclass(frozen=True)
class _Profile:
    """A private line's period and draw where the plant's days agree best with one curve."""

    start: int
    end: int
    draw: float
    """[kWh/day]"""
    ratio: float
    """Evidence for the line against none: the drop in absolute deviation from the curve when
    the draw is added back over the period, in units of the deviation that remains, divided by
    its persistence (a profile likelihood ratio under Laplace errors)."""


def _profile(
    run: Run,
    draw: float,
    obs: Arr,
    driver: Arr,
    clean: Arr,
    potential: Arr,
    settings: PlantScanSettings,
    *,
    own_gauge: bool,
    step: int = 7,
) -> _Profile:
    """Each earlier start and later end (weekly), then — against the plant's own gauge — each
    draw from half to twice ``draw``, tried with the draw added back over the whole period and
    the curve refitted on every clean day; kept, the candidate whose restored days lie closest
    to their curve (least absolute deviation, the loss a binned-median curve minimises).

    Only days in flow bins that the period shares with days outside it can tell: where a line
    ran through every day of a season, the refitted curve takes the draw in either way. On a
    proxy of its water the curve is loose enough to absorb part of any draw, and ``draw`` is
    kept.
    """
    days = obs.size
    room = np.where(np.isfinite(potential), np.maximum(potential, 0.0), 0.0)

    def deviations(start: int, end: int, kwh: float) -> Arr:
        series = obs.copy()
        series[start : end + 1] += np.minimum(kwh, room[start : end + 1])
        series = series[clean]
        curve = fit_curve(driver[clean], series, settings.bins, 0.5)
        return np.asarray(series - curve(driver[clean]))

    def loss(start: int, end: int, kwh: float) -> float:
        return float(np.nansum(np.abs(deviations(start, end, kwh))))

    starts = sorted({run.start, *range(run.start % step, run.start, step)})
    ends = sorted({run.end, *range(run.end + step, days, step), days - 1})
    factors = np.round(np.arange(0.5, 2.001, 0.05), 2)
    end = run.end
    for _ in range(2 if own_gauge else 1):  # the period and the draw, each given the other
        start = min(starts, key=lambda s: (loss(s, end, draw), -s))
        end = min(ends, key=lambda e: (loss(start, e, draw), e))
        if own_gauge:
            best = min(factors, key=lambda f: (loss(start, end, draw * f), abs(f - 1.0)))
            draw *= float(best)
    null = loss(0, -1, 0.0)
    left = deviations(start, end, draw)
    alternative = float(np.nansum(np.abs(left)))
    scale = alternative / max(int(clean.sum()), 1)
    if scale <= 0:
        return _Profile(start, end, draw, 0.0)
    series = np.full(days, np.nan)
    series[clean] = left / scale
    ratio = (null - alternative) / scale / persistence(series)
    return _Profile(start, end, draw, float(ratio))


def _restored_model(
    profile: _Profile,
    obs: Arr,
    driver: Arr,
    clean: Arr,
    potential: Arr,
    ceiling: Arr,
    available: Arr,
    settings: PlantScanSettings,
) -> tuple[_WaterModel, float]:
    """The curve refitted with the profile's draw added back over its period (its top at the
    honest plateau), and the energy the line took."""
    room = np.where(np.isfinite(potential), np.maximum(potential, 0.0), 0.0)
    mask = Run(profile.start, profile.end, 0.0).mask(obs.size)
    restored = np.where(mask, obs + np.minimum(profile.draw, room), obs)
    curve = _with_plateau(
        fit_curve(driver[clean], restored[clean], settings.bins, 0.5), obs, clean & ~mask
    )
    raw = curve(driver)
    model = _WaterModel(np.minimum(ceiling, raw), np.minimum(available, raw))
    left = np.where(np.isfinite(model.potential), np.maximum(model.potential, 0.0), 0.0)
    return model, float(np.minimum(profile.draw, left)[mask].sum())


def _widest_period(
    verdict: _Path,
    model: _WaterModel,
    obs: Arr,
    driver: Arr,
    clean: Arr,
    ceiling: Arr,
    available: Arr,
    settings: PlantScanSettings,
    *,
    own_gauge: bool,
) -> tuple[_Path, _WaterModel]:
    """The period and draw of a confirmed line by :func:`_profile`, and its likelihood ratio.

    A line that ran through a season the curve never saw honest days of teaches the curve its
    own shortfall, and the likelihood refinement then stops at that season. The detection
    itself is not re-judged: only how long the line ran, and what it took.
    """
    if verdict.diverted_kw <= 0:
        return verdict, model
    run = verdict.run
    profile = _profile(
        run,
        verdict.diverted_kw * 24.0,
        obs,
        driver,
        clean,
        model.potential,
        settings,
        own_gauge=own_gauge,
    )
    if (profile.start, profile.end, profile.draw) == (
        run.start,
        run.end,
        verdict.diverted_kw * 24.0,
    ):
        return replace(verdict, ratio=profile.ratio), model
    model, diverted = _restored_model(
        profile, obs, driver, clean, model.potential, ceiling, available, settings
    )
    return (
        replace(
            verdict,
            run=Run(profile.start, profile.end, run.score),
            detected=run,
            diverted_kw=profile.draw / 24.0,
            diverted_kwh=diverted,
            expected=model.expected,
            residual=model.expected - obs,
            ratio=profile.ratio,
        ),
        model,
    )


def _profiled(
    first: _FirstPass,
    series: _Series,
    settings: PlantScanSettings,
    *,
    own_gauge: bool,
    drought: Arr | None,
) -> tuple[_Path | None, _WaterModel]:
    """A line the run test turned away, judged by its profile likelihood ratio (:func:`_profile`).

    The run statistic sums shortfall against a curve that has already learned part of a long
    line; the ratio refits the curve both ways. A line that ran for most of the record, or
    through the seasons that make the run test unsure, is found here; the draw must still be a
    real load, the period long enough, and a proxy's period not mostly in a basin drought.
    """
    run, model, residual = first.run, first.model, first.residual
    obs, driver, clean = series.obs, series.driver, series.clean
    ceiling, available, capacity = series.ceiling, series.available, series.capacity
    days = obs.size
    inside = run.mask(days) & clean
    feeding = inside & (obs > 0.02 * capacity * 24.0) & np.isfinite(residual)
    if feeding.sum() < settings.min_feeding_days:
        return None, model
    draw = float(np.median(residual[feeding]))
    if draw / 24.0 < max(settings.min_shortfall_kw, settings.min_water_shortfall_share * capacity):
        return None, model
    profile = _profile(
        run, draw, obs, driver, clean, model.potential, settings, own_gauge=own_gauge
    )
    threshold = settings.profile_threshold * (1.0 if own_gauge else settings.proxy_profile_factor)
    period = Run(profile.start, profile.end, profile.ratio)
    if profile.ratio < threshold or period.days < settings.min_water_segment_days:
        return None, model
    if (
        not own_gauge
        and drought is not None
        and drought[period.mask(days)].mean() > (settings.max_drought_share)
    ):
        return None, model
    restored, diverted = _restored_model(
        profile, obs, driver, clean, model.potential, ceiling, available, settings
    )
    left = restored.expected - obs
    span = period.mask(days)
    within = span & clean & (obs > 0.02 * capacity * 24.0) & np.isfinite(left)
    steady = _steady_share(left, within, profile.draw / 24.0, _scatter(left, clean & ~span))
    return (
        _Path(
            reason="plants.shortfall_unexplained",
            run=period,
            score=profile.ratio,
            expected=restored.expected,
            observed=obs,
            residual=left,
            diverted_kw=profile.draw / 24.0,
            diverted_kwh=diverted,
            steady_share=steady,
            detected=run,
            ratio=profile.ratio,
            test="profile",
            threshold=threshold,
        ),
        restored,
    )


def _scatter(residual: Arr, days: Arr) -> float:
    """The plant's robust day-to-day scatter of ``residual`` on ``days`` (0 with fewer than
    ten)."""
    if days.sum() < 10:
        return 0.0
    scatter = robust_scale(residual[days])
    return scatter if np.isfinite(scatter) else 0.0


def _steady_share(residual: Arr, days: Arr, draw_kw: float, scatter: float) -> float:
    """Share of ``days`` whose shortfall is within half the draw, or twice the plant's
    ``scatter``, of the draw: a private line takes the same kW every day, a misfit of the water
    model does not (a gauge is not better than a few per cent)."""
    if days.sum() == 0 or draw_kw <= 0:
        return 0.0
    band = max(0.5 * draw_kw * 24.0, 2.0 * scatter)
    return float(np.mean(np.abs(residual[days] - draw_kw * 24.0) <= band))


def _onset_step(verdict: _Path, feeding: Arr, window: int = 21) -> float:
    start = verdict.run.start
    before = np.zeros_like(feeding)
    before[max(0, start - window) : start] = True
    after = np.zeros_like(feeding)
    after[start : start + window] = True
    before &= feeding
    after &= feeding
    if before.sum() < 5 or after.sum() < 5 or verdict.diverted_kw <= 0:
        return float("nan")
    step = np.median(verdict.residual[after]) - np.median(verdict.residual[before])
    return float(step / (verdict.diverted_kw * 24.0))


def _with_plateau(curve: Curve, obs: Arr, honest: Arr, min_days: int = 60) -> Curve:
    """The curve, its top raised to the plateau the plant reached on its honest days (the 98th
    percentile of their output: full turbines, less the step-up losses) — at full water a plant
    delivers what its turbines can, whatever the draw the curve was fitted with."""
    sample = obs[honest & np.isfinite(obs)]
    if sample.size < min_days or curve.knots_y.size == 0:
        return curve
    plateau = float(np.percentile(sample, 98))
    if plateau <= curve.knots_y[-1]:
        return curve
    ky = curve.knots_y.copy()
    ky[-1] = plateau
    return Curve(curve.knots_x, np.maximum.accumulate(ky))


def _draw_kw(
    residual: Arr, obs: Arr, raw: Arr, ceiling: Arr, period: Arr, capacity: float, verdict: _Path
) -> float:
    """The private line's steady draw [kW], best read on the days the river would have filled
    the turbines (the grid-tie meter then sits a flat draw below what it used to); else on the
    days the grid still got something; else as before."""
    feeding = period & (obs > 0.02 * capacity * 24.0) & np.isfinite(residual)
    full = feeding & (raw >= 0.98 * ceiling)
    for days in (full, feeding):
        if days.sum() >= 5:
            return max(0.0, float(np.median(residual[days])) / 24.0)
    return verdict.diverted_kw


def _refine(verdict: _Path, model: _WaterModel, residual: Arr, judged: Arr, spread: Arr) -> _Path:
    """The period of a private line with a known steady draw, by likelihood.

    Knowing the draw ``d`` [kWh/day], a day inside the period should fall short by
    ``m = min(d, what the water allowed)`` and a day outside by nothing; each judged day adds
    the log-likelihood ratio ``(2 r m − m²) / (2 σ²)`` of the two, and the period is the
    contiguous stretch, holding the detected run, with the largest sum. Days when the water
    allowed nothing (a dry-season stop) say nothing either way and do not end the period,
    so a diversion seen only when the river rises is credited over the months it ran.
    """
    draw = verdict.diverted_kw * 24.0
    potential = np.where(np.isfinite(model.potential), np.maximum(model.potential, 0.0), 0.0)
    m = np.minimum(draw, potential)
    r = np.where(judged & np.isfinite(residual), residual, 0.0)
    gain = np.where(judged, (2 * r * m - m * m) / (2 * spread * spread), 0.0)
    run = verdict.run
    # grow the detected run outwards while the cumulative gain on that side stays positive
    start, end = run.start, run.end
    best, total = 0.0, 0.0
    for t in range(run.start - 1, -1, -1):
        total += gain[t]
        if total > best:
            best, start = total, t
    best, total = 0.0, 0.0
    for t in range(run.end + 1, gain.size):
        total += gain[t]
        if total > best:
            best, end = total, t
    # and shrink it where its own edges carry no evidence
    while start < end and gain[start] <= 0:
        start += 1
    while end > start and gain[end] <= 0:
        end -= 1
    period = Run(start, end, verdict.run.score)
    diverted = float(m[start : end + 1].sum())
    return replace(verdict, run=period, diverted_kwh=diverted)


def _gap_path(
    obs: Arr, terminal: Arr, capacity: float, settings: PlantScanSettings
) -> _Path | None:
    """Energy leaving between the terminal and the grid-tie meter beyond normal losses.

    Normal loss is a function of what the grid-tie meter passes (the transformer's no-load loss
    while connected, its load loss growing with output); when nothing reaches the grid-tie meter
    the plant is not connected and its normal loss is nil, so terminal energy on such a day has
    gone somewhere else.
    """
    valid = np.isfinite(obs) & np.isfinite(terminal) & (terminal > 0)
    if valid.sum() < settings.min_days // 2:
        return None
    loss = terminal - obs
    connected = obs > 0.001 * capacity * 24.0
    days = obs.size
    suspect = np.zeros(days, dtype=bool)
    quantile = 1.0 - settings.first_fit_quantile
    run: Run | None = None
    normal = np.zeros(days)
    floor = settings.min_spread_share * capacity * 24.0
    for _ in range(settings.iterations):
        fit_on = valid & connected & ~suspect
        if fit_on.sum() < settings.min_days // 2:
            break
        curve = fit_curve(obs[fit_on], loss[fit_on], settings.bins, quantile)
        normal = np.where(
            connected, np.minimum(curve(obs), settings.normal_loss_share * terminal), 0.0
        )
        residual = loss - normal
        sample = valid & connected & ~suspect
        spread = step_robust_spread(obs, np.where(sample, residual, np.nan), settings.bins, floor)(
            obs
        )
        z, _ = standardise(residual, spread, valid, ~suspect, centre=False)
        run = best_run(np.where(valid, z - settings.drift, 0.0))
        quantile = 0.5
        if run is None:
            break
        suspect = run.mask(days)
    if run is None:
        return None
    residual = np.where(np.isfinite(terminal) & np.isfinite(obs), loss - normal, np.nan)
    residual = np.where(valid | ~np.isfinite(residual), residual, 0.0)  # no output: nothing left
    expected = obs + residual  # what would have reached the grid without the draw
    return _verdict(
        "plants.terminal_tie_gap", run, obs, expected, residual, valid, None, capacity, settings
    )


def _verdict(
    reason: str,
    run: Run,
    obs: Arr,
    expected: Arr,
    residual: Arr,
    judged: Arr,
    potential: Arr | None,
    capacity: float,
    settings: PlantScanSettings,
    *,
    own_gauge: bool = True,
    vouched: bool = False,
    drought: Arr | None = None,
) -> _Path | None:
    span = run.mask(obs.size)
    inside = span & judged
    against_water = potential is not None
    min_days = settings.min_water_segment_days if against_water else settings.min_segment_days
    if run.days < min_days or inside.sum() < min_days // 2:
        return None
    mean_kw = float(np.nanmean(residual[inside])) / 24.0
    share = settings.min_water_shortfall_share if against_water else settings.min_shortfall_share
    if not against_water:
        threshold = settings.gap_threshold
    else:
        threshold = settings.water_threshold if own_gauge else settings.proxy_water_threshold
        if vouched and not own_gauge:
            threshold *= settings.vouched_factor
        if (
            not own_gauge
            and drought is not None
            and drought[span].mean() > settings.max_drought_share
        ):
            return None  # a proxy's shortfall in a basin drought: the drought is likelier
    if mean_kw < max(settings.min_shortfall_kw, share * capacity) or run.score < threshold:
        return None
    # the steady draw: days on which the grid still got something show it whole
    feeding = inside & (obs > 0.02 * capacity * 24.0)
    sample = residual[feeding] if feeding.sum() >= 5 else residual[inside]
    draw_kw = max(0.0, float(np.nanmedian(sample)) / 24.0)
    scatter = _scatter(residual, judged & ~span)
    steady = _steady_share(residual, feeding, draw_kw, scatter) if feeding.sum() >= 5 else 0.0
    if against_water:
        if feeding.sum() >= settings.min_feeding_days:
            strong = run.score >= settings.strong_factor * threshold
            if (steady < settings.min_steady_share and not strong) or draw_kw < share * capacity:
                return None  # (strong evidence is judged for steadiness after refinement)
        elif run.days < settings.min_idle_days or not own_gauge:
            return None  # idle on a neighbour's water is no evidence: its river may be dry
    if potential is None:
        # terminal-gap line: a metered day counts what left it (nothing if nothing was
        # generated); a day without readings, the draw
        measured = np.isfinite(residual)
        taken = np.where(measured, np.maximum(np.nan_to_num(residual), 0.0), draw_kw * 24.0)
        diverted = float(taken[span].sum())
    else:
        room = np.where(np.isfinite(potential), potential, draw_kw * 24.0)
        diverted = float(np.minimum(draw_kw * 24.0, np.maximum(room, 0.0))[span].sum())
    return _Path(
        reason=reason,
        run=run,
        score=float(run.score),
        expected=expected,
        observed=obs,
        residual=residual,
        diverted_kw=draw_kw,
        diverted_kwh=diverted,
        steady_share=steady,
        draw_to_scatter=draw_kw * 24.0 / scatter if scatter else 0.0,
        threshold=threshold,
    )


# ----------------------------------------------------------------------------------------------
# the scan


def scan_plants(
    plants: pa.Table,
    generation: pa.Table,
    inflow: pa.Table | None = None,
    events: pa.Table | None = None,
    settings: PlantScanSettings | None = None,
) -> PlantScan:
    """Findings (:data:`PLANT_FINDINGS_SCHEMA`) and every plant's status
    (:data:`PLANT_STATUS_SCHEMA`)."""
    settings = settings or PlantScanSettings()
    data = plant_days(plants, generation, inflow, events, min_coverage=settings.min_coverage)
    driver, label = _drivers(data, settings)
    droughts = _droughts(data, settings)
    info = plants.to_pylist()
    verdicts: dict[int, list[_Path]] = {}
    models: dict[int, _WaterModel] = {}
    status_rows: list[dict[str, Any]] = []
    for row, plant_id in enumerate(data.plant_ids):
        obs = data.tie_kwh[row]
        valid_days = int(np.isfinite(obs).sum())
        terminal_days = int(np.isfinite(data.terminal_kwh[row]).sum())
        paths: list[_Path] = []
        note = ""
        if valid_days < settings.min_days:
            status_rows.append(
                _status(
                    plant_id,
                    "insufficient_data",
                    label[row],
                    valid_days,
                    terminal_days,
                    f"{valid_days} metered days of {settings.min_days} needed",
                )
            )
            continue
        gap = _gap_path(obs, data.terminal_kwh[row], float(data.capacity_kw[row]), settings)
        if gap is not None:
            paths.append(gap)
        if np.isfinite(driver[row]).sum() >= settings.min_days // 2:
            own = label[row].startswith("gauge ")
            # terminal readings that agree with the grid-tie meter rule out a tap between them
            # unless they are made up: a shortfall against water alone must then be stronger
            vouched = gap is None and terminal_days >= settings.min_days
            water, model = _water_path(
                obs,
                driver[row],
                data,
                row,
                settings,
                own_gauge=own,
                vouched=vouched,
                drought=droughts[row],
            )
            if model is not None:
                models[row] = model
            if water is not None:
                paths.append(water)
        else:
            note = "no gauge, no gauged or metered peer: judged on terminal readings only"
            if terminal_days < settings.min_days:
                status_rows.append(
                    _status(
                        plant_id,
                        "insufficient_data",
                        "",
                        valid_days,
                        terminal_days,
                        "no water data and no terminal readings to compare with",
                    )
                )
                continue
        if paths:
            verdicts[row] = paths
        status_rows.append(_status(plant_id, "clear", label[row], valid_days, terminal_days, note))

    findings: list[dict[str, Any]] = []
    status_of = {status["plant_id"]: status for status in status_rows}
    for row, paths in verdicts.items():
        finding = _finding(row, paths, data, models, label[row], info[row], settings)
        findings.append(finding)
        status_of[data.plant_ids[row]]["status"] = (
            "shared" if finding["shared_with_peers"] else "finding"
        )
    findings.sort(key=lambda f: (-f["confidence"], f["plant_id"]))
    return PlantScan(
        findings=pa.Table.from_pylist(findings, schema=PLANT_FINDINGS_SCHEMA),
        status=pa.Table.from_pylist(status_rows, schema=PLANT_STATUS_SCHEMA),
    )


def _status(
    plant_id: str, status: str, driver: str, valid: int, terminal: int, note: str
) -> dict[str, Any]:
    return {
        "plant_id": plant_id,
        "status": status,
        "driver": driver or None,
        "valid_days": valid,
        "terminal_days": terminal,
        "note": note or None,
    }


@dataclass(frozen=True)
class _Peers:
    """How the same-basin peers fared over a finding's period."""

    ratio: float
    """Median over peers of observed / expected grid energy in the period."""
    count: int
    """Peers with enough days to judge."""
    with_us: int
    """Peers that fell short in the weeks after the period's first day (below
    ``peer_shared_ratio``) but not in the weeks before it: their shortfall began when ours
    did."""

    def shared(self, settings: PlantScanSettings) -> bool:
        """A basin-wide shortfall: the median peer fell short, and at least half of the peers'
        shortfall began with ours. A grid constraint or a bad gauge strikes the basin on one
        day; private lines in one valley are switched on on days of their own."""
        return self.ratio < settings.peer_shared_ratio and 2 * self.with_us >= self.count


def _share_of_expected(obs: Arr, expected: Arr, days: Arr, min_days: int = 7) -> float | None:
    ok = days & np.isfinite(obs) & np.isfinite(expected)
    total = float(expected[ok].sum())
    if ok.sum() < min_days or total <= 0:
        return None
    return float(obs[ok].sum()) / total


def _peers(
    row: int,
    run: Run,
    data: PlantDays,
    models: dict[int, _WaterModel],
    settings: PlantScanSettings,
    window: int = 60,
) -> _Peers | None:
    """How the same-basin peers fared over ``run``, and in the ``window`` days before and after
    its first day."""
    basin = data.basin[row]
    span = run.mask(data.days)
    before = np.zeros(data.days, dtype=bool)
    before[max(0, run.start - window) : run.start] = True
    after = np.zeros(data.days, dtype=bool)
    after[run.start : min(run.end + 1, run.start + window)] = True
    ratios: list[float] = []
    with_us = 0
    for j, other in enumerate(data.basin):
        if j == row or other != basin or basin is None or j not in models:
            continue
        obs, expected = data.tie_kwh[j], models[j].expected
        during = _share_of_expected(obs, expected, span)
        if during is None:
            continue
        ratios.append(during)
        onset = _share_of_expected(obs, expected, after)
        earlier = _share_of_expected(obs, expected, before, min_days=21)
        if (
            onset is not None
            and onset < settings.peer_shared_ratio
            and (earlier is None or earlier >= settings.peer_shared_ratio)
        ):
            with_us += 1
    if not ratios:
        return None
    return _Peers(float(np.median(ratios)), len(ratios), with_us)


def _finding(
    row: int,
    paths: list[_Path],
    data: PlantDays,
    models: dict[int, _WaterModel],
    driver: str,
    info: dict[str, Any],
    settings: PlantScanSettings,
) -> dict[str, Any]:
    paths = sorted(paths, key=lambda p: -p.score)
    lead = next((p for p in paths if p.reason == "plants.terminal_tie_gap"), paths[0])
    run = lead.run
    span = run.mask(data.days)
    obs = data.tie_kwh[row]
    ok = span & np.isfinite(obs) & np.isfinite(lead.expected)
    expected_kwh = float(lead.expected[ok].sum())
    observed_kwh = float(obs[ok].sum())
    peers = _peers(row, lead.detected or run, data, models, settings)
    own_ratio = observed_kwh / expected_kwh if expected_kwh > 0 else None
    shared = (
        lead.reason == "plants.shortfall_unexplained"
        and len(paths) == 1
        and peers is not None
        and peers.shared(settings)
    )
    reasons = [p.reason for p in paths]
    if shared:
        reasons = ["plants.shortfall_shared"]
    capacity = float(data.capacity_kw[row])
    ruled_out = _ruled_out(row, span, lead, data, peers, own_ratio, driver, settings)
    confidence = float(1.0 - np.exp(-lead.score / max(lead.threshold, 1e-9)))
    if len(paths) > 1:
        confidence = max(confidence, 0.99)
    if shared:
        confidence *= 0.5
    return {
        "plant_id": data.plant_ids[row],
        "name": info.get("name"),
        "basin": data.basin[row],
        "owner": info.get("owner"),
        "uscc": info.get("uscc"),
        "address": info.get("address"),
        "region_code": info.get("region_code"),
        "capacity_kw": capacity,
        "reasons": "; ".join(reasons),
        "period_start_date": data.date_of(run.start),
        "period_end_date": data.date_of(run.end),
        "days": run.days,
        "expected_kwh": round(expected_kwh, 1),
        "observed_kwh": round(observed_kwh, 1),
        "shortfall_kwh": round(expected_kwh - observed_kwh, 1),
        "diverted_kw": round(lead.diverted_kw, 1),
        "diverted_kwh": round(lead.diverted_kwh, 1),
        "score": round(lead.score, 2),
        "confidence": round(confidence, 3),
        "shared_with_peers": shared,
        "driver": driver or None,
        "ruled_out": json.dumps(ruled_out, ensure_ascii=False),
        "evidence": json.dumps(
            {
                "lines": [
                    {
                        "reason": p.reason,
                        "start": data.date_of(p.run.start).isoformat(),
                        "end": data.date_of(p.run.end).isoformat(),
                        "score": round(p.score, 2),
                        "diverted_kw": round(p.diverted_kw, 1),
                        "diverted_kwh": round(p.diverted_kwh, 1),
                        "test": p.test,
                        "threshold": round(p.threshold, 2),
                        "likelihood_ratio": None if not np.isfinite(p.ratio) else round(p.ratio, 1),
                        "steady_share": round(p.steady_share, 3),
                        "draw_to_scatter": round(p.draw_to_scatter, 2),
                        "onset_step": None
                        if not np.isfinite(p.onset_step)
                        else round(p.onset_step, 3),
                    }
                    for p in paths
                ],
                "capacity_kw": capacity,
                "observed_share_of_expected": None if own_ratio is None else round(own_ratio, 3),
                "series": weekly_series(data.first_day, lead.expected, obs),
            },
            ensure_ascii=False,
        ),
        "settings": json.dumps(settings.as_dict()),
    }


SERIES_BIN_DAYS = 7


def weekly_series(first_day: date, expected: Arr, observed: Arr) -> dict[str, Any]:
    """What the plant should have sent and what it sent, week by week, over the whole scan.

    Weeks of :data:`SERIES_BIN_DAYS` days from ``first_day``; each total [kWh] sums the days on
    which both are known (a week with none is ``None``), so the two lines compare like with
    like and a chart of them shows where the shortfall opened.
    """
    both = np.isfinite(expected) & np.isfinite(observed)
    bins = (len(observed) + SERIES_BIN_DAYS - 1) // SERIES_BIN_DAYS
    out_expected: list[float | None] = []
    out_observed: list[float | None] = []
    for week in range(bins):
        span = slice(week * SERIES_BIN_DAYS, (week + 1) * SERIES_BIN_DAYS)
        keep = both[span]
        if not keep.any():
            out_expected.append(None)
            out_observed.append(None)
            continue
        out_expected.append(round(float(expected[span][keep].sum()), 1))
        out_observed.append(round(float(observed[span][keep].sum()), 1))
    return {
        "first_date": first_day.isoformat(),
        "bin_days": SERIES_BIN_DAYS,
        "expected_kwh": out_expected,
        "observed_kwh": out_observed,
    }


def _ruled_out(
    row: int,
    span: Arr,
    lead: _Path,
    data: PlantDays,
    peers: _Peers | None,
    own_ratio: float | None,
    driver: str,
    settings: PlantScanSettings,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    water = data.water[row]
    if np.isfinite(water[span]).any():
        usual = float(np.nanmedian(water))
        now = float(np.nanmean(water[span]))
        out.append(
            {
                "explanation": "water",
                "finding": "expected energy already follows the inflow; the shortfall remains",
                "inflow_m3s": round(now, 3),
                "usual_inflow_m3s": round(usual, 3),
                "inflow_share_of_usual": round(now / usual, 3) if usual > 0 else None,
            }
        )
    elif driver:
        out.append(
            {
                "explanation": "water",
                "finding": f"expected energy follows {driver}; the shortfall remains",
            }
        )
    dispatch = data.dispatch_share[row][span] > 0
    maintenance = data.maintenance_share[row][span] > 0
    residual = np.where(np.isfinite(lead.residual), lead.residual, 0.0)[span]
    out.append(
        {
            "explanation": "dispatch",
            "finding": "no dispatch instruction or curtailment record covers the shortfall",
            "days_with_record": int(dispatch.sum()),
            "shortfall_on_days_without_record_kwh": round(float(residual[~dispatch].sum()), 1),
        }
    )
    out.append(
        {
            "explanation": "maintenance",
            "finding": "expected energy is capped at the capacity left by recorded outages",
            "days_with_outage": int(maintenance.sum()),
            "shortfall_on_days_without_outage_kwh": round(float(residual[~maintenance].sum()), 1),
        }
    )
    terminal = data.terminal_kwh[row]
    obs = data.tie_kwh[row]
    both = span & np.isfinite(terminal) & np.isfinite(obs) & (terminal > 0)
    if both.any():
        share = float((terminal[both] - obs[both]).sum() / terminal[both].sum())
        out.append(
            {
                "explanation": "losses",
                "finding": (
                    "terminal-to-grid-tie loss beyond normal"
                    if lead.reason == "plants.terminal_tie_gap"
                    else "terminal and grid-tie readings agree within normal losses"
                ),
                "loss_share": round(share, 4),
            }
        )
    if peers is not None:
        if peers.shared(settings):
            finding = "same-basin peers fell short too, from the same weeks"
        elif peers.ratio < settings.peer_shared_ratio:
            finding = (
                "same-basin peers fell short too, but most of them already before this period: "
                "not one event striking the basin"
            )
        else:
            finding = "same-basin peers produced what their water allowed"
        out.append(
            {
                "explanation": "peers",
                "finding": finding,
                "peer_median_share_of_expected": round(peers.ratio, 3),
                "peers": peers.count,
                "peers_short_from_this_period": peers.with_us,
                "plant_share_of_expected": None if own_ratio is None else round(own_ratio, 3),
            }
        )
    return out
