"""The generation-side scan on crafted plants: what it must find and what it must leave alone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from minewatch.detect.plants.scan import PLANT_FINDINGS_SCHEMA, PLANT_STATUS_SCHEMA, scan_plants
from minewatch.detect.plants.settings import PlantScanSettings
from minewatch.ingest.schemas import (
    GENERATION_SCHEMA,
    INFLOW_SCHEMA,
    PLANT_EVENTS_SCHEMA,
    PLANTS_SCHEMA,
)

START = date(2020, 1, 1)
DAYS = 730
CAPACITY_KW = 2000.0


def _flow(seed: int) -> np.ndarray:
    """A monsoon river [m³/s]: seasonal swing, slow weather anomalies."""
    rng = np.random.default_rng(seed)
    day = np.arange(DAYS)
    season = 0.5 * (1 - np.cos(2 * np.pi * (day - 20) / 365.0))
    anomaly = np.convolve(rng.normal(0, 0.25, DAYS + 20), np.ones(21) / 21, mode="valid")[:DAYS]
    return 1.0 + 9.0 * season * np.exp(anomaly)


def _plant_kw(flow: np.ndarray) -> np.ndarray:
    return np.minimum(CAPACITY_KW, 300.0 * np.maximum(flow - 0.5, 0.0))


def _tables(
    plants: dict[str, np.ndarray],
    *,
    terminal: dict[str, np.ndarray] | None = None,
    gauged: dict[str, np.ndarray] | None = None,
    days: int = DAYS,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Plants, hourly generation (each day's mean kW, flat) and daily inflow."""
    rows, gen, inflow = [], [], []
    origin = datetime(START.year, START.month, START.day, tzinfo=UTC) - timedelta(hours=8)
    hours = np.arange(days * 24)
    stamps = pa.array(
        [origin + timedelta(hours=int(h)) for h in hours], pa.timestamp("ms", tz="UTC")
    )
    for plant_id, tie_kw in plants.items():
        gauge = f"G-{plant_id}" if gauged and plant_id in gauged else None
        rows.append(
            {
                "plant_id": plant_id,
                "name": f"{plant_id}水电站",
                "capacity_kw": CAPACITY_KW,
                "basin": "测试流域",
                "gauge_id": gauge,
                "owner": f"{plant_id}公司",
            }
        )
        term = terminal.get(plant_id) if terminal else None
        gen.append(
            pa.table(
                {
                    "plant_id": [plant_id] * hours.size,
                    "interval_start_at": stamps,
                    "interval_minutes": pa.array(np.full(hours.size, 60, np.int16)),
                    "terminal_kwh": pa.array(
                        None if term is None else np.repeat(term[:days], 24), pa.float64()
                    )
                    if term is not None
                    else pa.nulls(hours.size, pa.float64()),
                    "grid_tie_kwh": np.repeat(tie_kw[:days], 24),
                },
                schema=GENERATION_SCHEMA,
            )
        )
        if gauge is not None and gauged is not None:
            inflow.append(
                pa.table(
                    {
                        "gauge_id": [gauge] * days,
                        "date": [START + timedelta(days=d) for d in range(days)],
                        "inflow_m3s": gauged[plant_id][:days],
                    },
                    schema=INFLOW_SCHEMA,
                )
            )
    plants_table = pa.Table.from_pylist(rows, schema=PLANTS_SCHEMA)
    inflow_table = pa.concat_tables(inflow) if inflow else INFLOW_SCHEMA.empty_table()
    return plants_table, pa.concat_tables(gen), inflow_table


def _noisy(kw: np.ndarray, seed: int, share: float = 0.02) -> np.ndarray:
    return kw * (1 + np.random.default_rng(seed).normal(0, share, kw.size))


def _event(plant_id: str, kind: str, first: int, last: int, **values: float | None) -> dict:
    def at(day: int) -> datetime:
        local = datetime(START.year, START.month, START.day) + timedelta(days=day)
        return (local - timedelta(hours=8)).replace(tzinfo=UTC)

    return {
        "plant_id": plant_id,
        "kind": kind,
        "start_at": at(first),
        "end_at": at(last + 1),
        "limit_kw": values.get("limit_kw"),
        "unavailable_kw": values.get("unavailable_kw"),
        "record_no": f"R{first}",
        "note": None,
    }


@pytest.fixture(scope="module")
def river() -> np.ndarray:
    return _flow(7)


def test_a_steady_draw_from_a_date_is_found_with_its_period_and_energy(river: np.ndarray) -> None:
    honest = _plant_kw(river)
    draw_kw, first = 400.0, 420
    taken = np.where(np.arange(DAYS) >= first, np.minimum(draw_kw, honest), 0.0)
    tie = _noisy(honest - taken, 1)
    plants, gen, inflow = _tables(
        {"P1": tie, "P2": _noisy(honest, 2)},
        gauged={"P1": _noisy(river, 3, 0.03), "P2": _noisy(river, 4, 0.03)},
    )
    result = scan_plants(plants, gen, inflow)
    assert result.findings.schema == PLANT_FINDINGS_SCHEMA
    assert result.status.schema == PLANT_STATUS_SCHEMA
    findings = result.findings.to_pylist()
    assert [f["plant_id"] for f in findings] == ["P1"]
    finding = findings[0]
    assert finding["reasons"] == "plants.shortfall_unexplained"
    assert abs((finding["period_start_date"] - (START + timedelta(days=first))).days) <= 10
    assert finding["diverted_kw"] == pytest.approx(draw_kw, rel=0.1)
    assert finding["diverted_kwh"] == pytest.approx(taken.sum() * 24, rel=0.15)
    assert finding["expected_kwh"] > finding["observed_kwh"]
    ruled_out = {item["explanation"] for item in json.loads(finding["ruled_out"])}
    assert {"water", "dispatch", "maintenance", "peers"} <= ruled_out
    assert json.loads(finding["settings"])["water_threshold"] == PlantScanSettings().water_threshold
    status = {r["plant_id"]: r["status"] for r in result.status.to_pylist()}
    assert status == {"P1": "finding", "P2": "clear"}


def test_a_gap_between_terminal_and_grid_tie_is_measured(river: np.ndarray) -> None:
    generated = _plant_kw(river)
    draw_kw, first = 250.0, 500
    taken = np.where(np.arange(DAYS) >= first, np.minimum(draw_kw, generated), 0.0)
    tie = (generated - taken) * 0.985
    plants, gen, inflow = _tables({"P1": tie}, terminal={"P1": generated})
    finding = scan_plants(plants, gen, inflow).findings.to_pylist()[0]
    assert "plants.terminal_tie_gap" in finding["reasons"]
    assert finding["diverted_kwh"] == pytest.approx(taken.sum() * 24, rel=0.05)
    assert abs((finding["period_start_date"] - (START + timedelta(days=first))).days) <= 3


def test_recorded_curtailment_and_maintenance_explain_a_shortfall(river: np.ndarray) -> None:
    honest = _plant_kw(river)
    cut = honest.copy()
    wet = slice(560, 610)  # seven weeks in the second monsoon
    cut[wet] = np.minimum(cut[wet], 600.0)
    cut[100:140] = 0.0  # a whole-plant outage
    gauges = {"P1": _noisy(river, 5, 0.03), "P2": _noisy(river, 6, 0.03)}
    plants, gen, inflow = _tables({"P1": _noisy(cut, 7), "P2": _noisy(honest, 8)}, gauged=gauges)
    records = pa.Table.from_pylist(
        [
            _event("P1", "curtailment", 560, 609, limit_kw=600.0),
            _event("P1", "maintenance", 100, 139, unavailable_kw=None),
        ],
        schema=PLANT_EVENTS_SCHEMA,
    )
    assert scan_plants(plants, gen, inflow, records).findings.num_rows == 0
    unexplained = scan_plants(plants, gen, inflow, None).findings.to_pylist()
    assert [f["plant_id"] for f in unexplained] == ["P1"]


def test_drought_on_the_gauge_is_not_a_finding(river: np.ndarray) -> None:
    dry = river.copy()
    dry[400:520] *= 0.3
    honest = _plant_kw(dry)
    plants, gen, inflow = _tables({"P1": _noisy(honest, 9)}, gauged={"P1": _noisy(dry, 10, 0.03)})
    assert scan_plants(plants, gen, inflow).findings.num_rows == 0


def test_an_ungauged_plant_borrows_its_peers_gauge(river: np.ndarray) -> None:
    honest = _plant_kw(river)
    taken = np.where(np.arange(DAYS) >= 450, np.minimum(500.0, honest), 0.0)
    plants, gen, inflow = _tables(
        {"P1": _noisy(honest - taken, 11), "P2": _noisy(honest, 12)},
        gauged={"P2": _noisy(river, 13, 0.03)},
    )
    result = scan_plants(plants, gen, inflow)
    finding = result.findings.to_pylist()[0]
    assert finding["plant_id"] == "P1"
    assert finding["driver"] in ("blend of gauges G-P2", "donor gauge G-P2")


def test_too_little_data_is_said_not_guessed(river: np.ndarray) -> None:
    plants, gen, inflow = _tables({"P1": _plant_kw(river)}, gauged={"P1": river}, days=60)
    result = scan_plants(plants, gen, inflow)
    assert result.findings.num_rows == 0
    assert result.status.to_pylist()[0]["status"] == "insufficient_data"


def test_no_generation_is_an_error() -> None:
    plants = pa.Table.from_pylist([{"plant_id": "P1", "capacity_kw": 1.0}], schema=PLANTS_SCHEMA)
    with pytest.raises(ValueError, match="no generation"):
        scan_plants(plants, GENERATION_SCHEMA.empty_table())


def test_a_shortfall_every_plant_of_the_basin_shares_from_one_day_is_marked_shared(
    river: np.ndarray,
) -> None:
    honest = _plant_kw(river)
    capped = honest.copy()
    capped[500:600] = np.minimum(capped[500:600], 0.6 * CAPACITY_KW)  # an unrecorded grid limit
    names = ["P1", "P2", "P3", "P4"]
    plants, gen, inflow = _tables(
        {name: _noisy(capped, 20 + k) for k, name in enumerate(names)},
        gauged={name: _noisy(river, 30 + k, 0.03) for k, name in enumerate(names)},
    )
    findings = scan_plants(plants, gen, inflow).findings.to_pylist()
    assert findings, "the limit is a shortfall against water"
    for finding in findings:
        assert finding["shared_with_peers"]
        assert finding["reasons"] == "plants.shortfall_shared"
        peers = next(x for x in json.loads(finding["ruled_out"]) if x["explanation"] == "peers")
        assert peers["peers_short_from_this_period"] >= peers["peers"] / 2


def test_peers_on_lines_of_their_own_do_not_make_a_line_basin_wide(river: np.ndarray) -> None:
    honest = _plant_kw(river)
    day = np.arange(DAYS)

    def diverting(first: int, draw_kw: float) -> np.ndarray:
        return honest - np.where(day >= first, np.minimum(draw_kw, honest), 0.0)

    series = {
        "P1": diverting(480, 450.0),
        "P2": diverting(250, 600.0),  # two neighbours on private lines since the first autumn
        "P3": diverting(270, 600.0),
        "P4": honest,
    }
    plants, gen, inflow = _tables(
        {name: _noisy(kw, 40 + k) for k, (name, kw) in enumerate(series.items())},
        gauged={name: _noisy(river, 50 + k, 0.03) for k, name in enumerate(series)},
    )
    findings = {f["plant_id"]: f for f in scan_plants(plants, gen, inflow).findings.to_pylist()}
    assert set(findings) == {"P1", "P2", "P3"}
    assert not any(f["shared_with_peers"] for f in findings.values())
    assert abs((findings["P1"]["period_start_date"] - (START + timedelta(days=480))).days) <= 10


def test_a_line_through_most_of_the_record_is_credited_from_its_first_day(
    river: np.ndarray,
) -> None:
    honest = _plant_kw(river)
    draw_kw, first = 350.0, 230  # from the first autumn to the end: two thirds of the record
    taken = np.where(np.arange(DAYS) >= first, np.minimum(draw_kw, honest), 0.0)
    plants, gen, inflow = _tables(
        {"P1": _noisy(honest - taken, 61), "P2": _noisy(honest, 62)},
        gauged={"P1": _noisy(river, 63, 0.03), "P2": _noisy(river, 64, 0.03)},
    )
    findings = scan_plants(plants, gen, inflow).findings.to_pylist()
    assert [f["plant_id"] for f in findings] == ["P1"]
    finding = findings[0]
    assert abs((finding["period_start_date"] - (START + timedelta(days=first))).days) <= 14
    assert finding["diverted_kwh"] == pytest.approx(taken.sum() * 24, rel=0.15)
    line = json.loads(finding["evidence"])["lines"][0]
    assert line["test"] in ("run", "profile")
    assert line["likelihood_ratio"] > PlantScanSettings().profile_threshold


def test_an_honest_plant_has_no_likelihood_for_a_line(river: np.ndarray) -> None:
    honest = _plant_kw(river)
    plants, gen, inflow = _tables(
        {f"P{k}": _noisy(honest, 70 + k) for k in range(1, 5)},
        gauged={f"P{k}": _noisy(river, 80 + k, 0.03) for k in range(1, 5)},
    )
    strict = PlantScanSettings(water_threshold=1e9, proxy_water_threshold=1e9)
    assert scan_plants(plants, gen, inflow, settings=strict).findings.num_rows == 0
