"""nfcapd/nfdump files read into flow records (:data:`FLOW_RECORD_SCHEMA`).

nfdump's binary format changes between releases (layout 1 up to 1.6, layout 2 from 1.7, with
optional LZO/LZ4/BZ2/ZSTD blocks), so the file is read by nfdump itself: ``nfdump -r FILE -o
json`` run with ``TZ=UTC`` (nfdump prints times in local time, to the millisecond), parsed here.
Debian's ``nfdump`` package (1.7.1 in bookworm) provides it; without it the reader says so.

A record becomes one flow record; a bidirectional record (NSEL, or an IPFIX biflow nfdump
kept) with ``out_packets`` becomes two, one per direction. ``exporter`` is the router the file
names (``ip4_router``/``ip6_router``), ``version`` 0 (nfdump does not keep it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputFileError, InputProblem, MineWatchError
from minewatch.ingest.flow_records import FLOW_RECORD_SCHEMA

NFDUMP_MAGIC = b"\x0c\xa5"
"""The first two bytes of every nfcapd file (0xA50C, little-endian)."""
_FLAGS = "CEUAPRSF"  # nfdump's flag string, highest bit first: "...AP.S." is ACK|PSH|SYN


def is_nfdump_file(path: Path) -> bool:
    """Whether ``path`` starts like an nfcapd file."""
    with path.open("rb") as handle:
        return handle.read(2) == NFDUMP_MAGIC


def nfdump_binary() -> str:
    """The nfdump program, or a clear error when it is not installed."""
    found = shutil.which("nfdump")
    if found is None:
        raise MineWatchError(
            "nfdump is not installed: reading nfcapd files needs it "
            "(Debian/Ubuntu: apt-get install nfdump)"
        )
    return found


def read_nfdump(path: str | Path) -> pa.Table:
    """Every flow of an nfcapd file as :data:`FLOW_RECORD_SCHEMA` rows."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, [InputProblem(None, None, "file not found")])
    if not is_nfdump_file(path):
        raise InputFileError(path, [InputProblem(None, None, "not an nfcapd/nfdump file")])
    done = subprocess.run(
        [nfdump_binary(), "-q", "-r", str(path), "-o", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=False,
    )
    problem = done.stderr.strip()
    if done.returncode != 0 or "error" in problem.lower() or "short read" in problem.lower():
        reason = f"nfdump could not read it: {problem or f'exit status {done.returncode}'}"
        raise InputFileError(path, [InputProblem(None, None, reason)])
    return nfdump_json_table(done.stdout, path)


def nfdump_json_table(text: str, source: str | Path = "nfdump") -> pa.Table:
    """``nfdump -o json`` output (an array of objects, or with ``-q`` the objects alone,
    separated by commas) as flow records."""
    body = "\n".join(line for line in text.splitlines() if line.strip() != "No matching flows")
    try:
        parsed = _objects(body)
    except ValueError as error:
        raise InputFileError(
            source, [InputProblem(None, None, f"nfdump output: {error}")]
        ) from None
    rows: dict[str, list[Any]] = {name: [] for name in FLOW_RECORD_SCHEMA.names}
    problems: list[InputProblem] = []
    for number, record in enumerate(parsed, start=1):
        if not isinstance(record, dict) or record.get("type", "FLOW") != "FLOW":
            continue
        try:
            for direction in _directions(record):
                for name in rows:
                    rows[name].append(direction[name])
        except (KeyError, ValueError, TypeError) as error:
            problems.append(InputProblem(number, None, f"flow record {number}: {error!r}"))
            if len(problems) >= 20:
                break
    if problems:
        raise InputFileError(source, problems)
    return pa.table(rows, schema=FLOW_RECORD_SCHEMA)


def _objects(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    found: list[Any] = []
    index, end = 0, len(text)
    while index < end:
        if text[index] in " \t\r\n,[]":
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        found.append(value)
    return found


def _directions(record: dict[str, Any]) -> list[dict[str, Any]]:
    src = record.get("src4_addr") or record["src6_addr"]
    dst = record.get("dst4_addr") or record["dst6_addr"]
    forward = {
        "exporter": record.get("ip4_router") or record.get("ip6_router"),
        "version": 0,
        "observation_domain": 0,
        "src_ip": src,
        "src_port": int(record.get("src_port", 0)),
        "dst_ip": dst,
        "dst_port": int(record.get("dst_port", 0)),
        "protocol": int(record.get("proto", 0)),
        "tcp_flags": _flags(record.get("tcp_flags", "")),
        "packets": int(record.get("in_packets", 0)),
        "bytes": int(record.get("in_bytes", 0)),
        "first_seen": _utc(record["first"]),
        "last_seen": _utc(record["last"]),
        "sampling_interval": 1,
    }
    found = [forward]
    if int(record.get("out_packets", 0) or 0) > 0:
        found.append(
            {
                **forward,
                "src_ip": dst,
                "dst_ip": src,
                "src_port": forward["dst_port"],
                "dst_port": forward["src_port"],
                "packets": int(record["out_packets"]),
                "bytes": int(record.get("out_bytes", 0)),
            }
        )
    return found


def _flags(text: object) -> int:
    if isinstance(text, int):
        return text
    value = 0
    for position, char in enumerate(str(text)[-8:].rjust(8, ".")):
        if char != ".":
            value |= 1 << (7 - position)
    return value


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
