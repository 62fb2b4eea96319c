"""Readings cut into parts for cluster tasks: row groups, the calendar of a part, URIs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from minewatch.errors import InputFileError
from minewatch.ingest.locations import expand_uri, is_uri, local_copy
from minewatch.ingest.meters import (
    ReadingPart,
    expand_locations,
    iter_reading_part,
    iter_readings,
    reading_days,
    reading_parts,
)
from minewatch.synth.meters import generate_meters


@pytest.fixture(scope="module")
def readings() -> pa.Table:
    return generate_meters(51, n_meters=60, days=10).readings  # 600 rows, 10 days


def test_wide_parquet_splits_at_row_groups_and_parts_read_back_whole(
    readings: pa.Table, tmp_path: Path
) -> None:
    path = tmp_path / "readings.parquet"
    pq.write_table(readings, path, row_group_size=100)
    parts = reading_parts(str(path), 250)
    groups = -(-readings.num_rows // 100)
    assert len(parts) == -(-groups // 3)  # a part closes on reaching 250 rows: 3 groups of 100
    assert [p.row_groups for p in parts] == [(g, min(g + 3, groups)) for g in range(0, groups, 3)]
    assert sum(p.rows for p in parts) == readings.num_rows
    batches = [b for part in parts for b in iter_reading_part(part, batch_rows=64)]
    together = pa.Table.from_batches(batches)
    whole = pa.Table.from_batches(list(iter_readings(path)))
    assert together.equals(whole)
    spans = [span for span in map(reading_days, parts) if span is not None]
    assert min(first for first, _ in spans) == date(2021, 9, 1)
    assert max(last for _, last in spans) == date(2021, 9, 10)


def test_a_bad_cell_in_a_later_part_names_its_row_in_the_whole_file(
    readings: pa.Table, tmp_path: Path
) -> None:
    values = readings.column("p007").cast(pa.string()).to_pylist()
    values[432] = "x"
    table = readings.set_column(
        readings.schema.get_field_index("p007"), "p007", pa.array(values, pa.string())
    )
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path, row_group_size=100)
    part = next(p for p in reading_parts(str(path), 100) if p.row_groups == (4, 5))
    with pytest.raises(InputFileError) as caught:
        list(iter_reading_part(part))
    assert "row 434" in str(caught.value)  # data row 433, after the header
    assert "p007" in str(caught.value)


def test_the_calendar_pass_reads_dates_and_names_a_bad_one(
    readings: pa.Table, tmp_path: Path
) -> None:
    dates = readings.column("date").cast(pa.string()).to_pylist()
    dates[250] = "2021-02-30"
    table = readings.set_column(1, "date", pa.array(dates, pa.string()))
    path = tmp_path / "dates.parquet"
    pq.write_table(table, path, row_group_size=100)
    parts = reading_parts(str(path), 100)
    assert reading_days(parts[0]) == (date(2021, 9, 1), date(2021, 9, 10))
    with pytest.raises(InputFileError, match="row 252"):
        reading_days(parts[2])


def test_long_and_csv_files_are_one_part(readings: pa.Table, tmp_path: Path) -> None:
    csv = tmp_path / "readings.csv"
    pacsv.write_csv(readings, csv)
    (part,) = reading_parts(str(csv), 10)
    assert part == ReadingPart(str(csv), None, -1)
    assert sum(b.num_rows for b in iter_reading_part(part)) == readings.num_rows
    assert reading_days(part) == (date(2021, 9, 1), date(2021, 9, 10))
    long = pa.table(
        {
            "meter_id": ["A", "A", "A", "A"],
            "timestamp": ["2021-09-01 00:00", "2021-09-01 00:15", "2021-09-02 00:00",
                          "2021-09-02 00:15"],
            "power_kw": [1.0, 1.0, 2.0, 2.0],
        }
    )  # fmt: skip
    path = tmp_path / "long.parquet"
    pq.write_table(long, path, row_group_size=1)
    (whole,) = reading_parts(str(path), 1)
    assert whole.row_groups is None
    assert reading_days(whole) == (date(2021, 9, 1), date(2021, 9, 2))


def test_uris_are_listed_and_read_through_their_filesystem(
    readings: pa.Table, tmp_path: Path
) -> None:
    (tmp_path / "2021-09").mkdir()
    for week in (1, 2):
        pq.write_table(readings.slice(0, 300), tmp_path / "2021-09" / f"w{week}.parquet")
    (tmp_path / "2021-09" / "_SUCCESS").write_text("", encoding="utf-8")
    (tmp_path / "2021-09" / "notes.txt").write_text("", encoding="utf-8")
    uri = f"file://{tmp_path}/2021-09"
    assert is_uri(uri)
    assert not is_uri(str(tmp_path))
    listed = expand_locations(uri)
    assert listed == [f"{uri}/w1.parquet", f"{uri}/w2.parquet"]
    assert expand_uri(f"{uri}/w2*", (".parquet",)) == [f"{uri}/w2.parquet"]
    parts = reading_parts(listed[0], 1_000)
    assert sum(b.num_rows for p in parts for b in iter_reading_part(p)) == 300
    with pytest.raises(InputFileError, match="holds no"):
        expand_uri(f"{uri}/none*", (".parquet",))
    with pytest.raises(InputFileError, match="file not found"):
        expand_uri(f"file://{tmp_path}/missing", (".parquet",))
    with local_copy(f"file://{tmp_path}/2021-09/notes.txt") as copy:
        assert copy.exists()
        assert copy.parent != tmp_path / "2021-09"
    assert not copy.exists()
