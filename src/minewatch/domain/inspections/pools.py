"""The pools a double-random draw is made from: read from CSV text, or built from a region's
ledger and cases.

CSV pools (UTF-8, with or without BOM), as ``minewatch inspect`` and the web's commit form take
them:

* targets — ``target_id, region_code, enterprise_uscc`` and any further columns, kept as the
  target's attributes (text; part of the pool hash and published with the results);
* inspectors — ``inspector_id, name, region_code, agency``, optional ``related_usccs`` (credit
  codes separated by ``;``), ``past_inspections`` (``target:draws_ago`` pairs separated by
  ``;``) and ``username`` (the MineWatch account that records results for this officer; the
  inspector id itself when empty). The user name is not part of the pool hash: it says who may
  sign for the officer, not who the officer is.

A pool built from the database is the region's records as they stand when it is built; a round
keeps it as committed (:mod:`minewatch.domain.inspections.rounds`), so later edits to the
ledger or the cases do not change a draw.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.cases.models import Case
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.inspections.draw import Inspector, Target
from minewatch.domain.ledger.models import Project
from minewatch.domain.scope import answering_within, within
from minewatch.errors import InputFileError, InputProblem, MineWatchError

__all__ = [
    "INSPECTOR_COLUMNS",
    "TARGET_COLUMNS",
    "InspectorPool",
    "case_targets",
    "inspectors_from_json",
    "ledger_targets",
    "read_inspector_pool",
    "read_target_pool",
    "targets_from_json",
]

T = TypeVar("T")

TARGET_COLUMNS = ("target_id", "region_code", "enterprise_uscc")
"""The columns a target pool CSV must have."""
INSPECTOR_COLUMNS = ("inspector_id", "name", "region_code", "agency")
"""The columns an inspector pool CSV must have."""
_INSPECTOR_OPTIONAL = ("related_usccs", "past_inspections", "username")


@dataclass(frozen=True)
class InspectorPool:
    """The officers of a pool and, for each, the user name that records for them.

    ``accounts`` maps every inspector id to a user name.
    """

    inspectors: tuple[Inspector, ...]
    accounts: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", MappingProxyType(dict(sorted(self.accounts.items()))))
        missing = sorted({i.inspector_id for i in self.inspectors} - set(self.accounts))
        if missing:
            raise ValueError(f"no user name for inspector(s) {', '.join(missing)}")

    @classmethod
    def of(
        cls, inspectors: Sequence[Inspector], accounts: Mapping[str, str] | None = None
    ) -> InspectorPool:
        """A pool whose officers record as ``accounts[id]``, or as their id where not given."""
        given = accounts or {}
        return cls(
            tuple(inspectors),
            {i.inspector_id: given.get(i.inspector_id) or i.inspector_id for i in inspectors},
        )


def _rows(
    text: str, source: str, required: Sequence[str], build: Callable[[dict[str, str]], T]
) -> list[T]:
    """Each row of the CSV ``text`` built into an item; every bad row named, nothing returned
    then (:class:`InputFileError` naming ``source``)."""
    reader = csv.DictReader(text.lstrip("\ufeff").splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        problem = InputProblem(1, None, f"missing column(s) {', '.join(missing)}")
        raise InputFileError(source, [problem])
    items: list[T] = []
    problems: list[InputProblem] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        try:
            items.append(build(row))
        except (ValueError, MineWatchError) as error:
            problems.append(InputProblem(number, None, str(error)))
    if problems:
        raise InputFileError(source, problems)
    return items


def _target(row: dict[str, str]) -> Target:
    extra = {k: v for k, v in row.items() if k not in TARGET_COLUMNS and k}
    return Target(row["target_id"], row["region_code"], row["enterprise_uscc"], extra)


def _inspector(row: dict[str, str]) -> tuple[Inspector, str]:
    related = frozenset(c.strip() for c in row.get("related_usccs", "").split(";") if c.strip())
    past: dict[str, int] = {}
    for pair in row.get("past_inspections", "").split(";"):
        if not pair.strip():
            continue
        target, sep, ago = pair.rpartition(":")
        if not sep or not ago.strip().isdigit():
            raise ValueError(f"past_inspections {pair!r}: write target:draws_ago")
        past[target.strip()] = int(ago)
    inspector = Inspector(
        row["inspector_id"], row["name"], row["region_code"], row["agency"], related, past
    )
    username = row.get("username", "") or inspector.inspector_id
    if len(username) > 64 or any(ch.isspace() for ch in username):
        raise ValueError(f"username {username!r}: 1-64 characters without spaces")
    return inspector, username


def read_target_pool(text: str, source: str) -> list[Target]:
    """The target pool in the CSV ``text``; ``source`` names it in errors (a file name)."""
    return _rows(text, source, TARGET_COLUMNS, _target)


def read_inspector_pool(text: str, source: str) -> InspectorPool:
    """The inspector pool in the CSV ``text``, with the user name recording for each officer."""
    rows = _rows(text, source, INSPECTOR_COLUMNS, _inspector)
    return InspectorPool(tuple(i for i, _ in rows), {i.inspector_id: u for i, u in rows})


def ledger_targets(session: Session, region_code: str) -> list[Target]:
    """Every mining project of the ledger whose site lies in ``region_code`` or below, as a
    target: its project code, county, enterprise credit code, and the enterprise's name, the
    project's name and the site address as attributes."""
    projects = session.scalars(
        select(Project).where(within(Project.region_code, region_code)).order_by(Project.code)
    ).all()
    targets = []
    for project in projects:
        attributes = {
            "name": project.enterprise.name,
            "project": project.name,
            "address": project.site_address,
        }
        try:
            targets.append(
                Target(project.code, project.region_code, project.enterprise.uscc, attributes)
            )
        except ValueError as error:
            raise MineWatchError(f"ledger project {project.code}: {error}") from error
    return targets


def case_targets(session: Session, region_code: str) -> list[Target]:
    """The cases answered for in ``region_code`` or below whose enterprise credit code and site
    county are known and which are not dismissed, as targets: the case number, the site's
    county, the credit code and (when known) the address."""
    cases = session.scalars(
        select(Case)
        .where(
            answering_within(Case.assigned_region_code, Case.region_code, region_code),
            Case.uscc.is_not(None),
            Case.region_code.is_not(None),
            Case.status != CaseStatus.DISMISSED,
        )
        .order_by(Case.case_no)
    ).all()
    targets = []
    for case in cases:
        assert case.uscc is not None
        assert case.region_code is not None
        attributes = {"address": case.address} if case.address else {}
        try:
            targets.append(Target(case.case_no, case.region_code, case.uscc, attributes))
        except ValueError as error:
            raise MineWatchError(f"case {case.case_no}: {error}") from error
    return targets


def targets_from_json(text: str) -> list[Target]:
    """A target pool read back from its canonical JSON (:func:`~.draw.target_pool_json`)."""
    return [
        Target(row["target_id"], row["region_code"], row["enterprise_uscc"], row["attributes"])
        for row in json.loads(text)
    ]


def inspectors_from_json(text: str) -> list[Inspector]:
    """An inspector pool read back from its canonical JSON (:func:`~.draw.inspector_pool_json`),
    conflict data included."""
    return [
        Inspector(
            row["inspector_id"],
            row["name"],
            row["region_code"],
            row["agency"],
            frozenset(row["related_usccs"]),
            row["past_inspections"],
        )
        for row in json.loads(text)
    ]
