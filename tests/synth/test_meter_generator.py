"""Tests of the synthetic smart-meter prefecture (minewatch.synth.meters)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from minewatch.ingest.schemas import (
    CUSTOMERS_SCHEMA,
    READINGS_SCHEMA,
    SLOT_COLUMNS,
    WEATHER_SCHEMA,
)
from minewatch.reference import credit_code
from minewatch.synth.meters import (
    LOOKALIKE_KINDS,
    MINING_KINDS,
    ORDINARY_KINDS,
    TRUTH_SCHEMA,
    VALLEY_SLOTS,
    MeterProvince,
    MeterSynthParams,
    generate_meters,
    write_meter_province,
)

CLEAN = MeterSynthParams(
    gap_rate=0.0,
    missing_day_rate=0.0,
    duplicate_day_rate=0.0,
    bad_value_rate=0.0,
    short_history_share=0.0,
)


def _cube(province: MeterProvince) -> npt.NDArray[Any]:
    """(meters, days, 96) loads of a fault-free province, in truth order."""
    r = province.readings
    assert r.num_rows == province.truth.num_rows * province.days
    values = np.stack([r[c].to_numpy(zero_copy_only=False) for c in SLOT_COLUMNS], axis=1)
    return values.reshape(-1, province.days, 96)


@pytest.fixture(scope="module")
def september() -> MeterProvince:
    return generate_meters(11, n_meters=2000, params=CLEAN)


@pytest.fixture(scope="module")
def september_cube(september: MeterProvince) -> npt.NDArray[Any]:
    return _cube(september)


@pytest.fixture(scope="module")
def faulty() -> MeterProvince:
    params = MeterSynthParams(
        gap_rate=0.01,
        missing_day_rate=0.02,
        duplicate_day_rate=0.01,
        bad_value_rate=0.001,
        short_history_share=0.03,
    )
    return generate_meters(12, n_meters=1000, params=params)


def _truth(province: MeterProvince) -> dict[str, list[Any]]:
    return province.truth.to_pydict()


def _of_kind(province: MeterProvince, kind: str) -> npt.NDArray[np.intp]:
    return np.nonzero(np.array(_truth(province)["kind"]) == kind)[0]


def _start_index(province: MeterProvince, i: int) -> int:
    """First slot (flat index) of mining for meter i; 0 when it mined from the start."""
    t = _truth(province)
    if t["start_date"][i] is None:
        return 0
    return int((t["start_date"][i] - province.start_date).days * 96 + t["start_slot"][i])


def test_deterministic_for_a_seed() -> None:
    a = generate_meters(5, n_meters=300, days=10)
    b = generate_meters(5, n_meters=300, days=10)
    c = generate_meters(6, n_meters=300, days=10)
    for role in ("readings", "customers", "weather", "truth"):
        assert getattr(a, role).equals(getattr(b, role))
    assert not a.readings.equals(c.readings)


def test_schemas(september: MeterProvince) -> None:
    assert september.readings.schema.equals(READINGS_SCHEMA)
    assert september.customers.schema.equals(CUSTOMERS_SCHEMA)
    assert september.weather.schema.equals(WEATHER_SCHEMA)
    assert september.truth.schema.equals(TRUTH_SCHEMA)


def test_customers_and_weather(september: MeterProvince) -> None:
    c = september.customers.to_pydict()
    assert len(set(c["meter_id"])) == 2000
    assert all(len(m) == 11 and m[0] == "M" and m[1:].isdigit() for m in c["meter_id"])
    assert all(len(a) == 10 and a.isdigit() for a in c["account_no"])
    counties = set(c["region_code"])
    assert counties <= {"511802", "511803", "511822", "511823", "511824", "511825", "511826"} | {
        "511827"
    }
    for uscc, region, tariff in zip(c["uscc"], c["region_code"], c["tariff_class"], strict=True):
        if uscc is not None:
            assert credit_code.is_valid(uscc)
            assert credit_code.region_code_of(uscc) == region
        assert tariff in {"residential", "commercial", "industrial", "agricultural"}
    kinds = _truth(september)["kind"]
    for kind, tariff in zip(kinds, c["tariff_class"], strict=True):
        if kind == "irrigation_pump":
            assert tariff == "agricultural"
        if kind in ("asic_farm", "ramping_farm"):
            assert tariff == "industrial"
    weather = september.weather
    assert weather.num_rows == len(counties) * 28 or weather.num_rows == 8 * 28
    temps = weather["temp_mean_c"].to_numpy()
    assert 12 < temps.mean() < 28  # Ya'an in September


def test_truth_is_consistent(september: MeterProvince) -> None:
    t = _truth(september)
    end = september.start_date + timedelta(days=september.days)
    for i, kind in enumerate(t["kind"]):
        mining = kind in MINING_KINDS
        assert t["is_mining"][i] == mining
        assert (t["mining_kw"][i] > 0) == mining
        assert (t["rigs"][i] > 0) == mining
        assert t["mining_kind"][i] == (kind if mining else None)
        assert (t["start_date"][i] is None) == (t["start_slot"][i] is None)
        if t["start_date"][i] is not None:
            assert mining
            assert september.start_date < t["start_date"][i] < end
            assert 0 <= t["start_slot"][i] < 96
        if kind == "ramping_farm":
            assert t["start_date"][i] is not None
    mid = [
        t["start_date"][i] is not None
        for i, k in enumerate(t["kind"])
        if k in MINING_KINDS and k != "ramping_farm"
    ]
    assert 0.25 < np.mean(mid) < 0.75


def test_every_kind_appears(september: MeterProvince) -> None:
    kinds = _truth(september)["kind"]
    for kind in MINING_KINDS:
        assert kinds.count(kind) >= 3, kind
    for kind in LOOKALIKE_KINDS:
        assert kinds.count(kind) >= 10, kind
    for kind in ORDINARY_KINDS:
        assert kinds.count(kind) >= 20, kind
    assert 50 <= sum(k in MINING_KINDS for k in kinds) <= 70


def test_asic_farm_is_flat_at_its_mining_power(
    september: MeterProvince, september_cube: npt.NDArray[Any]
) -> None:
    t = _truth(september)
    errors, cvs = [], []
    for i in _of_kind(september, "asic_farm"):
        first = _start_index(september, int(i))
        flat = september_cube[i].reshape(-1)[first:]
        errors.append(abs(flat.mean() / t["mining_kw"][i] - 1))
        whole_days = september_cube[i, (first + 95) // 96 :]
        cvs.append(np.median(whole_days.std(axis=1) / whole_days.mean(axis=1)))
    assert np.median(errors) < 0.015
    assert max(errors) < 0.06
    assert max(cvs) < 0.03


def test_data_centre_follows_temperature(
    september: MeterProvince, september_cube: npt.NDArray[Any]
) -> None:
    weather = september.weather.to_pydict()
    temps: dict[str, list[float]] = {}
    for code, value in zip(weather["region_code"], weather["temp_mean_c"], strict=True):
        temps.setdefault(code, []).append(value)
    regions = september.customers["region_code"].to_pylist()
    corr = []
    for i in _of_kind(september, "data_centre"):
        energy = september_cube[i].sum(axis=1)
        corr.append(np.corrcoef(energy, temps[regions[i]])[0, 1])
    assert np.mean(corr) > 0.5
    assert np.mean(np.array(corr) > 0) > 0.85


def test_valley_only_mines_only_in_valley_hours(
    september: MeterProvince, september_cube: npt.NDArray[Any]
) -> None:
    t = _truth(september)
    for i in _of_kind(september, "valley_only"):
        first = _start_index(september, int(i))
        days = september_cube[i, (first + 95) // 96 :]
        outside = days[:, ~VALLEY_SLOTS]
        inside = days[:, VALLEY_SLOTS][:, 1:]  # 23:15 onwards: boot slot excluded
        assert outside.max() <= 0.01 * t["mining_kw"][i] + 1e-6
        assert abs(inside.mean() / t["mining_kw"][i] - 1) < 0.05


def test_storage_heater_only_charges_in_valley_hours() -> None:
    winter = generate_meters(21, n_meters=1500, start=date(2021, 12, 1), params=CLEAN)
    cube = _cube(winter)
    heaters = cube[_of_kind(winter, "storage_heater")]
    assert len(heaters) >= 10
    assert np.all(heaters[:, :, ~VALLEY_SLOTS] == 0)
    assert np.all(heaters.sum(axis=(1, 2)) > 0)  # December in Ya'an needs heat
    # Charging at full power, so the block starts at 23:00 or ends at 07:00.
    assert (heaters[:, :, 92] > 0).mean() + (heaters[:, :, 27] > 0).mean() > 0.5


def test_ev_charging_is_much_spikier_than_asic(
    september: MeterProvince, september_cube: npt.NDArray[Any]
) -> None:
    def spikiness(rows: npt.NDArray[Any]) -> float:
        flat = rows.reshape(len(rows), -1)
        return float(np.median(np.abs(np.diff(flat, axis=1)).mean(axis=1) / flat.mean(axis=1)))

    ev = spikiness(september_cube[_of_kind(september, "ev_charging")])
    asic = spikiness(september_cube[_of_kind(september, "asic_farm")])
    assert ev > 10 * asic


def test_lookalikes_are_not_trivially_constant(
    september: MeterProvince, september_cube: npt.NDArray[Any]
) -> None:
    for kind, floor in (("data_centre", 0.7), ("base_station", 0.5), ("industry_3shift", 0.05)):
        rows = september_cube[_of_kind(september, kind)]
        assert np.all(rows.min(axis=(1, 2)) > floor * rows.mean(axis=(1, 2))), kind
        assert np.all(rows.std(axis=(1, 2)) > 0.005 * rows.mean(axis=(1, 2))), kind


def test_faults_at_configured_rates(faulty: MeterProvince) -> None:
    r = faulty.readings
    days, meters = faulty.days, faulty.truth.num_rows
    values = np.stack([r[c].to_numpy(zero_copy_only=False) for c in SLOT_COLUMNS], axis=1)
    nulls = sum(r[c].null_count for c in SLOT_COLUMNS) / values.size
    assert 0.005 < nulls < 0.015
    bad = ((values < 0) | (values > 5e4)).mean()
    assert 0.0004 < bad < 0.002
    keys = list(zip(r["meter_id"].to_pylist(), r["date"].to_pylist(), strict=True))
    unique = set(keys)
    duplicates = len(keys) - len(unique)
    assert 0.004 * meters * days < duplicates < 0.02 * meters * days
    n_unique = len(unique)
    assert 0.94 * meters * days < n_unique < 0.99 * meters * days
    # Rows are in (meter, date) order, the duplicates appended at the end.
    body = keys[:n_unique]
    assert body == sorted(body)
    assert set(keys[n_unique:]) <= set(body)
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    for i in range(n_unique, len(keys)):
        original = first[keys[i]]
        assert np.array_equal(values[i], values[original], equal_nan=True)
    per_meter: dict[str, int] = {}
    for meter, _ in unique:
        per_meter[meter] = per_meter.get(meter, 0) + 1
    short = [m for m, n in per_meter.items() if n <= 3]
    assert 10 <= len(short) <= 60
    # Faults do not touch the truth.
    assert faulty.truth.num_rows == meters


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_round_trips(tmp_path: Path, fmt: str) -> None:
    province = generate_meters(3, n_meters=200, days=15)
    paths = write_meter_province(province, tmp_path / fmt, fmt=fmt)
    assert set(paths) == {"readings", "customers", "weather", "truth"}
    assert len(paths["readings"]) == 1
    if fmt == "parquet":
        back = pq.read_table(paths["readings"][0])
        assert back.equals(province.readings)
        assert pq.ParquetFile(paths["readings"][0]).metadata.num_rows == province.readings.num_rows
    else:
        options = pacsv.ConvertOptions(column_types=READINGS_SCHEMA)
        back = pacsv.read_csv(paths["readings"][0], convert_options=options)
        assert back.column_names == READINGS_SCHEMA.names
        assert back["meter_id"].equals(province.readings["meter_id"])
        for name in ("date", "p001", "p050", "p096"):
            a = back[name].to_numpy(zero_copy_only=False)
            b = province.readings[name].to_numpy(zero_copy_only=False)
            if name == "date":
                assert np.array_equal(a, b)
            else:
                assert np.allclose(a, b, rtol=1e-6, equal_nan=True)
    for role, schema in (
        ("customers", CUSTOMERS_SCHEMA),
        ("weather", WEATHER_SCHEMA),
        ("truth", TRUTH_SCHEMA),
    ):
        table = pacsv.read_csv(
            paths[role][0], convert_options=pacsv.ConvertOptions(column_types=schema)
        )
        assert table.num_rows == getattr(province, role).num_rows
    options = pacsv.ConvertOptions(column_types=TRUTH_SCHEMA, strings_can_be_null=True)
    truth = pacsv.read_csv(paths["truth"][0], convert_options=options)
    columns = ["meter_id", "mining_kind", "start_date", "rigs", "start_slot"]
    assert truth.select(columns).to_pydict() == province.truth.select(columns).to_pydict()


def test_write_splits(tmp_path: Path) -> None:
    province = generate_meters(4, n_meters=300, days=28)
    by_date = write_meter_province(province, tmp_path / "d", split_by="date")
    assert len(by_date["readings"]) == 4
    assert sum(pq.read_metadata(p).num_rows for p in by_date["readings"]) == (
        province.readings.num_rows
    )
    week = pq.read_table(by_date["readings"][1])["date"].to_pylist()
    assert min(week) == date(2021, 9, 8)
    assert max(week) == date(2021, 9, 14)
    by_county = write_meter_province(province, tmp_path / "c", fmt="csv", split_by="county")
    counties = set(province.customers["region_code"].to_pylist())
    assert len(by_county["readings"]) == len(counties)
    total = sum(pacsv.read_csv(p).num_rows for p in by_county["readings"])
    assert total == province.readings.num_rows
    with pytest.raises(ValueError, match="split_by"):
        write_meter_province(province, tmp_path, split_by="week")


def test_parameters_change_the_output() -> None:
    base = generate_meters(8, n_meters=1000, days=7, params=CLEAN)
    small = generate_meters(
        8,
        n_meters=1000,
        days=7,
        params=MeterSynthParams(**{**CLEAN.__dict__, "rig_power_scale": 0.6}),
    )
    noisy = generate_meters(
        8, n_meters=1000, days=7, params=MeterSynthParams(**{**CLEAN.__dict__, "noise_scale": 2.0})
    )
    kw_base = np.array(base.truth["mining_kw"].to_pylist())
    kw_small = np.array(small.truth["mining_kw"].to_pylist())
    mining = kw_base > 0
    assert np.allclose(kw_small[mining] / kw_base[mining], 0.6, rtol=0.05)
    assert not noisy.readings.equals(base.readings)

    def dc_noise(province: MeterProvince) -> float:
        cube = _cube(province)[_of_kind(province, "data_centre")]
        flat = cube.reshape(len(cube), -1)
        return float(np.median(np.abs(np.diff(flat, axis=1)).mean(axis=1) / flat.mean(axis=1)))

    assert dc_noise(noisy) > 1.5 * dc_noise(base)
    more = generate_meters(
        8,
        n_meters=1000,
        days=7,
        params=MeterSynthParams(mining_share=0.1, mining_mix={"asic_farm": 1.0}),
    )
    kinds = more.truth["kind"].to_pylist()
    assert kinds.count("asic_farm") == 100
    assert not any(k in MINING_KINDS and k != "asic_farm" for k in kinds)


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="mix"):
        generate_meters(1, n_meters=10, params=MeterSynthParams(mining_mix={"bitcoin": 1.0}))
    with pytest.raises(ValueError, match="share"):
        generate_meters(1, n_meters=10, params=MeterSynthParams(mining_share=0.9))
    with pytest.raises(ValueError, match="at least 1"):
        generate_meters(1, n_meters=0)


def test_small_and_odd_sizes() -> None:
    tiny = generate_meters(2, n_meters=1, days=1)
    assert tiny.truth.num_rows == 1
    other = generate_meters(2, n_meters=50, days=3, prefecture_code="652300")
    assert set(other.customers["region_code"].to_pylist()) <= set(
        other.weather["region_code"].to_pylist()
    )
    assert pa.compute.min(other.weather["date"]).as_py() == date(2021, 9, 1)
