"""Spark-engine benchmark (``make bench-spark``): the meter scan on Spark local[2] beside the
in-process scan, on the same generated provinces.

For each size (default 10,000, 100,000 and 1,000,000 meters × 7 days, one Parquet file), each
engine runs ``--repeat`` times, alternating, and the best time counts:

- in-process: reading the customer archive and the weather, the scan
  (:func:`minewatch.engine.local.scan_meters`) and writing its findings to Parquet: what the
  Spark engine does too;
- Spark: :func:`minewatch.engine.spark.scan_meters_spark` on one ``local[2]`` session (its
  start-up is printed once, not counted), reading the same files and writing its findings
  partitioned by county.

Printed per size: meters, meter-days, both times, Spark ÷ in-process, and meter-days per second
per core (in-process counted as one core, Spark as two; the CPU time the in-process scan really
used is printed beside it). The findings of the two engines must be identical on every size
(score within 1e-9, every other column exactly): if not, the process exits with status 1.

Targets (issue: the Spark engine): Spark within 1.5× the in-process time at the largest size;
time per meter-day growing by at most ~25 % from the middle size to the largest, for each
engine; Spark's throughput per core flat across the sizes, counted on the meter-days each size
adds to the one before (a scan's fixed cost — job scheduling, Python workers, the calendar pass,
the commit — weighs on the raw throughput of the smallest size).

``python -m benchmarks.spark [--sizes 10000,100000,1000000] [--seed 7] [--repeat 2]
[--data-dir /tmp/minewatch-bench-spark]``: the provinces are generated once into
``<data-dir>/<seed>-<meters>`` (1,000,000 meters take 75–100 s and 3.9 GB) and reused afterwards.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.engine.local import scan_meters
from minewatch.errors import MineWatchError
from minewatch.ingest.meters import read_customers, read_weather, write_table
from minewatch.synth.meters import generate_meters, write_meter_province

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DAYS = 7
START = date(2021, 9, 6)
SPARK_MASTER = "local[2]"
SPARK_CORES = 2
LOCAL_CORES = 1
SCORE_TOLERANCE = 1e-9
INPUTS = ("readings.parquet", "customers.csv", "weather.csv")

WITHIN_IN_PROCESS = 1.5
"""Target: Spark's best time at the largest size at most this many times the in-process one."""
GROWTH = 1.25
"""Target: time per meter-day from the middle size to the largest grows by at most this."""


@dataclass
class Size:
    meters: int
    folder: Path
    meter_days: int = 0
    """Reading rows the in-process scan counted."""
    found: int = 0
    """Meters the in-process scan found (a meter without any reading has no finding)."""
    spark_counts: tuple[int, int] = (0, 0)
    """Meters and reading rows the last Spark scan counted."""
    local: list[float] = field(default_factory=list)
    local_cpu: list[float] = field(default_factory=list)
    spark: list[float] = field(default_factory=list)
    identical: bool = False

    @property
    def local_best(self) -> float:
        return min(self.local)

    @property
    def spark_best(self) -> float:
        return min(self.spark)

    def per_core(self, seconds: float, cores: int) -> float:
        return self.meter_days / seconds / cores


# --------------------------------------------------------------------------- data


def ensure_data(seed: int, meters: int, folder: Path) -> None:
    """Generate the province into ``folder`` unless its inputs are already there (written
    into a sibling folder first, then renamed: an interrupted run leaves nothing to reuse)."""
    if all((folder / name).exists() for name in INPUTS):
        print(f"{meters:,} meters: reusing {folder}")
        return
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    started = time.perf_counter()
    province = generate_meters(seed, n_meters=meters, days=DAYS, start=START)
    write_meter_province(province, part, split_by="none")
    del province
    gc.collect()
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    part.rename(folder)
    elapsed = time.perf_counter() - started
    print(f"{meters:,} meters: generated into {folder} in {elapsed:.1f} s (not timed)")


# --------------------------------------------------------------------------- the two engines


def run_local(size: Size) -> pa.Table:
    """The whole in-process path, timed: archive, weather, scan, findings to Parquet."""
    out = size.folder / "findings-local.parquet"
    out.unlink(missing_ok=True)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    customers, _ = read_customers(size.folder / "customers.csv")
    weather = read_weather(size.folder / "weather.csv")
    result = scan_meters(size.folder / "readings.parquet", customers=customers, weather=weather)
    write_table(result.findings, out)
    elapsed = time.perf_counter() - started
    size.local.append(elapsed)
    size.local_cpu.append((time.process_time() - cpu) / elapsed)
    size.meter_days, size.found = result.reading_rows, result.meters
    return result.findings


def run_spark(spark: SparkSession, size: Size) -> Path:
    from minewatch.engine.spark import scan_meters_spark

    out = size.folder / "findings-spark"
    shutil.rmtree(out, ignore_errors=True)
    gc.collect()
    started = time.perf_counter()
    result = scan_meters_spark(
        spark,
        str(size.folder / "readings.parquet"),
        str(out),
        customers=str(size.folder / "customers.csv"),
        weather=str(size.folder / "weather.csv"),
    )
    size.spark.append(time.perf_counter() - started)
    size.spark_counts = (result.meters, result.reading_rows)
    return out


# --------------------------------------------------------------------------- identical findings


def mismatched_rows(a: pa.Array, b: pa.Array, tolerance: float) -> np.ndarray:
    """Rows where ``a`` and ``b`` differ: null on one side only, or values apart (floats by
    more than ``tolerance``; NaN equals NaN)."""
    null_a = pc.is_null(a).to_numpy(zero_copy_only=False)
    null_b = pc.is_null(b).to_numpy(zero_copy_only=False)
    differ = null_a != null_b
    both = ~null_a & ~null_b
    if pa.types.is_floating(a.type):
        x = pc.fill_null(a, 0.0).to_numpy(zero_copy_only=False)
        y = pc.fill_null(b, 0.0).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            same = (x == y) | (np.abs(x - y) <= tolerance) | (np.isnan(x) & np.isnan(y))
    else:
        same = pc.fill_null(pc.equal(a, b), True).to_numpy(zero_copy_only=False)
    return np.flatnonzero(differ | (both & ~same))


def differences(local: pa.Table, spark: pa.Table) -> list[str]:
    """What differs between the two engines' findings, column by column (empty: identical)."""
    if local.num_rows != spark.num_rows:
        return [f"{local.num_rows:,} findings in-process, {spark.num_rows:,} on Spark"]
    missing = [name for name in local.column_names if name not in spark.column_names]
    if missing:
        return [f"not in the Spark output: {', '.join(missing)}"]
    local = local.sort_by("meter_id")
    spark = spark.select(local.column_names).sort_by("meter_id")
    meter_ids = local.column("meter_id")
    problems = []
    for name in local.column_names:
        a = local.column(name).combine_chunks()
        b = spark.column(name).combine_chunks()
        if b.type != a.type:
            b = b.cast(a.type)
        rows = mismatched_rows(a, b, SCORE_TOLERANCE if name == "score" else 0.0)
        if rows.size:
            i = int(rows[0])
            problems.append(
                f"{name}: {rows.size:,} rows differ, first meter {meter_ids[i].as_py()}: "
                f"{a[i].as_py()!r} in-process, {b[i].as_py()!r} on Spark"
            )
    return problems


# --------------------------------------------------------------------------- report


def growth_line(label: str, middle: Size, large: Size, middle_s: float, large_s: float) -> bool:
    data = large.meter_days / middle.meter_days
    taken = large_s / middle_s
    per_day = taken / data
    fixed = (middle_s * large.meter_days - large_s * middle.meter_days) / (
        large.meter_days - middle.meter_days
    )
    met = per_day <= GROWTH
    print(
        f"      {label:<15} ×{data:.1f} data → ×{taken:.1f} time, per meter-day ×{per_day:.2f}"
        f"   target ≤ ×{GROWTH:.2f}  {'met' if met else 'NOT met'}   (fixed cost ≈ {fixed:.1f} s)"
    )
    return met


def report(sizes: list[Size]) -> None:
    print(
        f"\n{'meters':>10} {'meter-days':>12} {'in-process s':>13} {'Spark s':>9} "
        f"{'Spark/in-proc':>14} {'meter-days/s/core in-process':>29} {'Spark':>9}"
    )
    for s in sizes:
        print(
            f"{s.meters:>10,} {s.meter_days:>12,} {s.local_best:>13.2f} {s.spark_best:>9.2f} "
            f"{s.spark_best / s.local_best:>13.2f}× "
            f"{s.per_core(s.local_best, LOCAL_CORES):>29,.0f} "
            f"{s.per_core(s.spark_best, SPARK_CORES):>9,.0f}"
        )
    large = sizes[-1]
    cpu = large.local_cpu[large.local.index(large.local_best)]
    print(
        f"(in-process counted as {LOCAL_CORES} core: CPU time ÷ wall time of its best run at "
        f"{large.meters:,} meters {cpu:.2f}, it may use threads; Spark {SPARK_MASTER} as "
        f"{SPARK_CORES})"
    )

    print("\ntargets")
    ratio = large.spark_best / large.local_best
    print(
        f"  (1) Spark {SPARK_MASTER} at {large.meters:,} meters: {large.spark_best:.2f} s = "
        f"{ratio:.2f}× the in-process {large.local_best:.2f} s   target ≤ {WITHIN_IN_PROCESS}×  "
        f"{'met' if ratio <= WITHIN_IN_PROCESS else 'NOT met'}"
    )
    if len(sizes) < 2:
        print("  (2), (3): need at least two sizes")
        return
    middle = sizes[-2]
    print(
        f"  (2) linear growth from {middle.meters:,} to {large.meters:,} meters (fixed cost: "
        "where the line through the two sizes meets zero meter-days)"
    )
    growth_line("in-process", middle, large, middle.local_best, large.local_best)
    growth_line(f"Spark {SPARK_MASTER}", middle, large, middle.spark_best, large.spark_best)
    # A scan has a fixed cost (job scheduling, Python workers, the calendar pass, the commit),
    # so the raw throughput of the table rises with size; what must stay flat is the cost of
    # each added meter-day: the throughput between one size and the next.
    print(
        "  (3) Spark throughput per core on the meter-days added from one size to the next "
        "(the table's raw figures include the fixed cost of a scan)"
    )
    marginal = []
    for small, big in itertools.pairwise(sizes):
        added = big.meter_days - small.meter_days
        rate = added / max(big.spark_best - small.spark_best, 1e-9) / SPARK_CORES
        marginal.append(rate)
        print(f"      {small.meters:,} → {big.meters:,} meters: {rate:,.0f} meter-days/s/core")
    if len(marginal) > 1:
        change = marginal[-1] / marginal[-2]
        if change > GROWTH:
            verdict = "rises: per-task costs still weigh on the smaller step; no cost grows"
        elif change < 1 / GROWTH:
            verdict = "NOT met: falls, each meter-day costs more on more data"
        else:
            verdict = "flat"
        print(
            f"      ×{change:.2f} from the first step to the last (flat: within "
            f"×{1 / GROWTH:.2f} … ×{GROWTH:.2f})  {verdict}"
        )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="meters, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each engine; the best counts"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "minewatch-bench-spark",
        help="provinces are generated into <data-dir>/<seed>-<meters> once, then reused",
    )
    args = parser.parse_args(argv)
    meters = sorted({int(x) for x in args.sizes.split(",") if x.strip()})
    if not meters or args.repeat < 1:
        parser.error("give at least one size and --repeat ≥ 1")
    sizes = [Size(n, args.data_dir / f"{args.seed}-{n}") for n in meters]
    for size in sizes:
        ensure_data(args.seed, size.meters, size.folder)

    from minewatch.engine.spark import read_cluster_findings, spark_session

    started = time.perf_counter()
    try:
        spark = spark_session(SPARK_MASTER)
    except MineWatchError as error:
        print(f"cannot start Spark: {error}")
        return 2
    elapsed = time.perf_counter() - started
    print(f"Spark session {SPARK_MASTER} started in {elapsed:.1f} s (once, not counted below)")
    all_identical = True
    try:
        # One scan of each engine on the smallest size first, not counted: Spark's Python
        # workers and the JVM's first compilations, the model and kernels loaded in-process.
        warm = Size(sizes[0].meters, sizes[0].folder)
        run_local(warm)
        run_spark(spark, warm)
        print(
            f"warm-up on {warm.meters:,} meters (not counted): in-process {warm.local[0]:.2f} s, "
            f"Spark {warm.spark[0]:.2f} s"
        )
        for size in sizes:
            print(f"\n{size.meters:,} meters × {DAYS} days ({size.folder})")
            for _ in range(args.repeat):  # alternating: the machine's noise hits both
                local = run_local(size)
                out = run_spark(spark, size)
            runs = ", ".join(f"{t:.2f}" for t in size.local)
            print(f"  in-process      runs {runs} s, best {size.local_best:.2f} s")
            runs = ", ".join(f"{t:.2f}" for t in size.spark)
            print(f"  Spark {SPARK_MASTER}  runs {runs} s, best {size.spark_best:.2f} s")
            problems = differences(local, read_cluster_findings(out))
            if size.spark_counts != (size.found, size.meter_days):
                problems.insert(
                    0,
                    f"counted: {size.found:,} meters and {size.meter_days:,} meter-days "
                    f"in-process, {size.spark_counts[0]:,} and {size.spark_counts[1]:,} on Spark",
                )
            size.identical = not problems
            all_identical &= size.identical
            print(
                f"  identical findings: {'yes' if size.identical else 'no'} "
                f"({size.found:,} meters with readings, {size.meter_days:,} meter-days)"
            )
            for problem in problems:
                print(f"    {problem}")
            del local
    finally:
        spark.stop()
    report(sizes)
    if not all_identical:
        print("\nthe engines' findings differ (see above)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
