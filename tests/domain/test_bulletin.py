"""Weekly bulletins: figures counted by hand for the small province of ``bulletin_world``."""

from __future__ import annotations

import base64
import csv
import json
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from bulletin_world import World, build
from conftest import at
from minewatch.domain.bulletins.assessment import (
    assessment_records,
    write_assessment_csv,
    write_assessment_json,
)
from minewatch.domain.bulletins.figures import COLUMNS, Bulletin, Flow, bulletin_for_week
from minewatch.domain.bulletins.pdf import write_bulletin_pdf
from minewatch.domain.bulletins.xlsx import bulletin_title, write_bulletin_xlsx
from minewatch.domain.cases.models import MeasureKind
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.ledger.weekly import Week

W42, W43 = Week(2021, 42), Week(2021, 43)
LATER = datetime(2022, 1, 1, tzinfo=UTC)


@pytest.fixture
def world(session: Session) -> World:
    return build(session)


def _row(bulletin: Bulletin, code: str):  # type: ignore[no-untyped-def]
    (found,) = [r for r in bulletin.rows if r.region_code == code]
    return found


def test_week_42_of_the_province_counted_by_hand(session: Session, world: World) -> None:
    b = bulletin_for_week(session, W42, "510000", now=LATER)
    assert b.region_name == "四川省"
    assert b.end_at == datetime(2021, 10, 24, 16, tzinfo=UTC)
    assert b.total.week == Flow(
        leads=4, opened=4, checked=2, confirmed=1, dismissed=1, cleared=1, rechecked=0,
        relapsed=0, measures_ordered={MeasureKind.POWER_CUT: 1},
        measures_completed={MeasureKind.POWER_CUT: 1}, reports_received=1, reports_closed=1,
        energy_cut_kwh=650.0 * 54,  # cleared 10-22 10:00 UTC, week ends 10-24 16:00 UTC
    )  # fmt: skip
    assert b.total.cumulative == b.total.week  # nothing happened before W42
    assert dict(b.total.by_stage) == {
        CaseStatus.OPEN: 1, CaseStatus.ASSIGNED: 1, CaseStatus.DISMISSED: 1,
        CaseStatus.CLEARED: 1,
    }  # fmt: skip
    assert (b.total.open_cases, b.total.overdue_cases, b.total.reports_overdue) == (3, 1, 0)
    # the ledger: A's project, operating, 420.5 kW, due to exit by 10-24 and not exited
    assert (b.total.ledger_active, b.total.ledger_total, b.total.ledger_power_kw) == (1, 1, 420.5)
    assert (b.total.exit_due, b.total.exit_due_done, b.total.exit_progress) == (1, 0, 0.0)
    # children: every prefecture of Sichuan, the cases in 雅安 and 成都
    assert len(b.children) == 21
    yaan, chengdu = _row(b, "511800"), _row(b, "510100")
    assert (yaan.week.opened, yaan.week.confirmed, yaan.open_cases, yaan.overdue_cases) == (
        3, 1, 2, 0,
    )  # fmt: skip
    assert (chengdu.week.leads, chengdu.open_cases, chengdu.overdue_cases) == (1, 1, 1)
    assert _row(b, "513400").week == Flow()  # 凉山: nothing
    assert [(r.case_no, r.status, r.days_overdue) for r in b.overdue] == [
        (world.d, CaseStatus.OPEN, 2)
    ]
    assert b.cleared_by_week == ((W42, 1),)


def test_week_43_of_the_province_counted_by_hand(session: Session, world: World) -> None:
    b = bulletin_for_week(session, W43, "510000", now=LATER)
    week, total = b.total.week, b.total.cumulative
    assert (week.leads, week.opened, week.checked, week.confirmed, week.dismissed) == (
        0,
        0,
        1,
        1,
        0,
    )
    assert (week.cleared, week.rechecked, week.relapsed) == (0, 0, 1)
    assert dict(week.measures_ordered) == {MeasureKind.POWER_CUT: 1, MeasureKind.SURCHARGE: 1}
    assert dict(week.measures_completed) == {MeasureKind.POWER_CUT: 1}
    assert (week.reports_received, week.reports_closed) == (1, 0)
    # A stood cleared from the W43 start (10-24 16:00) to its relapse (10-27 10:00): 66 h
    assert week.energy_cut_kwh == pytest.approx(650.0 * 66)
    assert total.energy_cut_kwh == pytest.approx(650.0 * 120)
    assert (total.leads, total.opened, total.checked, total.confirmed) == (4, 4, 3, 2)
    assert (total.dismissed, total.cleared, total.relapsed) == (1, 1, 1)
    assert dict(total.measures_ordered) == {MeasureKind.POWER_CUT: 2, MeasureKind.SURCHARGE: 1}
    assert total.measures_completed_total == 2
    assert dict(b.total.by_stage) == {
        CaseStatus.OPEN: 1, CaseStatus.ASSIGNED: 1, CaseStatus.DISMISSED: 1,
        CaseStatus.MEASURES_ORDERED: 1,
    }  # fmt: skip
    assert (b.total.open_cases, b.total.overdue_cases, b.total.reports_overdue) == (3, 1, 1)
    assert [(r.case_no, r.days_overdue) for r in b.overdue] == [(world.d, 9)]
    assert b.cleared_by_week == ((W42, 1), (W43, 1))


def test_a_prefecture_bulletin_lists_its_counties(session: Session, world: World) -> None:
    b = bulletin_for_week(session, W42, "511800", now=LATER)
    assert b.region_name == "四川省雅安市"
    shimian, hanyuan = _row(b, "511824"), _row(b, "511823")
    assert (shimian.week.opened, shimian.week.checked, shimian.week.dismissed) == (2, 2, 1)
    assert (hanyuan.week.opened, hanyuan.week.checked, hanyuan.open_cases) == (1, 0, 1)
    assert b.total.week.opened == 3
    assert b.overdue == ()  # D lies in 成都
    county = bulletin_for_week(session, W42, "511824", now=LATER)
    assert county.children == ()
    assert county.total.week.reports_received == 1


def test_a_past_week_is_the_same_whatever_happened_since(session: Session, world: World) -> None:
    """Read at the W42's end, before anything of W43 was written, and again afterwards."""
    again = bulletin_for_week(session, W42, "510000", now=LATER)
    early = bulletin_for_week(session, W42, "510000", now=at("2021-10-25"))
    assert early.total == again.total
    assert early.end_at == again.end_at  # the week was over by 10-25 10:00 UTC


def test_a_week_not_over_is_read_up_to_now(session: Session, world: World) -> None:
    b = bulletin_for_week(session, W43, "510000", now=at("2021-10-26", 12))
    assert b.end_at == at("2021-10-26", 12)
    assert (b.total.week.checked, b.total.week.confirmed, b.total.week.relapsed) == (1, 1, 0)
    assert b.total.by_stage.get(CaseStatus.CLEARED) == 1  # A has not relapsed yet


def test_the_workbook_has_its_sheets_headers_and_numbers(
    session: Session, world: World, tmp_path: Path
) -> None:
    b = bulletin_for_week(session, W43, "510000", now=LATER)
    path = tmp_path / "bulletin.xlsx"
    write_bulletin_xlsx(b, path)
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "逾期案件", "说明"]
    summary = book["汇总"]
    assert summary["A1"].value == "四川省虚拟货币“挖矿”整治工作周报（2021年第43周）"
    headers = [cell.value for cell in summary[3]]
    assert headers == [c.header for c in COLUMNS]
    assert {"本周认定", "累计整治到位", "周末逾期案件", "累计压减用电(kWh)"} <= set(headers)
    rows = {row[0]: dict(zip(headers, row, strict=True))
            for row in summary.iter_rows(min_row=4, values_only=True)}  # fmt: skip
    assert len(rows) == 22
    assert rows["510000"]["本周认定"] == 1
    assert rows["510000"]["累计认定"] == 2
    assert rows["510000"]["周末逾期举报"] == 1
    assert rows["510000"]["累计下达措施·差别电价"] == 1
    assert rows["510100"]["周末逾期案件"] == 1
    assert rows["511800"]["本周复查反弹"] == 1
    assert (rows["511800"]["周末环节·待核查"], rows["511800"]["周末环节·处置中"]) == (1, 1)
    assert rows["510100"]["周末环节·待分派"] == 1
    overdue = list(book["逾期案件"].iter_rows(values_only=True))
    assert overdue[0][0] == "案件编号"
    assert [(r[0], r[3], r[5]) for r in overdue[1:]] == [(world.d, "待分派", 9)]
    guide = {r[0]: r[1] for r in book["说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert all(guide[c.header] for c in COLUMNS)


_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_NAMED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_LITERAL = rb"\(((?:\\[0-7]{1,3}|\\.|[^\\()])*)\)"


def _unescape(body: bytes) -> str:
    """A PDF literal string's text: UTF-16BE (with or without a BOM, as reportlab writes text in
    the CID font and in the metadata) when it decodes as such, else Latin-1."""

    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else _NAMED.get(code, code)

    raw = _ESCAPE.sub(one, body)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    return raw.decode("utf-16-be") if len(raw) % 2 == 0 else raw.decode("latin-1")


def _info_text(data: bytes, key: bytes) -> str:
    match = re.search(rb"/" + key + rb" " + _LITERAL, data)
    assert match is not None
    return _unescape(match.group(1))


def _page_text(data: bytes) -> str:
    """The text shown on every page: the content streams (ASCII85 + Flate, as reportlab
    writes them) inflated, and the strings of their ``Tj`` operators decoded."""
    shown: list[str] = []
    streams = re.finditer(
        rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length (\d+)\s*>>\s*stream\r?\n", data
    )
    for match in streams:
        raw = data[match.end() : match.end() + int(match.group(1))]
        content = zlib.decompress(base64.a85decode(raw.strip(), adobe=True))
        shown += [_unescape(m.group(1)) for m in re.finditer(_LITERAL + rb" Tj", content)]
    return "".join(shown)


def test_the_pdf_is_a_pdf_with_pages_and_the_chinese_title(
    session: Session, world: World, tmp_path: Path
) -> None:
    b = bulletin_for_week(session, W43, "510000", now=LATER)
    path = tmp_path / "bulletin.pdf"
    write_bulletin_pdf(b, path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", data)) >= 2  # table, two charts and the list
    assert len(data) > 5_000
    assert b"STSong-Light" in data
    # the document title, as reportlab writes non-ASCII text: UTF-16BE with a byte-order mark
    title = bulletin_title(b)
    assert title == "四川省虚拟货币“挖矿”整治工作周报（2021年第43周）"
    assert _info_text(data, b"Title") == title
    shown = _page_text(data)
    assert title in shown
    for text in ("逾期案件清单", "生成时间：2022-01-01 00:00 UTC", "数据来源", world.d):
        assert text in shown
    assert not list(tmp_path.glob(".*.part"))


def test_the_assessment_export_recomputes_the_confirmed_count(
    session: Session, world: World, tmp_path: Path
) -> None:
    b = bulletin_for_week(session, W43, "510000", now=LATER)
    records = assessment_records(session, b)
    assert [r.case_no for r in records] == sorted([world.a, world.b, world.c, world.d])
    path = tmp_path / "assessment.csv"
    assert write_assessment_csv(records, path) == 4
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def times(column: str) -> list[datetime]:
        return [datetime.fromisoformat(t) for r in rows if r[column]
                for t in r[column].split(";")]  # fmt: skip

    in_week = [t for t in times("confirmed_at") if b.start_at <= t < b.end_at]
    assert len(in_week) == b.total.week.confirmed == 1
    assert len(times("confirmed_at")) == b.total.cumulative.confirmed == 2
    assert len(times("relapsed_at")) == b.total.cumulative.relapsed == 1
    a = next(r for r in rows if r["case_no"] == world.a)
    assert a["region_code"] == "511824"
    assert a["measures"].startswith("power_cut|十二|2021-10-21T10:00:00+00:00|2021-10-29|")
    # no reporter, address, credit code or account number leaves the database
    text = path.read_text(encoding="utf-8-sig")
    for secret in ("13800000000", "美罗镇", "风扇", "uscc", "account"):
        assert secret not in text
    document = json.loads(
        Path(write_assessment_json(records, b, tmp_path / "a.json") and tmp_path / "a.json")
        .read_text(encoding="utf-8")
    )  # fmt: skip
    assert document["week"] == "2021-W43"
    confirmed = [t for c in document["cases"] for t in c["confirmed_at"]
                 if document["start_at"] <= t < document["end_at"]]  # fmt: skip
    assert len(confirmed) == 1


def test_an_unknown_region_is_refused(session: Session) -> None:
    from minewatch.reference.regions import UnknownRegionError

    with pytest.raises(UnknownRegionError):
        bulletin_for_week(session, W42, "519999", now=LATER)
