"""Export credit records for the credit-information sharing platform (notice 1283, （九）).

The layout follows the national credit platform's common layout for 失信/违诺 information
(one row per record, Chinese headers). CSV is UTF-8 with a byte-order mark (Excel and the
provincial platforms' import tools expect it) and ``\\r\\n`` line ends; JSON lines carry the same
keys and values, one record per line, UTF-8 without a mark.

Columns (:data:`COLUMNS`, in this order):

========================== ===================================================================
信息编号                   the record's number (``XY`` + case number); stable across exports, so
                           a correction or revocation row replaces the row of the same number
信息状态                   公示 (published), 更正 (corrected) or 撤销 (revoked on appeal)
行政相对人名称             the enterprise's name
行政相对人类别             法人及非法人组织, or 个体工商户 for codes beginning ``92``
统一社会信用代码           the enterprise's code; checked (GB 32100) for every row
法定代表人                 the enterprise's legal representative (required)
失信行为/违诺事实          the facts: committed, mining since, where, rigs, power, case number
认定依据                   :data:`~minewatch.domain.credit.service.BASIS` (第九条)
处理措施                   不履行承诺, then the restriction
认定日期                   decision date, YYYY-MM-DD (Asia/Shanghai)
认定机关                   the deciding authority's name
认定机关统一社会信用代码   the authority's code when recorded (optional; checked when present)
数据来源单位               the authority that sends the data (the deciding authority)
公示截止日期               last day of publication, YYYY-MM-DD
备注                       the commitment (text version, signing date), and for a correction
                           or revocation its reason
========================== ===================================================================

**Revoked records are exported, as revocations** (信息状态 = 撤销, the reason in 备注), rather
than omitted: a platform that received the record earlier only withdraws it when told, and an
omitted row would leave the 失信 information published.

An export is all or nothing: every row is built and checked before anything is written, and a
row with a bad credit code or no legal representative stops it with an error naming the record
and the column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from minewatch.domain.credit.models import CreditRecord, RecordStatus
from minewatch.domain.credit.service import BASIS, CreditError, list_records
from minewatch.reference import credit_code, regions

COLUMNS: tuple[str, ...] = (
    "信息编号",
    "信息状态",
    "行政相对人名称",
    "行政相对人类别",
    "统一社会信用代码",
    "法定代表人",
    "失信行为/违诺事实",
    "认定依据",
    "处理措施",
    "认定日期",
    "认定机关",
    "认定机关统一社会信用代码",
    "数据来源单位",
    "公示截止日期",
    "备注",
)
"""The export's columns, in order (documented in the module docstring)."""

STATUS_LABELS: dict[RecordStatus, str] = {
    RecordStatus.PUBLISHED: "公示",
    RecordStatus.CORRECTED: "更正",
    RecordStatus.REVOKED: "撤销",
}

LEGAL_PERSON = "法人及非法人组织"
INDIVIDUAL_BUSINESS = "个体工商户"

Row = dict[str, str]


class CreditExportError(CreditError):
    """A record that cannot be exported as it stands; nothing was written."""


def subject_category(uscc: str) -> str:
    """行政相对人类别 from a credit code: ``92…`` (registered by market regulation as an
    individual business) is 个体工商户, every other code a 法人及非法人组织."""
    return INDIVIDUAL_BUSINESS if uscc.startswith("92") else LEGAL_PERSON


def _checked(code: str, record_no: str, column: str) -> str:
    try:
        return credit_code.validate(code)
    except credit_code.InvalidCreditCodeError as error:
        raise CreditExportError(f"credit record {record_no}, {column}: {error.reason}") from error


def record_row(record: CreditRecord) -> Row:
    """The export row of one record; raises :class:`CreditExportError` when a credit code fails
    its check or the legal representative is missing."""
    uscc = _checked(record.uscc, record.record_no, "统一社会信用代码")
    authority_uscc = (
        ""
        if not record.authority_uscc
        else _checked(record.authority_uscc, record.record_no, "认定机关统一社会信用代码")
    )
    enterprise = record.enterprise
    if not (enterprise.legal_representative or "").strip():
        raise CreditExportError(
            f"credit record {record.record_no}, 法定代表人: the enterprise {uscc} has no legal "
            "representative on file (record it with `minewatch enterprise`)"
        )
    commitment = record.commitment
    notes = [
        f"信用承诺书（文本版本{commitment.text_version}，{commitment.signed_date:%Y-%m-%d}签署，"
        f"有效期至{commitment.valid_until:%Y-%m-%d}）；案件编号{record.case_no}"
    ]
    if record.status is RecordStatus.CORRECTED and record.status_reason:
        notes.append(f"更正原因：{record.status_reason}")
    if record.status is RecordStatus.REVOKED:
        notes.append(f"申诉撤销：{record.status_reason or ''}")
    return {
        "信息编号": record.record_no,
        "信息状态": STATUS_LABELS[record.status],
        "行政相对人名称": enterprise.name,
        "行政相对人类别": subject_category(uscc),
        "统一社会信用代码": uscc,
        "法定代表人": (enterprise.legal_representative or "").strip(),
        "失信行为/违诺事实": record.facts,
        "认定依据": BASIS,
        "处理措施": f"{record.measure}；{record.restriction}",
        "认定日期": record.decision_date.isoformat(),
        "认定机关": record.authority_name,
        "认定机关统一社会信用代码": authority_uscc,
        "数据来源单位": record.authority_name,
        "公示截止日期": record.publicity_until.isoformat(),
        "备注": "；".join(notes),
    }


def export_rows(session: Session, *, within: str = regions.NATIONAL) -> list[Row]:
    """Every record decided in ``within`` and below, as checked export rows."""
    return [record_row(record) for record in list_records(session, within=within)]


def csv_bytes(rows: Iterable[Row]) -> bytes:
    """Rows as the CSV file's bytes: UTF-8 with BOM, Chinese headers, ``\\r\\n`` line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def jsonl_bytes(rows: Iterable[Row]) -> bytes:
    """Rows as JSON lines' bytes (UTF-8 without BOM, keys as the CSV headers, empty optional
    values as ``null``)."""
    lines = (
        json.dumps({key: (row[key] or None) for key in COLUMNS}, ensure_ascii=False) + "\n"
        for row in rows
    )
    return "".join(lines).encode("utf-8")


def write_csv(rows: Iterable[Row], path: Path) -> int:
    """Write rows as CSV (UTF-8 with BOM, Chinese headers); returns the number of rows."""
    items = list(rows)
    path.write_bytes(csv_bytes(items))
    return len(items)


def write_jsonl(rows: Iterable[Row], path: Path) -> int:
    """Write rows as JSON lines (UTF-8, keys as the CSV headers, empty optional values as
    ``null``); returns the number of rows."""
    items = list(rows)
    path.write_bytes(jsonl_bytes(items))
    return len(items)


def read_csv(path: Path) -> list[Row]:
    """Read an export back (for checks and tests); refuses a file without the BOM or headers."""
    raw = path.read_bytes()
    if not raw.startswith(b"\xef\xbb\xbf"):
        raise CreditExportError(f"{path}: no UTF-8 byte-order mark")
    reader = csv.DictReader(raw.decode("utf-8-sig").splitlines())
    headers: Sequence[str] = reader.fieldnames or ()
    if tuple(headers) != COLUMNS:
        raise CreditExportError(f"{path}: headers {list(headers)} are not the export's columns")
    return list(reader)
