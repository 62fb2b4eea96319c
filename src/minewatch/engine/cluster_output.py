"""The findings folder a cluster scan writes: Parquet partitioned by county, committed whole.

Scoring tasks write their findings with Arrow straight into an attempt folder of their own
(``_attempts/<id>/region_code=<code>/part-<bucket>.parquet``) and report the files they wrote;
once every task has succeeded, the driver moves the reported files into place, replacing an
earlier scan's findings, and removes the attempts (a failed or duplicated attempt's files are
never reported, so never moved). Until then the folder shows the earlier scan unchanged.

Spark's own writer would do the same, but it first converts each Arrow row into its own row
format: for 1,000,000 findings that took 7 s of the scan's 45 s on two cores; Arrow writes them
in under one.

The layout is Hive's: ``region_code=511802/part-00003.parquet``, with
``region_code=__HIVE_DEFAULT_PARTITION__`` for meters the customer archive does not place, so
Spark, Hive, Trino and Arrow all read the folder as one table with a ``region_code`` column.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from minewatch.errors import MineWatchError
from minewatch.ingest import locations

PARTITION = "region_code"
NO_REGION = "__HIVE_DEFAULT_PARTITION__"
SUMMARY_FILE = "_minewatch.json"
"""The scan's settings, model, calendar and counts, beside its findings (a name starting with
``_`` is skipped by Spark's, Hive's and Arrow's readers)."""
_ATTEMPTS = "_attempts"
_SUCCESS = "_SUCCESS"

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
    ]
)
"""What a scoring task reports: each file it wrote (in its attempt folder), where the file goes
once committed (relative to the output folder), and its rows."""


@dataclass(frozen=True)
class Folder:
    """A folder on the local disk or on the filesystem of a URI."""

    filesystem: Any
    path: str
    shown: str

    @classmethod
    def of(cls, location: str | Path) -> Folder:
        if locations.is_uri(location):
            filesystem, path = locations.resolve(str(location))
            return cls(filesystem, path.rstrip("/"), str(location))
        return cls(pafs.LocalFileSystem(), str(Path(location).absolute()), str(location))

    def join(self, *parts: str) -> str:
        return "/".join([self.path, *parts])

    def entries(self, path: str | None = None) -> list[Any]:
        selector = pafs.FileSelector(path or self.path, allow_not_found=True)
        return list(self.filesystem.get_file_info(selector))


def check_output(out: str | Path) -> None:
    """Refuse a file, or a folder holding anything but an earlier scan's findings."""
    folder = Folder.of(out)
    try:
        info = folder.filesystem.get_file_info(folder.path)
        if info.type == pafs.FileType.NotFound:
            return
        if info.type != pafs.FileType.Directory:
            raise MineWatchError(f"{out}: the findings output must be a folder; this is a file")
        names = {entry.base_name for entry in folder.entries()}
    except (OSError, pa.ArrowException) as error:
        raise MineWatchError(f"{out}: cannot use this folder ({error})") from None
    if names and not names & {_SUCCESS, SUMMARY_FILE}:
        raise MineWatchError(
            f"{out}: the folder holds other files; name a new folder or an earlier scan's output"
        )


def write_attempt(table: pa.Table, out: str, part: int) -> pa.Table:
    """Write ``table`` (with a :data:`PARTITION` column) into a fresh attempt folder under
    ``out``, one file per county; the manifest of what was written."""
    folder = Folder.of(out)
    attempt = folder.join(_ATTEMPTS, uuid.uuid4().hex)
    if table.num_rows == 0:
        return MANIFEST_SCHEMA.empty_table()
    region = pc.fill_null(table.column(PARTITION), NO_REGION)
    order = pc.sort_indices(region)
    table, region = table.take(order), region.take(order)
    data = table.drop_columns([PARTITION])
    runs = pc.run_end_encode(region).combine_chunks() if region.num_chunks else None
    files, targets, counts = [], [], []
    start = 0
    assert runs is not None
    for end, value in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        name = f"{PARTITION}={value}/part-{part:05d}.parquet"
        path = f"{attempt}/{name}"
        folder.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
        pq.write_table(data.slice(start, end - start), path, filesystem=folder.filesystem)
        files.append(path)
        targets.append(name)
        counts.append(end - start)
        start = end
    return pa.table(
        {"file": files, "target": targets, "rows": pa.array(counts, pa.int64())},
        schema=MANIFEST_SCHEMA,
    )


def commit(out: str, manifest: pa.Table, summary: Mapping[str, Any]) -> None:
    """Replace the findings under ``out`` by the files of ``manifest``, then write the summary
    and ``_SUCCESS``; the attempt folders are removed."""
    folder = Folder.of(out)
    fs = folder.filesystem
    fs.create_dir(folder.path, recursive=True)
    entries = folder.entries()
    # An earlier scan's findings: its _SUCCESS first, so that no reader takes a folder half
    # replaced for a complete one.
    for entry in sorted(entries, key=lambda e: e.base_name != _SUCCESS):
        if entry.base_name.startswith(f"{PARTITION}="):
            fs.delete_dir(entry.path)
        elif entry.base_name in (_SUCCESS, SUMMARY_FILE):
            fs.delete_file(entry.path)
    for source, target in zip(
        manifest.column("file").to_pylist(), manifest.column("target").to_pylist(), strict=True
    ):
        destination = folder.join(target)
        fs.create_dir(destination.rsplit("/", 1)[0], recursive=True)
        fs.move(source, destination)
    discard_attempts(out)
    text = json.dumps(summary, ensure_ascii=False, indent=2, default=str)
    with fs.open_output_stream(folder.join(SUMMARY_FILE)) as handle:
        handle.write(text.encode("utf-8"))
    with fs.open_output_stream(folder.join(_SUCCESS)):
        pass


def discard_attempts(out: str) -> None:
    """Remove every attempt folder under ``out`` (after a commit, or after a failed scan)."""
    folder = Folder.of(out)
    with contextlib.suppress(OSError, pa.ArrowException):  # none was made
        folder.filesystem.delete_dir(folder.join(_ATTEMPTS))


def read_findings(out: str | Path, schema: pa.Schema, where: Any = None) -> pa.Table:
    """The findings under ``out`` as one table (``schema``, the county included), optionally
    only the rows matching the dataset expression ``where``."""
    import pyarrow.dataset as ds

    folder = Folder.of(out)
    if not any(e.base_name == _SUCCESS for e in folder.entries()):
        raise MineWatchError(f"{out}: not the findings of a completed cluster scan")
    partitioning = ds.partitioning(pa.schema([pa.field(PARTITION, pa.string())]), flavor="hive")
    dataset = ds.dataset(
        folder.path, filesystem=folder.filesystem, format="parquet", partitioning=partitioning
    )
    table = dataset.to_table(filter=where)
    region = table.column(PARTITION)
    region = pc.if_else(pc.equal(region, NO_REGION), pa.scalar(None, pa.string()), region)
    table = table.set_column(table.schema.get_field_index(PARTITION), PARTITION, region)
    return table.select(schema.names).cast(schema)


def read_summary(out: str | Path) -> dict[str, Any]:
    """The summary a scan wrote beside its findings (:data:`SUMMARY_FILE`)."""
    folder = Folder.of(out)
    try:
        with folder.filesystem.open_input_stream(folder.join(SUMMARY_FILE)) as handle:
            data: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    except (OSError, pa.ArrowException, ValueError) as error:
        raise MineWatchError(f"{out}: not the output of a cluster scan ({error})") from None
    return data


__all__: Sequence[str] = (
    "MANIFEST_SCHEMA",
    "NO_REGION",
    "PARTITION",
    "SUMMARY_FILE",
    "Folder",
    "check_output",
    "commit",
    "discard_attempts",
    "read_findings",
    "read_summary",
    "write_attempt",
)
