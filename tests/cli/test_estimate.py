"""``minewatch estimate network|site|declarations`` end to end, through ``run``."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from conftest import make_entry
from minewatch.cli.app import run
from minewatch.domain.db import make_engine, session_scope
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.migrate import upgrade_database
from minewatch.ingest.schemas import SLOT_COLUMNS
from minewatch.reference.ledger import ProjectStatus


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_network_from_a_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "estimate", "network", "--hashrate-ehs", "166.84", "--price-usd-kwh", "0.05",
        "--threshold-j-gh", "0.2274", "--date", "2021-05-14",
    )  # fmt: skip
    assert code == 0, err
    assert "盈利阈值 0.2274 J/GH" in out
    assert "盈利机型 79 种" in out
    assert "4.98" in out
    assert "14.68" in out
    assert "33.37" in out


def test_network_from_revenue_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    # The revenue that stands for the reference's 0.1974 J/GH on 2021-07-01.
    revenue = 0.1974 * 1000 * (0.05 / 3.6e6) * 95.12e6 * 86_400
    code, out, err = _run(
        capsys, "--lang", "en", "estimate", "network", "--hashrate-ehs", "95.12",
        "--price-usd-kwh", "0.05", "--revenue-usd-day", f"{revenue:.2f}", "--date", "2021-07-01",
    )  # fmt: skip
    assert code == 0, err
    assert "profitability threshold 0.1974 J/GH" in out
    assert "2.84" in out
    assert "8.37" in out
    assert "19.02" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--hashrate-ehs", "95"],  # neither threshold nor revenue
        ["--hashrate-ehs", "95", "--threshold-j-gh", "0.2", "--revenue-usd-day", "1e7",
         "--price-usd-kwh", "0.05"],  # both
        ["--hashrate-ehs", "95", "--revenue-usd-day", "1e7"],  # revenue without a price
        ["--hashrate-ehs", "95", "--threshold-j-gh", "0.2", "--date", "14/05/2021"],
    ],
)  # fmt: skip
def test_network_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, _ = _run(capsys, "estimate", "network", *argv)
    assert code == 2


def test_network_without_profitable_hardware(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "estimate", "network", "--hashrate-ehs", "95", "--threshold-j-gh", "0.001",
        "--date", "2021-07-01",
    )  # fmt: skip
    assert code == 1
    assert "no machine of the hardware list" in err


def test_site_from_machines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "estimate", "site", "--machines", "Antminer S19:120,Whatsminer M30S:40,Foo X1:3"
    )
    assert code == 0, err
    assert "已知机型 160 台" in out
    assert f"{(120 * 3.25 + 40 * 3.344):,.1f}" in out  # nameplate at the wall
    assert "14.92 PH/s" in out  # 120 × 95 + 40 × 88 TH/s
    assert "未知机型，未计入：Foo X1 × 3" in out
    assert "PUE 1.01/1.1/1.2" in out


def test_site_from_hashrate_and_from_power(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "--lang", "en", "estimate", "site", "--hashrate", "12 PH/s", "--algorithm",
        "SHA-256", "--date", "2021-06-01",
    )  # fmt: skip
    assert code == 0, err
    assert "Power from a hash rate of 12 PH/s (SHA-256)" in out
    assert "14 catalogue models released by 2021-06-01" in out
    code, out, err = _run(capsys, "estimate", "site", "--power-kw", "500", "--algorithm", "BTC")
    assert code == 0, err
    assert "按功率 500.0 kW（SHA-256）估算算力" in out
    assert "PH/s" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--machines", "Antminer S19:1", "--power-kw", "5"],
        ["--power-kw", "500"],  # no algorithm
        ["--power-kw", "500", "--algorithm", "RandomX"],
        ["--hashrate", "12 parsecs", "--algorithm", "SHA-256"],
        ["--machines", "Antminer S19"],  # no count
    ],
)
def test_site_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, _ = _run(capsys, "estimate", "site", *argv)
    assert code == 2


# --------------------------------------------------------------------------- declarations


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    """Three projects: one honest (account A-1), one under-declared (A-2), one shut down."""
    path = tmp_path / "ledger.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with session_scope(engine) as session:
        for entry in (
            make_entry(1, grid_account_no="A-1"),
            make_entry(2, grid_account_no="A-2"),
            make_entry(3, grid_account_no="A-3", status=ProjectStatus.SHUT_DOWN),
        ):
            save_entry(session, entry, actor="测试")
    engine.dispose()
    return path


def test_declarations_from_energy_per_account(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    energy = tmp_path / "energy.csv"
    energy.write_text(
        "户号,月份,用电量(kWh)\n"
        "A-1,2021-09,288000\nA-1,2021-10,297600\n"  # 400 kW
        "A-2,2021-09,648000\nA-2,2021-10,669600\n"  # 900 kW
        "A-3,2021-09,648000\n",
        encoding="utf-8",
    )
    out = tmp_path / "findings.csv"
    code, printed, err = _run(
        capsys, "--db", str(ledger_db), "estimate", "declarations", "--readings", str(energy),
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "核对 2 个项目" in printed
    assert "1 个申报低于计量或设备所示" in printed
    assert "declaration.power_below_metered(gap_kw=479.5" in printed
    rows = pacsv.read_csv(out).to_pylist()
    assert [r["grid_account_no"] for r in rows] == ["A-2", "A-1"]
    assert rows[0]["flagged"] is True
    assert rows[1]["flagged"] is False
    assert rows[0]["metered_mean_kw"] == pytest.approx(900.0)
    evidence = json.loads(rows[0]["evidence"])
    assert evidence["findings"]["declaration.power_below_metered"]["gap_kwh"] == pytest.approx(
        479.5 * 1464
    )
    # A window, and the shut-down project too.
    code, printed, err = _run(
        capsys, "--db", str(ledger_db), "--lang", "en", "estimate", "declarations",
        "--readings", str(energy), "--from", "2021-10-01", "--to", "2021-10-31", "--all",
    )  # fmt: skip
    assert code == 0, err
    assert "3 project(s) checked (catalogue as of 2021-10-31): 1 declare less" in printed


def _curves(path: Path, meters: dict[str, float], days: int) -> None:
    lines = ["meter_id,date," + ",".join(SLOT_COLUMNS)]
    for meter, kw in meters.items():
        for i in range(days):
            day = date(2021, 9, 1) + timedelta(days=i)
            lines.append(f"{meter},{day}," + ",".join([f"{kw}"] * 96))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_declarations_from_load_curves_and_the_customer_archive(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curves = tmp_path / "curves.csv"
    _curves(curves, {"M-1": 400.0, "M-2": 1200.0, "M-9": 5000.0}, days=10)
    archive = tmp_path / "archive.csv"
    archive.write_text("meter_id,account_no\nM-1,A-1\nM-2,A-2\nM-9,Z-9\n", encoding="utf-8")
    out = tmp_path / "findings.jsonl"
    code, printed, err = _run(
        capsys, "--db", str(ledger_db), "estimate", "declarations", "--readings", str(curves),
        "--customers", str(archive), "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    flagged = {r["grid_account_no"]: r for r in rows if r["flagged"]}
    assert set(flagged) == {"A-2"}
    assert flagged["A-2"]["metered_mean_kw"] == pytest.approx(1200.0)
    assert flagged["A-2"]["metered_covered_h"] == pytest.approx(240.0)
    # Without the archive the meter ids are not the accounts: nothing metered, nothing flagged.
    code, printed, err = _run(
        capsys, "--db", str(ledger_db), "estimate", "declarations", "--readings", str(curves)
    )
    assert code == 0, err
    assert "0 个申报低于计量或设备所示；2 个无计量数据" in printed


def test_declarations_refuse_a_bad_file_with_its_row(
    ledger_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    energy = tmp_path / "energy.csv"
    energy.write_text("户号,月份,用电量\nA-1,2021-09,abc\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "--db", str(ledger_db), "estimate", "declarations", "--readings", str(energy)
    )
    assert code == 2
    assert "row 2, column '用电量'" in err
    code, _, err = _run(
        capsys, "--db", str(ledger_db), "estimate", "declarations", "--readings", str(energy),
        "--out", str(tmp_path / "f.xlsx"),
    )  # fmt: skip
    assert code == 1
    assert "must end in .csv, .parquet or .jsonl" in err
