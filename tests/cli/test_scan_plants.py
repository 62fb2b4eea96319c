"""``minewatch scan plants`` end to end on generated basins, with leads, and its errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from minewatch.cli.app import run
from minewatch.synth.plants import PlantSynthParams, generate_plants, write_plant_basins


@pytest.fixture(scope="module")
def basins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("basins")
    params = PlantSynthParams(basins=2, plants_per_basin=(5, 6))
    write_plant_basins(generate_plants(9300, params), folder, fmt="csv")
    return folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scan_plants_writes_findings_status_and_leads(
    basins: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, status, db = tmp_path / "findings.csv", tmp_path / "status.parquet", tmp_path / "l.db"
    code, printed, err = _run(
        capsys, "--db", str(db), "--lang", "en", "scan", "plants",
        "--generation", str(basins / "generation.csv"), "--plants", str(basins / "plants.csv"),
        "--inflow", str(basins / "inflow.csv"), "--dispatch", str(basins / "events.csv"),
        "--out", str(out), "--status", str(status), "--leads",
    )  # fmt: skip
    assert code == 0, err
    truth = pacsv.read_csv(basins / "truth.csv").to_pylist()
    diverters = {row["plant_id"] for row in truth if row["diverting"]}
    findings = pacsv.read_csv(out).to_pylist()
    found = {row["plant_id"] for row in findings}
    assert found == diverters  # this seed's diverters, and nothing else
    statuses = pq.read_table(status).to_pylist()
    assert len(statuses) == len(truth)
    assert {r["plant_id"] for r in statuses if r["status"] == "finding"} == diverters
    assert f"{len(diverters)} short for no recorded reason" in printed + err
    with sqlite3.connect(db) as connection:
        leads = connection.execute(
            "SELECT subject, source, est_mining_kw, est_rigs, evidence_json FROM lead "
            "ORDER BY subject"
        ).fetchall()
    assert [subject for subject, *_ in leads] == sorted(f"plant:{p}" for p in diverters)
    assert all(source == "plants" and kw and kw > 0 and rigs for _, source, kw, rigs, _ in leads)
    # each lead keeps the weekly expected and delivered energy for the case page's chart
    for *_, evidence_json in leads:
        series = json.loads(evidence_json)["series"]
        assert series["bin_days"] == 7
        assert len(series["expected_kwh"]) == len(series["observed_kwh"]) > 4
        shortfall = [
            e - o for e, o in zip(series["expected_kwh"], series["observed_kwh"], strict=True)
            if e is not None and o is not None
        ]  # fmt: skip
        assert max(shortfall) > 0
    # a second scan refreshes the same leads
    code, printed, err = _run(
        capsys, "--db", str(db), "--lang", "en", "scan", "plants",
        "--generation", str(basins / "generation.csv"), "--plants", str(basins / "plants.csv"),
        "--inflow", str(basins / "inflow.csv"), "--dispatch", str(basins / "events.csv"),
        "--out", str(out), "--leads",
    )  # fmt: skip
    assert code == 0, err
    assert f"leads: 0 new, 0 updated, {len(diverters)} unchanged" in printed + err


def test_a_bad_plants_file_names_row_and_column_and_writes_nothing(
    basins: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plants = (basins / "plants.csv").read_text("utf-8").splitlines()
    header = plants[0].split(",")
    capacity = header.index('"capacity_kw"')
    broken = plants[2].split(",")
    broken[capacity] = "lots"
    bad = tmp_path / "plants.csv"
    bad.write_text("\n".join([plants[0], plants[1], ",".join(broken), *plants[3:]]), "utf-8")
    out = tmp_path / "findings.csv"
    code, _, err = _run(
        capsys, "--lang", "en", "scan", "plants", "--generation", str(basins / "generation.csv"),
        "--plants", str(bad), "--out", str(out),
    )  # fmt: skip
    assert code != 0
    assert "plants.csv" in err
    assert "row 3" in err
    assert "capacity" in err
    assert not out.exists()


def test_the_findings_file_must_be_csv_or_parquet(
    basins: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "scan", "plants", "--generation", str(basins / "generation.csv"),
        "--plants", str(basins / "plants.csv"), "--out", str(tmp_path / "out.xlsx"),
    )  # fmt: skip
    assert code != 0
    assert "out.xlsx" in err
