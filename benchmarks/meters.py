"""Meter-analytics benchmark (``make bench-meters``): quality on unseen provinces, and speed.

Quality is measured on provinces generated with seeds the model never saw and with physics
parameters outside (or at the edges of) the training draws: small and large rigs, heavy noise,
winter and summer, many gaps. Speed is the scan of 100,000 meters × 28 days against its floor
(reading the same Parquet once and summing every value), against tsfresh's minimal feature set
on a sample (per meter), and its peak memory, each in the same run.

Targets (issue: meter analytics): average precision ≥ 0.95; recall ≥ 0.95 at a false-positive
rate ≤ 0.1 %; no data centre flagged; start date within ±1 day for ≥ 90 % of mid-period starts;
scan ≤ 2× the floor; peak memory ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from minewatch.engine.local import scan_meters
from minewatch.ingest.schemas import SLOT_COLUMNS
from minewatch.synth.meters import (
    LOOKALIKE_KINDS,
    MINING_KINDS,
    MeterSynthParams,
    generate_meters,
    write_meter_province,
)

SCENARIOS: dict[str, tuple[MeterSynthParams, date]] = {
    "defaults, autumn": (MeterSynthParams(), date(2021, 10, 1)),
    "small rigs, noisy, winter": (
        MeterSynthParams(rig_power_scale=0.5, noise_scale=2.5, farm_size_scale=0.3),
        date(2021, 12, 20),
    ),
    "big rigs, summer, gappy": (
        MeterSynthParams(
            rig_power_scale=1.5,
            farm_size_scale=2.5,
            gap_rate=0.02,
            missing_day_rate=0.03,
            mining_share=0.01,
            lookalike_share=0.35,
        ),
        date(2021, 7, 10),
    ),
}


@dataclass(frozen=True)
class Quality:
    average_precision: float
    recall: float
    false_positive_rate: float
    recall_by_kind: dict[str, float]
    false_alarms_by_kind: dict[str, int]
    data_centres_flagged: int
    start_within_1_day: float
    starts_checked: int
    meters: int


def average_precision(score: np.ndarray, positive: np.ndarray) -> float:
    order = np.argsort(-score, kind="stable")
    hits = positive[order]
    if not hits.any():
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(precision[hits].mean())


def quality(seed: int, n_meters: int, params: MeterSynthParams, start: date) -> Quality:
    province = generate_meters(seed, n_meters=n_meters, days=28, start=start, params=params)
    result = scan_meters(province.readings, customers=province.customers, weather=province.weather)
    found = result.findings
    truth = province.truth
    index = {m: i for i, m in enumerate(found.column("meter_id").to_pylist())}
    rows = np.array([index.get(m, -1) for m in truth.column("meter_id").to_pylist()])
    present = rows >= 0
    score = np.where(present, np.asarray(found.column("score").to_pylist())[rows], 0.0)
    flagged = np.where(present, np.asarray(found.column("suspected").to_pylist())[rows], False)
    mining = np.asarray(truth.column("is_mining").to_pylist(), dtype=bool)
    kinds = np.asarray(truth.column("kind").to_pylist())
    by_kind = {k: float(flagged[kinds == k].mean()) for k in MINING_KINDS if (kinds == k).any()}
    false_alarms = {k: int(flagged[kinds == k].sum()) for k in LOOKALIKE_KINDS}
    others = {k for k in set(kinds.tolist()) if k not in MINING_KINDS and k not in LOOKALIKE_KINDS}
    false_alarms["(ordinary loads)"] = int(sum(flagged[kinds == k].sum() for k in others))
    truth_start = truth.column("start_date").to_pylist()
    est = found.column("est_start_date").to_pylist()
    errors = []
    for i, real in enumerate(truth_start):
        if real is None or not mining[i] or not flagged[i]:
            continue
        guess = est[rows[i]]
        errors.append(abs((guess - real).days) if guess is not None else 99)
    within = float(np.mean(np.asarray(errors) <= 1)) if errors else float("nan")
    return Quality(
        average_precision=average_precision(score, mining),
        recall=float(flagged[mining].mean()),
        false_positive_rate=float(flagged[~mining].mean()),
        recall_by_kind=by_kind,
        false_alarms_by_kind=false_alarms,
        data_centres_flagged=int(flagged[kinds == "data_centre"].sum()),
        start_within_1_day=within,
        starts_checked=len(errors),
        meters=int(mining.size),
    )


def sweep(name: str, params: MeterSynthParams, start: date, seeds: list[int]) -> None:
    """The worst of each figure over ``seeds`` (10,000 meters each) for one scenario."""
    runs = [quality(seed, 10_000, params, start) for seed in seeds]
    worst_fpr = max(runs, key=lambda q: q.false_positive_rate)
    print(
        f"  over {len(seeds)} more seeds ({seeds[0]}…{seeds[-1]}): "
        f"AP ≥ {min(q.average_precision for q in runs):.4f}, "
        f"recall ≥ {min(q.recall for q in runs):.4f}, "
        f"FPR ≤ {worst_fpr.false_positive_rate:.4%}, "
        f"data centres flagged ≤ {max(q.data_centres_flagged for q in runs)}, "
        f"start ±1 day ≥ {min(q.start_within_1_day for q in runs):.3f}"
    )


def floor_child(folder: str, pre_buffer: bool) -> None:
    """Read the Parquet once (every column the scan reads) and sum every reading: what no
    scan can beat. Run in a child, like the scan; both of Arrow's read modes are tried and
    the faster one is the floor."""
    path = Path(folder) / "readings.parquet"
    started = time.perf_counter()
    total = 0.0
    for batch in pq.ParquetFile(path, pre_buffer=pre_buffer).iter_batches(batch_size=65_536):
        for name in SLOT_COLUMNS:
            total += pc.sum(batch.column(name)).as_py() or 0.0
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "total": total}))


def scan_child(folder: str) -> None:
    """Run in a child process, so that its peak memory is the scan's alone."""
    from minewatch.ingest.meters import read_customers, read_weather

    root = Path(folder)
    customers, _ = read_customers(root / "customers.csv")
    weather = read_weather(root / "weather.csv")
    started = time.perf_counter()
    result = scan_meters(root / "readings.parquet", customers=customers, weather=weather)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"seconds": elapsed, "peak_gb": peak, "meters": result.meters}))


def tsfresh_per_meter(path: Path, sample: int) -> float | None:
    """Seconds per meter of tsfresh's MinimalFCParameters on ``sample`` meters."""
    try:
        import pandas as pd
        from tsfresh import extract_features
        from tsfresh.feature_extraction import MinimalFCParameters
    except ImportError:
        return None
    table = pq.read_table(path)
    meters = table.column("meter_id").unique().to_pylist()[:sample]
    part = table.filter(pc.is_in(table.column("meter_id"), pa.array(meters)))
    matrix = np.column_stack([part.column(c).to_numpy(zero_copy_only=False) for c in SLOT_COLUMNS])
    values = np.nan_to_num(matrix.ravel())  # tsfresh refuses gaps
    ids = np.repeat(np.asarray(part.column("meter_id").to_pylist()), len(SLOT_COLUMNS))
    frame = pd.DataFrame({"id": ids, "time": np.arange(ids.size), "value": values})
    started = time.perf_counter()
    extract_features(
        frame,
        column_id="id",
        column_sort="time",
        default_fc_parameters=MinimalFCParameters(),
        disable_progressbar=True,
        n_jobs=0,
    )
    return (time.perf_counter() - started) / len(meters)


def _child(flag: str, folder: str, *extra: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.meters", flag, folder, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality-meters", type=int, default=30_000)
    parser.add_argument("--speed-meters", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=9_001, help="a seed the model never saw")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--scan-child", help=argparse.SUPPRESS)
    parser.add_argument("--floor-child", help=argparse.SUPPRESS)
    parser.add_argument("--pre-buffer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="speed runs; the best counts")
    parser.add_argument(
        "--sweep",
        type=int,
        default=0,
        help="also score each scenario on this many further seeds (10,000 meters each) and "
        "print the worst figures: one province's weather can hide what another's shows",
    )
    args = parser.parse_args(argv)
    if args.scan_child:
        scan_child(args.scan_child)
        return 0
    if args.floor_child:
        floor_child(args.floor_child, args.pre_buffer)
        return 0
    if not args.skip_quality:
        print("quality on unseen provinces (seed, then parameters the model was not tuned on)")
    for offset, (name, (params, start)) in enumerate(SCENARIOS.items()):
        if args.skip_quality:
            break
        q = quality(args.seed + offset, args.quality_meters, params, start)
        print(f"\n[{name}] {q.meters:,} meters, start {start}")
        print(f"  average precision        {q.average_precision:.4f}   target ≥ 0.95")
        print(f"  recall of suspected      {q.recall:.4f}   target ≥ 0.95")
        print(f"  false-positive rate      {q.false_positive_rate:.5%}   target ≤ 0.1 %")
        print(f"  data centres flagged     {q.data_centres_flagged}   target 0")
        print(
            f"  start date within ±1 day {q.start_within_1_day:.3f} of {q.starts_checked} "
            "mid-period starts   target ≥ 0.90"
        )
        print("  recall per mining kind   " + ", ".join(
            f"{k} {v:.3f}" for k, v in q.recall_by_kind.items()))  # fmt: skip
        print("  false alarms per kind    " + ", ".join(
            f"{k} {v}" for k, v in q.false_alarms_by_kind.items()))  # fmt: skip
        if args.sweep:
            sweep(
                name, params, start, [args.seed + 500 + 10 * k + offset for k in range(args.sweep)]
            )
    if args.skip_speed:
        return 0
    with tempfile.TemporaryDirectory() as folder:
        print(f"\nspeed: {args.speed_meters:,} meters × 28 days")
        province = generate_meters(args.seed + 50, n_meters=args.speed_meters, days=28)
        write_meter_province(province, Path(folder), fmt="parquet")
        del province
        path = Path(folder) / "readings.parquet"
        # Each in a fresh process (imports and caches as a user's run has them), alternating,
        # best of ``--repeat``: the machine is shared and noisy.
        floors, scans = [], []
        for _ in range(args.repeat):
            floors.append(_child("--floor-child", folder))
            floors.append(_child("--floor-child", folder, "--pre-buffer"))
            scans.append(_child("--scan-child", folder))
        floor = min(f["seconds"] for f in floors)
        scan = min(scans, key=lambda r: r["seconds"])
        scan["peak_gb"] = max(r["peak_gb"] for r in scans)
        per_meter = scan["seconds"] / scan["meters"]
        print(f"  floor (read Parquet, sum every value)  {floor:8.2f} s")
        print(
            f"  minewatch scan meters                  {scan['seconds']:8.2f} s  "
            f"= {scan['seconds'] / floor:.2f}× the floor   target ≤ 2×"
        )
        print(f"  peak memory of the scan                {scan['peak_gb']:8.2f} GB   target ≤ 4 GB")
        tsfresh = tsfresh_per_meter(path, 200)
        if tsfresh is None:
            print("  tsfresh not installed (pip install -e '.[bench]'): comparison skipped")
        else:
            print(
                f"  tsfresh MinimalFCParameters            {tsfresh * 1000:8.2f} ms/meter; "
                f"minewatch {per_meter * 1000:.3f} ms/meter = {tsfresh / per_meter:.0f}× faster"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
