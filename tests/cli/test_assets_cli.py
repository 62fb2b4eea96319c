"""``minewatch assets``: import a unit's inventory, list it, and the audit chain holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from minewatch.cli.app import run


def test_import_list_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "资产台账.csv"
    inventory.write_text(
        "资产编号,所属单位,使用部门,机房,机柜,IP地址,GPU数量\n"
        "A-1,某大学,计算机学院,信息楼,R1,10.8.1.21,4\nA-2,某大学,图书馆,信息楼,R2,10.8.2.5,\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "m.db")
    assert run(["--db", db, "assets", "import", str(inventory), "--dry-run"]) == 0
    assert "would import 2 server(s) of 1 unit(s)" in capsys.readouterr().out
    assert run(["--db", db, "assets", "list"]) == 0
    assert "servers (0)" in capsys.readouterr().out
    assert run(["--db", db, "assets", "import", str(inventory), "--actor", "信息中心"]) == 0
    assert run(["--db", db, "assets", "list", "--unit", "某大学"]) == 0
    listed = capsys.readouterr().out
    assert "servers (2)" in listed
    assert "10.8.1.21" in listed
    assert run(["--db", db, "audit", "verify"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("资产编号,所属单位,IP地址\nA-9,某大学,10.8.1.300\n", encoding="utf-8")
    assert run(["--db", db, "assets", "import", str(bad)]) == 2
    assert "row 2, column 'IP地址'" in capsys.readouterr().err
