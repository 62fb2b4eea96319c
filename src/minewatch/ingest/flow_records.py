"""Flow records: the one frame every flow source (NetFlow, IPFIX, nfdump files) becomes.

A flow record is what an exporter saw of one direction of one connection during one export
interval: a router or a probe splits a long connection into several records (its *active
timeout*), and a connection's two directions are two records. :data:`FLOW_RECORD_SCHEMA` keeps
them as exported (``packets`` and ``bytes`` are *not* scaled up by ``sampling_interval``);
:mod:`minewatch.detect.network.flow_shape` joins them back into conversations.

:func:`read_flow_records` reads a file of this schema (``.parquet``, ``.csv`` or ``.jsonl``, as
``minewatch collect netflow`` writes them) and checks it like every reader here: a missing
column or a cell of the wrong kind names the file, the row and the column, and nothing is read.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from minewatch.errors import InputFileError, InputProblem, MineWatchError
from minewatch.reference.ip_address import address_keys

FLOW_RECORD_SCHEMA = pa.schema(
    [
        pa.field("exporter", pa.string()),
        pa.field("version", pa.int16()),
        pa.field("observation_domain", pa.int64()),
        pa.field("src_ip", pa.string()),
        pa.field("src_port", pa.int32()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("protocol", pa.int16()),
        pa.field("tcp_flags", pa.int16()),
        pa.field("packets", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("first_seen", pa.timestamp("ms", tz="UTC")),
        pa.field("last_seen", pa.timestamp("ms", tz="UTC")),
        pa.field("sampling_interval", pa.int32()),
    ]
)
"""One record per row, one direction of one connection (source → destination) for one export
interval. ``exporter`` is the address the datagrams came from (or the router an nfdump file
names); ``version`` is 5, 9 or 10 (IPFIX), 0 when unknown (nfdump); ``observation_domain`` the
v9 source id or IPFIX observation domain; ``tcp_flags`` the OR of the flags of the record's
packets; ``first_seen``/``last_seen`` the first and last packet [UTC, ms]; ``sampling_interval``
1 when every packet was counted, N when one packet in N was."""

FLOW_FILE_SUFFIXES = (".parquet", ".csv", ".jsonl")


def read_flow_records(path: str | Path) -> pa.Table:
    """A flow-record file (``.parquet``, ``.csv`` or ``.jsonl``) as :data:`FLOW_RECORD_SCHEMA`.

    Extra columns are dropped; a missing column, or a cell that cannot be read as its column's
    type, raises :class:`~minewatch.errors.InputFileError` (row 1 is the CSV header; a JSON line
    is its line number)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputFileError(path, [InputProblem(None, None, "file not found")])
    if suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as error:
            problem = InputProblem(None, None, f"not Parquet ({error})")
            raise InputFileError(path, [problem]) from None
        return _conform(path, table, first_row=2)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".jsonl":
        return _read_jsonl(path)
    raise InputFileError(
        path, [InputProblem(None, None, "flow records must be .parquet, .csv or .jsonl")]
    )


def _read_csv(path: Path) -> pa.Table:
    types = {field.name: pa.string() for field in FLOW_RECORD_SCHEMA}
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    except pa.ArrowInvalid as error:
        raise InputFileError(path, [InputProblem(None, None, f"not CSV ({error})")]) from None
    return _conform(path, table, first_row=2)


def _read_jsonl(path: Path) -> pa.Table:
    rows: list[dict[str, Any]] = []
    problems: list[InputProblem] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                problems.append(InputProblem(number, None, f"not JSON ({error.args[0]})"))
                continue
            if not isinstance(row, dict):
                problems.append(InputProblem(number, None, "not a JSON object"))
                continue
            rows.append(row)
    if problems:
        raise InputFileError(path, problems[:20])
    columns = {
        field.name: pa.array([_text(row.get(field.name)) for row in rows], pa.string())
        for field in FLOW_RECORD_SCHEMA
        if any(field.name in row for row in rows) or not rows
    }
    return _conform(path, pa.table(columns), first_row=1)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _conform(path: Path, table: pa.Table, first_row: int) -> pa.Table:
    """``table``'s columns cast to the schema, each bad cell reported with its row."""
    missing = [name for name in FLOW_RECORD_SCHEMA.names if name not in table.column_names]
    if missing:
        problems = [InputProblem(1, name, "required column is missing") for name in missing]
        raise InputFileError(path, problems)
    columns = []
    problems = []
    for field in FLOW_RECORD_SCHEMA:
        column = table.column(field.name)
        try:
            columns.append(_cast(column, field.type))
        except (pa.ArrowInvalid, ValueError):
            row = _first_bad_row(column, field.type)
            shown = column[row].as_py() if row is not None else None
            problems.append(
                InputProblem(
                    None if row is None else row + first_row,
                    field.name,
                    f"{shown!r} is not a {field.type}",
                )
            )
    if problems:
        raise InputFileError(path, problems)
    table = pa.Table.from_arrays(columns, schema=FLOW_RECORD_SCHEMA)
    for name in _REQUIRED:
        column = table.column(name)
        if column.null_count:
            row = pc.index(pc.is_null(column), True).as_py()
            problems.append(InputProblem(row + first_row, name, "is empty"))
    for name in ("src_ip", "dst_ip"):
        _, readable = address_keys(table.column(name).to_pylist())
        if not readable.all():
            row = int(np.argmin(readable))
            shown = table.column(name)[row].as_py()
            if shown is not None:
                problems.append(
                    InputProblem(row + first_row, name, f"{shown!r} is not an IP address")
                )
    if problems:
        raise InputFileError(path, problems)
    return table


_REQUIRED = ("src_ip", "dst_ip", "protocol", "packets", "bytes")
"""Columns a flow record cannot do without (ports may be empty: ICMP has none; times too: an
exporter whose template carries none, which the collector counts)."""


def _cast(column: Any, kind: pa.DataType) -> Any:
    if column.type == kind:
        return column
    if pa.types.is_timestamp(kind) and (
        pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    ):
        values = [_timestamp(v) for v in column.to_pylist()]
        return pa.array(values, pa.timestamp("ms", tz="UTC"))
    return column.cast(kind)


def _timestamp(text: str | None) -> datetime | None:
    if text is None or not text.strip():
        return None
    stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return stamp


def _first_bad_row(column: Any, kind: pa.DataType) -> int | None:
    for index, value in enumerate(column.to_pylist()):
        try:
            _cast(pa.array([value], column.type), kind)
        except (pa.ArrowInvalid, ValueError):
            return index
    return None


class FlowRecordWriter:
    """Writes flow-record batches to ``.parquet`` (one row group a batch), ``.csv`` or
    ``.jsonl``; the file appears under its name only when :meth:`close` is called (it is
    written next to it until then), so a reader never sees half a file."""

    def __init__(self, path: str | Path, schema: pa.Schema = FLOW_RECORD_SCHEMA) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        suffix = self.path.suffix.lower()
        if suffix not in FLOW_FILE_SUFFIXES:
            raise MineWatchError(f"{self.path}: write flow records to .parquet, .csv or .jsonl")
        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self._suffix = suffix
        self._handle: Any = None
        self._writer: Any = None
        if suffix == ".parquet":
            self._writer = pq.ParquetWriter(self._tmp, schema)
        else:
            self._handle = open(self._tmp, "wb")  # noqa: SIM115 — closed in close()
            if suffix == ".csv":
                self._handle.write(codecs.BOM_UTF8)
                self._writer = pacsv.CSVWriter(self._handle, schema)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.cast(self.schema)
        if self._suffix == ".jsonl":
            for row in table.to_pylist():
                line = json.dumps(row, ensure_ascii=False, default=_iso) + "\n"
                self._handle.write(line.encode("utf-8"))
        else:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> Path:
        """Finish the file and give it its name."""
        if self._writer is not None:
            self._writer.close()
        if self._handle is not None:
            self._handle.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop what was written (the file named ``path`` is left as it was)."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
            if self._handle is not None:
                self._handle.close()
        self._tmp.unlink(missing_ok=True)


def write_flow_table(table: pa.Table, path: str | Path) -> Path:
    """``table`` written whole to ``path`` (``.parquet``, ``.csv`` or ``.jsonl``)."""
    writer = FlowRecordWriter(path, table.schema)
    try:
        writer.write(table)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
    return str(isoformat())
