"""The ledger pages and API: filters and totals, Excel round trip, all-or-nothing imports, roles,
and no project of another region in any answer."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from conftest import make_bad_uscc, make_entry, make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.service import current_entries, save_entry
from minewatch.domain.migrate import open_database
from minewatch.ingest.ledger_xlsx import write_ledger_xlsx
from minewatch.reference.ledger import (
    DiscoveryMethod,
    LedgerEntry,
    ProjectStatus,
    SiteType,
    SupplyKind,
)
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHIMIAN, HANYUAN = "511824", "511823"  # two counties of 雅安市 511800

USERS = {
    "shimian": (Role.COUNTY, SHIMIAN),
    "hanyuan": (Role.COUNTY, HANYUAN),
    "yaan": (Role.CITY, "511800"),
    "sichuan": (Role.PROVINCIAL, "510000"),
    "nation": (Role.NATIONAL, "000000"),
    "auditor": (Role.AUDITOR, "000000"),
    "inspector": (Role.INSPECTOR, SHIMIAN),
    "analyst": (Role.GRID_ANALYST, "511800"),
    "admin": (Role.ADMIN, "000000"),
}

STATUSES = [ProjectStatus.OPERATING] * 5 + [ProjectStatus.IN_CONSTRUCTION] * 3 + [
    ProjectStatus.SHUT_DOWN
] * 2 + [ProjectStatus.CLEARED] * 2  # fmt: skip


def _shimian(n: int) -> LedgerEntry:
    """Twelve projects in 石棉县, of every status; odd ones in a big-data park on a direct line."""
    return make_entry(
        n,
        status=STATUSES[(n - 1) % len(STATUSES)],
        site_type=SiteType.BIG_DATA_PARK if n % 2 else SiteType.FACTORY,
        supply_kind=SupplyKind.PLANT_DIRECT_LINE if n % 2 else SupplyKind.GRID,
        discovered_by=DiscoveryMethod.NETWORK_MONITORING if n <= 4 else DiscoveryMethod.SELF_REPORT,
        grid_account_no=f"51182400{n:05d}",
        exit_deadline=date(2021, 12, 31) if n <= 6 else date(2099, 12, 31),
        rated_power_kw=100.0 * n,
    )


def _hanyuan(n: int) -> LedgerEntry:
    """A project of 汉源县 — outside a 石棉县 official's region."""
    return make_entry(
        n,
        project_name=f"汉源县矿场{n}号",
        enterprise_name=f"汉源县秘密{n}矿业有限公司",
        enterprise_uscc=make_uscc(n, HANYUAN),
        site_address=f"四川省雅安市汉源县富林镇{n}号",
        region_code=HANYUAN,
        responsible_region_code=HANYUAN,
        grid_account_no=f"51182300{n:05d}",
    )


@pytest.fixture
def engine_with_ledger(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        for n in range(1, 13):
            save_entry(session, _shimian(n), actor="石棉县发改局 李强")
        for n in range(101, 103):
            save_entry(session, _hanyuan(n), actor="汉源县发改局 王芳")
    return engine


@pytest.fixture
def client(engine_with_ledger: Engine) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine_with_ledger))


def _token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def _login(client: TestClient, username: str) -> None:
    """Sign in as one of :data:`USERS` (made on first use: hashing passwords is slow)."""
    from minewatch.domain.accounts.models import User

    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        if session.scalar(select(User).where(User.username == username)) is None:
            role, region = USERS[username]
            create_user(session, username, PASSWORD, display_name=username, role=role,
                        region_code=region, actor="admin")  # fmt: skip
    client.cookies.clear()
    reply = client.post("/login", data={CSRF_FIELD: _token(client), "username": username,
                                        "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303, reply.text


def _codes(client: TestClient, query: str = "") -> list[str]:
    reply = client.get(f"/api/v1/projects?limit=500{query}")
    assert reply.status_code == 200, reply.text
    return [row["project_code"] for row in reply.json()["items"]]


def _workbook(entries: list[LedgerEntry], tmp_path: Path, name: str = "台账.xlsx") -> bytes:
    path = tmp_path / name
    write_ledger_xlsx(entries, path)
    return path.read_bytes()


def _upload(content: bytes, name: str = "台账.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"workbook": (name, content, XLSX)}


def _project_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Project)) or 0


def _event_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


# ---------------------------------------------------------------------------- search


def test_filters_narrow_the_list_and_the_totals_count_the_whole_set(client: TestClient) -> None:
    _login(client, "shimian")
    everything = client.get("/api/v1/projects").json()
    assert everything["total"] == 12
    assert all(code.startswith("XM-511824-") for code in _codes(client))
    assert len(_codes(client, "&status=operating")) == 5
    assert len(_codes(client, "&status=operating&status=in_construction")) == 8
    assert len(_codes(client, "&site_type=big_data_park")) == 6
    assert len(_codes(client, "&supply_kind=plant_direct_line&status=operating")) == 3
    assert len(_codes(client, "&discovered_by=network_monitoring")) == 4
    assert _codes(client, "&enterprise=鑫源7科技") == ["XM-511824-0007"]
    assert _codes(client, f"&enterprise={make_uscc(3)}") == ["XM-511824-0003"]
    assert _codes(client, "&q=5118240000011") == ["XM-511824-0011"]  # grid account number
    assert _codes(client, "&q=xm-511824-0012") == ["XM-511824-0012"]  # code, any case
    assert _codes(client, "&q=美罗镇9号") == ["XM-511824-0009"]  # site address
    assert len(_codes(client, "&q=%25")) == 0  # a wildcard is looked for, not obeyed
    # live and past the 2021-12-31 deadline: 1–6 minus none shut (shut/cleared are 9–12)
    assert _codes(client, "&exit_overdue=true") == [f"XM-511824-{n:04d}" for n in range(1, 7)]
    assert _codes(client, "&region_code=511824&status=cleared") == ["XM-511824-0011",
                                                                    "XM-511824-0012"]  # fmt: skip
    assert _codes(client, "&region_code=511823") == []  # a region outside mine gives nothing
    assert client.get("/api/v1/projects?status=paused").status_code == 422
    assert client.get("/api/v1/projects?region_code=519999").status_code == 422
    assert client.get("/api/v1/projects?sort=colour").status_code == 422


def test_pages_of_a_sorted_list_add_up_to_the_total(client: TestClient) -> None:
    _login(client, "shimian")
    seen: list[str] = []
    for offset in (0, 5, 10):
        page = client.get(f"/api/v1/projects?limit=5&offset={offset}&sort=-power").json()
        assert (page["total"], page["limit"], page["offset"]) == (12, 5, offset)
        seen += [row["project_code"] for row in page["items"]]
    assert seen == [f"XM-511824-{n:04d}" for n in range(12, 0, -1)]  # power is 100 kW × n
    by_name = _codes(client, "&sort=enterprise")
    assert by_name == sorted(by_name, key=lambda c: f"石棉县鑫源{int(c[-4:])}科技有限公司")


def test_the_page_filters_counts_sorts_and_pages_without_javascript(client: TestClient) -> None:
    _login(client, "shimian")
    page = client.get("/ledger?status=operating&site_type=&q=&limit=2&sort=-power")
    assert page.status_code == 200
    assert "<html" in page.text
    assert 'id="ledger-total">5<' in page.text
    assert page.text.count('href="/ledger/XM-511824-') == 2
    assert "/ledger/XM-511824-0005" in page.text  # the most powerful operating project first
    assert "offset=2" in page.text  # the next page keeps the filters
    assert "status=operating" in re.search(r'href="([^"]*offset=2[^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.get("/ledger?status=paused").status_code == 422
    _login(client, "yaan")
    chosen = client.get("/ledger?region_code=511823").text
    assert '<option value="511823" selected>汉源县</option>' in chosen.replace("\u3000", "")
    assert '<option value="511824">' in chosen


def test_an_htmx_request_gets_the_results_alone(client: TestClient) -> None:
    _login(client, "shimian")
    headers = {"HX-Request": "true", "HX-Target": "ledger-results"}
    part = client.get("/ledger?status=cleared", headers=headers)
    assert part.status_code == 200
    assert "<html" not in part.text
    assert "<form" not in part.text
    assert 'id="ledger-total">2<' in part.text
    assert "mw_csrf" not in part.headers.get("set-cookie", "")  # the page's forms stay valid
    assert part.headers["vary"] == "HX-Request"


def test_the_weeks_figures_count_each_status_for_the_other_filters(client: TestClient) -> None:
    _login(client, "shimian")
    text = client.get("/ledger?site_type=factory&status=operating").text
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(\d+)</dd>", text))
    # factories are the even ones: 2, 4 operating; 6, 8 in construction; 10 shut; 12 cleared
    assert figures == {"在建": "2", "在运": "2", "已关停": "1", "已清理": "1",
                       "其中在建、在运": "4", "合计": "2"}  # fmt: skip


def test_a_project_page_shows_every_field_its_machines_history_and_cases(
    client: TestClient, engine_with_ledger: Engine
) -> None:
    with session_scope(engine_with_ledger) as session:
        save_entry(session, replace(_shimian(1), project_code="XM-511824-0001",
                                    status=ProjectStatus.SHUT_DOWN, notes="已断电"),
                   actor="石棉县发改局 赵六", reason="现场核查")  # fmt: skip
    _login(client, "shimian")
    page = client.get("/ledger/XM-511824-0001")
    assert page.status_code == 200
    expected = ("石棉县鑫源1科技有限公司", "Antminer S19 Pro", "Whatsminer M30S", "35kV 石棉线",
                "石棉县发改局 赵六", "现场核查", "已断电", "在运 → 已关停",
                "5118240000001")  # fmt: skip
    for text in expected:
        assert text in page.text, text
    detail = client.get("/api/v1/projects/XM-511824-0001").json()
    assert detail["machines"] == [{"model": "Antminer S19 Pro", "count": 100},
                                  {"model": "Whatsminer M30S", "count": 20}]  # fmt: skip
    assert detail["status"] == "shut_down"
    assert detail["cases"] == []
    history = client.get("/api/v1/projects/XM-511824-0001/history").json()
    assert [e["action"] for e in history] == ["update", "create"]
    assert history[0]["actor"] == "石棉县发改局 赵六"
    assert {c["field"] for c in history[0]["changes"]} == {"status", "notes"}


def test_a_project_links_the_cases_of_the_region(
    client: TestClient, engine_with_ledger: Engine
) -> None:
    from conftest import make_confirmed_case

    with session_scope(engine_with_ledger) as session:
        case_no = make_confirmed_case(session)  # confirms into the ledger
        code = session.scalar(select(Project.code).order_by(Project.id.desc()).limit(1))
    _login(client, "shimian")
    assert code is not None
    page = client.get(f"/ledger/{code}")
    assert f"/cases/{case_no}" in page.text
    assert [c["case_no"] for c in client.get(f"/api/v1/projects/{code}").json()["cases"]] == [
        case_no
    ]


# ---------------------------------------------------------------------------- jurisdiction


@pytest.mark.parametrize("username", ["shimian", "inspector", "analyst", "yaan", "sichuan"])
def test_a_project_of_another_region_does_not_exist_for_the_user(
    client: TestClient, username: str, tmp_path: Path
) -> None:
    _login(client, username)
    outside = "XM-511823-0001"
    if USERS[username][1] in (SHIMIAN,):
        for path in (f"/ledger/{outside}", f"/api/v1/projects/{outside}",
                     f"/api/v1/projects/{outside}/history"):  # fmt: skip
            reply = client.get(path)
            assert reply.status_code == 404, path
            assert "汉源" not in reply.text
        for path in ("/ledger", "/ledger?q=富林镇", "/api/v1/projects?q=富林镇&limit=500",
                     "/api/v1/projects?limit=500", "/ledger?region_code=511823",
                     "/ledger?enterprise=秘密", "/api/v1/projects?region_code=511823"):  # fmt: skip
            reply = client.get(path)
            assert reply.status_code == 200
            assert "汉源县" not in reply.text, path
            assert "XM-511823" not in reply.text, path
        for path in ("/ledger/export.xlsx", "/api/v1/projects/export.xlsx?q=富林镇"):
            workbook = load_workbook(io.BytesIO(client.get(path).content), read_only=True)
            cells = [str(v) for row in workbook.active.iter_rows(values_only=True) for v in row]  # type: ignore[union-attr]
            assert not any("汉源" in c or "XM-511823" in c for c in cells), path
    else:  # the city and province above both counties see both
        assert client.get(f"/api/v1/projects/{outside}").status_code == 200
        assert len(_codes(client)) == 14


def test_the_export_holds_the_filtered_set_of_the_region(client: TestClient) -> None:
    _login(client, "yaan")
    reply = client.get("/ledger/export.xlsx?status=operating&q=汉源")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == XLSX
    assert "attachment" in reply.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(reply.content), read_only=True).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))  # type: ignore[union-attr]
    assert sorted(r[1] for r in rows) == ["XM-511823-0001", "XM-511823-0002"]


# ---------------------------------------------------------------------------- roles


def test_readers_read_and_only_officials_write(client: TestClient, tmp_path: Path) -> None:
    content = _workbook([_shimian(20)], tmp_path)
    body = {"enterprise_name": "某公司", "enterprise_uscc": make_uscc(30),
            "site_address": "美罗镇30号", "region_code": SHIMIAN, "status": "operating",
            "discovered_by": "inspection"}  # fmt: skip
    for username in ("auditor", "inspector", "analyst"):
        _login(client, username)
        assert client.get("/ledger").status_code == 200
        assert client.get("/api/v1/projects").status_code == 200
        assert client.get("/ledger/import").status_code == 403
        token = _token(client, "/ledger")
        refused = client.post("/ledger/import", data={CSRF_FIELD: token}, files=_upload(content))
        assert refused.status_code == 403
        assert client.post("/api/v1/projects/import", files=_upload(content)).status_code == 403
        assert client.post("/api/v1/projects", json=body).status_code == 403
    _login(client, "admin")
    assert client.get("/ledger").status_code == 403
    assert client.get("/api/v1/projects").json()["code"] == "forbidden"
    client.cookies.clear()
    assert client.get("/api/v1/projects").status_code == 401
    assert client.get("/ledger", follow_redirects=False).headers["location"] == "/login"


def test_an_api_key_reads_its_region(client: TestClient, engine_with_ledger: Engine) -> None:
    with session_scope(engine_with_ledger) as session:
        key = issue_key(session, "国网雅安供电公司", role=Role.GRID_ANALYST, region_code=HANYUAN,
                        actor="admin")  # fmt: skip
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {key.token}"}
    seen = client.get("/api/v1/projects", headers=headers).json()
    assert [r["project_code"] for r in seen["items"]] == ["XM-511823-0001", "XM-511823-0002"]
    assert client.get("/api/v1/projects/XM-511824-0001", headers=headers).status_code == 404


# ---------------------------------------------------------------------------- Excel


def test_export_then_import_into_a_fresh_database_gives_the_same_entries(
    client: TestClient, engine_with_ledger: Engine, tmp_path: Path
) -> None:
    _login(client, "yaan")
    exported = client.get("/api/v1/projects/export.xlsx")
    assert exported.status_code == 200
    fresh = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    with session_scope(fresh) as session:
        create_user(session, "yaan", PASSWORD, display_name="雅安", role=Role.CITY,
                    region_code="511800", actor="admin")  # fmt: skip
    other = TestClient(create_app(Settings(), engine=fresh))
    _login(other, "yaan")
    imported = other.post("/api/v1/projects/import", files=_upload(exported.content))
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 14
    with session_scope(engine_with_ledger) as session:
        before = current_entries(session)
    with session_scope(fresh) as session:
        after = current_entries(session)
        assert verify_chain(session).ok
        actors = set(session.scalars(select(AuditEvent.actor)))
    assert after == before
    assert "雅安 (yaan)" in actors  # written under the official's name
    again = other.post("/api/v1/projects/import", files=_upload(exported.content)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 14)
    fresh.dispose()


def test_an_import_with_problems_lists_them_by_row_and_column_and_writes_nothing(
    client: TestClient, engine_with_ledger: Engine, tmp_path: Path
) -> None:
    rows = [
        _shimian(20),  # row 3: fine
        replace(_shimian(21), enterprise_uscc=make_bad_uscc(21)),  # row 4: bad check character
        _hanyuan(22),  # row 5: another county's project
        replace(_shimian(23), responsible_region_code=HANYUAN),  # row 6: hands it to 汉源
        replace(_shimian(24), project_code="XM-511823-0001"),  # row 7: 汉源's project code
    ]
    content = _workbook(rows, tmp_path)
    _login(client, "shimian")
    projects, events = _project_count(engine_with_ledger), _event_count(engine_with_ledger)
    reply = client.post("/api/v1/projects/import", files=_upload(content))
    assert reply.status_code == 422
    assert reply.json()["code"] == "invalid"
    problems = {(p["row"], p["column"]) for p in reply.json()["detail"]}
    assert {(4, "统一社会信用代码"), (5, "行政区划代码"), (5, "责任县区代码"),
            (6, "责任县区代码"), (7, "项目编号")} <= problems  # fmt: skip
    assert all(p["row"] != 3 for p in reply.json()["detail"])
    assert "汉源县秘密" not in reply.text  # the other region's project is not disclosed
    assert (_project_count(engine_with_ledger), _event_count(engine_with_ledger)) == (
        projects,
        events,
    )
    page = client.post("/ledger/import", data={CSRF_FIELD: _token(client, "/ledger/import")},
                       files=_upload(content))  # fmt: skip
    assert page.status_code == 422
    assert "导入失败，未写入任何数据" in page.text
    assert re.search(r"<td class=\"num\">5</td><td>行政区划代码</td>", page.text)
    assert _project_count(engine_with_ledger) == projects


def test_a_workbook_that_is_not_one_is_refused_with_a_reason(
    client: TestClient, engine_with_ledger: Engine
) -> None:
    _login(client, "shimian")
    reply = client.post("/api/v1/projects/import", files=_upload(b"not a zip", "台账.xlsx"))
    assert reply.status_code == 422
    assert "not a readable .xlsx workbook" in reply.json()["detail"][0]["reason"]
    old = client.post("/api/v1/projects/import", files=_upload(b"\xd0\xcf\x11\xe0", "old.xls"))
    assert "save it as .xlsx" in old.json()["detail"][0]["reason"]


def test_the_import_page_checks_csrf_imports_and_can_check_only(
    client: TestClient, engine_with_ledger: Engine, tmp_path: Path
) -> None:
    content = _workbook([_shimian(20), _shimian(21)], tmp_path)
    before = _project_count(engine_with_ledger)
    _login(client, "shimian")
    form = client.get("/ledger/import")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert client.post("/ledger/import", data={CSRF_FIELD: "forged"},
                       files=_upload(content)).status_code == 403  # fmt: skip
    form_data = {CSRF_FIELD: _token(client, "/ledger/import"), "check_only": "true"}
    checked = client.post("/ledger/import", files=_upload(content), data=form_data)
    assert checked.status_code == 200
    assert "检查通过，未写入" in checked.text
    assert _project_count(engine_with_ledger) == before
    done = client.post("/ledger/import", files=_upload(content),
                       data={CSRF_FIELD: _token(client, "/ledger/import")})  # fmt: skip
    assert done.status_code == 200
    assert "导入完成" in done.text
    assert _project_count(engine_with_ledger) == before + 2


# ---------------------------------------------------------------------------- pushing one entry


def test_a_system_pushes_entries_of_its_region_checked_and_audited(
    client: TestClient, engine_with_ledger: Engine
) -> None:
    _login(client, "shimian")
    body = {
        "enterprise_name": "石棉县新能科技有限公司", "enterprise_uscc": make_uscc(40),
        "site_address": "四川省雅安市石棉县回隆镇40号", "region_code": SHIMIAN,
        "status": "in_construction", "discovered_by": "electricity_analysis",
        "site_type": "factory", "machines": [{"model": "Antminer S19", "count": 30}],
        "rated_power_kw": 99.5,
    }  # fmt: skip
    created = client.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    code = created.json()["project_code"]
    assert code.startswith("XM-511824-")
    assert created.json()["action"] == "created"
    assert created.json()["responsible_region_code"] == SHIMIAN
    updated = client.post("/api/v1/projects", json={**body, "project_code": code,
                                                    "status": "operating"})  # fmt: skip
    assert (updated.status_code, updated.json()["action"]) == (200, "updated")
    same = client.post(
        "/api/v1/projects", json={**body, "project_code": code, "status": "operating"}
    )
    assert same.json()["action"] == "unchanged"
    duplicate = client.post("/api/v1/projects", json=body)  # same enterprise and address, no code
    assert duplicate.status_code == 422
    assert code in duplicate.text
    outside = client.post("/api/v1/projects", json={**body, "region_code": HANYUAN,
                                                    "site_address": "汉源县某地"})  # fmt: skip
    assert outside.status_code == 422
    fields = {p["field"] for p in outside.json()["detail"]}
    assert fields == {"region_code", "responsible_region_code"}
    taken = client.post("/api/v1/projects", json={**body, "project_code": "XM-511823-0001"})
    assert taken.status_code == 422
    assert "汉源" not in taken.text
    bad = client.post("/api/v1/projects", json={**body, "enterprise_uscc": "9151182400000000XX"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "enterprise_uscc"
    assert client.post("/api/v1/projects", json={**body, "status": "paused"}).status_code == 422
    with session_scope(engine_with_ledger) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "project",
                                     AuditEvent.entity_id == code).order_by(AuditEvent.seq)
        ).all()  # fmt: skip
        who = "shimian (shimian)"
        assert [(e.action, e.actor) for e in events] == [("create", who), ("update", who)]
        assert verify_chain(session).ok


def test_an_export_too_large_for_the_web_is_refused_with_advice(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minewatch.web.routers import ledger

    monkeypatch.setattr(ledger, "MAX_EXPORT_ROWS", 5)
    _login(client, "shimian")
    refused = client.get("/api/v1/projects/export.xlsx")
    assert refused.status_code == 422
    assert "minewatch ledger export" in refused.json()["detail"]
    assert client.get("/ledger/export.xlsx?status=operating").status_code == 200  # five fit
    assert "缩小筛选范围" in client.get("/ledger/export.xlsx").text


def test_text_a_database_cannot_hold_is_refused_not_failed(client: TestClient) -> None:
    _login(client, "shimian")
    assert client.get("/api/v1/projects/XM%00").status_code == 404
    assert client.get("/ledger/XM%00").status_code == 404
    assert client.get("/api/v1/projects?q=%00&enterprise=%00").status_code == 200
    body = {"enterprise_name": "某\x00公司", "enterprise_uscc": make_uscc(50),
            "site_address": "美罗镇50号", "region_code": SHIMIAN, "status": "operating",
            "discovered_by": "inspection"}  # fmt: skip
    assert client.post("/api/v1/projects", json=body).status_code == 422


def test_values_too_big_for_the_ledger_are_problems_of_their_row(
    client: TestClient, engine_with_ledger: Engine, tmp_path: Path
) -> None:
    rows = [
        replace(_shimian(20), site_address="美罗镇" * 120),
        replace(_shimian(21), machines=(), machine_count=2**40),
    ]
    _login(client, "shimian")
    reply = client.post("/api/v1/projects/import", files=_upload(_workbook(rows, tmp_path)))
    assert reply.status_code == 422
    assert {(p["row"], p["column"]) for p in reply.json()["detail"]} == {
        (3, "项目地址"),
        (4, "规模（台）"),
    }
    body = {"enterprise_name": "某公司", "enterprise_uscc": make_uscc(50), "hashrate": "Infinity",
            "hashrate_unit": "TH/s", "site_address": "美罗镇50号", "region_code": SHIMIAN,
            "status": "operating", "discovered_by": "inspection"}  # fmt: skip
    refused = client.post("/api/v1/projects", content=json.dumps(body).replace('"Infinity"',
                                                                              "Infinity"),
                          headers={"content-type": "application/json"})  # fmt: skip
    assert refused.status_code == 422


def test_a_page_rendered_meanwhile_leaves_an_open_form_valid(
    client: TestClient, engine_with_ledger: Engine, tmp_path: Path
) -> None:
    _login(client, "shimian")
    token = _token(client, "/ledger/import")
    assert client.get("/favicon.ico").status_code == 404  # the browser asks; an error page
    client.get("/ledger")  # another tab
    reply = client.post("/ledger/import", data={CSRF_FIELD: token},
                        files=_upload(_workbook([_shimian(20)], tmp_path)))  # fmt: skip
    assert reply.status_code == 200
    assert "导入完成" in reply.text


def test_htmx_results_carry_the_order_and_the_export_link_of_the_filters(
    client: TestClient,
) -> None:
    _login(client, "shimian")
    headers = {"HX-Request": "true", "HX-Target": "ledger-results"}
    part = client.get("/ledger?status=cleared&sort=-power", headers=headers).text
    assert 'id="ledger-sort" name="sort" value="-power" hx-swap-oob="true"' in part
    assert 'href="/ledger/export.xlsx?status=cleared&amp;sort=-power" hx-swap-oob="true"' in part
