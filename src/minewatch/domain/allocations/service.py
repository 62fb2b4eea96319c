"""Import, list and read back IP allocations; every import is one event in the audit chain.

An import is all or nothing. A record already stored unchanged (same block, organisation,
credit code, address, region, ISP and period) is skipped, so importing a file twice changes
nothing; a new record that overlaps a stored one for the same block and period, or crosses a
stored block, is refused with its row (``replace`` first removes every stored record). The chain
records each import (file, counts, and a digest of the whole table), and verification compares
that digest with the table, so a row edited outside MineWatch is found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from minewatch.domain.allocations.models import IpAllocation
from minewatch.domain.audit.service import (
    JsonObject,
    append_event,
    canonical_json,
    register_state_reader,
)
from minewatch.domain.db import utcnow
from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.allocations import (
    ALLOCATIONS_SCHEMA,
    allocation_records,
    conflicting_pairs,
    describe_conflict,
)
from minewatch.reference.ip_address import address_key

ENTITY = "ip_allocations"
ENTITY_ID = "all"
_CONTENT = ("ip_first", "ip_last", "organisation", "uscc", "address", "region_code", "isp")


@dataclass(frozen=True)
class AllocationImportSummary:
    added: int
    unchanged: int
    removed: int
    total: int


def _identity(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        *(values[name] for name in _CONTENT),
        _iso(values["valid_from"]),
        _iso(values["valid_to"]),
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _row_values(row: IpAllocation) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*_CONTENT, "valid_from", "valid_to")}


def _image(session: Session) -> JsonObject:
    columns = [IpAllocation.id, *(getattr(IpAllocation, n) for n in (*_CONTENT, "valid_from",
               "valid_to")), IpAllocation.source]  # fmt: skip
    digest = hashlib.sha256()
    count = 0
    for row in session.execute(select(*columns).order_by(IpAllocation.id)):
        count += 1
        values = dict(zip(("id", *_CONTENT, "valid_from", "valid_to", "source"), row, strict=True))
        digest.update(canonical_json([values["id"], *_identity(values), values["source"]]).encode())
    return {"count": count, "sha256": digest.hexdigest()}


def _all_images(session: Session) -> dict[str, JsonObject]:
    image = _image(session)
    return {ENTITY_ID: image} if image["count"] else {}


register_state_reader(ENTITY, _all_images)


def import_allocations(
    session: Session,
    table: pa.Table,
    *,
    source: Path | str,
    actor: str,
    replace: bool = False,
    at: datetime | None = None,
) -> AllocationImportSummary:
    """Store the records of an :data:`ALLOCATIONS_SCHEMA` table (as read by
    :func:`~minewatch.ingest.allocations.read_allocations`); see the module's description."""
    when = utcnow() if at is None else at
    before = _image(session)
    removed = 0
    if replace:
        removed = before["count"]
        session.execute(delete(IpAllocation))
    stored = list(session.scalars(select(IpAllocation).order_by(IpAllocation.id)))
    known = {_identity(_row_values(row)) for row in stored}
    incoming = [r for r in table.to_pylist() if _identity(r) not in known]
    unchanged = table.num_rows - len(incoming)
    _refuse_conflicts(stored, incoming, source)
    source_name = Path(source).name[:200]
    if incoming:
        session.connection().execute(
            insert(IpAllocation),
            [
                {
                    **{name: values[name] for name in ALLOCATIONS_SCHEMA.names},
                    "first_key": address_key(values["ip_first"]).hex(),
                    "last_key": address_key(values["ip_last"]).hex(),
                    "source": source_name,
                    "imported_at": when,
                }
                for values in incoming
            ],
        )
    session.flush()
    after = _image(session)
    if after != before:
        append_event(
            session, actor=actor, entity_type=ENTITY, entity_id=ENTITY_ID, action="import",
            before=before if before["count"] else None, after=after,
            reason=f"{Path(source).name}: {len(incoming)} added, {unchanged} unchanged, "
            f"{removed} removed", at=when,
        )  # fmt: skip
    return AllocationImportSummary(len(incoming), unchanged, removed, after["count"])


def _refuse_conflicts(
    stored: list[IpAllocation], incoming: list[dict[str, Any]], source: Path | str
) -> None:
    if not incoming:
        return
    new = allocation_records(pa.Table.from_pylist(incoming, schema=ALLOCATIONS_SCHEMA))
    old = allocation_records(allocations_table(stored))
    stored_ids = {id(record): row.id for record, row in zip(old, stored, strict=True)}
    problems: list[InputProblem] = []
    for first, second, why in conflicting_pairs([*old, *new]):
        if id(first) in stored_ids and id(second) in stored_ids:
            continue  # stored before this import; not this file's problem
        mine, other = (second, first) if id(second) not in stored_ids else (first, second)
        where = (
            f"stored allocation #{stored_ids[id(other)]}"
            if id(other) in stored_ids
            else f"row {other.row}"
        )
        problems.append(
            InputProblem(mine.row, "ip_range", describe_conflict(other, mine, why, where))
        )
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputFileError(source, problems)


def allocations_table(rows: list[IpAllocation]) -> pa.Table:
    """ORM rows as :data:`ALLOCATIONS_SCHEMA` rows (``source_row`` is the record's id)."""
    columns: dict[str, list[Any]] = {name: [] for name in ALLOCATIONS_SCHEMA.names}
    for row in rows:
        for name in ALLOCATIONS_SCHEMA.names:
            columns[name].append(row.id if name == "source_row" else getattr(row, name))
    return pa.table(columns, schema=ALLOCATIONS_SCHEMA)


def stored_allocations(session: Session) -> pa.Table:
    """Every stored allocation as :data:`ALLOCATIONS_SCHEMA` rows (``source_row`` is the
    record's id), for :class:`~minewatch.detect.network.attribution.AllocationIndex`."""
    names = [name for name in ALLOCATIONS_SCHEMA.names if name != "source_row"]
    query = select(*(getattr(IpAllocation, n) for n in names), IpAllocation.id)
    rows = session.execute(query.order_by(IpAllocation.id)).all()
    columns = {name: [row[i] for row in rows] for i, name in enumerate([*names, "source_row"])}
    return pa.table(columns, schema=ALLOCATIONS_SCHEMA)
