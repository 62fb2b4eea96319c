"""A unit's clearance figures (清理整治情况), and their signature.

For each server of the unit's inventory, and each host that reported but is missing from it:

* its checks (clean or not) up to the report's time, counted from ``since`` when a round of
  checking began then;
* its last finding: the newest probe report with a rule at level medium or above, or the last
  flow of a network finding placed on it;
* its state: 未检查 (no report), 检查无异常 (clean reports, never a finding), 有发现待处置 (no
  clean report newer than its last finding), 已复查清零 (a clean report newer than its last
  finding: the re-check).

The unit is at **dynamic zero** (动态清零) only when its inventory is not empty, every server
in it has a clean report newer than its last finding (so every server was checked), and every
host missing from the inventory that had a finding was re-checked clean too.

The figures are signed with the unit's key: the SHA-256 of their canonical JSON, and
HMAC-SHA256 of that digest under the unit's signing key; issuing a report records both in the
audit chain, so the supervising department can check a copy against the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.assets.models import ServerAsset
from minewatch.domain.assets.service import asset_values, unit_entity
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import append_event, canonical_json
from minewatch.domain.db import utcnow
from minewatch.domain.selfcheck.keys import get_unit_key, signing_key, unit_key_of
from minewatch.domain.selfcheck.models import HostCheck
from minewatch.domain.selfcheck.service import (
    ACTION_LABELS,
    UNLISTED,
    actions_of,
    asset_key,
    cases_of,
    checks_of,
    network_findings_of,
    split_asset_key,
)
from minewatch.errors import MineWatchError, NotFoundError

REPORT_ENTITY = "clearance_report"
UNCHECKED = "未检查"
CLEAN = "检查无异常"
OPEN = "有发现待处置"
CLEARED = "已复查清零"


@dataclass(frozen=True)
class HostRow:
    """One server (or one host missing from the inventory) in the report."""

    asset_id: str
    listed: bool
    department: str | None
    room: str | None
    rack: str | None
    owner: str | None
    hostname: str | None
    ips: list[str]
    checks: int
    last_check_at: str | None
    last_clean_at: str | None
    last_finding_at: str | None
    finding_sources: list[str]
    rules: list[str]
    actions: list[str]
    case_no: str | None
    state: str


@dataclass(frozen=True)
class Clearance:
    unit: str
    region_code: str
    uscc: str | None
    supervisor: str | None
    as_of: str
    since: str | None
    in_ledger: int
    checked: int
    unchecked: int
    with_findings: int
    rechecked_clean: int
    open_findings: int
    unlisted_hosts: int
    actions: dict[str, int]
    dynamic_zero: bool
    hosts: list[HostRow] = field(default_factory=list)
    open_items: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SignedClearance:
    clearance: Clearance
    key_id: str
    sha256: str
    signature: str
    issued_at: str


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _lead_last_seen(evidence: Mapping[str, Any], fallback: datetime) -> datetime:
    text = evidence.get("last_seen")
    if isinstance(text, str):
        try:
            seen = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return seen if seen.tzinfo else seen.replace(tzinfo=UTC)
        except ValueError:
            pass
    return fallback


def clearance(
    session: Session, unit: str, *, as_of: datetime | None = None, since: date | None = None
) -> Clearance:
    """The unit's figures as of ``as_of`` (now by default); see the module's description."""
    when = utcnow() if as_of is None else as_of
    key = unit_key_of(session, unit)
    assets = list(
        session.scalars(
            select(ServerAsset).where(ServerAsset.unit == unit).order_by(ServerAsset.asset_id)
        )
    )
    checks = [c for c in checks_of(session, unit) if c.collected_at <= when]
    counted = [c for c in checks if since is None or c.collected_at.date() >= since]
    actions = [a for a in actions_of(session, unit) if a.taken_on <= when.date()]
    network = [lead for lead in network_findings_of(session, unit) if lead.first_seen_at <= when]
    cases = {case.asset_key: case.case_no for case in cases_of(session, unit)}

    findings: dict[str, list[tuple[datetime, str, list[str]]]] = {}
    for check in checks:
        if not check.clean:
            rules = sorted({str(h["rule"]) for h in json.loads(check.hits_json)
                            if h["level"] in ("critical", "high", "medium")})  # fmt: skip
            findings.setdefault(str(check.asset_id), []).append(
                (check.collected_at, "probe", rules)
            )
    for lead in network:
        _, asset_id = split_asset_key(str(lead.asset_key))
        seen = _lead_last_seen(json.loads(lead.evidence_json), lead.last_seen_at)
        rules = [r.strip() for r in lead.reasons.split(";") if r.strip()]
        findings.setdefault(asset_id, []).append((min(seen, when), lead.source, rules))

    checks_by: dict[str, list[HostCheck]] = {}
    for check in counted:
        checks_by.setdefault(str(check.asset_id), []).append(check)
    actions_by: dict[str, list[str]] = {}
    for action in actions:
        actions_by.setdefault(action.asset_id, []).append(
            f"{action.taken_on.isoformat()} {ACTION_LABELS[action.kind]}"
        )

    def row(asset_id: str, listed: bool, values: Mapping[str, Any]) -> HostRow:
        mine = checks_by.get(asset_id, [])
        clean = [c.collected_at for c in mine if c.clean]
        found = findings.get(asset_id, [])
        last_finding = max((f[0] for f in found), default=None)
        last_clean = max(clean, default=None)
        if not mine:
            state = UNCHECKED
        elif last_finding is None:
            state = CLEAN if last_clean is not None else OPEN
        elif last_clean is not None and last_clean > last_finding:
            state = CLEARED
        else:
            state = OPEN
        return HostRow(
            asset_id=asset_id, listed=listed, department=values.get("department"),
            room=values.get("room"), rack=values.get("rack"), owner=values.get("owner"),
            hostname=values.get("hostname"), ips=list(values.get("ips") or []),
            checks=len(mine), last_check_at=_iso(max((c.collected_at for c in mine), default=None)),
            last_clean_at=_iso(last_clean), last_finding_at=_iso(last_finding),
            finding_sources=sorted({f[1] for f in found}),
            rules=sorted({r for f in found for r in f[2]}), actions=actions_by.get(asset_id, []),
            case_no=cases.get(asset_key(unit, asset_id)), state=state,
        )  # fmt: skip

    hosts = [row(a.asset_id, True, asset_values(a)) for a in assets]
    unlisted = sorted({str(c.asset_id) for c in checks if str(c.asset_id).startswith(UNLISTED)})
    for asset_id in unlisted:
        hostname = asset_id[len(UNLISTED) :]
        hosts.append(row(asset_id, False, {"hostname": hostname}))

    listed = [h for h in hosts if h.listed]
    flagged = [h for h in hosts if h.last_finding_at is not None]
    open_items = []
    for host in hosts:
        name = host.asset_id if host.listed else f"未登记主机 {host.hostname}"
        where = "，".join(p for p in (host.department, host.owner) if p)
        label = f"{name}（{where}）" if where else name
        if host.state == UNCHECKED and host.listed:
            open_items.append(f"{label}：未提交探针检查报告")
        elif host.state == OPEN:
            named = "、".join(host.rules) or "发现"
            open_items.append(f"{label}：{named}，尚无晚于最近发现的无异常复查报告")
        elif not host.listed and host.state in (CLEAN, CLEARED):
            open_items.append(f"{label}：不在资产台账中，请补登")
    return Clearance(
        unit=unit, region_code=key.region_code, uscc=key.uscc, supervisor=key.supervisor,
        as_of=str(_iso(when)), since=None if since is None else since.isoformat(),
        in_ledger=len(listed), checked=sum(h.state != UNCHECKED for h in listed),
        unchecked=sum(h.state == UNCHECKED for h in listed), with_findings=len(flagged),
        rechecked_clean=sum(h.state == CLEARED for h in flagged),
        open_findings=sum(h.state == OPEN for h in hosts), unlisted_hosts=len(unlisted),
        actions={kind: sum(a.kind == kind for a in actions) for kind in ACTION_LABELS},
        dynamic_zero=bool(listed) and all(h.state in (CLEAN, CLEARED) for h in listed)
        and all(h.state != OPEN for h in hosts),
        hosts=hosts, open_items=open_items,
    )  # fmt: skip


def _digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def sign_clearance(
    session: Session, figures: Clearance, *, actor: str, at: datetime | None = None
) -> SignedClearance:
    """Sign the figures with the unit's key and record the report in the audit chain."""
    when = utcnow() if at is None else at
    key = unit_key_of(session, figures.unit)
    digest = _digest(figures.payload())
    signature = hmac.new(signing_key(key), digest.encode("ascii"), hashlib.sha256).hexdigest()
    append_event(
        session, actor=actor, entity_type=REPORT_ENTITY, entity_id=unit_entity(figures.unit),
        action="issue", before=None,
        after={"sha256": digest, "signature": signature, "key_id": key.key_id,
               "as_of": figures.as_of, "dynamic_zero": figures.dynamic_zero,
               "in_ledger": figures.in_ledger, "checked": figures.checked,
               "open_findings": figures.open_findings},
        reason=f"clearance report as of {figures.as_of}", at=when,
    )  # fmt: skip
    return SignedClearance(figures, key.key_id, digest, signature, str(_iso(when)))


@dataclass(frozen=True)
class ClearanceCheck:
    unit: str
    sha256: str
    signature_ok: bool
    recorded: bool
    """The audit chain holds a report with this digest and signature."""
    payload_ok: bool | None
    """The figures carried by the file hash to the digest (``None``: the file carries none)."""

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.recorded and self.payload_ok is not False


def check_clearance(
    session: Session,
    *,
    key_id: str,
    sha256: str,
    signature: str,
    payload: Mapping[str, Any] | None = None,
) -> ClearanceCheck:
    """Check a report's digest and signature (and its figures, when the file carries them)."""
    try:
        key = get_unit_key(session, key_id)
    except NotFoundError:
        raise MineWatchError(f"the report names unit key {key_id}, which MineWatch never issued") \
            from None  # fmt: skip
    expected = hmac.new(signing_key(key), sha256.encode("ascii"), hashlib.sha256).hexdigest()
    recorded = False
    for after in session.scalars(
        select(AuditEvent.after_json).where(
            AuditEvent.entity_type == REPORT_ENTITY, AuditEvent.entity_id == unit_entity(key.unit)
        )
    ):
        image = json.loads(after or "{}")
        recorded = recorded or (image.get("sha256") == sha256
                                and image.get("signature") == signature)  # fmt: skip
    return ClearanceCheck(
        unit=key.unit, sha256=sha256, signature_ok=hmac.compare_digest(expected, signature),
        recorded=recorded, payload_ok=None if payload is None else _digest(payload) == sha256,
    )  # fmt: skip
