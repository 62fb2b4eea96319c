"""A state-owned unit's server inventory (资产台账), read and checked.

The self-inspection of November 2021 began from the units' asset ledgers: every server, where
it stands, who answers for it, its addresses. One server per row, ``.xlsx`` (first sheet), CSV
(UTF-8 or GB18030) or Parquet, headers in English or Chinese:

=================  ============================================  ==============================
column             also accepted                                  content
=================  ============================================  ==============================
``asset_id``       资产编号, 资产号, 设备编号                      required, unique in the file
``unit``           单位, 所属单位, 单位名称                        required
``department``     部门, 使用部门, 所属部门                        the department answering for it
``room``           机房, 机房名称, 所在机房
``rack``           机柜, 机架, 机柜号
``hostname``       主机名, 计算机名
``ips``            IP地址, IP, 内网IP                              one or more, split by , ; 、 or
                                                                  spaces; unique across servers
``macs``           MAC地址, MAC, 物理地址                          one or more; unique
``owner``          责任人, 使用人, 管理员
``purpose``        用途, 用途说明
``cpu_count``      CPU数量, CPU个数, 处理器数量                    whole number ≥ 0
``gpu_count``      GPU数量, GPU个数, 显卡数量                      whole number ≥ 0
=================  ============================================  ==============================

Every problem is named with its row and column, all in one
:class:`~minewatch.errors.InputFileError`, and nothing is returned when there is one: an empty
or repeated asset id, an empty unit, an address or MAC that cannot be read, a count that is not
a whole number, an IP or MAC address given to two servers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputProblem
from minewatch.ingest.meters import (  # the small-table machinery the archive readers share
    _alias_index,
    _cell_text,
    _CellError,
    _map_columns,
    _Rows,
    _table_records,
)

__all__ = ["ASSETS_SCHEMA", "read_assets"]

ASSETS_SCHEMA = pa.schema(
    [
        pa.field("asset_id", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("department", pa.string()),
        pa.field("room", pa.string()),
        pa.field("rack", pa.string()),
        pa.field("hostname", pa.string()),
        pa.field("ips", pa.list_(pa.string())),
        pa.field("macs", pa.list_(pa.string())),
        pa.field("owner", pa.string()),
        pa.field("purpose", pa.string()),
        pa.field("cpu_count", pa.int32()),
        pa.field("gpu_count", pa.int32()),
        pa.field("source_row", pa.int32()),
    ]
)
"""One server per row; addresses normalised (IPv6 compressed, MACs as ``aa:bb:cc:dd:ee:ff``)."""

_ALIASES: dict[str, tuple[str, ...]] = {
    "asset_id": ("资产编号", "资产号", "设备编号", "asset", "asset_no"),
    "unit": ("单位", "所属单位", "单位名称", "organisation", "organization"),
    "department": ("部门", "使用部门", "所属部门", "dept"),
    "room": ("机房", "机房名称", "所在机房", "server_room"),
    "rack": ("机柜", "机架", "机柜号"),
    "hostname": ("主机名", "计算机名", "host"),
    "ips": ("IP地址", "IP", "内网IP", "ip_address", "ip_addresses"),
    "macs": ("MAC地址", "MAC", "物理地址", "mac_address", "mac_addresses"),
    "owner": ("责任人", "使用人", "管理员"),
    "purpose": ("用途", "用途说明"),
    "cpu_count": ("CPU数量", "CPU个数", "处理器数量", "cpus"),
    "gpu_count": ("GPU数量", "GPU个数", "显卡数量", "gpus"),
}
_INDEX = _alias_index(_ALIASES)
_TEXTS = ("department", "room", "rack", "hostname", "owner", "purpose")
_SPLIT = re.compile(r"[,;，；、\s]+")
_MAC = re.compile(r"^[0-9a-f]{12}$")


def _each(value: object, read: Callable[[str], str]) -> list[str]:
    """Every address of a cell (split by commas, semicolons, 、 or spaces), each ``read``."""
    text = _cell_text(value, normalise=True)
    return [read(part) for part in _SPLIT.split(text) if part] if text is not None else []


def _ip(part: str) -> str:
    try:
        return str(ipaddress.ip_address(part))
    except ValueError:
        raise _CellError(f"{part!r} is not an IP address") from None


def _mac(part: str) -> str:
    digits = re.sub(r"[:\-.]", "", part).lower()
    if not _MAC.match(digits):
        raise _CellError(f"{part!r} is not a MAC address (write aa:bb:cc:dd:ee:ff)")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _addresses(value: object) -> list[str]:
    return _each(value, _ip)


def _macs(value: object) -> list[str]:
    return _each(value, _mac)


def _count(value: object) -> int | None:
    text = _cell_text(value, normalise=True)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _CellError(f"{text!r} is not a number") from None
    if number < 0 or not number.is_integer():
        raise _CellError(f"{text!r} is not a whole number of 0 or more")
    return int(number)


def read_assets(path: Path | str) -> pa.Table:
    """Read and check a server inventory; see the module's description. Returns
    :data:`ASSETS_SCHEMA` rows in file order."""
    path = Path(path)
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _INDEX, ("asset_id", "unit"))
    rows = _Rows(path, headers, positions)
    columns: dict[str, list[Any]] = {name: [] for name in ASSETS_SCHEMA.names}
    first_row: dict[tuple[str, str], int] = {}  # (kind, value) → the row that has it
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        asset = _cell_text(rows.cell(cells, "asset_id"), normalise=True)
        unit = _cell_text(rows.cell(cells, "unit"))
        for key, value in (("asset_id", asset), ("unit", unit)):
            if value is None:
                rows.problems.append(InputProblem(row, rows.header(key), "is empty"))
        ips = rows.get(row, cells, "ips", _addresses) if "ips" in positions else []
        macs = rows.get(row, cells, "macs", _macs) if "macs" in positions else []
        for kind, values in (("asset_id", [asset] if asset else []), ("ips", ips or []),
                             ("macs", macs or [])):  # fmt: skip
            for value in values:
                earlier = first_row.setdefault((kind, value), row)
                if earlier != row:
                    rows.problems.append(
                        InputProblem(row, rows.header(kind), f"{value} is also in row {earlier}")
                    )
        counts = {
            key: rows.get(row, cells, key, _count) if key in positions else None
            for key in ("cpu_count", "gpu_count")
        }
        columns["asset_id"].append(asset)
        columns["unit"].append(unit)
        for key in _TEXTS:
            columns[key].append(_cell_text(rows.cell(cells, key)))
        columns["ips"].append(ips or [])
        columns["macs"].append(macs or [])
        for key, number in counts.items():
            columns[key].append(number)
        columns["source_row"].append(row)
    rows.raise_problems()
    return pa.table(columns, schema=ASSETS_SCHEMA)
