"""IP address allocation records (IP地址分配/备案记录) as ISPs file them, read and checked.

Notice 1283 clause (十九) asks the monitoring platform to trace mining to an IP address, a
specific enterprise and a physical address; ISPs keep, for every block they hand out, who
uses it, where, and since when. One record per row, CSV (UTF-8 or GB18030, ``,``/``;``/tab) or
Parquet, headers in English or Chinese:

=====================  ==========================================  ==========================
column                 also accepted                                content
=====================  ==========================================  ==========================
``ip_range``           IP地址段, 地址段, IP段, IP范围, cidr           ``10.20.0.0/16``, one
                                                                    address, or ``first-last``
``ip_first``           起始IP, 起始地址, 开始IP                      instead of ``ip_range``:
``ip_last``            终止IP, 结束IP, 终止地址, 结束地址            the two ends (inclusive)
``organisation``       organization, 单位名称, 使用单位, 用户名称    required
``uscc``               统一社会信用代码, 信用代码                    GB 32100, checked
``address``            详细地址, 地址, 使用地址, 机房地址            street address
``region_code``        行政区划代码, 区划代码                        GB/T 2260, optional
``isp``                运营商, 接入商, 分配单位                      who filed the record
``valid_from``         启用日期, 分配日期, 生效日期, 起始日期        date or date and time
``valid_to``           停用日期, 截止日期, 失效日期, 回收日期        empty: still in use
=====================  ==========================================  ==========================

Dates are Asia/Shanghai; ``valid_to`` as a date is the last day of use (the record ends at the
following midnight), as a date and time the instant it ended. An empty ``valid_from`` means
"since before any flow we will see".

Checked, each problem with its row and column, all listed in one
:class:`~minewatch.errors.InputFileError` (nothing is returned when there is one): a range that
is not a CIDR block or ``first-last`` of one family, host bits set after a prefix length, a
credit code with a bad check character, an unknown region code, ``valid_to`` before
``valid_from``; across rows, two records for the same block whose periods overlap, and two
blocks that overlap without one holding the other (write such blocks as CIDR blocks, which nest).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.cells import parse_instant
from minewatch.ingest.meters import (  # the small-table machinery the archive readers share
    _alias_index,
    _CellError,
    _map_columns,
    _region_cell,
    _Rows,
    _table_records,
    _uscc_cell,
)
from minewatch.reference.ip_address import IpRange, parse_range

__all__ = [
    "ALLOCATIONS_SCHEMA",
    "AllocationRecord",
    "allocation_records",
    "conflicting_pairs",
    "describe_conflict",
    "read_allocations",
]

ALLOCATIONS_SCHEMA = pa.schema(
    [
        pa.field("ip_range", pa.string(), nullable=False),
        pa.field("ip_first", pa.string(), nullable=False),
        pa.field("ip_last", pa.string(), nullable=False),
        pa.field("organisation", pa.string(), nullable=False),
        pa.field("uscc", pa.string()),
        pa.field("address", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("isp", pa.string()),
        pa.field("valid_from", pa.timestamp("ms", tz="UTC")),
        pa.field("valid_to", pa.timestamp("ms", tz="UTC")),
        pa.field("source_row", pa.int32()),
    ]
)
"""One allocation per row; ``valid_from``/``valid_to`` bound ``[from, to)`` (null: open);
``source_row`` is the row of the file it came from (for messages)."""

_ALIASES: dict[str, tuple[str, ...]] = {
    "ip_range": ("IP地址段", "地址段", "IP段", "IP范围", "IP地址范围", "cidr", "range", "网段"),
    "ip_first": ("起始IP", "起始地址", "开始IP", "起始IP地址", "first_ip"),
    "ip_last": ("终止IP", "结束IP", "终止地址", "结束地址", "终止IP地址", "last_ip"),
    "organisation": ("organization", "org", "单位名称", "使用单位", "用户名称", "使用单位名称"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码"),
    "address": ("详细地址", "地址", "使用地址", "机房地址", "单位地址"),
    "region_code": ("行政区划代码", "区划代码"),
    "isp": ("运营商", "接入商", "分配单位", "接入服务商"),
    "valid_from": ("启用日期", "分配日期", "生效日期", "起始日期", "启用时间", "分配时间"),
    "valid_to": ("停用日期", "截止日期", "失效日期", "回收日期", "停用时间", "回收时间"),
}
_INDEX = _alias_index(_ALIASES)
_LENGTHS = {"organisation": 200, "address": 300, "isp": 100}
"""The longest texts the database keeps (``ip_allocation``, and the lead they become)."""


@dataclass(frozen=True)
class AllocationRecord:
    """What the cross-row checks need of one allocation."""

    row: int
    block: IpRange
    start: datetime | None
    end: datetime | None


def _instant(value: object, end: bool = False) -> datetime | None:
    try:
        return parse_instant(value, end_of_day=end)
    except ValueError as error:
        raise _CellError(str(error)) from None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_allocations(path: Path | str) -> pa.Table:
    """Read and check an allocation file; see the module's description. Returns
    :data:`ALLOCATIONS_SCHEMA` rows in file order."""
    path = Path(path)
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _INDEX, ("organisation",))
    rows = _Rows(path, headers, positions)
    if "ip_range" not in positions and not {"ip_first", "ip_last"} <= positions.keys():
        raise InputFileError(
            path,
            [
                InputProblem(
                    1, "ip_range", "required column is missing (or give ip_first and ip_last)"
                )
            ],
        )
    columns: dict[str, list[Any]] = {name: [] for name in ALLOCATIONS_SCHEMA.names}
    checked: list[AllocationRecord] = []
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        block = _block(rows, row, cells)
        organisation = _text(rows.cell(cells, "organisation"))
        if organisation is None:
            rows.problems.append(InputProblem(row, rows.header("organisation"), "is empty"))
        start = rows.get(row, cells, "valid_from", _instant) if "valid_from" in positions else None
        end = (
            rows.get(row, cells, "valid_to", lambda v: _instant(v, end=True))
            if "valid_to" in positions
            else None
        )
        if start is not None and end is not None and end <= start:
            rows.problems.append(
                InputProblem(
                    row, rows.header("valid_to"), "ends before (or when) valid_from starts"
                )
            )
        for key, limit in _LENGTHS.items():
            text = _text(rows.cell(cells, key))
            if text is not None and len(text) > limit:
                reason = f"has {len(text)} characters; the limit is {limit}"
                rows.problems.append(InputProblem(row, rows.header(key), reason))
        values = {
            "uscc": rows.get(row, cells, "uscc", _uscc_cell) if "uscc" in positions else None,
            "address": _text(rows.cell(cells, "address")),
            "region_code": rows.get(row, cells, "region_code", _region_cell)
            if "region_code" in positions
            else None,
            "isp": _text(rows.cell(cells, "isp")),
        }
        if block is None:
            continue
        checked.append(AllocationRecord(row, block, start, end))
        columns["ip_range"].append(str(block))
        columns["ip_first"].append(str(block.first))
        columns["ip_last"].append(str(block.last))
        columns["organisation"].append(organisation)
        columns["valid_from"].append(start)
        columns["valid_to"].append(end)
        columns["source_row"].append(row)
        for key, value in values.items():
            columns[key].append(value)
    column = rows.header("ip_range") if "ip_range" in positions else rows.header("ip_first")
    rows.problems.extend(_conflicts(checked, column))
    rows.raise_problems()
    return pa.table(columns, schema=ALLOCATIONS_SCHEMA)


def _block(rows: _Rows, row: int, cells: Sequence[Any]) -> IpRange | None:
    if "ip_range" in rows.positions:
        text = _text(rows.cell(cells, "ip_range"))
        key = "ip_range"
    else:
        first, last = _text(rows.cell(cells, "ip_first")), _text(rows.cell(cells, "ip_last"))
        text = f"{first}-{last}" if first and last else first or last
        key = "ip_first" if not first else "ip_last"
    if text is None:
        rows.problems.append(InputProblem(row, rows.header(key), "is empty"))
        return None
    try:
        return parse_range(text)
    except ValueError as error:
        rows.problems.append(InputProblem(row, rows.header(key), str(error)))
        return None


def _overlap(a: AllocationRecord, b: AllocationRecord) -> bool:
    low = datetime.min.replace(tzinfo=UTC)
    high = datetime.max.replace(tzinfo=UTC)
    return (a.start or low) < (b.end or high) and (b.start or low) < (a.end or high)


def conflicting_pairs(
    records: Sequence[AllocationRecord],
) -> list[tuple[AllocationRecord, AllocationRecord, str]]:
    """``(earlier, later, reason)``: the same block for overlapping periods, or two blocks that
    overlap without one holding the other (the sweep of :mod:`~minewatch.detect.network.ranges`
    needs nesting)."""
    pairs: list[tuple[AllocationRecord, AllocationRecord, str]] = []
    by_block: dict[tuple[int, int, int], list[AllocationRecord]] = {}
    for record in records:
        block = record.block
        by_block.setdefault((block.version, int(block.first), int(block.last)), []).append(record)
    for same in by_block.values():
        same.sort(key=lambda r: (r.start or datetime.min.replace(tzinfo=UTC), r.row))
        for index, later in enumerate(same):
            for earlier in same[:index]:
                if _overlap(earlier, later):
                    pairs.append((earlier, later, "overlapping"))
                    break
    stack: list[tuple[int, int, int]] = []
    for span in sorted(by_block, key=lambda k: (k[0], k[1], -k[2])):
        while stack and (stack[-1][0] != span[0] or stack[-1][2] < span[1]):
            stack.pop()
        if stack and stack[-1][2] < span[2]:
            pairs.append((by_block[stack[-1]][0], by_block[span][0], "crossing"))
            continue
        stack.append(span)
    return pairs


def describe_conflict(
    earlier: AllocationRecord, later: AllocationRecord, reason: str, where: str
) -> str:
    """The message for a pair of :func:`conflicting_pairs`; ``where`` names ``earlier``."""
    if reason == "overlapping":
        return f"{later.block} is also allocated in {where} for an overlapping period"
    return (
        f"{later.block} overlaps {earlier.block} ({where}) without one holding the other; "
        "write both as CIDR blocks"
    )


def _conflicts(records: Sequence[AllocationRecord], column: str) -> list[InputProblem]:
    return [
        InputProblem(
            later.row, column, describe_conflict(earlier, later, why, f"row {earlier.row}")
        )
        for earlier, later, why in conflicting_pairs(records)
    ]


def allocation_records(table: pa.Table) -> list[AllocationRecord]:
    """The records of an :data:`ALLOCATIONS_SCHEMA` table, for :func:`conflicting_pairs`
    (``row`` is ``source_row``, or the position in the table when that is null)."""
    columns = table.select(["ip_first", "ip_last", "valid_from", "valid_to", "source_row"])
    return [
        AllocationRecord(
            int(r["source_row"]) if r["source_row"] is not None else index,
            IpRange(ipaddress.ip_address(r["ip_first"]), ipaddress.ip_address(r["ip_last"])),
            r["valid_from"],
            r["valid_to"],
        )
        for index, r in enumerate(columns.to_pylist())
    ]
