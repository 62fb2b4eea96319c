"""A unit's server inventory (资产台账): read from Excel or CSV, every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from minewatch.errors import InputFileError
from minewatch.ingest.assets import read_assets

HEADER = ["资产编号", "所属单位", "使用部门", "机房", "机柜", "主机名", "IP地址", "MAC地址",
          "责任人", "用途", "CPU数量", "GPU数量"]  # fmt: skip
GOOD = [
    ["A-001", "某某大学", "计算机学院", "信息楼3层机房", "R12", "hpc-01",
     "10.8.1.21, 10.8.1.22", "AA-BB-CC-00-11-22", "张三", "科研计算", 64, 4],
    ["A-002", "某某大学", "图书馆", "信息楼3层机房", "R13", "lib-web",
     "10.8.2.5；fe80::1", "aabb.cc00.1123", "李四", "门户网站", "16", None],
]  # fmt: skip


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_excel_inventory_is_read_and_normalised(tmp_path: Path) -> None:
    table = read_assets(_xlsx(tmp_path / "assets.xlsx", GOOD))
    rows = table.to_pylist()
    assert [r["asset_id"] for r in rows] == ["A-001", "A-002"]
    assert rows[0]["ips"] == ["10.8.1.21", "10.8.1.22"]
    assert rows[1]["ips"] == ["10.8.2.5", "fe80::1"]
    assert rows[0]["macs"] == ["aa:bb:cc:00:11:22"]
    assert rows[1]["macs"] == ["aa:bb:cc:00:11:23"]
    assert (rows[0]["cpu_count"], rows[0]["gpu_count"]) == (64, 4)
    assert (rows[1]["cpu_count"], rows[1]["gpu_count"]) == (16, None)
    assert rows[0]["department"] == "计算机学院"
    assert rows[1]["source_row"] == 3


def test_a_gb18030_csv_reads_the_same(tmp_path: Path) -> None:
    lines = [",".join(HEADER)] + [
        ",".join(f'"{v}"' if v is not None else "" for v in row) for row in GOOD
    ]
    path = tmp_path / "assets.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    assert read_assets(path).equals(read_assets(_xlsx(tmp_path / "a.xlsx", GOOD)))


def test_every_problem_is_named_with_row_and_column(tmp_path: Path) -> None:
    bad = [
        *GOOD,
        ["A-001", "某某大学", None, None, None, None, "10.8.1.22", None, None, None, None, None],
        ["A-004", None, None, None, None, None, "10.8.300.1", "zz:zz", None, None, "2.5", "-1"],
        [None, "某某大学", None, None, None, None, None, "aa:bb:cc:00:11:22", None, None, None,
         None],
    ]  # fmt: skip
    with pytest.raises(InputFileError) as caught:
        read_assets(_xlsx(tmp_path / "bad.xlsx", bad))
    text = str(caught.value)
    assert "nothing was imported" in text
    for expected in (
        "row 4, column '资产编号': A-001 is also in row 2",
        "row 4, column 'IP地址': 10.8.1.22 is also in row 2",
        "row 5, column '所属单位': is empty",
        "row 5, column 'IP地址': '10.8.300.1' is not an IP address",
        "row 5, column 'MAC地址': 'zz:zz' is not a MAC address",
        "row 5, column 'CPU数量': '2.5' is not a whole number",
        "row 5, column 'GPU数量': '-1' is not a whole number",
        "row 6, column '资产编号': is empty",
        "row 6, column 'MAC地址': aa:bb:cc:00:11:22 is also in row 2",
    ):
        assert expected in text, expected


def test_a_missing_column_or_a_broken_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("资产编号,IP地址\nA-1,10.0.0.1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="column 'unit': required column is missing"):
        read_assets(path)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match=r"not a readable \.xlsx workbook"):
        read_assets(broken)
