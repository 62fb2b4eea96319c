"""Probe reports received, servers placed, actions recorded.

A probe report (the JSON of :mod:`minewatch.probe.hostprobe`) is received only when signed with
one of the unit's keys; it lands on a server of the unit's inventory by MAC address, else IP
address, else host name (a report that matches no server is kept as a host missing from the
inventory: an open item of the clearance report). Rules at level medium or above make it a
finding, and a finding is a lead (source ``hosts``) on the server, fused into the server's case.
A later clean report from the same server is its re-check.

A network finding traced through the unit's NAT log (or DHCP) to an inside address or MAC lands
on the server that holds it (:func:`place_on_assets`), so the probe's and the network's
findings on one server join one case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.assets.models import ServerAsset
from minewatch.domain.assets.service import asset_values, assets_at, assets_with_mac, get_asset
from minewatch.domain.audit.service import (
    JsonObject,
    append_event,
    register_state_reader,
)
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import fuse_leads
from minewatch.domain.db import utcnow
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import OPEN as LEAD_OPEN
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.selfcheck.keys import get_unit_key, signing_key
from minewatch.domain.selfcheck.models import HostAction, HostCheck, UnitKey
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.probe.hostprobe import canonical

SOURCE = "hosts"
CHECK_ENTITY = "host_check"
ACTION_ENTITY = "host_action"
FINDING_LEVELS = ("critical", "high", "medium")
"""Rule levels that make a report a finding (lower levels are noted, not acted on)."""
LEVEL_SCORES = {"critical": 0.99, "high": 0.9, "medium": 0.7}
"""A finding's lead score by its highest level: a known miner running is near-certain."""
UNLISTED = "未登记:"
"""Prefix of the asset id given to a server the inventory does not hold (by host name)."""
CLOCK_SLACK = timedelta(minutes=10)


class ReportRefusedError(MineWatchError):
    """A probe report the platform will not take (unsigned, wrong key, malformed)."""


class ActionKind:
    IP_BLOCKED = "ip_blocked"
    ACCOUNT_BLOCKED = "account_blocked"
    MINER_REMOVED = "miner_removed"
    TAKEN_OFFLINE = "taken_offline"


ACTION_LABELS = {
    ActionKind.IP_BLOCKED: "封禁IP地址",
    ActionKind.ACCOUNT_BLOCKED: "封停网络账号",
    ActionKind.MINER_REMOVED: "清除挖矿程序",
    ActionKind.TAKEN_OFFLINE: "下线停用",
}
"""What a unit may record doing about a server, with the report's words for it."""


def asset_key(unit: str, asset_id: str) -> str:
    """The key that ties leads and a case to one server (unambiguous, readable)."""
    return json.dumps([unit, asset_id], ensure_ascii=False)


def split_asset_key(key: str) -> tuple[str, str]:
    unit, asset_id = json.loads(key)
    return str(unit), str(asset_id)


# ----------------------------------------------------------------------------- audit images


def check_image(check: HostCheck) -> JsonObject:
    return {
        "unit": check.unit,
        "asset_id": check.asset_id,
        "matched_by": check.matched_by,
        "hostname": check.hostname,
        "collected_at": check.collected_at.isoformat(timespec="seconds"),
        "key_id": check.key_id,
        "report_sha256": check.report_sha256,
        "level": check.level,
        "clean": check.clean,
        "hits": json.loads(check.hits_json),
        "stored_report_sha256": hashlib.sha256(check.report_json.encode("utf-8")).hexdigest(),
    }


def action_image(action: HostAction) -> JsonObject:
    return {
        "unit": action.unit,
        "asset_id": action.asset_id,
        "kind": action.kind,
        "taken_on": action.taken_on.isoformat(),
        "note": action.note,
    }


register_state_reader(
    CHECK_ENTITY,
    lambda session: {c.report_sha256: check_image(c) for c in session.scalars(select(HostCheck))},
)
register_state_reader(
    ACTION_ENTITY,
    lambda session: {str(a.id): action_image(a) for a in session.scalars(select(HostAction))},
)


# ----------------------------------------------------------------------------- receiving


@dataclass(frozen=True)
class Received:
    """What became of one report."""

    check: HostCheck
    new: bool
    """False when the same report had been received before (nothing changed)."""
    case_no: str | None
    """The server's case, if it has one (a clean report is then its re-check)."""


def _signing_unit(session: Session, report: Mapping[str, Any], key: UnitKey | None) -> UnitKey:
    import hmac

    signature = report.get("signature")
    if not isinstance(signature, Mapping) or signature.get("algorithm") != "HMAC-SHA256":
        raise ReportRefusedError("the report is not signed (run the probe with --key-file)")
    key_id = signature.get("key_id")
    if key is None:
        if not isinstance(key_id, str):
            raise ReportRefusedError("the signature names no unit key (sign with a mwu_ key)")
        try:
            key = get_unit_key(session, key_id)
        except NotFoundError:
            raise ReportRefusedError(f"the report is signed with unknown key {key_id}") from None
    elif key_id not in (None, key.key_id):
        raise ReportRefusedError(
            f"the report is signed with key {key_id}, but posted with key {key.key_id}"
        )
    if key.revoked_at is not None:
        raise ReportRefusedError(
            f"unit key {key.key_id} was revoked; reports signed with it are no longer taken"
        )
    expected = hmac.new(signing_key(key), canonical(dict(report)), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(signature.get("value", "")), expected):
        raise ReportRefusedError(
            f"the signature does not match unit key {key.key_id} (the report was altered, or "
            "signed with another key)"
        )
    return key


def _collected_at(report: Mapping[str, Any], when: datetime) -> datetime:
    text = report.get("collected_at")
    try:
        at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ReportRefusedError(f"collected_at {text!r} is not a time") from None
    if at.tzinfo is None:
        raise ReportRefusedError(f"collected_at {text!r} has no time zone")
    at = at.astimezone(UTC)
    if at > when + CLOCK_SLACK:
        raise ReportRefusedError(f"collected_at {text} is in the future (the server's clock?)")
    return at


def _place_report(
    session: Session, unit: str, hostname: str, ips: Iterable[str], macs: Iterable[str]
) -> tuple[ServerAsset | None, str | None]:
    for mac in sorted({str(m).lower() for m in macs}):
        found = assets_with_mac(session, mac, unit)
        if len(found) == 1:
            return found[0], "mac"
    for ip in sorted(set(ips)):
        found = assets_at(session, str(ip), unit)
        if len(found) == 1:
            return found[0], "ip"
    by_name = list(
        session.scalars(
            select(ServerAsset).where(
                ServerAsset.unit == unit, func.lower(ServerAsset.hostname) == hostname.lower()
            )
        )
    )
    if len(by_name) == 1:
        return by_name[0], "hostname"
    return None, None


def _highest(hits: Sequence[Mapping[str, Any]]) -> str | None:
    order = ["critical", "high", "medium", "low", "informational"]
    levels = [str(h["level"]) for h in hits if str(h["level"]) in order]
    return min(levels, key=order.index) if levels else None


def receive_report(
    session: Session,
    report: Mapping[str, Any],
    hits: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    key: UnitKey | None = None,
    at: datetime | None = None,
) -> Received:
    """Take one signed probe report and the rule hits on it (rule, level, title, evidence).

    ``key`` is the unit key it was posted with (it must be the key that signed it); without it
    (a report carried in by hand) the signature's key id names the unit. Refused, with nothing
    written, when unsigned, signed with another key, or malformed.
    """
    when = utcnow() if at is None else at
    key = _signing_unit(session, report, key)
    hostname = report.get("hostname")
    if not isinstance(hostname, str) or not hostname.strip():
        raise ReportRefusedError("the report has no hostname")
    collected = _collected_at(report, when)
    digest = hashlib.sha256(canonical(dict(report))).hexdigest()
    known = session.scalar(select(HostCheck).where(HostCheck.report_sha256 == digest))
    if known is not None:
        return Received(known, False, _case_of(session, known))
    asset, matched_by = _place_report(
        session, key.unit, hostname, report.get("ips") or (), report.get("macs") or ()
    )
    level = _highest(hits)
    findings = [dict(h) for h in hits if str(h["level"]) in FINDING_LEVELS]
    check = HostCheck(
        unit=key.unit, asset_id=asset.asset_id if asset else f"{UNLISTED}{hostname}"[:100],
        matched_by=matched_by, hostname=hostname[:200], collected_at=collected, received_at=when,
        key_id=key.key_id, report_sha256=digest, level=level, clean=not findings,
        hits_json=json.dumps([dict(h) for h in hits], ensure_ascii=False, sort_keys=True,
                             default=str),
        processes=len(report.get("processes") or ()),
        report_json=json.dumps(report, ensure_ascii=False, sort_keys=True),
    )  # fmt: skip
    session.add(check)
    session.flush()
    append_event(
        session, actor=actor, entity_type=CHECK_ENTITY, entity_id=digest, action="receive",
        before=None, after=check_image(check),
        reason=f"{key.unit} {check.asset_id}: " + ("clean" if check.clean else f"{level} finding"),
        at=when,
    )  # fmt: skip
    if findings:
        lead = _finding_lead(key, check, asset, findings)
        record_leads(session, [lead], actor=actor, at=when)
        row = session.scalar(
            select(Lead).where(
                Lead.source == SOURCE, Lead.subject == lead.subject, Lead.status == LEAD_OPEN
            )
        )
        assert row is not None
        fuse_leads(session, actor=actor, leads=[row], at=when)
    return Received(check, True, _case_of(session, check))


def _subject(unit: str, asset_id: str) -> str:
    subject = f"asset:{asset_id}@{unit}"
    if len(subject) > 64:
        subject = "asset:" + hashlib.sha256(asset_key(unit, asset_id).encode()).hexdigest()[:58]
    return subject


def _finding_lead(
    key: UnitKey, check: HostCheck, asset: ServerAsset | None, findings: list[dict[str, Any]]
) -> LeadData:
    assert check.asset_id is not None
    place = asset_values(asset) if asset is not None else {"hostname": check.hostname}
    where = " ".join(str(place[k]) for k in ("room", "rack") if place.get(k))
    return LeadData(
        source=SOURCE,
        subject=_subject(key.unit, check.asset_id),
        score=max(LEVEL_SCORES.get(str(h["level"]), 0.5) for h in findings),
        category="mining",
        reasons="; ".join(sorted({str(h["rule"]) for h in findings})),
        evidence={
            "asset": place,
            "hostname": check.hostname,
            "matched_by": check.matched_by,
            "collected_at": check.collected_at.isoformat(timespec="seconds"),
            "report_sha256": check.report_sha256,
            "hits": findings[:20],
        },
        customer_name=key.unit,
        uscc=key.uscc,
        address=f"{key.unit} {where}".strip()[:300],
        region_code=key.region_code,
        asset_key=asset_key(key.unit, check.asset_id),
    )


def _case_of(session: Session, check: HostCheck) -> str | None:
    if check.asset_id is None:
        return None
    return session.scalar(
        select(Case.case_no)
        .where(Case.asset_key == asset_key(check.unit, check.asset_id))
        .order_by(Case.id.desc())
        .limit(1)
    )


# ----------------------------------------------------------------------------- network fusion


def _traced(lead: LeadData) -> Mapping[str, Any]:
    traced = lead.evidence.get("traced") if isinstance(lead.evidence, Mapping) else None
    return traced if isinstance(traced, Mapping) else {}


def _unit_names(session: Session, lead: LeadData) -> set[str]:
    """The units a network lead may belong to: by its credit code (the unit keys'), and by the
    allocation's enterprise name."""
    names: set[str] = set()
    if lead.uscc:
        names |= set(session.scalars(select(UnitKey.unit).where(UnitKey.uscc == lead.uscc)))
    if lead.customer_name:
        names.add(lead.customer_name)
    return names


def place_on_assets(session: Session, leads: Sequence[LeadData]) -> list[LeadData]:
    """Network leads with the inside address (NAT log) or MAC (DHCP) they were traced to, placed
    on the server of a unit's inventory that holds it; others unchanged.

    A private address may be on a server in several units: the lead's unit (its credit code, or
    its enterprise's name, from the address allocation of the egress) decides; when it cannot,
    the lead is left unplaced and says how many servers were candidates.
    """
    placed = []
    for lead in leads:
        traced = _traced(lead)
        candidates: list[tuple[ServerAsset, str]] = []
        if traced.get("mac"):
            candidates = [(a, "mac") for a in assets_with_mac(session, str(traced["mac"]).lower())]
        if not candidates and traced.get("internal_ip"):
            candidates = [(a, "nat") for a in assets_at(session, str(traced["internal_ip"]))]
        if not candidates:
            placed.append(lead)
            continue
        if len({a.unit for a, _ in candidates}) > 1:
            units = _unit_names(session, lead)
            narrowed = [(a, how) for a, how in candidates if a.unit in units]
            candidates = narrowed if len(narrowed) == 1 else candidates
        if len(candidates) != 1:
            servers = [f"{a.unit} {a.asset_id}" for a, _ in candidates][:20]
            placed.append(replace(lead, evidence=dict(lead.evidence, asset_candidates=servers)))
            continue
        asset, how = candidates[0]
        region = lead.region_code
        keys = [k for k in session.scalars(select(UnitKey).where(UnitKey.unit == asset.unit))]
        if region is None and keys:
            region = keys[-1].region_code
        values = asset_values(asset)
        where = " ".join(str(values[k]) for k in ("room", "rack") if values.get(k))
        placed.append(
            replace(
                lead,
                asset_key=asset_key(asset.unit, asset.asset_id),
                customer_name=asset.unit,
                address=f"{asset.unit} {where}".strip()[:300],
                region_code=region,
                evidence=dict(lead.evidence, asset={**values, "placed_by": how}),
            )
        )
    return placed


# ----------------------------------------------------------------------------- actions


def record_action(
    session: Session,
    unit: str,
    asset_id: str,
    kind: str,
    *,
    taken_on: date,
    actor: str,
    note: str | None = None,
    at: datetime | None = None,
) -> HostAction:
    """Record what the unit did about a server of its inventory (audited)."""
    when = utcnow() if at is None else at
    if kind not in ACTION_LABELS:
        raise MineWatchError(f"{kind!r} is not an action ({', '.join(ACTION_LABELS)})")
    if not asset_id.startswith(UNLISTED):
        get_asset(session, unit, asset_id)
    elif (
        session.scalar(
            select(HostCheck.id).where(HostCheck.unit == unit, HostCheck.asset_id == asset_id)
        )
        is None
    ):
        raise NotFoundError(f"{unit} has no report from {asset_id}")
    if taken_on > when.date() + timedelta(days=1):
        raise MineWatchError(f"{taken_on} is in the future")
    action = HostAction(unit=unit, asset_id=asset_id, kind=kind, taken_on=taken_on,
                        note=(note or None), actor=actor, recorded_at=when)  # fmt: skip
    session.add(action)
    session.flush()
    append_event(session, actor=actor, entity_type=ACTION_ENTITY, entity_id=str(action.id),
                 action="record", before=None, after=action_image(action),
                 reason=f"{unit} {asset_id}: {ACTION_LABELS[kind]}", at=when)  # fmt: skip
    return action


def checks_of(session: Session, unit: str) -> list[HostCheck]:
    return list(
        session.scalars(
            select(HostCheck).where(HostCheck.unit == unit).order_by(HostCheck.collected_at)
        )
    )


def actions_of(session: Session, unit: str) -> list[HostAction]:
    return list(
        session.scalars(
            select(HostAction)
            .where(HostAction.unit == unit)
            .order_by(HostAction.taken_on, HostAction.id)
        )
    )


def network_findings_of(session: Session, unit: str) -> list[Lead]:
    """Leads from other sources than the probe placed on the unit's servers."""
    prefix = json.dumps([unit], ensure_ascii=False)[:-1] + ","
    return list(
        session.scalars(
            select(Lead)
            .where(Lead.source != SOURCE, Lead.asset_key.startswith(prefix, autoescape=True))
            .order_by(Lead.id)
        )
    )


def cases_of(session: Session, unit: str) -> list[Case]:
    prefix = json.dumps([unit], ensure_ascii=False)[:-1] + ","
    return list(
        session.scalars(
            select(Case).where(Case.asset_key.startswith(prefix, autoescape=True)).order_by(Case.id)
        )
    )


__all__ = [
    "ACTION_LABELS",
    "SOURCE",
    "ActionKind",
    "Received",
    "ReportRefusedError",
    "asset_key",
    "place_on_assets",
    "receive_report",
    "record_action",
]  # fmt: skip
