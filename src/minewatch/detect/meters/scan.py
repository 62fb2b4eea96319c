"""The meter kernel: wide readings of whole meters in, one finding per meter out.

:func:`scan_batch` is a pure function over an Arrow batch (plus the customer archive and the
weather), so an engine may run it in-process or inside Spark's ``mapInArrow`` unchanged.
:func:`score_days` is the same after stage one, for engines that reduce days first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.meters.daily import daily_features
from minewatch.detect.meters.features import (
    EPOCH,
    MeterDays,
    MeterFeatures,
    Temperatures,
    compute_features,
    lay_out,
)
from minewatch.detect.meters.model import TreeModel, load_packaged_model
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import TariffClass
from minewatch.reference.hardware import find_model

F = npt.NDArray[np.float64]

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("score", pa.float64()),
        pa.field("suspected", pa.bool_()),
        pa.field("category", pa.string()),
        pa.field("est_start_date", pa.date32()),
        pa.field("est_mining_kw", pa.float64()),
        pa.field("est_rigs", pa.int32()),
        pa.field("est_hashrate_ths", pa.float64()),
        pa.field("reasons", pa.string()),
        pa.field("valid_days", pa.int32()),
        pa.field("warnings", pa.string()),
    ]
)


EXPLAIN_FROM = 0.05
"""Findings scoring at least this carry their reason codes."""


class Category:
    MINING = "mining"
    DATA_CENTER = "data_center"
    OTHER = "other"
    INSUFFICIENT = "insufficient_data"


FEATURE_NAMES: tuple[str, ...] = (
    "flat_cv_log",
    "floor_share",
    "floor_cv_log",
    "level_cv_log",
    "rough_log",
    "load_factor",
    "profile_corr",
    "profile_amp_log",
    "weekly_abs",
    "temp_corr",
    "temp_slope_pct",
    "floor_temp_corr",
    "floor_temp_slope_pct",
    "has_start",
    "start_t_log",
    "on_fraction",
    "block_log",
    "block_share",
    "residential",
    "commercial",
    "industrial",
    "agricultural",
    "valley_share",
    "valley_flat_log",
    "valley_day_cv",
    "valley_temp_corr",
    "off_valley_share",
    "ramp_steps",
    "contract_use",
)


TARIFFS: tuple[str, ...] = tuple(t.value for t in TariffClass)
"""Tariff classes in the order of :attr:`Context.tariff_code`."""

REGISTERED_DC_MARKS = ("数据中心", "云计算", "IDC")
"""Words in a customer's name that declare a data centre."""


@dataclass(frozen=True)
class Context:
    """What the archive and the weather say about each meter (aligned with the meters)."""

    tariff_code: npt.NDArray[np.int8]  # index in TARIFFS, -1 where unknown
    contract_kva: F
    registered_dc: npt.NDArray[np.bool_]  # the customer's name declares a data centre
    temperature: Temperatures | None


def _put(
    row: F, values: npt.NDArray[Any], nan: float | None = None, low: float | None = None,
    high: float | None = None, log: bool = False,
) -> None:  # fmt: skip
    """``row`` = ``values`` with NaN as ``nan`` (and the infinities as the largest finite
    numbers), clipped to ``[low, high]``, then log10 where ``log``: in place, so that the
    model's inputs cost no temporaries (fresh memory is slow to come by)."""
    np.copyto(row, values)
    if nan is not None:
        np.nan_to_num(row, copy=False, nan=nan)
    if low is not None or high is not None:
        np.clip(row, low, high, out=row)
    if log:
        np.log10(row, out=row)


def model_inputs(f: MeterFeatures, ctx: Context) -> F:
    """The model's input matrix, columns in :data:`FEATURE_NAMES` order, no NaN (feature by
    feature in memory: the trees read one feature for many meters at a time)."""
    tariff = ctx.tariff_code
    x = np.empty((len(FEATURE_NAMES), len(tariff)))
    rows = iter(x)

    def put(values: npt.NDArray[Any], **how: Any) -> None:
        _put(next(rows), values, **how)

    with np.errstate(all="ignore"):
        put(f.flat_cv, nan=1e-4, low=1e-4, log=True)
        put(f.floor_share, nan=0.0, low=0, high=1.5)
        put(f.floor_cv, nan=1e-4, low=1e-4, log=True)
        put(f.level_cv, nan=1e-4, low=1e-4, log=True)
        put(f.rough, nan=1e-4, low=1e-4, log=True)
        put(f.load_factor, nan=0.0, low=0, high=1)
        put(f.profile_corr, nan=0.0)
        put(f.profile_amp, nan=1e-4, low=1e-4, log=True)
        row = next(rows)
        _put(row, f.weekly_ratio, nan=0.0)
        np.abs(row, out=row)
        np.clip(row, 0, 2, out=row)
        put(f.temp_corr, nan=0.0)
        put(f.temp_slope * 100, nan=0.0, low=-20, high=20)
        put(f.floor_temp_corr, nan=0.0)
        put(f.floor_temp_slope * 100, nan=0.0, low=-20, high=20)
        put(f.start_index >= 0)
        row = next(rows)
        _put(row, f.start_t, nan=0.0, low=0)
        row += 1
        _put(row, row, nan=1.0, low=1.0, log=True)
        put(f.on_fraction, nan=0.0)
        put(f.block_kw + 0.05, nan=0.05, low=0.05, log=True)
        put(f.block_kw / f.level_kw, nan=0.0, low=0, high=1.5)
        for tariff_class in (TariffClass.RESIDENTIAL, TariffClass.COMMERCIAL,
                             TariffClass.INDUSTRIAL, TariffClass.AGRICULTURAL):  # fmt: skip
            put(tariff == TARIFFS.index(tariff_class.value))
        put(f.valley_share, nan=0.0, low=0, high=5)
        put(f.valley_flat, nan=1e-4, low=1e-4, log=True)
        put(f.valley_day_cv, nan=2.0, low=0, high=2)
        put(f.valley_temp_corr, nan=0.0)
        put(f.off_valley_share, nan=1.0, low=0, high=3)
        put(f.ramp_steps, low=0, high=6)
        put(f.level_kw / (ctx.contract_kva * 0.9), nan=0.5, low=0, high=3)
    if next(rows, None) is not None:
        raise AssertionError("model_inputs does not fill every feature")
    return x.T


def _context(meter_ids: pa.StringArray, days: MeterDays, customers: pa.Table | None,
             weather: pa.Table | None) -> Context:  # fmt: skip
    """The archive's row and the weather of each meter, column by column."""
    m = len(meter_ids)
    tariff = np.full(m, -1, dtype=np.int8)
    contract = np.full(m, np.nan)
    registered_dc = np.zeros(m, dtype=np.bool_)
    temperature = None
    if customers is None or not customers.num_rows:
        return Context(tariff, contract, registered_dc, temperature)
    index = pc.index_in(meter_ids, customers.column("meter_id"))
    found = index.is_valid().to_numpy(zero_copy_only=False)
    wanted = ["tariff_class", "contract_kva", "customer_name", "region_code"]
    picked = customers.select(wanted).take(index)  # null where the archive has no row
    codes = pc.index_in(picked.column("tariff_class"), pa.array(TARIFFS, pa.string()))
    tariff = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int8)
    contract = np.where(
        found, picked.column("contract_kva").to_numpy(zero_copy_only=False), np.nan
    ).astype(np.float64)
    name = picked.column("customer_name")
    marks = "|".join(re.escape(mark) for mark in REGISTERED_DC_MARKS)
    hit = pc.fill_null(pc.match_substring_regex(name, marks), False)
    registered_dc = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=np.bool_)
    regions = pc.dictionary_encode(picked.column("region_code")).combine_chunks()
    if weather is None or not weather.num_rows or regions.null_count == m:
        return Context(tariff, contract, registered_dc, temperature)
    # One temperature series per region that has meters, then every meter takes its region's.
    series: dict[str, F] = {}
    first = (days.first_date - EPOCH).days
    day_numbers = weather.column("date").cast(pa.int32()).to_numpy()
    temps = weather.column("temp_mean_c").to_numpy(zero_copy_only=False).astype(np.float64)
    for region, day, temp in zip(
        weather.column("region_code").to_pylist(), day_numbers.tolist(), temps.tolist(),
        strict=True,
    ):  # fmt: skip
        offset = day - first
        if 0 <= offset < days.days:
            series.setdefault(region, np.full(days.days, np.nan))[offset] = temp
    known = regions.dictionary.to_pylist()
    by_region = np.full((len(known) + 1, days.days), np.nan)  # the last row: no region
    for k, meter_region in enumerate(known):
        found_series = series.get(meter_region)
        # A county without a station takes its prefecture's, then its province's.
        for prefix in (meter_region[:4], meter_region[:2]):
            if found_series is None:
                found_series = next((v for c, v in series.items() if c.startswith(prefix)), None)
        if found_series is not None:
            by_region[k] = found_series
    region_of = pc.fill_null(regions.indices, len(known)).to_numpy(zero_copy_only=False)
    temperature = Temperatures(by_region, region_of.astype(np.int32))
    return Context(tariff, contract, registered_dc, temperature)


@dataclass(frozen=True)
class Prepared:
    """Everything the scorer knows about a set of meters."""

    days: MeterDays
    features: MeterFeatures
    context: Context
    inputs: F


def prepare(
    daily: pa.Table,
    customers: pa.Table | None,
    weather: pa.Table | None,
    settings: MeterScanSettings,
    span: tuple[date, date] | None = None,
) -> Prepared:
    """Lay out (over ``span``, see :func:`lay_out`), join the archive and the weather, and
    compute features and model inputs."""
    days = lay_out(daily, settings, span)
    ctx = _context(days.meter_ids, days, customers, weather)
    features = compute_features(days, ctx.temperature, settings)
    return Prepared(days, features, ctx, model_inputs(features, ctx))


def score_days(
    daily: pa.Table,
    customers: pa.Table | None = None,
    weather: pa.Table | None = None,
    settings: MeterScanSettings | None = None,
    model: TreeModel | None = None,
    span: tuple[date, date] | None = None,
) -> pa.Table:
    """Findings (:data:`FINDINGS_SCHEMA`) for the whole meters in stage-one rows ``daily``.

    ``span`` (first and last day) is the calendar of the whole scan when ``daily`` is one part
    of it; by default the calendar of ``daily`` itself."""
    settings = settings or MeterScanSettings()
    model = model or load_packaged_model()
    if daily.num_rows == 0:
        return FINDINGS_SCHEMA.empty_table()
    prepared = prepare(daily, customers, weather, settings, span)
    days, features, ctx = prepared.days, prepared.features, prepared.context
    score = model.predict(prepared.inputs)
    threshold = settings.threshold if settings.threshold is not None else model.threshold
    return findings_table(days, features, ctx, score, threshold, settings)


def scan_batch(
    readings: pa.RecordBatch | pa.Table,
    customers: pa.Table | None = None,
    weather: pa.Table | None = None,
    settings: MeterScanSettings | None = None,
    model: TreeModel | None = None,
) -> pa.Table:
    """The kernel: wide readings (``READINGS_SCHEMA``) of whole meters → findings."""
    settings = settings or MeterScanSettings()
    daily = pa.Table.from_batches([daily_features(readings, settings)])
    return score_days(daily, customers, weather, settings, model)


def _rig_figures(block_kw: F, gpu: npt.NDArray[np.bool_], settings: MeterScanSettings) -> tuple[
    npt.NDArray[np.int64], F
]:  # fmt: skip
    asic = find_model(settings.rig_model)
    asic_kw = (asic.power_w if asic else 3250.0) / 1000 * 1.05
    asic_ths = (asic.hashrate_hs / 1e12) if asic else 95.0
    rig_kw = np.where(gpu, settings.gpu_rig_kw, asic_kw)
    rigs = np.maximum(np.rint(block_kw / rig_kw), 1).astype(np.int64)
    # GPU rigs mine Ethash; their SHA-256 equivalent is not meaningful, so only ASICs count.
    hashrate = np.where(gpu, 0.0, rigs * asic_ths)
    return rigs, hashrate


def findings_table(
    days: MeterDays,
    f: MeterFeatures,
    ctx: Context,
    score: F,
    threshold: float,
    settings: MeterScanSettings,
) -> pa.Table:
    m = len(days.meter_ids)
    insufficient = f.valid_days < settings.min_days
    valley_mining = (f.valley_share > 1.0) & (f.off_valley_share < 0.5)
    mining_kw = np.where(valley_mining, f.valley_block_kw, f.block_kw)
    mining_kw = np.nan_to_num(mining_kw)
    suspected = (score >= threshold) & ~insufficient & (mining_kw >= settings.min_mining_kw)
    registered_dc = ctx.registered_dc
    big_flat = (np.nan_to_num(f.level_kw) >= 100) & (np.nan_to_num(f.floor_share) >= 0.75)
    # The category as a code into _CATEGORIES (Arrow spells the names out at the end).
    category = np.where(
        insufficient, 3, np.where(suspected, 0, np.where(registered_dc | big_flat, 1, 2))
    ).astype(np.int8)
    # Small constant blocks are GPU rigs far more often than ASICs (households, shop fronts).
    commercial = ctx.tariff_code == TARIFFS.index(TariffClass.COMMERCIAL.value)
    gpu = (mining_kw < 2.5) | commercial
    rigs, hashrate = _rig_figures(mining_kw, gpu & (mining_kw < 80), settings)
    first_day = (days.first_date - EPOCH).days
    dated = suspected & (f.start_index >= 0)
    start = pa.array((first_day + f.start_index).astype(np.int32), mask=~dated).cast(pa.date32())
    # Reasons for every meter worth a second look; a plain load scoring near zero has none.
    explain = (score >= EXPLAIN_FROM) | (category == _CATEGORIES.index(Category.DATA_CENTER))
    reasons = np.full(m, "", dtype=object)
    explained = np.flatnonzero(explain)
    reasons[explained] = _explain(f, explained, suspected, ctx)
    warnings = _warnings(days, f, settings)
    return pa.table(
        {
            "meter_id": days.meter_ids,
            "score": pa.array(np.where(insufficient, 0.0, np.round(score, 6))),
            "suspected": pa.array(suspected),
            "category": pa.DictionaryArray.from_arrays(
                pa.array(category), pa.array(_CATEGORIES, pa.string())
            ).cast(pa.string()),
            "est_start_date": start,
            "est_mining_kw": pa.array(np.round(mining_kw, 2), mask=~suspected),
            "est_rigs": pa.array(rigs.astype(np.int32), mask=~suspected),
            "est_hashrate_ths": pa.array(np.round(hashrate, 1), mask=~suspected | (hashrate <= 0)),
            "reasons": pa.array(reasons, pa.string()),
            "valid_days": pa.array(f.valid_days.astype(np.int32)),
            "warnings": warnings,
        },
        schema=FINDINGS_SCHEMA,
    )


def _texts(values: F, digits: int = 3) -> list[str]:
    """Each value to three significant digits (``nan`` where it is not finite)."""
    spec = f".{digits}g"
    return [format(v, spec) if math.isfinite(v) else "nan" for v in values.tolist()]


def _explain(
    f: MeterFeatures, rows: npt.NDArray[np.int64], suspected: npt.NDArray[np.bool_], ctx: Context
) -> list[str]:
    """Reason codes with the figures that triggered them, strongest evidence first.

    Each code is decided for all the ``rows`` at once and formatted only where it holds;
    every meter then lists its codes in the order below."""
    v = {name: getattr(f, name)[rows] for name in _REASON_FIGURES}
    flagged = suspected[rows]
    reasons: list[list[str]] = [[] for _ in range(rows.size)]

    def add(where: npt.NDArray[np.bool_], texts: Iterable[str]) -> None:
        for k, text in zip(np.flatnonzero(where).tolist(), texts, strict=True):
            reasons[k].append(text)

    def num(name: str, default: float) -> F:
        return np.asarray(np.nan_to_num(v[name], nan=default, posinf=default, neginf=default))

    def at(where: npt.NDArray[np.bool_], name: str, digits: int = 3) -> list[str]:
        return _texts(v[name][where], digits)

    started = v["start_index"] >= 0
    add(started, (
        f"meters.new_constant_load(block_kw={a}, base_kw={b}, t={c})"
        for a, b, c in zip(at(started, "block_kw"), at(started, "base_kw"),
                           at(started, "start_t"), strict=True)
    ))  # fmt: skip
    flat = (num("flat_cv", 1) < 0.03) & (num("floor_share", 0) > 0.9)
    add(flat, (
        f"meters.flat_24x7(cv={a}, floor_share={b})"
        for a, b in zip(at(flat, "flat_cv"), at(flat, "floor_share"), strict=True)
    ))  # fmt: skip
    steady = ~flat & (num("floor_cv", 1) < 0.05) & (v["block_kw"] >= 0.6)
    add(steady, (
        f"meters.constant_floor(floor_kw={a}, day_cv={b})"
        for a, b in zip(at(steady, "floor_kw"), at(steady, "floor_cv"), strict=True)
    ))  # fmt: skip
    valley = (num("valley_share", 0) > 1.0) & (num("off_valley_share", 1) < 0.5)
    add(valley, (
        f"meters.valley_only_block(block_kw={a}, day_cv={b})"
        for a, b in zip(at(valley, "valley_block_kw"), at(valley, "valley_day_cv"), strict=True)
    ))  # fmt: skip
    shaped = np.isfinite(v["profile_corr"])
    add(shaped, (
        f"meters.{'daily_rhythm' if c > 0.6 else 'no_daily_rhythm'}(repeat_corr={a}, amp={b})"
        for c, a, b in zip(v["profile_corr"][shaped].tolist(), at(shaped, "profile_corr", 2),
                           at(shaped, "profile_amp"), strict=True)
    ))  # fmt: skip
    warm = np.isfinite(v["temp_corr"])
    follows = ((v["temp_corr"] > 0.5) & (num("temp_slope", 0) > 0.002))[warm]
    add(warm, (
        f"meters.{'follows_temperature' if y else 'no_temperature_response'}"
        f"(corr={a}, pct_per_c={b})"
        for y, a, b in zip(follows.tolist(), at(warm, "temp_corr", 2),
                           _texts(100 * v["temp_slope"][warm], 2), strict=True)
    ))  # fmt: skip
    weekly = np.isfinite(v["weekly_ratio"]) & (np.abs(v["weekly_ratio"]) > 0.1)
    add(weekly, (
        f"meters.weekly_rhythm(weekend_ratio={a})"
        for a in _texts(1 + v["weekly_ratio"][weekly])
    ))  # fmt: skip
    off = v["off_days"] > 0
    add(off, (
        f"meters.off_days(days={d}, on_fraction={a})"
        for d, a in zip(v["off_days"][off].tolist(), at(off, "on_fraction"), strict=True)
    ))  # fmt: skip
    steps = (v["ramp_steps"] > 0) & flagged
    add(steps, (
        f"meters.rig_steps(steps={d}, step_kw={a})"
        for d, a in zip(v["ramp_steps"][steps].tolist(), at(steps, "step_kw"), strict=True)
    ))  # fmt: skip
    codes = ctx.tariff_code[rows]
    mismatch = flagged & np.isin(codes, [TARIFFS.index(t) for t in _MISMATCHED_TARIFFS])
    add(mismatch, (
        f"meters.tariff_mismatch(tariff={TARIFFS[c]}, block_kw={a})"
        for c, a in zip(codes[mismatch].tolist(), at(mismatch, "block_kw"), strict=True)
    ))  # fmt: skip
    return ["; ".join(texts) for texts in reasons]


_CATEGORIES = (Category.MINING, Category.DATA_CENTER, Category.OTHER, Category.INSUFFICIENT)

_REASON_FIGURES = (
    "start_index", "block_kw", "base_kw", "start_t", "flat_cv", "floor_share", "floor_cv",
    "floor_kw", "valley_share", "off_valley_share", "valley_block_kw", "valley_day_cv",
    "profile_corr", "profile_amp", "temp_corr", "temp_slope", "weekly_ratio", "off_days",
    "on_fraction", "ramp_steps", "step_kw",
)  # fmt: skip
_MISMATCHED_TARIFFS = (TariffClass.RESIDENTIAL.value, TariffClass.AGRICULTURAL.value)
"""Tariffs on which a mining block is also a tariff violation."""


def _warnings(days: MeterDays, f: MeterFeatures, settings: MeterScanSettings) -> pa.Array:
    """Data-sufficiency warnings per meter (empty where the data are sound)."""
    m = len(days.meter_ids)
    present = days.present_days
    absent = days.days - present
    present_slots = np.maximum(present * 96, 1)
    checks = (
        (f.valid_days < settings.min_days,
         ("data.too_few_days(valid=", f", needed={settings.min_days})"), f.valid_days),
        (absent > 0, ("data.missing_days(", ")"), absent),
        (days.missing_slots > 0.01 * present_slots, ("data.missing_slots(", ")"),
         days.missing_slots),
        (days.duplicate_days > 0, ("data.duplicate_days(", ")"), days.duplicate_days),
        (days.negative_slots > 0, ("data.negative_values(", ")"), days.negative_slots),
        (days.absurd_slots > 0, ("data.impossible_values(", ")"), days.absurd_slots),
    )  # fmt: skip
    # Only the flagged meters are formatted; a meter's second warning joins its first.
    out = np.full(m, "", dtype=object)
    for flagged, (before, after), values in checks:
        rows = np.flatnonzero(flagged)
        if not rows.size:
            continue
        texts = np.array([f"{before}{v}{after}" for v in values[rows].tolist()], dtype=object)
        prior = out[rows]
        joined = prior != ""
        texts[joined] = prior[joined] + "; " + texts[joined]
        out[rows] = texts
    return pa.array(out, pa.string())
