"""The public reporting portal (举报, notice 1283 clause 十九): no login.

A form that asks what inspectors need (where, which enterprise, what was seen or heard, power
use), a receipt code, and a status page by code; rate limited per client; the reporter's contact
is encrypted by the service and never shown here. The same capability is offered as JSON for a
provincial portal or an app: ``POST /api/v1/reports`` and ``GET /api/v1/reports/{code}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.reports.models import Channel
from minewatch.domain.reports.service import (
    MAX_TEXT,
    ContactVault,
    ReportData,
    ReportError,
    public_status,
    submit_report,
)
from minewatch.web.app import TEMPLATES, db_session
from minewatch.web.deps import ERRORS, PAGE_ERRORS, ErrorOut, TextRoute
from minewatch.web.security import CSRF_COOKIE, CSRF_FIELD

router = APIRouter(tags=["public reports"], route_class=TextRoute)

SessionDep = Annotated[Session, Depends(db_session, scope="function")]

TEXT = {
    "zh": {
        "title": "虚拟货币“挖矿”活动举报",
        "intro": "请尽量写明地点和所见所闻，便于核查人员找到现场。可以匿名举报；"
        "留下联系方式仅供办理单位回访，加密保存，不对外公开。",
        "address": "地点（省市县、乡镇街道、路名门牌、厂房或园区名称）",
        "enterprise": "涉及企业或单位名称（如知道）",
        "observed": "看到或听到了什么（风扇噪声、散热、新装变压器、搬运矿机等）",
        "power_use": "用电情况（如知道）",
        "contact": "联系方式（选填，仅办理单位可见）",
        "submit": "提交举报",
        "receipt": "举报已受理",
        "keep": "请保存以下查询码，凭码查询办理进度：",
        "status": "查询办理进度",
        "code": "查询码",
        "lookup": "查询",
        "received": "受理日期",
        "progress": "办理进度",
        "answer": "答复",
        "too_many": "提交过于频繁，请稍后再试。",
        "expired": "页面已过期，请刷新后重新提交。",
        "unknown": "未找到该查询码对应的举报。",
        "switch": "English",
    },
    "en": {
        "title": "Report crypto-mining",
        "intro": "Say where it is and what you saw or heard, so that inspectors can find the site. "
        "You may stay anonymous; a contact is only for the handling office to call back, stored "
        "encrypted and never published.",
        "address": "Where (province, city, county, town, road and number, building or park)",
        "enterprise": "Enterprise or unit involved (if known)",
        "observed": "What you saw or heard (fan noise, heat, new transformers, rigs carried in)",
        "power_use": "Power use (if known)",
        "contact": "Contact (optional, seen only by the handling office)",
        "submit": "Submit report",
        "receipt": "Report received",
        "keep": "Keep this code to follow your report:",
        "status": "Follow a report",
        "code": "Receipt code",
        "lookup": "Look up",
        "received": "Received",
        "progress": "Progress",
        "answer": "Answer",
        "too_many": "Too many reports from here; try again later.",
        "expired": "This page has expired; reload it and submit again.",
        "unknown": "No report has this code.",
        "switch": "中文",
    },
}


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("mw_lang") or "zh"
    return "en" if wanted.lower().startswith("en") else "zh"


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = _lang(request)
    token = request.app.state.csrf.current(request.cookies.get(CSRF_COOKIE))
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": TEXT[lang],
            "lang": lang,
            "csrf_field": CSRF_FIELD,
            "csrf_token": token,
            "max_text": MAX_TEXT,
            **context,
        },
        status_code=status_code,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
    response.set_cookie("mw_lang", lang, samesite="lax")
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _vault(request: Request) -> ContactVault:
    return ContactVault(request.app.state.settings.secret_key.get_secret_value())


@router.get("/", include_in_schema=False)
@router.get("/report", response_class=HTMLResponse, summary="The reporting form")
def report_form(request: Request) -> HTMLResponse:
    return _page(request, "report_form.html", {"values": {}, "error": None})


@router.post("/report", response_class=HTMLResponse, summary="Submit a report from the form",
             responses={**{s: PAGE_ERRORS[s] for s in (400, 403, 422)},
                        429: {"description": "Too many reports from this client",
                              "content": {"text/html": {}}}})  # fmt: skip
def report_submit(
    request: Request,
    session: SessionDep,
    address: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    observed: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    enterprise: Annotated[str, Form(max_length=200)] = "",
    power_use: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    contact: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    text = TEXT[_lang(request)]
    values = {"address": address, "observed": observed, "enterprise": enterprise,
              "power_use": power_use}  # fmt: skip
    if not request.app.state.csrf.valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        return _page(request, "report_form.html", {"values": values, "error": text["expired"]},
                     status_code=403)  # fmt: skip
    if not request.app.state.report_limit.allow(_client(request)):
        return _page(request, "report_form.html", {"values": values, "error": text["too_many"]},
                     status_code=429)  # fmt: skip
    data = ReportData(Channel.WEB, address, observed, enterprise or None, power_use or None,
                      contact or None)  # fmt: skip
    try:
        report = submit_report(session, data, vault=_vault(request))
    except ReportError as error:
        return _page(request, "report_form.html", {"values": values, "error": str(error)},
                     status_code=422)  # fmt: skip
    return _page(request, "report_receipt.html", {"code": report.receipt_code})


@router.get("/report/status", response_class=HTMLResponse, summary="Follow a report by its code",
            responses={s: PAGE_ERRORS[s] for s in (404, 422)})  # fmt: skip
def report_status(request: Request, session: SessionDep, code: str = "") -> HTMLResponse:
    if not code.strip():
        return _page(request, "report_status.html", {"status": None, "error": None})
    try:
        shown = public_status(session, code)
    except ReportError:
        return _page(request, "report_status.html",
                     {"status": None, "error": TEXT[_lang(request)]["unknown"]},
                     status_code=404)  # fmt: skip
    return _page(request, "report_status.html", {"status": shown, "error": None})


class ReportIn(BaseModel):
    """A report as a portal or an app posts it."""

    address: str = Field(min_length=1, max_length=MAX_TEXT)
    observed: str = Field(min_length=1, max_length=MAX_TEXT)
    enterprise: str | None = Field(default=None, max_length=200)
    power_use: str | None = Field(default=None, max_length=MAX_TEXT)
    contact: str | None = Field(default=None, max_length=200)


class ReceiptOut(BaseModel):
    receipt_code: str


class StatusOut(BaseModel):
    receipt_code: str
    received_date: str
    status: str
    progress: str
    note: str | None


@router.post("/api/v1/reports", response_model=ReceiptOut, status_code=201,
             responses={400: ERRORS[400],
                        422: {"model": ErrorOut, "description": "Invalid report"},
                        429: {"model": ErrorOut,
                              "description": "Too many reports from this client"}})  # fmt: skip
def api_submit(request: Request, body: ReportIn, session: SessionDep) -> ReceiptOut:
    """Take a report; the receipt code is all the reporter needs to follow it."""
    if not request.app.state.report_limit.allow(_client(request)):
        raise HTTPException(429, "too many reports from this client; try again later")
    data = ReportData(Channel.WEB, body.address, body.observed, body.enterprise, body.power_use,
                      body.contact)  # fmt: skip
    try:
        report = submit_report(session, data, vault=_vault(request))
    except ReportError as error:
        raise HTTPException(422, str(error)) from error
    return ReceiptOut(receipt_code=report.receipt_code)


@router.get("/api/v1/reports/{code}", response_model=StatusOut,
            responses={404: {"model": ErrorOut,
                             "description": "No report has this code"}})  # fmt: skip
def api_status(code: str, session: SessionDep) -> StatusOut:
    """What anyone holding the code may read — never the reporter's contact."""
    try:
        shown = public_status(session, code)
    except ReportError as error:
        raise HTTPException(404, "no report has this code") from error
    return StatusOut(**shown.__dict__)


@router.get("/healthz", include_in_schema=False)
def health() -> Response:
    return Response("ok", media_type="text/plain")
