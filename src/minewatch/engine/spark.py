"""The Spark engine for the meter scan: the same kernel, run where a province's data lives.

A grid company keeps tens of millions of meters' load curves in its Hadoop platform. This
engine runs the scan there, each step a plain function of Arrow data:

1. **plan**: every file's header is checked; a Parquet file is cut at row-group boundaries into
   parts of about :attr:`SparkScanSettings.rows_per_task` rows and small files are packed
   together (a URI's footers are read by tasks; a catalog table is split by Spark's reader);
2. **calendar** (one task per reduce task): the parts' dates alone are read — the scan's first
   and last day, the calendar every meter is placed on, as in the local engine;
3. **reduce** (one task per list of parts): MineWatch's own reader (every layout, the same
   checks and the same errors naming file, row and column as a local scan), stage one of the
   kernel (:func:`~minewatch.detect.meters.daily.daily_features`) on each meter-day, and the
   reduced rows sorted into buckets by meter;
4. **archive** (one task per customer-archive file, run beside the reduce tasks): the archive
   read and sorted into the same buckets;
5. **score** (one task per bucket): a bucket holds whole meters — every day of a meter lands in
   its bucket, whichever file or partition it came from — and their archive rows; stage two
   (:func:`~minewatch.detect.meters.scan.score_days`) scores them with the model and the weather
   of every region (one broadcast), and the task writes its findings with Arrow, by county,
   into an attempt folder of its own;
6. **commit** (the driver): the files the tasks reported are moved into place
   (:mod:`minewatch.engine.cluster_output`).

No feature or score is computed anywhere but in the kernel the local engine runs.

Why the rows travel as Arrow IPC blobs, one per bucket and batch, rather than as Spark rows:
Spark converts between Arrow and its own rows field by field. A wide reading is 98 fields and a
reduced meter-day 50; through Spark's own Parquet reader, the conversion alone took 13 s per
100,000 meters × 7 days on two cores, where reading and reducing the same data in the task took
3.4 s. As blobs, Spark schedules, shuffles and retries; the bytes pass through untouched.

A bad input stops the scan with its error before anything is committed: the output folder is
left as it was.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from minewatch.detect.meters._fused import THREADS_VARIABLE
from minewatch.detect.meters.daily import DAILY_SCHEMA, daily_features
from minewatch.detect.meters.model import TreeModel, load_packaged_model
from minewatch.detect.meters.scan import FINDINGS_SCHEMA, score_days
from minewatch.detect.meters.series import load_series
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.engine.cluster_output import (
    MANIFEST_SCHEMA,
    check_output,
    commit,
    discard_attempts,
    read_findings,
    write_attempt,
)
from minewatch.errors import MineWatchError
from minewatch.ingest import locations
from minewatch.ingest.meters import (
    ReadingPart,
    TableColumns,
    expand_locations,
    iter_reading_part,
    read_customers,
    read_weather,
    reading_days,
    reading_parts,
    table_columns,
    table_days,
    table_readings,
)
from minewatch.ingest.schemas import CUSTOMERS_SCHEMA

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EPOCH = date(1970, 1, 1)

LEAD_FIELDS = ("account_no", "customer_name", "uscc", "address")
"""What the archive says of a suspected meter, carried in its finding for its lead."""

CLUSTER_FINDINGS_SCHEMA = pa.schema(
    [
        *FINDINGS_SCHEMA,
        *(pa.field(name, pa.string()) for name in LEAD_FIELDS),
        pa.field("series", pa.string()),
        pa.field("region_code", pa.string()),
    ]
)
"""A finding as the cluster writes it: :data:`FINDINGS_SCHEMA`, then for suspected meters
the archive's account, name, credit code and address and the load curve (JSON, see
:func:`~minewatch.detect.meters.series.load_series`), and the meter's county (the output's
partition column; null where the archive does not know the meter)."""


_PARTS = "location string, first_group int, stop_group int, rows long"


@dataclass(frozen=True)
class SparkScanSettings:
    """How the scan is cut into tasks; results do not depend on any of these.

    Defaults hold on two cores with a 4 GB driver and on executors with 4–8 GB each.
    """

    rows_per_task: int = 1_000_000
    """Reading rows (meter-days) per reduce task, at most; an input smaller than two parts per
    core is cut finer. A task holds one Arrow batch of its part at a time (~0.4 KB a row), so
    memory does not grow with it; it sets the number of tasks: 1M rows take 1–2 s to read and
    reduce on one core, long enough that Spark's per-task cost (tens of ms) is lost, short
    enough that a retried task costs little."""
    meter_days_per_bucket: int = 2_000_000
    """Meter-days per scoring task (a bucket). Stage two holds a bucket in memory: ~110 bytes a
    reduced meter-day plus ~150 bytes of working copies, ~0.5 GB at the default, within an
    executor's Python memory (spark.executor.pyspark.memory, or what the executor leaves)."""
    buckets: int | None = None
    """Fix the number of buckets; by default the meter-days ÷ :attr:`meter_days_per_bucket`,
    and at least two per core so that every core scores."""
    batch_rows: int = 65_536
    """Rows per Arrow batch read: large enough to amortise the per-batch cost of the kernel,
    small enough (~25 MB of wide readings) to keep a task's memory flat."""

    def __post_init__(self) -> None:
        for name in ("rows_per_task", "meter_days_per_bucket", "batch_rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.buckets is not None and self.buckets < 1:
            raise ValueError("buckets must be at least 1")


@dataclass(frozen=True)
class SparkScanResult:
    out: str
    """The findings folder (partitioned by ``region_code``)."""
    reading_rows: int
    meters: int
    suspects: pa.Table
    """The suspected meters' findings (:data:`CLUSTER_FINDINGS_SCHEMA`), highest score first."""
    categories: dict[str, int]
    span: tuple[date, date] | None
    warnings: list[str] = field(default_factory=list)
    """Warnings of the customer archive (invalid credit codes, unknown regions …)."""


# --------------------------------------------------------------------------- the session


def spark_session(
    master: str | None = "local[*]", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session for the scan: ``master`` as ``spark-submit --master`` takes it, or
    ``None`` inside ``spark-submit`` (its settings are then used as they are).

    On a local master the driver does the work, so it gets 4 GB unless ``conf`` says otherwise,
    and the Python workers run this interpreter (so they see the same installed MineWatch)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MineWatchError(
            "the Spark engine needs PySpark: pip install 'minewatch[spark]' (and Java 17)"
        ) from None
    builder = SparkSession.builder.appName("minewatch-meter-scan")
    settings: dict[str, str] = {}
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no listening on the LAN
            logs = resources.files("minewatch.engine") / "data" / "log4j2.properties"
            settings.update(
                {
                    "spark.driver.memory": "4g",
                    "spark.ui.showConsoleProgress": "false",
                    "spark.ui.enabled": "false",
                    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{logs}",
                }
            )
    # PySpark warns about pandas ≥ 3 on import; this engine passes no pandas data.
    os.environ.setdefault(
        "PYTHONWARNINGS", "ignore:PySpark does not yet fully support pandas:FutureWarning"
    )
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    settings.update(conf or {})
    # A task has spark.task.cpus cores: the compiled kernels use that many threads, not every
    # processor of the machine (two tasks of local[2] would otherwise run four threads).
    settings.setdefault(
        f"spark.executorEnv.{THREADS_VARIABLE}", settings.get("spark.task.cpus", "1")
    )
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# --------------------------------------------------------------------------- buckets


def bucket_of(meter_ids: pa.Array | pa.ChunkedArray, buckets: int) -> np.ndarray[Any, Any]:
    """Each meter's bucket: CRC-32 of its identifier (UTF-8) modulo ``buckets`` — the same on
    every machine and in every process (Python's own ``hash`` of a string is not)."""
    column = meter_ids.combine_chunks() if isinstance(meter_ids, pa.ChunkedArray) else meter_ids
    if pa.types.is_dictionary(column.type):
        assert isinstance(column, pa.DictionaryArray)
        lookup = bucket_of(column.dictionary, buckets)
        picked: np.ndarray[Any, Any] = lookup[column.indices.to_numpy(zero_copy_only=False)]
        return picked
    values = column.cast(pa.string()).to_pylist()
    crc = [zlib.crc32(v.encode("utf-8")) if v is not None else 0 for v in values]
    out: np.ndarray[Any, Any] = np.asarray(crc, dtype=np.uint32) % np.uint32(buckets)
    return out


def _blob(table: pa.Table | pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write(table)
    return bytes(sink.getvalue())


def _from_blobs(blobs: Iterable[bytes | None], schema: pa.Schema) -> pa.Table:
    tables = [ipc.open_stream(blob).read_all() for blob in blobs if blob is not None]
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)


_BLOBS = pa.schema([pa.field("bucket", pa.int32(), nullable=False), pa.field("data", pa.binary())])
"""What reduce and archive tasks emit: each bucket's rows from one batch, as an Arrow IPC
stream under the bucket's label."""

_DAYS = pa.schema(
    [
        pa.field("first_day", pa.int32()),
        pa.field("last_day", pa.int32()),
        pa.field("rows", pa.int64()),
    ]
)

_ERROR_MARK = "MINEWATCH-INPUT-ERROR"
"""Wraps an input error raised inside a task, so the driver can find it in Spark's report."""


class TaskInputError(RuntimeError):
    """An input error met inside a Spark task, carried to the driver in Spark's report."""

    def __init__(self, error: MineWatchError) -> None:
        super().__init__(f"{_ERROR_MARK}{json.dumps(str(error), ensure_ascii=True)}{_ERROR_MARK}")


def input_error_in(failure: BaseException) -> MineWatchError | None:
    """The input error a task raised, found in the exception Spark raised for it."""
    match = re.search(f"{_ERROR_MARK}(.*?){_ERROR_MARK}", str(failure))
    if match is None:
        return None
    try:
        return MineWatchError(json.loads(match.group(1)))
    except ValueError:
        return None


def _bucketed(table: pa.Table | pa.RecordBatch, labels: Sequence[int]) -> pa.RecordBatch:
    """``table``'s rows, one IPC blob per bucket they fall in, each under its bucket's label."""
    bucket = bucket_of(table.column("meter_id"), len(labels))
    order = np.argsort(bucket, kind="stable")
    ordered = bucket[order]
    sorted_rows = table.take(pa.array(order))
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    bounds = np.r_[starts, ordered.size].tolist()
    numbers = [labels[int(ordered[lo])] for lo in bounds[:-1]]
    data = [_blob(sorted_rows.slice(lo, hi - lo)) for lo, hi in itertools.pairwise(bounds)]
    return pa.RecordBatch.from_arrays(
        [pa.array(numbers, pa.int32()), pa.array(data, pa.binary())], schema=_BLOBS
    )


# --------------------------------------------------------------------------- tasks


def _plan_files(locations_: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """The row groups of each file (a part each; a whole file where it cannot be split), or
    ``(location, -1, -1, -1, error)``."""
    for location in locations_:
        try:
            for part in reading_parts(location, 1):
                first, stop = part.row_groups if part.row_groups else (-1, -1)
                yield (location, first, stop, part.rows, None)
        except MineWatchError as error:
            yield (location, -1, -1, -1, str(error))


Part = tuple[str, int, int, int]
"""A part of a readings file: location, first row group, stop row group (−1: the whole file),
rows (−1: unknown before reading)."""


def _plan(context: Any, files: Sequence[str], cores: int, rows_per_task: int) -> list[list[Part]]:
    """The reduce tasks, each a list of parts: consecutive row groups of a file up to
    ``rows_per_task`` rows, and small files together up to as many (exports cut by county and
    day make thousands of small files: a task each would be mostly Spark's per-task cost). An
    input smaller than two tasks per core is cut finer. Local files are planned here; a URI's
    footers are read by tasks on the cluster."""
    if any(locations.is_uri(f) for f in files):
        slices = min(len(files), 4 * cores)
        planned = context.parallelize(list(files), slices).mapPartitions(_plan_files).collect()
    else:
        planned = list(_plan_files(files))
    bad = [error for *_, error in planned if error is not None]
    if bad:
        raise MineWatchError(bad[0])
    known = sum(rows for *_, rows, _ in planned if rows > 0)
    target = max(min(rows_per_task, math.ceil(known / (2 * cores))), 1)
    parts: list[Part] = []
    for location, first, stop, rows, _ in planned:
        last = parts[-1] if parts else None
        if (
            last is not None and first >= 0 and last[0] == location and last[2] == first
            and last[3] + rows <= target
        ):  # fmt: skip
            parts[-1] = (location, last[1], stop, last[3] + rows)
        else:
            parts.append((location, first, stop, rows))
    tasks: list[list[Part]] = []
    size = 0
    for part in parts:
        rows = part[3] if part[3] >= 0 else target  # a CSV file: unknown, counted as a task
        if tasks and size + rows <= target:
            tasks[-1].append(part)
            size += rows
        else:
            tasks.append([part])
            size = rows
    return tasks


def _part_of(row: Mapping[str, Any]) -> ReadingPart:
    groups = (row["first_group"], row["stop_group"]) if row["first_group"] >= 0 else None
    return ReadingPart(row["location"], groups, row["rows"])


def _days_of_parts(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Calendar task: the first and last day of each part (its dates read, nothing else)."""
    for batch in batches:
        for row in batch.to_pylist():
            try:
                span = reading_days(_part_of(row))
            except MineWatchError as error:
                raise TaskInputError(error) from None
            first, last = ((d - EPOCH).days for d in span) if span else (None, None)
            yield pa.RecordBatch.from_pylist(
                [{"first_day": first, "last_day": last, "rows": max(row["rows"], 0)}],
                schema=_DAYS,
            )


def _days_of_table(table: TableColumns) -> Any:
    """Calendar task over a readings table: each batch's first and last day and rows."""

    def days(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            try:
                span = table_days(batch, table)
            except MineWatchError as error:
                raise TaskInputError(error) from None
            first, last = span if span else (None, None)
            yield pa.RecordBatch.from_pylist(
                [{"first_day": first, "last_day": last, "rows": batch.num_rows}], schema=_DAYS
            )

    return days


def _bucket_labels(spark: SparkSession, buckets: int) -> list[int]:
    """A label for each bucket such that Spark's hash partitioning into ``buckets`` partitions
    puts every bucket in a partition of its own (labels 0 … n−1 collide: with 4 buckets, three
    fell in one partition and one core scored three quarters of the province)."""
    from pyspark.sql import functions as sf

    labels: dict[int, int] = {}
    start = 0
    while len(labels) < buckets:
        stop = start + 8 * buckets
        rows = (
            spark.range(start, stop)
            .select(sf.col("id").cast("int").alias("label"))
            .select("label", sf.pmod(sf.hash("label"), sf.lit(buckets)).alias("partition"))
            .collect()
        )
        for row in rows:
            labels.setdefault(int(row["partition"]), int(row["label"]))
        start = stop
    return [labels[p] for p in range(buckets)]


def _reducer(settings: MeterScanSettings, labels: Sequence[int], batch_rows: int, rows: Any) -> Any:
    """Reduce task: read a part, reduce each meter-day (stage one), sort into buckets."""

    def reduce(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for row in batch.to_pylist():
                try:
                    for readings in iter_reading_part(_part_of(row), batch_rows=batch_rows):
                        if readings.num_rows:
                            rows.add(readings.num_rows)
                            yield _bucketed(daily_features(readings, settings), labels)
                except MineWatchError as error:
                    raise TaskInputError(error) from None

    return reduce


def _table_reducer(
    table: TableColumns, settings: MeterScanSettings, labels: Sequence[int], rows: Any
) -> Any:
    """Reduce task over a readings table: check each batch as a file is checked, reduce each
    meter-day (stage one), sort into buckets."""

    def reduce(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            try:
                readings = table_readings(batch, table)
            except MineWatchError as error:
                raise TaskInputError(error) from None
            rows.add(readings.num_rows)
            yield _bucketed(daily_features(readings, settings), labels)

    return reduce


def _archive_reader(labels: Sequence[int], notes: Any) -> Any:
    """Archive task: read a customer-archive file and sort its rows into buckets."""

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for location in batch.column("location").to_pylist():
                try:
                    with locations.local_copy(location) as path:
                        table, problems = read_customers(path)
                except MineWatchError as error:
                    raise TaskInputError(error) from None
                notes.add([f"{location}: {p.where()}: {p.reason}" for p in problems])
                if table.num_rows:
                    yield _bucketed(table, labels)

    return read


def _scorer(
    settings: MeterScanSettings,
    shared: Any,
    span: tuple[date, date],
    out: str,
    counts: Any,
) -> Any:
    """Scoring task: a bucket's whole meters and their archive rows → findings, written.
    ``shared`` is a Spark broadcast of the model and the weather (each executor fetches it
    once, not every task)."""

    def score(key: tuple[Any, ...], daily_blobs: pa.Table, archive_blobs: pa.Table) -> pa.Table:
        daily = _from_blobs(daily_blobs.column("data").to_pylist(), DAILY_SCHEMA)
        if daily.num_rows == 0:  # an archive bucket whose meters sent no readings
            return MANIFEST_SCHEMA.empty_table()
        archive = _from_blobs(archive_blobs.column("data").to_pylist(), CUSTOMERS_SCHEMA)
        customers = archive if archive.num_rows else None
        model, weather = shared.value
        findings = score_days(daily, customers, weather, settings, model, span)
        tally = pc.value_counts(findings.column("category"))
        counts.add({str(v["values"]): int(v["counts"]) for v in tally.to_pylist()})
        table = cluster_findings(findings, daily, customers, settings)
        return write_attempt(table, out, int(key[0].as_py()))

    return score


def cluster_findings(
    findings: pa.Table,
    daily: pa.Table,
    customers: pa.Table | None,
    settings: MeterScanSettings,
) -> pa.Table:
    """``findings`` as :data:`CLUSTER_FINDINGS_SCHEMA`: with each meter's county, and for each
    suspected meter its archive row and its load curve, so that its lead can be recorded from
    the findings alone."""
    m = findings.num_rows
    suspected = pc.fill_null(findings.column("suspected"), False)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        name: findings.column(name) for name in FINDINGS_SCHEMA.names
    }
    if customers is not None and customers.num_rows:
        index = pc.index_in(findings.column("meter_id"), customers.column("meter_id"))
        picked = customers.select([*LEAD_FIELDS, "region_code"]).take(index)
        for name in LEAD_FIELDS:
            columns[name] = pc.if_else(suspected, picked.column(name), pa.scalar(None, pa.string()))
        region = picked.column("region_code")
    else:
        for name in LEAD_FIELDS:
            columns[name] = pa.nulls(m, pa.string())
        region = pa.nulls(m, pa.string())
    suspects = findings.filter(suspected)
    starts = dict(
        zip(
            suspects.column("meter_id").to_pylist(),
            suspects.column("est_start_date").to_pylist(),
            strict=True,
        )
    )
    series = load_series(daily, starts, settings)
    texts: list[str | None] = [None] * m
    if series:
        meters = findings.column("meter_id")
        for row in np.flatnonzero(suspected.to_numpy(zero_copy_only=False)).tolist():
            curve = series.get(meters[row].as_py())
            if curve is not None:
                texts[row] = json.dumps(curve, ensure_ascii=False, separators=(",", ":"))
    columns["series"] = pa.array(texts, pa.string())
    columns["region_code"] = region
    return pa.table(columns, schema=CLUSTER_FINDINGS_SCHEMA)


# --------------------------------------------------------------------------- the scan


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


@dataclass(frozen=True)
class _Readings:
    """Where a scan's readings come from: the frame whose tasks read them, its calendar task and
    its reduce task."""

    frame: DataFrame
    days: Any
    reducer: Any  # (settings, labels, rows accumulator) → the reduce task
    described: list[str]
    tasks: int
    """Reduce tasks."""


def _file_readings(
    spark: SparkSession, readings: str | Sequence[str], cluster: SparkScanSettings
) -> _Readings:
    context = spark.sparkContext
    cores = max(int(context.defaultParallelism), 1)
    files = expand_locations(readings)
    tasks = _plan(context, files, cores, cluster.rows_per_task)
    # One task per element (a list of parts), each in a partition of its own.
    frame = context.parallelize(tasks, max(len(tasks), 1)).flatMap(lambda parts: parts)
    return _Readings(
        frame.toDF(_PARTS),
        _days_of_parts,
        lambda settings, labels, rows: _reducer(settings, labels, cluster.batch_rows, rows),
        files,
        len(tasks),
    )


def _table_readings(spark: SparkSession, name: str) -> _Readings:
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as sf

    try:
        frame = spark.table(name)
    except AnalysisException as error:
        raise MineWatchError(f"{name}: no such table ({error.getCondition()})") from None
    table = table_columns(name, frame.columns)
    selected = frame.select(*(sf.col(f"`{column}`") for column in table.columns.values()))
    return _Readings(
        selected,
        _days_of_table(table),
        lambda settings, labels, rows: _table_reducer(table, settings, labels, rows),
        [f"table {name}"],
        selected.rdd.getNumPartitions(),
    )


def scan_meters_spark(
    spark: SparkSession,
    readings: str | Sequence[str] | None,
    out: str,
    *,
    readings_table: str | None = None,
    customers: str | Sequence[str] | None = None,
    weather: str | None = None,
    settings: MeterScanSettings | None = None,
    model: TreeModel | None = None,
    cluster: SparkScanSettings | None = None,
) -> SparkScanResult:
    """Scan every meter in ``readings`` (files, folders or globs, local or URIs) — or in
    ``readings_table``, a table of Spark's catalog (a Hive table of the metering platform) — on
    ``spark`` and write the findings under ``out``, partitioned by ``region_code``.

    The same findings as :func:`minewatch.engine.local.scan_meters` for the same inputs (plus
    the columns of :data:`CLUSTER_FINDINGS_SCHEMA`). Raises :class:`MineWatchError` naming the
    file, row and column of a bad input (a table's: the meter and date); ``out`` is then left
    as it was."""
    if (readings is None) == (readings_table is None):
        raise ValueError("give either readings (files) or readings_table, not both")
    settings = settings or MeterScanSettings()
    model = model or load_packaged_model()
    cluster = cluster or SparkScanSettings()
    out = str(out)
    check_output(out)
    context = spark.sparkContext
    cores = max(int(context.defaultParallelism), 1)

    archive_files = expand_locations(customers) if customers is not None else []
    weather_table = _read_weather(weather) if weather is not None else None
    source = (
        _table_readings(spark, readings_table)
        if readings_table is not None
        else _file_readings(spark, readings or [], cluster)
    )
    counts: Any = context.accumulator({}, _CountsParam())  # type: ignore[arg-type]
    notes: Any = context.accumulator([], _ListParam())  # type: ignore[arg-type]
    rows: Any = context.accumulator(0)
    try:
        # 1. The calendar: every part's first and last day (its dates alone are read).
        days = source.frame.mapInArrow(source.days, _spark_schema(_DAYS)).collect()
        firsts = [row["first_day"] for row in days if row["first_day"] is not None]
        lasts = [row["last_day"] for row in days if row["last_day"] is not None]
        span = None
        if firsts:
            span = (EPOCH + timedelta(days=min(firsts)), EPOCH + timedelta(days=max(lasts)))
        estimate = sum(row["rows"] for row in days) or cluster.rows_per_task
        buckets = cluster.buckets or max(
            math.ceil(estimate / cluster.meter_days_per_bucket), 2 * cores
        )
        # 2. One job: reduce the parts and read the archive into buckets, then score each
        # bucket with its archive rows and write its findings into an attempt folder of its own.
        manifest = MANIFEST_SCHEMA.empty_table()
        if span is not None:
            labels = _bucket_labels(spark, buckets)
            reduced = source.frame.mapInArrow(
                source.reducer(settings, labels, rows), _spark_schema(_BLOBS)
            )
            if archive_files:
                archive = (
                    context.parallelize(archive_files, len(archive_files))
                    .map(lambda location: (location,))
                    .toDF("location string")
                    .mapInArrow(_archive_reader(labels, notes), _spark_schema(_BLOBS))
                )
            else:
                archive = spark.createDataFrame([], _spark_schema(_BLOBS))
            shared = context.broadcast((model, weather_table))
            # One scoring task per bucket, as the labels were chosen: no coalescing.
            spark.conf.set("spark.sql.shuffle.partitions", str(buckets))
            spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
            # Spark numbers the archive's stage first for this order of the two sides, and
            # starts the stages' tasks in that order: the archive's long single task then runs
            # beside the reduce tasks rather than after them.
            scored = (
                reduced.groupBy("bucket")
                .cogroup(archive.groupBy("bucket"))
                .applyInArrow(
                    _scorer(settings, shared, span, out, counts),
                    _spark_schema(MANIFEST_SCHEMA),
                )
            )
            manifest = scored.toArrow()
            shared.unpersist()
        categories = {str(k): int(v) for k, v in sorted(counts.value.items())}
        summary = {
            "engine": "spark",
            "readings": source.described,
            "customers": archive_files,
            "weather": weather,
            "settings": settings.as_dict(),
            "first_date": span[0].isoformat() if span else None,
            "last_date": span[1].isoformat() if span else None,
            "reading_rows": int(rows.value),
            "meters": sum(categories.values()),
            "categories": categories,
            "files": manifest.num_rows,
            "buckets": buckets,
            "tasks": source.tasks,
        }
        commit(out, manifest, summary)
    except Exception as failure:
        discard_attempts(out)
        found = input_error_in(failure)
        if found is not None:
            raise found from None
        raise
    return SparkScanResult(
        out=out,
        reading_rows=int(rows.value),
        meters=int(summary["meters"]),
        suspects=read_suspects(out),
        categories=categories,
        span=span,
        warnings=list(notes.value),
    )


class _CountsParam:
    """A Spark accumulator of counts by name (the findings' categories)."""

    def zero(self, value: dict[str, int]) -> dict[str, int]:
        return {}

    def addInPlace(self, a: dict[str, int], b: dict[str, int]) -> dict[str, int]:  # noqa: N802
        for key, n in b.items():
            a[key] = a.get(key, 0) + n
        return a


class _ListParam:
    """A Spark accumulator of texts (the archive's warnings)."""

    def zero(self, value: list[str]) -> list[str]:
        return []

    def addInPlace(self, a: list[str], b: list[str]) -> list[str]:  # noqa: N802
        a.extend(b)
        return a


def _read_weather(location: str) -> pa.Table:
    with locations.local_copy(location) as path:
        table: pa.Table = read_weather(path)
    return table


def read_cluster_findings(out: str | Path) -> pa.Table:
    """Every finding a cluster scan wrote under ``out`` (:data:`CLUSTER_FINDINGS_SCHEMA`)."""
    return read_findings(str(out), CLUSTER_FINDINGS_SCHEMA)


def read_suspects(out: str | Path) -> pa.Table:
    """The suspected meters' findings under ``out``, highest score first."""
    import pyarrow.dataset as ds

    suspects = read_findings(str(out), CLUSTER_FINDINGS_SCHEMA, ds.field("suspected"))
    return suspects.sort_by([("score", "descending"), ("meter_id", "ascending")])


__all__ = [
    "CLUSTER_FINDINGS_SCHEMA",
    "LEAD_FIELDS",
    "SparkScanResult",
    "SparkScanSettings",
    "bucket_of",
    "cluster_findings",
    "read_cluster_findings",
    "read_suspects",
    "scan_meters_spark",
    "spark_session",
]
