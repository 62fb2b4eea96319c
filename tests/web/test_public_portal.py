"""The public reporting portal: form, CSRF, receipt, status by code, rate limit, JSON API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.security import CSRF_FIELD, RateLimit

ADDRESS = "四川省雅安市石棉县美罗镇工业园区3号厂房"


@pytest.fixture
def client(engine: Engine) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine, report_limit=3))


def _token(client: TestClient, path: str = "/report") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_a_report_through_the_form_gets_a_code_that_shows_its_progress(
    client: TestClient, engine: Engine
) -> None:
    page = client.get("/report")
    assert "虚拟货币“挖矿”活动举报" in page.text
    token = _token(client)
    form = {CSRF_FIELD: token, "address": ADDRESS, "observed": "昼夜风扇轰鸣",
            "contact": "13800001234"}  # fmt: skip
    posted = client.post("/report", data=form)
    assert posted.status_code == 200
    found = re.search(r'id="receipt-code">([0-9A-Z-]+)<', posted.text)
    assert found is not None
    code = found.group(1)
    status = client.get("/report/status", params={"code": code.lower()})
    assert status.status_code == 200
    assert "已收到，待分派" in status.text
    assert "13800001234" not in status.text
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT contact_ciphertext, region_code FROM public_report")
        )
        ciphertext, region = stored.one()
    assert "13800001234" not in ciphertext
    assert region == "511824"
    assert client.get("/report/status", params={"code": "0000-0000-0000"}).status_code == 404
    english = client.get("/report", params={"lang": "en"})
    assert "Report crypto-mining" in english.text


def test_a_post_without_the_pages_token_is_refused(client: TestClient) -> None:
    refused = client.post("/report", data={CSRF_FIELD: "forged", "address": ADDRESS,
                                           "observed": "噪音"})  # fmt: skip
    assert refused.status_code == 403
    assert "页面已过期" in refused.text
    missing = client.post("/report", data={"address": ADDRESS, "observed": "噪音"})
    assert missing.status_code == 403


def test_bad_input_is_returned_with_the_reason_and_the_values(client: TestClient) -> None:
    token = _token(client)
    page = client.post("/report", data={CSRF_FIELD: token, "address": ADDRESS, "observed": " "})
    assert page.status_code == 422
    assert "what was seen or heard is required" in page.text
    assert ADDRESS in page.text  # kept for the reporter to correct


def test_reports_are_rate_limited_per_client(client: TestClient) -> None:
    for _ in range(3):
        token = _token(client)
        ok = client.post(
            "/report", data={CSRF_FIELD: token, "address": ADDRESS, "observed": "噪音"}
        )
        assert ok.status_code == 200
    token = _token(client)
    late = client.post("/report", data={CSRF_FIELD: token, "address": ADDRESS, "observed": "噪音"})
    assert late.status_code == 429
    api = client.post("/api/v1/reports", json={"address": ADDRESS, "observed": "噪音"})
    assert api.status_code == 429


def test_the_json_api_and_its_schema(client: TestClient) -> None:
    made = client.post("/api/v1/reports", json={"address": ADDRESS, "observed": "变压器嗡嗡响"})
    assert made.status_code == 201
    code = made.json()["receipt_code"]
    shown = client.get(f"/api/v1/reports/{code}")
    assert shown.status_code == 200
    assert shown.json()["status"] == "received"
    assert "contact" not in shown.json()
    assert client.get("/api/v1/reports/0000-0000-0000").status_code == 404
    assert client.post("/api/v1/reports", json={"address": "", "observed": "x"}).status_code == 422
    schema = client.get("/openapi.json").json()
    assert "/api/v1/reports" in schema["paths"]


def test_the_rate_limit_window_slides() -> None:
    limit = RateLimit(2, 60.0)
    assert limit.allow("a", now=0.0)
    assert limit.allow("a", now=1.0)
    assert not limit.allow("a", now=2.0)
    assert limit.allow("b", now=2.0)
    assert limit.allow("a", now=61.0)
