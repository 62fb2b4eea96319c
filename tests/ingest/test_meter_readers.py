"""Meter load curves, customer archives and weather: every layout, encoding and bad input."""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_bad_uscc, make_uscc
from minewatch.errors import InputFileError, MineWatchError
from minewatch.ingest.meters import (
    expand_inputs,
    iter_readings,
    read_customers,
    read_weather,
    write_table,
)
from minewatch.ingest.schemas import (
    CUSTOMERS_SCHEMA,
    HOUR_COLUMNS,
    READINGS_SCHEMA,
    SLOT_COLUMNS,
    WEATHER_SCHEMA,
)

WIDE_HEADER = ["meter_id", "date", *SLOT_COLUMNS]


def _csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    encoding: str = "utf-8",
    lines: Sequence[str] | None = None,
) -> Path:
    """Write a CSV file (gzipped when the name ends in .gz); ``lines`` replaces the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    if lines is not None:
        buffer.write("".join(f"{line}\n" for line in lines))
    else:
        writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _wide_row(meter: str, day: str, base: float = 1.0) -> list[object]:
    return [meter, day, *(base + i * 0.25 for i in range(96))]


def _read(spec: Any, **options: Any) -> pa.Table:
    batches = list(iter_readings(spec, **options))
    for batch in batches:
        assert batch.schema.equals(READINGS_SCHEMA)
    return pa.Table.from_batches(batches, schema=READINGS_SCHEMA)


def _row(table: pa.Table, index: int = 0) -> dict[str, Any]:
    return table.slice(index, 1).to_pylist()[0]


def _problem(error: pytest.ExceptionInfo[InputFileError], row: int | None, column: str | None):
    matches = [p for p in error.value.problems if p.row == row and p.column == column]
    assert matches, f"no problem at row {row}, column {column!r}: {error.value}"
    return matches[0]


# --------------------------------------------------------------------------- layouts


def test_wide_csv_and_parquet_read_identically(tmp_path: Path) -> None:
    rows = [_wide_row("0012345678", "2021-09-01"), _wide_row("0012345678", "2021-09-02", 5)]
    rows.append(_wide_row("0099", "2021-09-01", -3))
    csv_path = _csv(tmp_path / "wide.csv", WIDE_HEADER, rows)
    table = pa.table(
        {
            "extra": ["x", "y", "z"],
            **{name: [r[i] for r in rows] for i, name in reversed(list(enumerate(WIDE_HEADER)))},
        }
    )
    table = table.set_column(
        table.schema.get_field_index("date"),
        "date",
        pa.array([date.fromisoformat(str(r[1])) for r in rows], pa.date32()),
    )
    pq.write_table(table, tmp_path / "wide.parquet")

    from_csv = _read(csv_path)
    from_parquet = _read(tmp_path / "wide.parquet")

    assert from_csv.equals(from_parquet)
    assert from_csv.column("meter_id").to_pylist() == ["0012345678", "0012345678", "0099"]
    assert from_csv.column("date").to_pylist()[1] == date(2021, 9, 2)
    first = _row(from_csv)
    assert first["p001"] == 1.0
    assert first["p096"] == pytest.approx(1.0 + 95 * 0.25)
    assert _row(from_csv, 2)["p001"] == -3.0


def test_hourly_values_fill_their_four_slots(tmp_path: Path) -> None:
    header = ["表号", "数据日期", *HOUR_COLUMNS]
    path = _csv(tmp_path / "hourly.csv", header, [["007", "2021/9/1", *range(1, 25)]])
    row = _row(_read(path))
    assert row["meter_id"] == "007"
    assert row["date"] == date(2021, 9, 1)
    assert [row[c] for c in SLOT_COLUMNS] == [float(h) for h in range(1, 25) for _ in range(4)]


def test_long_power_at_15_minutes_pivots_per_meter_and_day(tmp_path: Path) -> None:
    lines = [
        f"M1,2021-09-01 {h:02d}:{m:02d},{h * 4 + m // 15}"
        for h in range(24)
        for m in (0, 15, 30, 45)
    ]
    lines += ["M1,2021-09-02 00:15:00,7.5", "M2,2021-09-01 23:45,-2"]
    path = _csv(tmp_path / "long.csv", ["meter_id", "timestamp", "power_kw"], [], lines=lines)
    table = _read(path).sort_by([("meter_id", "ascending"), ("date", "ascending")])
    assert table.num_rows == 3
    day = _row(table, 0)
    assert [day[c] for c in SLOT_COLUMNS] == [float(i) for i in range(96)]
    next_day = _row(table, 1)
    assert next_day["date"] == date(2021, 9, 2)
    assert next_day["p001"] is None
    assert next_day["p002"] == 7.5
    assert _row(table, 2)["p096"] == -2.0


def test_long_energy_at_60_minutes_becomes_kw_in_four_slots(tmp_path: Path) -> None:
    lines = [f"00042,20210901,{h}:00,{8.0 * h}" for h in range(0, 24, 1)]
    lines = [line.replace("20210901,", "2021-09-01 ") for line in lines]
    path = _csv(tmp_path / "energy.csv", ["计量点编号", "采集时间", "用电量(kWh)"], [], lines=lines)
    row = _row(_read(path))
    assert row["meter_id"] == "00042"
    assert [row[c] for c in SLOT_COLUMNS[:8]] == [0.0] * 4 + [8.0] * 4
    assert row["p096"] == 8.0 * 23


def test_half_hourly_energy_divides_by_half_an_hour(tmp_path: Path) -> None:
    lines = ["A,2021-09-01 00:00,1", "A,2021-09-01 00:30,2", "A,2021-09-01 01:00,"]
    path = _csv(tmp_path / "energy30.csv", ["meter_id", "timestamp", "energy_kwh"], [], lines=lines)
    row = _row(_read(path))
    assert [row[c] for c in SLOT_COLUMNS[:6]] == [2.0, 2.0, 4.0, 4.0, None, None]


def test_aware_timestamps_land_in_the_local_slot_and_date(tmp_path: Path) -> None:
    lines = [
        "A,2021-08-31T16:00:00+00:00,1",
        "A,2021-08-31T16:15:00Z,2",
        "A,2021-09-01T00:30:00+08:00,3",
        "A,2021-09-01 00:45,4",
    ]
    path = _csv(tmp_path / "tz.csv", ["meter_id", "timestamp", "power_kw"], [], lines=lines)
    table = _read(path)
    assert table.num_rows == 1
    row = _row(table)
    assert row["date"] == date(2021, 9, 1)
    assert [row[c] for c in SLOT_COLUMNS[:4]] == [1.0, 2.0, 3.0, 4.0]


def test_parquet_long_with_timezone_aware_timestamps(tmp_path: Path) -> None:
    stamps = pa.array([1630454400, 1630455300], pa.timestamp("s", tz="UTC"))  # 2021-09-01 00:00 UTC
    table = pa.table({"meter_id": ["A", "A"], "timestamp": stamps, "power_kw": [1.0, 2.0]})
    pq.write_table(table, tmp_path / "long.parquet")
    row = _row(_read(tmp_path / "long.parquet"))
    assert row["date"] == date(2021, 9, 1)
    assert row["p033"] == 1.0  # 08:00 local
    assert row["p034"] == 2.0


def test_repeated_timestamps_and_meter_days_pass_through(tmp_path: Path) -> None:
    lines = ["A,2021-09-01 00:00,1", "A,2021-09-01 00:15,2", "A,2021-09-01 00:00,9"]
    path = _csv(tmp_path / "dup.csv", ["meter_id", "timestamp", "power_kw"], [], lines=lines)
    rows = _read(path).to_pylist()
    assert sorted((r["p001"], r["p002"]) for r in rows) == [(1.0, 2.0), (9.0, None)]
    wide = _csv(tmp_path / "wide.csv", WIDE_HEADER, [_wide_row("A", "2021-09-01")] * 2)
    assert _read(wide).num_rows == 2


# --------------------------------------------------------------------------- encodings and files


def test_gb18030_csv_with_chinese_headers(tmp_path: Path) -> None:
    header = ["电表编号", "日期", "户名", *SLOT_COLUMNS]
    row = ["0001", "2021-09-01", "石棉县鑫源科技", *([2.5] * 96)]
    path = _csv(tmp_path / "gbk.csv", header, [row], encoding="gb18030")
    table = _read(path)
    assert _row(table)["meter_id"] == "0001"
    assert _row(table)["p050"] == 2.5


def test_utf8_bom_and_gzip(tmp_path: Path) -> None:
    rows = [_wide_row("01", "20210901")]
    bom = _csv(tmp_path / "bom.csv", ["\ufeff电表编号", *WIDE_HEADER[1:]], rows)
    gz = _csv(tmp_path / "wide.csv.gz", WIDE_HEADER, rows)
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _read(bom).equals(_read(gz))
    assert _row(_read(gz))["date"] == date(2021, 9, 1)


def test_expand_inputs_globs_folders_and_missing_paths(tmp_path: Path) -> None:
    nested = tmp_path / "exports" / "2021" / "09"
    nested.mkdir(parents=True)
    a = _csv(tmp_path / "exports" / "a.csv", WIDE_HEADER, [_wide_row("A", "2021-09-01")])
    b = _csv(nested / "b.csv.gz", WIDE_HEADER, [_wide_row("B", "2021-09-01")])
    (tmp_path / "exports" / "notes.txt").write_text("not data")
    (tmp_path / "exports" / ".hidden.csv").write_text("x")

    assert expand_inputs(tmp_path / "exports") == [b, a]  # sorted by path: "2021/…" < "a.csv"
    assert expand_inputs(f"{tmp_path}/exports/*.csv") == [a]
    assert expand_inputs(f"{tmp_path}/exports/**/*.csv*") == [b, a]
    assert expand_inputs([a, str(a), b]) == [a, b]
    assert _read(tmp_path / "exports").column("meter_id").to_pylist() == ["B", "A"]

    with pytest.raises(InputFileError, match="file not found"):
        expand_inputs(tmp_path / "missing.csv")
    with pytest.raises(InputFileError, match="matches no file"):
        expand_inputs(f"{tmp_path}/exports/*.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="holds no"):
        expand_inputs(tmp_path / "empty")


# --------------------------------------------------------------------------- values pass through


def test_gaps_negative_and_huge_values_pass_through(tmp_path: Path) -> None:
    row = _wide_row("A", "2021-09-01")
    row[2], row[3], row[4], row[5], row[6] = "", "NULL", "NaN", -12.5, "1e30"
    path = _csv(tmp_path / "gaps.csv", WIDE_HEADER, [row])
    values = _row(_read(path))
    assert values["p001"] is None
    assert values["p002"] is None
    assert math.isnan(values["p003"])
    assert values["p004"] == -12.5
    assert values["p005"] == pytest.approx(1e30, rel=1e-6)


# --------------------------------------------------------------------------- malformed files


def test_missing_column_is_named(tmp_path: Path) -> None:
    header = [c for c in WIDE_HEADER if c != "p017"]
    row = [v for c, v in zip(WIDE_HEADER, _wide_row("A", "2021-09-01"), strict=True) if c != "p017"]
    path = _csv(tmp_path / "short.csv", header, [row])
    with pytest.raises(InputFileError) as error:
        _read(path)
    assert _problem(error, 1, "p017").reason.startswith("required column is missing")

    no_meter = _csv(tmp_path / "no_meter.csv", ["date", *SLOT_COLUMNS], [_wide_row("A", "x")[1:]])
    with pytest.raises(InputFileError, match="电表编号") as error:
        _read(no_meter)
    _problem(error, 1, "meter_id")


def test_text_in_a_number_cell_names_row_and_column(tmp_path: Path) -> None:
    rows = [_wide_row(f"M{i}", "2021-09-01") for i in range(6)]
    rows[3][2 + 16] = "abc"  # data row 4 = row 5 of the file, column p017
    path = _csv(tmp_path / "abc.csv", WIDE_HEADER, rows)
    with pytest.raises(InputFileError) as error:
        _read(path)
    assert _problem(error, 5, "p017").reason == "'abc' is not a number"
    assert len(error.value.problems) == 1
    assert "row 5, column 'p017'" in str(error.value)


def test_bad_date_and_empty_meter_id(tmp_path: Path) -> None:
    rows = [
        _wide_row("A", "2021-02-30"),
        _wide_row("", "2021-09-01"),
        _wide_row("B", "yesterday"),
        _wide_row("C", "2021-09-01"),
    ]
    path = _csv(tmp_path / "bad.csv", ["电表编号", "日期", *SLOT_COLUMNS], rows)
    with pytest.raises(InputFileError) as error:
        _read(path)
    assert "not a date" in _problem(error, 2, "日期").reason
    assert _problem(error, 3, "电表编号").reason == "meter_id is empty"
    assert "'yesterday' is not a date" in _problem(error, 4, "日期").reason
    assert len(error.value.problems) == 3


def test_bad_timestamp_and_off_grid_timestamp(tmp_path: Path) -> None:
    header = ["meter_id", "timestamp", "power_kw"]
    bad = _csv(tmp_path / "bad.csv", header, [], lines=["A,2021-09-01 00:00,1", "A,noon,2"])
    with pytest.raises(InputFileError) as error:
        _read(bad)
    assert "'noon' is not a timestamp" in _problem(error, 3, "timestamp").reason

    lines = ["A,2021-09-01 00:00,1", "A,2021-09-01 00:15,1", "A,2021-09-01 00:20,1"]
    off = _csv(tmp_path / "off.csv", header, [], lines=lines)
    with pytest.raises(InputFileError) as error:
        _read(off)
    assert "15-minute grid" in _problem(error, 4, "timestamp").reason


@pytest.mark.parametrize(
    ("old", "new", "column", "reason"),
    [
        ("2021-09-01", "2021-13-01", "date", "'2021-13-01' is not a date"),  # found by our checks
        (",1.0,", ",abc,", "p001", "'abc' is not a number"),  # pyarrow's conversion fails
        (",1.0,", ",", None, "has 97 cells; the header has 98"),  # pyarrow's parser fails
    ],
)
def test_error_deep_in_a_csv_comes_after_earlier_batches_with_exact_row(
    tmp_path: Path, old: str, new: str, column: str | None, reason: str
) -> None:
    lines = [",".join(str(v) for v in _wide_row(f"{i:05d}", "2021-09-01")) for i in range(400)]
    lines.insert(10, "")  # a blank line: skipped, but it still counts as a line of the file
    lines[350] = lines[350].replace(old, new, 1)
    path = _csv(tmp_path / "big.csv", WIDE_HEADER, [], lines=lines)
    received: list[pa.RecordBatch] = []
    batches = iter_readings(path, batch_rows=64)
    with pytest.raises(InputFileError) as error:
        received.extend(batches)
    assert received, "batches before the bad one are yielded"
    assert all(batch.num_rows <= 64 for batch in received)
    assert reason in _problem(error, 352, column).reason
    assert len(error.value.problems) == 1


def test_long_meter_days_split_across_batches_merge_back(tmp_path: Path) -> None:
    lines = [f"A,2021-09-01 {h:02d}:00,{h}" for h in range(24)]
    path = _csv(tmp_path / "long.csv", ["meter_id", "timestamp", "power_kw"], [], lines=lines)
    table = _read(path, batch_rows=5)
    assert table.num_rows == 1, "the day's readings came in five batches and make one row"
    merged = [table.column(c)[0].as_py() for c in SLOT_COLUMNS]
    assert merged == [float(h) for h in range(24) for _ in range(4)]


def test_parquet_text_values_are_checked_with_rows(tmp_path: Path) -> None:
    values = {name: pa.array(["1.5", "2", " 3 ", ""]) for name in SLOT_COLUMNS}
    values["p002"] = pa.array(["1", "2", "x1", "4"])
    table = pa.table({"meter_id": [1, 2, 3, 4], "date": ["2021-09-01"] * 4, **values})
    pq.write_table(table, tmp_path / "text.parquet")
    with pytest.raises(InputFileError) as error:
        _read(tmp_path / "text.parquet", batch_rows=2)
    assert _problem(error, 4, "p002").reason == "'x1' is not a number"


def test_unsupported_file_kind(tmp_path: Path) -> None:
    path = tmp_path / "readings.txt"
    path.write_text("meter_id,date\n")
    with pytest.raises(InputFileError, match=r"\.parquet"):
        _read(path)


# --------------------------------------------------------------------------- customers


CUSTOMER_HEADER = [
    "电表编号",
    "户号",
    "户名",
    "统一社会信用代码",
    "行政区划代码",
    "用电类别",
    "合同容量(kVA)",
    "电压等级(kV)",
]


def test_customers_with_chinese_labels_and_warnings(tmp_path: Path) -> None:
    rows = [
        ["0001", "5118240012345", "鑫源科技", make_uscc(1), "511824", "大工业", "1,250", "10"],
        ["0002", "", "张三", make_bad_uscc(2), "999999", "居民生活", "8", "0.4"],
        ["0003", "", "", "", "", "commercial", "", ""],
    ]
    path = _csv(tmp_path / "customers.csv", CUSTOMER_HEADER, rows, encoding="gb18030")
    table, warnings = read_customers(path)
    assert table.schema.equals(CUSTOMERS_SCHEMA)
    records = table.to_pylist()
    assert [r["tariff_class"] for r in records] == ["industrial", "residential", "commercial"]
    assert records[0]["contract_kva"] == 1250.0
    assert records[0]["uscc"] == make_uscc(1)
    assert records[1]["uscc"] is None
    assert records[1]["region_code"] is None
    assert records[2]["contract_kva"] is None
    assert {(w.row, w.column) for w in warnings} == {(3, "统一社会信用代码"), (3, "行政区划代码")}


def test_customer_errors_are_collected(tmp_path: Path) -> None:
    rows = [
        ["0001", "", "", "", "", "挖矿", "100", ""],
        ["0002", "", "", "", "", "工业", "lots", ""],
        ["0001", "", "", "", "", "工业", "", ""],
        ["", "", "", "", "", "工业", "", ""],
    ]
    path = _csv(tmp_path / "customers.csv", CUSTOMER_HEADER, rows)
    with pytest.raises(InputFileError) as error:
        read_customers(path)
    assert "not a tariff class" in _problem(error, 2, "用电类别").reason
    assert "'lots' is not a number" in _problem(error, 3, "合同容量(kVA)").reason
    assert "already given in row 2" in _problem(error, 4, "电表编号").reason
    assert _problem(error, 5, "电表编号").reason == "meter_id is empty"


def test_customers_from_parquet(tmp_path: Path) -> None:
    table = pa.table({"meter_id": ["0001"], "tariff_class": ["Agricultural"], "voltage_kv": [10]})
    pq.write_table(table, tmp_path / "customers.parquet")
    read, warnings = read_customers(tmp_path / "customers.parquet")
    assert read.to_pylist()[0]["tariff_class"] == "agricultural"
    assert read.to_pylist()[0]["voltage_kv"] == 10.0
    assert warnings == []


# --------------------------------------------------------------------------- weather


def test_weather_reads_aliases_and_rejects_impossible_temperatures(tmp_path: Path) -> None:
    good = _csv(
        tmp_path / "weather.csv",
        ["区划代码", "日期", "日平均气温(℃)"],
        [["511824", "2021/9/1", "21.5"], ["511824", "20210902", ""]],
    )
    table = read_weather(good)
    assert table.schema.equals(WEATHER_SCHEMA)
    assert table.to_pylist() == [
        {"region_code": "511824", "date": date(2021, 9, 1), "temp_mean_c": 21.5},
        {"region_code": "511824", "date": date(2021, 9, 2), "temp_mean_c": None},
    ]
    bad = _csv(
        tmp_path / "bad.csv",
        ["region_code", "date", "temp_mean_c"],
        [["511824", "2021-09-01", "215"], ["511824", "2021-09-02", "warm"]],
    )
    with pytest.raises(InputFileError) as error:
        read_weather(bad)
    assert "outside" in _problem(error, 2, "temp_mean_c").reason
    assert "not a number" in _problem(error, 3, "temp_mean_c").reason


# --------------------------------------------------------------------------- writing


def test_write_table_round_trips_csv_and_parquet(tmp_path: Path) -> None:
    source = _csv(tmp_path / "in.csv", WIDE_HEADER, [_wide_row("0001", "2021-09-01")])
    table = _read(source)
    write_table(table, tmp_path / "out.csv")
    write_table(table, tmp_path / "out.parquet")
    assert _read(tmp_path / "out.csv").equals(table)
    assert pq.read_table(tmp_path / "out.parquet").equals(table)
    with pytest.raises(MineWatchError, match=r"use \.csv or \.parquet"):
        write_table(table, tmp_path / "out.xlsx")


def test_write_table_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "findings.csv"
    target.write_text("old findings\n")
    unwritable = pa.table({"meter_id": ["A", "B"], "slots": [[1.0, 2.0], [3.0]]})
    with pytest.raises(pa.ArrowException):
        write_table(unwritable, target)
    assert target.read_text() == "old findings\n"
    with pytest.raises(pa.ArrowException):
        write_table(unwritable, tmp_path / "new.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.csv"]


def test_csv_module_agrees_on_quoted_cells(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(WIDE_HEADER)
        writer.writerow(_wide_row("0007", "2021-09-01"))
        writer.writerow([*_wide_row("0008", "2021-09-01")[:-1], "bad"])
    with pytest.raises(InputFileError) as error:
        _read(path)
    _problem(error, 3, "p096")
