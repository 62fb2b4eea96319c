"""NAT logs (NAT日志 / 地址转换日志) of a unit's own egress: which inside host a public
address and port stood for, when.

A unit (a university, a government office, an SOE) that must find mining in its own server room
sees, at its border or in an ISP's capture, only its public addresses. Its firewall or CGNAT logs
each translation. One translation per row, CSV or Parquet, English or Chinese headers:

==================  ============================================  =============================
column              also accepted                                  content
==================  ============================================  =============================
``public_ip``       公网IP, 外网IP, 转换后IP, 转换后地址, nat_ip  required
``public_port``     公网端口, 外网端口, 转换后端口, nat_port       a port or a block ``1024-1535``;
                                                                  empty: every port (1:1 NAT)
``internal_ip``     内网IP, 私网IP, 转换前IP, 源IP, 源地址         required
``internal_port``   内网端口, 私网端口, 转换前端口, 源端口         optional
``protocol``        协议                                          ``tcp``/``udp``/6/17; empty: any
``start_at``        开始时间, 建立时间, 创建时间, start_time       required
``end_at``          结束时间, 释放时间, 老化时间, end_time         empty: still open
==================  ============================================  =============================

Times are Asia/Shanghai unless they carry a zone (Unix time is accepted); ``end_at`` is the last
second the translation held. Bad cells are errors with their row and column; nothing is returned
when there is one. Overlapping translations of one public address and port are not refused
(logs repeat themselves); the look-up takes the latest one started before the flow.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.cells import parse_instant
from minewatch.ingest.meters import (
    _alias_index,
    _CellError,
    _map_columns,
    _Rows,
    _sniff_csv,
    _table_records,
)
from minewatch.reference.ip_address import address_keys, key_text, parse_address

__all__ = ["NAT_LOG_SCHEMA", "PROTOCOLS", "read_nat_log"]

NAT_LOG_SCHEMA = pa.schema(
    [
        pa.field("public_ip", pa.string(), nullable=False),
        pa.field("public_port_first", pa.int32(), nullable=False),
        pa.field("public_port_last", pa.int32(), nullable=False),
        pa.field("protocol", pa.string()),
        pa.field("internal_ip", pa.string(), nullable=False),
        pa.field("internal_port", pa.int32()),
        pa.field("start_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("end_at", pa.timestamp("ms", tz="UTC")),
        pa.field("source_row", pa.int32()),
    ]
)
"""One translation per row; ``end_at`` is exclusive (the log's last second plus one), null when
open; ``protocol`` is ``tcp``, ``udp`` or null (any)."""

PROTOCOLS = {"tcp": 6, "udp": 17, "6": 6, "17": 17, "icmp": 1, "1": 1}
"""Protocol names and numbers (IANA) a log may write, to the number."""

_ALIASES: dict[str, tuple[str, ...]] = {
    "public_ip": (
        "公网IP",
        "外网IP",
        "转换后IP",
        "转换后地址",
        "nat_ip",
        "公网地址",
        "translated_ip",
    ),
    "public_port": ("公网端口", "外网端口", "转换后端口", "nat_port", "translated_port"),
    "internal_ip": ("内网IP", "私网IP", "转换前IP", "源IP", "源地址", "private_ip", "source_ip"),
    "internal_port": (
        "内网端口",
        "私网端口",
        "转换前端口",
        "源端口",
        "private_port",
        "source_port",
    ),
    "protocol": ("协议", "proto"),
    "start_at": ("开始时间", "建立时间", "创建时间", "start_time", "start"),
    "end_at": ("结束时间", "释放时间", "老化时间", "end_time", "end"),
}
_INDEX = _alias_index(_ALIASES)


def _address(value: object) -> str | None:
    if value is None or not str(value).strip():
        raise _CellError("is empty")
    try:
        return str(parse_address(str(value)))
    except ValueError as error:
        raise _CellError(str(error)) from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise _CellError(f"{text!r} is not a port (0-65535)")
    return int(text)


def _ports(value: object) -> tuple[int, int]:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text:
        return 0, 65535
    if "-" in text:
        low, high = (_port(part.strip()) for part in text.split("-", 1))
        if high < low:
            raise _CellError(f"port block {text!r} ends before it starts")
        return low, high
    port = _port(text)
    return port, port


def _optional_port(value: object) -> int | None:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    return _port(text.removesuffix(".0")) if text else None


def _protocol(value: object) -> str | None:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip().lower()
    if not text:
        return None
    if text not in PROTOCOLS:
        raise _CellError(f"{text!r} is not a protocol (tcp, udp, 6, 17)")
    return {6: "tcp", 17: "udp", 1: "icmp"}[PROTOCOLS[text]]


def _start(value: object) -> datetime:
    if value is None or not str(value).strip():
        raise _CellError("is empty")
    try:
        instant = parse_instant(value)
    except ValueError as error:
        raise _CellError(str(error)) from None
    assert instant is not None
    return instant


def _end(value: object) -> datetime | None:
    try:
        instant = parse_instant(value)
    except ValueError as error:
        raise _CellError(str(error)) from None
    return None if instant is None else instant + timedelta(seconds=1)


def read_nat_log(path: Path | str) -> pa.Table:
    """Read a NAT log (see the module's description) as :data:`NAT_LOG_SCHEMA` rows.

    A CSV log in the usual shape (single ports, ``YYYY-MM-DD HH:MM:SS`` or Unix times) is read
    column by column with Arrow; anything else, and any file with a problem, is read cell by
    cell, which names each problem's row and column.
    """
    path = Path(path)
    fast = _read_plain_csv(path)
    if fast is not None:
        return fast
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _INDEX, ("public_ip", "internal_ip", "start_at"))
    rows = _Rows(path, headers, positions)
    columns: dict[str, list[Any]] = {name: [] for name in NAT_LOG_SCHEMA.names}
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        public = rows.get(row, cells, "public_ip", _address)
        ports = rows.get(row, cells, "public_port", _ports) or (0, 65535)
        internal = rows.get(row, cells, "internal_ip", _address)
        start = rows.get(row, cells, "start_at", _start)
        end = rows.get(row, cells, "end_at", _end)
        if start is not None and end is not None and end <= start:
            rows.problems.append(InputProblem(row, rows.header("end_at"), "ends before start_at"))
        columns["public_ip"].append(public)
        columns["public_port_first"].append(ports[0])
        columns["public_port_last"].append(ports[1])
        columns["protocol"].append(rows.get(row, cells, "protocol", _protocol))
        columns["internal_ip"].append(internal)
        columns["internal_port"].append(rows.get(row, cells, "internal_port", _optional_port))
        columns["start_at"].append(start)
        columns["end_at"].append(end)
        columns["source_row"].append(row)
    rows.raise_problems()
    return pa.table(columns, schema=NAT_LOG_SCHEMA)


_PLAIN_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
_EPOCH = r"^\d{10}$"


def _read_plain_csv(path: Path) -> pa.Table | None:
    """The log read column by column, or ``None`` when it needs the cell-by-cell reader."""
    if not path.name.lower().endswith(".csv") or not path.is_file():
        return None
    try:
        text = _sniff_csv(path)
        positions = _map_columns(
            path, text.headers, _INDEX, ("public_ip", "internal_ip", "start_at")
        )
        names = [f"c{i}" for i in range(len(text.headers))]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=1,
                encoding="utf8" if text.encoding.startswith("utf") else text.encoding,
            ),
            parse_options=pacsv.ParseOptions(delimiter=text.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
            ),
        )
    except (InputFileError, pa.ArrowException, OSError, UnicodeDecodeError):
        return None
    count = table.num_rows

    def column(key: str) -> pa.ChunkedArray | None:
        position = positions.get(key)
        return None if position is None else pc.utf8_trim_whitespace(table.column(position))

    addresses = {}
    for key in ("public_ip", "internal_ip"):
        values = column(key)
        assert values is not None
        keys, ok = address_keys(values.to_pylist())
        if not ok.all():
            return None
        texts = {k: key_text(k) for k in set(keys.tolist())}
        addresses[key] = [texts[k] for k in keys.tolist()]
    ports = column("public_port")
    if ports is None:
        low = high = None
    else:
        if not _all_match(ports, r"^\d{1,5}$", allow_null=True):
            return None
        low = pc.cast(ports, pa.int32())
        if pc.max(low).as_py() is not None and pc.max(low).as_py() > 65535:
            return None
        high = pc.fill_null(low, 65535)
        low = pc.fill_null(low, 0)
    inside_port = column("internal_port")
    if inside_port is not None:
        if not _all_match(inside_port, r"^\d{1,5}$", allow_null=True):
            return None
        inside_port = pc.cast(inside_port, pa.int32())
        if (pc.max(inside_port).as_py() or 0) > 65535:
            return None
    protocol = column("protocol")
    if protocol is not None:
        protocol = pc.utf8_lower(protocol)
        known = pc.or_(pc.is_null(protocol), pc.is_in(protocol, pa.array(["tcp", "udp"])))
        if not pc.all(known).as_py():
            return None
    start = _times(column("start_at"), required=True)
    end = _times(column("end_at"), required=False)
    if start is None or (column("end_at") is not None and end is None):
        return None
    if end is not None:
        end = pc.add(end, pa.scalar(timedelta(seconds=1), pa.duration("s")))
        if not pc.all(pc.fill_null(pc.greater(end, start), True)).as_py():
            return None
    result = {
        "public_ip": addresses["public_ip"],
        "public_port_first": low if low is not None else pa.array([0] * count, pa.int32()),
        "public_port_last": high if high is not None else pa.array([65535] * count, pa.int32()),
        "protocol": protocol if protocol is not None else pa.nulls(count, pa.string()),
        "internal_ip": addresses["internal_ip"],
        "internal_port": inside_port if inside_port is not None else pa.nulls(count, pa.int32()),
        "start_at": start,
        "end_at": end if end is not None else pa.nulls(count, pa.timestamp("ms", tz="UTC")),
        "source_row": pa.array(range(2, count + 2), pa.int32()),
    }
    return pa.table(
        {k: pc.cast(v, NAT_LOG_SCHEMA.field(k).type) for k, v in result.items()},
        schema=NAT_LOG_SCHEMA,
    )


def _all_match(values: pa.ChunkedArray, pattern: str, *, allow_null: bool) -> bool:
    if not allow_null and values.null_count:
        return False
    return bool(pc.all(pc.fill_null(pc.match_substring_regex(values, pattern), True)).as_py())


def _times(values: pa.ChunkedArray | None, *, required: bool) -> pa.ChunkedArray | None:
    """``YYYY-MM-DD HH:MM:SS`` (Asia/Shanghai) or 10-digit Unix times as UTC, or ``None``."""
    if values is None or (required and values.null_count):
        return None
    if _all_match(values, _PLAIN_TIME, allow_null=True):
        try:
            local = pc.strptime(values, format="%Y-%m-%d %H:%M:%S", unit="ms")
            result: pa.ChunkedArray = pc.assume_timezone(local, "Asia/Shanghai")
            return result
        except pa.ArrowException:
            return None
    if _all_match(values, _EPOCH, allow_null=True):
        seconds = pc.multiply(pc.cast(values, pa.int64()), 1000)
        return pc.cast(seconds, pa.timestamp("ms", tz="UTC"))
    return None
