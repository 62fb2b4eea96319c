"""``minewatch case`` end to end: fuse, assign, check, confirm, measures, clear, re-check."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from conftest import at
from minewatch.cli.app import run
from minewatch.domain.db import session_scope
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.migrate import open_database


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_case_walks_from_lead_to_rechecked_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cases.db"
    with session_scope(open_database(f"sqlite:///{db}")) as session:
        record_leads(
            session,
            [LeadData(source="meters", subject="M1", score=0.9, category="mining",
                      reasons="meters.flat_24x7", evidence={}, region_code="511824",
                      account_no="5118240012345", est_start_date=date(2021, 10, 1))],
            actor="analyst",
            at=at("2021-10-20"),
        )  # fmt: skip
    base = ("--db", str(db), "--lang", "en", "case")
    code, out, err = _run(capsys, *base, "fuse", "--as", "analyst")
    assert code == 0, err
    assert "1 case(s) opened" in out
    code, out, _ = _run(capsys, *base, "list")
    found = re.search(r"MW511824\d{4}000001", out)
    assert found is not None, out
    case_no = found.group(0)
    # no role given: refused before anything is written
    monkeypatch.delenv("MINEWATCH_ROLE", raising=False)
    code, _, err = _run(capsys, *base, "assign", case_no, "511824")
    assert code != 0
    assert "--role" in err
    code, _, err = _run(capsys, *base, "assign", case_no, "511824", "--role", "county",
                        "--region", "511824")  # fmt: skip
    assert code != 0
    assert "may not assign" in err
    monkeypatch.setenv("MINEWATCH_ROLE", "provincial")
    monkeypatch.setenv("MINEWATCH_REGION", "510000")
    code, out, err = _run(capsys, *base, "assign", case_no, "511824", "--as", "张敏")
    assert code == 0, err
    assert "assigned" in out
    county = ("--role", "county", "--region", "511824", "--as", "李强")
    code, out, err = _run(capsys, *base, "check", case_no, "--date", "2021-10-25",
                          "--inspector", "赵刚", "--inspector", "孙丽", "--outcome",
                          "mining_found", "--rigs", "Antminer S19 Pro=100",
                          "--rigs", "Whatsminer M30S=20", *county)  # fmt: skip
    assert code == 0, err
    code, out, err = _run(capsys, *base, "confirm", case_no, *county)
    assert code == 0, err
    code, out, err = _run(capsys, *base, "order", case_no, "--measure", "power_cut:2099-11-05",
                          "--measure", "surcharge:2099-11-30", *county)  # fmt: skip
    assert code == 0, err
    for kind in ("power_cut", "surcharge"):
        code, out, err = _run(capsys, *base, "complete", case_no, "--measure", kind, *county)
        assert code == 0, err
    assert "measures_completed" in out
    code, out, err = _run(capsys, *base, "clear", case_no, *county)
    assert code == 0, err
    code, out, err = _run(capsys, *base, "recheck", case_no, "--date", "2021-12-20",
                          "--inspector", "赵刚", "--outcome", "no_mining", *county)  # fmt: skip
    assert code == 0, err
    assert "rechecked" in out
    code, out, _ = _run(capsys, *base, "show", case_no, "--role", "county")
    assert "clause 十二" in out
    assert "120 rigs" in out
    labels = tmp_path / "labels.csv"
    code, out, err = _run(capsys, *base, "labels", "--out", str(labels))
    assert code == 0, err
    assert "meters,M1,mining," in labels.read_text(encoding="utf-8-sig")
    code, out, err = _run(capsys, "--db", str(db), "audit", "verify")
    assert code == 0, out + err
    code, _, err = _run(capsys, *base, "rigs-typo")
    assert code != 0
