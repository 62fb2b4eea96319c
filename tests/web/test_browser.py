"""End to end in headless Chromium: the walks a user takes through the pages.

- Leads pushed by a grid company's and an ISP's systems become a case; a province official
  signs in to the drawn dashboard, finds the case, reads its evidence and assigns it; the county
  official signs in and takes it through the check, the decision and the measures to cleared;
  the case page shows the stage and the timeline at each step, and reads in English.
- A member of the public reports a site and follows the report by its code.

Screenshots of the key steps go to the test's directory (and to ``$MINEWATCH_E2E_SCREENSHOTS``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from browser import chromium_page, live_server, screenshot
from casework_leads import network_lead, scanned_meter_lead, scanned_plant_lead
from conftest import make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.domain.leads.service import LeadData
from webclient import PASSWORD

PROVINCE = "省发改委 王敏"
COUNTY = "石棉县发改局 李强"
ENTERPRISE = make_uscc(7)


@pytest.fixture
def sqlite_only(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("the browser walks run once, on the embedded database")
    return engine


@dataclasses.dataclass(frozen=True)
class Walk:
    """The live server, the browser's page and where its screenshots go."""

    base: str
    page: Any
    shots: Path

    def shot(self, name: str) -> None:
        screenshot(self.page, self.shots, name)


@pytest.fixture
def walk(sqlite_only: Engine, tmp_path: Path) -> Iterator[Walk]:
    """A live server and a page; a script error, a console error or a failed request on any
    page of the walk fails it."""
    with live_server(sqlite_only) as base, chromium_page(tmp_path) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(f"script: {error}"))
        page.on("console", lambda m: errors.append(f"console: {m.text} {m.location}")
                if m.type == "error" else None)  # fmt: skip
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)  # fmt: skip
        yield Walk(base, page, tmp_path)
        assert errors == []


@pytest.fixture
def keys(sqlite_only: Engine) -> dict[str, str]:
    """A province and a county official; the keys of a grid company's and an ISP's systems."""
    with session_scope(sqlite_only) as session:
        create_user(session, "sichuan", PASSWORD, display_name=PROVINCE,
                    role=Role.PROVINCIAL, region_code="510000", actor="admin")  # fmt: skip
        create_user(session, "shimian", PASSWORD, display_name=COUNTY,
                    role=Role.COUNTY, region_code="511824", actor="admin")  # fmt: skip
        return {
            "grid": issue_key(session, "国网雅安供电公司", role=Role.GRID_ANALYST,
                              region_code="511800", actor="admin").token,
            "isp": issue_key(session, "中国电信四川分公司", role=Role.GRID_ANALYST,
                             region_code="510000", actor="admin").token,
        }  # fmt: skip


def _pushed(lead: LeadData) -> dict[str, Any]:
    """A lead as a source system sends it to ``POST /api/v1/leads``."""
    item = {f.name: getattr(lead, f.name) for f in dataclasses.fields(lead)}
    del item["uscc_source"]  # the service's own note, not part of the pushed shape
    del item["asset_key"]  # placed on a unit's server by the platform, not by the source
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in item.items()}


def _push(walk: Walk, key: str, leads: list[LeadData]) -> list[str]:
    """Push ``leads`` as a system holding ``key`` does; the cases they reached."""
    reply = httpx.post(
        f"{walk.base}/api/v1/leads",
        json={"leads": [_pushed(lead) for lead in leads]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 201, reply.text
    return [case["case_no"] for case in reply.json()["cases"]]


def _sign_in(walk: Walk, username: str) -> None:
    page = walk.page
    page.goto(f"{walk.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard")


def _sign_out(walk: Walk) -> None:
    walk.page.click("header .who form button")
    walk.page.wait_for_url(re.compile(r"/login"))


def _drawn(page: Any, selector: str) -> dict[str, Any]:
    """Wait for ECharts to draw into ``selector``; its canvas's size and the chart's option."""
    page.wait_for_selector(f"{selector} canvas")
    page.wait_for_function(
        """s => { const el = document.querySelector(s), c = el && el.querySelector('canvas');
                  return c && c.width > 0 && c.height > 0 && echarts.getInstanceByDom(el); }""",
        arg=selector,
    )
    drawn: dict[str, Any] = page.evaluate(
        """s => { const el = document.querySelector(s), c = el.querySelector('canvas');
                  return { width: c.width, height: c.height,
                           option: echarts.getInstanceByDom(el).getOption() }; }""",
        selector,
    )
    return drawn


def _stage(page: Any) -> str:
    return str(page.inner_text("h1 .stage")).strip()


def _act(walk: Walk, action: str, fill: dict[str, Any] | None = None) -> None:
    """Take ``action`` through its form on the case page and wait for the page to say so."""
    page = walk.page
    section = page.locator(f"#action-{action}")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    form = section.locator("form")
    for selector, value in (fill or {}).items():
        field = form.locator(selector).first
        if isinstance(value, bool):
            field.check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**done={action}")
    assert page.locator("p.error").count() == 0, page.inner_text("p.error")
    assert "已办理" in page.inner_text("p.notice")


def _timeline(page: Any) -> list[tuple[str, str]]:
    """(who, what) of each row of the case's timeline, oldest first."""
    rows: list[list[str]] = page.eval_on_selector_all(
        "section.history tbody tr",
        "rows => rows.map(r => [r.cells[1].innerText.trim(), r.cells[2].innerText.trim()])",
    )
    return [(who, what) for who, what in rows]


def test_a_case_is_walked_from_its_leads_to_cleared(walk: Walk, keys: dict[str, str]) -> None:
    page, base = walk.page, walk.base
    meter = dataclasses.replace(scanned_meter_lead(), address="四川省雅安市石棉县美罗镇9号厂房")
    start = meter.evidence["series"]["start_date"]
    assert start
    # the grid company's system pushes a meter lead with its load curve and a plant's shortfall;
    # the ISP's pushes the miners' flows traced to the same enterprise: one case
    (case_no,) = _push(
        walk, keys["grid"], [meter, dataclasses.replace(scanned_plant_lead(), uscc=ENTERPRISE)]
    )
    assert _push(walk, keys["isp"], [dataclasses.replace(network_lead(), uscc=ENTERPRISE)]) == [
        case_no
    ]

    # the province signs in and lands on the dashboard: the map of its prefectures and the trend
    with page.expect_response(re.compile(r"/api/v1/dashboard/map\?")) as answer:
        _sign_in(walk, "sichuan")
    areas = {a["name"]: a for a in answer.value.json()["areas"]}
    assert areas["雅安市"]["open_cases"] == 1
    drawn_map = _drawn(page, "#dash-map")
    assert drawn_map["width"] > 300
    assert drawn_map["height"] > 200
    (series,) = drawn_map["option"]["series"]
    assert {d["name"]: d["value"] for d in series["data"]}["雅安市"] == 1
    trend = _drawn(page, "#dash-trend")
    assert trend["width"] > 300
    assert sum(trend["option"]["series"][0]["data"]) == 1  # the case opened this week
    assert "在办案件" in page.inner_text(".figures")
    walk.shot("01-dashboard")

    # the case list narrows in place (HTMX) as a filter changes
    page.click("nav.main a[href='/cases']")
    page.wait_for_url("**/cases")
    assert case_no in page.inner_text("#case-table")
    page.select_option("select[name=source]", "report")
    page.wait_for_function("!document.querySelector('#case-table table')")
    page.select_option("select[name=source]", "plants")
    page.wait_for_url("**source=plants**")
    assert case_no in page.inner_text("#case-table")
    walk.shot("02-case-list")

    # the case page draws the evidence: the load curve marked where mining began
    page.click(f"#case-table a[href='/cases/{case_no}']")
    page.wait_for_url(f"**/cases/{case_no}")
    assert _stage(page) == "待分派"
    load = _drawn(page, ".chart-meter-load")
    (marked,) = load["option"]["series"][0]["markLine"]["data"]
    assert marked["xAxis"] == start
    assert start in load["option"]["xAxis"][0]["data"]
    _drawn(page, ".chart-meter-profile")
    _drawn(page, ".chart-plant-weekly")
    assert "farm7wallet" in page.inner_text("table.flows")
    walk.shot("03-case-open")
    _act(walk, "assign", {"select[name=county_code]": "511824"})
    assert _stage(page) == "待核查"
    assert "石棉县" in page.inner_text("section.summary")
    # no check for the province: it may reassign, or dismiss, only
    assert page.eval_on_selector_all("details.action", "ds => ds.map(d => d.id)") == [
        "action-assign",
        "action-dismiss",
    ]

    # the county official signs in, finds the case and takes it to cleared
    _sign_out(walk)
    _sign_in(walk, "shimian")
    page.goto(f"{base}/cases/{case_no}")
    _act(walk, "check", {
        "input[name=inspectors]": "赵刚，孙丽",
        "select[name=outcome]": "mining_found",
        "input[name=rig_model]": "Antminer S19 Pro",
        "input[name=rig_count]": "33",
        "input[name=mining_kw_observed]": "107.5",
    })  # fmt: skip
    assert _stage(page) == "待认定"
    assert "Antminer S19 Pro × 33" in page.inner_text("section.checks")
    walk.shot("04-case-checked")
    _act(walk, "confirm")
    assert _stage(page) == "已认定"
    _act(walk, "order_measures", {
        "input[name=kind][value=power_cut]": True,
        "input[name=kind][value=surcharge]": True,
    })  # fmt: skip
    assert _stage(page) == "处置中"
    assert page.locator("section.measures tr.measure-ordered").count() == 2
    walk.shot("05-case-measures-ordered")
    _act(walk, "complete_measure", {"select[name=kind]": "power_cut"})
    assert _stage(page) == "处置中"
    _act(walk, "complete_measure", {"select[name=kind]": "surcharge"})
    assert _stage(page) == "措施已落实"
    assert page.locator("section.measures tr.measure-completed").count() == 2
    _act(walk, "clear")
    assert _stage(page) == "已整治"
    links = page.inner_text("section.links")
    assert "未进入台账" not in links  # confirming put the project in the ledger
    walk.shot("06-case-cleared")

    timeline = _timeline(page)
    province = f"{PROVINCE} (sichuan)"
    county = f"{COUNTY} (shimian)"
    assert [what for who, what in timeline if who == province] == ["分派"]
    assert [what for who, what in timeline if who == county] == [
        "录入核查结果", "认定属实", "下达处置措施", "措施落实", "措施全部落实", "整治销号",
    ]  # fmt: skip
    assert timeline[0][1] == "立案"

    # the same page in English
    page.click("header .who a:text('English')")
    page.wait_for_url("**lang=en**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert _stage(page) == "Cleared"
    assert "Power cut" in page.inner_text("section.measures")
    walk.shot("07-case-cleared-en")


def test_a_reporter_submits_and_follows_a_report(walk: Walk) -> None:
    page, base = walk.page, walk.base
    page.goto(f"{base}/report")
    page.fill("textarea[name=address]", "四川省雅安市石棉县美罗镇老街后面的旧厂房")
    page.fill("input[name=enterprise]", "某某数据科技有限公司")
    page.fill("textarea[name=observed]", "夜里风扇声音很大，新装了两台变压器")
    page.fill("input[name=power_use]", "每月电费很高")
    page.fill("input[name=contact]", "13800000000")
    walk.shot("11-report-form")
    page.click("button[type=submit]")
    code = page.inner_text("#receipt-code").strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4})+", code), code
    walk.shot("12-report-receipt")
    page.goto(f"{base}/report/status")  # as the reporter, later, holding the code
    page.fill("input[name=code]", code.lower().replace("-", " "))
    page.click("main button")
    body = page.inner_text("main")
    assert code in body
    assert "受理日期" in body
    assert "办理进度" in body
    assert "13800000000" not in page.content()
    walk.shot("13-report-status")
