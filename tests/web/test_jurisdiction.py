"""The jurisdiction matrix: every route × every actor × every arena, and not one leak.

The world (:mod:`jurisdiction_world`) holds the same records in 石棉县 511824, its sibling 汉源县
511823 and 五华区 530102 in another province, each marked with texts found nowhere else. The
routes are read from the app itself, so a new route is in the matrix the day it is added; a
route whose path parameter the matrix cannot fill fails the test until it is taught to.

* Every GET route (but the public ones and the documentation) with a record in its path is
  called by every actor for every arena's record: 200 or 403 (role) where the actor covers the
  arena, 404 or 403 elsewhere.
* Every GET route without one is called with no filters (in each export format, and for a page
  also as an HTMX fragment), then — by each actor's user; its key shares its region — with each
  arena as its region filter (404, 403 or 422 outside the actor's region, or an empty list) and
  with each outside arena's record as its search (the record must not be found).
* In every response — any status, pages, JSON, CSV, spreadsheets and PDF alike — no marker of an
  arena the actor does not cover may appear.
* Every write addressing a record (in its path, or by case number or region in its body) is
  refused with a 4xx for an arena the actor does not cover, and the audit chain does not move.
"""

from __future__ import annotations

import enum
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from conftest import BACKENDS, TABLES
from jurisdiction_world import ACTORS, NATION, PASSWORD, ActorSpec, Arena, World, build, shown_text
from minewatch.domain.audit.models import AuditHead
from minewatch.domain.audit.service import GENESIS_HASH
from minewatch.domain.cases.states import Role
from minewatch.domain.db import make_engine, session_scope
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.case_views import CaseAction
from minewatch.web.enforcement.credit import OUTSIDE_RECORD
from minewatch.web.routers.ledger import RESULTS_ID
from minewatch.web.security import CSRF_FIELD
from webclient import form_token, light_password_hashes

WEEK = "2021-W43"
"""The bulletin week of the world (its cases were opened, confirmed and measured in it)."""

NOT_IN_MATRIX = ("/docs", "/openapi.json", "/redoc", "/static", "/healthz")
PUBLIC_BY_DESIGN = ("/report", "/api/v1/reports", "/public/inspections",
                    "/api/v1/public/inspections")  # fmt: skip
"""Open to anyone by design: the reporting form and receipt status, published inspections."""

RECORD_PARAMS: dict[str, Callable[[Arena], str]] = {
    "case_no": lambda a: a.case_no,
    "project_code": lambda a: a.project_code,
    "account_no": lambda a: a.account_no,
    "record_no": lambda a: a.record_no,
    "draw_no": lambda a: a.draw_no,
    "commitment_id": lambda a: str(a.commitment_id),
    "username": lambda a: a.username,
    "key_id": lambda a: a.key_id,
    "unit": lambda a: a.place.unit,
}
"""Path parameters naming one record: filled with the arena's."""

OTHER_PARAMS: dict[str, tuple[str, ...]] = {
    "week": (WEEK,),
    "action": tuple(a.value for a in CaseAction),
    "kind": ("enterprises",),
}
"""Path parameters naming no record (the arena is then chosen by the region filter)."""

FRAGMENT = {"HX-Request": "true", "HX-Target": RESULTS_ID}
"""An HTMX request for a list page's results alone (the ledger's, the cases', the rounds')."""

REGION_FILTERS = ("region_code", "region")
SEARCHES: dict[str, Callable[[Arena], tuple[str, ...]]] = {
    "q": lambda a: (a.account_no, a.place.enterprise),
    "uscc": lambda a: (a.uscc,),
    "case_no": lambda a: (a.case_no,),
    "enterprise": lambda a: (a.place.enterprise,),
}
"""Query parameters that look a record up: searched for with the arena's."""

ROLE_REFUSED = 403
HIDDEN = (404, 403)
OUTSIDE_FILTER = (404, 403, 422)
NARROWED = (200,)
"""The ledger, case, lead and inspection lists narrow a region filter to the caller's region:
one outside it lists nothing (200 with no rows, as tests/web/test_ledger_web.py and
test_inspections_web.py require) where the dashboard and the bulletins refuse it (404)."""


# ---- the routes, as the app has them


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: frozenset[str]
    formats: tuple[str, ...] = ()
    """The values of its ``format`` parameter, for an export that writes several."""

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def record_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.path_params if p in RECORD_PARAMS)


def _flat(dependant: Dependant, kind: str) -> Iterator[str]:
    for param in getattr(dependant, kind):
        yield param.alias
    for sub in dependant.dependencies:
        yield from _flat(sub, kind)


def _formats(dependant: Dependant) -> tuple[str, ...]:
    for param in dependant.query_params:
        kind = param.field_info.annotation
        if param.alias == "format" and isinstance(kind, type) and issubclass(kind, enum.Enum):
            return tuple(str(member.value) for member in kind)
    for sub in dependant.dependencies:
        if found := _formats(sub):
            return found
    return ()


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            inner = route.original_router
            yield from _walk(inner.routes, prefix + inner.prefix)


def app_routes(app: FastAPI) -> list[Route]:
    found = []
    for path, route in _walk(list(app.routes)):
        if path.startswith(NOT_IN_MATRIX) or path.startswith(PUBLIC_BY_DESIGN):
            continue
        params = tuple(dict.fromkeys(_flat(route.dependant, "path_params")))
        queries = frozenset(_flat(route.dependant, "query_params"))
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append(Route(method, path, params, queries, _formats(route.dependant)))
    return found


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


# ---- the matrix's world, once per backend


@dataclass
class Identity:
    actor: ActorSpec
    via: str
    client: TestClient
    csrf: str

    def __str__(self) -> str:
        return f"{self.actor.name}({self.actor.role.value} {self.actor.region}, {self.via})"


@dataclass
class Matrix:
    engine: Engine
    app: FastAPI
    world: World
    identities: list[Identity]

    def head(self) -> int:
        with session_scope(self.engine) as session:
            seq = session.scalar(select(AuditHead.seq))
        return int(seq or 0)


def _csrf(client: TestClient) -> str:
    return form_token(client.get("/report").text)


def _signed_in(app: FastAPI, spec: ActorSpec) -> TestClient:
    client = TestClient(app)
    reply = client.post("/login", data={CSRF_FIELD: _csrf(client), "username": spec.name,
                                        "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303, (spec.name, reply.text)
    return client


def _fresh_engine(backend: str, folder: Path, template: Path, request: pytest.FixtureRequest
                  ) -> Engine:  # fmt: skip
    if backend == "sqlite":
        path = folder / "matrix.db"
        shutil.copy(template, path)
        return make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    pg: Engine = request.getfixturevalue("postgres_engine")
    with pg.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("UPDATE audit_head SET seq = 0, hash = :h WHERE id = 1"), {"h": GENESIS_HASH}
        )
    return pg


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Matrix]:
    folder = tmp_path_factory.mktemp("matrix")
    engine = _fresh_engine(request.param, folder, sqlite_template, request)
    with pytest.MonkeyPatch.context() as patch:
        # Argon2 at its lightest: the matrix is about regions, not password hashing
        light_password_hashes(patch)
        with session_scope(engine) as session:
            world = build(session)
        settings = Settings(data_dir=folder / "data",
                            secret_key=SecretStr("the matrix's deployment secret"))  # fmt: skip
        app = create_app(settings, engine=engine)
        identities = []
        for spec in ACTORS:
            user = _signed_in(app, spec)
            identities.append(Identity(spec, "user", user, _csrf(user)))
            if spec.name in world.keys:
                keyed = TestClient(
                    app, headers={"Authorization": f"Bearer {world.keys[spec.name]}"}
                )
                identities.append(Identity(spec, "key", keyed, _csrf(keyed)))
        yield Matrix(engine, app, world, identities)
    if request.param == "sqlite":
        engine.dispose()


# ---- checking one response


class Findings:
    """Every failure of the matrix, reported together at the end."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.calls = 0

    def leaks(self, who: Identity, world: World, call: str, status: int, body: bytes,
              asked: tuple[str, ...] = ()) -> None:  # fmt: skip
        """No marker of an arena the actor does not cover — but what the caller sent itself (a
        search echoed in its box, a record number in the path of an error page)."""
        shown = shown_text(body)
        for code, mark in world.markers_outside(who.actor):
            if mark in shown and not any(mark in value for value in asked):
                self.problems.append(f"LEAK {who} {call} → {status} shows {code}'s {mark!r}")

    def status(self, who: Identity, call: str, status: int, allowed: tuple[int, ...]) -> None:
        if status not in allowed:
            self.problems.append(f"STATUS {who} {call} → {status}, expected one of {allowed}")

    def check(self) -> None:
        assert not self.problems, f"{len(self.problems)} of {self.calls} calls:\n" + "\n".join(
            self.problems[:200]
        )


def _get(findings: Findings, who: Identity, world: World, url: str, params: dict[str, str],
         allowed: tuple[int, ...], *, fragment: bool = False) -> httpx.Response:  # fmt: skip
    """GET ``url`` as ``who``; ``fragment``: as HTMX asks for a page's results alone."""
    headers = FRAGMENT if fragment else None
    reply = who.client.get(url, params=params, headers=headers)
    findings.calls += 1
    call = f"GET {url}" + (f"?{params}" if params else "") + (" (HTMX)" if fragment else "")
    findings.status(who, call, reply.status_code, allowed)
    findings.leaks(who, world, call, reply.status_code, reply.content, tuple(params.values()))
    return reply


def _reads(matrix: Matrix) -> list[Route]:
    return [r for r in app_routes(matrix.app) if r.method == "GET"]


def _writes(matrix: Matrix) -> list[Route]:
    return [r for r in app_routes(matrix.app) if r.method in ("POST", "PATCH", "DELETE")]


# ---- the tests


def test_every_path_parameter_is_known_to_the_matrix(matrix: Matrix) -> None:
    unknown = sorted(
        (r.method, r.path, p)
        for r in app_routes(matrix.app)
        for p in r.path_params
        if p not in RECORD_PARAMS and p not in OTHER_PARAMS
    )
    assert not unknown, f"routes with a path parameter the matrix cannot fill: {unknown}"
    writes = [r for r in _writes(matrix) if r.record_params or _body_addressed(r)]
    missing = sorted((r.method, r.path) for r in writes if (r.method, r.path) not in BODIES)
    assert not missing, f"writes addressing a record with no plausible body here: {missing}"


def test_records_are_read_only_in_their_region(matrix: Matrix) -> None:
    findings = Findings()
    world = matrix.world
    routes = [r for r in _reads(matrix) if r.record_params]
    assert len(routes) >= 15, [r.path for r in routes]
    for route in routes:
        for arena in world.arenas:
            values = {p: RECORD_PARAMS[p](arena) for p in route.record_params}
            for p in route.path_params:
                if p not in values:
                    values[p] = OTHER_PARAMS[p][0]
            url = _fill(route.path, values)
            for who in matrix.identities:
                covers = who.actor.covers(arena.code)
                reply = _get(findings, who, world, url, {},
                             (200, ROLE_REFUSED) if covers else HIDDEN)  # fmt: skip
                shown = shown_text(reply.content) if reply.status_code == 200 else ""
                if covers and shown and not any(m in shown for m in arena.markers):
                    findings.problems.append(f"BLIND {who} GET {url}: the record's own "
                                             "markers are not shown, so the check sees "
                                             "nothing")  # fmt: skip
    findings.check()


def _nothing_listed(findings: Findings, who: Identity, call: str, reply: httpx.Response) -> None:
    """A region filter outside the actor's that narrows rather than refuses must list nothing."""
    if reply.status_code == 200 and reply.headers.get("content-type", "").startswith(
        "application/json"
    ):
        body = reply.json()
        if isinstance(body, dict) and body.get("total", 0) != 0:
            findings.problems.append(f"LISTED {who} {call} → {body['total']} rows from outside")


def test_lists_searches_and_exports_show_only_the_region(matrix: Matrix) -> None:
    findings = Findings()
    world = matrix.world
    routes = [r for r in _reads(matrix) if not r.record_params]
    for route in routes:
        url = _fill(route.path, {p: OTHER_PARAMS[p][0] for p in route.path_params})
        regional = [f for f in REGION_FILTERS if f in route.query_params]
        searches = [f for f in SEARCHES if f in route.query_params]
        for who in matrix.identities:
            _get(findings, who, world, url, {}, (200, ROLE_REFUSED))
            if not route.is_api:
                _get(findings, who, world, url, {}, (200, ROLE_REFUSED), fragment=True)
            for kind in route.formats:
                _get(findings, who, world, url, {"format": kind}, (200, ROLE_REFUSED))
            if who.via == "key":
                continue  # a key's actor filters and searches as its user does
            for arena in world.arenas:
                covers = who.actor.covers(arena.code)
                for name in regional:
                    allowed = (200, ROLE_REFUSED) if covers else (*OUTSIDE_FILTER, *NARROWED)
                    reply = _get(findings, who, world, url, {name: arena.code}, allowed)
                    if not covers:
                        _nothing_listed(findings, who, f"GET {url}?{name}={arena.code}", reply)
                if covers:
                    continue  # a search is for what lies outside
                for name in searches:
                    for value in SEARCHES[name](arena):
                        allowed = (200, ROLE_REFUSED) if covers else (200, *OUTSIDE_FILTER)
                        reply = _get(findings, who, world, url, {name: value}, allowed)
                        if not covers:
                            _nothing_listed(findings, who, f"GET {url}?{name}={value}", reply)
    findings.check()


def test_the_nation_sees_every_arena(matrix: Matrix) -> None:
    """The markers are real: a national official finds each arena's records in the lists."""
    nation = next(i for i in matrix.identities if i.actor.region == NATION and i.via == "user")
    shown = "".join(
        nation.client.get(path).text
        for path in ("/api/v1/cases?limit=500", "/api/v1/projects", "/api/v1/surcharge",
                     "/api/v1/credit/records", "/api/v1/inspections", "/api/v1/leads?limit=500")
    )  # fmt: skip
    for arena in matrix.world.arenas:
        for mark in (arena.case_no, arena.second_case_no, arena.report_case_no,
                     arena.project_code, arena.account_no, arena.record_no, arena.draw_no,
                     *arena.lead_subjects):  # fmt: skip
            assert mark in shown, (arena.code, mark)
    # the spreadsheets and the PDF are read, not skipped
    exports = {
        "/api/v1/projects/export.xlsx": lambda a: a.project_code,
        "/api/v1/surcharge/export?format=xlsx": lambda a: a.account_no,
        "/api/v1/surcharge/export?format=csv": lambda a: a.account_no,
        "/api/v1/credit/export?format=jsonl": lambda a: a.record_no,
    }
    for path, mark_of in exports.items():
        shown = shown_text(nation.client.get(path).content)
        for arena in matrix.world.arenas:
            assert mark_of(arena) in shown, (path, arena.code)
    for arena in matrix.world.arenas:
        pdf = nation.client.get(f"/bulletins/{WEEK}.pdf", params={"region_code": arena.code})
        assert pdf.content.startswith(b"%PDF")
        assert arena.place.county in shown_text(pdf.content), arena.code


# ---- writes


def _body_addressed(route: Route) -> bool:
    return (route.method, route.path) in BODY_ADDRESSED


Body = Callable[[Arena], dict[str, Any]]


def _json(make: Callable[[Arena], Any]) -> Body:
    return lambda a: {"json": make(a)}


def _form(make: Callable[[Arena], dict[str, str]]) -> Body:
    return lambda a: {"data": make(a)}


_CHECK = {"checked_on": "2021-11-01", "inspectors": ["赵刚"], "outcome": "mining_found",
          "rigs": {"Antminer S19 Pro": 10}}  # fmt: skip
_ENTRY = {
    "project_name": "越界矿场", "enterprise_name": "越界科技有限公司",
    "site_address": "越界地址1号", "site_type": "factory", "status": "operating",
    "discovered_by": "self_report", "machine_count": 10, "supply_kind": "grid",
}  # fmt: skip

BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/cases/{case_no}/actions/assign"): _json(lambda a: {"county_code": a.code}),
    ("POST", "/api/v1/cases/{case_no}/actions/check"): _json(lambda a: _CHECK),
    ("POST", "/api/v1/cases/{case_no}/actions/confirm"): _json(lambda a: {}),
    ("POST", "/api/v1/cases/{case_no}/actions/dismiss"): _json(lambda a: {"reason": "越界"}),
    ("POST", "/api/v1/cases/{case_no}/actions/order_measures"): _json(
        lambda a: {"measures": [{"kind": "power_cut", "due_date": "2021-12-01"}]}),
    ("POST", "/api/v1/cases/{case_no}/actions/complete_measure"): _json(
        lambda a: {"kind": "power_cut"}),
    ("POST", "/api/v1/cases/{case_no}/actions/clear"): _json(lambda a: {}),
    ("POST", "/api/v1/cases/{case_no}/actions/recheck"): _json(lambda a: _CHECK),
    ("POST", "/api/v1/cases/{case_no}/actions/reopen"): _json(lambda a: {"reason": "越界"}),
    ("POST", "/cases/{case_no}/actions/{action}"): _form(lambda a: {
        "county_code": a.code, "checked_on": "2021-11-01", "inspectors": "赵刚",
        "outcome": "mining_found", "kind": "power_cut", "due_date": "2021-12-01",
        "reason": "越界"}),
    ("POST", "/cases/{case_no}/reveal-contact"): _form(
        lambda a: {"receipt_code": a.receipt_code, "reason": "越界"}),
    ("POST", "/measures/{case_no}/complete"): _form(lambda a: {"kind": "power_cut"}),
    ("POST", "/api/v1/measures/{case_no}/complete"): _json(lambda a: {"kind": "power_cut"}),
    ("POST", "/surcharge/{account_no}/bills"): _form(lambda a: {
        "period_start": "2021-11-01", "period_end": "2021-11-30", "metered_kwh": "300000",
        "due_date": "2021-12-15"}),
    ("POST", "/surcharge/{account_no}/payments"): _form(
        lambda a: {"paid_date": "2021-11-20", "amount_yuan": "100.00"}),
    ("POST", "/api/v1/surcharge/{account_no}/bills"): _json(lambda a: {
        "periods": [{"period_start": "2021-11-01", "period_end": "2021-11-30",
                     "metered_wh": 300_000_000}], "due_date": "2021-12-15"}),
    ("POST", "/api/v1/surcharge/{account_no}/payments"): _json(
        lambda a: {"paid_date": "2021-11-20", "amount_fen": 10000}),
    ("POST", "/credit/commitments/{commitment_id}/withdraw"): _form(
        lambda a: {"reason": "越界", "effective": "2021-11-01"}),
    ("POST", "/credit/{record_no}/revoke"): _form(lambda a: {"reason": "越界"}),
    ("POST", "/credit/{record_no}/correct"): _form(
        lambda a: {"reason": "越界", "facts": "越界更正", "restriction": "越界"}),
    ("POST", "/api/v1/credit/commitments/{commitment_id}/withdraw"): _json(
        lambda a: {"reason": "越界", "effective": "2021-11-01"}),
    ("POST", "/api/v1/credit/records/{record_no}/revoke"): _json(lambda a: {"reason": "越界"}),
    ("POST", "/api/v1/credit/records/{record_no}/correct"): _json(
        lambda a: {"reason": "越界", "facts": "越界更正"}),
    ("POST", "/api/v1/inspections/{draw_no}/draw"): _json(lambda a: {"seed_text": "01 02 03"}),
    ("POST", "/api/v1/inspections/{draw_no}/verify"): _json(lambda a: None),
    ("POST", "/api/v1/inspections/{draw_no}/results"): _json(lambda a: {
        "target_id": f"BZ-{a.place.tag}-01", "inspected_on": "2021-10-20",
        "outcome": "compliant"}),
    ("POST", "/api/v1/inspections/{draw_no}/publish"): _json(lambda a: None),
    ("POST", "/inspections/{draw_no}/draw"): _form(lambda a: {"seed_text": "01 02 03"}),
    ("POST", "/inspections/{draw_no}/verify"): _form(lambda a: {}),
    ("POST", "/inspections/{draw_no}/results"): _form(lambda a: {
        "target_id": f"BZ-{a.place.tag}-01", "inspected_on": "2021-10-20",
        "outcome": "compliant"}),
    ("POST", "/inspections/{draw_no}/publish"): _form(lambda a: {}),
    ("PATCH", "/api/v1/admin/users/{username}"): _json(
        lambda a: {"display_name": "越界", "active": False}),
    ("DELETE", "/api/v1/admin/keys/{key_id}"): _json(lambda a: None),
    ("POST", "/admin/users/{username}/access"): _form(
        lambda a: {"display_name": "越界", "role": "county", "region_code": a.code}),
    ("POST", "/admin/users/{username}/deactivate"): _form(lambda a: {}),
    ("POST", "/admin/users/{username}/reactivate"): _form(lambda a: {}),
    ("POST", "/admin/users/{username}/password"): _form(
        lambda a: {"password": "a brand new passphrase"}),
    ("POST", "/admin/keys/{key_id}/revoke"): _form(lambda a: {}),
    # writes that name the record (or its region) in the body
    ("POST", "/credit/breach"): _form(lambda a: {"case_no": a.case_no}),
    ("POST", "/api/v1/credit/records"): _json(lambda a: {"case_no": a.case_no}),
    ("POST", "/api/v1/projects"): _json(lambda a: {
        **_ENTRY, "region_code": a.code, "enterprise_uscc": a.uscc}),
    ("POST", "/api/v1/leads"): _json(lambda a: {"leads": [{
        "source": "meters", "subject": "越界-1", "score": 0.9, "category": "mining",
        "reasons": "meters.test", "region_code": a.code, "account_no": "9999000011112"}]}),
    ("POST", "/api/v1/admin/users"): _json(lambda a: {
        "username": "yuejie", "password": "a brand new passphrase", "display_name": "越界",
        "role": "county", "region_code": a.code}),
    ("POST", "/api/v1/admin/keys"): _json(lambda a: {
        "name": "越界系统", "role": "county", "region_code": a.code}),
    ("POST", "/admin/users"): _form(lambda a: {
        "username": "yuejie", "password": "a brand new passphrase", "display_name": "越界",
        "role": "county", "region_code": a.code}),
    ("POST", "/admin/keys"): _form(lambda a: {
        "name": "越界系统", "role": "county", "region_code": a.code}),
    ("POST", "/api/v1/credit/commitments"): _json(lambda a: {
        "uscc": a.uscc, "text_version": "2025-01", "text": "本企业郑重承诺……",
        "signed_date": "2025-01-01", "valid_until": "2026-01-01", "signatory": "越界",
        "document_name": "越界.pdf", "document_sha256": "ef" * 32}),
    ("POST", "/credit/commitments"): _form(lambda a: {
        "uscc": a.uscc, "text_version": "2025-01", "text": "本企业郑重承诺……",
        "signed_date": "2025-01-01", "valid_until": "2026-01-01", "signatory": "越界",
        "document_name": "越界.pdf", "document_sha256": "ef" * 32}),
    ("POST", "/api/v1/inspections"): _json(lambda a: {
        "region_code": a.code, "target_source": "ledger",
        "inspectors": [{"inspector_id": "ZF-YJ", "name": "越界检查员",
                        "region_code": a.place.neighbour, "agency": "发改"}],
        "parameters": {"draw_date": "2021-12-01", "target_count": 1,
                       "inspectors_per_target": 1},
        "seed_source_description": "越界开奖号码"}),
    ("POST", "/inspections"): lambda a: {
        "data": {"region_code": a.code, "target_source": "ledger", "size_rule": "count",
                 "target_count": "1", "inspectors_per_target": "1", "draw_date": "2021-12-01",
                 "seed_source_description": "越界开奖号码"},
        "files": {"inspectors_file": (
            "inspectors.csv",
            f"inspector_id,name,region_code,agency\nZF-YJ,越界检查员,{a.place.neighbour},发改\n"
            .encode(), "text/csv")}},
}  # fmt: skip
"""A plausible body for every write addressing a record: valid but for the region."""

BODY_ADDRESSED = frozenset({
    ("POST", "/credit/breach"), ("POST", "/api/v1/credit/records"), ("POST", "/api/v1/projects"),
    ("POST", "/api/v1/leads"), ("POST", "/api/v1/admin/users"), ("POST", "/api/v1/admin/keys"),
    ("POST", "/admin/users"), ("POST", "/admin/keys"), ("POST", "/api/v1/credit/commitments"),
    ("POST", "/credit/commitments"), ("POST", "/api/v1/inspections"), ("POST", "/inspections"),
})  # fmt: skip
"""Writes without a record in the path that name one, or its region, in the body."""


STALE_FORM = "页面已过期"
"""The CSRF refusal: a write refused for it never reached the region check."""


def _invalid_body(reply: httpx.Response) -> bool:
    """Refused by the request's validation (a body the matrix got wrong), not by a rule."""
    if reply.status_code != 422 or not reply.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return False
    detail = reply.json().get("detail")
    return isinstance(detail, list) and any(
        isinstance(d, dict) and d.get("type") in VALIDATION_TYPES for d in detail
    )


VALIDATION_TYPES = frozenset({"missing", "enum", "extra_forbidden", "string_type", "int_type",
                              "date_from_datetime_parsing", "date_parsing", "json_invalid",
                              "model_attributes_type", "list_type", "dict_type"})  # fmt: skip


def test_writes_outside_the_region_are_refused_and_leave_no_trace(matrix: Matrix) -> None:
    findings = Findings()
    world = matrix.world
    routes = [r for r in _writes(matrix) if r.record_params or _body_addressed(r)]
    for route in routes:
        make = BODIES[(route.method, route.path)]
        for arena in world.arenas:
            fills = [{p: RECORD_PARAMS[p](arena) for p in route.record_params}]
            for p in route.path_params:
                if p in OTHER_PARAMS:
                    fills = [{**f, p: v} for f in fills for v in OTHER_PARAMS[p]]
            for values in fills:
                url = _fill(route.path, values)
                for who in matrix.identities:
                    if who.actor.covers(arena.code):
                        continue
                    request = make(arena)
                    if not route.is_api:
                        request = {**request,
                                   "data": {CSRF_FIELD: who.csrf, **request["data"]}}  # fmt: skip
                    before = matrix.head()
                    reply = who.client.request(route.method, url, follow_redirects=False,
                                               **request)  # fmt: skip
                    findings.calls += 1
                    call = f"{route.method} {url}"
                    if not 400 <= reply.status_code < 500:
                        findings.problems.append(f"WRITE {who} {call} → {reply.status_code}")
                    if STALE_FORM in reply.text or _invalid_body(reply):
                        findings.problems.append(
                            f"BODY {who} {call}: refused for its form or "
                            f"body, not its region: {reply.text[:200]}"
                        )
                    if matrix.head() != before:
                        findings.problems.append(f"AUDIT {who} {call} moved the audit chain")
                    findings.leaks(who, world, call, reply.status_code, reply.content)
    assert findings.calls > 500
    findings.check()


def test_an_enterprise_registered_here_breaching_elsewhere_is_told_not_shown(
    matrix: Matrix,
) -> None:
    """五华's visiting case has an enterprise of 石棉: 石棉 sees the commitment breached, by a
    record of another region, never that record's or case's number."""
    shimian = next(i for i in matrix.identities if i.actor.name == "shimian" and i.via == "user")
    wuhua = matrix.world.arenas[2]
    rows = shimian.client.get("/api/v1/credit/commitments", params={"status": "breached"}).json()
    reasons = [c["status_reason"] for c in rows["items"]]
    assert OUTSIDE_RECORD in reasons, reasons
    page = shimian.client.get("/credit/commitments").text
    assert OUTSIDE_RECORD in page
    assert wuhua.visiting_case_no not in page
    nation = next(i for i in matrix.identities if i.actor.region == NATION and i.via == "user")
    told = nation.client.get("/api/v1/credit/commitments", params={"status": "breached"}).json()
    assert f"credit record {wuhua.visiting_record_no}" in [c["status_reason"] for c in
                                                            told["items"]]  # fmt: skip


def test_the_matrix_covers_every_actor_and_arena(matrix: Matrix) -> None:
    roles = {i.actor.role for i in matrix.identities}
    assert roles == set(Role)
    assert {i.via for i in matrix.identities} == {"user", "key"}
    assert len(matrix.identities) == 2 * len(ACTORS) - 1
    assert {a.code for a in matrix.world.arenas} == {"511824", "511823", "530102"}
