"""The meter kernel: wide readings of whole meters in, one finding per meter out.

:func:`scan_batch` is a pure function over an Arrow batch (plus the customer archive and the
weather), so an engine may run it in-process or inside Spark's ``mapInArrow`` unchanged.
:func:`score_days` is the same after stage one, for engines that reduce days first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    temperature: F | None  # (meters, days) °C

    def tariff(self, i: int) -> str | None:
        code = int(self.tariff_code[i])
        return TARIFFS[code] if code >= 0 else None


def _log(values: F, low: float) -> F:
    return np.log10(np.clip(np.nan_to_num(values, nan=low), low, None))


def model_inputs(f: MeterFeatures, ctx: Context) -> F:
    """The model's input matrix, columns in :data:`FEATURE_NAMES` order, no NaN."""
    tariff = ctx.tariff_code
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
        np.clip(np.nan_to_num(f.load_factor, nan=0.0), 0, 1),
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
        (tariff == TARIFFS.index(TariffClass.RESIDENTIAL.value)).astype(np.float64),
        (tariff == TARIFFS.index(TariffClass.COMMERCIAL.value)).astype(np.float64),
        (tariff == TARIFFS.index(TariffClass.INDUSTRIAL.value)).astype(np.float64),
        (tariff == TARIFFS.index(TariffClass.AGRICULTURAL.value)).astype(np.float64),
        np.clip(np.nan_to_num(f.valley_share, nan=0.0), 0, 5),
        _log(f.valley_flat, 1e-4),
        np.clip(np.nan_to_num(f.valley_day_cv, nan=2.0), 0, 2),
        np.nan_to_num(f.valley_temp_corr, nan=0.0),
        np.clip(np.nan_to_num(f.off_valley_share, nan=1.0), 0, 3),
        np.clip(f.ramp_steps.astype(np.float64), 0, 6),
        np.clip(np.nan_to_num(use, nan=0.5), 0, 3),
    ]
    return np.column_stack(columns)


def _context(meter_ids: list[str], days: MeterDays, customers: pa.Table | None,
             weather: pa.Table | None) -> Context:  # fmt: skip
    """The archive's row and the weather of each meter, column by column."""
    m = len(meter_ids)
    tariff = np.full(m, -1, dtype=np.int8)
    contract = np.full(m, np.nan)
    registered_dc = np.zeros(m, dtype=np.bool_)
    temperature = None
    if customers is None or not customers.num_rows:
        return Context(tariff, contract, registered_dc, temperature)
    index = pc.index_in(pa.array(meter_ids, pa.string()), customers.column("meter_id"))
    found = index.is_valid().to_numpy(zero_copy_only=False)
    picked = customers.take(index)  # null where the archive has no row
    codes = pc.index_in(picked.column("tariff_class"), pa.array(TARIFFS, pa.string()))
    tariff = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int8)
    contract = np.where(
        found, picked.column("contract_kva").to_numpy(zero_copy_only=False), np.nan
    ).astype(np.float64)
    name = picked.column("customer_name")
    for mark in REGISTERED_DC_MARKS:
        hit = pc.fill_null(pc.match_substring(name, mark), False)
        registered_dc |= hit.to_numpy(zero_copy_only=False)
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
    temperature = by_region[region_of]
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
    registered_dc = ctx.registered_dc
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
    commercial = ctx.tariff_code == TARIFFS.index(TariffClass.COMMERCIAL.value)
    gpu = (mining_kw < 2.5) | commercial
    rigs, hashrate = _rig_figures(mining_kw, gpu & (mining_kw < 80), settings)
    first_day = (days.first_date - EPOCH).days
    dated = suspected & (f.start_index >= 0)
    start = pa.array((first_day + f.start_index).astype(np.int32), mask=~dated).cast(pa.date32())
    # Reasons for every meter worth a second look; a plain load scoring near zero has none.
    explain = (score >= EXPLAIN_FROM) | (category == Category.DATA_CENTER)
    reasons = [""] * m
    explained = np.flatnonzero(explain)
    for i, text in zip(explained.tolist(), _explain(f, explained, suspected, ctx), strict=True):
        reasons[i] = text
    warnings = _warnings(days, f, settings)
    return pa.table(
        {
            "meter_id": pa.array(days.meter_ids, pa.string()),
            "score": pa.array(np.where(insufficient, 0.0, np.round(score, 6))),
            "suspected": pa.array(suspected),
            "category": pa.array(category.tolist(), pa.string()),
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


def _fmt(value: float, digits: int = 3) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.{digits}g}"


def _explain(
    f: MeterFeatures, rows: npt.NDArray[np.int64], suspected: npt.NDArray[np.bool_], ctx: Context
) -> list[str]:
    """Reason codes with the figures that triggered them, strongest evidence first."""
    take = {
        name: getattr(f, name)[rows].tolist()
        for name in (
            "start_index", "block_kw", "base_kw", "start_t", "flat_cv", "floor_share",
            "floor_cv", "floor_kw", "valley_share", "off_valley_share", "valley_block_kw",
            "valley_day_cv", "profile_corr", "profile_amp", "temp_corr", "temp_slope",
            "weekly_ratio", "off_days", "on_fraction", "ramp_steps", "step_kw",
        )
    }  # fmt: skip
    flagged = suspected[rows].tolist()
    tariffs = [ctx.tariff(i) for i in rows.tolist()]
    texts = []
    for k in range(len(rows)):
        v = {name: values[k] for name, values in take.items()}
        texts.append(_reasons(v, flagged[k], tariffs[k]))
    return texts


def _num(value: float, default: float) -> float:
    return value if math.isfinite(value) else default


def _reasons(v: dict[str, float], suspected: bool, tariff: str | None) -> str:
    out: list[str] = []
    if v["start_index"] >= 0:
        out.append(
            f"meters.new_constant_load(block_kw={_fmt(v['block_kw'])}, "
            f"base_kw={_fmt(v['base_kw'])}, t={_fmt(v['start_t'])})"
        )
    if _num(v["flat_cv"], 1) < 0.03 and _num(v["floor_share"], 0) > 0.9:
        out.append(
            f"meters.flat_24x7(cv={_fmt(v['flat_cv'])}, floor_share={_fmt(v['floor_share'])})"
        )
    elif _num(v["floor_cv"], 1) < 0.05 and v["block_kw"] >= 0.6:
        out.append(
            f"meters.constant_floor(floor_kw={_fmt(v['floor_kw'])}, day_cv={_fmt(v['floor_cv'])})"
        )
    if _num(v["valley_share"], 0) > 1.0 and _num(v["off_valley_share"], 1) < 0.5:
        out.append(
            f"meters.valley_only_block(block_kw={_fmt(v['valley_block_kw'])}, "
            f"day_cv={_fmt(v['valley_day_cv'])})"
        )
    corr = v["profile_corr"]
    if math.isfinite(corr):
        code = "meters.daily_rhythm" if corr > 0.6 else "meters.no_daily_rhythm"
        out.append(f"{code}(repeat_corr={_fmt(corr, 2)}, amp={_fmt(v['profile_amp'])})")
    if math.isfinite(v["temp_corr"]):
        follows = v["temp_corr"] > 0.5 and _num(v["temp_slope"], 0) > 0.002
        code = "meters.follows_temperature" if follows else "meters.no_temperature_response"
        out.append(
            f"{code}(corr={_fmt(v['temp_corr'], 2)}, pct_per_c={_fmt(100 * v['temp_slope'], 2)})"
        )
    if math.isfinite(v["weekly_ratio"]) and abs(v["weekly_ratio"]) > 0.1:
        out.append(f"meters.weekly_rhythm(weekend_ratio={_fmt(1 + v['weekly_ratio'])})")
    if v["off_days"] > 0:
        out.append(f"meters.off_days(days={v['off_days']}, on_fraction={_fmt(v['on_fraction'])})")
    if v["ramp_steps"] > 0 and suspected:
        out.append(f"meters.rig_steps(steps={v['ramp_steps']}, step_kw={_fmt(v['step_kw'])})")
    if suspected and tariff in (TariffClass.RESIDENTIAL.value, TariffClass.AGRICULTURAL.value):
        out.append(f"meters.tariff_mismatch(tariff={tariff}, block_kw={_fmt(v['block_kw'])})")
    return "; ".join(out)


def _warnings(days: MeterDays, f: MeterFeatures, settings: MeterScanSettings) -> pa.Array:
    """Data-sufficiency warnings per meter (empty where the data are sound)."""
    m = len(days.meter_ids)
    present = days.present_days
    absent = days.days - present
    present_slots = np.maximum(present * 96, 1)
    checks = (
        (f.valid_days < settings.min_days,
         "data.too_few_days(valid={v}, needed=" + str(settings.min_days) + ")", f.valid_days),
        (absent > 0, "data.missing_days({v})", absent),
        (days.missing_slots > 0.01 * present_slots, "data.missing_slots({v})", days.missing_slots),
        (days.duplicate_days > 0, "data.duplicate_days({v})", days.duplicate_days),
        (days.negative_slots > 0, "data.negative_values({v})", days.negative_slots),
        (days.absurd_slots > 0, "data.impossible_values({v})", days.absurd_slots),
    )  # fmt: skip
    # Only the flagged meters are formatted in Python.
    out = np.full(m, "", dtype=object)
    for flagged, template, values in checks:
        rows = np.flatnonzero(flagged)
        out[rows] = [
            f"{before}; {template.format(v=int(v))}" if before else template.format(v=int(v))
            for before, v in zip(out[rows].tolist(), values[rows].tolist(), strict=True)
        ]
    return pa.array(out, pa.string())
