"""The clearance report's files: what the supervising department reads, and what ``selfcheck
verify`` reads back (key id, digest, signature and, from a workbook, the signed figures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from minewatch.domain.audit.service import canonical_json
from minewatch.domain.selfcheck import export
from minewatch.domain.selfcheck.clearance import (
    CLEAN,
    CLEARED,
    OPEN,
    UNCHECKED,
    Clearance,
    HostRow,
    SignedClearance,
)
from minewatch.domain.selfcheck.export import (
    cell_chunks,
    read_clearance_file,
    read_clearance_pdf,
    read_clearance_xlsx,
    report_title,
    write_clearance_pdf,
    write_clearance_xlsx,
)
from minewatch.errors import MineWatchError

AS_OF = "2026-11-27T13:00:00+00:00"  # 21:00 in Beijing
TEST_KEY = b"unit key of the tests"


def _host(number: int, state: str = CLEARED, *, listed: bool = True) -> HostRow:
    found = state in (OPEN, CLEARED)
    return HostRow(
        asset_id=f"XX-SRV-{number:04d}" if listed else f"未登记:gpu-{number}",
        listed=listed, department="网络与信息中心", room="图书馆B1机房", rack=f"A{number % 12:02d}",
        owner="王工", hostname=f"node{number}", ips=[f"10.2.{number // 250}.{number % 250}", "::1"],
        checks=0 if state == UNCHECKED else 2,
        last_check_at=None if state == UNCHECKED else "2026-11-26T02:30:00+00:00",
        last_clean_at="2026-11-26T02:30:00+00:00" if state in (CLEAN, CLEARED) else None,
        last_finding_at="2026-11-20T16:15:00+00:00" if found else None,
        finding_sources=["network", "probe"] if found else [],
        rules=["xmrig进程", "矿池域名解析"] if found else [],
        actions=["2026-11-21 封禁IP地址", "2026-11-22 清除挖矿程序"] if found else [],
        case_no=f"AJ-2026-{number:05d}" if found else None, state=state,
    )  # fmt: skip


def _sign(figures: Clearance, key_id: str = "9f3c2a1b0d4e5f60") -> SignedClearance:
    """Signed as :func:`minewatch.domain.selfcheck.clearance.sign_clearance` signs, under a key
    of the tests' own."""
    digest = hashlib.sha256(canonical_json(figures.payload()).encode("utf-8")).hexdigest()
    signature = hmac.new(TEST_KEY, digest.encode("ascii"), hashlib.sha256).hexdigest()
    return SignedClearance(figures, key_id, digest, signature, "2026-11-27T13:05:00+00:00")


def _report(hosts: list[HostRow], *, since: str | None = None) -> SignedClearance:
    listed = [h for h in hosts if h.listed]
    items = [f"{h.asset_id}（网络与信息中心，王工）：未提交探针检查报告" for h in hosts
             if h.state == UNCHECKED]  # fmt: skip
    figures = Clearance(
        unit="某某大学", region_code="110108", uscc="12100000400012345X", supervisor="教育部",
        as_of=AS_OF, since=since, in_ledger=len(listed),
        checked=sum(h.state != UNCHECKED for h in listed),
        unchecked=sum(h.state == UNCHECKED for h in listed),
        with_findings=sum(h.last_finding_at is not None for h in hosts),
        rechecked_clean=sum(h.state == CLEARED for h in hosts),
        open_findings=sum(h.state == OPEN for h in hosts),
        unlisted_hosts=sum(not h.listed for h in hosts),
        actions={"ip_blocked": 4, "account_blocked": 1, "miner_removed": 3, "taken_offline": 0},
        dynamic_zero=bool(listed) and all(h.state in (CLEAN, CLEARED) for h in hosts),
        hosts=hosts, open_items=items,
    )  # fmt: skip
    return _sign(figures)


@pytest.fixture(scope="module")
def big_report() -> SignedClearance:
    """600 servers: figures far longer than one Excel cell holds."""
    states = (CLEARED, CLEAN, OPEN, UNCHECKED)
    return _report([_host(n, states[n % 4], listed=n % 50 != 0) for n in range(600)])


@pytest.fixture(scope="module")
def big_pdf(big_report: SignedClearance, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clearance") / "clearance.pdf"
    write_clearance_pdf(big_report, path)
    return path


def _rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_clearance_workbook_round_trips_seal_and_figures(tmp_path: Path) -> None:
    signed = _report([_host(1), _host(2, CLEAN), _host(3, OPEN)], since="2026-11-01")
    path = tmp_path / "自查报告.xlsx"
    write_clearance_xlsx(signed, path)
    key_id, digest, signature, payload = read_clearance_xlsx(path)
    assert (key_id, digest, signature) == (signed.key_id, signed.sha256, signed.signature)
    assert payload == signed.clearance.payload()
    # what `selfcheck verify` checks: the figures read back hash to the signed digest
    assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() == signed.sha256
    assert read_clearance_file(path) == (key_id, digest, signature, payload)
    seal = {r[0]: r[1] for r in _rows(path, "签章")}
    assert seal["单位"] == "某某大学"
    assert seal["签发时间"] == "2026-11-27 21:05（北京时间）"
    assert "minewatch selfcheck verify <文件>" in seal["核验方法"]
    assert list(tmp_path.iterdir()) == [path]


def test_clearance_workbook_splits_long_figures_over_rows(
    big_report: SignedClearance, tmp_path: Path
) -> None:
    text = json.dumps(big_report.clearance.payload(), ensure_ascii=False, sort_keys=True)
    assert len(text) > 32_767
    path = tmp_path / "clearance.xlsx"
    write_clearance_xlsx(big_report, path)
    pieces = [r for r in _rows(path, "签章") if str(r[0]).startswith("报告数据JSON")]
    assert len(pieces) == -(-len(text) // 32_767)
    assert all(len(value) <= 32_767 for _, value in pieces)
    assert all("超过Excel单元格32,767字符上限" in label for label, _ in pieces)
    assert "".join(value for _, value in pieces) == text
    assert read_clearance_xlsx(path) == (
        big_report.key_id,
        big_report.sha256,
        big_report.signature,
        big_report.clearance.payload(),
    )
    assert len(_rows(path, "资产明细")) == 1 + 600


@pytest.mark.parametrize("zero", [True, False])
def test_clearance_summary_sheet_states_figures_and_dynamic_zero(
    tmp_path: Path, zero: bool
) -> None:
    hosts = [_host(1), _host(2, CLEAN)] + ([] if zero else [_host(3, OPEN), _host(4, UNCHECKED)])
    signed = _report(hosts)
    assert signed.clearance.dynamic_zero is zero
    path = tmp_path / "clearance.xlsx"
    write_clearance_xlsx(signed, path)
    rows = _rows(path, "汇总")
    assert rows[0][0] == "某某大学机房虚拟货币“挖矿”自查清理情况报告"
    values = {r[0]: r[1] for r in rows[1:] if r[0]}
    assert values["统计截至"] == "2026-11-27 21:00（北京时间）"
    assert values["自查起始"] == "全部"
    assert (values["区划代码"], values["统一社会信用代码"], values["主管部门"]) == (
        "110108", "12100000400012345X", "教育部",
    )  # fmt: skip
    labels = ("台账资产数", "已检查资产数", "未检查资产数", "有发现主机数", "已复查清零", "待处置")
    expected = (2, 2, 0, 1, 1, 0) if zero else (4, 3, 1, 2, 1, 1)
    assert tuple(values[k] for k in labels) == expected
    assert values["未登记主机数"] == 0
    actions = {k: values[k] for k in ("封禁IP地址", "封停网络账号", "清除挖矿程序", "下线停用")}
    assert actions == {"封禁IP地址": 4, "封停网络账号": 1, "清除挖矿程序": 3, "下线停用": 0}
    assert values["动态清零"] == ("是" if zero else "否")
    if zero:
        assert "结论：已实现动态清零。" in values
    else:
        assert "结论：尚未实现动态清零（待处置 1 台，未检查 1 台）。" in values
    sheet = load_workbook(path)["汇总"]
    (row,) = [r for r in sheet.iter_rows() if r[0].value == "动态清零"]
    assert row[0].font.bold
    assert row[1].font.bold


def test_clearance_host_sheet_shows_each_server_in_beijing_time(tmp_path: Path) -> None:
    odd = replace(_host(7, OPEN, listed=False), hostname="=cmd|' /C calc'!A0")
    signed = _report([_host(1), _host(2, UNCHECKED), odd])
    path = tmp_path / "clearance.xlsx"
    write_clearance_xlsx(signed, path)
    header, first, unchecked, unlisted = _rows(path, "资产明细")
    assert header == (
        "资产编号", "是否登记", "使用部门", "机房", "机柜", "责任人", "主机名", "IP地址",
        "检查次数", "最近检查", "最近无异常", "最近发现", "发现来源", "命中规则", "处置记录",
        "案件编号", "状态",
    )  # fmt: skip
    assert first == (
        "XX-SRV-0001", "是", "网络与信息中心", "图书馆B1机房", "A01", "王工", "node1",
        "10.2.0.1, ::1", 2, "2026-11-26 10:30", "2026-11-26 10:30", "2026-11-21 00:15",
        "网络监测、探针", "xmrig进程、矿池域名解析",
        "2026-11-21 封禁IP地址；2026-11-22 清除挖矿程序", "AJ-2026-00001", "已复查清零",
    )  # fmt: skip
    assert unchecked[8:12] == (0, None, None, None)
    assert unchecked[-1] == "未检查"
    assert (unlisted[0], unlisted[1], unlisted[-1]) == ("未登记:gpu-7", "否", "有发现待处置")
    # a host name that looks like a formula stays text
    sheet = load_workbook(path)["资产明细"]
    assert sheet["G4"].value == "=cmd|' /C calc'!A0"
    assert sheet["G4"].data_type == "s"
    assert sheet.freeze_panes == "B2"


def test_clearance_open_items_sheet_numbers_items_or_says_none(tmp_path: Path) -> None:
    path = tmp_path / "clearance.xlsx"
    write_clearance_xlsx(_report([_host(1), _host(2, UNCHECKED), _host(3, UNCHECKED)]), path)
    assert _rows(path, "未关闭事项") == [
        ("序号", "未关闭事项"),
        (1, "XX-SRV-0002（网络与信息中心，王工）：未提交探针检查报告"),
        (2, "XX-SRV-0003（网络与信息中心，王工）：未提交探针检查报告"),
    ]
    write_clearance_xlsx(_report([_host(1)]), path)
    assert _rows(path, "未关闭事项")[1:] == [("—", "无")]


def test_clearance_cell_chunks_count_utf16_units_and_rejoin() -> None:
    text = "矿" * 40_000 + "😀" * 20_000 + "a" * 5
    chunks = cell_chunks(text)
    assert "".join(chunks) == text
    assert all(len(c.encode("utf-16-le")) // 2 <= 32_767 for c in chunks)
    assert len(chunks) == 3
    assert cell_chunks("{}") == ["{}"]


def test_clearance_payload_pieces_keep_spaces_and_equals_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut into many small pieces, some start or end with a space or start with ``=``; the
    figures still come back exactly."""
    monkeypatch.setattr(export, "EXCEL_CELL_LIMIT_CHARS", 7)
    hosts = [replace(_host(n), hostname=f" =a {n} ", owner="= 王 ") for n in range(5)]
    signed = _report(hosts)
    path = tmp_path / "clearance.xlsx"
    write_clearance_xlsx(signed, path)
    pieces = [r[1] for r in _rows(path, "签章") if str(r[0]).startswith("报告数据JSON")]
    assert any(p.startswith(" ") for p in pieces)
    assert any(p.endswith(" ") for p in pieces)
    assert any(p.startswith("=") for p in pieces)
    assert read_clearance_xlsx(path)[3] == signed.clearance.payload()


_ESCAPED = re.compile(rb"\\([0-7]{1,3}|[()\\nrtbf])")


def _literal(body: bytes) -> bytes:
    named = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    return _ESCAPED.sub(
        lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else named.get(m[1], m[1]), body
    )


def _page_texts(data: bytes) -> list[bytes]:
    """Each content stream (one a page) inflated, escapes undone: text in STSong-Light shows as
    UTF-16BE."""
    pages = []
    for match in re.finditer(rb"/Length (\d+)\s*>>\s*stream\r?\n", data):
        raw = data[match.end() : match.end() + int(match.group(1))]
        pages.append(_literal(zlib.decompress(base64.a85decode(raw.strip(), adobe=True))))
    return pages


def _shown_utf16(data: bytes) -> bytes:
    return b"".join(_page_texts(data))


def test_clearance_pdf_round_trips_seal_in_keywords(tmp_path: Path) -> None:
    signed = _report([_host(1), _host(2, OPEN)])
    path = tmp_path / "自查报告.pdf"
    write_clearance_pdf(signed, path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    keywords = (
        f"minewatch-clearance key_id={signed.key_id} sha256={signed.sha256} hmac={signed.signature}"
    )
    assert f"/Keywords ({keywords})".encode("ascii") in data
    assert read_clearance_pdf(path) == (signed.key_id, signed.sha256, signed.signature)
    assert read_clearance_file(path) == (signed.key_id, signed.sha256, signed.signature, None)
    title = re.search(rb"/Title \(((?:\\.|[^\\)])*)\)", data)
    assert title is not None
    assert _literal(title[1]).decode("utf-16") == report_title(signed.clearance)
    shown = _shown_utf16(data)
    verdict = "结论：尚未实现动态清零（待处置 1 台，未检查 0 台）。"
    headings = ("二、未关闭事项", "三、资产检查明细", "四、签章", "单位密钥编号")
    for text in (report_title(signed.clearance), verdict, *headings):
        assert text.encode("utf-16-be") in shown, text
    assert signed.signature.encode() in shown
    assert list(tmp_path.iterdir()) == [path]


def test_clearance_pdf_says_when_the_unit_is_at_dynamic_zero(tmp_path: Path) -> None:
    path = tmp_path / "clearance.pdf"
    write_clearance_pdf(_report([_host(1), _host(2, CLEAN)]), path)
    assert "结论：已实现动态清零。".encode("utf-16-be") in _shown_utf16(path.read_bytes())


def test_clearance_pdf_of_600_servers_runs_over_pages_with_the_header_repeated(
    big_report: SignedClearance, big_pdf: Path
) -> None:
    data = big_pdf.read_bytes()
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 8
    assert len(data) > 30_000
    texts = _page_texts(data)
    assert len(texts) == pages
    table_pages = [t for t in texts if "2026-11-26".encode("utf-16-be") in t]  # 最近检查
    assert len(table_pages) >= 5
    assert all("最近发现".encode("utf-16-be") in t for t in table_pages)
    assert "XX-SRV-0599".encode("utf-16-be") in b"".join(texts)
    assert f"第 {pages} 页".encode("utf-16-be") in texts[-1]
    assert read_clearance_pdf(big_pdf) == (
        big_report.key_id,
        big_report.sha256,
        big_report.signature,
    )


def test_clearance_pdf_reader_undoes_escapes_and_reads_hex_strings(tmp_path: Path) -> None:
    signed = replace(_report([_host(1)]), key_id="uk(1)\\x")
    path = tmp_path / "escaped.pdf"
    write_clearance_pdf(signed, path)
    assert b"key_id=uk\\(1\\)\\\\x" in path.read_bytes()
    assert read_clearance_pdf(path)[0] == "uk(1)\\x"

    text = f"minewatch-clearance key_id=abc sha256={'1' * 64} hmac={'2' * 64}"
    hexed = ("feff" + text.encode("utf-16-be").hex()).upper().encode()
    rewritten = tmp_path / "rewritten.pdf"
    rewritten.write_bytes(b"%PDF-1.7\n1 0 obj << /Keywords <" + hexed + b"> >> endobj\n%%EOF\n")
    assert read_clearance_pdf(rewritten) == ("abc", "1" * 64, "2" * 64)


def test_clearance_pdf_refuses_a_key_id_the_keywords_cannot_carry(tmp_path: Path) -> None:
    path = tmp_path / "clearance.pdf"
    with pytest.raises(MineWatchError, match="printable ASCII"):
        write_clearance_pdf(replace(_report([_host(1)]), key_id="单位 1"), path)
    assert list(tmp_path.iterdir()) == []


def _not_a_report(kind: str, folder: Path) -> Path:
    if kind == "text.xlsx":
        path = folder / "notes.xlsx"
        path.write_text("not a workbook", encoding="utf-8")
    elif kind == "other.xlsx":
        path = folder / "bulletin.xlsx"
        book = Workbook()
        book.create_sheet("汇总").append(["周报"])
        book.save(path)
    elif kind == "unsigned.xlsx":
        path = folder / "unsigned.xlsx"
        book = Workbook()
        seal = book.create_sheet("签章")
        seal.append(["单位密钥编号", "9f3c2a1b0d4e5f60"])
        seal.append(["摘要SHA-256", "a" * 64])
        book.save(path)
    elif kind == "text.pdf":
        path = folder / "notes.pdf"
        path.write_text("not a PDF", encoding="utf-8")
    elif kind == "other.pdf":
        path = folder / "other.pdf"
        path.write_bytes(b"%PDF-1.4\n1 0 obj << /Keywords (weekly bulletin) >> endobj\n%%EOF\n")
    elif kind == "missing.pdf":
        path = folder / "missing.pdf"
    else:
        path = folder / "clearance.txt"
        path.write_text("minewatch-clearance", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "kind",
    ["text.xlsx", "other.xlsx", "unsigned.xlsx", "text.pdf", "other.pdf", "missing.pdf", "txt"],
)
def test_reading_what_is_no_clearance_report_names_the_file(tmp_path: Path, kind: str) -> None:
    path = _not_a_report(kind, tmp_path)
    with pytest.raises(MineWatchError) as raised:
        read_clearance_file(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("suffix", [".xlsx", ".pdf"])
def test_clearance_write_into_a_missing_folder_leaves_nothing(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "absent" / f"clearance{suffix}"
    write = write_clearance_xlsx if suffix == ".xlsx" else write_clearance_pdf
    with pytest.raises(OSError):  # noqa: PT011 - any error of the file system
        write(_report([_host(1)]), path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".xlsx", ".pdf"])
def test_failed_clearance_rewrite_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = tmp_path / f"clearance{suffix}"
    write = write_clearance_xlsx if suffix == ".xlsx" else write_clearance_pdf
    write(_report([_host(1)]), path)
    before = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write(_report([_host(1), _host(2, OPEN)]), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_clearance_workbook_failing_mid_save_leaves_no_part_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_save(self: Workbook, filename: Path) -> None:
        Path(filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(Workbook, "save", half_save)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_clearance_xlsx(_report([_host(1)]), tmp_path / "clearance.xlsx")
    assert list(tmp_path.iterdir()) == []
