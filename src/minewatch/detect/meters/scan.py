"""The meter kernel: wide readings of whole meters in, one finding per meter out.

:func:`scan_batch` is a pure function over an Arrow batch (plus the customer archive and the
weather), so an engine may run it in-process or inside Spark's ``mapInArrow`` unchanged.
:func:`score_days` is the same after stage one, for engines that reduce days first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.meters.daily import daily_features
from minewatch.detect.meters.features import (
    EPOCH,
    MeterDays,
    MeterFeatures,
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
    "off_valley_share",
    "ramp_steps",
    "contract_use",
)


@dataclass(frozen=True)
class Context:
    """What the archive and the weather say about each meter (aligned with the meters)."""

    tariff: list[str | None]
    contract_kva: F
    names: list[str | None]
    temperature: F | None  # (meters, days) °C


def _log(values: F, low: float) -> F:
    return np.log10(np.clip(np.nan_to_num(values, nan=low), low, None))


def model_inputs(f: MeterFeatures, ctx: Context) -> F:
    """The model's input matrix, columns in :data:`FEATURE_NAMES` order, no NaN."""
    tariff = np.array([t or "" for t in ctx.tariff])
    block_log = _log(f.block_kw + 0.05, 0.05)
    with np.errstate(all="ignore"):
        use = f.level_kw / (ctx.contract_kva * 0.9)
        block_share = f.block_kw / f.level_kw
    columns = [
        _log(f.flat_cv, 1e-4),
        np.clip(np.nan_to_num(f.floor_share, nan=0.0), 0, 1.5),
        _log(f.floor_cv, 1e-4),
        _log(f.level_cv, 1e-4),
        _log(f.rough, 1e-4),
        np.nan_to_num(f.profile_corr, nan=0.0),
        _log(f.profile_amp, 1e-4),
        np.clip(np.abs(np.nan_to_num(f.weekly_ratio, nan=0.0)), 0, 2),
        np.nan_to_num(f.temp_corr, nan=0.0),
        np.clip(np.nan_to_num(f.temp_slope * 100, nan=0.0), -20, 20),
        np.nan_to_num(f.floor_temp_corr, nan=0.0),
        np.clip(np.nan_to_num(f.floor_temp_slope * 100, nan=0.0), -20, 20),
        (f.start_index >= 0).astype(np.float64),
        _log(1 + np.maximum(np.nan_to_num(f.start_t), 0), 1.0),
        np.nan_to_num(f.on_fraction, nan=0.0),
        block_log,
        np.clip(np.nan_to_num(block_share, nan=0.0), 0, 1.5),
        (tariff == TariffClass.RESIDENTIAL.value).astype(np.float64),
        (tariff == TariffClass.COMMERCIAL.value).astype(np.float64),
        (tariff == TariffClass.INDUSTRIAL.value).astype(np.float64),
        (tariff == TariffClass.AGRICULTURAL.value).astype(np.float64),
        np.clip(np.nan_to_num(f.valley_share, nan=0.0), 0, 5),
        _log(f.valley_flat, 1e-4),
        np.clip(np.nan_to_num(f.valley_day_cv, nan=2.0), 0, 2),
        np.clip(np.nan_to_num(f.off_valley_share, nan=1.0), 0, 3),
        np.clip(f.ramp_steps.astype(np.float64), 0, 6),
        np.clip(np.nan_to_num(use, nan=0.5), 0, 3),
    ]
    return np.column_stack(columns)


def _context(meter_ids: list[str], days: MeterDays, customers: pa.Table | None,
             weather: pa.Table | None) -> Context:  # fmt: skip
    m = len(meter_ids)
    tariff: list[str | None] = [None] * m
    contract = np.full(m, np.nan)
    names: list[str | None] = [None] * m
    regions: list[str | None] = [None] * m
    if customers is not None and customers.num_rows:
        index = pc.index_in(pa.array(meter_ids, pa.string()), customers.column("meter_id"))
        positions = index.to_numpy(zero_copy_only=False)
        found = ~np.isnan(positions.astype(np.float64))
        take = pa.array(np.where(found, positions, 0).astype(np.int64))
        picked = customers.take(take)
        tariff_values = picked.column("tariff_class").to_pylist()
        name_values = picked.column("customer_name").to_pylist()
        region_values = picked.column("region_code").to_pylist()
        kva = picked.column("contract_kva").to_numpy(zero_copy_only=False).astype(np.float64)
        for i in np.flatnonzero(found):
            tariff[i] = tariff_values[i]
            names[i] = name_values[i]
            regions[i] = region_values[i]
        contract = np.where(found, kva, np.nan)
    temperature = None
    if weather is not None and weather.num_rows and any(regions):
        temperature = np.full((m, days.days), np.nan)
        codes = weather.column("region_code").to_pylist()
        day_numbers = weather.column("date").cast(pa.int32()).to_numpy()
        temps = weather.column("temp_mean_c").to_numpy(zero_copy_only=False).astype(np.float64)
        first = (days.first_date - EPOCH).days
        table: dict[str, F] = {}
        for region, day, temp in zip(codes, day_numbers, temps, strict=True):
            offset = int(day) - first
            if 0 <= offset < days.days:
                table.setdefault(region, np.full(days.days, np.nan))[offset] = temp
        rows_of: dict[str, list[int]] = {}
        for row, meter_region in enumerate(regions):
            if meter_region is not None:
                rows_of.setdefault(meter_region, []).append(row)
        for meter_region, rows in rows_of.items():
            series = table.get(meter_region)
            # A county without a station takes its prefecture's, then its province's.
            for prefix in (meter_region[:4], meter_region[:2]):
                if series is None:
                    series = next((v for k, v in table.items() if k.startswith(prefix)), None)
            if series is not None:
                temperature[rows] = series
    return Context(tariff=tariff, contract_kva=contract, names=names, temperature=temperature)


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
) -> Prepared:
    """Lay out, join the archive and the weather, and compute features and model inputs."""
    days = lay_out(daily, settings)
    ctx = _context(days.meter_ids, days, customers, weather)
    features = compute_features(days, ctx.temperature, settings)
    return Prepared(days, features, ctx, model_inputs(features, ctx))


def score_days(
    daily: pa.Table,
    customers: pa.Table | None = None,
    weather: pa.Table | None = None,
    settings: MeterScanSettings | None = None,
    model: TreeModel | None = None,
) -> pa.Table:
    """Findings (:data:`FINDINGS_SCHEMA`) for the whole meters in stage-one rows ``daily``."""
    settings = settings or MeterScanSettings()
    model = model or load_packaged_model()
    if daily.num_rows == 0:
        return FINDINGS_SCHEMA.empty_table()
    prepared = prepare(daily, customers, weather, settings)
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
    names = [n or "" for n in ctx.names]
    registered_dc = np.array([("数据中心" in n) or ("云计算" in n) or ("IDC" in n) for n in names])
    big_flat = (np.nan_to_num(f.level_kw) >= 100) & (np.nan_to_num(f.floor_share) >= 0.75)
    category = np.where(
        insufficient,
        Category.INSUFFICIENT,
        np.where(
            suspected,
            Category.MINING,
            np.where(registered_dc | big_flat, Category.DATA_CENTER, Category.OTHER),
        ),
    )
    # Small constant blocks are GPU rigs far more often than ASICs (households, shop fronts).
    gpu = (mining_kw < 2.5) | np.array([t == TariffClass.COMMERCIAL.value for t in ctx.tariff])
    rigs, hashrate = _rig_figures(mining_kw, gpu & (mining_kw < 80), settings)
    start = [
        days.first_date + timedelta(days=int(i)) if s and i >= 0 else None
        for i, s in zip(f.start_index, suspected, strict=True)
    ]
    reasons = [_reasons(f, i, bool(suspected[i]), ctx) for i in range(m)]
    warnings = [_warnings(days, f, i, settings) for i in range(m)]
    return pa.table(
        {
            "meter_id": pa.array(days.meter_ids, pa.string()),
            "score": pa.array(np.where(insufficient, 0.0, np.round(score, 6))),
            "suspected": pa.array(suspected),
            "category": pa.array(category.tolist(), pa.string()),
            "est_start_date": pa.array(start, pa.date32()),
            "est_mining_kw": pa.array(np.where(suspected, np.round(mining_kw, 2), np.nan)),
            "est_rigs": pa.array(np.where(suspected, rigs, 0).astype(np.int32)),
            "est_hashrate_ths": pa.array(np.where(suspected, np.round(hashrate, 1), np.nan)),
            "reasons": pa.array(reasons, pa.string()),
            "valid_days": pa.array(f.valid_days.astype(np.int32)),
            "warnings": pa.array(warnings, pa.string()),
        },
        schema=FINDINGS_SCHEMA,
    )


def _fmt(value: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.{digits}g}"


def _reasons(f: MeterFeatures, i: int, suspected: bool, ctx: Context) -> str:
    """Reason codes with the figures that triggered them, strongest evidence first."""
    out: list[str] = []
    if f.start_index[i] >= 0:
        out.append(
            f"meters.new_constant_load(block_kw={_fmt(f.block_kw[i])}, "
            f"base_kw={_fmt(f.base_kw[i])}, t={_fmt(f.start_t[i])})"
        )
    if np.nan_to_num(f.flat_cv[i], nan=1) < 0.03 and np.nan_to_num(f.floor_share[i]) > 0.9:
        out.append(
            f"meters.flat_24x7(cv={_fmt(f.flat_cv[i])}, floor_share={_fmt(f.floor_share[i])})"
        )
    elif np.nan_to_num(f.floor_cv[i], nan=1) < 0.05 and f.block_kw[i] >= 0.6:
        out.append(
            f"meters.constant_floor(floor_kw={_fmt(f.floor_kw[i])}, day_cv={_fmt(f.floor_cv[i])})"
        )
    if np.nan_to_num(f.valley_share[i]) > 1.0 and np.nan_to_num(f.off_valley_share[i], nan=1) < 0.5:
        out.append(
            f"meters.valley_only_block(block_kw={_fmt(f.valley_block_kw[i])}, "
            f"day_cv={_fmt(f.valley_day_cv[i])})"
        )
    corr = f.profile_corr[i]
    if np.isfinite(corr):
        code = "meters.daily_rhythm" if corr > 0.6 else "meters.no_daily_rhythm"
        out.append(f"{code}(repeat_corr={_fmt(corr, 2)}, amp={_fmt(f.profile_amp[i])})")
    if np.isfinite(f.temp_corr[i]):
        follows = f.temp_corr[i] > 0.5 and f.temp_slope[i] > 0.002
        code = "meters.follows_temperature" if follows else "meters.no_temperature_response"
        out.append(
            f"{code}(corr={_fmt(f.temp_corr[i], 2)}, pct_per_c={_fmt(100 * f.temp_slope[i], 2)})"
        )
    if np.isfinite(f.weekly_ratio[i]) and abs(f.weekly_ratio[i]) > 0.1:
        out.append(f"meters.weekly_rhythm(weekend_ratio={_fmt(1 + f.weekly_ratio[i])})")
    if f.off_days[i] > 0:
        out.append(f"meters.off_days(days={f.off_days[i]}, on_fraction={_fmt(f.on_fraction[i])})")
    if f.ramp_steps[i] > 0 and suspected:
        out.append(f"meters.rig_steps(steps={f.ramp_steps[i]}, step_kw={_fmt(f.step_kw[i])})")
    tariff = ctx.tariff[i]
    if suspected and tariff in (TariffClass.RESIDENTIAL.value, TariffClass.AGRICULTURAL.value):
        out.append(f"meters.tariff_mismatch(tariff={tariff}, block_kw={_fmt(f.block_kw[i])})")
    return "; ".join(out)


def _warnings(days: MeterDays, f: MeterFeatures, i: int, settings: MeterScanSettings) -> str:
    out: list[str] = []
    total = days.days
    if f.valid_days[i] < settings.min_days:
        out.append(f"data.too_few_days(valid={f.valid_days[i]}, needed={settings.min_days})")
    absent = total - int(days.present[i].sum())
    if absent:
        out.append(f"data.missing_days({absent})")
    if days.missing_slots[i]:
        out.append(f"data.missing_slots({days.missing_slots[i]})")
    if days.duplicate_days[i]:
        out.append(f"data.duplicate_days({days.duplicate_days[i]})")
    if days.negative_slots[i]:
        out.append(f"data.negative_values({days.negative_slots[i]})")
    if days.absurd_slots[i]:
        out.append(f"data.impossible_values({days.absurd_slots[i]})")
    return "; ".join(out)
