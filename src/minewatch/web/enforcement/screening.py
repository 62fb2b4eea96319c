"""Screening (notice 1283 clauses 十, 十四, 十六): one party from a form, or a CSV batch, or a
JSON list, against the watch list — held with every reason, or passed.

**Whose watch list.** The parties are screened against the confirmed cases, ledger projects
and surcharged accounts of the screener's own region and below (the nation's officials against
all): a hold's reasons name the case, project or account that matched, so a wider list would
show a county the records of its neighbours. An enterprise listed only in another region is
that region's to catch, or the province's above both. See
:mod:`minewatch.domain.screening.service`.

Screening writes nothing; it is an act of the grid company (connections) and of officials
(market and bank lists), so auditors and inspectors are refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.cases.service import Actor
from minewatch.domain.screening.service import (
    Decision,
    Party,
    ScreeningKind,
    ScreeningResult,
    read_parties,
    screen,
    watch_list,
)
from minewatch.errors import InputFileError, InputProblem
from minewatch.reference import regions
from minewatch.web import i18n
from minewatch.web.deps import ERRORS, CsrfDep, SessionDep, TextRoute, require
from minewatch.web.enforcement.common import SCREENERS, choice, from_form, show

router = APIRouter(tags=["screening"], route_class=TextRoute)

Screener = Annotated[Actor, Depends(require(SCREENERS))]

MAX_PARTIES = 5000
"""Parties in one request (a batch larger than this is split by the caller)."""
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

KIND_LABELS: dict[ScreeningKind, str] = {
    ScreeningKind.CONNECTIONS: "用电报装申请",
    ScreeningKind.MARKET: "电力市场主体",
    ScreeningKind.CUSTOMERS: "金融机构客户",
}
DECISION_LABELS: dict[Decision, str] = {Decision.HOLD: "暂停办理", Decision.PASS: "通过"}
ON_LABELS: dict[str, str] = {
    "uscc": "统一社会信用代码",
    "name": "名称相近",
    "address": "地址相同",
    "load": "申报负荷疑似挖矿",
}

i18n.register(
    {
        "用电报装申请": "Power-connection application",
        "电力市场主体": "Electricity-market participant",
        "金融机构客户": "Bank or payment customer",
        "暂停办理": "Hold",
        "通过": "Pass",
        "统一社会信用代码": "Unified social credit code",
        "名称相近": "Similar name",
        "地址相同": "Same address",
        "申报负荷疑似挖矿": "Declared load looks like mining",
        "筛查类型": "Screening for",
        "单个筛查": "Screen one party",
        "批量筛查（CSV）": "Screen a batch (CSV)",
        "编号": "Reference",
        "名称": "Name",
        "所在地区代码（选填）": "Region code (optional)",
        "申报负荷（千瓦）": "Declared load (kW)",
        "全天候运行": "Runs around the clock",
        "是": "Yes",
        "否": "No",
        "未申报": "Not declared",
        "每日运行小时数": "Hours a day",
        "行业": "Industry",
        "仅用电报装申请判断负荷。": "Only connection applications are judged on their load.",
        "筛查": "Screening",
        "开始筛查": "Screen",
        "CSV 文件": "CSV file",
        "筛查结果": "Screening results",
        "结论": "Decision",
        "理由": "Reason",
        "暂停": "held",
        "文件有误，未做筛查": "The file has errors; nothing was screened",
        "行": "Row",
        "列": "Column",
        "问题": "Problem",
        "比对范围：本辖区已查实案件、项目台账和差别电价户号。": (
            "Checked against the confirmed cases, ledger projects and surcharged accounts of "
            "your region."
        ),
        "列：reference, name（必填）；uscc, address, region_code；用电报装另有 "
        "declared_load_kw, daily_hours, round_the_clock, industry。": (
            "Columns: reference, name (required); uscc, address, region_code; connection "
            "applications also declared_load_kw, daily_hours, round_the_clock, industry."
        ),
    }
)


class PartyIn(BaseModel):
    """One party to screen."""

    reference: str = Field(min_length=1, max_length=100, description="The caller's own number")
    name: str = Field(min_length=1, max_length=200)
    uscc: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    region_code: str | None = Field(default=None, max_length=6, description="Helps read the "
                                    "address")  # fmt: skip
    declared_load_kw: float | None = Field(default=None, ge=0, le=1e9)
    daily_hours: float | None = Field(default=None, ge=0, le=24)
    round_the_clock: bool | None = Field(
        default=None, description="Declared to run around the clock (without daily_hours)"
    )
    industry: str | None = Field(default=None, max_length=100)


class HitOut(BaseModel):
    source: str = Field(description="The watch-list entry: case MW…, ledger P…, surcharge …")
    on: str = Field(description="uscc, name, address or load")
    reason: str


class ResultOut(BaseModel):
    reference: str
    decision: Decision
    hits: list[HitOut]


def _party(item: PartyIn) -> Party:
    region = (item.region_code or "").strip() or None
    if region is not None and not regions.is_valid_code(region):
        raise HTTPException(422, f"{item.reference}: region_code {region!r} is not a region code")
    return Party(
        reference=item.reference.strip(), name=item.name.strip(),
        uscc=(item.uscc or "").strip() or None, address=(item.address or "").strip() or None,
        region_code=region, declared_load_kw=item.declared_load_kw,
        daily_hours=item.daily_hours, round_the_clock=item.round_the_clock,
        industry=(item.industry or "").strip() or None,
    )  # fmt: skip


def _screen(
    session: Session, actor: Actor, parties: list[Party], kind: ScreeningKind
) -> list[ScreeningResult]:
    entries = watch_list(session, within_region=actor.region_code)
    return screen(parties, entries, check_load=kind.check_load)


def _kind(text: str) -> ScreeningKind:
    return choice(ScreeningKind, text, "kind") or ScreeningKind.CONNECTIONS


def _results_page(
    request: Request, actor: Actor, kind: ScreeningKind, parties: list[Party],
    results: list[ScreeningResult],
) -> HTMLResponse:  # fmt: skip
    names = {p.reference: p.name for p in parties}
    return show(request, "screening_results.html", {
        "kind": kind, "kinds": KIND_LABELS, "decisions": DECISION_LABELS, "on_labels": ON_LABELS,
        "results": results, "names": names,
        "held": sum(r.decision is Decision.HOLD for r in results),
    }, actor)  # fmt: skip


def _form_page(
    request: Request, actor: Actor, problems: InputFileError | None = None, status_code: int = 200
) -> HTMLResponse:
    return show(request, "screening.html", {"kinds": KIND_LABELS, "problems": problems},
                actor, status_code=status_code)  # fmt: skip


@router.get("/screening", response_class=HTMLResponse, include_in_schema=False)
def screening_page(request: Request, actor: Screener) -> HTMLResponse:
    return _form_page(request, actor)


def _number(text: str, what: str, high: float) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.replace(",", "").strip())
    except ValueError as error:
        raise HTTPException(422, f"{what}: {text!r} is not a number") from error
    if not 0 <= value <= high:
        raise HTTPException(422, f"{what}: {text!r} is out of range (0–{high:g})")
    return value


@router.post("/screening", response_class=HTMLResponse, include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def screening_one(
    request: Request,
    session: SessionDep,
    actor: Screener,
    kind: Annotated[str, Form(max_length=20)] = "",
    reference: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    uscc: Annotated[str, Form(max_length=40)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    declared_load_kw: Annotated[str, Form(max_length=30)] = "",
    round_the_clock: Annotated[str, Form(max_length=10)] = "",
    daily_hours: Annotated[str, Form(max_length=10)] = "",
    industry: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    chosen = _kind(kind)
    if not name.strip():
        raise HTTPException(422, "name: give the party's name")
    flag = {"yes": True, "no": False}.get(round_the_clock.strip())
    item = from_form(
        PartyIn,
        reference=reference.strip() or "1", name=name, uscc=uscc or None,
        address=address or None, region_code=region_code or None,
        declared_load_kw=_number(declared_load_kw, "declared load", 1e9),
        daily_hours=_number(daily_hours, "hours a day", 24), round_the_clock=flag,
        industry=industry or None,
    )  # fmt: skip
    parties = [_party(item)]
    return _results_page(request, actor, chosen, parties, _screen(session, actor, parties, chosen))


@router.post("/screening/upload", response_class=HTMLResponse, include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def screening_upload(
    request: Request,
    session: SessionDep,
    actor: Screener,
    file: UploadFile,
    kind: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    chosen = _kind(kind)
    raw = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    source = file.filename or "upload.csv"
    try:
        parties = read_parties(raw.decode("utf-8-sig"), source)
    except UnicodeDecodeError:
        problem = InputProblem(None, None, "not UTF-8 text: save the file as CSV UTF-8")
        return _form_page(request, actor, InputFileError(source, [problem]), 422)
    except InputFileError as problems:
        return _form_page(request, actor, problems, 422)
    if len(parties) > MAX_PARTIES:
        raise HTTPException(413, f"at most {MAX_PARTIES} parties at once")
    return _results_page(request, actor, chosen, parties, _screen(session, actor, parties, chosen))


@router.post(
    "/api/v1/screening/{kind}",
    response_model=list[ResultOut],
    responses=ERRORS,
    summary="Screen a list of parties",
    description="Each party against the watch list of the caller's region and below (confirmed "
    "cases, ledger projects, surcharged accounts): hold with every match and why, or pass. "
    "kind=connections also holds a computing business whose declared load looks like mining. "
    f"At most {MAX_PARTIES} parties per request.",
)
def api_screen(
    session: SessionDep,
    actor: Screener,
    kind: ScreeningKind,
    body: Annotated[list[PartyIn], Field(min_length=1, max_length=MAX_PARTIES)],
) -> list[ResultOut]:
    parties = [_party(item) for item in body]
    return [
        ResultOut(
            reference=r.reference,
            decision=r.decision,
            hits=[HitOut(source=h.source, on=h.on, reason=h.reason) for h in r.hits],
        )
        for r in _screen(session, actor, parties, kind)
    ]
