"""``minewatch scan meters`` end to end, with leads, and its errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from minewatch.cli.app import run
from minewatch.synth.meters import generate_meters, write_meter_province

COLUMNS = ["meter_id", "score", "suspected", "category", "est_start_date", "est_mining_kw",
           "est_rigs", "est_hashrate_ths", "reasons"]  # fmt: skip


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    write_meter_province(generate_meters(31, n_meters=500, days=21), folder, fmt="parquet")
    return folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scan_writes_one_row_per_meter_and_records_leads(
    exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "findings.csv"
    db = tmp_path / "leads.db"
    code, printed, err = _run(
        capsys, "--db", str(db), "scan", "meters", "--readings", str(exports / "readings.parquet"),
        "--customers", str(exports / "customers.csv"), "--weather", str(exports / "weather.csv"),
        "--out", str(out), "--leads", "--actor", "电网公司",
    )  # fmt: skip
    assert code == 0, err
    findings = pacsv.read_csv(out)
    assert findings.column_names[: len(COLUMNS)] == COLUMNS
    assert findings.num_rows == 500
    suspected = sum(findings.column("suspected").to_pylist())
    truth = pacsv.read_csv(exports / "truth.csv")
    mining = sum(truth.column("is_mining").to_pylist())
    assert suspected >= 0.8 * mining
    assert "suspected" in printed
    assert "leads:" in printed
    with sqlite3.connect(db) as connection:
        (leads,) = connection.execute("SELECT count(*) FROM lead").fetchone()
        (events,) = connection.execute(
            "SELECT count(*) FROM audit_event WHERE entity_type = 'lead'"
        ).fetchone()
        evidence = [json.loads(row[0]) for row in connection.execute(
            "SELECT evidence_json FROM lead"
        )]  # fmt: skip
    assert leads == suspected
    assert events == suspected
    # each lead carries its meter's load curve over the 21 days scanned, for the case page
    for found in evidence:
        series = found["series"]
        assert len(series["daily_kwh"]) == 21
        assert len(series["floor_kw"]) == 21
        assert len(series["profile_after_kw"]) == 24
        assert series["first_date"] == "2021-09-01"
    assert any(found["series"]["start_date"] for found in evidence)
    code, printed, _ = _run(capsys, "--db", str(db), "audit", "verify")
    assert code == 0


def test_parquet_output(exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "findings.parquet"
    code, _, err = _run(capsys, "scan", "meters", "--readings", str(exports), "--out", str(out))
    assert code == 2, "the folder holds the archive too: named as not a load curve"
    assert "customers.csv" in err
    code, _, err = _run(
        capsys, "scan", "meters", "--readings", str(exports / "readings.parquet"), "--out", str(out)
    )
    assert code == 0, err
    assert pq.read_table(out).num_rows == 500


def test_bad_output_name_and_bad_archive(
    exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readings = str(exports / "readings.parquet")
    code, _, err = _run(capsys, "scan", "meters", "--readings", readings, "--out", "x.txt")
    assert code == 1
    assert ".csv or .parquet" in err
    archive = tmp_path / "customers.csv"
    table = pacsv.read_csv(exports / "customers.csv")
    tariffs = table.column("tariff_class").to_pylist()
    tariffs[2] = "挖矿电价"  # row 4 of the file (the header is row 1)
    index = table.column_names.index("tariff_class")
    pacsv.write_csv(table.set_column(index, "tariff_class", pa.array(tariffs)), archive)
    code, _, err = _run(
        capsys, "scan", "meters", "--readings", readings, "--customers", str(archive),
        "--out", str(tmp_path / "f.csv"),
    )  # fmt: skip
    assert code == 2
    assert "row 4" in err
    assert "tariff_class" in err
    assert not (tmp_path / "f.csv").exists(), "nothing is written when the input is bad"
