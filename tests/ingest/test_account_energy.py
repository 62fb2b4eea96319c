"""Metered energy per grid account: months, day ranges, Chinese headers, errors by row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from minewatch.errors import InputFileError
from minewatch.ingest.account_energy import is_account_energy_file, read_account_energy
from minewatch.ingest.schemas import ACCOUNT_ENERGY_SCHEMA


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "e.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def test_months_with_chinese_headers_in_gb18030(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '户号,月份,用电量(kWh)\n5118240012345,2021年9月,"290,000"\n5118240012345,202110,300000\n'
        "７７７,2021-02,1000 kWh\n",
        encoding="gb18030",
    )
    table = read_account_energy(path)
    assert table.schema == ACCOUNT_ENERGY_SCHEMA
    rows = table.to_pylist()
    assert rows[0] == {
        "account_no": "5118240012345", "meter_id": None, "start_date": date(2021, 9, 1),
        "end_date": date(2021, 9, 30), "energy_kwh": 290_000.0, "covered_h": 720.0,
    }  # fmt: skip
    assert rows[1]["end_date"] == date(2021, 10, 31)
    assert rows[2]["account_no"] == "777"
    assert rows[2]["covered_h"] == 28 * 24


def test_day_ranges_and_single_days(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "account_no,meter_id,start_date,end_date,period,energy_kwh\n"
        "A1,M1,2021-09-01,2021-09-10,,2400\n"
        "A1,M2,,,2021-09-05,24\n",
    )
    rows = read_account_energy(path).to_pylist()
    assert (rows[0]["covered_h"], rows[0]["meter_id"]) == (240.0, "M1")
    assert (rows[1]["start_date"], rows[1]["end_date"], rows[1]["covered_h"]) == (
        date(2021, 9, 5), date(2021, 9, 5), 24.0,
    )  # fmt: skip


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"户号": ["A"], "月份": ["2021-09"], "用电量": [1.5]}), path)
    assert is_account_energy_file(path)
    assert read_account_energy(path).column("energy_kwh").to_pylist() == [1.5]


def test_every_problem_is_named_with_row_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "户号,起始日期,截止日期,用电量\n"
        "A,2021-09-01,2021-09-30,100\n"  # row 2: fine
        ",2021-09-01,2021-09-30,100\n"  # row 3: no account
        "B,2021-09-30,2021-09-01,100\n"  # row 4: ends before it starts
        "C,2021-09-01,2021-09-30,-5\n"  # row 5: negative
        "D,2021-13-01,2021-09-30,5\n"  # row 6: not a date
        "A,2021-09-15,2021-10-15,100\n"  # row 7: overlaps row 2
        "E,,2021-09-30,abc\n",  # row 8: no start, energy not a number
    )
    with pytest.raises(InputFileError) as error:
        read_account_energy(path)
    assert _problems(error) == [
        (3, "户号"),
        (4, "截止日期"),
        (5, "用电量"),
        (6, "起始日期"),
        (7, "起始日期"),
        (8, "用电量"),
        (8, "起始日期"),
    ]
    assert "overlaps row 2" in str(error.value)
    assert "nothing was imported" in str(error.value)


def test_a_file_without_a_period_or_energy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="period column"):
        read_account_energy(_write(tmp_path, "户号,用电量\nA,1\n"))
    with pytest.raises(InputFileError) as error:
        read_account_energy(_write(tmp_path, "户号,月份\nA,2021-09\n"))
    assert _problems(error) == [(1, "energy_kwh")]


def test_load_curves_are_not_an_account_table(tmp_path: Path) -> None:
    curves = _write(tmp_path, "meter_id,date," + ",".join(f"p{i:03d}" for i in range(1, 97)) + "\n")
    assert not is_account_energy_file(curves)
    assert not is_account_energy_file(tmp_path / "missing.csv")
    assert not is_account_energy_file(tmp_path)
