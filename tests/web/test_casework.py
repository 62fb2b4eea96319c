"""Casework pages and API: the list, the case file with its evidence, every action from the page
and the API (refusals, stale versions, roles), leads pushed with a key, and jurisdiction."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from casework_leads import network_lead, scanned_meter_lead, scanned_plant_lead
from conftest import at, case_lead, make_open_case, make_uscc
from minewatch.domain.accounts.models import User
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case, CaseLead
from minewatch.domain.cases.service import Actor, fuse_leads
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import session_scope
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.reports.models import Channel
from minewatch.domain.reports.service import ContactVault, ReportData, submit_report, triage
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD, form_token

USERS = {
    "sichuan": (Role.PROVINCIAL, "510000"),
    "yaan": (Role.CITY, "511800"),
    "shimian": (Role.COUNTY, "511824"),
    "hanyuan": (Role.COUNTY, "511823"),
    "inspector": (Role.INSPECTOR, "511824"),
    "auditor": (Role.AUDITOR, "000000"),
}
TODAY = datetime.now(UTC).date()


# ---- evidence as the scans record it (computed once: no database involved)


@pytest.fixture(scope="module")
def meter_lead() -> LeadData:
    return scanned_meter_lead()


@pytest.fixture(scope="module")
def plant_lead() -> LeadData:
    return scanned_plant_lead()


# ---- the app and its users


@pytest.fixture
def app_engine(engine: Engine) -> Engine:
    """The database; each user of :data:`USERS` is made when a test first signs in as them."""
    return engine


def _client(engine: Engine, username: str | None = None) -> TestClient:
    client = TestClient(create_app(Settings(), engine=engine))
    if username is not None:
        with session_scope(engine) as session:
            if (
                username in USERS
                and session.scalar(select(User.id).where(User.username == username)) is None
            ):
                role, region = USERS[username]
                create_user(session, username, PASSWORD, display_name=username, role=role,
                            region_code=region, actor="admin")  # fmt: skip
        page = client.get("/login")
        token = form_token(page.text)
        reply = client.post(
            "/login",
            data={CSRF_FIELD: token, "username": username, "password": PASSWORD},
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
    return client


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def _post_action(
    client: TestClient, case_no: str, action: str, data: dict[str, Any] | None = None, **kw: Any
) -> Any:
    """Post an action's form as the page does (its CSRF token and the version it shows)."""
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 200, page.text
    shown = re.search(r'name="version" value="(\d+)"', page.text)  # no form: no version
    form = {CSRF_FIELD: form_token(page.text), **(data or {})}
    if shown is not None:
        form["version"] = shown.group(1)
    return client.post(
        f"/cases/{case_no}/actions/{action}", data=form, follow_redirects=False, **kw
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _case_events(session: Any) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "case")
    return int(session.scalar(query))


def _case_nos(session: Any) -> list[str]:
    return list(session.scalars(select(Case.case_no).order_by(Case.id)))


# ---- the list


def _many_cases(engine: Engine) -> dict[str, str]:
    """Cases in three counties of two prefectures, from different sources, by lead subject."""
    with session_scope(engine) as session:
        record_leads(
            session,
            [
                case_lead(
                    "meters",
                    "M1",
                    0.9,
                    account_no="5118240012345",
                    uscc=make_uscc(1),
                    address="四川省雅安市石棉县美罗镇1号厂房",
                ),
                case_lead("network", "N2", 0.5, uscc=make_uscc(2), customer_name="石棉县新源科技"),
                case_lead("plants", "P3", 0.7, region_code="511823", uscc=make_uscc(3)),
                case_lead(
                    "meters",
                    "M4",
                    0.6,
                    region_code="510104",
                    account_no="5101040000004",
                    uscc=make_uscc(4, "510104"),
                ),
            ],
            actor="analyst",
            at=at("2021-10-20"),
        )
        fuse_leads(session, actor="analyst", at=at("2021-10-20"))
        # the newest case: opened now, so not overdue
        record_leads(session, [case_lead("report", "R5", 0.3, uscc=make_uscc(5))], actor="analyst")
        fuse_leads(session, actor="analyst")
        rows = session.execute(
            select(Lead.subject, Case.case_no)
            .join(CaseLead, CaseLead.lead_id == Lead.id)
            .join(Case, Case.id == CaseLead.case_id)
        )
        return {subject: case_no for subject, case_no in rows}


def test_the_list_filters_sorts_and_pages_within_the_region(app_engine: Engine) -> None:
    cases = _many_cases(app_engine)
    province = _client(app_engine, "sichuan")

    def nos(**params: Any) -> list[str]:
        reply = province.get("/api/v1/cases", params=params)
        assert reply.status_code == 200, reply.text
        return [row["case_no"] for row in reply.json()["items"]]

    everything = province.get("/api/v1/cases").json()
    assert everything["total"] == 5
    assert nos() == [cases[s] for s in ("M1", "P3", "M4", "N2", "R5")]  # most confident first
    assert nos(source="plants") == [cases["P3"]]
    assert nos(source="meters") == [cases["M1"], cases["M4"]]
    assert nos(source="mete") == []  # a whole source name, not a part of one
    assert nos(region="510104") == [cases["M4"]]
    assert nos(region="511800") == [cases[s] for s in ("M1", "P3", "N2", "R5")]
    assert nos(region="320000") == []  # outside the caller's region: nothing
    assert nos(q="石棉县新源") == [cases["N2"]]  # the name a lead gives
    assert nos(q="0012345") == [cases["M1"]]  # the account
    assert nos(q="美罗镇1号") == [cases["M1"]]  # the address
    assert nos(q=make_uscc(3)) == [cases["P3"]]
    assert nos(q="MW510104") == [cases["M4"]]  # the case number
    assert nos(q="%") == []  # a wildcard is a character like any other
    assert nos(overdue="true") == [cases[s] for s in ("M1", "P3", "M4", "N2")]
    assert nos(status="assigned") == []
    assert len(nos(status=["open", "assigned"])) == 5
    assert nos(sort="newest")[0] == cases["R5"]
    assert nos(sort="case_no") == sorted(nos())
    first, second = nos(limit=2, offset=0), nos(limit=2, offset=2)
    assert first + second == nos()[:4]
    paged = province.get("/api/v1/cases", params={"limit": 2, "offset": 4}).json()
    assert (paged["total"], len(paged["items"]), paged["offset"]) == (5, 1, 4)
    assert province.get("/api/v1/cases", params={"status": "nonsense"}).status_code == 422
    assert province.get("/api/v1/cases", params={"limit": 0}).status_code == 422

    county = _client(app_engine, "shimian")
    mine = county.get("/api/v1/cases").json()
    assert [row["case_no"] for row in mine["items"]] == [cases[s] for s in ("M1", "N2", "R5")]
    page = county.get("/cases")
    assert page.status_code == 200
    assert cases["M1"] in page.text
    assert cases["P3"] not in page.text
    assert cases["M4"] not in page.text
    # the page takes the same filters; HTMX asks for the table alone
    assert cases["M1"] not in county.get("/cases", params={"source": "network"}).text
    table = county.get("/cases", params={"source": "network"}, headers={"HX-Request": "true"})
    assert table.status_code == 200
    assert "<html" not in table.text
    assert cases["N2"] in table.text
    assert cases["M1"] not in table.text
    assert "mw_csrf" not in table.headers.get("set-cookie", "")
    pages = county.get("/cases", params={"limit": 1}).text
    assert "offset=1" in pages


# ---- the case page


def test_the_case_page_shows_each_sources_evidence(
    app_engine: Engine, meter_lead: LeadData, plant_lead: LeadData
) -> None:
    uscc = make_uscc(7)
    network = dataclasses.replace(network_lead(), uscc=uscc)
    plant = dataclasses.replace(plant_lead, uscc=uscc)
    with session_scope(app_engine) as session:
        record_leads(session, [meter_lead, network, plant], actor="analyst")
        fuse_leads(session, actor="analyst")
        (case_no,) = _case_nos(session)
    county = _client(app_engine, "shimian")
    page = county.get(f"/cases/{case_no}")
    assert page.status_code == 200, page.text
    html = page.text
    # the meter's load curve, its start marked, drawn by the vendored ECharts
    assert "vendor/echarts.min.js" in html
    charts = [json.loads(_unescape(raw)) for raw in re.findall(r'data-chart="([^"]+)"', html)]
    kinds = {chart["kind"]: chart for chart in charts}
    assert set(kinds) == {"meter-load", "meter-profile", "plant-weekly"}
    series = meter_lead.evidence["series"]
    assert kinds["meter-load"]["daily_kwh"] == series["daily_kwh"]
    assert kinds["meter-load"]["start_date"] == series["start_date"]
    assert len(kinds["meter-load"]["dates"]) == len(series["daily_kwh"])
    assert len(kinds["meter-profile"]["after"]) == 24
    # the plant's weekly expected and delivered energy
    weekly = kinds["plant-weekly"]
    assert weekly["expected"] == plant_lead.evidence["series"]["expected_kwh"]
    assert weekly["period"] == plant_lead.evidence["period"]
    assert len(weekly["dates"]) == len(weekly["observed"])
    # the network flows, one row each
    assert "ss.antpool.com" in html
    assert "farm7wallet" in html
    assert "rig9" in html
    assert "203.0.113.50:3333" in html
    # the API carries the same evidence
    detail = county.get(f"/api/v1/cases/{case_no}").json()
    by_source = {lead["source"]: lead for lead in detail["leads"]}
    assert by_source["meters"]["evidence"]["series"]["daily_kwh"] == series["daily_kwh"]
    assert by_source["network"]["evidence"]["flow_rows"][0]["wallet"] == "farm7wallet"
    assert by_source["plants"]["evidence"]["series"]["bin_days"] == 7
    assert [event["action"] for event in detail["history"]] == [
        "open",
        "attach_lead",
        "attach_lead",
    ]
    assert detail["history"][0]["changes"]
    # English on request
    english = county.get(f"/cases/{case_no}?lang=en").text
    assert "Leads and evidence" in english
    assert "Daily energy (kWh)" in _unescape(english)


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def test_a_report_lead_shows_its_text_and_only_the_handling_county_reads_the_contact(
    app_engine: Engine,
) -> None:
    vault = ContactVault(Settings().secret_key.get_secret_value())
    with session_scope(app_engine) as session:
        report = submit_report(
            session,
            ReportData(
                Channel.WEB,
                "四川省雅安市石棉县美罗镇8号厂房",
                "夜里风扇声很大，新装了变压器",
                contact="13800138000",
            ),
            vault=vault,
        )
        triage(
            session,
            report.receipt_code,
            "511824",
            actor=Actor("省发改委", Role.PROVINCIAL, "510000"),
        )
        (case_no,) = _case_nos(session)
        code = report.receipt_code
    province = _client(app_engine, "sichuan")
    page = province.get(f"/cases/{case_no}").text
    assert "夜里风扇声很大" in page
    assert "13800138000" not in page
    assert "reveal-contact" not in page  # only the county official of the handling county
    assert "13800138000" not in province.get(f"/api/v1/cases/{case_no}").text
    county = _client(app_engine, "shimian")
    page = county.get(f"/cases/{case_no}")
    assert "reveal-contact" in page.text
    form = {CSRF_FIELD: form_token(page.text), "receipt_code": code, "reason": "回访核实"}
    revealed = county.post(f"/cases/{case_no}/reveal-contact", data=form)
    assert revealed.status_code == 200
    assert "13800138000" in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    with session_scope(app_engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reveal_contact")
        ).all()
    assert [(e.entity_id, e.reason) for e in events] == [(code, "回访核实")]
    assert "shimian" in events[0].actor
    # the province's official is refused by the page and the service alike
    page = province.get(f"/cases/{case_no}")
    refused = province.post(
        f"/cases/{case_no}/reveal-contact",
        data={CSRF_FIELD: form_token(page.text), "receipt_code": code, "reason": "x"},
    )
    assert refused.status_code == 403
    assert "13800138000" not in refused.text


# ---- actions from the page


def test_every_action_from_the_page_with_its_form(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
    province = _client(app_engine, "sichuan")
    inspector = _client(app_engine, "inspector")
    county = _client(app_engine, "shimian")

    def status() -> str:
        return str(province.get(f"/api/v1/cases/{case_no}").json()["status"])

    done = _post_action(province, case_no, "assign", {"county_code": "511824"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/cases/{case_no}?done=assign"
    assert "已办理" in province.get(done.headers["location"]).text
    assert status() == "assigned"
    check = {"checked_on": "2021-10-25", "inspectors": "赵刚、孙丽", "outcome": "mining_found",
             "rig_model": ["Antminer S19 Pro", "Whatsminer M30S", ""],
             "rig_count": ["100", "20", ""], "mining_kw_observed": "410",
             "notes": "厂房内矿机运行"}  # fmt: skip
    assert _post_action(inspector, case_no, "check", check).status_code == 303
    detail = province.get(f"/api/v1/cases/{case_no}").json()
    assert detail["checks"][0]["rigs"] == {"Antminer S19 Pro": 100, "Whatsminer M30S": 20}
    assert detail["checks"][0]["inspectors"] == ["赵刚", "孙丽"]
    assert detail["rigs_found"] == 120
    assert _post_action(county, case_no, "confirm").status_code == 303
    assert status() == "confirmed"
    due = (TODAY + timedelta(days=30)).isoformat()
    order = {"kind": ["power_cut", "closure"], "due_date": due, "note": "限期整改"}
    assert _post_action(county, case_no, "order_measures", order).status_code == 303
    assert status() == "measures_ordered"
    assert (
        _post_action(county, case_no, "complete_measure", {"kind": "power_cut"}).status_code == 303
    )
    assert status() == "measures_ordered"  # one of two
    assert _post_action(county, case_no, "complete_measure", {"kind": "closure"}).status_code == 303
    assert status() == "measures_completed"
    assert _post_action(county, case_no, "clear").status_code == 303
    assert status() == "cleared"
    clean = {"checked_on": TODAY.isoformat(), "inspectors": "赵刚", "outcome": "no_mining"}
    assert _post_action(inspector, case_no, "recheck", clean).status_code == 303
    assert status() == "rechecked"
    page = county.get(f"/cases/{case_no}").text
    for label in (
        "分派",
        "录入核查结果",
        "认定属实",
        "下达处置措施",
        "措施落实",
        "整治销号",
        "复查",
    ):
        assert label in page
    with session_scope(app_engine) as session:
        actions = session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.entity_type == "case", AuditEvent.action == "confirm"
            )
        ).all()
        assert verify_chain(session).ok
    assert actions == ["shimian (shimian)"]


def test_dismiss_and_reopen_from_the_page(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
    county = _client(app_engine, "shimian")
    province = _client(app_engine, "sichuan")
    missing = _post_action(county, case_no, "dismiss", {"reason": ""})
    assert missing.status_code == 422  # a dismissal needs its reason
    assert _post_action(county, case_no, "dismiss", {"reason": "现场为数据中心"}).status_code == 303
    detail = province.get(f"/api/v1/cases/{case_no}").json()
    assert detail["status"] == "dismissed"
    assert detail["dismissed_reason"] == "现场为数据中心"
    assert {lead["status"] for lead in detail["leads"]} == {"dismissed"}
    assert _post_action(province, case_no, "reopen", {"reason": "新的举报"}).status_code == 303
    assert province.get(f"/api/v1/cases/{case_no}").json()["status"] == "open"


def test_refusals_on_the_page_keep_nothing(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
        events = _case_events(session)
    county = _client(app_engine, "shimian")
    # a county does not assign: 403 with a message on the page
    wrong_role = _post_action(county, case_no, "assign", {"county_code": "511824"})
    assert wrong_role.status_code == 403
    assert "无权办理" in wrong_role.text
    # a confirmation before any check: refused in this stage, 409
    refused = _post_action(county, case_no, "confirm")
    assert refused.status_code == 409
    assert "无法办理" in refused.text
    # no CSRF token: 403
    page = county.get(f"/cases/{case_no}")
    forged = county.post(
        f"/cases/{case_no}/actions/dismiss", data={"version": _version(page.text), "reason": "x"}
    )
    assert forged.status_code == 403
    # an unknown action is not a route
    assert _post_action(county, case_no, "delete").status_code == 422
    # a stale version: someone else acted meanwhile
    province = _client(app_engine, "sichuan")
    page = county.get(f"/cases/{case_no}")
    old_version = _version(page.text)
    assert _post_action(province, case_no, "assign", {"county_code": "511824"}).status_code == 303
    stale = county.post(
        f"/cases/{case_no}/actions/dismiss",
        data={CSRF_FIELD: form_token(page.text), "version": old_version, "reason": "数据中心"},
    )
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text
    # of all these, only the province's assignment was kept
    with session_scope(app_engine) as session:
        assert session.scalar(select(Case.status)) == CaseStatus.ASSIGNED
        assert _case_events(session) == events + 1
    # the auditor reads everything and acts on nothing
    auditor = _client(app_engine, "auditor")
    assert auditor.get(f"/cases/{case_no}").status_code == 200
    assert "可办理事项" in auditor.get(f"/cases/{case_no}").text
    for action in (
        "assign",
        "check",
        "confirm",
        "dismiss",
        "order_measures",
        "clear",
        "complete_measure",
        "recheck",
        "reopen",
    ):
        assert _post_action(auditor, case_no, action, {"reason": "x"}).status_code == 403
    for action, payload in (
        ("assign", {"county_code": "511824"}),
        ("confirm", {}),
        ("dismiss", {"reason": "x"}),
        ("clear", {}),
    ):
        reply = auditor.post(f"/api/v1/cases/{case_no}/actions/{action}", json=payload)
        assert reply.status_code == 403
        assert reply.json()["code"] == "forbidden"


def test_an_order_refused_midway_leaves_no_measure(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
    province, county = _client(app_engine, "sichuan"), _client(app_engine, "shimian")
    inspector = _client(app_engine, "inspector")
    _post_action(province, case_no, "assign", {"county_code": "511824"})
    _post_action(
        inspector,
        case_no,
        "check",
        {
            "checked_on": "2021-10-25",
            "inspectors": "赵刚",
            "outcome": "mining_found",
            "rig_model": "S19",
            "rig_count": "3",
        },
    )
    _post_action(county, case_no, "confirm")
    past = _post_action(
        county, case_no, "order_measures", {"kind": ["power_cut"], "due_date": "2020-01-01"}
    )
    assert past.status_code == 422
    detail = county.get(f"/api/v1/cases/{case_no}").json()
    assert detail["measures"] == []
    assert detail["status"] == "confirmed"


# ---- the API: a lead pushed by a grid company, walked to cleared


@pytest.fixture
def keys(app_engine: Engine) -> dict[str, str]:
    with session_scope(app_engine) as session:
        issued = {
            name: issue_key(session, label, role=role, region_code=region, actor="admin").token
            for name, label, role, region in (
                ("grid", "国网雅安供电公司", Role.GRID_ANALYST, "511800"),
                ("province", "省专班系统", Role.PROVINCIAL, "510000"),
                ("county", "石棉县系统", Role.COUNTY, "511824"),
                ("inspector", "石棉县检查终端", Role.INSPECTOR, "511824"),
                ("auditor", "审计系统", Role.AUDITOR, "000000"),
                ("other", "汉源县系统", Role.COUNTY, "511823"),
            )
        }
    return issued


def _pushed(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source": "meters", "subject": "5118240077", "score": 0.93, "reasons": "meters.flat_24x7",
        "region_code": "511824", "account_no": "5118240077", "uscc": make_uscc(11),
        "customer_name": "石棉县恒达数据科技有限公司", "address": "四川省雅安市石棉县新棉镇12号",
        "est_start_date": "2021-09-03", "est_mining_kw": 820.0, "est_rigs": 250,
        "evidence": {"valid_days": 28},
    }  # fmt: skip
    item.update(changes)
    return item


def test_a_pushed_lead_is_walked_to_cleared_through_the_api(
    app_engine: Engine, keys: dict[str, str]
) -> None:
    client = _client(app_engine)
    pushed = client.post(
        "/api/v1/leads", json={"leads": [_pushed()]}, headers=_bearer(keys["grid"])
    )
    assert pushed.status_code == 201, pushed.text
    body = pushed.json()
    assert (body["created"], body["opened"]) == (1, 1)
    (touched,) = body["cases"]
    assert touched["opened"]
    assert touched["items"] == [0]
    case_no = touched["case_no"]

    def act(who: str, action: str, payload: dict[str, Any]) -> Any:
        return client.post(
            f"/api/v1/cases/{case_no}/actions/{action}", json=payload, headers=_bearer(keys[who])
        )

    def ok(who: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = act(who, action, payload)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    detail = ok("province", "assign", {"county_code": "511824", "version": 1})
    assert detail["status"] == "assigned"
    assert detail["assigned_region_code"] == "511824"
    # a stale version is refused, and so is a step out of order
    stale = act("county", "dismiss", {"reason": "x", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert "version" in stale.json()["detail"]
    out_of_order = act("county", "clear", {})
    assert out_of_order.status_code == 409
    assert act("county", "assign", {"county_code": "511824"}).status_code == 403
    assert act("province", "assign", {"county_code": "320102"}).status_code == 409
    assert act("province", "assign", {"county_code": "5118"}).status_code == 422
    check = {"checked_on": "2021-10-25", "inspectors": ["赵刚"], "outcome": "mining_found",
             "rigs": {"Antminer S19": 250}, "mining_kw_observed": 812.5}  # fmt: skip
    assert act("inspector", "check", {**check, "rigs": {}}).status_code == 422  # count the rigs
    future = act("inspector", "check", {**check, "checked_on": "2999-01-01"})
    assert future.status_code == 422
    assert future.json()["detail"][0]["loc"][-1] == "checked_on"
    detail = ok("inspector", "check", {**check, "version": detail["version"]})
    detail = ok("county", "confirm", {"version": detail["version"]})
    assert detail["project"] is not None  # the enterprise and site were known: in the ledger
    assert detail["project"]["project_code"]
    due = (TODAY + timedelta(days=20)).isoformat()
    detail = ok(
        "county",
        "order_measures",
        {
            "measures": [
                {"kind": "power_cut", "due_date": due},
                {"kind": "surcharge", "due_date": due},
            ],
            "reason": "依通知第十二、十三条",
        },
    )
    assert [m["status"] for m in detail["measures"]] == ["ordered", "ordered"]
    stale = act("county", "complete_measure", {"kind": "power_cut", "version": 1})
    assert stale.status_code == 409  # one of several measures still checks the version
    detail = ok("county", "complete_measure", {"kind": "power_cut", "version": detail["version"]})
    detail = ok("county", "complete_measure", {"kind": "surcharge"})
    assert detail["status"] == "measures_completed"
    detail = ok("county", "clear", {"reason": "已拆除"})
    assert detail["status"] == "cleared"
    detail = ok(
        "inspector",
        "recheck",
        {"checked_on": TODAY.isoformat(), "inspectors": ["赵刚"], "outcome": "no_mining"},
    )
    assert detail["status"] == "rechecked"
    assert detail["next_actions"] == ["recheck"]  # dynamic zero: the site is re-checked again
    assert [e["action"] for e in detail["history"]] == [
        "open",
        "assign",
        "check",
        "confirm",
        "order_measures",
        "complete_measure",
        "complete_measures",
        "clear",
        "recheck",
    ]
    assert all(e["actor"].startswith("API key") for e in detail["history"])
    assert detail["history"][1]["changes"][0] == {"field": "status", "before": "open",
                                                  "after": "assigned"}  # fmt: skip
    with session_scope(app_engine) as session:
        assert verify_chain(session).ok


def test_leads_are_pushed_whole_and_scoped_to_the_keys_region(
    app_engine: Engine, keys: dict[str, str]
) -> None:
    client = _client(app_engine)
    grid = _bearer(keys["grid"])
    outside = client.post(
        "/api/v1/leads",
        headers=grid,
        json={
            "leads": [
                _pushed(),
                _pushed(subject="x2", account_no="x2", region_code="510104"),
            ]
        },
    )
    assert outside.status_code == 422
    assert outside.json()["code"] == "invalid"
    assert outside.json()["detail"][0]["loc"] == ["body", "leads", 1, "region_code"]
    invalid = client.post(
        "/api/v1/leads",
        headers=grid,
        json={
            "leads": [
                _pushed(),
                _pushed(subject="x3"),
                _pushed(subject="x4", uscc="91511824MA00000000"),
            ]
        },
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "leads", 2, "uscc"]
    twice = client.post("/api/v1/leads", headers=grid, json={"leads": [_pushed(), _pushed()]})
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", "leads", 1, "subject"]
    assert client.post("/api/v1/leads", headers=grid, json={"leads": []}).status_code == 422
    unknown = client.post(
        "/api/v1/leads", headers=grid, json={"leads": [_pushed(region_code="519999")]}
    )
    assert unknown.json()["detail"][0]["loc"][:4] == ["body", "leads", 0, "region_code"]
    with session_scope(app_engine) as session:  # nothing of the refused batches was kept
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    auditor = client.post(
        "/api/v1/leads", headers=_bearer(keys["auditor"]), json={"leads": [_pushed()]}
    )
    assert auditor.status_code == 403
    assert client.post("/api/v1/leads", json={"leads": [_pushed()]}).status_code == 401
    # a batch of two sites and a second lead on the first
    batch = [
        _pushed(),
        _pushed(source="network", subject="ip:61.139.8.17", account_no=None, score=0.8),
        _pushed(
            subject="5118240078",
            account_no="5118240078",
            uscc=make_uscc(12),
            address="四川省雅安市石棉县迎政乡3号",
            est_mining_kw=None,
        ),
    ]
    reply = client.post("/api/v1/leads", headers=grid, json={"leads": batch})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["created"], body["opened"], body["attached"]) == (3, 2, 1)
    assert sorted(c["items"] for c in body["cases"]) == [[0, 1], [2]]
    # the same batch again refreshes the leads and opens nothing
    again = client.post("/api/v1/leads", headers=grid, json={"leads": batch}).json()
    assert (again["created"], again["unchanged"], again["opened"]) == (0, 3, 0)
    assert len(again["cases"]) == 2
    # reading the leads: filters and regions
    leads = client.get("/api/v1/leads", headers=grid).json()
    assert leads["total"] == 3
    assert all(lead["case_no"] for lead in leads["items"])
    scores = [lead["score"] for lead in leads["items"]]
    assert scores == sorted(scores, reverse=True)
    assert (
        client.get("/api/v1/leads", headers=grid, params={"source": "network"}).json()["total"] == 1
    )
    assert client.get("/api/v1/leads", headers=grid, params={"min_score": 0.9}).json()["total"] == 2
    assert (
        client.get("/api/v1/leads", headers=grid, params={"status": "dismissed"}).json()["total"]
        == 0
    )
    other = client.get("/api/v1/leads", headers=_bearer(keys["other"])).json()
    assert other == {"items": [], "total": 0, "limit": 50, "offset": 0}


# ---- jurisdiction


def test_a_case_elsewhere_does_not_exist_for_the_caller(
    app_engine: Engine, keys: dict[str, str]
) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)  # 石棉县 511824
    hanyuan = _client(app_engine, "hanyuan")  # the neighbouring county
    for path in (f"/cases/{case_no}", f"/api/v1/cases/{case_no}"):
        reply = hanyuan.get(path)
        assert reply.status_code == 404
        assert case_no not in reply.text
    assert hanyuan.get("/api/v1/cases/MW0000002021999999").status_code == 404
    page = hanyuan.get("/cases")
    assert case_no not in page.text
    assert hanyuan.get("/api/v1/cases").json()["total"] == 0
    assert hanyuan.get("/api/v1/leads").json()["total"] == 0
    token = form_token(page.text)
    for action in ("dismiss", "confirm", "assign"):
        reply = hanyuan.post(
            f"/cases/{case_no}/actions/{action}",
            data={CSRF_FIELD: token, "version": "1", "reason": "x"},
        )
        assert reply.status_code == 404
        assert case_no not in reply.text
        token = form_token(reply.text)  # each page, the error page too, renews the token
    other = _bearer(keys["other"])
    client = _client(app_engine)
    for action, payload in (("dismiss", {"reason": "x"}), ("assign", {"county_code": "511823"})):
        reply = client.post(
            f"/api/v1/cases/{case_no}/actions/{action}", json=payload, headers=other
        )
        assert reply.status_code == 404
        assert reply.json() == {"detail": "case not found", "code": "not_found"}
    # the case and its leads are untouched
    with session_scope(app_engine) as session:
        assert session.scalar(select(Case.status)) == CaseStatus.OPEN
    # a city official of the prefecture sees it; the province may hand it on
    yaan = _client(app_engine, "yaan")
    assert yaan.get(f"/cases/{case_no}").status_code == 200
    assert "assign" in yaan.get(f"/api/v1/cases/{case_no}").json()["next_actions"]


def test_pages_need_a_sign_in_and_the_admin_reads_no_cases(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
        create_user(
            session,
            "root",
            PASSWORD,
            display_name="管理员",
            role=Role.ADMIN,
            region_code="000000",
            actor="admin",
        )
    anonymous = _client(app_engine)
    assert anonymous.get("/cases", follow_redirects=False).headers["location"] == "/login"
    assert anonymous.get(f"/cases/{case_no}", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/v1/leads").status_code == 401
    admin = _client(app_engine, "root")
    assert admin.get("/api/v1/cases").status_code == 403
    assert admin.get(f"/cases/{case_no}").status_code == 403


def test_the_cases_api_is_documented(app_engine: Engine) -> None:
    schema = _client(app_engine).get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_no}",
        "/api/v1/leads",
        "/api/v1/cases/{case_no}/actions/order_measures",
    ):
        assert path in paths
    post = paths["/api/v1/leads"]["post"]
    assert post["summary"]
    assert {"401", "403", "422"} <= set(post["responses"])
    assert date.today().year >= 2021


def test_a_missing_favicon_does_not_expire_the_forms_on_the_page(app_engine: Engine) -> None:
    """Browsers fetch /favicon.ico with every first page; its 404 page must keep the token."""
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
    province = _client(app_engine, "sichuan")
    page = province.get(f"/cases/{case_no}")
    assert province.get("/favicon.ico").status_code == 404
    form = {CSRF_FIELD: form_token(page.text), "version": _version(page.text),
            "county_code": "511824"}  # fmt: skip
    reply = province.post(f"/cases/{case_no}/actions/assign", data=form, follow_redirects=False)
    assert reply.status_code == 303


def test_a_nul_character_is_named_not_stored(app_engine: Engine, keys: dict[str, str]) -> None:
    """PostgreSQL cannot store a NUL in a text: the field is refused by name, on either backend."""
    with session_scope(app_engine) as session:
        case_no = make_open_case(session)
    client = _client(app_engine)
    pushed = client.post("/api/v1/leads", headers=_bearer(keys["grid"]),
                         json={"leads": [_pushed(), _pushed(subject="x\x00")]})  # fmt: skip
    assert pushed.status_code == 422
    assert pushed.json()["detail"][0]["loc"] == ["body", "leads", 1, "subject"]
    check = {"checked_on": "2021-10-25", "inspectors": ["赵\x00刚"], "outcome": "no_mining"}
    province = _bearer(keys["province"])
    client.post(f"/api/v1/cases/{case_no}/actions/assign", headers=province,
                json={"county_code": "511824"})  # fmt: skip
    reply = client.post(f"/api/v1/cases/{case_no}/actions/check", json=check,
                        headers=_bearer(keys["inspector"]))  # fmt: skip
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][:2] == ["body", "inspectors"]
    # nor does JSON carry a number that is not finite
    infinite = '{"leads": [{"source": "meters", "subject": "m", "score": 0.5, "reasons": "x", '
    infinite += '"region_code": "511824", "evidence": {"kw": NaN}, "est_hashrate_ths": Infinity}]}'
    headers = {**_bearer(keys["grid"]), "Content-Type": "application/json"}
    reply = client.post("/api/v1/leads", headers=headers, content=infinite)
    assert reply.status_code == 422
    assert {tuple(e["loc"][3:4]) for e in reply.json()["detail"]} == {
        ("evidence",), ("est_hashrate_ths",),
    }  # fmt: skip
    rigs = {**check, "inspectors": ["赵刚"], "outcome": "mining_found", "rigs": {"S\x0019": 3}}
    reply = client.post(f"/api/v1/cases/{case_no}/actions/check", json=rigs,
                        headers=_bearer(keys["inspector"]))  # fmt: skip
    assert reply.status_code == 422
