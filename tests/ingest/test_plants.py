"""The plant archive and the cross-check of plant ids between the generation-side frames."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_bad_uscc, make_uscc
from minewatch.errors import InputFileError
from minewatch.ingest.plants import (
    UnknownPlantsError,
    check_plant_ids,
    read_plants,
    unknown_plant_ids,
)
from minewatch.ingest.schemas import (
    GENERATION_SCHEMA,
    INFLOW_SCHEMA,
    PLANT_EVENTS_SCHEMA,
    PLANTS_SCHEMA,
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def _reason(error: pytest.ExceptionInfo[InputFileError], row: int, column: str) -> str:
    found = [p.reason for p in error.value.problems if (p.row, p.column) == (row, column)]
    assert found, f"no problem at row {row}, column {column!r}: {error.value}"
    return found[0]


def test_chinese_archive_in_gb18030_with_megawatts(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "电站台账.csv",
        "电站编号,电站名称,电站类型,装机容量(MW),机组台数,流域,河流,水文站编号,综合厂用电率,"
        "业主单位,统一社会信用代码,电站地址,行政区划代码\n"
        f"HY001,石棉一级水电站,小水电,12.5,3,大渡河,松林河,G0101,0.03,石棉水电公司,{make_uscc(1)},"
        "美罗镇,511824\n"
        "HY002,石棉二级,,8,,,,,,,,,\n",
        encoding="gb18030",
    )
    table = read_plants(path)
    assert table.schema.equals(PLANTS_SCHEMA)
    first, second = table.to_pylist()
    assert first == {
        "plant_id": "HY001",
        "name": "石棉一级水电站",
        "plant_type": "hydro",
        "capacity_kw": 12500.0,
        "units": 3,
        "basin": "大渡河",
        "river": "松林河",
        "gauge_id": "G0101",
        "loss_fraction": 0.03,
        "owner": "石棉水电公司",
        "uscc": make_uscc(1),
        "address": "美罗镇",
        "region_code": "511824",
    }
    assert second["plant_type"] == "hydro"  # empty: hydro
    assert second["capacity_kw"] == 8000.0
    assert second["gauge_id"] is None


@pytest.mark.parametrize(
    ("header", "cell", "kw"),
    [
        ("capacity_kw", "800", 800.0),
        ("capacity_mw", "0.8", 800.0),
        ("装机容量", "800", 800.0),  # kW when the header says nothing
        ("装机容量（万千瓦）", "0.08", 800.0),
        ("装机容量/kW", "800", 800.0),
        ("装机容量", "0.8MW", 800.0),  # a unit in the cell wins
        ("装机容量(MW)", "800 kW", 800.0),
        ("installed_capacity", "1,600", 1600.0),
    ],
)
def test_capacity_units(tmp_path: Path, header: str, cell: str, kw: float) -> None:
    path = _write(tmp_path / "p.csv", f'plant_id,{header}\nP,"{cell}"\n')
    assert read_plants(path).column("capacity_kw").to_pylist() == [kw]


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("水电", "hydro"),
        ("火电", "thermal"),
        ("风电", "wind"),
        ("光伏", "solar"),
        ("Solar", "solar"),
    ],
)
def test_plant_types(tmp_path: Path, cell: str, kind: str) -> None:
    path = _write(tmp_path / "p.csv", f"plant_id,type,capacity_kw\nP,{cell},100\n")
    assert read_plants(path).column("plant_type").to_pylist() == [kind]


@pytest.mark.parametrize(
    ("header", "cell", "fraction"),
    [
        ("损耗率", "0.03", 0.03),
        ("损耗率", "3%", 0.03),
        ("损耗率(%)", "3", 0.03),
        ("loss", "", None),
    ],
)
def test_loss_fraction(tmp_path: Path, header: str, cell: str, fraction: float | None) -> None:
    path = _write(tmp_path / "p.csv", f"plant_id,capacity_kw,{header}\nP,100,{cell}\n")
    value = read_plants(path).column("loss_fraction").to_pylist()[0]
    assert value == (None if fraction is None else pytest.approx(fraction))


def test_parquet_archive_with_numeric_ids_and_several_files(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"电厂编号": pa.array([1001, 1002]), "装机容量": pa.array([500.0, 630.0])}),
        tmp_path / "a.parquet",
    )
    _write(tmp_path / "b.csv", "电厂编号,装机容量\n1003,100\n")
    table = read_plants(tmp_path)
    assert table.column("plant_id").to_pylist() == ["1001", "1002", "1003"]


def test_every_bad_cell_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "电站编号,装机容量,电站类型,机组台数,损耗率,统一社会信用代码,行政区划代码\n"
        "A,100,水电,2,0.03,,\n"
        ",100,,,,,\n"  # no id
        "A,100,,,,,\n"  # repeated id
        "B,,,,,,\n"  # no capacity
        "C,0,,,,,\n"
        "D,-5,,,,,\n"
        "E,abc,,,,,\n"
        "F,100,核电,,,,\n"
        "G,100,,2.5,,,\n"
        "H,100,,,3,,\n"  # a bare 3: not a fraction
        f"I,100,,,,{make_bad_uscc(2)},\n"
        "J,100,,,,,999999\n"
        "K,5 GJ,,,,,\n",
    )
    with pytest.raises(InputFileError) as error:
        read_plants(path)
    assert _problems(error) == [
        (3, "电站编号"),
        (4, "电站编号"),
        (5, "装机容量"),
        (6, "装机容量"),
        (7, "装机容量"),
        (8, "装机容量"),
        (9, "电站类型"),
        (10, "机组台数"),
        (11, "损耗率"),
        (12, "统一社会信用代码"),
        (13, "行政区划代码"),
        (14, "装机容量"),
    ]
    assert "row 2" in _reason(error, 4, "电站编号")
    assert "0.03 or 3%" in _reason(error, 11, "损耗率")
    assert "nothing was imported" in str(error.value)


def test_a_plant_repeated_in_another_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "plant_id,capacity_kw\nP,100\n")
    b = _write(tmp_path / "b.csv", "plant_id,capacity_kw\nQ,100\nP,200\n")
    with pytest.raises(InputFileError) as error:
        read_plants(tmp_path)
    assert error.value.path == b
    assert _problems(error) == [(3, "plant_id")]
    assert "a.csv, row 2" in _reason(error, 3, "plant_id")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("plant_id,name", "capacity_kw"),
        ("name,capacity_kw", "plant_id"),
        ("plant_id,装机容量(kWh)", "装机容量(kWh)"),  # energy is not a capacity
        ("plant_id,装机容量(台)", "装机容量(台)"),
        ("plant_id,capacity_kw,装机容量", "装机容量"),
    ],
)
def test_header_problems(tmp_path: Path, header: str, column: str) -> None:
    path = _write(tmp_path / "h.csv", header + "\n")
    with pytest.raises(InputFileError) as error:
        read_plants(path)
    assert (1, column) in _problems(error)


# --------------------------------------------------------------------------- cross-check


def _plants(*ids: str, gauges: tuple[str | None, ...] = ()) -> pa.Table:
    rows = {name: [None] * len(ids) for name in PLANTS_SCHEMA.names}
    rows["plant_id"] = list(ids)
    rows["capacity_kw"] = [100.0] * len(ids)
    rows["gauge_id"] = list(gauges) or [None] * len(ids)
    return pa.table(rows, schema=PLANTS_SCHEMA)


def _generation(*ids: str) -> pa.Table:
    at = datetime(2021, 9, 1, tzinfo=UTC)
    return pa.table(
        {
            "plant_id": list(ids),
            "interval_start_at": [at] * len(ids),
            "interval_minutes": pa.array([15] * len(ids), pa.int16()),
            "terminal_kwh": [1.0] * len(ids),
            "grid_tie_kwh": [None] * len(ids),
        },
        schema=GENERATION_SCHEMA,
    )


def _events(*ids: str) -> pa.Table:
    at = datetime(2021, 9, 1, tzinfo=UTC)
    rows = {name: [None] * len(ids) for name in PLANT_EVENTS_SCHEMA.names}
    rows.update(plant_id=list(ids), kind=["dispatch"] * len(ids), start_at=[at] * len(ids))
    rows["end_at"] = [at] * len(ids)
    return pa.table(rows, schema=PLANT_EVENTS_SCHEMA)


def test_unknown_plants_are_listed_and_raised() -> None:
    plants = _plants("A", "B", gauges=("G1", "G2"))
    inflow = pa.table(
        {"gauge_id": ["G1"], "date": [date(2021, 9, 1)], "inflow_m3s": [1.0]}, schema=INFLOW_SCHEMA
    )
    found = unknown_plant_ids(
        plants, generation=_generation("A", "X", "X", "Y"), events=_events("B", "Z"), inflow=inflow
    )
    assert found.generation == ("X", "Y")
    assert found.events == ("Z",)
    assert found.plants == ("X", "Y", "Z")
    assert found.gauges_without_inflow == ("G2",)
    with pytest.raises(UnknownPlantsError) as error:
        check_plant_ids(plants, generation=_generation("A", "X"), events=_events("Z"))
    assert "1 plant(s) with output but not in the plant archive: X" in str(error.value)
    assert "records but not in the plant archive: Z" in str(error.value)
    assert error.value.unknown.plants == ("X", "Z")


def test_known_plants_pass_and_gauges_without_inflow_are_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plants = _plants("A", gauges=("G9",))
    empty_inflow = INFLOW_SCHEMA.empty_table()
    with caplog.at_level(logging.WARNING, logger="minewatch.ingest.plants"):
        found = check_plant_ids(
            plants, generation=_generation("A"), events=_events("A"), inflow=empty_inflow
        )
    assert found.plants == ()
    assert "G9" in caplog.text


def test_a_long_list_of_unknown_plants_is_cut() -> None:
    ids = [f"P{i:03d}" for i in range(30)]
    with pytest.raises(UnknownPlantsError) as error:
        check_plant_ids(_plants("A"), generation=_generation(*ids))
    assert "P019 … (30 in all)" in str(error.value)
    assert "P020" not in str(error.value)
