"""Ledger benchmarks (issue: foundation and the ledger).

Targets and what they are compared with, in the same run:
- ``minewatch demo`` end to end (fresh clone's main job): under 60 s.
- Province scale (``--projects``, default 5,000 projects over 8 weeks): loading, the weekly
  report, audit verification, Excel export and import. Import is compared with its floor, the
  bare openpyxl read of the same workbook (the part no implementation can skip).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from openpyxl import load_workbook

from minewatch.cli.demo import load_demo
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.db import session_scope
from minewatch.domain.ledger import weekly
from minewatch.domain.ledger.service import current_entries, import_rows
from minewatch.domain.migrate import open_database
from minewatch.ingest.ledger_xlsx import read_ledger_xlsx, write_ledger_xlsx
from minewatch.synth.province import generate_demo_province

T = TypeVar("T")


def timed(
    label: str, action: Callable[[], T], figures: list[tuple[str, float, str]], note: str = ""
) -> T:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    figures.append((label, elapsed, note))
    return result


def bench_demo(figures: list[tuple[str, float, str]]) -> None:
    cli = Path(sys.executable).with_name("minewatch")
    with tempfile.TemporaryDirectory() as folder:
        command = [str(cli), "demo", "--db-file", f"{folder}/demo.db"]
        timed(
            "minewatch demo (400 projects, 8 weeks, end to end)",
            lambda: subprocess.run(command, check=True, capture_output=True),
            figures,
            "target < 60 s",
        )


def bench_scale(projects: int, figures: list[tuple[str, float, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        province = timed(
            f"generate province ({projects} projects)",
            lambda: generate_demo_province(7, n_projects=projects, weeks=8),
            figures,
        )
        url = f"sqlite:///{folder}/scale.db"
        timed(
            f"load {len(province.changes)} ledger changes",
            lambda: load_demo(url, province),
            figures,
        )
        engine = open_database(url)
        last = weekly.Week.of(province.weeks[-1])
        with session_scope(engine) as session:
            timed(
                "weekly report (as-of, diff, rollup)",
                lambda: weekly.weekly_report(session, last),
                figures,
            )
            report = timed("audit verify (chain + tables)", lambda: verify_chain(session), figures)
            assert report.ok, report.problems
            entries = current_entries(session)
        workbook = Path(folder) / "ledger.xlsx"
        timed(
            f"export {len(entries)} rows to .xlsx",
            lambda: write_ledger_xlsx(entries, workbook),
            figures,
        )

        def floor() -> int:
            book = load_workbook(workbook, read_only=True, data_only=True)
            rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
            book.close()
            return rows

        timed("floor: bare openpyxl read of that workbook", floor, figures)
        sheet = timed("read + validate the workbook", lambda: read_ledger_xlsx(workbook), figures)
        fresh = open_database(f"sqlite:///{folder}/fresh.db")

        def import_all() -> None:
            with session_scope(fresh) as session:
                import_rows(
                    session,
                    [(r.row_number, r.entry) for r in sheet.rows],
                    path=workbook,
                    actor="bench",
                )

        timed("import into a fresh database (all or nothing)", import_all, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    figures: list[tuple[str, float, str]] = []
    if not args.skip_demo:
        bench_demo(figures)
    bench_scale(args.projects, figures)
    width = max(len(label) for label, _, _ in figures)
    for label, seconds, note in figures:
        print(f"{label:<{width}}  {seconds:8.2f} s  {note}")
    by_label = {label: seconds for label, seconds, _ in figures}
    floor = by_label["floor: bare openpyxl read of that workbook"]
    read = by_label["read + validate the workbook"]
    print(f"read + validate / bare openpyxl read = {read / floor:.2f}×")
    demo = by_label.get("minewatch demo (400 projects, 8 weeks, end to end)")
    if demo is not None:
        print(f"demo: {demo:.1f} s of the 60 s budget ({demo / 60:.0%})")


if __name__ == "__main__":
    main()
