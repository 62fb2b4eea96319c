"""Metered energy per account: from load curves, clipped to a window, summed per account."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pyarrow as pa
import pytest

from minewatch.detect.power.metered import (
    account_key,
    account_summaries,
    clip_to_window,
    energy_from_readings,
)
from minewatch.ingest.schemas import ACCOUNT_ENERGY_SCHEMA, READINGS_SCHEMA, SLOT_COLUMNS


def _readings(rows: list[tuple[str, date, list[float | None]]]) -> pa.Table:
    columns: dict[str, list[object]] = {"meter_id": [], "date": []}
    columns.update({c: [] for c in SLOT_COLUMNS})
    for meter, day, slots in rows:
        columns["meter_id"].append(meter)
        columns["date"].append(day)
        for name, value in zip(SLOT_COLUMNS, slots, strict=True):
            columns[name].append(value)
    return pa.table(columns, schema=READINGS_SCHEMA)


def _flat(kw: float | None) -> list[float | None]:
    return [kw] * 96


DAY = date(2021, 9, 1)


def test_energy_of_flat_days() -> None:
    table = _readings([("M1", DAY + timedelta(days=i), _flat(100.0)) for i in range(3)])
    (row,) = energy_from_readings(table).to_pylist()
    assert row == {
        "account_no": "M1", "meter_id": "M1", "start_date": DAY,
        "end_date": DAY + timedelta(days=2), "energy_kwh": pytest.approx(7200.0),
        "covered_h": 72.0,
    }  # fmt: skip


def test_faults_and_gaps_count_neither_as_energy_nor_as_hours() -> None:
    slots: list[float | None] = [50.0] * 96
    slots[0], slots[1], slots[2], slots[3] = None, math.nan, -3.0, math.inf
    (row,) = energy_from_readings(_readings([("M1", DAY, slots)])).to_pylist()
    assert row["covered_h"] == 23.0
    assert row["energy_kwh"] == pytest.approx(50.0 * 23)


def test_a_meter_day_in_two_rows_is_merged_slot_by_slot() -> None:
    first: list[float | None] = [10.0] * 48 + [None] * 48
    second: list[float | None] = [None] * 48 + [30.0] * 48
    (row,) = energy_from_readings(_readings([("M1", DAY, first), ("M1", DAY, second)])).to_pylist()
    assert row["covered_h"] == 24.0
    assert row["energy_kwh"] == pytest.approx(10 * 12 + 30 * 12)


def test_window_and_meter_accounts() -> None:
    table = _readings(
        [("M1", DAY + timedelta(days=i), _flat(10.0)) for i in range(5)]
        + [("M2", DAY, _flat(20.0)), ("M3", DAY, _flat(30.0))]
    )
    rows = energy_from_readings(
        table, {"M1": "A", "M2": "A"}, start=DAY + timedelta(days=1), end=DAY + timedelta(days=2)
    ).to_pylist()
    assert [(r["account_no"], r["meter_id"], r["covered_h"]) for r in rows] == [("A", "M1", 48.0)]


def test_no_readings_give_an_empty_table() -> None:
    empty = energy_from_readings(READINGS_SCHEMA.empty_table())
    assert empty.schema == ACCOUNT_ENERGY_SCHEMA
    assert empty.num_rows == 0
    assert account_summaries(empty) == {}


def test_a_meter_without_valid_readings_has_no_hours() -> None:
    (row,) = energy_from_readings(_readings([("M1", DAY, _flat(None))])).to_pylist()
    assert (row["energy_kwh"], row["covered_h"], row["start_date"]) == (0.0, 0.0, DAY)


def _energy(rows: list[tuple[str, str | None, date, date, float, float]]) -> pa.Table:
    names = ACCOUNT_ENERGY_SCHEMA.names
    return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows],
                                schema=ACCOUNT_ENERGY_SCHEMA)  # fmt: skip


def test_clip_keeps_the_share_of_days_inside_the_window() -> None:
    energy = _energy([
        ("A", None, date(2021, 9, 1), date(2021, 9, 30), 30_000.0, 720.0),
        ("A", None, date(2021, 10, 1), date(2021, 10, 31), 31_000.0, 744.0),
        ("A", None, date(2021, 8, 1), date(2021, 8, 31), 99.0, 744.0),
    ])  # fmt: skip
    rows = clip_to_window(energy, date(2021, 9, 21), date(2021, 10, 10)).to_pylist()
    assert [(r["start_date"], r["end_date"]) for r in rows] == [
        (date(2021, 9, 21), date(2021, 9, 30)),
        (date(2021, 10, 1), date(2021, 10, 10)),
    ]
    assert [r["energy_kwh"] for r in rows] == pytest.approx([10_000.0, 10_000.0])
    assert [r["covered_h"] for r in rows] == pytest.approx([240.0, 240.0])
    assert clip_to_window(energy, None, None) is energy


def test_summaries_add_meters_side_by_side_and_periods_in_time() -> None:
    energy = _energy([
        ("５１１ 8", None, date(2021, 9, 1), date(2021, 9, 30), 72_000.0, 720.0),  # 100 kW
        ("5118", None, date(2021, 10, 1), date(2021, 10, 31), 74_400.0, 744.0),  # 100 kW
        ("5118", "M9", date(2021, 9, 1), date(2021, 9, 10), 12_000.0, 240.0),  # 50 kW
        ("B", None, date(2021, 9, 1), date(2021, 9, 1), 0.0, 0.0),
    ])  # fmt: skip
    summaries = account_summaries(energy)
    a = summaries[account_key("5118")]
    assert a.mean_kw == pytest.approx(150.0)
    assert a.energy_kwh == pytest.approx(158_400.0)
    assert (a.covered_h, a.shortest_covered_h, a.meters) == (1464.0, 240.0, 2)
    assert (a.start_date, a.end_date) == (date(2021, 9, 1), date(2021, 10, 31))
    assert summaries["B"].mean_kw == 0.0
    assert summaries["B"].shortest_covered_h == 0.0
