"""Dispatch instructions (调度指令), curtailment records (弃水/限电记录) and maintenance
outages (检修/停运), the recorded reasons for a plant to produce less than its water allows.

Notice 1283 clause (五) asks for the output drops *other than* those of water or dispatch
(除来水、调度等系统原因以外); these records are what the detector subtracts before it judges
a drop. One record per row, CSV or Parquet (see :mod:`minewatch.ingest.plants`), headers in
English or Chinese:

==================  ===============================================  ===========================
column              also accepted                                    content
==================  ===============================================  ===========================
``plant_id``        电站编号, 电厂编号, 电站代码, 场站编号, plant     required
``kind``            类型, 事件类型, 记录类型, 类别, event_type        see below; required unless
                                                                     ``kind=`` is given
``start_at``        开始时间, 起始时间, 开始日期, 起始日期, start     required; a date alone is
                                                                     its local midnight
``end_at``          结束时间, 终止时间, 截止时间, 结束日期, 恢复时间   required; a date alone is
                    复役时间, end                                    the whole day (inclusive)
``limit_kw``        限制出力, 出力限值, 限出力值, 出力上限, limit     dispatch, curtailment: the
                                                                     ceiling; kW, MW or 万kW by
                                                                     header or cell; empty: 0
``unavailable_kw``  停运容量, 检修容量, 受阻容量, 不可用容量          maintenance: the capacity
                                                                     out; empty: the whole plant
``record_no``       编号, 记录编号, 指令编号, 票号, 工作票号, 单号
``note``            备注, 说明, 原因, 事由, remark, reason
==================  ===============================================  ===========================

Kinds (:class:`~minewatch.ingest.schemas.PlantEventKind`), by English or Chinese words; a cell
that is not one of them but holds the words of exactly one kind (``1号机组计划检修``) is that
kind:

* ``dispatch`` — 调度, 调度指令, 调度令, 限出力, 限负荷, 调峰;
* ``curtailment`` — 弃水, 限电, 弃电, 弃水限电;
* ``maintenance`` — 检修, 停运, 停机, 故障, 消缺, outage.

Times are Asia/Shanghai unless they carry a zone; ``24:00`` is the midnight that ends the day.
``end_at`` is exclusive. Checked, each with its row and column: an empty plant, kind or time,
a kind not understood, ``end_at`` before (or at) ``start_at``, a negative limit or capacity,
``limit_kw`` on a maintenance record or ``unavailable_kw`` on a dispatch or curtailment record
(the detector reads only the one its kind takes; write the other kind's column instead).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputProblem
from minewatch.ingest.cells import parse_instant
from minewatch.ingest.meters import _CellError, _header_key, _Rows, _table_records, expand_inputs
from minewatch.ingest.plants_common import (
    PLANT_ID_ALIASES,
    Column,
    Quantity,
    plan_headers,
    quantity_cell,
    text_of,
    unit_index,
)
from minewatch.ingest.schemas import PLANT_EVENTS_SCHEMA, PlantEventKind

__all__ = ["EVENT_KIND_LABELS", "read_plant_events"]

_ALIASES: dict[str, tuple[str, ...]] = {
    "plant_id": PLANT_ID_ALIASES,
    "kind": ("type", "event_type", "类型", "事件类型", "记录类型", "类别", "事件类别", "性质"),
    "start_at": (
        "start",
        "start_time",
        "from",
        "开始时间",
        "起始时间",
        "开始日期",
        "起始日期",
        "开始",
        "生效时间",
        "执行时间",
    ),
    "end_at": (
        "end",
        "end_time",
        "to",
        "until",
        "结束时间",
        "终止时间",
        "截止时间",
        "结束日期",
        "截止日期",
        "终止日期",
        "结束",
        "恢复时间",
        "复役时间",
    ),
    "limit_kw": ("limit", "限制出力", "出力限值", "限出力值", "限值", "出力上限", "限制负荷"),
    "unavailable_kw": (
        "unavailable",
        "停运容量",
        "检修容量",
        "受阻容量",
        "不可用容量",
        "停机容量",
    ),
    "record_no": (
        "record",
        "ticket",
        "编号",
        "记录编号",
        "指令编号",
        "票号",
        "工作票号",
        "检修单号",
        "单号",
        "调度指令号",
    ),
    "note": ("remark", "reason", "备注", "说明", "原因", "事由", "内容"),
}
_INDEX = unit_index(_ALIASES, {"limit_kw": Quantity.POWER, "unavailable_kw": Quantity.POWER})
_ALLOWED = {"limit_kw": (Quantity.POWER,), "unavailable_kw": (Quantity.POWER,)}

EVENT_KIND_LABELS: dict[PlantEventKind, tuple[str, ...]] = {
    PlantEventKind.DISPATCH: (
        "dispatch_instruction",
        "调度",
        "调度指令",
        "调度令",
        "限出力",
        "限负荷",
        "调峰",
    ),
    PlantEventKind.CURTAILMENT: ("curtail", "弃水", "限电", "弃电", "弃水限电", "弃水记录"),
    PlantEventKind.MAINTENANCE: (
        "outage",
        "planned_outage",
        "forced_outage",
        "检修",
        "停运",
        "停机",
        "故障",
        "消缺",
    ),
}
"""The words a record may use for each kind; the Chinese ones also match inside a phrase."""
_KIND_INDEX = {
    _header_key(label): kind
    for kind, labels in EVENT_KIND_LABELS.items()
    for label in (kind.value, *labels)
}
_KIND_WORDS = [
    (_header_key(label), kind)
    for kind, labels in EVENT_KIND_LABELS.items()
    for label in labels
    if not label.isascii()
]


def event_kind(value: object) -> PlantEventKind | None:
    """The kind a cell names, ``None`` when empty; ``_CellError`` when it names none or two."""
    text = text_of(value)
    if text is None:
        return None
    key = _header_key(text)
    kind = _KIND_INDEX.get(key)
    if kind is not None:
        return kind
    found = {kind for word, kind in _KIND_WORDS if word in key}
    if len(found) == 1:
        return found.pop()
    choices = "; ".join(
        f"{kind.value} ({'/'.join(labels[1:3])})" for kind, labels in EVENT_KIND_LABELS.items()
    )
    if found:
        names = " and ".join(sorted(kind.value for kind in found))
        raise _CellError(f"{text!r} reads as both {names}; write one of: {choices}")
    raise _CellError(f"{text!r} is not a kind of record; write one of: {choices}")


_HOUR_24 = re.compile(r"^(?P<day>.*\d)(?:[ T]+|日)24(?::|时)00(?::00)?(?:分)?$")


def _instant(value: object, *, end: bool) -> datetime:
    text = value
    later = timedelta(0)
    if isinstance(value, str):
        normal = unicodedata.normalize("NFKC", value).strip()
        match = _HOUR_24.match(normal)
        if match is not None:
            text, later = match["day"] + " 00:00", timedelta(days=1)
    try:
        instant = parse_instant(text, end_of_day=end)
    except ValueError as error:
        raise _CellError(str(error)) from None
    if instant is None:
        raise _CellError("is empty")
    return instant + later


def _power(column: Column | None) -> Any:
    def parse(value: object) -> float | None:
        if column is None:
            return None
        kw = quantity_cell(value, (Quantity.POWER,), column)
        if kw is not None and kw < 0:
            raise _CellError(f"{kw:g} kW is negative")
        return kw

    return parse


def read_plant_events(
    spec: str | Path | Sequence[str | Path], *, kind: PlantEventKind | str | None = None
) -> pa.Table:
    """Read dispatch, curtailment and maintenance records (see the module's description).

    Parameters
    ----------
    spec : str, Path or a sequence of them
        A file, a glob pattern or a folder (:func:`~minewatch.ingest.meters.expand_inputs`).
    kind : PlantEventKind or str, optional
        The kind of the records of files without a kind column, and of empty kind cells
        (a maintenance plan exported alone, say); words as in a kind cell.

    Returns
    -------
    pyarrow.Table
        :data:`~minewatch.ingest.schemas.PLANT_EVENTS_SCHEMA` rows in file order; times UTC,
        ``end_at`` exclusive; ``limit_kw`` and ``unavailable_kw`` in kW.

    Raises
    ------
    InputFileError
        Naming every problem of the first file that has any, with row and column.
    """
    default: PlantEventKind | None = None
    if kind is not None:
        try:
            default = event_kind(kind)
        except _CellError as error:
            raise ValueError(f"kind: {error}") from None
    tables = [_read_event_file(path, default) for path in expand_inputs(spec)]
    return pa.concat_tables(tables) if tables else PLANT_EVENTS_SCHEMA.empty_table()


def _read_event_file(path: Path, default: PlantEventKind | None) -> pa.Table:
    headers, records = _table_records(path)
    required = ["plant_id", "start_at", "end_at"] + (["kind"] if default is None else [])
    columns = plan_headers(
        path, headers, _INDEX, required=required, allowed=_ALLOWED, aliases=_ALIASES
    )
    rows = _Rows(path, headers, {key: column.position for key, column in columns.items()})
    limit = _power(columns.get("limit_kw"))
    unavailable = _power(columns.get("unavailable_kw"))
    out: dict[str, list[Any]] = {name: [] for name in PLANT_EVENTS_SCHEMA.names}
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        plant = text_of(rows.cell(cells, "plant_id"))
        if plant is None:
            rows.problems.append(InputProblem(row, rows.header("plant_id"), "is empty"))
        what = rows.get(row, cells, "kind", event_kind) if "kind" in columns else None
        if what is None:
            what = default
            if what is None and not any(
                p.row == row and p.column == rows.header("kind") for p in rows.problems
            ):
                rows.problems.append(InputProblem(row, rows.header("kind"), "is empty"))
        start = rows.get(row, cells, "start_at", lambda v: _instant(v, end=False))
        end = rows.get(row, cells, "end_at", lambda v: _instant(v, end=True))
        if start is not None and end is not None and end <= start:
            reason = f"ends ({end:%Y-%m-%d %H:%M} UTC) before or when it starts"
            rows.problems.append(InputProblem(row, rows.header("end_at"), reason))
        ceiling = rows.get(row, cells, "limit_kw", limit)
        out_kw = rows.get(row, cells, "unavailable_kw", unavailable)
        if what is PlantEventKind.MAINTENANCE and ceiling is not None:
            reason = "a maintenance record takes unavailable_kw (停运容量), not an output limit"
            rows.problems.append(InputProblem(row, rows.header("limit_kw"), reason))
        if what in (PlantEventKind.DISPATCH, PlantEventKind.CURTAILMENT) and out_kw is not None:
            reason = f"a {what.value} record takes limit_kw (限制出力), not a capacity out"
            rows.problems.append(InputProblem(row, rows.header("unavailable_kw"), reason))
        out["plant_id"].append(plant)
        out["kind"].append(what.value if what is not None else None)
        out["start_at"].append(start)
        out["end_at"].append(end)
        out["limit_kw"].append(ceiling)
        out["unavailable_kw"].append(out_kw)
        out["record_no"].append(text_of(rows.cell(cells, "record_no")))
        note = rows.cell(cells, "note")
        out["note"].append(str(note).strip() or None if note is not None else None)
    rows.raise_problems()
    return pa.table(out, schema=PLANT_EVENTS_SCHEMA)
