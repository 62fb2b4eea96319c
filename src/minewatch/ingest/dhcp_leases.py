"""DHCP leases: which machine (MAC address, host name) held an inside address, when.

Two forms are read:

* **ISC dhcpd's lease database** (``dhcpd.leases``, dhcpd(8), dhcpd.leases(5)): ``lease ADDRESS
  { starts …; ends …; binding state …; hardware ethernet …; client-hostname "…"; }`` blocks,
  times in UTC (``starts 4 2021/11/11 01:02:03;``) or as ``epoch N;``, ``ends never;`` open.
  Leases whose binding state is ``free``, ``abandoned``, ``backup`` or ``reset`` held no machine
  and are skipped; a lease written again later (renewed) is kept in each form it was written.
  DHCPv6 (``ia-na``) blocks are not read.
* **a table** (CSV or Parquet) exported from another DHCP server:

  =============  ==========================================  ==============================
  column         also accepted                                content
  =============  ==========================================  ==============================
  ``ip``         IP地址, 分配IP, 地址, ip_address             required
  ``mac``        MAC地址, MAC, 物理地址, hardware             required; any usual spelling
  ``host_name``  主机名, 计算机名, 设备名称, client_hostname  optional
  ``start_at``   租约开始, 开始时间, 分配时间, starts          required
  ``end_at``     租约结束, 结束时间, 到期时间, ends            empty: open
  =============  ==========================================  ==============================

  Times are Asia/Shanghai unless they carry a zone; ``end_at`` is the lease's end.

Both give :data:`DHCP_LEASES_SCHEMA`; every problem is reported with its row (the line of the
``lease`` statement in a lease database) and column; nothing is returned when there is one.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.cells import parse_instant
from minewatch.ingest.meters import _alias_index, _CellError, _map_columns, _Rows, _table_records
from minewatch.reference.ip_address import parse_address

__all__ = ["DHCP_LEASES_SCHEMA", "normalise_mac", "read_dhcp_leases", "read_dhcpd_leases"]

DHCP_LEASES_SCHEMA = pa.schema(
    [
        pa.field("ip", pa.string(), nullable=False),
        pa.field("mac", pa.string(), nullable=False),
        pa.field("host_name", pa.string()),
        pa.field("start_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("end_at", pa.timestamp("ms", tz="UTC")),
        pa.field("source_row", pa.int32()),
    ]
)
"""One lease per row: ``[start_at, end_at)`` (``end_at`` null: open); ``mac`` as
``aa:bb:cc:dd:ee:ff``."""

_ALIASES: dict[str, tuple[str, ...]] = {
    "ip": ("IP地址", "分配IP", "地址", "ip_address", "address"),
    "mac": ("MAC地址", "物理地址", "hardware", "mac_address", "硬件地址"),
    "host_name": ("主机名", "计算机名", "设备名称", "client_hostname", "hostname"),
    "start_at": ("租约开始", "开始时间", "分配时间", "starts", "start"),
    "end_at": ("租约结束", "结束时间", "到期时间", "ends", "end"),
}
_INDEX = _alias_index(_ALIASES)
_HEX = re.compile(r"[0-9a-f]{12}")
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
_IDLE_STATES = {"free", "abandoned", "backup", "reset"}


def normalise_mac(text: str) -> str:
    """``00-16-3E-AA-BB-CC``, ``0016.3eaa.bbcc`` or ``00163eaabbcc`` as ``00:16:3e:aa:bb:cc``;
    ``ValueError`` when ``text`` is not a 48-bit MAC address."""
    digits = re.sub(r"[\s:.\-]", "", unicodedata.normalize("NFKC", text)).lower()
    if not _HEX.fullmatch(digits):
        raise ValueError(f"{text!r} is not a MAC address (write 00:16:3e:aa:bb:cc)")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def read_dhcp_leases(path: Path | str) -> pa.Table:
    """A CSV/Parquet lease table, or else an ISC ``dhcpd.leases`` file (by its name)."""
    path = Path(path)
    if path.name.lower().endswith(_TABLE_SUFFIXES):
        return _read_table(path)
    return read_dhcpd_leases(path)


def _cell_mac(value: object) -> str:
    if value is None or not str(value).strip():
        raise _CellError("is empty")
    try:
        return normalise_mac(str(value))
    except ValueError as error:
        raise _CellError(str(error)) from None


def _cell_ip(value: object) -> str:
    if value is None or not str(value).strip():
        raise _CellError("is empty")
    try:
        return str(parse_address(str(value)))
    except ValueError as error:
        raise _CellError(str(error)) from None


def _cell_instant(value: object, required: bool) -> datetime | None:
    try:
        instant = parse_instant(value)
    except ValueError as error:
        raise _CellError(str(error)) from None
    if instant is None and required:
        raise _CellError("is empty")
    return instant


def _read_table(path: Path) -> pa.Table:
    headers, records = _table_records(path)
    positions = _map_columns(path, headers, _INDEX, ("ip", "mac", "start_at"))
    rows = _Rows(path, headers, positions)
    columns: dict[str, list[Any]] = {name: [] for name in DHCP_LEASES_SCHEMA.names}
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        start = rows.get(row, cells, "start_at", lambda v: _cell_instant(v, True))
        end = rows.get(row, cells, "end_at", lambda v: _cell_instant(v, False))
        if start is not None and end is not None and end <= start:
            rows.problems.append(InputProblem(row, rows.header("end_at"), "ends before start_at"))
        host = rows.cell(cells, "host_name")
        columns["ip"].append(rows.get(row, cells, "ip", _cell_ip))
        columns["mac"].append(rows.get(row, cells, "mac", _cell_mac))
        columns["host_name"].append(str(host).strip() or None if host is not None else None)
        columns["start_at"].append(start)
        columns["end_at"].append(end)
        columns["source_row"].append(row)
    rows.raise_problems()
    return pa.table(columns, schema=DHCP_LEASES_SCHEMA)


_LEASE = re.compile(r"^\s*lease\s+(\S+)\s*\{", re.MULTILINE)
_WHEN = re.compile(r"^\d\s+(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})$")


def _lease_time(text: str) -> datetime | None:
    """``4 2021/11/11 01:02:03`` (UTC), ``epoch 1636592523``, or ``never`` (None)."""
    text = text.split("#", 1)[0].strip()
    if text == "never":
        return None
    if text.startswith("epoch "):
        return datetime.fromtimestamp(int(text[6:].strip()), UTC)
    match = _WHEN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a dhcpd time (like 4 2021/11/11 01:02:03)")
    y, mo, d, h, mi, s = (int(part) for part in match.groups())
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _statements(body: str) -> list[str]:
    """The statements of a lease block, split at semicolons outside quoted strings."""
    out: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in body:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == ";":
            out.append("".join(current).strip())
            current = []
        elif char == "#" and not "".join(current).strip():
            current = ["#"]
        else:
            current.append(char)
    return [s for s in out if s and not s.startswith("#")]


def read_dhcpd_leases(path: Path | str) -> pa.Table:
    """Read ISC dhcpd's lease database (see the module's description)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputFileError(
            path, [InputProblem(None, None, f"cannot be read ({error})")]
        ) from None
    problems: list[InputProblem] = []
    columns: dict[str, list[Any]] = {name: [] for name in DHCP_LEASES_SCHEMA.names}
    starts = list(_LEASE.finditer(text))
    if not starts and text.strip():
        problems.append(InputProblem(None, None, "holds no `lease ADDRESS { … }` block"))
    for match in starts:
        line = text.count("\n", 0, match.start()) + 1
        close = text.find("\n}", match.end())
        body = text[match.end() : close if close >= 0 else len(text)]
        values: dict[str, str] = {}
        for statement in _statements(body):
            for key in ("starts", "ends", "binding state", "hardware ethernet", "client-hostname"):
                if statement.startswith(key + " "):
                    values[key] = statement[len(key) + 1 :].strip()
        if values.get("binding state", "active") in _IDLE_STATES:
            continue
        try:
            address = str(parse_address(match.group(1)))
        except ValueError as error:
            problems.append(InputProblem(line, "lease", str(error)))
            continue
        if "hardware ethernet" not in values:
            continue  # a lease never bound to a machine
        try:
            mac = normalise_mac(values["hardware ethernet"])
            start = _lease_time(values.get("starts", "never"))
            end = _lease_time(values.get("ends", "never"))
        except ValueError as error:
            problems.append(InputProblem(line, "lease", str(error)))
            continue
        if start is None:
            problems.append(InputProblem(line, "starts", "a bound lease needs its start"))
            continue
        host = values.get("client-hostname", "").strip('"') or None
        columns["ip"].append(address)
        columns["mac"].append(mac)
        columns["host_name"].append(host)
        columns["start_at"].append(start)
        columns["end_at"].append(end)
        columns["source_row"].append(line)
    if problems:
        raise InputFileError(path, problems)
    return pa.table(columns, schema=DHCP_LEASES_SCHEMA)
