"""Dispatch, curtailment and maintenance records: kinds by word, times, units and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from minewatch.errors import InputFileError
from minewatch.ingest.meters import _CellError
from minewatch.ingest.plants import read_plant_events
from minewatch.ingest.plants_events import event_kind
from minewatch.ingest.schemas import PLANT_EVENTS_SCHEMA, PlantEventKind


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - timedelta(hours=8)


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def test_chinese_records_with_megawatts_and_whole_days(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "调度记录.csv",
        "电站编号,类型,开始时间,结束时间,限制出力(MW),停运容量,指令编号,备注\n"
        "HY001,调度指令,2021-09-01 08:00,2021-09-01 12:00,5,,DD-001,汛期调峰\n"
        "HY001,弃水,2021/9/2 0:00,2021/9/2 24:00,,,,\n"
        "HY002,1号机计划检修,2021-09-01,2021-09-03,,4000,JX-7,\n",
        encoding="gb18030",
    )
    table = read_plant_events(path)
    assert table.schema.equals(PLANT_EVENTS_SCHEMA)
    rows = table.to_pylist()
    assert rows[0] == {
        "plant_id": "HY001",
        "kind": "dispatch",
        "start_at": _utc("2021-09-01 08:00"),
        "end_at": _utc("2021-09-01 12:00"),
        "limit_kw": 5000.0,
        "unavailable_kw": None,
        "record_no": "DD-001",
        "note": "汛期调峰",
    }
    assert rows[1]["kind"] == "curtailment"
    assert rows[1]["end_at"] == _utc("2021-09-03 00:00")  # 24:00 ends the day
    assert rows[1]["limit_kw"] is None  # a stop
    # Dates alone: from the first day's midnight to the end of the last day.
    assert rows[2]["kind"] == "maintenance"
    assert rows[2]["start_at"] == _utc("2021-09-01 00:00")
    assert rows[2]["end_at"] == _utc("2021-09-04 00:00")
    assert rows[2]["unavailable_kw"] == 4000.0


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("dispatch", PlantEventKind.DISPATCH),
        ("调度", PlantEventKind.DISPATCH),
        ("限出力", PlantEventKind.DISPATCH),
        ("Curtailment", PlantEventKind.CURTAILMENT),
        ("限电", PlantEventKind.CURTAILMENT),
        ("弃水限电记录", PlantEventKind.CURTAILMENT),
        ("outage", PlantEventKind.MAINTENANCE),
        ("停运", PlantEventKind.MAINTENANCE),
        ("2号机组非计划停运", PlantEventKind.MAINTENANCE),
        ("", None),
    ],
)
def test_kinds_by_word(cell: str, kind: PlantEventKind | None) -> None:
    assert event_kind(cell) is kind


@pytest.mark.parametrize(("cell", "why"), [("调度检修", "both"), ("来水偏枯", "not a kind")])
def test_kinds_that_are_none_or_two(cell: str, why: str) -> None:
    with pytest.raises(_CellError, match=why):
        event_kind(cell)


def test_a_file_of_one_kind_without_a_kind_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "检修计划.csv",
        "plant_id,start,end,unavailable_mw\nP,2021-09-01 08:00,2021-09-01 18:00,1.2\n",
    )
    with pytest.raises(InputFileError) as error:
        read_plant_events(path)
    assert _problems(error) == [(1, "kind")]
    table = read_plant_events(path, kind="检修")
    assert table.column("kind").to_pylist() == ["maintenance"]
    assert table.column("unavailable_kw").to_pylist() == [1200.0]
    with pytest.raises(ValueError, match="kind"):
        read_plant_events(path, kind="来水")


def test_parquet_with_datetimes_dates_and_zones(tmp_path: Path) -> None:
    table = pa.table(
        {
            "电站编号": ["P", "P"],
            "kind": ["dispatch", "maintenance"],
            "start_at": pa.array(
                [datetime(2021, 9, 1, 0, 0, tzinfo=UTC), datetime(2021, 9, 2, 8, 0, tzinfo=UTC)],
                pa.timestamp("s", tz="UTC"),
            ),
            "end_at": pa.array([date(2021, 9, 1), date(2021, 9, 2)], pa.date32()),
            "limit_kw": [100, None],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    rows = read_plant_events(tmp_path / "e.parquet").to_pylist()
    assert rows[0]["start_at"] == datetime(2021, 9, 1, 0, 0, tzinfo=UTC)
    assert rows[0]["end_at"] == _utc("2021-09-02 00:00")  # a date: the whole local day
    assert rows[1]["end_at"] == _utc("2021-09-03 00:00")


def test_cells_with_units_and_several_files(tmp_path: Path) -> None:
    _write(
        tmp_path / "a.csv",
        "plant_id,kind,start_at,end_at,limit_kw\nP,调度,2021-09-01,2021-09-01,0.5MW\n",
    )
    _write(
        tmp_path / "b.csv",
        "plant_id,kind,start_at,end_at,limit_kw\nQ,限电,2021-09-02,2021-09-02,300\n",
    )
    table = read_plant_events(str(tmp_path / "*.csv"))
    assert table.column("plant_id").to_pylist() == ["P", "Q"]
    assert table.column("limit_kw").to_pylist() == [500.0, 300.0]


def test_every_bad_cell_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "电站编号,类型,开始时间,结束时间,限制出力,停运容量\n"
        "P,调度,2021-09-01 08:00,2021-09-01 12:00,100,\n"
        ",调度,2021-09-01 08:00,2021-09-01 12:00,,\n"
        "P,来水,2021-09-01 08:00,2021-09-01 12:00,,\n"
        "P,,2021-09-01 08:00,2021-09-01 12:00,,\n"
        "P,调度,2021-09-01 12:00,2021-09-01 08:00,,\n"  # ends before it starts
        "P,调度,2021-09-01 08:00,2021-09-01 08:00,,\n"  # ends when it starts
        "P,调度,,2021-09-01 12:00,,\n"
        "P,调度,2021-09-01 08:00,tomorrow,,\n"
        "P,调度,2021-09-01 08:00,2021-09-01 12:00,-5,\n"
        "P,检修,2021-09-01 08:00,2021-09-01 12:00,100,\n"  # a limit on maintenance
        "P,限电,2021-09-01 08:00,2021-09-01 12:00,,100\n"  # capacity out on curtailment
        "P,检修,2021-09-01 08:00,2021-09-01 12:00,,5 GJ\n",
    )
    with pytest.raises(InputFileError) as error:
        read_plant_events(path)
    assert _problems(error) == [
        (3, "电站编号"),
        (4, "类型"),
        (5, "类型"),
        (6, "结束时间"),
        (7, "结束时间"),
        (8, "开始时间"),
        (9, "结束时间"),
        (10, "限制出力"),
        (11, "限制出力"),
        (12, "停运容量"),
        (13, "停运容量"),
    ]
    reasons = {(p.row, p.column): p.reason for p in error.value.problems}
    assert "before or when it starts" in reasons[(6, "结束时间")]
    assert "unavailable_kw" in reasons[(11, "限制出力")]
    assert "limit_kw" in reasons[(12, "停运容量")]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("plant_id,kind,start_at", "end_at"),
        ("kind,start_at,end_at", "plant_id"),
        ("plant_id,kind,start_at,end_at,限制出力(kWh)", "限制出力(kWh)"),
    ],
)
def test_header_problems(tmp_path: Path, header: str, column: str) -> None:
    path = _write(tmp_path / "h.csv", header + "\n")
    with pytest.raises(InputFileError) as error:
        read_plant_events(path)
    assert (1, column) in _problems(error)
