"""Record credit commitments and the credit records of broken ones (notice 1283, clause （九）).

Clause （九）: data-centre enterprises sign a credit commitment not to mine; the commitment and
its fulfilment enter the credit record through the credit-information sharing platform; an
enterprise that breaks it is restricted. Here:

* :func:`record_commitment` keeps the signed commitment (text by version and SHA-256, the
  signed document by name and SHA-256), creating the enterprise through the enterprises service
  when it is new;
* :func:`find_in_force` names the commitment that bound an enterprise on a day;
* :func:`record_breach` turns a confirmed case against a committed enterprise into a credit
  record (one per case: a second call returns the first record), and marks the commitment
  breached;
* :func:`correct` and :func:`revoke` change a published record, with the reason.

Every change appends an event to the audit chain with the record before and after.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import JsonObject, append_event, register_state_reader
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import ENTITY as CASE_ENTITY
from minewatch.domain.cases.service import Actor, get_case
from minewatch.domain.cases.states import CaseStatus, Role, Transition
from minewatch.domain.credit.models import (
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    CreditRecord,
    RecordStatus,
)
from minewatch.domain.db import utcnow
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.enterprises.service import EnterpriseData, get_by_uscc, save_enterprise
from minewatch.domain.scope import within as in_region
from minewatch.errors import MineWatchError, NotFoundError
from minewatch.reference import credit_code, regions

COMMITMENT_ENTITY = "credit_commitment"
RECORD_ENTITY = "credit_record"

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""Dates of decisions are local dates (the notice's authorities sit in China)."""

MEASURE = "不履行承诺"
"""The measure every record names: the enterprise did not keep its commitment."""
BASIS = "《关于整治虚拟货币“挖矿”活动的通知》（发改运行〔2021〕1283号）第九条"
"""认定依据 of every record."""
DEFAULT_RESTRICTION = (
    "将违诺情况纳入信用记录，通过信用信息共享平台共享，作为事中事后监管依据，依法实施限制"
)
"""The restriction clause （九） prescribes; a province may name concrete ones per record."""
DEFAULT_PUBLICITY_DAYS = 365
"""Days a record is published after its decision (公示期). The notice sets none; one year is the
shortest period national rules on credit repair allow for serious 失信 information, and a
province may pass a longer one (``publicity_days=``)."""

_OFFICIALS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY, Role.COUNTY})
_CONFIRMED = frozenset(
    {
        CaseStatus.CONFIRMED,
        CaseStatus.MEASURES_ORDERED,
        CaseStatus.MEASURES_COMPLETED,
        CaseStatus.CLEARED,
        CaseStatus.RECHECKED,
    }
)
"""Stages of a case whose mining has been confirmed (and not since dismissed)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")


class CreditError(MineWatchError):
    """A commitment or credit record that cannot be recorded or changed as asked."""


class BreachRefusedError(CreditError):
    """No credit record may be made from this case (not confirmed, no commitment in force, or
    the actor may not decide it)."""


# ----------------------------------------------------------------------------------------------
# images for the audit chain


def commitment_key(commitment: Commitment) -> str:
    """The audit id of a commitment: its credit code and row id."""
    return f"{commitment.uscc}#{commitment.id}"


def commitment_image(commitment: Commitment) -> JsonObject:
    """The audited state of a commitment."""
    return {
        "uscc": commitment.uscc,
        "kind": commitment.kind.value,
        "text_version": commitment.text_version,
        "text_sha256": commitment.text_sha256,
        "signed_date": commitment.signed_date.isoformat(),
        "valid_until": commitment.valid_until.isoformat(),
        "signatory": commitment.signatory,
        "document_name": commitment.document_name,
        "document_sha256": commitment.document_sha256,
        "status": commitment.status.value,
        "withdrawn_date": None
        if commitment.withdrawn_date is None
        else commitment.withdrawn_date.isoformat(),
        "status_reason": commitment.status_reason,
    }


def record_image(record: CreditRecord) -> JsonObject:
    """The audited state of a credit record."""
    return {
        "record_no": record.record_no,
        "uscc": record.uscc,
        "commitment_id": record.commitment_id,
        "case_no": record.case_no,
        "mining_start_date": record.mining_start_date.isoformat(),
        "site_address": record.site_address,
        "rigs_found": record.rigs_found,
        "rigs_json": record.rigs_json,
        "power_kw": record.power_kw,
        "facts": record.facts,
        "measure": record.measure,
        "restriction": record.restriction,
        "decision_date": record.decision_date.isoformat(),
        "publicity_until": record.publicity_until.isoformat(),
        "authority_region_code": record.authority_region_code,
        "authority_name": record.authority_name,
        "authority_uscc": record.authority_uscc,
        "status": record.status.value,
        "status_reason": record.status_reason,
        "decided_by": record.decided_by,
    }


def _all_commitments(session: Session) -> dict[str, JsonObject]:
    return {commitment_key(c): commitment_image(c) for c in session.scalars(select(Commitment))}


def _all_records(session: Session) -> dict[str, JsonObject]:
    return {r.record_no: record_image(r) for r in session.scalars(select(CreditRecord))}


register_state_reader(COMMITMENT_ENTITY, _all_commitments)
register_state_reader(RECORD_ENTITY, _all_records)


# ----------------------------------------------------------------------------------------------
# commitments


@dataclass(frozen=True)
class CommitmentData:
    """A signed commitment as the authority received it.

    ``text_sha256`` and ``document_sha256`` are SHA-256 digests in hex (64 characters); use
    :func:`sha256_text` for the commitment text.
    """

    uscc: str
    text_version: str
    text_sha256: str
    signed_date: date
    valid_until: date
    signatory: str
    document_name: str
    document_sha256: str
    kind: CommitmentKind = CommitmentKind.DATA_CENTRE_OPERATOR


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of a commitment text, as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(value: str, what: str) -> str:
    digest = value.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise CreditError(f"{what} {value!r} is not a SHA-256 digest (64 hexadecimal characters)")
    return digest


def record_commitment(
    session: Session,
    data: CommitmentData,
    *,
    actor: str,
    enterprise: EnterpriseData | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> Commitment:
    """Record a signed commitment; audited.

    The enterprise is the one with the commitment's credit code; ``enterprise`` creates it (or
    updates it, through :func:`~minewatch.domain.enterprises.service.save_enterprise`) when
    given, otherwise it must already exist. Refuses a bad credit code or digest, an empty
    signatory or version, a validity that ends before the signing, and a second commitment of
    the same kind whose validity overlaps one in force.
    """
    when = utcnow() if at is None else at
    uscc = credit_code.validate(data.uscc)
    if enterprise is not None:
        if credit_code.validate(enterprise.uscc) != uscc:
            raise CreditError(
                f"the enterprise's credit code {enterprise.uscc} is not the commitment's {uscc}"
            )
        company = save_enterprise(session, enterprise, actor=actor, at=when, reason=reason)
    else:
        found = get_by_uscc(session, uscc)
        if found is None:
            raise NotFoundError(
                f"no enterprise with credit code {uscc}: give its name and region to create it"
            )
        company = found
    for text, what in ((data.text_version, "text version"), (data.signatory, "signatory"),
                       (data.document_name, "document name")):  # fmt: skip
        if not text.strip():
            raise CreditError(f"a commitment needs its {what}")
    if data.valid_until < data.signed_date:
        raise CreditError(
            f"valid until {data.valid_until} is before the signing on {data.signed_date}"
        )
    overlapping = session.scalar(
        select(Commitment).where(
            Commitment.uscc == uscc,
            Commitment.kind == data.kind,
            Commitment.status == CommitmentStatus.IN_FORCE,
            Commitment.signed_date <= data.valid_until,
            Commitment.valid_until >= data.signed_date,
        )
    )
    if overlapping is not None:
        raise CreditError(
            f"{uscc} already has a commitment in force from {overlapping.signed_date} to "
            f"{overlapping.valid_until}; withdraw it first"
        )
    commitment = Commitment(
        enterprise_id=company.id,
        uscc=uscc,
        kind=data.kind,
        text_version=data.text_version.strip(),
        text_sha256=_digest(data.text_sha256, "text SHA-256"),
        signed_date=data.signed_date,
        valid_until=data.valid_until,
        signatory=data.signatory.strip(),
        document_name=data.document_name.strip(),
        document_sha256=_digest(data.document_sha256, "document SHA-256"),
        status=CommitmentStatus.IN_FORCE,
        recorded_at=when,
        updated_at=when,
    )
    session.add(commitment)
    session.flush()
    append_event(
        session, actor=actor, entity_type=COMMITMENT_ENTITY, entity_id=commitment_key(commitment),
        action="sign", before=None, after=commitment_image(commitment), reason=reason, at=when,
    )  # fmt: skip
    return commitment


def withdraw_commitment(
    session: Session,
    commitment_id: int,
    reason: str,
    *,
    actor: str,
    effective: date,
    at: datetime | None = None,
) -> Commitment:
    """Withdraw a commitment in force from ``effective`` on (it still bound before); audited."""
    when = utcnow() if at is None else at
    if not reason.strip():
        raise CreditError("withdrawing a commitment needs a reason")
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFoundError(f"no commitment {commitment_id}")
    if commitment.status is not CommitmentStatus.IN_FORCE:
        raise CreditError(f"commitment {commitment_id} is {commitment.status.value}, not in force")
    before = commitment_image(commitment)
    commitment.status = CommitmentStatus.WITHDRAWN
    commitment.withdrawn_date = effective
    commitment.status_reason = reason.strip()
    commitment.updated_at = when
    session.flush()
    append_event(
        session, actor=actor, entity_type=COMMITMENT_ENTITY, entity_id=commitment_key(commitment),
        action="withdraw", before=before, after=commitment_image(commitment), reason=reason,
        at=when,
    )  # fmt: skip
    return commitment


def commitments_within(
    session: Session,
    within: str = regions.NATIONAL,
    *,
    status: CommitmentStatus | None = None,
    uscc: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Commitment], int]:
    """Commitments of enterprises registered in ``within`` and below (the enterprise's region),
    by credit code and signing date, filtered and paged in SQL; and how many there are.
    ``uscc`` keeps the commitments whose credit code starts with it."""
    conditions: list[ColumnElement[bool]] = [in_region(Enterprise.region_code, within)]
    if status is not None:
        conditions.append(Commitment.status == status)
    if uscc and uscc.strip():
        conditions.append(Commitment.uscc.startswith(uscc.strip().upper(), autoescape=True))
    where = and_(*conditions)
    total = session.scalar(
        select(func.count()).select_from(Commitment).join(Commitment.enterprise).where(where)
    )
    query = (
        select(Commitment)
        .join(Commitment.enterprise)
        .options(contains_eager(Commitment.enterprise))
        .where(where)
        .order_by(Commitment.uscc, Commitment.signed_date, Commitment.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), int(total or 0)


def list_commitments(
    session: Session,
    *,
    within: str = regions.NATIONAL,
    status: CommitmentStatus | None = None,
) -> list[Commitment]:
    """Commitments of enterprises registered in ``within`` and below (the enterprise's region),
    by credit code and signing date."""
    return commitments_within(session, within, status=status)[0]


def get_commitment(session: Session, commitment_id: int) -> Commitment:
    """The commitment with this id, or :class:`NotFoundError`."""
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFoundError(f"no commitment {commitment_id}")
    return commitment


def binds_on(commitment: Commitment, day: date) -> bool:
    """Whether the commitment bound its signer on ``day``: signed on or before it, valid until
    on or after it, and not withdrawn by then. A breached commitment still bound on the days
    before the breach was found, so it counts."""
    if not commitment.signed_date <= day <= commitment.valid_until:
        return False
    return commitment.withdrawn_date is None or day < commitment.withdrawn_date


def find_in_force(
    session: Session,
    uscc: str,
    on: date,
    *,
    kind: CommitmentKind | None = None,
) -> Commitment | None:
    """The commitment binding the enterprise with this credit code on ``on``, or ``None``
    (the most recently signed when several did)."""
    code = credit_code.validate(uscc)
    query = select(Commitment).where(
        Commitment.uscc == code, Commitment.signed_date <= on, Commitment.valid_until >= on
    )
    if kind is not None:
        query = query.where(Commitment.kind == kind)
    candidates = [
        c
        for c in session.scalars(query.order_by(Commitment.signed_date.desc(), Commitment.id))
        if binds_on(c, on)
    ]
    return candidates[0] if candidates else None


# ----------------------------------------------------------------------------------------------
# credit records


def record_no_for(case_no: str) -> str:
    """The number of the credit record made from a case."""
    return f"XY{case_no}"


def get_record(session: Session, record_id: int) -> CreditRecord:
    record = session.get(CreditRecord, record_id)
    if record is None:
        raise NotFoundError(f"no credit record {record_id}")
    return record


def get_record_by_no(session: Session, record_no: str) -> CreditRecord:
    """The record with this number (``XY`` + case number), or :class:`NotFoundError`."""
    record = session.scalar(select(CreditRecord).where(CreditRecord.record_no == record_no))
    if record is None:
        raise NotFoundError(f"no credit record {record_no}")
    return record


def record_for_case(session: Session, case_no: str) -> CreditRecord | None:
    return session.scalar(select(CreditRecord).where(CreditRecord.case_no == case_no))


def confirmation_date(session: Session, case_no: str) -> date | None:
    """The local date on which the case was first confirmed, read from the audit chain."""
    when = session.scalar(
        select(AuditEvent.at)
        .where(
            AuditEvent.entity_type == CASE_ENTITY,
            AuditEvent.entity_id == case_no,
            AuditEvent.action == Transition.CONFIRM.value,
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    return None if when is None else when.astimezone(LOCAL_TZ).date()


def _authority_name(region_code: str) -> str:
    if region_code == regions.NATIONAL:
        return "国家发展和改革委员会"
    return f"{regions.get(region_code).full_name}发展和改革部门"


def _cn(day: date) -> str:
    """A date as Chinese documents write it: 2021年9月20日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _facts(
    case: Case,
    commitment: Commitment,
    start: date,
    checked_on: date | None,
    rigs: dict[str, int],
    power_kw: float | None,
) -> str:
    """失信行为/违诺事实: the commitment, when and where mining began, what the check found."""
    text = (
        f"该企业于{_cn(commitment.signed_date)}签署不参与虚拟货币“挖矿”活动的信用承诺书，"
        f"自{_cn(start)}起{f'在{case.address}' if case.address else ''}开展虚拟货币“挖矿”活动"
    )
    details = []
    if rigs:
        machines = "、".join(f"{model} {count}台" for model, count in sorted(rigs.items()))
        found = f"现场查见矿机{sum(rigs.values())}台（{machines}）"
        details.append(f"经{_cn(checked_on)}现场检查，{found}" if checked_on else found)
    if power_kw is not None:
        details.append(f"挖矿用电功率约{power_kw:g}千瓦")
    if details:
        text += "；" + "，".join(details)
    return f"{text}（案件编号{case.case_no}）。"


def record_breach(
    session: Session,
    case_no: str,
    *,
    actor: Actor,
    at: datetime | None = None,
    authority_name: str | None = None,
    authority_uscc: str | None = None,
    restriction: str = DEFAULT_RESTRICTION,
    publicity_days: int = DEFAULT_PUBLICITY_DAYS,
) -> CreditRecord:
    """Make the credit record of a confirmed case against an enterprise that had committed.

    The mining began on the case's ``est_start_date``, else on the day the case was confirmed;
    the enterprise's commitment must have bound it that day (:func:`find_in_force`). The facts
    are the site's address, the rigs of the case's last site check and the power seen there
    (else the case's estimate). The deciding authority is the actor's region (named
    ``authority_name``, default "<region>发展和改革部门"); the decision date is ``at`` in local
    time. The commitment becomes ``breached``. Audited.

    Idempotent: if the case already has a record (whatever its status, revoked included), that
    record is returned unchanged and nothing is written; the unique case number of the table
    stops two concurrent calls from both inserting.
    Raises :class:`BreachRefusedError` when the actor is not an official covering the case, the
    case is not confirmed, has no credit code, or no commitment bound the enterprise.
    """
    when = utcnow() if at is None else at
    if actor.role not in _OFFICIALS:
        article = "an" if actor.role.value[0] in "aeiou" else "a"
        raise BreachRefusedError(f"{article} {actor.role.value} may not decide a credit record")
    case = get_case(session, case_no)
    region = case.assigned_region_code or case.region_code
    if not actor.covers(region):
        raise BreachRefusedError(
            f"case {case_no} lies in {region or 'an unknown region'}, outside "
            f"{actor.region_code} of {actor.name}"
        )
    existing = record_for_case(session, case_no)
    if existing is not None:
        return existing
    if case.status not in _CONFIRMED:
        raise BreachRefusedError(
            f"case {case_no} is {case.status.value}: only a confirmed case makes a credit record"
        )
    confirmed_on = confirmation_date(session, case_no)
    start = case.est_start_date or confirmed_on
    if start is None:
        raise BreachRefusedError(f"case {case_no}: no start of mining and no confirmation found")
    if not case.uscc:
        raise BreachRefusedError(f"case {case_no} names no enterprise (no credit code)")
    commitment = find_in_force(session, case.uscc, start)
    if commitment is None:
        raise BreachRefusedError(
            f"case {case_no}: {case.uscc} had no credit commitment in force on {start} "
            "(when the mining began)"
        )
    if publicity_days < 1:
        raise CreditError("the publicity period is at least one day")
    if not restriction.strip():
        raise CreditError("a credit record names its restriction")
    checks = [c for c in case.checks if c.rigs_found > 0] or list(case.checks)
    last = checks[-1] if checks else None
    rigs: dict[str, int] = {} if last is None else json.loads(last.rigs_json)
    power_kw = (
        last.mining_kw_observed
        if last is not None and last.mining_kw_observed is not None
        else case.est_mining_kw
    )
    decided = when.astimezone(LOCAL_TZ).date()
    record = CreditRecord(
        record_no=record_no_for(case_no),
        enterprise_id=commitment.enterprise_id,
        uscc=commitment.uscc,
        commitment_id=commitment.id,
        case_no=case_no,
        mining_start_date=start,
        site_address=case.address,
        rigs_found=0 if last is None else last.rigs_found,
        rigs_json=json.dumps(rigs, ensure_ascii=False, sort_keys=True),
        power_kw=power_kw,
        facts=_facts(
            case, commitment, start, None if last is None else last.checked_on, rigs, power_kw
        ),
        measure=MEASURE,
        restriction=restriction.strip(),
        decision_date=decided,
        publicity_until=decided + timedelta(days=publicity_days),
        authority_region_code=actor.region_code,
        authority_name=authority_name or _authority_name(actor.region_code),
        authority_uscc=None if authority_uscc is None else credit_code.validate(authority_uscc),
        status=RecordStatus.PUBLISHED,
        decided_by=actor.name,
        recorded_at=when,
        updated_at=when,
    )
    session.add(record)
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=RECORD_ENTITY, entity_id=record.record_no,
        action="publish", before=None, after=record_image(record), reason=f"case {case_no}",
        at=when,
    )  # fmt: skip
    _set_commitment(session, commitment, CommitmentStatus.BREACHED, actor.name, when,
                    f"credit record {record.record_no}")  # fmt: skip
    return record


def _set_commitment(
    session: Session,
    commitment: Commitment,
    status: CommitmentStatus,
    actor: str,
    when: datetime,
    reason: str,
) -> None:
    if commitment.status is status:
        return
    before = commitment_image(commitment)
    commitment.status = status
    commitment.status_reason = reason
    commitment.updated_at = when
    session.flush()
    action = "breach" if status is CommitmentStatus.BREACHED else "restore"
    append_event(
        session, actor=actor, entity_type=COMMITMENT_ENTITY, entity_id=commitment_key(commitment),
        action=action, before=before, after=commitment_image(commitment), reason=reason, at=when,
    )  # fmt: skip


def _may_change(record: CreditRecord, actor: Actor) -> None:
    if actor.role not in _OFFICIALS:
        article = "an" if actor.role.value[0] in "aeiou" else "a"
        raise CreditError(f"{article} {actor.role.value} may not change a credit record")
    if not actor.covers(record.authority_region_code):
        raise CreditError(
            f"credit record {record.record_no} was decided in {record.authority_region_code}, "
            f"outside {actor.region_code} of {actor.name}"
        )
    if record.status is RecordStatus.REVOKED:
        raise CreditError(f"credit record {record.record_no} is already revoked")


def correct(
    session: Session,
    record_id: int,
    reason: str,
    *,
    actor: Actor,
    facts: str | None = None,
    restriction: str | None = None,
    at: datetime | None = None,
) -> CreditRecord:
    """Correct the published facts or restriction of a record (更正), with the reason; audited."""
    when = utcnow() if at is None else at
    if not reason.strip():
        raise CreditError("a correction needs a reason")
    record = get_record(session, record_id)
    _may_change(record, actor)
    if (facts is None or not facts.strip()) and (restriction is None or not restriction.strip()):
        raise CreditError("a correction changes the facts or the restriction")
    before = record_image(record)
    if facts is not None and facts.strip():
        record.facts = facts.strip()
    if restriction is not None and restriction.strip():
        record.restriction = restriction.strip()
    record.status = RecordStatus.CORRECTED
    record.status_reason = reason.strip()
    record.updated_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=RECORD_ENTITY, entity_id=record.record_no,
        action="correct", before=before, after=record_image(record), reason=reason, at=when,
    )  # fmt: skip
    return record


def revoke(
    session: Session,
    record_id: int,
    reason: str,
    *,
    actor: Actor,
    at: datetime | None = None,
) -> CreditRecord:
    """Revoke a record on appeal, with the reason; audited.

    The commitment is in force again unless another live record says it was broken. The record
    stays (an export then reports its revocation); a second revocation is refused.
    """
    when = utcnow() if at is None else at
    if not reason.strip():
        raise CreditError("a revocation needs a reason")
    record = get_record(session, record_id)
    _may_change(record, actor)
    before = record_image(record)
    record.status = RecordStatus.REVOKED
    record.status_reason = reason.strip()
    record.updated_at = when
    session.flush()
    append_event(
        session, actor=actor.name, entity_type=RECORD_ENTITY, entity_id=record.record_no,
        action="revoke", before=before, after=record_image(record), reason=reason, at=when,
    )  # fmt: skip
    others = session.scalar(
        select(CreditRecord.id).where(
            CreditRecord.commitment_id == record.commitment_id,
            CreditRecord.id != record.id,
            CreditRecord.status != RecordStatus.REVOKED,
        )
    )
    if others is None and record.commitment.status is CommitmentStatus.BREACHED:
        _set_commitment(session, record.commitment, CommitmentStatus.IN_FORCE, actor.name, when,
                        f"credit record {record.record_no} revoked: {reason.strip()}")  # fmt: skip
    return record


def records_within(
    session: Session,
    within: str = regions.NATIONAL,
    *,
    statuses: Sequence[RecordStatus] | None = None,
    uscc: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[CreditRecord], int]:
    """Credit records decided in ``within`` and below (the deciding authority's region), by
    decision date and number, filtered and paged in SQL; and how many there are. ``uscc`` keeps
    the records whose credit code starts with it."""
    conditions: list[ColumnElement[bool]] = [in_region(CreditRecord.authority_region_code, within)]
    if statuses is not None:
        conditions.append(CreditRecord.status.in_([s.value for s in statuses]))
    if uscc and uscc.strip():
        conditions.append(CreditRecord.uscc.startswith(uscc.strip().upper(), autoescape=True))
    where = and_(*conditions)
    total = session.scalar(select(func.count()).select_from(CreditRecord).where(where))
    query = (
        select(CreditRecord)
        .options(joinedload(CreditRecord.enterprise), joinedload(CreditRecord.commitment))
        .where(where)
        .order_by(CreditRecord.decision_date, CreditRecord.record_no)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), int(total or 0)


def list_records(
    session: Session,
    *,
    within: str = regions.NATIONAL,
    statuses: Sequence[RecordStatus] | None = None,
) -> list[CreditRecord]:
    """Credit records decided in ``within`` and below, by decision date and number."""
    return records_within(session, within, statuses=statuses)[0]
