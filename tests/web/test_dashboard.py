"""The dashboard: figures counted by hand for the small province of ``bulletin_world``, the map
and trend API, every level's page, the offline maps, and nothing from outside the region."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bulletin_world import World, build
from conftest import at, case_lead
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.cases.service import fuse_leads
from minewatch.domain.cases.states import Role
from minewatch.domain.dashboard.figures import map_areas
from minewatch.domain.db import session_scope
from minewatch.domain.leads.service import record_leads
from minewatch.reference import regions
from minewatch.settings import Settings
from minewatch.web.app import _HERE, create_app
from webclient import light_password_hashes, make_users, sign_in

USERS = {
    "nation": (Role.NATIONAL, "000000"),
    "auditor": (Role.AUDITOR, "000000"),
    "sichuan": (Role.PROVINCIAL, "510000"),
    "yaan": (Role.CITY, "511800"),
    "shimian": (Role.COUNTY, "511824"),
    "hanyuan": (Role.COUNTY, "511823"),
    "inspector": (Role.INSPECTOR, "511824"),
    "chengdu": (Role.CITY, "510100"),
    "hubei": (Role.PROVINCIAL, "420000"),
    "admin": (Role.ADMIN, "000000"),
}
MAPS = _HERE / "static" / "maps"


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
    assert reply.headers["location"] == ("/admin/users" if username == "admin" else "/dashboard")


def test_the_province_summary_counted_by_hand(client: TestClient, world: World) -> None:
    login(client, "sichuan")
    s = client.get("/api/v1/dashboard/summary").json()
    assert (s["region_code"], s["region_name"], s["level"]) == ("510000", "四川省", "province")
    cases = s["cases"]
    # A relapsed (assigned), B dismissed, C measures ordered, D open and never assigned
    assert {k: v for k, v in cases["by_status"].items() if v} == {
        "assigned": 1, "dismissed": 1, "measures_ordered": 1, "open": 1,
    }  # fmt: skip
    assert (cases["total"], cases["open_cases"], cases["confirmed"], cases["cleared"],
            cases["dismissed"], cases["overdue"]) == (4, 3, 1, 0, 1, 3)  # fmt: skip
    assert s["mining_power"] == {
        "open_mining_kw": 650.0 + 200.0 + 1000.0, "found_mining_kw": 200.0,
        "removed_mining_kw": 0.0,
    }  # fmt: skip
    assert s["projects"]["total"] == 1
    assert s["projects"]["by_status"]["operating"] == 1
    assert s["projects"]["active_power_kw"] == 420.5
    assert s["reports_overdue"] == 1
    assert [r["region_code"] for r in s["overdue_reports"]] == ["511823"]
    overdue = s["overdue_cases"]
    assert {c["case_no"] for c in overdue} == {world.a, world.c, world.d}
    assert [c["due_at"] for c in overdue] == sorted(c["due_at"] for c in overdue)
    assert all(c["days_overdue"] > 0 for c in overdue)


def test_a_county_sees_its_own_figures_only(client: TestClient, world: World) -> None:
    login(client, "shimian")
    s = client.get("/api/v1/dashboard/summary").json()
    assert (s["cases"]["total"], s["cases"]["open_cases"], s["cases"]["dismissed"]) == (2, 1, 1)
    assert s["mining_power"]["open_mining_kw"] == 650.0
    assert (s["reports_overdue"], s["overdue_reports"]) == (0, [])
    assert [c["case_no"] for c in s["overdue_cases"]] == [world.a]
    assert s["projects"]["total"] == 1
    login(client, "hanyuan")
    s = client.get("/api/v1/dashboard/summary").json()
    assert (s["cases"]["total"], s["cases"]["confirmed"], s["reports_overdue"]) == (1, 1, 1)
    assert s["projects"]["total"] == 0


@pytest.mark.parametrize(
    "user",
    ["shimian", "hanyuan", "inspector", "yaan", "chengdu", "hubei"],
)
def test_no_region_outside_the_callers_is_shown(
    client: TestClient, world: World, user: str
) -> None:
    login(client, user)
    mine = USERS[user][1]
    outside = [
        code for code in ("000000", "510000", "511800", "511823", "511824", "510104", "420000")
        if not regions.is_within(code, mine) or (code == "000000" and mine != "000000")
    ]  # fmt: skip
    for code in outside:
        for path in ("/api/v1/dashboard/summary", "/api/v1/dashboard/map",
                     "/api/v1/dashboard/trend", "/dashboard"):  # fmt: skip
            reply = client.get(path, params={"region_code": code})
            assert reply.status_code == 404, (user, path, code)
    cases_of = {world.a: "511824", world.b: "511824", world.c: "511823", world.d: "510104"}
    foreign = [no for no, code in cases_of.items() if not regions.is_within(code, mine)]
    for path in ("/dashboard", "/api/v1/dashboard/summary", "/api/v1/dashboard/map",
                 "/api/v1/dashboard/map?metric=mining_kw", "/api/v1/dashboard/trend"):  # fmt: skip
        body = client.get(path).text
        assert client.get(path).status_code == 200
        assert not [no for no in foreign if no in body], (user, path)


def test_an_unknown_region_or_metric_is_refused(client: TestClient) -> None:
    login(client, "nation")
    assert client.get("/api/v1/dashboard/summary?region_code=519999").status_code == 404
    bad = client.get("/api/v1/dashboard/summary?region_code=51")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    assert client.get("/api/v1/dashboard/map?metric=rigs").status_code == 422
    assert client.get("/api/v1/dashboard/trend?weeks=0").status_code == 422
    for until in ("2021-W99", "0001-W01", "9999-W52"):
        assert client.get(f"/api/v1/dashboard/trend?until={until}").status_code == 422


def test_signed_out_and_administrators_see_no_dashboard(client: TestClient) -> None:
    assert client.get("/api/v1/dashboard/summary").status_code == 401
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/login"
    login(client, "admin")
    assert client.get("/api/v1/dashboard/summary").status_code == 403
    assert client.get("/dashboard").status_code == 403


def test_the_map_drills_from_the_nation_to_the_prefectures(
    client: TestClient, world: World
) -> None:
    login(client, "nation")
    nation = client.get("/api/v1/dashboard/map").json()
    assert (nation["level"], nation["map_name"], nation["drill"]) == ("national", "china", True)
    assert nation["map_url"] == "/static/maps/china.json"
    by_code = {a["region_code"]: a for a in nation["areas"]}
    assert len(by_code) == 34
    assert (by_code["510000"]["open_cases"], by_code["510000"]["value"]) == (3, 3)
    assert sum(a["open_cases"] for a in nation["areas"]) == 3
    assert nation["max_value"] == 3
    power = client.get("/api/v1/dashboard/map?metric=mining_kw").json()
    assert {a["region_code"]: a["value"] for a in power["areas"]}["510000"] == 1850.0

    province = client.get("/api/v1/dashboard/map?region_code=510000").json()
    assert (province["level"], province["map_name"], province["focus"]) == (
        "province", "510000", None,
    )  # fmt: skip
    areas = {a["region_code"]: a for a in province["areas"]}
    assert set(areas) == {r.code for r in map_areas("510000")}
    assert (areas["511800"]["open_cases"], areas["511800"]["open_mining_kw"]) == (2, 850.0)
    assert (areas["510100"]["open_cases"], areas["510100"]["open_mining_kw"]) == (1, 1000.0)
    assert province["points"] == []


def test_a_prefecture_shows_its_counties_and_case_sites(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        record_leads(session, [case_lead("meters", "MX", 0.9, account_no="X1", region_code="511802",
                                         longitude=103.0, latitude=29.98, est_mining_kw=90.0)],
                     actor="analyst", at=at("2021-10-20"))  # fmt: skip
        fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    client = TestClient(create_app(Settings(), engine=engine))
    login(client, "yaan")
    view = client.get("/api/v1/dashboard/map?metric=mining_kw").json()
    assert (view["level"], view["map_name"], view["focus"], view["drill"]) == (
        "prefecture", "510000", "511800", False,
    )  # fmt: skip
    areas = {a["region_code"]: a for a in view["areas"]}
    assert set(areas) == {r.code for r in regions.children("511800")}
    assert areas["511802"]["value"] == 90.0
    assert areas["511824"]["open_cases"] == 1
    (point,) = view["points"]
    assert (point["longitude"], point["latitude"], point["mining_kw"]) == (103.0, 29.98, 90.0)
    login(client, "shimian")
    county = client.get("/api/v1/dashboard/map").json()
    assert (county["level"], county["focus"], county["points"]) == ("county", "511800", [])
    assert [a["region_code"] for a in county["areas"]] == ["511824"]


def test_the_weekly_trend_counted_by_hand(client: TestClient, world: World) -> None:
    login(client, "sichuan")
    trend = client.get("/api/v1/dashboard/trend?weeks=3&until=2021-W43").json()
    rows = {w["week"]: w for w in trend["weeks"]}
    assert list(rows) == ["2021-W41", "2021-W42", "2021-W43"]
    assert rows["2021-W42"]["monday"] == "2021-10-18"
    # W42: A, B, C and D opened, A confirmed and cleared (650 kW); W43: C confirmed
    counted = [(w["new_cases"], w["confirmed"], w["cleared"], w["removed_mining_kw"])
               for w in trend["weeks"]]  # fmt: skip
    assert counted == [(0, 0, 0, 0.0), (4, 1, 1, 650.0), (0, 1, 0, 0.0)]
    login(client, "hanyuan")
    mine = client.get("/api/v1/dashboard/trend?weeks=2&until=2021-W43").json()["weeks"]
    assert [(w["new_cases"], w["confirmed"], w["cleared"]) for w in mine] == [(1, 0, 0), (0, 1, 0)]
    default = client.get("/api/v1/dashboard/trend").json()["weeks"]
    assert len(default) == 26
    assert date.fromisoformat(default[-1]["monday"]) <= date.today()


def test_figures_follow_a_write_at_once(engine: Engine, client: TestClient) -> None:
    login(client, "shimian")
    before = client.get("/api/v1/dashboard/summary").json()["cases"]["total"]
    with session_scope(engine) as session:
        record_leads(session, [case_lead("meters", "MY", 0.9, account_no="Y1")],
                     actor="analyst", at=at("2021-11-01"))  # fmt: skip
        fuse_leads(session, actor="analyst", at=at("2021-11-01"))
    assert client.get("/api/v1/dashboard/summary").json()["cases"]["total"] == before + 1


@pytest.mark.parametrize("user", ["nation", "auditor", "sichuan", "yaan", "shimian", "inspector"])
def test_the_page_renders_at_every_level(client: TestClient, world: World, user: str) -> None:
    login(client, user)
    page = client.get("/dashboard")
    assert page.status_code == 200
    text = page.text
    assert "整治工作总览" in text
    assert 'id="dash-map"' in text
    assert "/static/dashboard.js" in text
    summary = client.get("/api/v1/dashboard/summary").json()
    assert f'<span class="n">{summary["cases"]["open_cases"]}</span>' in text
    for row in summary["overdue_cases"]:
        assert f"/cases/{row['case_no']}" in text
    labels = re.search(r'data-labels="([^"]+)"', text)
    assert labels is not None
    assert USERS[user][1] == "000000" or "全国" not in text.split("<main>")[1].split("</h1>")[0]
    english = client.get("/dashboard?lang=en").text
    assert "Crackdown overview" in english
    assert "Open cases" in english


def test_the_national_page_links_every_province_and_drills_down(client: TestClient) -> None:
    login(client, "nation")
    text = client.get("/dashboard").text
    for province in ("510000", "420000", "650000"):
        assert f"/dashboard?region_code={province}" in text
    drilled = client.get("/dashboard?region_code=511800").text
    assert "四川省雅安市" in drilled
    assert 'href="/dashboard?region_code=510000"' in drilled  # the breadcrumb back up


def test_an_api_key_reads_the_dashboard_of_its_region(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        key = issue_key(session, "国网雅安供电公司", role=Role.GRID_ANALYST,
                        region_code="511800", actor="admin")  # fmt: skip
    client = TestClient(create_app(Settings(), engine=engine))
    headers = {"Authorization": f"Bearer {key.token}"}
    summary = client.get("/api/v1/dashboard/summary", headers=headers).json()
    assert (summary["region_code"], summary["cases"]["total"]) == ("511800", 3)
    assert client.get("/api/v1/dashboard/summary?region_code=510000",
                      headers=headers).status_code == 404  # fmt: skip


# ---- the offline maps


def _maps() -> list[Path]:
    return sorted(MAPS.glob("*.json"))


def test_every_map_feature_carries_its_code_and_every_area_is_drawn() -> None:
    assert (MAPS / "README.md").is_file()
    files = {p.stem: p for p in _maps()}
    assert "china" in files
    assert len(files) == 32  # the nation and 31 provinces (none for 台湾, 香港, 澳门)
    for stem, path in files.items():
        collection = json.loads(path.read_text(encoding="utf-8"))
        assert collection["type"] == "FeatureCollection"
        scope = regions.NATIONAL if stem == "china" else stem
        wanted = {r.code: r.name for r in map_areas(scope)}
        seen = set()
        for feature in collection["features"]:
            code = feature["properties"]["code"]
            assert feature["id"] == code
            assert wanted[code] == feature["properties"]["name"], (stem, code)
            assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
            polygons = feature["geometry"]["coordinates"]
            if feature["geometry"]["type"] == "Polygon":
                polygons = [polygons]
            for polygon in polygons:
                for ring in polygon:
                    assert len(ring) >= 4
                    assert ring[0] == ring[-1]
                    assert all(73 <= x <= 136 and 3 <= y <= 54 for x, y in ring)
            seen.add(code)
        assert len(seen) == len(collection["features"])  # one feature per area
        missing = set(wanted) - seen
        # only the two county-level cities of 新疆 created after the source data are not drawn
        assert missing <= {"659010", "659011"}, (stem, missing)


def test_the_maps_stay_small() -> None:
    assert sum(p.stat().st_size for p in _maps()) < 4_000_000
    assert (MAPS / "china.json").stat().st_size < 250_000
