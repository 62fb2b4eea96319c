"""River inflow: daily series, hourly readings averaged to local days with coverage, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minewatch.errors import InputFileError
from minewatch.ingest.plants import read_inflow
from minewatch.ingest.schemas import INFLOW_SCHEMA


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def _hours(day: str, hours: range, flow: float = 10.0) -> str:
    return "".join(f"G,{day} {h:02d}:00,{flow + h}\n" for h in hours)


def test_a_daily_series_in_chinese(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "日流量.csv",
        "测站编号,日期,入库流量(m³/s)\nG02,2021-07-02,30\nG01,2021/7/1,12.5\nG01,20210702,\n",
        encoding="gb18030",
    )
    table, warnings = read_inflow(path)
    assert table.schema.equals(INFLOW_SCHEMA)
    assert table.to_pylist() == [
        {"gauge_id": "G01", "date": date(2021, 7, 1), "inflow_m3s": 12.5},
        {"gauge_id": "G01", "date": date(2021, 7, 2), "inflow_m3s": None},  # listed, no flow
        {"gauge_id": "G02", "date": date(2021, 7, 2), "inflow_m3s": 30.0},
    ]
    assert warnings == []


def test_hourly_readings_become_daily_means(tmp_path: Path) -> None:
    text = "水文站,时间,流量\n" + _hours("2021-07-01", range(24)) + _hours("2021-07-02", range(20))
    text += _hours("2021-07-03", range(19))
    table, warnings = read_inflow(_write(tmp_path / "h.csv", text))
    assert table.column("date").to_pylist() == [date(2021, 7, d) for d in (1, 2, 3)]
    assert table.column("inflow_m3s").to_pylist() == [
        pytest.approx(10 + 11.5),  # 24 hours
        pytest.approx(10 + 9.5),  # 20 of 24: enough
        None,  # 19 of 24: not a biased mean
    ]
    assert len(warnings) == 1
    assert "2021-07-03 (19 h)" in warnings[0].reason
    assert "fewer than 20 of 24 hours" in warnings[0].reason


def test_sub_hourly_readings_are_averaged_by_hour_first(tmp_path: Path) -> None:
    lines = ["G,2021-07-01 00:00,0", "G,2021-07-01 00:15,0", "G,2021-07-01 00:30,0"]
    lines += [f"G,2021-07-01 {h:02d}:00,{12.0}" for h in range(1, 24)]
    text = "gauge_id,time,inflow_m3s\n" + "\n".join(lines) + "\n"
    table, _ = read_inflow(_write(tmp_path / "q.csv", text))
    # hour 0 weighs as one hour (mean 0), not three readings
    assert table.column("inflow_m3s").to_pylist() == [pytest.approx(12 * 23 / 24)]


def test_min_hours(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "gauge,time,flow\n" + _hours("2021-07-01", range(12)))
    assert read_inflow(path, min_hours=12)[0].column("inflow_m3s").to_pylist() == [
        pytest.approx(15.5)
    ]
    with pytest.raises(ValueError, match="min_hours"):
        read_inflow(path, min_hours=0)


def test_a_time_column_of_dates_is_daily(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "gauge,time,flow\nG,2021-07-01,5\nG,2021-07-02 00:00,6\n")
    table, warnings = read_inflow(path)
    assert table.column("inflow_m3s").to_pylist() == [5.0, 6.0]
    assert warnings == []


def test_parquet_readings_with_a_zone_and_a_plant_id(tmp_path: Path) -> None:
    start = datetime(2021, 6, 30, 16, tzinfo=UTC)  # 2021-07-01 00:00 in Shanghai
    stamps = pa.array([start + timedelta(hours=h) for h in range(24)], pa.timestamp("s", tz="UTC"))
    table = pa.table({"电站编号": ["HY1"] * 24, "时间": stamps, "入库流量": [2.0] * 24})
    pq.write_table(table, tmp_path / "i.parquet")
    result, _ = read_inflow(tmp_path / "i.parquet")
    assert result.to_pylist() == [{"gauge_id": "HY1", "date": date(2021, 7, 1), "inflow_m3s": 2.0}]


def test_date_and_time_of_day_columns(tmp_path: Path) -> None:
    text = "gauge,date,time,flow\n" + "".join(f"G,2021-07-01,{h}:00,4\n" for h in range(24))
    table, _ = read_inflow(_write(tmp_path / "dt.csv", text))
    assert table.column("inflow_m3s").to_pylist() == [4.0]


def test_an_empty_time_beside_a_date_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "dt.csv", "gauge,date,time,flow\nG,2021-07-01,01:00,4\nG,2021-07-01,,4\n"
    )
    with pytest.raises(InputFileError) as error:
        read_inflow(path)
    assert _problems(error) == [(3, "time")]


def test_the_same_reading_twice_is_kept_once(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "gauge,date,flow\nG,2021-07-01,5\n")
    _write(tmp_path / "b.csv", "gauge,date,flow\nG,2021-07-01,5\nG,2021-07-02,6\n")
    table, _ = read_inflow(tmp_path)
    assert table.column("inflow_m3s").to_pylist() == [5.0, 6.0]


def test_conflicts_across_rows_and_files(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "gauge,date,flow\nG,2021-07-01,5\n")
    b = _write(tmp_path / "b.csv", "gauge,date,flow\nG,2021-07-02,6\nG,2021-07-01,7\n")
    with pytest.raises(InputFileError) as error:
        read_inflow(tmp_path)
    assert error.value.path == b
    assert _problems(error) == [(3, "flow")]
    assert "a.csv, row 2" in error.value.problems[0].reason
    (tmp_path / "a.csv").unlink()
    (tmp_path / "b.csv").unlink()
    _write(tmp_path / "d.csv", "gauge,date,flow\nG,2021-07-01,5\n")
    h = _write(tmp_path / "h.csv", "gauge,time,flow\n" + _hours("2021-07-01", range(24)))
    with pytest.raises(InputFileError) as error:
        read_inflow(tmp_path)
    assert error.value.path == h
    assert "a daily mean in" in error.value.problems[0].reason


def test_every_bad_cell_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.csv",
        "测站编号,时间,入库流量\n"
        "G,2021-07-01 00:00,5\n"
        ",2021-07-01 01:00,5\n"
        "G,2021-07-01 02:00,-1\n"
        "G,2021-07-01 03:00,abc\n"
        "G,someday,5\n"
        "G,2021-07-01 04:00,inf\n",
    )
    with pytest.raises(InputFileError) as error:
        read_inflow(path)
    assert _problems(error) == [
        (3, "测站编号"),
        (4, "入库流量"),
        (5, "入库流量"),
        (6, "时间"),
        (7, "入库流量"),
    ]
    assert "negative" in error.value.problems[1].reason


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("gauge,date", "inflow_m3s"),
        ("gauge,flow", "date"),
        ("date,flow", "gauge_id"),
        ("gauge,date,流量(L/s)", "流量(L/s)"),
    ],
)
def test_header_problems(tmp_path: Path, header: str, column: str) -> None:
    path = _write(tmp_path / "h.csv", header + "\n")
    with pytest.raises(InputFileError) as error:
        read_inflow(path)
    assert (1, column) in _problems(error)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hours=st.lists(st.integers(0, 47), unique=True, max_size=48),
    flow=st.floats(0, 1e4, allow_nan=False),
)
def test_coverage_decides_each_day(tmp_path: Path, hours: list[int], flow: float) -> None:
    lines = [
        f"G,{datetime(2021, 7, 1) + timedelta(hours=h):%Y-%m-%d %H:%M},{flow!r}" for h in hours
    ]
    path = _write(tmp_path / "p.csv", "gauge,time,flow\n" + "\n".join(lines) + "\n")
    table, warnings = read_inflow(path)
    expected = []
    for day in (0, 1):
        count = sum(1 for h in hours if h // 24 == day)
        if all(h % 24 == 0 for h in hours):  # every reading at midnight: a daily series
            expected += [flow] if count else []
        elif count:
            expected.append(flow if count >= 20 else None)
    got = table.column("inflow_m3s").to_pylist()
    assert got == [None if e is None else pytest.approx(e) for e in expected]
    assert bool(warnings) == (None in expected)
