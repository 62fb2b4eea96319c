"""``minewatch inspect``: double-random inspections (双随机、一公开) anyone can verify.

Pools are CSV files (UTF-8, with or without BOM), read by
:mod:`minewatch.domain.inspections.pools`:

* targets — ``target_id, region_code, enterprise_uscc`` and any further columns, kept as the
  target's attributes;
* inspectors — ``inspector_id, name, region_code, agency``, optional ``related_usccs``
  (credit codes separated by ``;``) and ``past_inspections`` (``target:draws_ago`` pairs
  separated by ``;``).

The order of the day: ``commit`` publishes the pools' hashes and the parameters before the seed
source exists (a named lottery draw, a future block hash); ``draw`` runs once it does; anyone
with the record and the pools runs ``verify``; ``record`` keeps what each drawn team found and
``results`` is what is published.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from minewatch.cli import context, output
from minewatch.domain.db import session_scope
from minewatch.domain.inspections.draw import (
    DrawParameters,
    DrawRecord,
    Inspector,
    SeedSource,
    Target,
    draw_commitment,
    draw_inspections,
    public_summary,
    verify_draw,
)
from minewatch.domain.inspections.models import InspectionOutcome
from minewatch.domain.inspections.pools import read_inspector_pool, read_target_pool
from minewatch.domain.inspections.results import (
    ResultData,
    get_draw,
    published_results,
    record_result,
    store_draw,
)
from minewatch.errors import MineWatchError

app = typer.Typer(help="Double-random inspections (双随机、一公开): commit, draw, verify.")

TargetsOption = Annotated[Path, typer.Option("--targets", help="Target pool CSV.")]
InspectorsOption = Annotated[Path, typer.Option("--inspectors", help="Inspector pool CSV.")]
DateOption = Annotated[str, typer.Option("--date", help="Draw date (YYYY-MM-DD).")]
CountOption = Annotated[int | None, typer.Option("--count", help="Targets to draw.")]
ShareOption = Annotated[float | None, typer.Option("--share", help="Share of the pool to draw.")]
PerTargetOption = Annotated[int, typer.Option("--per-target", help="Inspectors per target.")]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise MineWatchError(f"{path}: cannot be read ({error.strerror})") from error


def _pools(targets: Path, inspectors: Path) -> tuple[list[Target], list[Inspector]]:
    """Both pools from their CSV files (:mod:`minewatch.domain.inspections.pools`)."""
    inspector_pool = read_inspector_pool(_read(inspectors), str(inspectors))
    return read_target_pool(_read(targets), str(targets)), list(inspector_pool.inspectors)


def _parameters(day: str, count: int | None, share: float | None, per: int) -> DrawParameters:
    try:
        draw_date = date.fromisoformat(day)
    except ValueError as error:
        raise MineWatchError(f"--date {day!r} is not a date (YYYY-MM-DD)") from error
    try:
        return DrawParameters(
            draw_date, target_count=count, target_share=share, inspectors_per_target=per
        )
    except ValueError as error:
        raise MineWatchError(str(error)) from error


def _write(path: Path, value: object) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


@app.command("commit")
def commit(
    targets: TargetsOption, inspectors: InspectorsOption, day: DateOption,
    seed_description: Annotated[str, typer.Option("--seed-description",
        help="The public draw whose result will seed it, e.g. '福彩双色球 第2021115期'.")],
    out: Annotated[Path, typer.Option("--out")], count: CountOption = None,
    share: ShareOption = None, per_target: PerTargetOption = 2,
) -> None:  # fmt: skip
    """Publish the pools' hashes and the parameters before the seed source is known."""
    target_pool, inspector_pool = _pools(targets, inspectors)
    parameters = _parameters(day, count, share, per_target)
    try:
        commitment = draw_commitment(target_pool, inspector_pool, parameters, seed_description)
    except ValueError as error:
        raise MineWatchError(str(error)) from error
    _write(out, commitment)
    output.info(f"commitment written to {out}: publish it before {seed_description}")


@app.command("draw")
def draw(
    targets: TargetsOption, inspectors: InspectorsOption, day: DateOption,
    seed_text: Annotated[str, typer.Option("--seed-text", help="The published seed value.")],
    seed_description: Annotated[str, typer.Option("--seed-description")],
    out: Annotated[Path, typer.Option("--out", help="The full record (JSON).")],
    public: Annotated[Path | None, typer.Option("--public",
        help="Also write what may be published (without conflict data).")] = None,
    count: CountOption = None, share: ShareOption = None, per_target: PerTargetOption = 2,
) -> None:  # fmt: skip
    """Draw targets and their teams from the published seed."""
    target_pool, inspector_pool = _pools(targets, inspectors)
    parameters = _parameters(day, count, share, per_target)
    try:
        record = draw_inspections(
            target_pool, inspector_pool, parameters, SeedSource(seed_text, seed_description)
        )
    except ValueError as error:
        raise MineWatchError(str(error)) from error
    out.write_text(record.to_json() + "\n", encoding="utf-8")
    if public is not None:
        _write(public, public_summary(record, target_pool, inspector_pool))
    for assignment in record.assignments:
        team = "、".join(assignment.inspector_ids) or f"unstaffed ({assignment.unstaffed_reason})"
        output.info(f"  {assignment.target_id}: {team}")
    output.info(f"{len(record.picks)} target(s) drawn, seed {record.seed_sha256[:16]}…; "
                f"record written to {out}")  # fmt: skip


@app.command("verify")
def verify(
    record_file: Annotated[Path, typer.Argument(help="The draw record (JSON).")],
    targets: TargetsOption, inspectors: InspectorsOption,
) -> None:  # fmt: skip
    """Recompute a draw from its record and the pools. Exits 1 naming every mismatch."""
    target_pool, inspector_pool = _pools(targets, inspectors)
    try:
        record = DrawRecord.from_json(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MineWatchError(f"{record_file}: not a draw record ({error})") from error
    result = verify_draw(record, target_pool, inspector_pool)
    if result.ok:
        output.info(f"the draw checks out: {len(record.picks)} picks follow from the seed source "
                    f"and the pools")  # fmt: skip
        return
    for problem in result.problems:
        output.error(f"{problem.kind.value}: {problem.detail}")
    raise typer.Exit(1)


@app.command("record")
def record_result_command(
    record_file: Annotated[Path, typer.Argument(help="The draw record (JSON).")],
    targets: TargetsOption, inspectors: InspectorsOption,
    target: Annotated[str, typer.Option("--target", help="The drawn target inspected.")],
    day: Annotated[str, typer.Option("--date", help="Day of the inspection (YYYY-MM-DD).")],
    inspector: Annotated[list[str], typer.Option("--inspector", help="Repeat for each.")],
    outcome: Annotated[InspectionOutcome, typer.Option("--outcome")],
    findings: Annotated[str | None, typer.Option("--findings")] = None,
    who: Annotated[str | None, typer.Option("--as")] = None,
) -> None:  # fmt: skip
    """Record what the drawn team found at a drawn target (a violation becomes a lead)."""
    target_pool, inspector_pool = _pools(targets, inspectors)
    try:
        record = DrawRecord.from_json(record_file.read_text(encoding="utf-8"))
        inspected_on = date.fromisoformat(day)
    except (OSError, ValueError) as error:
        raise MineWatchError(f"{record_file} or --date: {error}") from error
    actor = who or context.default_actor()
    data = ResultData(target, inspected_on, tuple(inspector), outcome, findings)
    with session_scope(context.engine()) as session:
        draw = store_draw(session, record, target_pool, inspector_pool, actor=actor)
        record_result(session, draw, target_pool, data, actor=actor)
    output.info(f"{target}: {outcome.value} recorded for draw {record.seed_sha256[:16]}…")


@app.command("results")
def results(
    seed: Annotated[str, typer.Argument(help="The draw's seed (its first characters suffice).")],
    out: Annotated[Path | None, typer.Option("--out", help="Publishable results (CSV).")] = None,
) -> None:
    """The results of a draw as they may be published (一公开)."""
    with session_scope(context.engine()) as session:
        rows = published_results(session, get_draw(session, seed))
    for row in rows:
        output.info(f"  {row['target_id']}: {row['outcome']} {row['inspected_on'] or ''}")
    if out is not None:
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["target_id"])
            writer.writeheader()
            writer.writerows(rows)
        output.info(f"written to {out}")
