"""``minewatch screen``: lists of parties against the mining watch list, each with the reason.

Input CSV (UTF-8, with or without BOM): ``reference, name`` and any of ``uscc, address,
region_code``; power-connection applications also ``declared_load_kw, daily_hours, industry``.
Output CSV: ``reference, decision, reasons`` (``hold`` with every match and why, or ``pass``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.db import session_scope
from minewatch.domain.screening.service import Decision, Party, screen, watch_list
from minewatch.errors import InputFileError, InputProblem, MineWatchError

app = typer.Typer(help="Screen connection applications, market participants, bank customers.")

InOption = Annotated[Path, typer.Option("--in", help="Parties to screen (CSV).")]
OutOption = Annotated[Path, typer.Option("--out", help="Decisions (CSV).")]


def _number(
    row: dict[str, str], column: str, line: int, problems: list[InputProblem]
) -> float | None:
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        problems.append(InputProblem(line, column, f"{text!r} is not a number"))
        return None


def _parties(path: Path) -> list[Party]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise MineWatchError(f"{path}: cannot be read ({error.strerror})") from error
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip() for h in reader.fieldnames or []}
    missing = [c for c in ("reference", "name") if c not in header]
    if missing:
        raise InputFileError(str(path), [InputProblem(1, None, f"missing {', '.join(missing)}")])
    parties, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not row["reference"] or not row["name"]:
            problems.append(InputProblem(line, "reference" if not row["reference"] else "name",
                                         "empty"))  # fmt: skip
            continue
        parties.append(
            Party(
                reference=row["reference"],
                name=row["name"],
                uscc=row.get("uscc") or None,
                address=row.get("address") or None,
                region_code=row.get("region_code") or None,
                declared_load_kw=_number(row, "declared_load_kw", line, problems),
                daily_hours=_number(row, "daily_hours", line, problems),
                industry=row.get("industry") or None,
            )
        )
    if problems:
        raise InputFileError(str(path), problems)
    return parties


def _run(source: Path, out: Path, *, check_load: bool) -> None:
    parties = _parties(source)
    with session_scope(context.engine()) as session:
        entries = watch_list(session)
    results = screen(parties, entries, check_load=check_load)
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
    _run(source, out, check_load=True)


@app.command("market")
def market(source: InOption, out: OutOption) -> None:
    """Electricity-market participants (clause 十四)."""
    _run(source, out, check_load=False)


@app.command("customers")
def customers(source: InOption, out: OutOption) -> None:
    """A bank's or payment institution's customers (clause 十六)."""
    _run(source, out, check_load=False)
