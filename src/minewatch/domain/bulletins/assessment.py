"""The per-case export for third-party assessment (notice 1283 clause （二十）, 第三方评估).

One record per case of the region, as the audit chain and the measure table stood at the
bulletin's end: the case number, the region it is attributed to, the time of every transition
it went through, and every measure with its dates. An assessor counts the timestamps that fall in
the bulletin's period ``[start_at, end_at)`` to recompute the case figures (e.g. the week's
confirmed count is the number of ``confirmed_at`` times inside the week). Nothing about reporters
is exported, nor the site's address, credit code or grid account: only codes, times and powers.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.bulletins.figures import (
    COUNTED_ACTIONS,
    Bulletin,
    case_histories,
    lies_within,
    region_name_of,
)
from minewatch.domain.cases.models import Case, Measure
from minewatch.domain.cases.states import Transition

TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("open", "opened_at"),
    (Transition.ASSIGN.value, "assigned_at"),
    (Transition.CHECK.value, "checked_at"),
    (Transition.CONFIRM.value, "confirmed_at"),
    (Transition.DISMISS.value, "dismissed_at"),
    (Transition.ORDER.value, "measures_ordered_at"),
    (Transition.COMPLETE.value, "measures_completed_at"),
    (Transition.CLEAR.value, "cleared_at"),
    (Transition.RECHECK.value, "rechecked_at"),
    (Transition.RELAPSE.value, "relapsed_at"),
    (Transition.REOPEN.value, "reopened_at"),
)
"""Audit action → the record field listing its times (every one, a case may pass twice)."""

assert {a for a, _ in TRANSITIONS} >= set(COUNTED_ACTIONS)


@dataclass(frozen=True)
class MeasureRecord:
    kind: str
    clause: str
    ordered_at: str
    due_date: str
    completed_at: str | None


@dataclass(frozen=True)
class AssessmentRecord:
    """One case for the assessor; times are ISO 8601 in UTC."""

    case_no: str
    region_code: str | None
    region_name: str
    status_at_end: str
    stage_due_at: str | None
    est_mining_kw: float | None
    transitions: dict[str, tuple[str, ...]]
    measures: tuple[MeasureRecord, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "case_no": self.case_no,
            "region_code": self.region_code,
            "region_name": self.region_name,
            "status_at_end": self.status_at_end,
            "stage_due_at": self.stage_due_at,
            "est_mining_kw": self.est_mining_kw,
            **{name: list(times) for name, times in self.transitions.items()},
            "measures": [m.__dict__ for m in self.measures],
        }


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def assessment_records(session: Session, bulletin: Bulletin) -> list[AssessmentRecord]:
    """The cases of the bulletin's region as they stood at its end, in case-number order."""
    histories = case_histories(session, bulletin.end_at)
    ids = {no: cid for no, cid in session.execute(select(Case.case_no, Case.id))}
    records: list[AssessmentRecord] = []
    for case_no in sorted(histories):
        history = histories[case_no]
        if not lies_within(history.region_code, bulletin.region_code):
            continue
        measures = session.scalars(
            select(Measure)
            .where(Measure.case_id == ids.get(case_no, -1), Measure.ordered_at < bulletin.end_at)
            .order_by(Measure.id)
        )
        due = history.due_at
        kw = history.last.get("est_mining_kw")
        records.append(
            AssessmentRecord(
                case_no=case_no,
                region_code=history.region_code,
                region_name=region_name_of(history.region_code),
                status_at_end=history.status.value,
                stage_due_at=None if due is None else _iso(due),
                est_mining_kw=None if kw is None else float(kw),
                transitions={
                    name: tuple(_iso(t) for t in history.times(action))
                    for action, name in TRANSITIONS
                },
                measures=tuple(
                    MeasureRecord(
                        kind=m.kind.value,
                        clause=m.clause,
                        ordered_at=_iso(m.ordered_at),
                        due_date=m.due_date.isoformat(),
                        completed_at=None
                        if m.completed_at is None or m.completed_at >= bulletin.end_at
                        else _iso(m.completed_at),
                    )
                    for m in measures
                ),
            )
        )
    return records


CSV_FIELDS: tuple[str, ...] = (
    "case_no",
    "region_code",
    "region_name",
    "status_at_end",
    "stage_due_at",
    "est_mining_kw",
    *(name for _, name in TRANSITIONS),
    "measures",
)


def _replace(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_assessment_csv(records: Sequence[AssessmentRecord], path: Path | str) -> int:
    """One row per case (UTF-8 with BOM, for Excel); several times of one transition are joined
    with ``;``; measures as ``kind|clause|ordered_at|due_date|completed_at`` joined with ``;``."""
    target = Path(path)

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_FIELDS)
            for r in records:
                measures = ";".join(
                    "|".join((m.kind, m.clause, m.ordered_at, m.due_date, m.completed_at or ""))
                    for m in r.measures
                )
                writer.writerow(
                    [
                        r.case_no,
                        r.region_code or "",
                        r.region_name,
                        r.status_at_end,
                        r.stage_due_at or "",
                        "" if r.est_mining_kw is None else r.est_mining_kw,
                        *(";".join(r.transitions[name]) for _, name in TRANSITIONS),
                        measures,
                    ]
                )

    _replace(target, write)
    return len(records)


def write_assessment_json(
    records: Sequence[AssessmentRecord], bulletin: Bulletin, path: Path | str
) -> int:
    """The records with the bulletin's week, region and period, so counts can be checked."""
    target = Path(path)
    document = {
        "week": str(bulletin.week),
        "region_code": bulletin.region_code,
        "region_name": bulletin.region_name,
        "start_at": _iso(bulletin.start_at),
        "end_at": _iso(bulletin.end_at),
        "generated_at": _iso(bulletin.generated_at),
        "note": "Counts are transitions whose time t satisfies start_at <= t < end_at.",
        "cases": [r.as_json() for r in records],
    }

    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")

    _replace(target, write)
    return len(records)
