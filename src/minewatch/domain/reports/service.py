"""Public reports: intake from every channel, a receipt code, triage to a county, a lead.

Clause 十九 of notice 1283 asks every region for a reporting platform open to the whole of
society, and clause 十二 names the 12398 line. A report arrives by the web form, a hotline or a
letter; the reporter gets a **receipt code** and nothing else is needed to follow it — no name,
no account. Contact details, when given, are encrypted at rest (Fernet, with a key derived from
the deployment's secret, never stored in the database) and are read only by an official of the
county handling the report, each reading an event in the audit chain.

Service levels (defaults a province can change): a report is triaged to a county within
``TRIAGE_DAYS``; the county answers within ``ANSWER_DAYS`` of triage. Triage makes the report a
lead (source ``report``, subject its receipt code), fused into the case of its site like any
other lead; the reporter's status page then follows the case in plain words.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.address import normalise_address
from minewatch.domain.cases.models import CaseLead
from minewatch.domain.cases.service import Actor, CaseError, TransitionRefusedError, fuse_leads
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import utcnow
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.reports.models import Channel, PublicReport, ReportStatus
from minewatch.reference import regions

ENTITY = "report"
TRIAGE_DAYS = 3
ANSWER_DAYS = 15
REPORT_SCORE = 0.3
"""A report alone is a weak witness (neighbours mistake a data centre or a cold store for a
mine); fused with a meter or network lead it adds to the case's confidence."""
MAX_TEXT = 4000
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_HANDLERS = frozenset({Role.COUNTY, Role.CITY, Role.PROVINCIAL})

_PUBLIC_STAGE = {
    CaseStatus.OPEN: "已受理，待分派核查",
    CaseStatus.ASSIGNED: "已交办属地核查",
    CaseStatus.CHECKED: "已现场核查，待认定",
    CaseStatus.CONFIRMED: "经核查属实，正在处置",
    CaseStatus.DISMISSED: "经核查未发现虚拟货币挖矿活动",
    CaseStatus.MEASURES_ORDERED: "经核查属实，正在处置",
    CaseStatus.MEASURES_COMPLETED: "处置措施已落实",
    CaseStatus.CLEARED: "已整治到位",
    CaseStatus.RECHECKED: "已整治到位并复查",
}
_PUBLIC_STATUS = {
    ReportStatus.RECEIVED: "已收到，待分派",
    ReportStatus.TRIAGED: "已交办属地核查",
    ReportStatus.LINKED: "已并入核查案件",
    ReportStatus.CLOSED: "已办结",
}


class ReportError(CaseError):
    """A report that cannot be taken or handled as asked."""


@dataclass(frozen=True)
class ReportData:
    """What a reporter tells, by any channel."""

    channel: Channel
    address: str
    observed: str
    enterprise_name: str | None = None
    power_use: str | None = None
    contact: str | None = None
    region_code: str | None = None
    """When the intake desk knows it (a hotline operator); else read from the address."""


@dataclass(frozen=True)
class PublicStatus:
    """What the status page shows for a receipt code — nothing about the reporter."""

    receipt_code: str
    received_date: str
    status: str
    progress: str
    note: str | None


class ContactVault:
    """Encrypts and decrypts reporters' contacts with a key derived from the deployment secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ReportError("the report key needs a secret of at least 16 characters")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"minewatch report contacts"
        ).derive(secret.encode("utf-8"))
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.key_id = hashlib.sha256(key).hexdigest()[:12]

    def seal(self, contact: str) -> str:
        return self._fernet.encrypt(contact.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise ReportError(
                "the contact cannot be decrypted with this deployment's key"
            ) from error


def new_receipt_code() -> str:
    """Twelve random Crockford base32 characters (60 bits), grouped by four: ``7K2M-Q9RT-3VWX``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_receipt_code(text: str) -> str:
    """The code as stored, from what a reporter types (case, spaces, dashes, O/0 and I/L/1)."""
    plain = "".join(ch for ch in text.upper() if ch.isalnum())
    plain = plain.translate(str.maketrans("OIL", "011"))
    if len(plain) != 12 or any(ch not in _ALPHABET for ch in plain):
        raise ReportError(f"{text!r} is not a receipt code (12 letters and digits)")
    return f"{plain[:4]}-{plain[4:8]}-{plain[8:]}"


def report_image(report: PublicReport) -> JsonObject:
    """The audited state of a report: never the contact, only whether one is held."""
    return {
        "receipt_code": report.receipt_code,
        "channel": report.channel.value,
        "status": report.status.value,
        "address": report.address,
        "enterprise_name": report.enterprise_name,
        "observed": report.observed,
        "power_use": report.power_use,
        "region_code": report.region_code,
        "assigned_region_code": report.assigned_region_code,
        "due_at": None if report.due_at is None else report.due_at.isoformat(timespec="seconds"),
        "lead_id": report.lead_id,
        "contact_held": report.contact_ciphertext is not None,
        "public_note": report.public_note,
    }


def _all_images(session: Session) -> dict[str, JsonObject]:
    return {r.receipt_code: report_image(r) for r in session.scalars(select(PublicReport))}


register_state_reader(ENTITY, _all_images)


def _text(value: str | None, name: str, *, required: bool) -> str | None:
    cleaned = None if value is None else " ".join(value.split())
    if required and not cleaned:
        raise ReportError(f"{name} is required")
    if cleaned and len(cleaned) > MAX_TEXT:
        raise ReportError(f"{name} is longer than {MAX_TEXT} characters")
    return cleaned or None


def _region_of(address: str) -> str | None:
    """The most specific region the address names ("四川省雅安市石棉县美罗镇…" → 石棉县)."""
    try:
        return normalise_address(address).region_code
    except ValueError:
        return None


def submit_report(
    session: Session, data: ReportData, *, vault: ContactVault, at: datetime | None = None
) -> PublicReport:
    """Take a report; the returned row's ``receipt_code`` is what the reporter keeps."""
    when = utcnow() if at is None else at
    address = _text(data.address, "address", required=True)
    observed = _text(data.observed, "what was seen or heard", required=True)
    assert address is not None
    assert observed is not None
    if data.region_code is not None and not regions.is_valid_code(data.region_code, False):
        raise ReportError(f"{data.region_code} is not a region code")
    contact = _text(data.contact, "contact", required=False)
    code = new_receipt_code()
    while session.scalar(select(PublicReport.id).where(PublicReport.receipt_code == code)):
        code = new_receipt_code()
    report = PublicReport(
        receipt_code=code,
        channel=data.channel,
        status=ReportStatus.RECEIVED,
        received_at=when,
        address=address,
        enterprise_name=_text(data.enterprise_name, "enterprise", required=False),
        observed=observed,
        power_use=_text(data.power_use, "power use", required=False),
        region_code=data.region_code or _region_of(address),
        due_at=when + timedelta(days=TRIAGE_DAYS),
        contact_ciphertext=None if contact is None else vault.seal(contact),
        contact_key_id=None if contact is None else vault.key_id,
        updated_at=when,
    )
    session.add(report)
    session.flush()
    append_event(
        session, actor=f"public:{data.channel.value}", entity_type=ENTITY, entity_id=code,
        action="submit", before=None, after=report_image(report), at=when,
    )  # fmt: skip
    return report


def get_report(session: Session, receipt_code: str) -> PublicReport:
    code = normalise_receipt_code(receipt_code)
    report = session.scalar(select(PublicReport).where(PublicReport.receipt_code == code))
    if report is None:
        raise ReportError(f"no report with receipt code {code}")
    return report


def _require(report: PublicReport, actor: Actor, region: str | None) -> None:
    if actor.role not in _HANDLERS and actor.role is not Role.NATIONAL:
        raise TransitionRefusedError(f"a {actor.role.value} does not handle public reports")
    if not actor.covers(region):
        raise TransitionRefusedError(
            f"report {report.receipt_code} lies outside {actor.region_code} of {actor.name}"
        )


def triage(
    session: Session,
    receipt_code: str,
    county_code: str,
    *,
    actor: Actor,
    at: datetime | None = None,
) -> PublicReport:
    """Hand the report to a county: it becomes a lead, fused into its site's case."""
    when = utcnow() if at is None else at
    report = get_report(session, receipt_code)
    if report.status is not ReportStatus.RECEIVED:
        raise TransitionRefusedError(f"report {report.receipt_code} is already {report.status}")
    region = regions.find(county_code)
    if region is None or region.level != regions.RegionLevel.COUNTY:
        raise ReportError(f"{county_code} is not a county code")
    _require(report, actor, county_code)
    before = report_image(report)
    record_leads(
        session,
        [
            LeadData(
                source="report",
                subject=report.receipt_code,
                score=REPORT_SCORE,
                category="report",
                reasons=f"report.{report.channel.value}",
                evidence={"observed": report.observed, "power_use": report.power_use},
                customer_name=report.enterprise_name,
                address=report.address,
                region_code=county_code,
            )
        ],
        actor=actor.name,
        at=when,
    )
    lead = session.scalar(
        select(Lead).where(Lead.source == "report", Lead.subject == report.receipt_code)
    )
    assert lead is not None
    fuse_leads(session, actor=actor.name, leads=[lead], at=when)
    report.lead_id = lead.id
    report.assigned_region_code = county_code
    report.status = ReportStatus.TRIAGED
    report.due_at = when + timedelta(days=ANSWER_DAYS)
    report.updated_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=report.receipt_code,
        action="triage", before=before, after=report_image(report), at=when,
    )  # fmt: skip
    return report


def reveal_contact(
    session: Session,
    receipt_code: str,
    *,
    actor: Actor,
    vault: ContactVault,
    reason: str,
    at: datetime | None = None,
) -> str | None:
    """The reporter's contact, for an official of the handling county (or above it); audited."""
    report = get_report(session, receipt_code)
    if report.assigned_region_code is None:
        raise TransitionRefusedError("the report has no handling office yet: triage it first")
    _require(report, actor, report.assigned_region_code)
    if not reason.strip():
        raise ReportError("reading a reporter's contact needs a reason")
    if report.contact_ciphertext is None:
        return None
    contact = vault.open(report.contact_ciphertext)
    image = report_image(report)
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=report.receipt_code,
        action="reveal_contact", before=image, after=image, reason=reason, at=at,
    )  # fmt: skip
    return contact


def close_report(
    session: Session,
    receipt_code: str,
    *,
    actor: Actor,
    public_note: str,
    at: datetime | None = None,
) -> PublicReport:
    """Close the report with the answer the reporter will read."""
    when = utcnow() if at is None else at
    report = get_report(session, receipt_code)
    _require(report, actor, report.assigned_region_code or report.region_code)
    note = _text(public_note, "the answer", required=True)
    before = report_image(report)
    report.status = ReportStatus.CLOSED
    report.public_note = note
    report.closed_at = when
    report.due_at = None
    report.updated_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=ENTITY, entity_id=report.receipt_code,
        action="close", before=before, after=report_image(report), at=when,
    )  # fmt: skip
    return report


def public_status(session: Session, receipt_code: str) -> PublicStatus:
    """What anyone holding the code may read."""
    report = get_report(session, receipt_code)
    progress = _PUBLIC_STATUS[report.status]
    if report.lead_id is not None and report.status is not ReportStatus.CLOSED:
        link = session.scalar(select(CaseLead).where(CaseLead.lead_id == report.lead_id))
        if link is not None:
            progress = _PUBLIC_STAGE[link.case.status]
    return PublicStatus(
        receipt_code=report.receipt_code,
        received_date=report.received_at.date().isoformat(),
        status=report.status.value,
        progress=progress,
        note=report.public_note,
    )


def overdue_reports(
    session: Session, *, now: datetime | None = None, within: str = regions.NATIONAL
) -> list[PublicReport]:
    """Reports past their service-level deadline, in the region ``within``, oldest first."""
    when = utcnow() if now is None else now
    rows = session.scalars(
        select(PublicReport)
        .where(PublicReport.due_at.is_not(None), PublicReport.due_at < when)
        .order_by(PublicReport.due_at)
    )
    out = []
    for report in rows:
        region = report.assigned_region_code or report.region_code
        if within == regions.NATIONAL or (region is not None and regions.is_within(region, within)):
            out.append(report)
    return out
