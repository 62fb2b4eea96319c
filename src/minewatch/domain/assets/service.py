"""Import and read back units' server inventories; every import is one event in the audit chain.

An inventory is a unit's whole ledger of servers: importing a file replaces the stored servers
of every unit it names (servers gone from the file are gone from the ledger), all or nothing. A
public IP address or a MAC address already held by another unit's server is refused with its
row (private addresses may repeat across units' networks). The chain
records each unit's import (file, counts, and a digest of that unit's servers), and verification
compares the digest with the tables, so a server edited outside MineWatch is found.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from minewatch.domain.assets.models import AssetAddress, AssetMac, ServerAsset
from minewatch.domain.audit.service import (
    JsonObject,
    append_event,
    canonical_json,
    register_state_reader,
)
from minewatch.domain.db import utcnow
from minewatch.errors import InputFileError, InputProblem, NotFoundError
from minewatch.ingest.assets import ASSETS_SCHEMA

ENTITY = "server_assets"
_CONTENT = ("asset_id", "department", "room", "rack", "hostname", "ips", "macs", "owner",
            "purpose", "cpu_count", "gpu_count")  # fmt: skip


@dataclass(frozen=True)
class AssetImportSummary:
    units: int
    added: int
    removed: int
    total: int


def _values(row: ServerAsset) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _CONTENT if name not in ("ips", "macs")}
    return {**values, "ips": json.loads(row.ips_json), "macs": json.loads(row.macs_json)}


def _image(session: Session, unit: str) -> JsonObject:
    digest = hashlib.sha256()
    count = 0
    rows = session.scalars(
        select(ServerAsset).where(ServerAsset.unit == unit).order_by(ServerAsset.asset_id)
    )
    addresses = _addresses_of(session, unit)
    macs = _macs_of(session, unit)
    for row in rows:
        count += 1
        values = _values(row)
        values["stored_ips"] = sorted(addresses.get(row.id, []))
        stored_macs = sorted(macs.get(row.id, []))
        if stored_macs != sorted(values["macs"]):  # counted only when the MAC rows disagree,
            values["stored_macs"] = stored_macs  # so images recorded before they existed hold
        digest.update(canonical_json([values[k] for k in sorted(values)]).encode())
    return {"count": count, "sha256": digest.hexdigest()}


def _macs_of(session: Session, unit: str) -> dict[int, list[str]]:
    query = (
        select(AssetMac.asset_id, AssetMac.mac)
        .join(ServerAsset, ServerAsset.id == AssetMac.asset_id)
        .where(ServerAsset.unit == unit)
    )
    found: dict[int, list[str]] = {}
    for asset, mac in session.execute(query):
        found.setdefault(asset, []).append(mac)
    return found


def _addresses_of(session: Session, unit: str) -> dict[int, list[str]]:
    query = (
        select(AssetAddress.asset_id, AssetAddress.ip)
        .join(ServerAsset, ServerAsset.id == AssetAddress.asset_id)
        .where(ServerAsset.unit == unit)
    )
    found: dict[int, list[str]] = {}
    for asset, ip in session.execute(query):
        found.setdefault(asset, []).append(ip)
    return found


def unit_entity(unit: str) -> str:
    """A unit's name as an audit entity id (at most 64 characters: a longer name is cut and
    told apart by a digest of the whole)."""
    if len(unit) <= 64:
        return unit
    return unit[:47] + "#" + hashlib.sha256(unit.encode("utf-8")).hexdigest()[:16]


def _all_images(session: Session) -> dict[str, JsonObject]:
    units = session.scalars(select(ServerAsset.unit).distinct()).all()
    return {unit_entity(unit): _image(session, unit) for unit in units}


register_state_reader(ENTITY, _all_images)


def _private(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_private
    except ValueError:
        return False


def _refuse_taken(session: Session, table: pa.Table, source: Path | str) -> None:
    """Refuse public addresses and MACs held by servers of units this import does not replace
    (private addresses repeat from one unit's network to the next)."""
    units = set(table.column("unit").to_pylist())
    held: dict[tuple[str, str], str] = {}
    for unit, asset, ips, macs in session.execute(
        select(ServerAsset.unit, ServerAsset.asset_id, ServerAsset.ips_json, ServerAsset.macs_json)
    ):
        if unit in units:
            continue
        for ip in json.loads(ips):
            if not _private(ip):
                held[("ips", ip)] = f"{unit} {asset}"
        for mac in json.loads(macs):
            held[("macs", mac)] = f"{unit} {asset}"
    problems = [
        InputProblem(row["source_row"], kind, f"{value} is held by {held[(kind, value)]}")
        for row in table.to_pylist()
        for kind in ("ips", "macs")
        for value in row[kind]
        if (kind, value) in held
    ]
    if problems:
        raise InputFileError(source, problems)


def import_assets(
    session: Session,
    table: pa.Table,
    *,
    source: Path | str,
    actor: str,
    at: datetime | None = None,
) -> AssetImportSummary:
    """Replace the inventories of the units in ``table`` (:data:`ASSETS_SCHEMA`, as read by
    :func:`~minewatch.ingest.assets.read_assets`); see the module's description."""
    if table.schema != ASSETS_SCHEMA:
        table = table.cast(ASSETS_SCHEMA)
    when = utcnow() if at is None else at
    _refuse_taken(session, table, source)
    units = sorted(set(table.column("unit").to_pylist()))
    source_name = Path(source).name[:200]
    added = removed = 0
    for unit in units:
        before = _image(session, unit)
        removed += before["count"]
        stale = select(ServerAsset.id).where(ServerAsset.unit == unit)
        session.execute(delete(AssetAddress).where(AssetAddress.asset_id.in_(stale)))
        session.execute(delete(AssetMac).where(AssetMac.asset_id.in_(stale)))
        session.execute(delete(ServerAsset).where(ServerAsset.unit == unit))
        rows = [r for r in table.to_pylist() if r["unit"] == unit]
        for values in rows:
            asset = ServerAsset(
                unit=unit,
                **{k: values[k] for k in _CONTENT if k not in ("ips", "macs")},
                ips_json=json.dumps(values["ips"]),
                macs_json=json.dumps(values["macs"]),
                source=source_name,
                source_row=values["source_row"],
                imported_at=when,
            )
            session.add(asset)
            session.flush()
            if values["ips"]:
                session.execute(
                    insert(AssetAddress), [{"asset_id": asset.id, "ip": ip} for ip in values["ips"]]
                )
            if values["macs"]:
                session.execute(
                    insert(AssetMac), [{"asset_id": asset.id, "mac": m} for m in values["macs"]]
                )
        added += len(rows)
        session.flush()
        after = _image(session, unit)
        if after != before:
            append_event(
                session, actor=actor, entity_type=ENTITY, entity_id=unit_entity(unit),
                action="import", before=before if before["count"] else None, after=after,
                reason=f"{source_name}: {len(rows)} servers ({before['count']} before)", at=when,
            )  # fmt: skip
    total = sum(_image(session, unit)["count"] for unit in units)
    return AssetImportSummary(len(units), added, removed, total)


def assets_table(session: Session, unit: str | None = None) -> pa.Table:
    """The stored servers (of ``unit``, or every unit) as :data:`ASSETS_SCHEMA` rows
    (``source_row`` is the file row they came from)."""
    query = select(ServerAsset).order_by(ServerAsset.unit, ServerAsset.asset_id)
    if unit is not None:
        query = query.where(ServerAsset.unit == unit)
    rows = [
        {**_values(row), "unit": row.unit, "source_row": row.source_row}
        for row in session.scalars(query)
    ]
    return pa.Table.from_pylist(rows, schema=ASSETS_SCHEMA)


def assets_at(session: Session, ip: str, unit: str | None = None) -> list[ServerAsset]:
    """The servers that hold address ``ip`` (as inventories name it), of ``unit`` or of any
    unit: a private address may be on one server in each of several units."""
    query = (
        select(ServerAsset)
        .join(AssetAddress, AssetAddress.asset_id == ServerAsset.id)
        .where(AssetAddress.ip == ip)
        .order_by(ServerAsset.unit, ServerAsset.asset_id)
    )
    if unit is not None:
        query = query.where(ServerAsset.unit == unit)
    return list(session.scalars(query))


def asset_at(session: Session, ip: str, unit: str | None = None) -> ServerAsset | None:
    """The one server that holds address ``ip`` (in ``unit``, if given); ``None`` when no
    server does or when servers of several units do."""
    found = assets_at(session, ip, unit)
    return found[0] if len(found) == 1 else None


def assets_with_mac(session: Session, mac: str, unit: str | None = None) -> list[ServerAsset]:
    """The servers whose inventory lists MAC address ``mac`` (``aa:bb:cc:dd:ee:ff``)."""
    query = (
        select(ServerAsset)
        .join(AssetMac, AssetMac.asset_id == ServerAsset.id)
        .where(AssetMac.mac == mac)
    )
    if unit is not None:
        query = query.where(ServerAsset.unit == unit)
    return list(session.scalars(query.order_by(ServerAsset.unit, ServerAsset.asset_id)))


def get_asset(session: Session, unit: str, asset_id: str) -> ServerAsset:
    """The server ``asset_id`` of ``unit``'s inventory; raises :class:`NotFoundError`."""
    asset = session.scalar(
        select(ServerAsset).where(ServerAsset.unit == unit, ServerAsset.asset_id == asset_id)
    )
    if asset is None:
        raise NotFoundError(f"{unit} has no server {asset_id} in its inventory")
    return asset


def asset_values(asset: ServerAsset) -> dict[str, Any]:
    """A server as a plain record (addresses as lists)."""
    return {"unit": asset.unit, **_values(asset)}
