"""Units in headers and cells, local times, and UTC conversion shared by the plant readers."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minewatch.ingest.meters import _CellError
from minewatch.ingest.plants_common import (
    Column,
    Quantity,
    local_seconds,
    local_text,
    quantity_cell,
    resolve_header,
    unit_index,
    utc_instants,
)

INDEX = unit_index(
    {"capacity_kw": ("装机容量", "capacity"), "energy": ("电量",)},
    {"capacity_kw": Quantity.POWER, "电量": Quantity.ENERGY},
)


@pytest.mark.parametrize(
    ("header", "key", "quantity", "factor"),
    [
        ("装机容量", "capacity_kw", None, None),
        ("capacity_kw", "capacity_kw", Quantity.POWER, None),
        ("装机容量(MW)", "capacity_kw", Quantity.POWER, 1e3),
        ("装机容量（万千瓦）", "capacity_kw", Quantity.POWER, 1e4),
        ("装机容量【kW】", "capacity_kw", Quantity.POWER, 1.0),
        ("装机容量/兆瓦", "capacity_kw", Quantity.POWER, 1e3),
        ("capacity_mw", "capacity_kw", Quantity.POWER, 1e3),
        ("Capacity MW", "capacity_kw", Quantity.POWER, 1e3),
        ("电量(MWh)", "energy", Quantity.ENERGY, 1e3),
        ("电量 ( kW·h )", "energy", Quantity.ENERGY, 1.0),
    ],
)
def test_units_in_headers(
    header: str, key: str, quantity: Quantity | None, factor: float | None
) -> None:
    found = resolve_header(header, INDEX)
    assert isinstance(found, Column)
    assert (found.key, found.quantity, found.factor) == (key, quantity, factor)


@pytest.mark.parametrize(
    ("header", "why"),
    [("装机容量(台)", "not understood"), ("电量(MW)", "the name says energy")],
)
def test_units_refused(header: str, why: str) -> None:
    found = resolve_header(header, INDEX)
    assert isinstance(found, str)
    assert why in found


def test_unknown_headers_are_none() -> None:
    assert resolve_header("备注", INDEX) is None
    assert resolve_header("备注(MW)", INDEX) is None


def test_only_measured_columns_take_units() -> None:
    index = unit_index({"plant_id": ("电站编号",), "capacity_kw": ("装机容量",)})
    assert resolve_header("电站编号(新)", index, ("capacity_kw",)) is None
    assert resolve_header("电站编号(MW)", index, ("capacity_kw",)) is None
    found = resolve_header("装机容量(MW)", index, ("capacity_kw",))
    assert isinstance(found, Column)
    assert found.factor == 1e3


@pytest.mark.parametrize(
    ("cell", "factor", "expected"),
    [
        ("5", 1e3, 5000.0),
        ("5MW", None, 5000.0),
        ("5 mw", 1.0, 5000.0),
        ("0.5万千瓦", None, 5000.0),
        (" 1,200 kW ", 1e3, 1200.0),
        (12, 1e3, 12000.0),
        ("", None, None),
        (None, 1e3, None),
    ],
)
def test_cells_with_units(cell: object, factor: float | None, expected: float | None) -> None:
    column = Column("capacity_kw", 0, "装机容量", Quantity.POWER, factor)
    assert quantity_cell(cell, (Quantity.POWER,), column) == expected


@pytest.mark.parametrize("cell", ["5 kWh", "5 GJ", "five"])
def test_cells_refused(cell: str) -> None:
    with pytest.raises(_CellError):
        quantity_cell(cell, (Quantity.POWER,), Column("capacity_kw", 0, "x"))


def test_local_seconds_forms() -> None:
    cells = [
        "2021-09-01 00:15",
        "2021-09-01 00:15:00",
        "2021/9/1 0:15",
        "2021-08-31T16:15:00Z",
        "2021-09-01T00:15+08:00",
        "2021-08-31 24:15",  # not a time: only 24:00 is
        "2021-02-30 00:00",  # not a date (strptime would make it March 2nd)
        "",
    ]
    seconds, bad, empty = local_seconds(pa.array(cells))
    assert [local_text(s) for s in seconds[:5]] == ["2021-09-01 00:15"] * 5
    assert bad.tolist() == [False] * 5 + [True] * 3
    assert empty.tolist() == [False] * 7 + [True]


def test_times_of_day_need_a_date() -> None:
    day = (datetime(2021, 9, 1) - datetime(1970, 1, 1)).days
    seconds, bad, _ = local_seconds(pa.array(["00:15", "24:00", "7:05:30"]), np.full(3, day))
    assert not bad.any()
    assert [local_text(s) for s in seconds] == [
        "2021-09-01 00:15",
        "2021-09-02 00:00",
        "2021-09-01 07:05",
    ]
    _, bad, _ = local_seconds(pa.array(["00:15"]))
    assert bad.tolist() == [True]


@given(st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2040, 1, 1)))
def test_utc_instants_follow_the_zone_database(moment: datetime) -> None:
    # Shanghai kept summer time 1986-1991: the constant offset is only taken where it holds.
    local = int((moment - datetime(1970, 1, 1)).total_seconds())
    spans = np.array([local - local % 60, local - local % 60 + 86_400 * 200], np.int64)
    reference = pc.assume_timezone(
        pa.array(spans * 1000, pa.timestamp("ms")), "Asia/Shanghai", ambiguous="earliest",
        nonexistent="earliest",
    ).cast(pa.timestamp("ms", tz="UTC"))  # fmt: skip
    assert utc_instants(spans).to_pylist() == reference.to_pylist()


def test_summer_time_of_1988() -> None:
    july = int((datetime(1988, 7, 1, 12) - datetime(1970, 1, 1)).total_seconds())
    january = int((datetime(1988, 1, 1, 12) - datetime(1970, 1, 1)).total_seconds())
    got = utc_instants(np.array([january, july], np.int64)).to_pylist()
    assert got == [datetime(1988, 1, 1, 4, tzinfo=UTC), datetime(1988, 7, 1, 3, tzinfo=UTC)]
