"""Credit supervision (notice 1283 clause 九): the commitments of enterprises in the region,
recording and withdrawing them, the credit records of broken ones, correcting and revoking a
record, and the export for the credit-information sharing platform.

Whose records: a commitment belongs to its enterprise's region; a credit record to the region
of the authority that decided it (as :mod:`minewatch.domain.credit.service` lists them). A
commitment's text is hashed here (SHA-256 of its UTF-8), as is an uploaded signed document;
only the digests and the document's name are kept. Officials write; the rest read.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import Actor
from minewatch.domain.credit import export
from minewatch.domain.credit.models import (
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    CreditRecord,
    RecordStatus,
)
from minewatch.domain.credit.service import (
    DEFAULT_PUBLICITY_DAYS,
    CommitmentData,
    commitments_within,
    correct,
    record_breach,
    record_commitment,
    records_within,
    revoke,
    sha256_text,
    withdraw_commitment,
)
from minewatch.domain.enterprises.service import EnterpriseData, get_by_uscc
from minewatch.domain.measures.lists import local_today
from minewatch.reference import credit_code
from minewatch.reference.ledger import EnterpriseKind
from minewatch.web import i18n
from minewatch.web.deps import (
    ERRORS,
    CsrfDep,
    Paged,
    PageDep,
    SessionDep,
    TextRoute,
    in_region,
    paged,
    require,
)
from minewatch.web.enforcement.common import (
    VIEWERS,
    WRITERS,
    choice,
    from_form,
    pager,
    show,
)

router = APIRouter(tags=["credit"], route_class=TextRoute)

CommitmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The commitment's number")]
"""A commitment's number: beyond the column's range it names none (422, not a database error)."""

Reader = Annotated[Actor, Depends(require(VIEWERS))]
Writer = Annotated[Actor, Depends(require(WRITERS))]

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
"""A signed scan this large is hashed; a larger one is refused."""

COMMITMENT_LABELS: dict[CommitmentStatus, str] = {
    CommitmentStatus.IN_FORCE: "有效",
    CommitmentStatus.WITHDRAWN: "已撤回",
    CommitmentStatus.BREACHED: "已违诺",
}
RECORD_LABELS: dict[RecordStatus, str] = {
    RecordStatus.PUBLISHED: "公示",
    RecordStatus.CORRECTED: "更正",
    RecordStatus.REVOKED: "撤销",
}

i18n.register(
    {
        "有效": "In force",
        "已撤回": "Withdrawn",
        "已违诺": "Breached",
        "公示": "Published",
        "更正": "Corrected",
        "撤销": "Revoked",
        "信用承诺": "Credit commitments",
        "信用记录": "Credit record",
        "信息编号": "Record no.",
        "企业名称": "Enterprise",
        "认定日期": "Decided on",
        "公示截止日期": "Published until",
        "认定机关": "Decided by",
        "导出 JSONL": "Export JSONL",
        "没有信用记录。": "No credit records.",
        "没有信用承诺。": "No commitments.",
        "由案件生成信用记录": "Make the credit record of a case",
        "生成": "Make",
        "签署日期": "Signed on",
        "有效期至": "Valid until",
        "签署人": "Signatory",
        "文本版本": "Text version",
        "承诺书文本": "Commitment text",
        "文本 SHA-256（未贴文本时填写）": "Text SHA-256 (if the text is not pasted)",
        "签署文件（扫描件或签章 PDF）": "Signed document (scan or signed PDF)",
        "文件名（未上传时填写）": "Document name (if not uploaded)",
        "文件 SHA-256（未上传时填写）": "Document SHA-256 (if not uploaded)",
        "登记信用承诺": "Record a commitment",
        "新企业须填写名称和所在地区代码": "A new enterprise needs its name and region code",
        "企业所在地区代码": "Enterprise region code",
        "法定代表人": "Legal representative",
        "企业地址": "Enterprise address",
        "撤回": "Withdraw",
        "撤回原因": "Why withdrawn",
        "生效日期": "Effective from",
        "失信行为/违诺事实": "Facts",
        "处理措施": "Measure",
        "限制措施": "Restriction",
        "状态说明": "Status note",
        "挖矿开始日期": "Mining since",
        "现场地址": "Site address",
        "现场矿机（台）": "Rigs found",
        "挖矿功率（千瓦）": "Mining power (kW)",
        "认定人": "Decided by (person)",
        "更正记录": "Correct the record",
        "更正原因": "Why corrected",
        "新的事实（选填）": "New facts (optional)",
        "新的限制措施（选填）": "New restriction (optional)",
        "撤销记录（申诉）": "Revoke the record (appeal)",
        "撤销原因": "Why revoked",
        "承诺": "Commitment",
        "承诺状态": "Commitment status",
    }
)


class EnterpriseIn(BaseModel):
    """The enterprise, when it is new (or its record is to be updated)."""

    name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(min_length=6, max_length=6)
    legal_representative: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)


class CommitmentIn(BaseModel):
    """A signed commitment: the text (hashed here) or its SHA-256, and the signed document's
    name and SHA-256."""

    uscc: str = Field(min_length=18, max_length=40)
    kind: CommitmentKind = CommitmentKind.DATA_CENTRE_OPERATOR
    text_version: str = Field(min_length=1, max_length=40)
    text: str | None = Field(default=None, max_length=100_000, description="Hashed, not kept")
    text_sha256: str | None = Field(default=None, max_length=64)
    signed_date: date
    valid_until: date
    signatory: str = Field(min_length=1, max_length=100)
    document_name: str = Field(min_length=1, max_length=200)
    document_sha256: str = Field(min_length=64, max_length=64)
    enterprise: EnterpriseIn | None = None


class CommitmentOut(BaseModel):
    id: int
    uscc: str
    enterprise_name: str
    enterprise_region_code: str
    kind: CommitmentKind
    text_version: str
    text_sha256: str
    signed_date: date
    valid_until: date
    signatory: str
    document_name: str
    document_sha256: str
    status: CommitmentStatus
    withdrawn_date: date | None
    status_reason: str | None
    recorded_at: datetime


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    effective: date | None = Field(default=None, description="First day it no longer binds "
                                   "(default today, Beijing)")  # fmt: skip


class RecordOut(BaseModel):
    """A credit record as decided (and since corrected or revoked)."""

    record_no: str
    status: RecordStatus
    uscc: str
    enterprise_name: str
    commitment_id: int
    case_no: str
    mining_start_date: date
    site_address: str | None
    rigs_found: int
    power_kw: float | None
    facts: str
    measure: str
    restriction: str
    decision_date: date
    publicity_until: date
    authority_region_code: str
    authority_name: str
    authority_uscc: str | None
    status_reason: str | None
    decided_by: str
    recorded_at: datetime
    updated_at: datetime


class BreachIn(BaseModel):
    """The confirmed case whose enterprise broke its commitment."""

    case_no: str = Field(min_length=1, max_length=40)
    authority_name: str | None = Field(default=None, max_length=200)
    authority_uscc: str | None = Field(default=None, max_length=40)
    publicity_days: int = Field(default=DEFAULT_PUBLICITY_DAYS, ge=1, le=3650)


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class CorrectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    facts: str | None = Field(default=None, max_length=10_000)
    restriction: str | None = Field(default=None, max_length=2000)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


# ----------------------------------------------------------------------------------------------
# shaping and checks


OUTSIDE_RECORD = "a credit record made outside your region"
"""What a commitment's status reason says instead of naming a record the reader may not see."""


def _status_reason(session: Session, actor: Actor, commitment: Commitment) -> str | None:
    """The commitment's status reason as ``actor`` may read it.

    A commitment lies in its enterprise's region, a credit record in its authority's: an
    enterprise registered here and caught mining elsewhere breaches its commitment by another
    region's record, which the reason names ("credit record XY…", with the case number in it).
    Read from outside that record's region, the reason says only that such a record exists.
    """
    reason = commitment.status_reason
    if not reason:
        return reason
    records = session.scalars(
        select(CreditRecord).where(CreditRecord.commitment_id == commitment.id)
    )
    if any(r.case_no in reason and not actor.covers(r.authority_region_code) for r in records):
        return OUTSIDE_RECORD
    return reason


def _commitment_out(session: Session, actor: Actor, c: Commitment) -> CommitmentOut:
    return CommitmentOut(
        id=c.id, uscc=c.uscc, enterprise_name=c.enterprise.name,
        enterprise_region_code=c.enterprise.region_code, kind=c.kind,
        text_version=c.text_version, text_sha256=c.text_sha256, signed_date=c.signed_date,
        valid_until=c.valid_until, signatory=c.signatory, document_name=c.document_name,
        document_sha256=c.document_sha256, status=c.status, withdrawn_date=c.withdrawn_date,
        status_reason=_status_reason(session, actor, c), recorded_at=c.recorded_at,
    )  # fmt: skip


def _record_out(r: CreditRecord) -> RecordOut:
    return RecordOut(
        record_no=r.record_no, status=r.status, uscc=r.uscc, enterprise_name=r.enterprise.name,
        commitment_id=r.commitment_id, case_no=r.case_no, mining_start_date=r.mining_start_date,
        site_address=r.site_address, rigs_found=r.rigs_found, power_kw=r.power_kw,
        facts=r.facts, measure=r.measure, restriction=r.restriction,
        decision_date=r.decision_date, publicity_until=r.publicity_until,
        authority_region_code=r.authority_region_code, authority_name=r.authority_name,
        authority_uscc=r.authority_uscc, status_reason=r.status_reason,
        decided_by=r.decided_by, recorded_at=r.recorded_at, updated_at=r.updated_at,
    )  # fmt: skip


def _record_in_region(session: Session, actor: Actor, record_no: str) -> CreditRecord:
    """The record, or 404 when there is none or its authority lies outside the actor's region."""
    record = session.scalar(select(CreditRecord).where(CreditRecord.record_no == record_no))
    if record is None:
        raise HTTPException(404, "not found")
    in_region(actor, record.authority_region_code)
    return record


def _commitment_in_region(session: Session, actor: Actor, commitment_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise HTTPException(404, "not found")
    in_region(actor, commitment.enterprise.region_code)
    return commitment


def _digest(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


def _record_commitment(
    session: Session,
    actor: Actor,
    body: CommitmentIn,
) -> Commitment:
    """Check the enterprise lies in the actor's region (the one on file, and the one given),
    hash the text, record."""
    uscc = credit_code.validate(body.uscc)
    existing = get_by_uscc(session, uscc)
    if existing is not None:
        in_region(actor, existing.region_code)
    enterprise = None
    if body.enterprise is not None:
        region = body.enterprise.region_code.strip()
        if not actor.covers(region):
            raise HTTPException(422, f"the enterprise's region {region} is outside yours "
                                f"({actor.region_code})")  # fmt: skip
        enterprise = EnterpriseData(
            uscc=uscc, name=body.enterprise.name, region_code=region,
            kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
            legal_representative=(body.enterprise.legal_representative or "").strip() or None,
            address=(body.enterprise.address or "").strip() or None,
        )  # fmt: skip
    elif existing is None:
        raise HTTPException(422, f"no enterprise with credit code {uscc} on file: give its name "
                            "and region code")  # fmt: skip
    if body.text is not None and body.text.strip():
        text_sha256 = sha256_text(body.text)
    elif _digest(body.text_sha256) is not None:
        text_sha256 = str(_digest(body.text_sha256))
    else:
        raise HTTPException(422, "give the commitment's text or its SHA-256")
    data = CommitmentData(
        uscc=uscc, text_version=body.text_version, text_sha256=text_sha256,
        signed_date=body.signed_date, valid_until=body.valid_until, signatory=body.signatory,
        document_name=body.document_name, document_sha256=body.document_sha256, kind=body.kind,
    )  # fmt: skip
    return record_commitment(session, data, actor=actor.name, enterprise=enterprise)


def _withdraw(
    session: Session, actor: Actor, commitment_id: int, reason: str, effective: date | None
) -> Commitment:
    _commitment_in_region(session, actor, commitment_id)
    return withdraw_commitment(session, commitment_id, reason, actor=actor.name,
                               effective=effective or local_today())  # fmt: skip


def _breach(session: Session, actor: Actor, body: BreachIn) -> CreditRecord:
    case = session.scalar(select(Case).where(Case.case_no == body.case_no.strip()))
    if case is None:
        raise HTTPException(404, "not found")
    in_region(actor, case.assigned_region_code or case.region_code)
    return record_breach(
        session, case.case_no, actor=actor, authority_name=(body.authority_name or "").strip()
        or None, authority_uscc=(body.authority_uscc or "").strip() or None,
        publicity_days=body.publicity_days,
    )  # fmt: skip


def _export(session: Session, actor: Actor, form: ExportFormat) -> Response:
    rows = export.export_rows(session, within=actor.region_code)
    stem = f"credit-records-{actor.region_code}-{local_today().isoformat()}"
    if form is ExportFormat.CSV:
        body, media_type = export.csv_bytes(rows), "text/csv; charset=utf-8"
    else:
        body, media_type = export.jsonl_bytes(rows), "application/x-ndjson; charset=utf-8"
    disposition = f'attachment; filename="{stem}.{form.value}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


# ----------------------------------------------------------------------------------------------
# pages


@router.get("/credit", response_class=HTMLResponse, include_in_schema=False)
def credit_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    status: str = "",
    uscc: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    chosen = choice(RecordStatus, status, "status")
    rows, total = records_within(
        session, actor.region_code, statuses=None if chosen is None else [chosen], uscc=uscc,
        limit=page.limit, offset=page.offset,
    )  # fmt: skip
    return show(request, "credit.html", {
        "rows": rows, "pager": pager(request, page, total), "labels": RECORD_LABELS,
        "filters": {"status": status, "uscc": uscc},
    }, actor)  # fmt: skip


@router.get("/credit/commitments", response_class=HTMLResponse, include_in_schema=False)
def commitments_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    status: str = "",
    uscc: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    rows, total = commitments_within(
        session, actor.region_code, status=choice(CommitmentStatus, status, "status"), uscc=uscc,
        limit=page.limit, offset=page.offset,
    )  # fmt: skip
    return show(request, "credit_commitments.html", {
        "rows": rows, "pager": pager(request, page, total), "labels": COMMITMENT_LABELS,
        "reasons": {c.id: _status_reason(session, actor, c) for c in rows},
        "filters": {"status": status, "uscc": uscc}, "today": local_today(),
    }, actor)  # fmt: skip


def _document(document: UploadFile | None, name: str, digest: str) -> tuple[str, str]:
    """The signed document's name and SHA-256: hashed here when uploaded, else as typed."""
    if document is not None and document.filename:
        hasher = hashlib.sha256()
        size = 0
        while chunk := document.file.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise HTTPException(413, "the document is larger than 50 MB")
            hasher.update(chunk)
        return document.filename, hasher.hexdigest()
    if not name.strip() or not digest.strip():
        raise HTTPException(422, "upload the signed document, or give its name and SHA-256")
    return name.strip(), digest.strip().lower()


@router.post("/credit/commitments", include_in_schema=False, dependencies=[CsrfDep])
def commitments_record(
    session: SessionDep,
    actor: Writer,
    uscc: Annotated[str, Form(max_length=40)],
    text_version: Annotated[str, Form(max_length=40)],
    signed_date: Annotated[date, Form()],
    valid_until: Annotated[date, Form()],
    signatory: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=100_000)] = "",
    text_sha256: Annotated[str, Form(max_length=64)] = "",
    document: UploadFile | None = None,
    document_name: Annotated[str, Form(max_length=200)] = "",
    document_sha256: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    legal_representative: Annotated[str, Form(max_length=100)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
) -> RedirectResponse:
    doc_name, doc_sha256 = _document(document, document_name, document_sha256)
    enterprise = None
    if name.strip() or region_code.strip():
        if not (name.strip() and region_code.strip()):
            raise HTTPException(422, "give both the enterprise's name and its region code")
        enterprise = from_form(EnterpriseIn, name=name.strip(), region_code=region_code.strip(),
                               legal_representative=legal_representative or None,
                               address=address or None)  # fmt: skip
    body = from_form(
        CommitmentIn,
        uscc=uscc.strip(), text_version=text_version.strip(), text=text or None,
        text_sha256=text_sha256 or None, signed_date=signed_date, valid_until=valid_until,
        signatory=signatory, document_name=doc_name, document_sha256=doc_sha256,
        enterprise=enterprise,
    )  # fmt: skip
    commitment = _record_commitment(session, actor, body)
    return RedirectResponse(f"/credit/commitments?uscc={commitment.uscc}", status_code=303)


@router.post("/credit/commitments/{commitment_id}/withdraw", include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def commitments_withdraw(
    session: SessionDep,
    actor: Writer,
    commitment_id: CommitmentId,
    reason: Annotated[str, Form(max_length=2000)] = "",
    effective: Annotated[date | None, Form()] = None,
) -> RedirectResponse:
    commitment = _withdraw(session, actor, commitment_id, reason, effective)
    return RedirectResponse(f"/credit/commitments?uscc={commitment.uscc}", status_code=303)


@router.get("/credit/export", include_in_schema=False)
def credit_export_page(
    session: SessionDep,
    actor: Reader,
    format: ExportFormat = ExportFormat.CSV,
) -> Response:
    return _export(session, actor, format)


@router.post("/credit/breach", include_in_schema=False, dependencies=[CsrfDep])
def credit_breach_form(
    session: SessionDep,
    actor: Writer,
    case_no: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    if not case_no.strip():
        raise HTTPException(422, "case_no: give the case number")
    record = _breach(session, actor, from_form(BreachIn, case_no=case_no.strip()))
    return RedirectResponse(f"/credit/{record.record_no}", status_code=303)


@router.get("/credit/{record_no}", response_class=HTMLResponse, include_in_schema=False)
def credit_record_page(
    request: Request, session: SessionDep, actor: Reader, record_no: str
) -> HTMLResponse:
    record = _record_in_region(session, actor, record_no)
    return show(request, "credit_record.html", {
        "r": record, "labels": RECORD_LABELS, "commitment_labels": COMMITMENT_LABELS,
    }, actor)  # fmt: skip


@router.post("/credit/{record_no}/revoke", include_in_schema=False, dependencies=[CsrfDep])
def credit_revoke_form(
    session: SessionDep,
    actor: Writer,
    record_no: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    record = _record_in_region(session, actor, record_no)
    revoke(session, record.id, reason, actor=actor)
    return RedirectResponse(f"/credit/{record_no}", status_code=303)


@router.post("/credit/{record_no}/correct", include_in_schema=False, dependencies=[CsrfDep])
def credit_correct_form(
    session: SessionDep,
    actor: Writer,
    record_no: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    facts: Annotated[str, Form(max_length=10_000)] = "",
    restriction: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    record = _record_in_region(session, actor, record_no)
    correct(session, record.id, reason, actor=actor, facts=facts or None,
            restriction=restriction or None)  # fmt: skip
    return RedirectResponse(f"/credit/{record_no}", status_code=303)


# ----------------------------------------------------------------------------------------------
# API


@router.get(
    "/api/v1/credit/commitments",
    response_model=Paged[CommitmentOut],
    responses=ERRORS,
    summary="Credit commitments in my region",
    description="Commitments of enterprises registered in the caller's region and below, by "
    "credit code and signing date.",
)
def api_commitments(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    status: Annotated[CommitmentStatus | None, Query(description="By status")] = None,
    uscc: Annotated[str | None, Query(max_length=40, description="Credit code prefix")] = None,
) -> Paged[CommitmentOut]:
    rows, total = commitments_within(session, actor.region_code, status=status, uscc=uscc,
                                     limit=page.limit, offset=page.offset)  # fmt: skip
    return paged([_commitment_out(session, actor, c) for c in rows], total, page)


@router.post(
    "/api/v1/credit/commitments",
    response_model=CommitmentOut,
    status_code=201,
    responses=ERRORS,
    summary="Record a signed commitment",
    description="Record a credit commitment (信用承诺书) of an enterprise in the caller's region: "
    "the text is hashed here (or its SHA-256 given), the signed document by name and SHA-256. "
    "Give the enterprise when it is not on file. Officials; audited with the caller.",
)
def api_record_commitment(session: SessionDep, actor: Writer, body: CommitmentIn) -> CommitmentOut:
    return _commitment_out(session, actor, _record_commitment(session, actor, body))


@router.post(
    "/api/v1/credit/commitments/{commitment_id}/withdraw",
    response_model=CommitmentOut,
    responses=ERRORS,
    summary="Withdraw a commitment",
    description="Withdraw a commitment in force from a day on (it still bound before), with the "
    "reason. Officials of the enterprise's region; audited with the caller.",
)
def api_withdraw(
    session: SessionDep, actor: Writer, commitment_id: CommitmentId, body: WithdrawIn
) -> CommitmentOut:
    withdrawn = _withdraw(session, actor, commitment_id, body.reason, body.effective)
    return _commitment_out(session, actor, withdrawn)


@router.get(
    "/api/v1/credit/records",
    response_model=Paged[RecordOut],
    responses=ERRORS,
    summary="Credit records in my region",
    description="Credit records decided by authorities in the caller's region and below, by "
    "decision date and number.",
)
def api_records(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    status: Annotated[RecordStatus | None, Query(description="By status")] = None,
    uscc: Annotated[str | None, Query(max_length=40, description="Credit code prefix")] = None,
) -> Paged[RecordOut]:
    rows, total = records_within(
        session, actor.region_code, statuses=None if status is None else [status], uscc=uscc,
        limit=page.limit, offset=page.offset,
    )  # fmt: skip
    return paged([_record_out(r) for r in rows], total, page)


@router.post(
    "/api/v1/credit/records",
    response_model=RecordOut,
    status_code=201,
    responses=ERRORS,
    summary="Make the credit record of a confirmed case",
    description="The confirmed case's enterprise had a commitment in force when the mining "
    "began: publish its credit record (once; asking again returns the record). Officials of "
    "the case's region, who become the deciding authority; audited with the caller.",
)
def api_breach(session: SessionDep, actor: Writer, body: BreachIn) -> RecordOut:
    return _record_out(_breach(session, actor, body))


@router.get(
    "/api/v1/credit/export",
    responses={**ERRORS, 200: {"description": "CSV (UTF-8 with BOM) or JSON lines",
                               "content": {"text/csv": {}, "application/x-ndjson": {}}}},
    summary="Export credit records for the sharing platform",
    description="Every record decided in the caller's region and below, revocations included "
    "as 撤销 rows, in the platform's layout with Chinese headers (format=csv or jsonl).",
)  # fmt: skip
def api_export(
    session: SessionDep,
    actor: Reader,
    format: ExportFormat = ExportFormat.CSV,
) -> Response:
    return _export(session, actor, format)


@router.get(
    "/api/v1/credit/records/{record_no}",
    response_model=RecordOut,
    responses=ERRORS,
    summary="One credit record",
)
def api_record(session: SessionDep, actor: Reader, record_no: str) -> RecordOut:
    return _record_out(_record_in_region(session, actor, record_no))


@router.post(
    "/api/v1/credit/records/{record_no}/revoke",
    response_model=RecordOut,
    responses=ERRORS,
    summary="Revoke a credit record on appeal",
    description="Revoke with the reason; the commitment is in force again unless another live "
    "record says it was broken. Officials of the deciding authority's region; audited.",
)
def api_revoke(session: SessionDep, actor: Writer, record_no: str, body: RevokeIn) -> RecordOut:
    record = _record_in_region(session, actor, record_no)
    return _record_out(revoke(session, record.id, body.reason, actor=actor))


@router.post(
    "/api/v1/credit/records/{record_no}/correct",
    response_model=RecordOut,
    responses=ERRORS,
    summary="Correct a credit record",
    description="Correct the published facts or restriction, with the reason. Officials of the "
    "deciding authority's region; audited.",
)
def api_correct(session: SessionDep, actor: Writer, record_no: str, body: CorrectIn) -> RecordOut:
    record = _record_in_region(session, actor, record_no)
    return _record_out(correct(session, record.id, body.reason, actor=actor, facts=body.facts,
                               restriction=body.restriction))  # fmt: skip
