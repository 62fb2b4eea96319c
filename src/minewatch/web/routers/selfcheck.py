"""The server-room self-inspection over HTTP: probes post their reports with the unit key, and
the unit or its officials read the unit's clearance figures."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from minewatch.detect.hosts.rules import report_hits
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.selfcheck.clearance import clearance
from minewatch.domain.selfcheck.keys import unit_for_token, unit_key_of, units_within
from minewatch.domain.selfcheck.models import UnitKey
from minewatch.domain.selfcheck.service import ACTION_LABELS, receive_report
from minewatch.errors import NotFoundError
from minewatch.web import i18n
from minewatch.web.app import db_session
from minewatch.web.auth import current_actor
from minewatch.web.deps import ERRORS, PAGE_ERRORS, render, require
from minewatch.web.enforcement.common import local
from minewatch.web.routers.dashboard import full_name

router = APIRouter(tags=["self-inspection"])

SessionDep = Annotated[Session, Depends(db_session, scope="function")]
_READERS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY, Role.COUNTY, Role.AUDITOR,
                      Role.INSPECTOR})  # fmt: skip
"""Who reads units' self-inspection: officials, auditors and inspectors of the unit's region."""


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def unit_key(request: Request, session: SessionDep) -> UnitKey:
    """The unit key the request presents (``Authorization: Bearer mwu_…``); 401 otherwise."""
    token = _bearer(request)
    key = unit_for_token(session, token) if token else None
    if key is None:
        raise HTTPException(401, "a live unit key (mwu_…) is needed",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return key


class HitOut(BaseModel):
    rule: str
    level: str
    title: str


class ReceiptOut(BaseModel):
    """What the platform made of a report."""

    unit: str
    asset_id: str | None
    matched_by: str | None
    """``mac``, ``ip`` or ``hostname``; ``None``: the server is not in the unit's inventory."""
    clean: bool
    level: str | None
    hits: list[HitOut]
    case_no: str | None
    received_before: bool


@router.post(
    "/api/v1/selfcheck/reports",
    response_model=ReceiptOut,
    status_code=201,
    summary="Post a probe report",
    description="For the host probe (`hostprobe.py --post`), with the unit key: the report, "
    "signed with the same key. It is matched against the host rules and placed on a server of "
    "the unit's inventory; a finding opens or joins the server's case. A report altered after "
    "signing, signed with another key, or malformed is refused (422) and nothing is stored.",
    responses=ERRORS,
)
def api_post_report(
    session: SessionDep,
    key: Annotated[UnitKey, Depends(unit_key)],
    report: Annotated[dict[str, Any], Body()],
) -> ReceiptOut:
    hits = report_hits(report)
    got = receive_report(session, report, hits, actor=f"unit key {key.unit} ({key.key_id})",
                         key=key)  # fmt: skip
    check = got.check
    return ReceiptOut(
        unit=check.unit, asset_id=check.asset_id, matched_by=check.matched_by, clean=check.clean,
        level=check.level, hits=[HitOut(rule=h["rule"], level=h["level"], title=h["title"])
                                 for h in hits],
        case_no=got.case_no, received_before=not got.new,
    )  # fmt: skip


def _unit_in_region(session: Session, unit: str, actor: Actor) -> None:
    """404, the same whether the unit is unknown or outside the actor's region."""
    try:
        inside = actor.covers(unit_key_of(session, unit).region_code)
    except NotFoundError:
        inside = False
    if not inside:
        raise HTTPException(404, "no such unit in your region")


@router.get(
    "/api/v1/selfcheck/units/{unit}/clearance",
    summary="A unit's clearance figures",
    description="Servers in the inventory and checked, findings, re-checks, actions, open items "
    "and whether the unit is at dynamic zero. With the unit's own key, or as an official whose "
    "region holds the unit.",
    responses=ERRORS,
)
def api_clearance(unit: str, request: Request, session: SessionDep) -> dict[str, Any]:
    token = _bearer(request)
    if token and token.startswith("mwu_"):
        key = unit_for_token(session, token)
        if key is None or key.unit != unit:
            raise HTTPException(404 if key else 401, "no such unit for this key")
    else:
        actor = current_actor(request, session)
        if actor.role not in _READERS:
            raise HTTPException(403, "officials, auditors and inspectors read units' figures")
        _unit_in_region(session, unit, actor)
    return asdict(clearance(session, unit))


# ----------------------------------------------------------------------------------------------
# pages

ReaderDep = Annotated[Actor, Depends(require(_READERS))]

i18n.register(
    {
        "机房自查": "Server-room self-inspection",
        "单位": "Unit",
        "主管部门": "Supervising department",
        "台账资产": "Servers in inventory",
        "已检查": "Checked",
        "有发现": "With findings",
        "已复查清零": "Re-checked clean",
        "待处置": "Open",
        "未登记主机": "Hosts not in inventory",
        "动态清零": "Dynamic zero",
        "暂无自查单位": "No unit has a key for self-inspection yet",
        "资产编号": "Asset",
        "使用部门": "Department",
        "机房/机柜": "Room / rack",
        "检查次数": "Checks",
        "最近检查": "Last check",
        "最近发现": "Last finding",
        "命中规则": "Rules matched",
        "处置记录": "Actions",
        "未检查": "Not checked",
        "检查无异常": "Clean",
        "有发现待处置": "Finding open",
        "未关闭事项": "Open items",
        "无": "None",
        "截至": "As of",
        "处置统计": "Actions taken",
        "封禁IP地址": "IP address blocked",
        "封停网络账号": "Network account blocked",
        "清除挖矿程序": "Miner removed",
        "下线停用": "Taken offline",
    }
)


def _local(text: str | None) -> str:
    """An ISO instant of the figures as Beijing time, to the minute."""
    return "" if not text else local(datetime.fromisoformat(text))


@router.get("/selfcheck", response_class=HTMLResponse, summary="Units' self-inspection (page)",
            responses=PAGE_ERRORS)  # fmt: skip
def selfcheck_page(request: Request, session: SessionDep, actor: ReaderDep) -> HTMLResponse:
    rows = [clearance(session, key.unit) for key in units_within(session, actor.region_code)]
    return render(
        request,
        "selfcheck.html",
        {"rows": rows, "region_name": full_name(actor.region_code),
         "region_of": full_name},
        actor=actor,
    )  # fmt: skip


@router.get("/selfcheck/units/{unit}", response_class=HTMLResponse,
            summary="A unit's self-inspection (page)", responses=PAGE_ERRORS)  # fmt: skip
def selfcheck_unit_page(
    unit: str, request: Request, session: SessionDep, actor: ReaderDep
) -> HTMLResponse:
    _unit_in_region(session, unit, actor)
    figures = clearance(session, unit)
    return render(
        request,
        "selfcheck_unit.html",
        {"f": figures, "action_labels": ACTION_LABELS,
         "region_name": full_name(figures.region_code), "local": _local},
        actor=actor,
    )  # fmt: skip
