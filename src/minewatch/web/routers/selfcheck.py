"""The server-room self-inspection over HTTP: probes post their reports with the unit key, and
the unit or its officials read the unit's clearance figures."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from minewatch.detect.hosts.rules import report_hits
from minewatch.domain.cases.states import Role
from minewatch.domain.selfcheck.clearance import clearance
from minewatch.domain.selfcheck.keys import unit_for_token, unit_key_of
from minewatch.domain.selfcheck.models import UnitKey
from minewatch.domain.selfcheck.service import receive_report
from minewatch.web.app import db_session
from minewatch.web.auth import current_actor
from minewatch.web.deps import ERRORS

router = APIRouter(tags=["self-inspection"])

SessionDep = Annotated[Session, Depends(db_session, scope="function")]
_READERS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY, Role.COUNTY, Role.AUDITOR,
                      Role.ADMIN})  # fmt: skip


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
            raise HTTPException(404 if key else 401, f"no unit {unit} for this key")
    else:
        actor = current_actor(request, session)
        if actor.role not in _READERS:
            raise HTTPException(403, "officials and auditors read units' figures")
        if not actor.covers(unit_key_of(session, unit).region_code):
            raise HTTPException(404, f"no unit {unit} in your region")
    return asdict(clearance(session, unit))
