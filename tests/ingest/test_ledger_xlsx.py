"""The ledger workbook: round trip, tolerant reading, and every kind of bad input."""

from __future__ import annotations

import string
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from conftest import make_entry, make_uscc
from minewatch.errors import InputFileError
from minewatch.ingest.ledger_xlsx import (
    GUIDE_SHEET,
    SHEET,
    header_of,
    read_ledger_xlsx,
    write_ledger_xlsx,
)
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
)

HEADERS = list(header_of().values())


def _sheet(path: Path, header: list[str], *rows: list[object], title: str | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title is not None:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _row(**cells: object) -> list[object]:
    base: dict[str, object] = {
        "所属企业": "石棉县鑫源科技有限公司",
        "统一社会信用代码": make_uscc(1),
        "项目地址": "四川省雅安市石棉县美罗镇1号厂房",
        "行政区划代码": "511824",
        "状态": "在运",
        "发现方式": "用电分析",
    }
    base.update(cells)
    return [base.get(h) for h in HEADERS]


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    entries = [
        make_entry(1),
        make_entry(2, project_code="XM-511824-0002", status=ProjectStatus.IN_CONSTRUCTION,
                   planned_production_date=date(2022, 3, 1), machines=(), machine_count=None,
                   hashrate=None, hashrate_unit=None, supply_kind=SupplyKind.PLANT_DIRECT_LINE,
                   supply_plant="栗子坪水电站", notes="=SUM(A1:A2) 不是公式"),
    ]  # fmt: skip
    path = tmp_path / "ledger.xlsx"
    assert write_ledger_xlsx(entries, path) == 2
    sheet = read_ledger_xlsx(path)
    assert [r.entry for r in sheet.rows] == entries
    assert [r.row_number for r in sheet.rows] == [3, 4]
    assert sheet.header_row == 2
    assert sheet.warnings == []


def test_written_workbook_is_what_offices_expect(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    write_ledger_xlsx([make_entry(1)], path, title="四川省项目台账（2021年第40周）")
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    assert sheet["A1"].value == "四川省项目台账（2021年第40周）"
    assert "A1" in {str(r).split(":")[0] for r in sheet.merged_cells.ranges}
    headers = [c.value for c in sheet[2]]
    for wanted in ("所属企业", "统一社会信用代码", "项目地址", "规模（台）", "算力",
                   "耗电量（千瓦时/月）", "计划投产时间", "状态"):  # fmt: skip
        assert wanted in headers
    assert sheet.freeze_panes == "C3"
    assert sheet.data_validations.dataValidation, "coded columns carry drop-down lists"
    status = [v for v in sheet.data_validations.dataValidation if "在运" in (v.formula1 or "")]
    assert status
    assert GUIDE_SHEET in workbook.sheetnames
    assert sheet.cell(row=3, column=headers.index("状态") + 1).value == "在运"
    assert sheet.cell(row=3, column=headers.index("所在地区") + 1).value == "四川省雅安市石棉县"


def test_reads_tolerant_headers_labels_and_dates(tmp_path: Path) -> None:
    header = ["序号", "企业名称", "统一社会信用代码 *", "项目地址", "所在地区", "状态", "发现方式",
              "规模(台)", "算力", "耗电量(千瓦时/月)", "计划投产时间", "退出期限"]  # fmt: skip
    path = _sheet(
        tmp_path / "t.xlsx",
        header,
        [1, "甲公司", make_uscc(1).lower(), "石棉县新棉镇1号", "四川省雅安市石棉县", "拟建",
         "举报", "300", "33 PH/s", "1,200,000", "2021年12月", "2021/12/31"],
        [],
        [2, "乙公司", make_uscc(2), "汉源县2号", "雅安市汉源县", "在运行", "网络监测", 10,
         "110.5TH", None, None, datetime(2022, 1, 15)],
        title="台账",
    )  # fmt: skip
    rows = read_ledger_xlsx(path).rows
    assert [r.row_number for r in rows] == [3, 5]
    first, second = rows[0].entry, rows[1].entry
    assert first.enterprise_uscc == make_uscc(1)
    assert first.region_code == "511824"
    assert first.responsible_region_code == "511824"
    assert first.status is ProjectStatus.IN_CONSTRUCTION
    assert first.discovered_by is DiscoveryMethod.PUBLIC_REPORT
    assert first.machine_count == 300
    assert (first.hashrate, first.hashrate_unit) == (33.0, HashrateUnit.PHS)
    assert first.monthly_energy_kwh == 1_200_000
    assert first.planned_production_date == date(2021, 12, 1)
    assert first.exit_deadline == date(2021, 12, 31)
    assert first.site_type is SiteType.OTHER
    assert second.region_code == "511823"
    assert second.exit_deadline == date(2022, 1, 15)
    assert (second.hashrate, second.hashrate_unit) == (110.5, HashrateUnit.THS)


def test_every_bad_cell_is_reported_with_row_and_column(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path / "bad.xlsx",
        HEADERS,
        _row(),
        _row(**{"统一社会信用代码": "91511824MA00000020"}),
        _row(**{"行政区划代码": "513321", "所属企业": "丙公司"}),
        _row(**{"状态": "挖着呢", "规模（台）": "很多", "计划投产时间": "明年"}),
        _row(**{"所属企业": None, "经度": 200}),
        _row(**{"矿机型号及数量": "S19 一百台", "算力": 5}),
    )
    with pytest.raises(InputFileError) as caught:
        read_ledger_xlsx(path)
    where = {(p.row, p.column) for p in caught.value.problems}
    assert (3, "统一社会信用代码") in where
    assert (4, "行政区划代码") in where
    assert {(5, "状态"), (5, "规模（台）"), (5, "计划投产时间")} <= where
    assert {(6, "所属企业"), (6, "经度")} <= where
    assert {(7, "矿机型号及数量"), (7, "算力单位")} <= where
    assert all(p.row != 2 for p in caught.value.problems), "the good row is not blamed"
    message = str(caught.value)
    assert "nothing was imported" in message
    assert "513321" in message, "a retired code is named"
    assert "2015" in message, "with the year it was retired"
    assert "bad.xlsx: row 5, column '状态'" in message


def test_duplicate_rows_are_reported(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path / "dup.xlsx",
        HEADERS,
        _row(**{"项目编号": "XM-511824-0001"}),
        _row(**{"项目编号": "XM-511824-0001", "项目地址": "另一个地址"}),
        _row(**{"项目地址": "四川省雅安市石棉县 美罗镇1号厂房"}),
    )
    with pytest.raises(InputFileError) as caught:
        read_ledger_xlsx(path)
    reasons = {p.row: p.reason for p in caught.value.problems}
    assert "already given in row 2" in reasons[3]
    assert "duplicates row 2" in reasons[4]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (["序号", "名称", "地址"], "no header row with 所属企业"),
        ([h for h in HEADERS if h != "统一社会信用代码"], "required column is missing"),
        ([h for h in HEADERS if h not in ("行政区划代码", "所在地区")], "or give 所在地区"),
        ([*HEADERS, "状态"], "repeats column"),
    ],
)
def test_wrong_headers(tmp_path: Path, header: list[str], reason: str) -> None:
    path = _sheet(tmp_path / "h.xlsx", header, ["x"] * len(header))
    with pytest.raises(InputFileError) as caught:
        read_ledger_xlsx(path)
    assert reason in str(caught.value)


def test_unknown_columns_are_warnings(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "w.xlsx", [*HEADERS, "联系电话"], [*_row(), "13800000000"])
    sheet = read_ledger_xlsx(path)
    assert len(sheet.rows) == 1
    assert [w.reason for w in sheet.warnings] == ["unknown column, not read"]


def test_files_that_are_not_workbooks(tmp_path: Path) -> None:
    cases = {
        tmp_path / "missing.xlsx": "file not found",
        tmp_path / "old.xls": ".xls",
        tmp_path / "text.xlsx": "not a readable .xlsx",
    }
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "text.xlsx").write_text("序号,所属企业\n")
    for path, reason in cases.items():
        with pytest.raises(InputFileError) as caught:
            read_ledger_xlsx(path)
        assert len(caught.value.problems) == 1
        assert reason in str(caught.value)
        assert str(path) in str(caught.value)


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "ledger.xlsx"
    with pytest.raises(FileNotFoundError):
        write_ledger_xlsx([make_entry(1)], target)
    assert not target.exists()
    existing = tmp_path / "keep.xlsx"
    existing.write_bytes(b"old")
    with pytest.raises(AttributeError):
        write_ledger_xlsx([make_entry(1), object()], existing)  # type: ignore[list-item]
    assert existing.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [existing]


# ----------------------------------------------------------------- property: the round trip

_text = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")
        ),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
_optional_text = st.none() | _text
# Excel keeps 15 significant digits (openpyxl writes 16); ledger figures never need more.
_excel = st.floats(min_value=0, max_value=1e9, allow_nan=False).map(lambda x: float(f"{x:.15g}"))
_amount = st.none() | _excel
_day = st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
_model = st.text(alphabet=string.ascii_letters + string.digits + " -+", min_size=1,
                 max_size=16).map(str.strip).filter(bool)  # fmt: skip


@st.composite
def _entries(draw: st.DrawFn) -> LedgerEntry:
    machines = draw(st.lists(st.tuples(_model, st.integers(1, 5000)), max_size=3,
                             unique_by=lambda m: m[0]))  # fmt: skip
    declared = draw(st.booleans())
    hashrate = draw(_amount)
    return LedgerEntry(
        project_code=draw(st.none() | st.integers(1, 9999).map(lambda n: f"XM-511824-{n:04d}")),
        project_name=draw(st.just("") | _text),
        enterprise_name=draw(_text),
        enterprise_uscc=make_uscc(draw(st.integers(0, 9_999_999))),
        legal_representative=draw(_optional_text),
        site_address=draw(_text),
        region_code=draw(st.sampled_from(["511824", "511823", "513301", "510105"])),
        longitude=draw(st.none() | st.floats(73, 136).map(lambda x: float(f"{x:.15g}"))),
        latitude=draw(st.none() | st.floats(3, 54).map(lambda x: float(f"{x:.15g}"))),
        site_type=draw(st.sampled_from(SiteType)),
        status=draw(st.sampled_from(ProjectStatus)),
        discovered_by=draw(st.sampled_from(DiscoveryMethod)),
        responsible_region_code="511824",
        machines=tuple(MachineCount(m, c) for m, c in machines),
        machine_count=sum(c for _, c in machines) if declared and machines else None,
        hashrate=hashrate,
        hashrate_unit=None if hashrate is None else draw(st.sampled_from(HashrateUnit)),
        rated_power_kw=draw(_amount),
        monthly_energy_kwh=draw(_amount),
        planned_production_date=draw(_day),
        supply_kind=draw(st.sampled_from(SupplyKind)),
        grid_account_no=draw(st.none() | st.from_regex(r"\A[0-9]{10,16}\Z")),
        supply_line=draw(_optional_text),
        supply_plant=draw(_optional_text),
        responsible_official=draw(_optional_text),
        exit_deadline=draw(_day),
        notes=draw(_optional_text),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(_entries(), min_size=1, max_size=4, unique_by=lambda e: e.project_code
                        or e.enterprise_uscc + e.site_address))  # fmt: skip
def test_round_trip_property(tmp_path: Path, entries: list[LedgerEntry]) -> None:
    codes = [e.project_code for e in entries if e.project_code]
    sites = [(e.enterprise_uscc, "".join(e.site_address.split())) for e in entries]
    if len(set(codes)) != len(codes) or len(set(sites)) != len(sites):
        return
    path = tmp_path / "property.xlsx"
    write_ledger_xlsx(entries, path)
    assert [r.entry for r in read_ledger_xlsx(path).rows] == entries
