"""Double-random inspections on the web: officials commit, draw and publish; the drawn team's
inspectors record; anyone re-checks; the public sees commitments and results, never teams.
Roles are refused, another region's rounds do not exist, forms need their CSRF token."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from conftest import make_entry, make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.states import Role
from minewatch.domain.db import session_scope
from minewatch.domain.inspections.models import InspectionRound
from minewatch.domain.ledger.service import save_entry
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD, form_token, sign_in

SEED = "03 08 15 21 27 33 + 12"
DESCRIPTION = "福彩双色球 第2021115期开奖号码"
INSPECTORS = 6

TARGETS_CSV = "target_id,region_code,enterprise_uscc,name\n" + "".join(
    f"BZ-{i:03d},511824,{make_uscc(i)},申请单位{i}\n" for i in range(1, 11)
)
AGENCIES = ("发改", "能源监管")
INSPECTORS_CSV = "inspector_id,name,region_code,agency,username\n" + "".join(
    f"ZF-{i:02d},检查员{i},511802,{AGENCIES[i % 2]},insp{i}\n" for i in range(INSPECTORS)
)
USERS = (
    ("shimian", Role.COUNTY, "511824"),
    ("hanyuan", Role.COUNTY, "511823"),
    ("sichuan", Role.PROVINCIAL, "510000"),
    ("auditor", Role.AUDITOR, "000000"),
    ("grid", Role.GRID_ANALYST, "511824"),
    ("admin", Role.ADMIN, "000000"),
    *((f"insp{i}", Role.INSPECTOR, "511800") for i in range(INSPECTORS)),
    ("insp_elsewhere", Role.INSPECTOR, "511823"),
)


@pytest.fixture
def app_engine(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        for name, role, region in USERS:
            create_user(session, name, PASSWORD, display_name=f"用户{name}", role=role,
                        region_code=region, actor="setup")  # fmt: skip
    return engine


def _client(engine: Engine) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine))


def _login(client: TestClient, username: str) -> None:
    reply = sign_in(client, username)
    assert reply.status_code == 303, reply.text


def _post(
    client: TestClient,
    page: str,
    action: str,
    data: dict[str, str] | None = None,
    *,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Post a form with the CSRF token of ``page``, as a browser that just loaded it would."""
    token = form_token(client.get(page).text)
    return client.post(action, data={CSRF_FIELD: token, **(data or {})}, files=files,
                       headers=headers, follow_redirects=False)  # fmt: skip


def _status(reply: httpx.Response) -> int:
    return reply.status_code


def _commit_form(client: TestClient, **changes: str) -> httpx.Response:
    data = {
        "region_code": "511824", "target_source": "list", "size_rule": "count",
        "target_count": "4", "inspectors_per_target": "2", "agency_rule": "prefer_distinct",
        "recent_draws_excluded": "3", "recuse_home_county": "true", "draw_date": "2021-10-08",
        "seed_source_description": DESCRIPTION,
    }  # fmt: skip
    data.update(changes)
    files = {
        "targets_file": ("targets.csv", TARGETS_CSV.encode(), "text/csv"),
        "inspectors_file": ("inspectors.csv", INSPECTORS_CSV.encode(), "text/csv"),
    }
    return _post(client, "/inspections/new", "/inspections", data, files=files)


def test_a_round_from_commitment_to_public_results(app_engine: Engine) -> None:
    client = _client(app_engine)
    _login(client, "shimian")
    assert "双随机抽查" in client.get("/inspections").text
    committed = _commit_form(client)
    assert _status(committed) == 303
    draw_no = committed.headers["location"].rsplit("/", 1)[1]
    assert draw_no == "SJ-511824-2021-001"

    public = TestClient(create_app(Settings(), engine=app_engine))
    listing = public.get("/public/inspections")
    assert listing.status_code == 200
    assert draw_no in listing.text
    page = public.get(f"/public/inspections/{draw_no}").text
    assert DESCRIPTION in page
    assert "抽取结果尚未公开" in page

    assert _status(_post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/draw",
                         {"seed_text": SEED})) == 303  # fmt: skip
    detail = client.get(f"/api/v1/inspections/{draw_no}").json()
    assert detail["status"] == "drawn"
    picks = detail["picks"]
    assert len(picks) == 4
    assert all(len(p["team"]) == 2 for p in picks)  # an official sees every team
    assert "检查员" in client.get(f"/inspections/{draw_no}").text
    assert "检查员" not in public.get(f"/public/inspections/{draw_no}").text  # drawn ≠ published

    shown = client.get(f"/inspections/{draw_no}").text
    verified = client.post(f"/inspections/{draw_no}/verify", headers={"HX-Request": "true"},
                           data={CSRF_FIELD: form_token(shown)})  # fmt: skip
    assert "复核一致" in verified.text
    assert "<html" not in verified.text  # a fragment for htmx
    assert "set-cookie" not in verified.headers  # the page's other forms keep their token

    first = picks[0]
    member = f"insp{int(first['team'][0]['inspector_id'][-2:])}"
    team_ids = {m["inspector_id"] for m in first["team"]}
    outsider = next(f"insp{i}" for i in range(INSPECTORS) if f"ZF-{i:02d}" not in team_ids)

    _login(client, outsider)
    seen = client.get(f"/api/v1/inspections/{draw_no}").json()["picks"]
    assert seen[0]["team"] is None  # not their team: not shown
    refused = _post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/results",
                    {"target_id": first["target_id"], "inspected_on": "2021-10-09",
                     "outcome": "compliant"})  # fmt: skip
    assert _status(refused) == 403

    _login(client, member)
    page = client.get(f"/inspections/{draw_no}").text
    assert f'<option value="{first["target_id"]}"' in page
    recorded = _post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/results",
                     {"target_id": first["target_id"], "inspected_on": "2021-10-09",
                      "outcome": "violation", "findings": "厂房内有矿机约80台"})  # fmt: skip
    assert _status(recorded) == 303
    again = _post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/results",
                  {"target_id": first["target_id"], "inspected_on": "2021-10-09",
                   "outcome": "compliant"})  # fmt: skip
    assert _status(again) == 422
    assert "already has its result" in again.text
    assert _status(_post(client, f"/inspections/{draw_no}",
                         f"/inspections/{draw_no}/publish")) == 403  # fmt: skip

    _login(client, "shimian")
    assert _status(_post(client, f"/inspections/{draw_no}",
                         f"/inspections/{draw_no}/publish")) == 303  # fmt: skip
    shown = public.get(f"/public/inspections/{draw_no}").text
    assert "发现挖矿" in shown
    assert "厂房内有矿机约80台" in shown
    assert "检查员" not in shown
    assert "ZF-0" not in shown
    body = public.get(f"/api/v1/public/inspections/{draw_no}").json()
    assert body["draw"]["picks"] == [p["target_id"] for p in picks]
    assert "ZF-0" not in json.dumps(body, ensure_ascii=False)
    assert [r["outcome"] for r in body["results"]] == ["violation", "pending", "pending", "pending"]

    with session_scope(app_engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        by_action = {(e.entity_type, e.action): e.actor for e in events}
        assert by_action[("inspection_round", "commit")] == "用户shimian (shimian)"
        assert by_action[("inspection_round", "draw")] == "用户shimian (shimian)"
        assert by_action[("inspection_round", "publish")] == "用户shimian (shimian)"
        assert by_action[("inspection", "result")] == f"用户{member} ({member})"
        assert by_action[("lead", "create")] == f"用户{member} ({member})"
        assert verify_chain(session).ok


def test_the_api_commits_from_the_ledger_and_checks_the_draw(app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        for n in range(1, 6):
            save_entry(session, make_entry(n), actor="setup")
        save_entry(session, make_entry(9, region_code="511823", responsible_region_code="511823"),
                   actor="setup")  # fmt: skip
        key = issue_key(session, "石棉县发改局系统", role=Role.COUNTY, region_code="511824",
                        actor="setup")  # fmt: skip
    client = _client(app_engine)
    bearer = {"Authorization": f"Bearer {key.token}"}
    body = {
        "region_code": "511824",
        "target_source": "ledger",
        "inspectors": [
            {
                "inspector_id": f"ZF-{i:02d}",
                "name": f"检查员{i}",
                "region_code": "511802",
                "agency": AGENCIES[i % 2],
                "username": f"insp{i}",
            }
            for i in range(INSPECTORS)
        ],
        "parameters": {"draw_date": "2021-10-08", "target_share": 0.4},
        "seed_source_description": DESCRIPTION,
    }
    created = client.post("/api/v1/inspections", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["commitment"]["target_pool_size"] == 5  # 石棉县's five projects only
    draw_no = made["draw_no"]
    assert client.post(f"/api/v1/inspections/{draw_no}/draw", json={"seed_text": SEED},
                       headers=bearer).status_code == 200  # fmt: skip
    again = client.post(f"/api/v1/inspections/{draw_no}/draw", json={"seed_text": "x"},
                        headers=bearer)  # fmt: skip
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    checked = client.post(f"/api/v1/inspections/{draw_no}/verify", headers=bearer).json()
    assert checked == {"ok": True, "problems": []}
    results = client.get(f"/api/v1/inspections/{draw_no}/results", headers=bearer).json()
    assert [r["outcome"] for r in results] == ["pending", "pending"]
    # a system cannot sign for a team
    pick = client.get(f"/api/v1/inspections/{draw_no}", headers=bearer).json()["picks"][0]
    refused = client.post(f"/api/v1/inspections/{draw_no}/results", headers=bearer,
                          json={"target_id": pick["target_id"], "inspected_on": "2021-10-09",
                                "outcome": "compliant"})  # fmt: skip
    assert refused.status_code == 403

    member = f"insp{int(pick['team'][0]['inspector_id'][-2:])}"
    _login(client, member)
    recorded = client.post(f"/api/v1/inspections/{draw_no}/results",
                           json={"target_id": pick["target_id"], "inspected_on": "2021-10-09",
                                 "outcome": "compliant"})  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["picks"][0]["result"]["outcome"] == "compliant"
    early = client.post(f"/api/v1/inspections/{draw_no}/results",
                        json={"target_id": pick["target_id"], "inspected_on": "2021-10-01",
                              "outcome": "compliant"})  # fmt: skip
    assert early.status_code == 422

    with session_scope(app_engine) as session:
        rnd = session.scalars(select(InspectionRound)).one()
        rnd.inspector_pool_json = rnd.inspector_pool_json.replace("检查员1", "检查员X", 1)
    _login(client, "shimian")
    page = _post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/verify")
    assert "复核不一致" in page.text
    assert "inspector_pool_changed" in page.text
    checked = client.post(f"/api/v1/inspections/{draw_no}/verify").json()
    assert not checked["ok"]


def test_roles_that_may_not_are_refused(app_engine: Engine) -> None:
    client = _client(app_engine)
    _login(client, "shimian")
    draw_no = _commit_form(client).headers["location"].rsplit("/", 1)[1]
    for username in ("grid", "admin"):
        _login(client, username)
        assert client.get("/api/v1/inspections").status_code == 403
        assert client.get(f"/api/v1/inspections/{draw_no}").status_code == 403
        assert client.get("/inspections").status_code == 403
    _login(client, "auditor")
    assert client.get(f"/inspections/{draw_no}").status_code == 200
    assert client.get("/inspections/new").status_code == 403
    assert _status(_post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/draw",
                         {"seed_text": SEED})) == 403  # fmt: skip
    assert client.post(f"/api/v1/inspections/{draw_no}/publish").status_code == 403
    _login(client, "insp0")
    assert client.post(f"/api/v1/inspections/{draw_no}/draw",
                       json={"seed_text": SEED}).status_code == 403  # fmt: skip
    assert _status(_commit_form(client)) == 403
    _login(client, "shimian")
    assert client.post(f"/api/v1/inspections/{draw_no}/results",
                       json={"target_id": "BZ-001", "inspected_on": "2021-10-09",
                             "outcome": "compliant"}).status_code == 403  # fmt: skip


def test_another_regions_rounds_do_not_exist(app_engine: Engine) -> None:
    client = _client(app_engine)
    _login(client, "shimian")
    draw_no = _commit_form(client).headers["location"].rsplit("/", 1)[1]
    _post(client, f"/inspections/{draw_no}", f"/inspections/{draw_no}/draw", {"seed_text": SEED})
    for username in ("hanyuan", "insp_elsewhere"):
        _login(client, username)
        assert draw_no not in client.get("/inspections").text
        assert client.get("/api/v1/inspections").json()["total"] == 0
        assert client.get("/api/v1/inspections?region_code=511824").json()["items"] == []
        for path in (f"/inspections/{draw_no}", f"/api/v1/inspections/{draw_no}",
                     f"/api/v1/inspections/{draw_no}/results"):  # fmt: skip
            reply = client.get(path)
            assert reply.status_code == 404
            assert draw_no not in reply.text
        assert client.post(f"/api/v1/inspections/{draw_no}/verify").status_code == 404
        verify = _post(client, "/inspections", f"/inspections/{draw_no}/verify")
        assert _status(verify) == 404
    _login(client, "hanyuan")
    assert client.post(f"/api/v1/inspections/{draw_no}/publish").status_code == 404
    assert _status(_commit_form(client)) == 403  # 石棉县 is not 汉源县's to inspect
    _login(client, "sichuan")
    assert client.get("/api/v1/inspections").json()["total"] == 1
    assert client.get(f"/inspections/{draw_no}").status_code == 200


def test_forms_need_their_token_and_report_bad_input(app_engine: Engine) -> None:
    client = _client(app_engine)
    _login(client, "shimian")
    client.get("/inspections/new")
    bare = client.post("/inspections", data={"region_code": "511824"}, follow_redirects=False)
    assert bare.status_code == 403
    too_many = _commit_form(client, target_count="11")
    assert _status(too_many) == 422
    assert "only 10" in too_many.text
    assert DESCRIPTION in too_many.text  # the form keeps its values
    no_date = _commit_form(client, draw_date="")
    assert _status(no_date) == 422
    regions_counts = _commit_form(client, size_rule="regions", region_counts="511824:2")
    assert _status(regions_counts) == 303
    wrong_seed = _post(client, "/inspections", "/inspections/SJ-511824-2021-001/draw",
                       {"seed_text": "  "})  # fmt: skip
    assert _status(wrong_seed) == 422
    with session_scope(app_engine) as session:
        stored = session.scalars(select(InspectionRound)).one()
        assert stored.draw_date == date(2021, 10, 8)
        assert json.loads(stored.accounts_json)["ZF-00"] == "insp0"


def test_the_pages_speak_english_on_request(app_engine: Engine) -> None:
    client = _client(app_engine)
    _login(client, "shimian")
    assert "Commit a draw" in client.get("/inspections/new?lang=en").text
    assert "Double-random inspections: public results" in client.get("/public/inspections").text
