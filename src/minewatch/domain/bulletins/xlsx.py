"""The bulletin as a workbook: 汇总 (one row per region), 逾期案件 (overdue cases), 说明 (what each
column counts)."""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from minewatch.domain.bulletins.figures import COLUMNS, STAGE_LABELS, Bulletin

SUMMARY_SHEET = "汇总"
OVERDUE_SHEET = "逾期案件"
GUIDE_SHEET = "说明"
OVERDUE_HEADERS = ("案件编号", "区划代码", "地区", "所处环节", "办理时限", "逾期天数")
SOURCE_NOTE = (
    "数据来源：MineWatch 数据库——案件流转取自审计链（audit_event），处置措施取自 case_measure，"
    "线索取自 lead，群众举报取自 public_report，项目台账取自台账周快照。"
)


def bulletin_title(bulletin: Bulletin) -> str:
    """``四川省虚拟货币“挖矿”整治工作周报（2021年第40周）``."""
    week = bulletin.week
    return f"{bulletin.region_name}虚拟货币“挖矿”整治工作周报（{week.year}年第{week.week}周）"


def period_text(bulletin: Bulletin) -> str:
    week = bulletin.week
    return f"统计周期：{week.monday:%Y-%m-%d} 至 {week.sunday:%Y-%m-%d}（北京时间）"


def _header_row(sheet: Worksheet, row: int, count: int) -> None:
    for index in range(1, count + 1):
        cell = sheet.cell(row=row, column=index)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def write_bulletin_xlsx(bulletin: Bulletin, path: Path | str) -> None:
    """Write the workbook; headers are on row 3 of 汇总 (title on row 1, period on row 2) and on
    row 1 of the other sheets. The file appears whole or not at all."""
    path = Path(path)
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    summary.append([bulletin_title(bulletin)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(
        [f"{period_text(bulletin)}；生成时间 {bulletin.generated_at:%Y-%m-%d %H:%M} UTC"]
    )
    summary.append([c.header for c in COLUMNS])
    _header_row(summary, 3, len(COLUMNS))
    for figures in bulletin.rows:
        summary.append([c.value(figures) for c in COLUMNS])
    for index in range(1, len(COLUMNS) + 1):
        summary.column_dimensions[get_column_letter(index)].width = 14
    summary.freeze_panes = "C4"

    overdue = workbook.create_sheet(OVERDUE_SHEET)
    overdue.append(list(OVERDUE_HEADERS))
    _header_row(overdue, 1, len(OVERDUE_HEADERS))
    for row in bulletin.overdue:
        overdue.append(
            [
                row.case_no,
                row.region_code or "",
                row.region_name,
                STAGE_LABELS[row.status],
                row.due_at.strftime("%Y-%m-%d %H:%M"),
                row.days_overdue,
            ]
        )
    for letter, width in zip("ABCDEF", (24, 10, 24, 12, 18, 10), strict=True):
        overdue.column_dimensions[letter].width = width

    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.append(["列名", "统计口径"])
    _header_row(guide, 1, 2)
    for column in COLUMNS:
        guide.append([column.header, column.meaning])
    guide.append([])
    guide.append(["统计周期", "自本周一 0 时至下周一 0 时（北京时间），含起点不含终点"])
    guide.append(
        ["地区归属", "案件归属其交办的县（区），未交办的归属线索所指地区，以周末时的状态为准"]
    )
    guide.append(["计数方式", "按流转事件计数：反弹后再次认定的案件再计一次"])
    guide.append(["数据来源", SOURCE_NOTE])
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 90

    tmp = path.with_name(f".{path.name}.part")
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
