"""Host-rule benchmark (``make bench-probe``; issue: server-room self-inspection).

Quality: generated server rooms (:mod:`minewatch.synth.hosts`) on seeds the rules were not
written against — every miner disguise, and the ordinary servers that look like mining to a
naive rule (HPC and GPU training at full load, upgraded daemons, container runtimes from sealed
memory files, the unit's own services on ports pools also use). Printed: per disguise, the share
of miners found (a rule at level medium or above); the false findings per clean server.

Speed: matching the packaged rules on every report, against the floor of reading the same
reports from their JSON text (what any platform receiving them must do), in the same run.

``python -m benchmarks.host_rules [--seeds 101-120] [--servers 250] [--miners 25]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import UTC, datetime

from minewatch.detect.hosts.rules import packaged_rules, report_hits
from minewatch.synth.hosts import DISGUISES, probe_report, server_room

FINDING = ("critical", "high", "medium")
AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="101-120")
    parser.add_argument("--servers", type=int, default=250)
    parser.add_argument("--miners", type=int, default=25)
    args = parser.parse_args(argv)
    packaged_rules()  # loaded once, outside the timing
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_findings = clean = 0
    texts: list[str] = []
    for seed in _seeds(args.seeds):
        for server in server_room(seed, servers=args.servers, miners=args.miners):
            report = probe_report(server, seed, AT)
            texts.append(json.dumps(report))
            levels = {h["level"] for h in report_hits(report)}
            if server.miner is None:
                clean += 1
                false_findings += bool(levels & set(FINDING))
            else:
                total[server.miner] += 1
                found[server.miner] += bool(levels & set(FINDING))
    print(f"host rules on generated server rooms (seeds {args.seeds}, {len(texts):,} servers)")
    for disguise in DISGUISES:
        print(f"  {disguise:<14} {found[disguise]:>4} of {total[disguise]:>4} miners found")
    miners = sum(total.values())
    print(
        f"  recall {sum(found.values()) / max(miners, 1):.3f}; false findings "
        f"{false_findings} of {clean:,} clean servers ({false_findings / max(clean, 1):.4f})"
    )

    started = time.perf_counter()
    reports = [json.loads(text) for text in texts]
    floor = time.perf_counter() - started
    started = time.perf_counter()
    for report in reports:
        report_hits(report)
    matching = time.perf_counter() - started
    rate = len(reports) / matching
    print(
        f"matching: {rate:,.0f} reports/s ({matching * 1e3 / len(reports):.2f} ms a report; "
        f"{matching / floor:.1f}× reading their JSON, the floor: {floor * 1e3:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
