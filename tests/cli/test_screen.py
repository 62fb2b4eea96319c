"""``minewatch screen``: a list of connection applications screened against the demo's cases."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import make_confirmed_case, make_uscc
from minewatch.cli.app import run
from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_connection_applications_are_held_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    with session_scope(open_database(f"sqlite:///{db}")) as session:
        make_confirmed_case(session)
    applications = tmp_path / "applications.csv"
    applications.write_text(
        "reference,name,uscc,address,declared_load_kw,daily_hours,industry\n"
        f"BZ-1,换了名字的公司,{make_uscc(1)},,200,8,机械加工\n"
        "BZ-2,某算力科技有限公司,,四川省成都市高新区天府大道100号,3000,24,数据中心\n"
        "BZ-3,某面粉厂,,四川省成都市双流区某路1号,300,16,食品加工\n",
        encoding="utf-8",
    )
    out = tmp_path / "decisions.csv"
    code, printed, err = _run(capsys, "--db", str(db), "screen", "connections",
                              "--in", str(applications), "--out", str(out))  # fmt: skip
    assert code == 0, err
    rows = {
        r["reference"]: r for r in csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())
    }
    assert rows["BZ-1"]["decision"] == "hold"
    assert "credit code" in rows["BZ-1"]["reasons"]
    assert rows["BZ-2"]["decision"] == "hold"
    assert "looks like mining" in rows["BZ-2"]["reasons"]
    assert rows["BZ-3"]["decision"] == "pass"
    assert "2 of 3 held" in printed
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,name,declared_load_kw\nX1,某厂,很多\n", encoding="utf-8")
    code, printed, err = _run(capsys, "--db", str(db), "screen", "connections", "--in", str(bad),
                              "--out", str(tmp_path / "never.csv"))  # fmt: skip
    assert code != 0
    assert "row 2" in printed + err
    assert "declared_load_kw" in printed + err
    assert not (tmp_path / "never.csv").exists()
