"""The command line end to end, through ``run`` (what the console script calls)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import make_bad_uscc, make_entry
from minewatch.cli.app import run
from minewatch.ingest.ledger_xlsx import write_ledger_xlsx


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "demo.db"
    code, out, _ = _run(
        capsys, "demo", "--db-file", str(path), "--projects", "60", "--weeks", "4", "--meters", "0"
    )
    assert code == 0, out
    return path


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0
    assert out.startswith("minewatch ")
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    assert "ledger" in out
    assert "audit" in out


def test_demo_prints_the_weekly_summary_and_a_sound_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "demo", "--db-file", str(tmp_path / "d.db"), "--projects", "60", "--weeks", "4",
        "--meters", "600",
    )  # fmt: skip
    assert code == 0
    assert "四川省" in out
    assert "雅安市" in out
    assert "虚拟货币“挖矿”项目台账周报" in out
    assert "疑似挖矿电表" in out, "the demo scans a prefecture's meters"
    assert "meters.new_constant_load" in out or "meters.flat_24x7" in out
    assert "leads recorded:" in out
    assert "挖矿流量" in out, "the demo scans a server room's capture"
    assert "8 of 8 mining flows found, 0 false alarms" in out
    assert "leads recorded: 8 new, 8 linked to" in out, "traced to the unit, its leads linked"
    assert "audit chain intact" in out


def test_db_upgrade_creates_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.db"
    code, out, _ = _run(capsys, "--db", str(path), "db", "upgrade")
    assert code == 0
    assert "revision" in out
    assert path.exists()
    code, out, _ = _run(capsys, "--db", str(path), "db", "current")
    assert code == 0
    assert "(empty)" not in out


def test_snapshot_diff_in_both_languages(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--db", str(demo_db), "ledger", "snapshot", "--depth", "2")
    assert code == 0
    assert "在运" in out
    assert "全国" in out
    # the generated history ends in 2021-W42; the demo's confirmed cases enter the ledger today
    code, out, _ = _run(capsys, "--db", str(demo_db), "--lang", "en", "ledger", "diff",
                        "--week", "2021-W42", "--within", "四川省")  # fmt: skip
    assert code == 0
    assert "Operating" in out
    assert "Changes this week" in out
    assert "status operating→shut down" in out or "status shut down→cleared" in out
    code, out, _ = _run(capsys, "--db", str(demo_db), "--lang", "en", "ledger", "diff")
    assert code == 0
    assert "│ new " in out, "the cases confirmed by the demo are this week's new projects"
    code, out, _ = _run(capsys, "--db", str(demo_db), "ledger", "diff", "--week", "2021-W42",
                        "--limit", "50")  # fmt: skip
    assert code == 0
    assert "状态 " in out, "changed fields are named by their workbook headers"
    assert "status" not in out
    code, _, err = _run(capsys, "--db", str(demo_db), "ledger", "snapshot", "--week", "soon")
    assert code == 1
    assert "soon" in err


def test_export_then_import_into_a_fresh_database(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = tmp_path / "台账.xlsx"
    code, out, _ = _run(capsys, "--db", str(demo_db), "ledger", "export", str(workbook))
    assert code == 0
    assert workbook.exists()
    exported = int(out.split("wrote ")[1].split()[0])
    fresh = tmp_path / "fresh.db"
    code, out, _ = _run(
        capsys, "--db", str(fresh), "ledger", "import", str(workbook), "--actor", "省发改委"
    )
    assert code == 0, out
    assert f"imported {exported} rows: {exported} new" in out
    code, out, _ = _run(capsys, "--db", str(fresh), "ledger", "import", str(workbook))
    assert f"{exported} unchanged" in out
    code, out, _ = _run(capsys, "--db", str(fresh), "audit", "verify")
    assert code == 0


def test_audit_verify_catches_a_hand_edited_row(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--db", str(demo_db), "audit", "verify")
    assert code == 0
    assert "intact" in out
    with sqlite3.connect(demo_db) as connection:
        (project_code,) = connection.execute(
            "SELECT code FROM project ORDER BY id LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE project SET rated_power_kw = 1 WHERE code = ?", (project_code,))
        connection.execute("UPDATE audit_event SET actor = 'nobody' WHERE seq = 7")
    code, out, _ = _run(capsys, "--db", str(demo_db), "audit", "verify")
    assert code == 1
    assert "BROKEN" in out
    assert project_code in out
    assert "event 7" in out


def test_bad_workbook_names_row_and_column_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = tmp_path / "bad.xlsx"
    write_ledger_xlsx([make_entry(1), make_entry(2, enterprise_uscc=make_bad_uscc(2))], workbook)
    db = tmp_path / "x.db"
    assert _run(capsys, "--db", str(db), "db", "upgrade")[0] == 0
    code, _, err = _run(capsys, "--db", str(db), "ledger", "import", str(workbook))
    assert code == 2
    assert "row 3" in err or "row 4" in err
    assert "统一社会信用代码" in err
    assert "nothing was imported" in err
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM project").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM audit_event").fetchone() == (0,)


def test_missing_workbook_and_unknown_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "--db", str(tmp_path / "x.db"), "ledger", "import", str(tmp_path / "no.xlsx")
    )
    assert code == 2
    assert "no.xlsx" in err
    code, _, err = _run(
        capsys,
        "--db",
        str(tmp_path / "x.db"),
        "ledger",
        "export",
        str(tmp_path / "o.xlsx"),
        "--within",
        "火星市",
    )
    assert code == 1
    assert "火星市" in err


def test_default_secret_is_refused_in_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINEWATCH_ENVIRONMENT", "production")
    code, _, err = _run(capsys, "--db", str(tmp_path / "x.db"), "db", "upgrade")
    assert code == 1
    assert "MINEWATCH_SECRET_KEY" in err


def test_reference_lookups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "regions", "lookup", "511824")
    assert code == 0
    assert "四川省雅安市石棉县" in out
    code, out, _ = _run(capsys, "regions", "lookup", "110103")
    assert code == 0
    assert "110101" in out
    code, out, _ = _run(capsys, "regions", "lookup", "朝阳区")
    assert code == 0
    assert "110105" in out
    assert "220104" in out
    code, out, _ = _run(
        capsys, "enterprise", "check-code", make_entry(1).enterprise_uscc, make_bad_uscc(2)
    )
    assert code == 1
    assert "valid (registered in 四川省雅安市石棉县)" in out
    assert "invalid" in out


def test_dual_control_tally_on_the_demo_ledger(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--db", str(demo_db), "--lang", "en", "ledger", "dual-control",
                          "--from", "2021-09-01", "--to", "2021-12-31")  # fmt: skip
    assert code == 0, err
    assert "000000" in out
    assert "GB/T 2589" in out
    code, _, err = _run(capsys, "--db", str(demo_db), "ledger", "dual-control", "--from",
                        "2021-09-01", "--to", "2021-12-31", "--factor", "0.5")  # fmt: skip
    assert code != 0
    assert "VALUE:SOURCE" in err
