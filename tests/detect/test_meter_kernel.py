"""The meter kernel on hand-built loads whose physics is known, and on a generated province."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from minewatch.detect.meters._fused import vector_lanes
from minewatch.detect.meters.daily import daily_features, hourly_kw
from minewatch.detect.meters.features import compute_features, lay_out
from minewatch.detect.meters.scan import FINDINGS_SCHEMA, Category, scan_batch
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.schemas import READINGS_SCHEMA, SLOT_COLUMNS
from minewatch.synth.meters import generate_meters

START = date(2021, 10, 11)
DAYS = 28
HOURS = np.arange(96) / 4


def _table(loads: dict[str, np.ndarray]) -> pa.Table:
    """Wide readings from ``{meter_id: array (days, 96) kW}``."""
    ids, dates, rows = [], [], []
    for meter, load in loads.items():
        for day in range(load.shape[0]):
            ids.append(meter)
            dates.append(START + timedelta(days=day))
            rows.append(load[day])
    matrix = np.asarray(rows, dtype=np.float32)
    columns = {"meter_id": pa.array(ids), "date": pa.array(dates, pa.date32())}
    columns |= {name: pa.array(matrix[:, i]) for i, name in enumerate(SLOT_COLUMNS)}
    return pa.table(columns, schema=READINGS_SCHEMA)


def _farm(
    rng: np.random.Generator, kw: float, start_day: int = 0, start_hour: float = 0
) -> np.ndarray:
    load = kw * (1 + 0.005 * rng.standard_normal((DAYS, 96)))
    load[:start_day] = 2.0
    load[start_day, start_hour > HOURS] = 2.0
    return load


def _data_centre(rng: np.random.Generator, temps: np.ndarray) -> np.ndarray:
    it = 800 * (1 + 0.05 * np.sin((HOURS - 15) / 24 * 2 * np.pi))
    cooling = 250 * (1 + 0.04 * (temps[:, None] - 15 + 3 * np.sin((HOURS - 9) / 24 * 2 * np.pi)))
    return it[None, :] + cooling + 4 * rng.standard_normal((DAYS, 96))


def _weather(temps: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "region_code": pa.array(["511824"] * DAYS),
            "date": pa.array([START + timedelta(days=d) for d in range(DAYS)], pa.date32()),
            "temp_mean_c": pa.array(temps.astype(np.float32)),
        }
    )


def _customers(meters: dict[str, str]) -> pa.Table:
    return pa.table(
        {
            "meter_id": list(meters),
            "account_no": [f"51{i:08d}" for i in range(len(meters))],
            "customer_name": ["某公司"] * len(meters),
            "uscc": [None] * len(meters),
            "address": ["石棉县"] * len(meters),
            "region_code": ["511824"] * len(meters),
            "tariff_class": list(meters.values()),
            "contract_kva": [1000.0] * len(meters),
            "voltage_kv": [10.0] * len(meters),
        }
    )


@pytest.fixture
def temps() -> np.ndarray:
    rng = np.random.default_rng(3)
    return 18 + np.cumsum(rng.normal(0, 1.5, DAYS))


def test_daily_stage_counts_and_drops_faults() -> None:
    load = np.full((2, 96), 10.0)
    load[0, 5] = -3.0  # export on a consumption meter
    load[0, 40] = 9_999_999.0  # register glitch
    load[1, 50] = 65_535.0  # a spike far above the rest of its day
    load[1, 60:64] = np.nan  # an hour missing
    daily = daily_features(_table({"M1": load}))
    assert daily.column("negative_slots").to_pylist() == [1, 0]
    assert daily.column("absurd_slots").to_pylist() == [1, 1]
    assert daily.column("valid_slots").to_pylist() == [94, 91]
    assert daily.column("mean_kw").to_pylist() == pytest.approx([10.0, 10.0])
    # The missing hour takes the day's mean; the spike is gone from its hour.
    hours = hourly_kw(daily)
    assert hours[1, 15] == pytest.approx(10.0, rel=2e-3)  # bfloat16: within 0.2 %
    assert hours[1, 12] == pytest.approx(10.0, rel=2e-3)
    assert daily.column("floor_kw").to_pylist() == pytest.approx([10.0, 10.0])


def test_farm_and_data_centre_features_differ_by_physics(temps: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    table = _table({"farm": _farm(rng, 650.0), "dc": _data_centre(rng, temps)})
    settings = MeterScanSettings()
    days = lay_out(pa.Table.from_batches([daily_features(table)]), settings)
    f = compute_features(days, np.vstack([temps, temps]), settings)
    ids = days.meter_ids.to_pylist()
    farm, dc = ids.index("farm"), ids.index("dc")
    assert f.flat_cv[farm] < 0.01 < f.flat_cv[dc]
    assert f.temp_corr[dc] > 0.8
    assert abs(f.temp_corr[farm]) < 0.5
    assert f.profile_corr[dc] > 0.9 > f.profile_corr[farm]
    assert f.block_kw[farm] == pytest.approx(650, rel=0.02)


@pytest.mark.parametrize(("start_day", "start_hour"), [(9, 3.0), (12, 18.5), (20, 23.5)])
def test_start_date_and_hour_of_a_new_farm(start_day: int, start_hour: float) -> None:
    rng = np.random.default_rng(start_day)
    table = _table({"M": _farm(rng, 300.0, start_day, start_hour)})
    settings = MeterScanSettings()
    days = lay_out(pa.Table.from_batches([daily_features(table)]), settings)
    f = compute_features(days, None, settings)
    assert f.start_index[0] == start_day
    assert abs(f.start_hour[0] - start_hour) <= 1
    assert f.block_kw[0] == pytest.approx(298, rel=0.02)


def test_batch_ramp_dates_the_first_batch() -> None:
    rng = np.random.default_rng(5)
    load = 3.0 + 0.05 * rng.standard_normal((DAYS, 96))
    for day, kw in ((8, 40.0), (10, 160.0), (13, 420.0)):
        load[day:] = kw * (1 + 0.004 * rng.standard_normal((DAYS - day, 96)))
    days = lay_out(
        pa.Table.from_batches([daily_features(_table({"M": load}))]), MeterScanSettings()
    )
    f = compute_features(days, None, MeterScanSettings())
    assert f.start_index[0] == 8
    assert f.ramp_steps[0] >= 2


def test_kernel_scores_a_farm_and_spares_a_data_centre(temps: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    table = _table({"farm": _farm(rng, 650.0, 10, 14.0), "dc": _data_centre(rng, temps)})
    findings = scan_batch(
        table, _customers({"farm": "industrial", "dc": "commercial"}), _weather(temps)
    )
    assert findings.schema == FINDINGS_SCHEMA
    rows = {r["meter_id"]: r for r in findings.to_pylist()}
    assert rows["farm"]["suspected"]
    assert rows["farm"]["category"] == Category.MINING
    assert rows["farm"]["est_start_date"] == START + timedelta(days=10)
    assert rows["farm"]["est_rigs"] == pytest.approx(650 / 3.41, rel=0.05)
    assert "meters.new_constant_load" in rows["farm"]["reasons"]
    assert not rows["dc"]["suspected"]
    assert "meters.follows_temperature" in rows["dc"]["reasons"]


def test_too_few_days_is_insufficient_data() -> None:
    load = np.full((3, 96), 500.0)
    findings = scan_batch(_table({"new": load}))
    row = findings.to_pylist()[0]
    assert row["category"] == Category.INSUFFICIENT
    assert not row["suspected"]
    assert "data.too_few_days" in row["warnings"]


def test_kernel_is_independent_of_row_order_and_batching() -> None:
    province = generate_meters(11, n_meters=300, days=21)
    whole = scan_batch(province.readings, province.customers, province.weather)
    shuffled = province.readings.take(
        pa.array(np.random.default_rng(0).permutation(province.readings.num_rows))
    )
    again = scan_batch(shuffled, province.customers, province.weather)
    key = [("meter_id", "ascending")]
    assert whole.sort_by(key).equals(again.sort_by(key))


def test_generated_province_is_separated() -> None:
    province = generate_meters(12, n_meters=3000, days=28)
    findings = scan_batch(province.readings, province.customers, province.weather)
    truth = {r["meter_id"]: r for r in province.truth.to_pylist()}
    flagged = {r["meter_id"] for r in findings.to_pylist() if r["suspected"]}
    mining = {m for m, t in truth.items() if t["is_mining"]}
    assert len(flagged & mining) >= 0.9 * len(mining)
    assert len(flagged - mining) <= 3
    assert not any(truth[m]["kind"] == "data_centre" for m in flagged)


def test_stage_one_reads_any_column_layout_alike() -> None:
    """Arrow's buffers are read in place; sliced, float64 and null-bearing columns too."""
    province = generate_meters(13, n_meters=40, days=14)
    readings = province.readings.combine_chunks()
    reference = pa.Table.from_batches([daily_features(readings)])
    # A slice starts mid-bitmap; float64 columns and all-null columns go through a copy.
    sliced = pa.Table.from_batches([daily_features(readings.slice(3))])
    assert sliced.equals(reference.slice(3))
    altered = readings
    for name in SLOT_COLUMNS[:10]:
        position = altered.schema.get_field_index(name)
        altered = altered.set_column(position, name, altered.column(name).cast(pa.float64()))
    altered = altered.set_column(
        altered.schema.get_field_index("p050"), "p050", pa.nulls(altered.num_rows, pa.float32())
    )
    gaps = readings.set_column(
        readings.schema.get_field_index("p050"), "p050", pa.nulls(readings.num_rows, pa.float32())
    )
    assert pa.Table.from_batches([daily_features(altered)]).equals(
        pa.Table.from_batches([daily_features(gaps)])
    )


def test_stage_one_is_the_same_at_every_vector_width() -> None:
    """The C loop is built for several vector widths; each lane adds in the same order, so
    every width the processor has gives the same figures, faults and spikes included."""
    province = generate_meters(15, n_meters=37, days=13)  # 481 rows: a partial last vector
    readings = province.readings.combine_chunks()
    slots = {
        name: readings.column(name).to_numpy(zero_copy_only=False).copy() for name in SLOT_COLUMNS
    }
    slots["p010"][5] = -4.0
    slots["p020"][6] = 65_535.0  # a register fault, read again on its own
    slots["p021"][6] = 9e9
    slots["p030"][7:30] = np.nan
    for name in SLOT_COLUMNS:
        values = slots[name]
        position = readings.schema.get_field_index(name)
        readings = readings.set_column(
            position, name, pa.array(values, pa.float32(), mask=np.isnan(values))
        )
    widest = vector_lanes()
    assert widest in (4, 8, 16)
    results = []
    try:
        for lanes in (4, 8, 16):
            if lanes <= widest:
                assert vector_lanes(lanes) == lanes
                results.append(pa.Table.from_batches([daily_features(readings)]))
    finally:
        vector_lanes(widest)
    first = results[0]
    assert first.column("absurd_slots").to_pylist()[6] == 2
    assert first.column("negative_slots").to_pylist()[5] == 1
    for other in results[1:]:
        assert other.equals(first)


def _reference_days(x: np.ndarray, settings: MeterScanSettings) -> dict[str, np.ndarray]:
    """Stage one's figures the plain way (numpy, float64, a loop for spikes): what the C loop
    must agree with."""
    v = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        negative = (v < -settings.negative_tolerance_kw).sum(axis=1)
        absurd = (v > settings.absurd_kw).sum(axis=1).astype(np.float64)
        v[(v < -settings.negative_tolerance_kw) | (v > settings.absurd_kw)] = np.nan
    for i in range(len(v)):
        for _ in range(2):
            kept = v[i][~np.isnan(v[i])]
            if kept.size <= 4:
                break
            peak = kept.max()
            rest = (kept.sum() - peak) / (kept.size - 1)
            if not peak > settings.spike_ratio * rest + settings.spike_margin_kw:
                break
            v[i, int(np.nanargmax(v[i]))] = np.nan
            absurd[i] += 1
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        count = (~np.isnan(v)).sum(axis=1)
        mean = np.nansum(v, axis=1) / count
        hours = np.nanmean(v.reshape(len(v), 24, 4), axis=2)
        hours = np.where(np.isnan(hours), mean[:, None], hours)
        change = np.abs(np.diff(v, axis=1))
        valley = hours[:, list(settings.valley_hours)]
        return {
            "valid_slots": count,
            "negative_slots": negative,
            "absurd_slots": absurd,
            "mean_kw": mean,
            "max_kw": np.nanmax(v, axis=1),
            "std_kw": np.sqrt(np.nanmean((v - mean[:, None]) ** 2, axis=1)),
            "rough_kw": np.nanmean(change, axis=1),
            "floor_kw": np.nanmin(hours, axis=1),
            "valley_kw": valley.mean(axis=1),
            "valley_cv": valley.std(axis=1) / valley.mean(axis=1),
            "hourly": hours,
        }


def test_stage_one_agrees_with_a_plain_reference_on_hostile_data() -> None:
    rng = np.random.default_rng(7)
    n = 2003
    level = rng.gamma(2.0, 5.0, (n, 1)) * rng.choice([0.01, 1.0, 100.0, 5000.0], (n, 1))
    x = (level * (1 + 0.1 * rng.normal(size=(n, 96)))).astype(np.float32)
    for share, value in ((0.05, np.nan), (0.01, -1.0), (0.005, 65_535.0), (0.002, 1e9),
                         (0.001, np.inf), (0.001, -np.inf)):  # fmt: skip
        x[rng.random((n, 96)) < share] = value
    x[:10] = np.nan  # no readings at all
    x[10:20, 3:] = np.nan  # three readings
    x[20:30] = 0.0
    nulls = rng.random((n, 96)) < 0.03
    x[30:40] = np.where(rng.random((10, 96)) < 0.5, np.nan, 2.0)
    columns = [pa.array(x[:, j], mask=nulls[:, j]) for j in range(96)]
    batch = pa.RecordBatch.from_arrays(
        [pa.array([f"M{i}" for i in range(n)]), pa.array([date(2021, 9, 1)] * n), *columns],
        schema=READINGS_SCHEMA,
    )
    settings = MeterScanSettings()
    daily = daily_features(batch, settings)
    expected = _reference_days(np.where(nulls, np.nan, x), settings)
    for name, values in expected.items():
        got = hourly_kw(daily) if name == "hourly" else daily.column(name).to_numpy(False)
        rtol = 2**-8 if name == "hourly" else 2e-4  # the hourly means are bfloat16
        np.testing.assert_allclose(
            np.asarray(got, np.float64), values, rtol=rtol, atol=1e-6, equal_nan=True,
            err_msg=name,
        )  # fmt: skip


def test_stage_two_reads_any_chunking_alike() -> None:
    province = generate_meters(14, n_meters=60, days=21)
    daily = pa.Table.from_batches([daily_features(province.readings)]).combine_chunks()
    mean = daily.column("mean_kw").to_numpy().copy()
    mean[2] = np.nan  # a figure missing: NaN in one table, null in the other
    position = daily.schema.get_field_index("mean_kw")
    settings = MeterScanSettings()
    whole = daily.set_column(position, "mean_kw", pa.array(mean))
    # Odd chunk boundaries, chunks that are slices of larger arrays, and a chunk with a null
    # (converted rather than read in place).
    chunked = pa.concat_tables([whole.slice(0, 7), whole.slice(7, 500), whole.slice(507)])
    chunks = chunked.column("mean_kw").chunks
    first = chunks[0].to_numpy(zero_copy_only=False)
    chunked = chunked.set_column(
        position,
        "mean_kw",
        pa.chunked_array([pa.array(first, mask=np.isnan(first)), *chunks[1:]]),
    )
    assert chunked.column("mean_kw").null_count == 1
    a = compute_features(lay_out(whole, settings), None, settings)
    b = compute_features(lay_out(chunked, settings), None, settings)
    for name in ("start_index", "level_kw", "floor_kw", "profile_corr", "weekly_ratio"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_hourly_means_keep_their_range_in_bfloat16() -> None:
    """A 120 MW farm, a 3 W standby load and an empty day: the hourly means are stored in
    half the memory (bfloat16) but keep float32's range, within 0.2 %."""
    loads = {
        "farm": np.full((1, 96), 120_000.0),
        "standby": np.full((1, 96), 0.003),
        "empty": np.full((1, 96), np.nan),
    }
    daily = daily_features(_table(loads).to_batches()[0])
    hours = hourly_kw(daily)
    np.testing.assert_allclose(hours[0], 120_000.0, rtol=2**-8)
    np.testing.assert_allclose(hours[1], 0.003, rtol=2**-8)
    assert np.isnan(hours[2]).all()
