"""The in-process engine for the meter scan: stream, reduce days, regroup meters, score.

Readings may come split by date or by county over many files, so one meter's days may be
anywhere. Stage one (:func:`~minewatch.detect.meters.daily.daily_features`) is row-local and
runs on each batch as it streams in; its output is ~30 numbers per meter-day, small enough to
regroup in memory, and stage two scores whole meters in chunks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.detect.meters.daily import DAILY_SCHEMA, daily_features
from minewatch.detect.meters.features import day_span, meter_codes
from minewatch.detect.meters.model import TreeModel, load_packaged_model
from minewatch.detect.meters.scan import FINDINGS_SCHEMA, score_days
from minewatch.detect.meters.series import load_series
from minewatch.detect.meters.settings import MeterScanSettings
from minewatch.ingest.meters import iter_readings

T = TypeVar("T")
Progress = Callable[[int], None]
"""Called with the number of reading rows just reduced."""


@dataclass(frozen=True)
class ScanResult:
    findings: pa.Table
    reading_rows: int
    meters: int
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The load curve of each suspected meter, by meter id (see
    :mod:`minewatch.detect.meters.series`): the evidence its lead shows an official."""


def prefetch(batches: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Read ahead in a thread: Arrow decodes the next batch while the kernel works on this
    one (both release the interpreter lock). Errors reach the caller in order."""
    queue: Queue[tuple[T | None, BaseException | None, bool]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                if stop.is_set():
                    return
                queue.put((item, None, False))
        except BaseException as error:  # handed over to the consumer
            queue.put((None, error, False))
            return
        queue.put((None, None, True))

    worker = threading.Thread(target=produce, name="minewatch-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error, done = queue.get()
            if error is not None:
                raise error
            if done:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.05)


def reduce_days(
    batches: Iterable[pa.RecordBatch],
    settings: MeterScanSettings,
    progress: Progress | None = None,
) -> tuple[pa.Table, int]:
    """Stage one over every batch; returns the daily table and the reading rows seen."""
    reduced: list[pa.RecordBatch] = []
    rows = 0
    for batch in prefetch(batches):
        reduced.append(daily_features(batch, settings))
        rows += batch.num_rows
        if progress is not None:
            progress(batch.num_rows)
    return pa.Table.from_batches(reduced, schema=DAILY_SCHEMA), rows


def score_in_chunks(
    daily: pa.Table,
    customers: pa.Table | None,
    weather: pa.Table | None,
    settings: MeterScanSettings,
    model: TreeModel,
    meters_per_chunk: int = 1_000_000,
) -> pa.Table:
    """Stage two over whole meters, ``meters_per_chunk`` at a time.

    Stage two reads the stage-one rows in place and keeps a few numbers per meter-day, so the
    chunks only bound its working copies (about 150 bytes per meter-day); each chunk beyond the
    first costs a copy of its rows, hence large chunks.
    """
    span = day_span(daily)
    if span is None:
        return FINDINGS_SCHEMA.empty_table()
    if daily.num_rows <= meters_per_chunk:  # never more meters than rows
        return score_days(daily, customers, weather, settings, model)
    _, codes = meter_codes(daily.column("meter_id"))
    chunk_of_row = codes // meters_per_chunk
    chunks = int(chunk_of_row.max()) + 1
    if chunks == 1:
        return score_days(daily, customers, weather, settings, model)
    order = np.argsort(chunk_of_row, kind="stable")
    bounds = np.searchsorted(chunk_of_row[order], np.arange(chunks + 1))
    parts = []
    for c in range(chunks):  # every chunk on the whole scan's calendar
        rows = pa.array(order[bounds[c] : bounds[c + 1]])
        part = daily.take(rows)
        parts.append(score_days(part, customers, weather, settings, model, span))
    return pa.concat_tables(parts)


def scan_meters(
    readings: str | Path | Sequence[str | Path] | pa.Table,
    *,
    customers: pa.Table | None = None,
    weather: pa.Table | None = None,
    settings: MeterScanSettings | None = None,
    model: TreeModel | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan every meter in ``readings``: a file, a glob, a folder, a list of them, or a table
    already in memory (``READINGS_SCHEMA``)."""
    settings = settings or MeterScanSettings()
    model = model or load_packaged_model()
    batches = (
        readings.to_batches(max_chunksize=65_536)
        if isinstance(readings, pa.Table)
        else iter_readings(readings)
    )
    daily, rows = reduce_days(batches, settings, progress)
    findings = score_in_chunks(daily, customers, weather, settings, model)
    findings = findings.sort_by([("score", "descending"), ("meter_id", "ascending")])
    suspects = findings.filter(pc.fill_null(findings.column("suspected"), False))
    starts = dict(
        zip(
            suspects.column("meter_id").to_pylist(),
            suspects.column("est_start_date").to_pylist(),
            strict=True,
        )
    )
    return ScanResult(
        findings=findings,
        reading_rows=rows,
        meters=findings.num_rows,
        series=load_series(daily, starts, settings),
    )
