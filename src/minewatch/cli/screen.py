"""``minewatch screen``: lists of parties against the mining watch list, each with the reason.

Input CSV (UTF-8, with or without BOM): ``reference, name`` and any of ``uscc, address,
region_code``; power-connection applications also ``declared_load_kw, daily_hours,
round_the_clock, industry`` (read by :func:`minewatch.domain.screening.service.read_parties`).
Output CSV: ``reference, decision, reasons`` (``hold`` with every match and why, or ``pass``).
The command screens against the whole watch list (it runs with the database's own rights).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.db import session_scope
from minewatch.domain.screening.service import (
    Decision,
    ScreeningKind,
    read_parties,
    screen,
    watch_list,
)
from minewatch.errors import MineWatchError

app = typer.Typer(help="Screen connection applications, market participants, bank customers.")

InOption = Annotated[Path, typer.Option("--in", help="Parties to screen (CSV).")]
OutOption = Annotated[Path, typer.Option("--out", help="Decisions (CSV).")]


def _run(source: Path, out: Path, kind: ScreeningKind) -> None:
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise MineWatchError(f"{source}: cannot be read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise MineWatchError(f"{source}: not UTF-8 text ({error.reason})") from error
    parties = read_parties(text, str(source))
    with session_scope(context.engine()) as session:
        entries = watch_list(session)
    results = screen(parties, entries, check_load=kind.check_load)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "decision", "reasons"])
        for result in results:
            writer.writerow([result.reference, result.decision.value, result.reasons])
    held = sum(r.decision is Decision.HOLD for r in results)
    output.info(f"{held} of {len(results)} held against {len(entries)} watch-list entries; "
                f"decisions written to {out}")  # fmt: skip


@app.command("connections")
def connections(source: InOption, out: OutOption) -> None:
    """Power-connection applications (用电报装, clause 十): held if listed or mining-like load."""
    _run(source, out, ScreeningKind.CONNECTIONS)


@app.command("market")
def market(source: InOption, out: OutOption) -> None:
    """Electricity-market participants (clause 十四)."""
    _run(source, out, ScreeningKind.MARKET)


@app.command("customers")
def customers(source: InOption, out: OutOption) -> None:
    """A bank's or payment institution's customers (clause 十六)."""
    _run(source, out, ScreeningKind.CUSTOMERS)
