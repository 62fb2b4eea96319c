"""Bulletin pages, API and downloads over the small province of ``bulletin_world``."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from bulletin_world import World, build
from minewatch.domain.bulletins.calendar import bulletin_weeks
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope, utcnow
from minewatch.domain.ledger.weekly import Week
from minewatch.reference import regions
from minewatch.settings import Settings
from minewatch.web.app import create_app
from webclient import light_password_hashes, make_users, sign_in

USERS = {
    "nation": (Role.NATIONAL, "000000"),
    "sichuan": (Role.PROVINCIAL, "510000"),
    "yaan": (Role.CITY, "511800"),
    "shimian": (Role.COUNTY, "511824"),
    "hanyuan": (Role.COUNTY, "511823"),
    "chengdu": (Role.CITY, "510100"),
    "auditor": (Role.AUDITOR, "511800"),
    "admin": (Role.ADMIN, "000000"),
}


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    light_password_hashes(monkeypatch)


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine) as session:
        made = build(session)
        make_users(session, USERS)
    return made


@pytest.fixture
def client(engine: Engine, world: World) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine))


def login(client: TestClient, username: str) -> None:
    reply = sign_in(client, username)
    assert reply.status_code == 303


def test_the_weeks_run_from_the_first_activity_to_this_week(client: TestClient) -> None:
    login(client, "sichuan")
    listed = client.get("/api/v1/bulletins?limit=500").json()
    weeks = [w["week"] for w in listed["items"]]
    current = Week.containing(utcnow())
    assert weeks[0] == str(current)
    assert weeks[-1] == "2021-W42"  # the first lead, case and report of the province
    assert listed["total"] == len(weeks)
    assert weeks == sorted(weeks, reverse=True)
    first = listed["items"][-1]
    assert (first["monday"], first["sunday"], first["complete"]) == (
        "2021-10-18", "2021-10-24", True,
    )  # fmt: skip
    assert first["xlsx_url"] == "/bulletins/2021-W42.xlsx"
    assert listed["items"][0]["complete"] is False
    page = client.get("/api/v1/bulletins?limit=2&offset=1").json()
    assert [w["week"] for w in page["items"]] == weeks[1:3]
    assert (page["limit"], page["offset"], page["total"]) == (2, 1, len(weeks))


def test_a_region_with_nothing_yet_lists_this_week_only(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        assert bulletin_weeks(session, "420000") == [Week.containing(utcnow())]
        assert bulletin_weeks(session, "511823")[-1] == Week(2021, 42)


def test_the_province_bulletin_as_json(client: TestClient, world: World) -> None:
    login(client, "sichuan")
    b = client.get("/api/v1/bulletins/2021-W42").json()
    assert (b["week"], b["region_code"], b["region_name"]) == ("2021-W42", "510000", "四川省")
    assert b["title"] == "四川省虚拟货币“挖矿”整治工作周报（2021年第42周）"
    week = b["total"]["week"]
    assert (week["leads"], week["opened"], week["checked"], week["confirmed"],
            week["dismissed"], week["cleared"]) == (4, 4, 2, 1, 1, 1)  # fmt: skip
    assert week["measures_ordered"] == {"power_cut": 1}
    assert week["energy_cut_kwh"] == 650.0 * 54
    assert (b["total"]["open_cases"], b["total"]["overdue_cases"]) == (3, 1)
    assert b["total"]["by_stage"] == {"open": 1, "assigned": 1, "dismissed": 1, "cleared": 1}
    assert len(b["children"]) == len(regions.children("510000"))
    (yaan,) = [c for c in b["children"] if c["region_code"] == "511800"]
    assert yaan["week"]["opened"] == 3
    assert [o["case_no"] for o in b["overdue"]] == [world.d]
    assert b["cleared_by_week"] == [{"week": "2021-W42", "cleared": 1}]
    assert b["xlsx_url"] == "/bulletins/2021-W42.xlsx"
    w43 = client.get("/api/v1/bulletins/2021W43?region_code=511800").json()
    assert (w43["week"], w43["region_code"]) == ("2021-W43", "511800")
    assert w43["total"]["week"]["relapsed"] == 1
    assert w43["xlsx_url"] == "/bulletins/2021-W43.xlsx?region_code=511800"


def test_the_nation_has_a_bulletin_of_its_provinces(client: TestClient, world: World) -> None:
    login(client, "nation")
    b = client.get("/api/v1/bulletins/2021-W42").json()
    assert (b["region_code"], b["region_name"]) == ("000000", "全国")
    assert len(b["children"]) == len(regions.provinces())
    (sichuan,) = [c for c in b["children"] if c["region_code"] == "510000"]
    assert sichuan["week"]["opened"] == b["total"]["week"]["opened"] == 4
    assert b["total"]["ledger_active"] == 1
    pdf = client.get("/bulletins/2021-W42.pdf")
    assert pdf.content.startswith(b"%PDF")


def test_a_county_reads_its_own_bulletin_only(client: TestClient, world: World) -> None:
    login(client, "shimian")
    b = client.get("/api/v1/bulletins/2021-W43").json()
    assert (b["region_code"], b["children"]) == ("511824", [])
    assert b["total"]["week"]["relapsed"] == 1
    foreign = (world.c, world.d)
    for path in ("/api/v1/bulletins/2021-W43", "/bulletins/2021-W43", "/bulletins",
                 "/api/v1/bulletins"):  # fmt: skip
        reply = client.get(path)
        assert reply.status_code == 200
        assert not [no for no in foreign if no in reply.text], path
    workbook = load_workbook(io.BytesIO(client.get("/bulletins/2021-W43.xlsx").content))
    cells = {str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row}
    assert not [no for no in foreign if any(no in cell for cell in cells)]
    for code in ("510000", "511800", "511823", "000000"):
        for path in ("/api/v1/bulletins/2021-W43", "/api/v1/bulletins", "/bulletins",
                     "/bulletins/2021-W43", "/bulletins/2021-W43.xlsx",
                     "/bulletins/2021-W43.pdf"):  # fmt: skip
            assert client.get(path, params={"region_code": code}).status_code == 404, (path, code)


def test_the_downloads_open(client: TestClient) -> None:
    login(client, "yaan")
    xlsx = client.get("/bulletins/2021-W42.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = xlsx.headers["content-disposition"]
    assert 'filename="bulletin-511800-2021-W42.xlsx"' in disposition
    assert "filename*=UTF-8''" in disposition
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["汇总", "逾期案件", "说明"]
    assert "雅安市" in str(workbook["汇总"]["A1"].value)
    pdf = client.get("/bulletins/2021-W42.pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    login(client, "sichuan")
    other = load_workbook(io.BytesIO(client.get("/bulletins/2021-W42.xlsx?region_code=511800")
                                     .content))  # fmt: skip
    assert "雅安市" in str(other["汇总"]["A1"].value)


def test_bad_or_future_weeks_are_refused(client: TestClient) -> None:
    login(client, "sichuan")
    bad = client.get("/api/v1/bulletins/2021-W99")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    assert client.get("/api/v1/bulletins/next-week").status_code == 422
    future = Week.containing(utcnow()).next()
    assert client.get(f"/api/v1/bulletins/{future}").status_code == 404
    assert client.get(f"/bulletins/{future}.pdf").status_code == 404
    assert client.get("/api/v1/bulletins/0001-W01").status_code == 404
    assert client.get("/api/v1/bulletins/9999-W52").status_code == 404


def test_signed_out_and_administrators_get_no_bulletin(client: TestClient) -> None:
    assert client.get("/api/v1/bulletins").status_code == 401
    assert client.get("/bulletins/2021-W42.xlsx", follow_redirects=False).status_code == 303
    login(client, "admin")
    assert client.get("/api/v1/bulletins/2021-W42").status_code == 403
    assert client.get("/bulletins").status_code == 403


@pytest.mark.parametrize("user", ["nation", "sichuan", "yaan", "shimian", "auditor"])
def test_the_pages_render_at_every_level(client: TestClient, world: World, user: str) -> None:
    login(client, user)
    listing = client.get("/bulletins")
    assert listing.status_code == 200
    assert "/bulletins/2021-W42" in client.get("/bulletins?limit=500").text
    page = client.get("/bulletins/2021-W42")
    assert page.status_code == 200
    assert "整治工作周报（2021年第42周）" in page.text
    assert "/bulletins/2021-W42.xlsx" in page.text
    assert 'id="bulletin-cleared"' in page.text
    below = {"000000": "510000", "510000": "511800", "511800": "511824"}.get(USERS[user][1])
    if below is not None:
        assert f"/bulletins/2021-W42?region_code={below}" in page.text  # a region below
    assert "Weekly bulletins" in client.get("/bulletins?lang=en").text
    english = client.get("/bulletins/2021-W42?lang=en").text
    assert "Cleared to date" in english


def test_a_region_below_links_back_up(client: TestClient) -> None:
    login(client, "sichuan")
    page = client.get("/bulletins/2021-W42?region_code=511824").text
    assert 'href="/bulletins/2021-W42?region_code=511800"' in page
    up = client.get("/bulletins/2021-W42?region_code=511800").text
    assert 'href="/bulletins/2021-W42"' in up  # the province: the caller's own region
