"""End to end in headless Chromium: a county official finds a case, reads its evidence, acts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from browser import chromium_page, live_server, screenshot
from casework_leads import network_lead, scanned_meter_lead, scanned_plant_lead
from conftest import make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.service import Actor, assign, fuse_leads
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import session_scope
from minewatch.domain.leads.service import record_leads

PASSWORD = "correct horse battery"


@pytest.fixture
def sqlite_only(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("the browser walks run once, on the embedded database")
    return engine


def test_an_official_reads_the_evidence_and_records_the_check(
    sqlite_only: Engine, tmp_path: Path
) -> None:
    uscc = make_uscc(7)
    leads = [
        scanned_meter_lead(),
        dataclasses.replace(network_lead(), uscc=uscc),
        dataclasses.replace(scanned_plant_lead(), uscc=uscc),
    ]
    with session_scope(sqlite_only) as session:
        create_user(session, "shimian", PASSWORD, display_name="石棉县发改局 李强",
                    role=Role.COUNTY, region_code="511824", actor="admin")  # fmt: skip
        record_leads(session, leads, actor="analyst")
        fuse_leads(session, actor="analyst")
        case_no = session.scalars(select(Case.case_no)).one()
        assign(session, case_no, "511824", actor=Actor("省发改委", Role.PROVINCIAL, "510000"))
    with live_server(sqlite_only) as base, chromium_page(tmp_path) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "shimian")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/dashboard")
        page.click("nav.main a[href='/cases']")
        page.wait_for_url("**/cases")
        # the list narrows in place (HTMX) as a filter changes
        page.select_option("select[name=source]", "plants")
        page.wait_for_url("**source=plants**")
        assert case_no in page.inner_text("#case-table")
        page.select_option("select[name=source]", "report")
        page.wait_for_function("!document.querySelector('#case-table table')")
        assert case_no not in page.inner_text("#case-table")
        screenshot(page, tmp_path, "case-list")
        page.goto(f"{base}/cases/{case_no}")
        # the charts are drawn from the evidence the scans recorded
        page.wait_for_selector(".chart-meter-load canvas")
        page.wait_for_selector(".chart-meter-profile canvas")
        page.wait_for_selector(".chart-plant-weekly canvas")
        assert "farm7wallet" in page.inner_text("table.flows")
        screenshot(page, tmp_path, "case-page")
        form = page.locator("#action-check form")
        form.locator("input[name=inspectors]").fill("赵刚，孙丽")
        form.locator("select[name=outcome]").select_option("mining_found")
        form.locator("input[name=rig_model]").first.fill("Antminer S19 Pro")
        form.locator("input[name=rig_count]").first.fill("33")
        form.locator("input[name=mining_kw_observed]").fill("107.5")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**done=check")
        assert "已办理" in page.inner_text("p.notice")
        assert "Antminer S19 Pro × 33" in page.inner_text("section.checks")
        page.locator("#action-confirm button[type=submit]").click()
        page.wait_for_url("**done=confirm")
        screenshot(page, tmp_path, "case-confirmed")
        assert errors == []
    with session_scope(sqlite_only) as session:
        assert session.scalars(select(Case.status)).one() == CaseStatus.CONFIRMED
