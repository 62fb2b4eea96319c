"""Plant output: every layout, unit, time convention and bad input, with rows and columns."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minewatch.errors import InputFileError
from minewatch.ingest import plants_generation
from minewatch.ingest.plants import read_generation
from minewatch.ingest.schemas import GENERATION_SCHEMA

SHANGHAI = timedelta(hours=8)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def _utc(text: str) -> datetime:
    """A local (Asia/Shanghai) time as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - SHANGHAI


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    assert table.schema.equals(GENERATION_SCHEMA)
    return [
        (
            r["plant_id"],
            r["interval_start_at"],
            r["interval_minutes"],
            r["terminal_kwh"],
            r["grid_tie_kwh"],
        )
        for r in table.to_pylist()
    ]


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def _reason(
    error: pytest.ExceptionInfo[InputFileError], row: int | None, column: str | None
) -> str:
    found = [p.reason for p in error.value.problems if (p.row, p.column) == (row, column)]
    assert found, f"no problem at row {row}, column {column!r}: {error.value}"
    return found[0]


# --------------------------------------------------------------------------- long layout


def test_long_english_headers_infer_15_minutes_and_convert_to_utc(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "out.csv",
        "plant_id,interval_start_at,terminal_kwh,grid_tie_kwh\n"
        "B,2021-09-01 00:15,3,2.9\n"
        "A,2021-09-01 00:00,1.5,1.4\n"
        "B,2021-09-01 00:00,2,1.9\n",
    )
    assert _rows(read_generation(path)) == [
        ("A", _utc("2021-09-01 00:00"), 60, 1.5, 1.4),  # only on the hour: hourly
        ("B", _utc("2021-09-01 00:00"), 15, 2.0, 1.9),
        ("B", _utc("2021-09-01 00:15"), 15, 3.0, 2.9),
    ]


def test_chinese_headers_with_units_and_a_missing_meter(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "出力.csv",
        "电站编号,数据时间,上网电量(MWh)\nHY001,2021/9/1 0:00,1.25\nHY001,2021/9/1 1:00,\n",
    )
    assert _rows(read_generation(path)) == [("HY001", _utc("2021-09-01 00:00"), 60, None, 1250.0)]


@pytest.mark.parametrize(
    ("header", "value", "kwh"),
    [
        ("机端电量", "10", 10.0),  # energy in kWh when nothing says otherwise
        ("机端电量(kWh)", "10", 10.0),
        ("机端电量（MWh）", "0.01", 10.0),  # full-width brackets
        ("机端电量/万kWh", "0.001", 10.0),
        ("terminal_mwh", "0.01", 10.0),
        ("terminal_kw", "40", 10.0),  # average power over 15 minutes
        ("机端出力", "40", 10.0),  # 出力 is power, kW unless said
        ("机端出力(MW)", "0.04", 10.0),
        ("机端有功[㎿]", "0.04", 10.0),  # NFKC: ㎿ is MW
        ("发电量kWh", "10", 10.0),
    ],
)
def test_units_by_header(tmp_path: Path, header: str, value: str, kwh: float) -> None:
    path = _write(
        tmp_path / "u.csv",
        f"电站编号,时间,{header}\nP,2021-09-01 00:00,{value}\nP,2021-09-01 00:15,{value}\n",
    )
    table = read_generation(path)
    assert table.column("terminal_kwh").to_pylist() == pytest.approx([kwh, kwh])
    assert table.column("interval_minutes").to_pylist() == [15, 15]


def test_hourly_power_is_energy_of_one_hour(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.csv",
        "plant_id,time,grid_tie_mw\nP,2021-09-01 00:00,2\nP,2021-09-01 01:00,3\n",
    )
    assert read_generation(path).column("grid_tie_kwh").to_pylist() == [2000.0, 3000.0]


def test_parquet_with_zoned_timestamps_and_numeric_ids(tmp_path: Path) -> None:
    stamps = pa.array([1630454400, 1630455300], pa.timestamp("s", tz="UTC"))  # 00:00, 00:15 UTC
    table = pa.table(
        {"电厂编号": pa.array([1001, 1001], pa.int64()), "时刻": stamps, "上网电量": [1.0, 2.0]}
    )
    pq.write_table(table, tmp_path / "out.parquet")
    rows = _rows(read_generation(tmp_path / "out.parquet"))
    assert rows == [
        ("1001", datetime(2021, 9, 1, 0, 0, tzinfo=UTC), 15, None, 1.0),
        ("1001", datetime(2021, 9, 1, 0, 15, tzinfo=UTC), 15, None, 2.0),
    ]


def test_parquet_with_naive_local_timestamps(tmp_path: Path) -> None:
    stamps = pa.array([datetime(2021, 9, 1, 8, 0)], pa.timestamp("ms"))
    pq.write_table(
        pa.table({"plant_id": ["P"], "time": stamps, "terminal_kwh": [1.0]}), tmp_path / "n.pq"
    )
    assert _rows(read_generation(tmp_path / "n.pq"))[0][1] == datetime(2021, 9, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("gbk.csv", "gb18030", ","),
        ("bom.csv", "utf-8-sig", ";"),
        ("tab.csv.gz", "utf-8", "\t"),
        ("pipe.csv", "gb18030", "|"),
    ],
)
def test_encodings_delimiters_and_gzip(
    tmp_path: Path, name: str, encoding: str, delimiter: str
) -> None:
    lines = ["电站编号,时间,机端电量,上网电量", "小水电甲,2021-09-01 00:00,1,0.9"]
    text = "".join(line.replace(",", delimiter) + "\n" for line in lines)
    path = _write(tmp_path / name, text, encoding)
    assert _rows(read_generation(path)) == [("小水电甲", _utc("2021-09-01 00:00"), 60, 1.0, 0.9)]


def test_timestamps_with_a_zone_land_on_the_same_instant(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "tz.csv",
        "plant_id,timestamp,terminal_kwh\n"
        "P,2021-08-31T16:00:00Z,1\n"
        "P,2021-08-31T16:15:00+00:00,2\n"
        "P,2021-09-01T00:30:00+08:00,3\n"
        "P,2021-09-01 00:45,4\n",
    )
    table = read_generation(path)
    assert table.column("interval_start_at").to_pylist() == [
        _utc("2021-09-01 00:00") + timedelta(minutes=15 * i) for i in range(4)
    ]


def test_interval_column_and_per_plant_inference(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "iv.csv",
        "电站编号,时间,采集周期（分钟）,机端电量\n"
        "A,2021-09-01 00:00,15分钟,1\n"  # a column says 15: stays 15 though on the hour
        "B,2021-09-01 00:00,1小时,2\n"
        "C,2021-09-01 00:00,,3\n"
        "C,2021-09-01 00:45,,4\n",
    )
    rows = _rows(read_generation(path))
    assert [(r[0], r[2]) for r in rows] == [("A", 15), ("B", 60), ("C", 15), ("C", 15)]


def test_start_and_end_columns_give_each_row_its_length(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "se.csv",
        "电站编号,开始时间,结束时间,上网电量\n"
        "A,2021-09-01 00:00,2021-09-01 01:00,4\n"
        "A,2021-09-01 01:00,2021-09-01 01:15,1\n",
    )
    assert [r[2] for r in _rows(read_generation(path))] == [60, 15]


def test_end_labels_mark_the_end_of_each_interval(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "end.csv",
        "电站编号,时段结束时间,上网电量\n"
        "A,2021-09-01 00:15,1\n"
        "A,2021-09-01 00:30,2\n"
        "A,2021-09-01 24:00,3\n",  # the midnight that ends the day
    )
    starts = read_generation(path).column("interval_start_at").to_pylist()
    assert starts == [_utc("2021-09-01 00:00"), _utc("2021-09-01 00:15"), _utc("2021-09-01 23:45")]


def test_date_and_time_of_day_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "dt.csv",
        "电站编号,日期,结束时刻,机端电量\nA,2021-09-01,00:15,1\nA,2021-09-01,24:00,2\n",
    )
    starts = read_generation(path).column("interval_start_at").to_pylist()
    assert starts == [_utc("2021-09-01 00:00"), _utc("2021-09-01 23:45")]
    path = _write(tmp_path / "ds.csv", "plant_id,date,time,terminal_kwh\nA,20210901,13:00,5\n")
    assert read_generation(path).column("interval_start_at").to_pylist() == [
        _utc("2021-09-01 13:00")
    ]


def test_rows_without_any_reading_are_left_out(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "gap.csv",
        "plant_id,time,terminal_kwh,grid_tie_kwh\nP,2021-09-01 00:00,,\nP,2021-09-01 00:15,NULL,-\n"
        "P,2021-09-01 00:30,0,0\n",
    )
    rows = _rows(read_generation(path))
    assert rows == [("P", _utc("2021-09-01 00:30"), 15, 0.0, 0.0)]


# --------------------------------------------------------------------------- long by meter


def test_long_by_meter_with_a_unit_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bm.csv",
        "电站编号,表计类型,时间,电量,单位\n"
        "A,机端,2021-09-01 00:00,1.2,MWh\n"
        "A,上网,2021-09-01 00:00,1150,kWh\n"
        "A,关口电量(MWh),2021-09-01 01:00,1.1,\n",
    )
    assert _rows(read_generation(path)) == [
        ("A", _utc("2021-09-01 00:00"), 60, 1200.0, 1150.0),
        ("A", _utc("2021-09-01 01:00"), 60, None, 1100.0),
    ]


def test_long_by_meter_power_by_value_header(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bm.csv",
        "plant_id,meter_kind,time,出力(MW)\n"
        "A,terminal,2021-09-01 00:00,2\nA,terminal,2021-09-01 00:15,2\n",
    )
    assert read_generation(path).column("terminal_kwh").to_pylist() == [500.0, 500.0]


def test_a_value_column_needs_its_meter(tmp_path: Path) -> None:
    path = _write(tmp_path / "v.csv", "电站编号,时间,电量(MWh)\nA,2021-09-01 00:00,1.5\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(1, "电量(MWh)")]
    assert "meter_kind" in _reason(error, 1, "电量(MWh)")
    table = read_generation(path, measure="上网")
    assert _rows(table) == [("A", _utc("2021-09-01 00:00"), 60, None, 1500.0)]
    with pytest.raises(InputFileError, match="disagree"):
        read_generation(path, measure="上网出力")  # 电量 is energy, 出力 power


def test_numbers_arrow_refuses_but_a_spreadsheet_writes(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "n.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:00, 1.5 \nP,2021-09-01 00:15,+2\n"
        "P,2021-09-01 00:30,1e1\nP,2021-09-01 00:45,N/A\n",
    )
    assert read_generation(path).column("terminal_kwh").to_pylist() == [1.5, 2.0, 10.0]


def test_long_by_meter_disagreements_and_unknown_meters(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "电站编号,表计类型,时间,电量,单位\n"
        "A,机端,2021-09-01 00:00,1,MW\n"  # 电量 is energy, MW is power
        "A,厂用电,2021-09-01 00:00,1,kWh\n"  # no such meter
        "A,上网电量(MWh),2021-09-01 00:00,1,kWh\n"  # two units
        "A,上网,2021-09-01 00:00,1,GJ\n"
        "A,,2021-09-01 00:15,1,kWh\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(r, "表计类型") for r in (2, 3, 4, 5, 6)]
    assert "energy or power" in _reason(error, 2, "表计类型")
    assert "厂用电" in _reason(error, 3, "表计类型")
    assert "GJ" in _reason(error, 5, "表计类型")
    assert "empty" in _reason(error, 6, "表计类型")


# --------------------------------------------------------------------------- wide layout

P_HEADERS = ",".join(f"p{i:03d}" for i in range(1, 97))
END_CLOCK = ",".join(f"{(m // 60):02d}:{m % 60:02d}" for m in range(15, 1441, 15))
START_CLOCK = ",".join(f"{(m // 60):02d}:{m % 60:02d}" for m in range(0, 1440, 15))


def _day(base: float) -> str:
    return ",".join(f"{base + i}" for i in range(96))


def test_wide_96_points_with_meter_kinds(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "wide.csv",
        f"电站编号,日期,表计类型,{P_HEADERS}\n"
        f"A,2021-09-01,机端电量,{_day(100)}\n"
        f"A,2021-09-01,上网电量,{_day(90)}\n",
    )
    rows = _rows(read_generation(path))
    assert len(rows) == 96
    assert rows[0] == ("A", _utc("2021-09-01 00:00"), 15, 100.0, 90.0)
    assert rows[95] == ("A", _utc("2021-09-01 23:45"), 15, 195.0, 185.0)


@pytest.mark.parametrize("clock", [END_CLOCK, START_CLOCK])
def test_wide_clock_headers_end_or_start_labels(tmp_path: Path, clock: str) -> None:
    path = _write(
        tmp_path / "clock.csv", f"电站编号,日期,表计类型,{clock}\nA,2021/9/1,上网,{_day(0)}\n"
    )
    rows = _rows(read_generation(path))
    assert rows[0][1:] == (_utc("2021-09-01 00:00"), 15, None, 0.0)
    assert rows[-1][1:] == (_utc("2021-09-01 23:45"), 15, None, 95.0)


def test_wide_hourly_power_with_the_measure_argument(tmp_path: Path) -> None:
    hours = ",".join(f"h{i:02d}" for i in range(1, 25))
    values = ",".join(str(i) for i in range(24))
    path = _write(tmp_path / "h.csv", f"plant_id,date,{hours}\nA,20210901,{values}\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(1, "meter_kind")]
    table = read_generation(path, measure="上网出力(MW)")
    assert table.column("interval_minutes").to_pylist() == [60] * 24
    assert table.column("grid_tie_kwh").to_pylist() == [1000.0 * i for i in range(24)]
    assert table.column("terminal_kwh").null_count == 24


def test_wide_hourly_clock_headers(tmp_path: Path) -> None:
    clock = ",".join(f"{h:02d}:00" for h in range(1, 25))
    path = _write(
        tmp_path / "h.csv", f"plant_id,date,{clock}\nA,2021-09-01,{','.join(['1'] * 24)}\n"
    )
    table = read_generation(path, measure="terminal_kwh")
    assert table.column("interval_start_at").to_pylist()[0] == _utc("2021-09-01 00:00")
    assert table.num_rows == 24


def test_wide_and_long_read_the_same(tmp_path: Path) -> None:
    wide = _write(
        tmp_path / "w.csv", f"电站编号,日期,表计类型,{P_HEADERS}\nA,2021-09-01,机端,{_day(1)}\n"
    )
    lines = [f"A,2021-09-01 {(15 * i) // 60:02d}:{(15 * i) % 60:02d},{1 + i}" for i in range(96)]
    long = _write(tmp_path / "l.csv", "电站编号,时间,机端电量\n" + "\n".join(lines) + "\n")
    assert read_generation(wide).equals(read_generation(long))


def test_wide_header_problems(tmp_path: Path) -> None:
    partial = ",".join(f"p{i:03d}" for i in range(1, 95))
    path = _write(tmp_path / "w.csv", f"plant_id,date,meter_kind,{partial}\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert "p095, p096" in error.value.problems[0].reason
    clock = ",".join(f"{h:02d}:00" for h in range(0, 23))
    path = _write(tmp_path / "c.csv", f"plant_id,date,meter_kind,{clock}\n")
    with pytest.raises(InputFileError, match="not a whole day"):
        read_generation(path)
    path = _write(tmp_path / "m.csv", f"plant_id,meter_kind,{P_HEADERS}\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(1, "date")]


def test_wide_bad_cells_name_their_column(tmp_path: Path) -> None:
    values = _day(1).split(",")
    values[36] = "-5"  # p037
    values[95] = "abc"
    path = _write(
        tmp_path / "w.csv",
        f"电站编号,日期,表计类型,{P_HEADERS}\nA,2021-09-31,机端,{_day(1)}\nA,2021-09-01,机端,{','.join(values)}\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(2, "日期"), (3, "p037"), (3, "p096")]
    assert "negative" in _reason(error, 3, "p037")


# --------------------------------------------------------------------------- several files


def test_a_folder_of_monthly_files_and_meters_in_separate_files(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _write(folder / "2021-09-terminal.csv", "电站编号,时间,机端电量\nA,2021-09-30 23:00,5\n")
    _write(folder / "2021-09-grid.csv", "电站编号,时间,上网电量\nA,2021-09-30 23:00,4.8\n")
    _write(folder / "2021-10.csv", "电站编号,时间,机端电量,上网电量\nA,2021-10-01 00:00,6,5.8\n")
    _write(folder / "notes.txt", "not read\n")
    rows = _rows(read_generation(folder))
    assert rows == [
        ("A", _utc("2021-09-30 23:00"), 60, 5.0, 4.8),
        ("A", _utc("2021-10-01 00:00"), 60, 6.0, 5.8),
    ]
    assert read_generation(str(folder / "2021-*.csv")).equals(read_generation(folder))


def test_the_same_reading_twice_is_kept_once(tmp_path: Path) -> None:
    _write(
        tmp_path / "a.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:00,1\nP,2021-09-01 00:15,2\n",
    )
    _write(
        tmp_path / "b.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:15,2\nP,2021-09-01 00:30,3\n",
    )
    assert read_generation(tmp_path).column("terminal_kwh").to_pylist() == [1.0, 2.0, 3.0]


def test_the_same_interval_with_another_value_is_an_error(tmp_path: Path) -> None:
    _write(
        tmp_path / "a.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:00,1\nP,2021-09-01 00:15,2\n",
    )
    b = _write(
        tmp_path / "b.csv",
        "plant_id,time,grid_tie_kwh,terminal_kwh\n"
        "P,2021-09-01 00:15,1.9,2.5\nP,2021-09-01 00:00,0.9,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(tmp_path)
    assert error.value.path == b
    assert _problems(error) == [(2, "terminal_kwh")]
    reason = _reason(error, 2, "terminal_kwh")
    assert "a.csv, row 3" in reason
    assert "2021-09-01 00:15" in reason
    (tmp_path / "one").mkdir()
    same_file = _write(
        tmp_path / "one" / "c.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:00,1\n\nP,2021-09-01 00:00,7\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(same_file)
    assert _problems(error) == [(4, "terminal_kwh")]  # the blank line 3 is counted
    assert "row 2" in _reason(error, 4, "terminal_kwh")


def test_overlapping_intervals_are_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.csv",
        "plant_id,time,interval,terminal_kwh\nP,2021-09-01 00:00,60,4\nP,2021-09-01 00:30,15,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(3, "terminal_kwh")]
    assert "overlaps the 60-minute interval" in _reason(error, 3, "terminal_kwh")


def test_meters_at_different_intervals_are_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mix.csv",
        "plant_id,meter_kind,time,interval,value\n"
        "P,terminal,2021-09-01 00:00,60,4\n"
        "P,grid_tie,2021-09-01 00:00,15,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(3, "value")]
    assert "one interval" in _reason(error, 3, "value")


def test_thirty_minute_data_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "30.csv",
        "plant_id,time,terminal_kwh\nP,2021-09-01 00:00,1\nP,2021-09-01 00:30,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(3, "terminal_kwh")]
    assert "30-minute" in _reason(error, 3, "terminal_kwh")


# --------------------------------------------------------------------------- bad cells


def test_every_bad_cell_is_named_with_row_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "电站编号,时间,机端电量,上网电量\n"
        "A,2021-09-01 00:00,1,1\n"
        ",2021-09-01 00:15,1,1\n"
        "A,2021-09-01 00:07,1,1\n"
        "A,yesterday,1,1\n"
        "A,2021-09-01 01:00,-2,1\n"
        "A,2021-09-01 01:15,1,x\n"
        "A,2021-09-01 01:30,inf,1\n"
        "A,,1,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [
        (3, "电站编号"),
        (4, "时间"),
        (5, "时间"),
        (6, "机端电量"),
        (7, "上网电量"),
        (8, "机端电量"),
        (9, "时间"),
    ]
    assert "15-minute grid" in _reason(error, 4, "时间")
    assert "-2 is negative" in _reason(error, 6, "机端电量")
    assert "'x' is not a number" in _reason(error, 7, "上网电量")
    assert "empty" in _reason(error, 9, "时间")
    assert "nothing was imported" in str(error.value)


def test_interval_problems(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "iv.csv",
        "plant_id,start,end_time,interval_minutes,terminal_kwh\n"
        "P,2021-09-01 00:00,2021-09-01 00:30,,1\n"
        "P,2021-09-01 00:15,2021-09-01 00:30,60,1\n"
        "P,2021-09-01 01:00,2021-09-01 01:15,5,1\n",
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert (2, "end_time") in _problems(error)
    assert (3, "start") in _problems(error)  # 00:15 is not on the hour of a 60-minute interval
    assert (3, "end_time") in _problems(error)  # 15 minutes from its start, the column says 60
    assert (4, "interval_minutes") in _problems(error)


def test_a_row_with_the_wrong_number_of_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "w.csv", "plant_id,time,terminal_kwh\nP,2021-09-01 00:00,1\nP,2021-09-01 00:15\n"
    )
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(3, None)]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("plant_id,terminal_kwh", "interval_start_at"),  # no time
        ("time,terminal_kwh", "plant_id"),
        ("plant_id,time,机端电量(kW)", "机端电量(kW)"),  # 电量 is energy
        ("plant_id,time,上网电量(GJ)", "上网电量(GJ)"),
        ("plant_id,time,机端电量,发电量", "发电量"),  # the same meter twice
        ("plant_id,time,terminal_kwh,meter_kind", "meter_kind"),
    ],
)
def test_header_problems(tmp_path: Path, header: str, column: str) -> None:
    path = _write(tmp_path / "h.csv", header + "\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert (1, column) in _problems(error)


def test_no_output_columns_and_a_bad_measure(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "plant_id,time,load_kw\n")
    with pytest.raises(InputFileError, match="no output columns"):
        read_generation(path)
    with pytest.raises(ValueError, match="measure"):
        read_generation(path, measure="厂用电")


def test_problems_across_batches_keep_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plants_generation, "_BATCH_ROWS", 3)
    lines = [f"P,2021-09-01 {h:02d}:00,{h}" for h in range(10)]
    lines[7] = "P,2021-09-01 07:00,-1"
    path = _write(tmp_path / "b.csv", "plant_id,time,terminal_kwh\n" + "\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as error:
        read_generation(path)
    assert _problems(error) == [(9, "terminal_kwh")]
    lines[7] = "P,2021-09-01 07:00,7"
    path = _write(tmp_path / "b.csv", "plant_id,time,terminal_kwh\n" + "\n".join(lines) + "\n")
    assert read_generation(path).num_rows == 10


def test_an_empty_file_and_a_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", "plant_id,time,terminal_kwh\n")
    assert read_generation(path).num_rows == 0
    with pytest.raises(InputFileError, match="not found"):
        read_generation(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- properties

_readings = st.lists(
    st.tuples(
        st.sampled_from(["A", "电站B", "0042"]),
        st.integers(0, 2 * 96 - 1),  # a 15-minute slot in two days
        st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False, width=32)),
        st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False, width=32)),
    ),
    max_size=30,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(readings=_readings, in_mwh=st.booleans(), as_power=st.booleans())
def test_long_csv_round_trip(
    tmp_path: Path, readings: list[Any], in_mwh: bool, as_power: bool
) -> None:
    unit = ("mw" if as_power else "mwh") if in_mwh else ("kw" if as_power else "kwh")
    scale = (1000.0 if in_mwh else 1.0) / (4 if as_power else 1)  # file value → kWh at 15 min
    lines = ["plant_id,interval,time,terminal_" + unit + ",grid_tie_" + unit]
    expected = []
    start = datetime(2021, 9, 1)
    for plant, slot, terminal, grid in readings:
        at = start + timedelta(minutes=15 * slot)
        cells = ["" if v is None else repr(v / scale) for v in (terminal, grid)]
        lines.append(f"{plant},15,{at:%Y-%m-%d %H:%M},{cells[0]},{cells[1]}")
        if terminal is not None or grid is not None:
            expected.append((plant, at.replace(tzinfo=UTC) - SHANGHAI, terminal, grid))
    path = _write(tmp_path / "rt.csv", "\n".join(lines) + "\n")
    table = read_generation(path)
    got = [
        (r["plant_id"], r["interval_start_at"], r["terminal_kwh"], r["grid_tie_kwh"])
        for r in table.to_pylist()
    ]
    assert len(got) == len(expected)
    for (p, t, a, b), (q, u, c, d) in zip(got, sorted(expected), strict=True):
        assert (p, t) == (q, u)
        assert a == (None if c is None else pytest.approx(c, rel=1e-12))
        assert b == (None if d is None else pytest.approx(d, rel=1e-12))
