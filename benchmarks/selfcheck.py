"""Self-inspection intake benchmark (``make bench-probe``; issue: server-room self-inspection).

A large unit's round: ``--sizes`` servers (default 2,000 and 8,000) in its inventory, every one
probed; the signed reports received into an embedded database (signature checked, placed on its
server by MAC, rules matched, stored and audited, findings as leads fused into cases), then the
clearance figures computed. Printed: time per report, the growth from the smaller round to the
larger (linear is ×1 per report), and the floor: matching the rules on the same reports alone.

``python -m benchmarks.selfcheck [--sizes 2000,8000] [--miners-per-1000 25]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from minewatch.detect.hosts.rules import packaged_rules, report_hits
from minewatch.domain.assets.service import import_assets
from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database
from minewatch.domain.selfcheck.clearance import clearance
from minewatch.domain.selfcheck.keys import issue_unit_key
from minewatch.domain.selfcheck.service import receive_report
from minewatch.ingest.assets import read_assets
from minewatch.probe import hostprobe
from minewatch.synth.hosts import INVENTORY_HEADER, inventory_rows, probe_report, server_room

UNIT = "某省属高校"
AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _round(folder: Path, size: int, miners: int) -> tuple[float, float, float]:
    """Seconds to receive every report, to compute the figures, and to match the rules alone."""
    servers = server_room(size, servers=size, miners=miners)
    inventory = folder / f"inventory-{size}.csv"
    rows = [",".join(INVENTORY_HEADER), *(",".join(r) for r in inventory_rows(servers, UNIT))]
    inventory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    engine = open_database(f"sqlite:///{folder / f'round-{size}.db'}")
    with session_scope(engine) as session:
        import_assets(session, read_assets(inventory), source=inventory, actor="信息中心")
        token = issue_unit_key(session, UNIT, region_code="510104", actor="信息中心").token
    key_id, key = hostprobe.signing_key(token.encode())
    reports = [hostprobe.sign(probe_report(s, size, AT), key, key_id) for s in servers]
    started = time.perf_counter()
    for report in reports:
        report_hits(report)
    floor = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:
        for report in reports:
            receive_report(session, report, report_hits(report), actor="信息中心", at=AT)
    intake = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:
        figures = clearance(session, UNIT, as_of=AT)
    computed = time.perf_counter() - started
    assert figures.checked == size
    assert figures.with_findings == miners
    engine.dispose()
    return intake, computed, floor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,8000")
    parser.add_argument("--miners-per-1000", type=int, default=25)
    args = parser.parse_args(argv)
    packaged_rules()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("self-inspection intake into SQLite (signature, placement, rules, audit, cases)")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            intake, figures, floor = _round(Path(folder), size, size * args.miners_per_1000 // 1000)
            results.append((size, intake, figures))
            print(
                f"  {size:>6,} servers: intake {intake:6.2f} s ({intake * 1e3 / size:.2f} ms a "
                f"report; {intake / floor:.1f}× matching the rules alone), clearance figures "
                f"{figures:.2f} s"
            )
    if len(results) > 1:
        (small, a, f1), (large, b, f2) = results[0], results[-1]
        scale = large / small
        print(
            f"  growth ×{scale:.0f} servers: intake ×{b / a:.1f}, figures ×{f2 / f1:.1f} "
            f"(per report ×{b / a / scale:.2f}; linear is ×1.00)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
