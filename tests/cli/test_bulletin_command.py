"""``minewatch bulletin`` end to end: workbook, PDF and assessment export from a database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulletin_world import build
from minewatch.cli.app import run
from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "bulletin.db"
    with session_scope(open_database(f"sqlite:///{path}")) as session:
        build(session)
    return path


def test_bulletin_writes_workbook_pdf_and_assessment(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx, pdf, assessment = tmp_path / "w.xlsx", tmp_path / "w.pdf", tmp_path / "a.csv"
    code, out, err = _run(
        capsys, "--db", str(db), "bulletin", "--week", "2021-W43", "--region", "510000",
        "--xlsx", str(xlsx), "--pdf", str(pdf), "--assessment", str(assessment),
        "--now", "2022-01-01T00:00:00+00:00",
    )  # fmt: skip
    assert code == 0, err
    assert "四川省虚拟货币“挖矿”整治工作周报（2021年第43周）" in out
    assert "1 confirmed" in out
    assert "4 case(s)" in out
    book = load_workbook(xlsx)
    assert book.sheetnames == ["汇总", "逾期案件", "说明"]
    headers = [c.value for c in book["汇总"][3]]
    province = [c.value for c in book["汇总"][4]]
    assert province[headers.index("累计认定")] == 2
    assert pdf.read_bytes().startswith(b"%PDF-")
    with assessment.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(len(r["confirmed_at"].split(";")) for r in rows if r["confirmed_at"]) == 2


def test_bulletin_by_name_and_as_json(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "a.json"
    code, out, err = _run(
        capsys, "--db", str(db), "bulletin", "--week", "2021-10-20", "--region", "雅安市",
        "--assessment", str(out_json), "--now", "2022-01-01T00:00:00",
    )  # fmt: skip
    assert code == 0, err
    assert "四川省雅安市虚拟货币“挖矿”整治工作周报（2021年第42周）" in out
    document = json.loads(out_json.read_text(encoding="utf-8"))
    assert document["region_code"] == "511800"
    assert len(document["cases"]) == 3  # 锦江区's case lies in 成都


def test_bulletin_refuses_a_bad_week_or_region(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "--db", str(db), "bulletin", "--week", "2021-W60",
                        "--region", "510000")  # fmt: skip
    assert code == 1
    assert "no ISO week 60" in err
    code, _, err = _run(capsys, "--db", str(db), "bulletin", "--week", "2021-W43",
                        "--region", "519999")  # fmt: skip
    assert code == 1
    assert "519999" in err
