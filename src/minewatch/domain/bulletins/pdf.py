"""The bulletin as an A4 PDF: title, summary table, cases by stage per child region (bar chart),
cumulative cleared count by week (line chart), overdue cases, generation time and data source.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (the reader's own Song face
renders it), so no font file is shipped or fetched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from minewatch.domain.bulletins.figures import STAGE_LABELS, Bulletin, RegionFigures
from minewatch.domain.bulletins.xlsx import SOURCE_NOTE, bulletin_title, period_text
from minewatch.domain.cases.states import CaseStatus

FONT = "STSong-Light"
_MARGIN = 15 * mm
_FRAME_WIDTH = A4[0] - 2 * _MARGIN

PDF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("地区", "name"),
    ("本周立案", "week.opened"),
    ("本周认定", "week.confirmed"),
    ("本周整治", "week.cleared"),
    ("累计立案", "cumulative.opened"),
    ("累计认定", "cumulative.confirmed"),
    ("累计整治", "cumulative.cleared"),
    ("累计反弹", "cumulative.relapsed"),
    ("在办", "open_cases"),
    ("逾期", "overdue_cases"),
    ("台账在运在建", "ledger_active"),
    ("累计压减(万kWh)", "cumulative.energy_cut_kwh"),
)
"""The PDF's summary columns (the workbook has them all); header and attribute path."""

CHART_STAGES: tuple[CaseStatus, ...] = (
    CaseStatus.OPEN,
    CaseStatus.ASSIGNED,
    CaseStatus.CHECKED,
    CaseStatus.CONFIRMED,
    CaseStatus.MEASURES_ORDERED,
    CaseStatus.MEASURES_COMPLETED,
    CaseStatus.CLEARED,
    CaseStatus.RECHECKED,
)
_PALETTE = (
    colors.HexColor("#4e79a7"),
    colors.HexColor("#f28e2b"),
    colors.HexColor("#e15759"),
    colors.HexColor("#76b7b2"),
    colors.HexColor("#59a14f"),
    colors.HexColor("#edc948"),
    colors.HexColor("#b07aa1"),
    colors.HexColor("#9c755f"),
)


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _cell(figures: RegionFigures, path: str) -> str:
    value: object = figures
    for part in path.split("."):
        value = getattr(value, part)
    if path.endswith("energy_cut_kwh"):
        return f"{float(value) / 1e4:,.1f}"  # type: ignore[arg-type]
    return str(value)


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=18, spaceBefore=8),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13),
        "head": ParagraphStyle("head", fontName=FONT, fontSize=7, leading=9, alignment=1),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=10),
    }


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _summary_table(bulletin: Bulletin, head: ParagraphStyle) -> Table:
    """The summary, fitted to the A4 frame: headers wrap, the region column is wider."""
    first = 72.0
    rest = (_FRAME_WIDTH - first) / (len(PDF_COLUMNS) - 1)
    header = [Paragraph(h, head) for h, _ in PDF_COLUMNS]
    body = [[_cell(r, p) for _, p in PDF_COLUMNS] for r in bulletin.rows]
    return _table([header, *body], [first, *([rest] * (len(PDF_COLUMNS) - 1))])


def _stage_chart(bulletin: Bulletin) -> Drawing:
    rows = list(bulletin.children) or [bulletin.total]
    drawing = Drawing(170 * mm, 80 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 18 * mm
    chart.width, chart.height = 120 * mm, 55 * mm
    chart.data = [[r.by_stage.get(stage, 0) for r in rows] for stage in CHART_STAGES]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [r.name for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45 if len(rows) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(rows) > 6 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    top = max((sum(r.by_stage.values()) for r in rows), default=0)
    chart.valueAxis.valueMax = max(top, 1)
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    for index, color in enumerate(_PALETTE):
        chart.bars[index].fillColor = color
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 138 * mm, 72 * mm
    legend.fontName, legend.fontSize = FONT, 7
    legend.alignment = "right"
    legend.colorNamePairs = [
        (color, STAGE_LABELS[stage]) for color, stage in zip(_PALETTE, CHART_STAGES, strict=True)
    ]
    drawing.add(legend)
    return drawing


def _cleared_chart(bulletin: Bulletin) -> Drawing:
    series = list(bulletin.cleared_by_week)
    drawing = Drawing(170 * mm, 65 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y = 12 * mm, 12 * mm
    chart.width, chart.height = 150 * mm, 45 * mm
    chart.data = [[count for _, count in series]]
    chart.categoryAxis.categoryNames = [f"W{week.week:02d}" for week, _ in series]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max((count for _, count in series), default=0)
    chart.valueAxis.valueMax = max(top, 1)
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    chart.valueAxis.labels.fontSize = 7
    chart.lines[0].strokeColor = _PALETTE[0]
    chart.lines[0].strokeWidth = 1.5
    drawing.add(chart)
    drawing.add(String(12 * mm, 60 * mm, "累计整治到位案件数（按周）", fontName=FONT, fontSize=8))
    return drawing


def bulletin_story(bulletin: Bulletin) -> list[Flowable]:
    """The flowables of the bulletin, in order."""
    _register_font()
    styles = _styles()
    total = bulletin.total
    lead = (
        f"本周全{'省' if bulletin.region_code.endswith('0000') else '地区'}新增线索 "
        f"{total.week.leads} 条，新立案 {total.week.opened} 件，认定 {total.week.confirmed} 件，"
        f"排除 {total.week.dismissed} 件，整治到位 {total.week.cleared} 件，复查反弹 "
        f"{total.week.relapsed} 件；截至周末累计整治到位 {total.cumulative.cleared} 件，"
        f"在办 {total.open_cases} 件，其中逾期 {total.overdue_cases} 件。"
    )
    if total.exit_due:
        lead += (
            f"按退出时间表，截至本周应退出项目 {total.exit_due} 个，已退出 "
            f"{total.exit_due_done} 个。"
        )
    story: list[Flowable] = [
        Paragraph(bulletin_title(bulletin), styles["title"]),
        Spacer(1, 3 * mm),
        Paragraph(period_text(bulletin), styles["body"]),
        Paragraph(lead, styles["body"]),
        Paragraph("一、工作进展汇总", styles["h2"]),
        _summary_table(bulletin, styles["head"]),
        Paragraph("二、各地案件办理环节分布", styles["h2"]),
        _stage_chart(bulletin),
        Paragraph("三、累计整治到位情况", styles["h2"]),
        _cleared_chart(bulletin),
        Paragraph("四、逾期案件清单", styles["h2"]),
    ]
    if bulletin.overdue:
        story.append(
            _table(
                [
                    ["案件编号", "地区", "所处环节", "办理时限", "逾期天数"],
                    *(
                        [
                            r.case_no,
                            r.region_name,
                            STAGE_LABELS[r.status],
                            r.due_at.strftime("%Y-%m-%d"),
                            str(r.days_overdue),
                        ]
                        for r in bulletin.overdue
                    ),
                ]
            )
        )
    else:
        story.append(Paragraph("本周末无逾期案件。", styles["body"]))
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            f"生成时间：{bulletin.generated_at:%Y-%m-%d %H:%M} UTC。{SOURCE_NOTE}"
            "各项统计口径见 Excel 版“说明”工作表；逐案明细可导出供第三方评估复核。",
            styles["small"],
        ),
    ]
    return story


def write_bulletin_pdf(bulletin: Bulletin, path: Path | str) -> None:
    """Write the PDF (A4); the file appears whole or not at all."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    title = bulletin_title(bulletin)
    try:
        document = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            title=title,
            author="MineWatch",
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN,
        )
        document.build(bulletin_story(bulletin))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
