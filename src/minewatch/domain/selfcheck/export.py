"""The signed clearance report (清理整治情况报告) as files for the supervising department.

A state-owned unit sends its supervising department (主管部门) the figures of
:mod:`minewatch.domain.selfcheck.clearance` as a workbook, a PDF, or both, in Chinese:

* the workbook has 汇总 (the figures and whether the unit is at dynamic zero), 资产明细 (one row
  per server), 未关闭事项 (open items) and 签章 (unit key, digest, signature, and the signed
  figures as JSON, so ``minewatch selfcheck verify`` can tell whether they were changed);
* the PDF (A4) carries the same figures for reading and printing, and its key, digest and
  signature in the document's keywords (``minewatch-clearance key_id=… sha256=… hmac=…``), so a
  printed-then-mailed file can still be checked against the platform's audit chain.

Times are shown in Beijing time. Each file appears whole or not at all: it is written beside
its final name and moved into place.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zipfile import BadZipFile
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from minewatch.domain.selfcheck.clearance import Clearance, HostRow, SignedClearance
from minewatch.domain.selfcheck.service import ACTION_LABELS
from minewatch.errors import MineWatchError

BEIJING = ZoneInfo("Asia/Shanghai")
SUMMARY_SHEET = "汇总"
HOSTS_SHEET = "资产明细"
OPEN_ITEMS_SHEET = "未关闭事项"
SEAL_SHEET = "签章"

UNIT_LABEL = "单位"
KEY_ID_LABEL = "单位密钥编号"
ISSUED_LABEL = "签发时间"
SHA256_LABEL = "摘要SHA-256"
SIGNATURE_LABEL = "签名HMAC-SHA256"
VERIFY_LABEL = "核验方法"
PAYLOAD_LABEL = "报告数据JSON"
"""Column A of the 签章 rows whose column B, joined in order, is the signed figures' JSON."""

EXCEL_CELL_LIMIT_CHARS = 32_767
"""Excel's limit on a cell's text, in UTF-16 code units (what Excel counts as characters)."""

KEYWORDS_PREFIX = "minewatch-clearance"
VERIFY_TEXT = (
    "将本文件交 MineWatch 平台执行 minewatch selfcheck verify <文件>：平台按单位密钥编号核对"
    "签名，并核对审计链中有无此份报告的签发记录；Excel 版另含完整报告数据（JSON），"
    "可核对签发后数据未被改动。"
)
SOURCE_LABELS = {"hosts": "探针", "probe": "探针", "network": "网络监测"}
"""Where a finding came from, in the report's words (the clearance figures call the probe's
findings ``probe``; its leads are ``hosts``)."""

NO_VALUE = "—"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[!-~]+")
"""A key id that fits the keywords: printable ASCII without spaces."""
_KEYWORDS = re.compile(
    re.escape(KEYWORDS_PREFIX) + r" key_id=([!-~]+) sha256=([0-9a-f]{64}) hmac=([0-9a-f]{64})"
)


def report_title(clearance: Clearance) -> str:
    """``某大学机房虚拟货币“挖矿”自查清理情况报告``."""
    return f"{clearance.unit}机房虚拟货币“挖矿”自查清理情况报告"


def beijing_time(iso: str | None) -> str:
    """An ISO 8601 instant as ``YYYY-MM-DD HH:MM`` in Beijing time (naive means UTC); empty for
    ``None``."""
    if iso is None:
        return ""
    instant = datetime.fromisoformat(iso)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def since_text(clearance: Clearance) -> str:
    return clearance.since or "全部"


def conclusion(clearance: Clearance) -> str:
    """The report's one-sentence verdict on dynamic zero, with what stands in its way."""
    if clearance.dynamic_zero:
        return "结论：已实现动态清零。"
    return (
        f"结论：尚未实现动态清零（待处置 {clearance.open_findings} 台，"
        f"未检查 {clearance.unchecked} 台）。"
    )


def summary_figures(clearance: Clearance) -> list[tuple[str, int]]:
    """The counts of 汇总 and of the PDF's summary, in the report's order: the servers, then one
    row per kind of action taken (ACTION_LABELS' order, then any kind it does not name)."""
    rows = [
        ("台账资产数", clearance.in_ledger),
        ("已检查资产数", clearance.checked),
        ("未检查资产数", clearance.unchecked),
        ("有发现主机数", clearance.with_findings),
        ("已复查清零", clearance.rechecked_clean),
        ("待处置", clearance.open_findings),
        ("未登记主机数", clearance.unlisted_hosts),
    ]
    rows += [(label, clearance.actions.get(kind, 0)) for kind, label in ACTION_LABELS.items()]
    rows += [(kind, n) for kind, n in clearance.actions.items() if kind not in ACTION_LABELS]
    return rows


def unit_facts(signed: SignedClearance) -> list[tuple[str, str]]:
    c = signed.clearance
    return [
        ("统计截至", f"{beijing_time(c.as_of)}（北京时间）"),
        ("自查起始", since_text(c)),
        ("区划代码", c.region_code),
        ("统一社会信用代码", c.uscc or NO_VALUE),
        ("主管部门", c.supervisor or NO_VALUE),
    ]


def _sources(host: HostRow) -> str:
    return "、".join(SOURCE_LABELS.get(s, s) for s in host.finding_sources)


HOST_COLUMNS: tuple[tuple[str, float, Callable[[HostRow], str | int]], ...] = (
    ("资产编号", 18, lambda h: h.asset_id),
    ("是否登记", 9, lambda h: "是" if h.listed else "否"),
    ("使用部门", 16, lambda h: h.department or ""),
    ("机房", 12, lambda h: h.room or ""),
    ("机柜", 8, lambda h: h.rack or ""),
    ("责任人", 10, lambda h: h.owner or ""),
    ("主机名", 18, lambda h: h.hostname or ""),
    ("IP地址", 20, lambda h: ", ".join(h.ips)),
    ("检查次数", 9, lambda h: h.checks),
    ("最近检查", 17, lambda h: beijing_time(h.last_check_at)),
    ("最近无异常", 17, lambda h: beijing_time(h.last_clean_at)),
    ("最近发现", 17, lambda h: beijing_time(h.last_finding_at)),
    ("发现来源", 12, _sources),
    ("命中规则", 28, lambda h: "、".join(h.rules)),
    ("处置记录", 36, lambda h: "；".join(h.actions)),
    ("案件编号", 20, lambda h: h.case_no or ""),
    ("状态", 13, lambda h: h.state),
)
"""资产明细's columns: header, width in Excel characters, and the cell's value."""


def payload_json(signed: SignedClearance) -> str:
    """The signed figures as the workbook carries them (keys sorted, Chinese as is)."""
    return json.dumps(signed.clearance.payload(), ensure_ascii=False, sort_keys=True)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cell_chunks(text: str) -> list[str]:
    """``text`` cut into consecutive pieces that each fit one Excel cell
    (:data:`EXCEL_CELL_LIMIT_CHARS` UTF-16 code units); one piece when it fits already."""
    limit = EXCEL_CELL_LIMIT_CHARS
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        excess = _utf16_units(text[start:end]) - limit
        while excess > 0:
            end -= excess
            excess = _utf16_units(text[start:end]) - limit
        chunks.append(text[start:end])
        start = end
    return chunks or [""]


@contextmanager
def _written_in_place(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; moved onto ``path`` when the block ends
    without error, removed in any case."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _display(value: object) -> object:
    """A value fit for a display cell: text without the control characters XML refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _append(sheet: Worksheet, values: Sequence[object], *, exact: bool = False) -> int:
    """Append a row and return its number. Text stays text even when it starts with ``=`` (a
    host name or a piece of JSON must never become a formula); ``exact`` keeps it unfiltered."""
    sheet.append([v if exact else _display(v) for v in values])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and value.startswith("="):
            sheet.cell(row=row, column=column).data_type = "s"
    return row


def _style_header(sheet: Worksheet, row: int, count: int) -> None:
    for column in range(1, count + 1):
        cell = sheet.cell(row=row, column=column)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _summary_sheet(sheet: Worksheet, signed: SignedClearance) -> None:
    c = signed.clearance
    _append(sheet, [report_title(c)])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in unit_facts(signed):
        _append(sheet, [label, value])
    _append(sheet, [])
    _style_header(sheet, _append(sheet, ["项目", "数量"]), 2)
    for label, count in summary_figures(c):
        _append(sheet, [label, count])
    verdict = _append(sheet, ["动态清零", "是" if c.dynamic_zero else "否"])
    colour = "C6EFCE" if c.dynamic_zero else "FFC7CE"
    for column in (1, 2):
        cell = sheet.cell(row=verdict, column=column)
        cell.font = Font(bold=True, size=12)
        cell.fill = PatternFill("solid", fgColor=colour)
    _append(sheet, [conclusion(c)])
    sheet.cell(row=verdict + 1, column=1).font = Font(bold=True, size=12)
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 28


def _hosts_sheet(sheet: Worksheet, hosts: Sequence[HostRow]) -> None:
    _style_header(sheet, _append(sheet, [h for h, _, _ in HOST_COLUMNS]), len(HOST_COLUMNS))
    for host in hosts:
        _append(sheet, [value(host) for _, _, value in HOST_COLUMNS])
    for index, (_, width, _) in enumerate(HOST_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _open_items_sheet(sheet: Worksheet, items: Sequence[str]) -> None:
    _style_header(sheet, _append(sheet, ["序号", "未关闭事项"]), 2)
    for number, item in enumerate(items, start=1):
        _append(sheet, [number, item])
    if not items:
        _append(sheet, [NO_VALUE, "无"])
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 100
    sheet.freeze_panes = "A2"


def _seal_sheet(sheet: Worksheet, signed: SignedClearance) -> None:
    _append(sheet, [UNIT_LABEL, signed.clearance.unit])
    _append(sheet, [KEY_ID_LABEL, signed.key_id], exact=True)
    _append(sheet, [ISSUED_LABEL, f"{beijing_time(signed.issued_at)}（北京时间）"])
    _append(sheet, [SHA256_LABEL, signed.sha256], exact=True)
    _append(sheet, [SIGNATURE_LABEL, signed.signature], exact=True)
    verify = _append(sheet, [VERIFY_LABEL, VERIFY_TEXT])
    chunks = cell_chunks(payload_json(signed))
    for number, chunk in enumerate(chunks, start=1):
        label = PAYLOAD_LABEL
        if len(chunks) > 1:
            label += (
                f"（第{number}段，共{len(chunks)}段：超过Excel单元格{EXCEL_CELL_LIMIT_CHARS:,}"
                "字符上限，按顺序首尾相接即为完整JSON）"
            )
        _append(sheet, [label, chunk], exact=True)
    for row in sheet.iter_rows(min_col=1, max_col=1):
        row[0].font = Font(bold=True)
        row[0].alignment = Alignment(vertical="top", wrap_text=True)
    sheet.cell(row=verify, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100


def write_clearance_xlsx(signed: SignedClearance, path: Path) -> None:
    """Write the report as a workbook (汇总, 资产明细, 未关闭事项, 签章); the file appears whole
    or not at all."""
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    _summary_sheet(summary, signed)
    _hosts_sheet(workbook.create_sheet(HOSTS_SHEET), signed.clearance.hosts)
    _open_items_sheet(workbook.create_sheet(OPEN_ITEMS_SHEET), signed.clearance.open_items)
    _seal_sheet(workbook.create_sheet(SEAL_SHEET), signed)
    with _written_in_place(Path(path)) as tmp:
        workbook.save(tmp)


def _seal_value(path: Path, values: dict[str, object], label: str) -> str:
    value = values.get(label)
    if not isinstance(value, str) or not value:
        raise MineWatchError(f"{path}: sheet {SEAL_SHEET} has no {label}")
    return value


def read_clearance_xlsx(path: Path) -> tuple[str, str, str, dict[str, Any] | None]:
    """The key id, digest, signature and signed figures (``None`` when the sheet carries none)
    of a report workbook, from its 签章 sheet."""
    path = Path(path)
    try:
        workbook = load_workbook(path, read_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise MineWatchError(f"{path}: not a clearance report workbook ({error})") from error
    try:
        if SEAL_SHEET not in workbook.sheetnames:
            raise MineWatchError(f"{path}: not a clearance report (no sheet {SEAL_SHEET})")
        values: dict[str, object] = {}
        pieces: list[str] = []
        for row in workbook[SEAL_SHEET].iter_rows(max_col=2, values_only=True):
            label, value = (*row, None, None)[:2]
            if isinstance(label, str) and label.startswith(PAYLOAD_LABEL):
                pieces.append(value if isinstance(value, str) else "")
            elif isinstance(label, str):
                values[label] = value
    finally:
        workbook.close()
    key_id = _seal_value(path, values, KEY_ID_LABEL)
    digest = _seal_value(path, values, SHA256_LABEL)
    signature = _seal_value(path, values, SIGNATURE_LABEL)
    if not _HEX64.fullmatch(digest) or not _HEX64.fullmatch(signature):
        raise MineWatchError(f"{path}: {SHA256_LABEL} or {SIGNATURE_LABEL} is not 64 hex digits")
    if not pieces:
        return key_id, digest, signature, None
    try:
        payload = json.loads("".join(pieces))
    except json.JSONDecodeError as error:
        raise MineWatchError(f"{path}: {PAYLOAD_LABEL} is not valid JSON ({error})") from error
    if not isinstance(payload, dict):
        raise MineWatchError(f"{path}: {PAYLOAD_LABEL} is not a JSON object")
    return key_id, digest, signature, payload


FONT = "STSong-Light"
HEX_FONT = "Courier"
_MARGIN = 15 * mm
_FRAME_WIDTH = A4[0] - 2 * _MARGIN
ASSET_COLUMNS: tuple[tuple[str, float, Callable[[HostRow], str]], ...] = (
    ("资产编号", 0.15, lambda h: h.asset_id),
    ("部门", 0.16, lambda h: h.department or ""),
    ("机房/机柜", 0.16, lambda h: " / ".join(p for p in (h.room, h.rack) if p)),
    ("责任人", 0.11, lambda h: h.owner or ""),
    ("最近检查", 0.14, lambda h: beijing_time(h.last_check_at)),
    ("最近发现", 0.14, lambda h: beijing_time(h.last_finding_at)),
    ("状态", 0.14, lambda h: h.state),
)
"""The PDF's asset table (the workbook has every column): header, share of the page's width
and the cell's text."""


def keywords(signed: SignedClearance) -> str:
    """The PDF's keywords, where :func:`read_clearance_pdf` finds the key, digest and signature."""
    if not _KEY_ID.fullmatch(signed.key_id):
        raise MineWatchError(f"unit key id {signed.key_id!r} is not printable ASCII")
    if not _HEX64.fullmatch(signed.sha256) or not _HEX64.fullmatch(signed.signature):
        raise MineWatchError("the report's digest and signature must be 64 hex digits each")
    return (
        f"{KEYWORDS_PREFIX} key_id={signed.key_id} sha256={signed.sha256} hmac={signed.signature}"
    )


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=18, spaceBefore=8),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7, leading=9, wordWrap="CJK"),
        "hex": ParagraphStyle("hex", fontName=HEX_FONT, fontSize=7.5, leading=10),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=10),
    }


def _grid(rows: list[list[Any]], widths: list[float], font_size_pt: float = 8) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, font_size_pt),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


class BoldLine(Flowable):  # type: ignore[misc]
    """One line of Chinese in faux bold (glyphs filled and outlined): STSong-Light has no bold
    face. The size shrinks until the line fits the width it is given."""

    def __init__(self, text: str, size_pt: float, colour: Any) -> None:
        super().__init__()
        self.text = text
        self.size_pt = size_pt
        self.colour = colour

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        while self.size_pt > 6 and pdfmetrics.stringWidth(self.text, FONT, self.size_pt) > (
            available_width
        ):
            self.size_pt -= 0.5
        return available_width, self.size_pt * 1.6

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(self.colour)
        canvas.setStrokeColor(self.colour)
        canvas.setLineWidth(self.size_pt / 30)
        canvas.setFont(FONT, self.size_pt)
        canvas.drawString(0, self.size_pt * 0.4, self.text, mode=2)
        canvas.restoreState()


def _asset_table(hosts: Sequence[HostRow], cell: ParagraphStyle) -> Flowable:
    widths = [share * _FRAME_WIDTH for _, share, _ in ASSET_COLUMNS]
    header = [header for header, _, _ in ASSET_COLUMNS]
    body = [[Paragraph(escape(text(h)), cell) for _, _, text in ASSET_COLUMNS] for h in hosts]
    return _grid([header, *body], widths, 7.5)


def _seal_block(signed: SignedClearance, styles: dict[str, ParagraphStyle]) -> Table:
    rows = [
        [KEY_ID_LABEL, Paragraph(escape(signed.key_id), styles["hex"])],
        [ISSUED_LABEL, f"{beijing_time(signed.issued_at)}（北京时间）"],
        [SHA256_LABEL, Paragraph(signed.sha256, styles["hex"])],
        [SIGNATURE_LABEL, Paragraph(signed.signature, styles["hex"])],
        [VERIFY_LABEL, Paragraph(escape(VERIFY_TEXT), styles["small"])],
    ]
    table = Table(rows, colWidths=[28 * mm, _FRAME_WIDTH - 28 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("BOX", (0, 0), (-1, -1), 0.6, colors.black),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def clearance_story(signed: SignedClearance) -> list[Flowable]:
    """The flowables of the PDF report, in order."""
    _register_font()
    styles = _styles()
    c = signed.clearance
    facts = unit_facts(signed)
    verdict_colour = colors.HexColor("#1b5e20" if c.dynamic_zero else "#b71c1c")
    story: list[Flowable] = [
        Paragraph(escape(report_title(c)), styles["title"]),
        Spacer(1, 3 * mm),
        Paragraph(
            f"统计截至 {escape(facts[0][1])}；自查起始：{escape(facts[1][1])}", styles["body"]
        ),
        Paragraph(
            "；".join(f"{label}：{escape(value)}" for label, value in facts[2:]), styles["body"]
        ),
        Paragraph("一、自查清理情况汇总", styles["h2"]),
        _grid(
            [["项目", "数量"], *([label, str(n)] for label, n in summary_figures(c))],
            [60 * mm, 30 * mm],
        ),
        Spacer(1, 3 * mm),
        BoldLine(conclusion(c), 13, verdict_colour),
        Paragraph("二、未关闭事项", styles["h2"]),
    ]
    story += [
        Paragraph(f"{n}. {escape(item)}", styles["body"])
        for n, item in enumerate(c.open_items, start=1)
    ] or [Paragraph("无。", styles["body"])]
    story.append(Paragraph("三、资产检查明细", styles["h2"]))
    if c.hosts:
        story.append(_asset_table(c.hosts, styles["cell"]))
    else:
        story.append(Paragraph("资产台账为空，且无主机提交检查报告。", styles["body"]))
    story.append(KeepTogether([Paragraph("四、签章", styles["h2"]), _seal_block(signed, styles)]))
    return story


def write_clearance_pdf(signed: SignedClearance, path: Path) -> None:
    """Write the report as an A4 PDF, its key, digest and signature in the document's keywords;
    the file appears whole or not at all."""
    title = report_title(signed.clearance)
    footer = f"{title}　摘要 {signed.sha256[:16]}…　第 %d 页"

    def number_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, footer % document.page)
        canvas.restoreState()

    story = clearance_story(signed)
    with _written_in_place(Path(path)) as tmp:
        document = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            title=title,
            author="MineWatch",
            creator="MineWatch",
            subject="虚拟货币“挖矿”自查清理情况报告",
            keywords=keywords(signed),
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN,
        )
        document.build(story, onFirstPage=number_page, onLaterPages=number_page)


_KEYWORDS_LITERAL = re.compile(rb"/Keywords\s*\(((?:\\.|[^\\)])*)\)", re.DOTALL)
_KEYWORDS_HEX = re.compile(rb"/Keywords\s*<([0-9A-Fa-f\s]*)>")
_LITERAL_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.DOTALL)
_NAMED_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal_bytes(body: bytes) -> bytes:
    """The bytes of a PDF literal string's body, its backslash escapes undone (PDF 1.7, 7.3.4.2)."""

    def undo(match: re.Match[bytes]) -> bytes:
        octal, _newline, char = match.groups()
        if octal is not None:
            return bytes([int(octal, 8) & 0xFF])
        if char is None:
            return b""
        return _NAMED_ESCAPES.get(char, char)

    return _LITERAL_ESCAPE.sub(undo, body)


def _hex_bytes(body: bytes) -> bytes:
    """The bytes of a PDF hex string's body (white space ignored, an odd last digit read as if
    followed by 0; PDF 1.7, 7.3.4.3)."""
    digits = re.sub(rb"\s", b"", body).decode("ascii")
    return bytes.fromhex(digits + "0" * (len(digits) % 2))


def _pdf_text(raw: bytes) -> str:
    """A PDF text string: UTF-16BE after a byte-order mark, else (near enough) Latin-1."""
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")


def read_clearance_pdf(path: Path) -> tuple[str, str, str]:
    """The key id, digest and signature of a report PDF, from its document keywords.

    reportlab writes the document information uncompressed, the keywords as a literal string;
    a hex string (as some tools rewrite it) is read too. The last keywords in the file win, as
    an incremental update's would."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MineWatchError(f"{path}: cannot read the clearance report ({error})") from error
    if b"%PDF-" not in data[:1024]:  # where readers look for the header (PDF 1.7, annex H)
        raise MineWatchError(f"{path}: not a PDF")
    found: list[tuple[int, str]] = [
        (m.start(), _pdf_text(_literal_bytes(m.group(1)))) for m in _KEYWORDS_LITERAL.finditer(data)
    ]
    found += [(m.start(), _pdf_text(_hex_bytes(m.group(1)))) for m in _KEYWORDS_HEX.finditer(data)]
    for _, text in sorted(found, reverse=True):
        match = _KEYWORDS.search(text)
        if match is not None:
            return match.group(1), match.group(2), match.group(3)
    raise MineWatchError(
        f"{path}: not a clearance report (no '{KEYWORDS_PREFIX} key_id=… sha256=… hmac=…' "
        "in the document keywords)"
    )


READERS: dict[str, Callable[[Path], tuple[str, str, str, dict[str, Any] | None]]] = {
    ".xlsx": read_clearance_xlsx,
    ".pdf": lambda path: (*read_clearance_pdf(path), None),
}
"""Report readers by file suffix (lower case); a PDF carries no figures to check."""


def read_clearance_file(path: Path) -> tuple[str, str, str, dict[str, Any] | None]:
    """The key id, digest, signature and (a workbook's) signed figures of a report file."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise MineWatchError(f"{path}: a clearance report is a .xlsx or .pdf file")
    return reader(path)


__all__ = [
    "read_clearance_file", "read_clearance_pdf", "read_clearance_xlsx",
    "write_clearance_pdf", "write_clearance_xlsx",
]  # fmt: skip
