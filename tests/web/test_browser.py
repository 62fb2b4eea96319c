"""End to end in headless Chromium: the public reports a site and follows it by code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from browser import chromium_page, live_server, screenshot


@pytest.fixture
def sqlite_only(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("the browser walks run once, on the embedded database")
    return engine


def test_a_reporter_submits_and_follows_a_report(sqlite_only: Engine, tmp_path: Path) -> None:
    with live_server(sqlite_only) as base, chromium_page(tmp_path) as page:
        page.goto(f"{base}/report")
        page.fill("textarea[name=address]", "四川省雅安市石棉县美罗镇老街后面的旧厂房")
        page.fill("input[name=enterprise]", "某某数据科技有限公司")
        page.fill("textarea[name=observed]", "夜里风扇声音很大，新装了两台变压器")
        page.fill("input[name=power_use]", "每月电费很高")
        page.fill("input[name=contact]", "13800000000")
        screenshot(page, tmp_path, "report-form")
        page.click("button[type=submit]")
        code = page.inner_text("#receipt-code").strip()
        assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4})+", code), code
        screenshot(page, tmp_path, "report-receipt")
        page.goto(f"{base}/report/status")  # as the reporter, later, holding the code
        page.fill("input[name=code]", code.lower().replace("-", " "))
        page.click("main button")
        body = page.inner_text("main")
        assert code in body
        assert "受理日期" in body
        assert "办理进度" in body
        assert "13800000000" not in page.content()
        screenshot(page, tmp_path, "report-status")
