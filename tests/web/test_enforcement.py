"""Enforcement pages and API: measures, the surcharge list, screening, credit.

The world: a confirmed case in 石棉县 (511824) and one in 汉源县 (511823), each with a surcharge
and a power-cut measure, its account on the surcharge list, and a credit record (each
enterprise had signed a commitment). Users of every role sign in; each sees its own region's
records only, writes only what its role may, and every write lands in the audit chain with the
user's name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from conftest import (
    COUNTY,
    FOUND,
    OTHER_COUNTY,
    PROVINCE,
    at,
    case_lead,
    make_confirmed_case,
    make_entry,
    make_uscc,
)
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case, MeasureKind, MeasureStatus
from minewatch.domain.cases.service import (
    Actor,
    MeasureOrder,
    assign,
    confirm,
    fuse_leads,
    get_case,
    order_measures,
    record_check,
)
from minewatch.domain.cases.states import Role
from minewatch.domain.credit.models import Commitment, CommitmentStatus, CreditRecord, RecordStatus
from minewatch.domain.credit.service import (
    CommitmentData,
    record_commitment,
    record_no_for,
    sha256_text,
)
from minewatch.domain.db import session_scope
from minewatch.domain.enterprises.service import EnterpriseData
from minewatch.domain.leads.service import record_leads
from minewatch.domain.measures.models import SurchargeAccount
from minewatch.reference.ledger import EnterpriseKind
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.enforcement import credit, measures, screening, surcharge
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD, form_token, light_password_hashes, sign_in

INSIDE_ACCOUNT = "5118240012345"
OUTSIDE_ACCOUNT = "5118230099999"
INSIDE_USCC = make_uscc(1)
OUTSIDE_USCC = make_uscc(2, "511823")
OUTSIDE_NAME = "汉源县鑫源2科技有限公司"
HANYUAN_INSPECTOR = Actor("汉源县检查组 周明", Role.INSPECTOR, "511823")
USERS = {
    "shimian": (Role.COUNTY, "511824"),
    "hanyuan": (Role.COUNTY, "511823"),
    "sichuan": (Role.PROVINCIAL, "510000"),
    "grid": (Role.GRID_ANALYST, "511824"),
    "inspector": (Role.INSPECTOR, "511824"),
    "auditor": (Role.AUDITOR, "511824"),
    "admin": (Role.ADMIN, "510000"),
}


@dataclass(frozen=True)
class World:
    inside_case: str
    outside_case: str
    inside_record: str
    outside_record: str
    inside_commitment: int
    outside_commitment: int

    @property
    def outside_marks(self) -> tuple[str, ...]:
        """What must never appear in a response to a user of 石棉县."""
        return (self.outside_case, OUTSIDE_ACCOUNT, OUTSIDE_USCC, OUTSIDE_NAME,
                self.outside_record)  # fmt: skip


def _commit(session: Session, uscc: str, name: str, region: str) -> int:
    enterprise = EnterpriseData(uscc=uscc, name=name, region_code=region,
                                kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
                                legal_representative="王磊")  # fmt: skip
    data = CommitmentData(
        uscc=uscc, text_version="2021-09", text_sha256=sha256_text("本企业郑重承诺……"),
        signed_date=date(2021, 9, 20), valid_until=date(2024, 9, 19), signatory="王磊",
        document_name="承诺书.pdf", document_sha256="cd" * 32,
    )  # fmt: skip
    return record_commitment(session, data, actor="省发改委", enterprise=enterprise,
                             at=at("2021-09-21")).id  # fmt: skip


def _outside_case(session: Session) -> str:
    record_leads(
        session,
        [case_lead("meters", "M2", 0.9, region_code="511823", account_no=OUTSIDE_ACCOUNT,
                   uscc=OUTSIDE_USCC)],
        actor="analyst",
        at=at("2021-10-20"),
    )  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    case_no = session.scalars(select(Case.case_no).where(Case.region_code == "511823")).one()
    assign(session, case_no, "511823", actor=PROVINCE, at=at("2021-10-21"))
    record_check(session, case_no, FOUND, actor=HANYUAN_INSPECTOR, at=at("2021-10-25"))
    entry = make_entry(
        2, region_code="511823", responsible_region_code="511823", enterprise_uscc=OUTSIDE_USCC,
        enterprise_name=OUTSIDE_NAME, grid_account_no=OUTSIDE_ACCOUNT,
        site_address="四川省雅安市汉源县富林镇2号厂房", project_name="汉源县矿场2号",
    )  # fmt: skip
    confirm(session, case_no, actor=OTHER_COUNTY, entry=entry, at=at("2021-10-26"))
    return case_no


def _orders() -> list[MeasureOrder]:
    return [MeasureOrder(MeasureKind.SURCHARGE, date(2021, 12, 31)),
            MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 5))]  # fmt: skip


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lightest: these tests are about enforcement, not password hashing."""
    light_password_hashes(monkeypatch)


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine) as session:
        inside_commitment = _commit(session, INSIDE_USCC, "石棉县鑫源1科技有限公司", "511824")
        outside_commitment = _commit(session, OUTSIDE_USCC, OUTSIDE_NAME, "511823")
        inside = make_confirmed_case(session)
        outside = _outside_case(session)
        order_measures(session, inside, _orders(), actor=COUNTY, at=at("2021-10-27"))
        order_measures(session, outside, _orders(), actor=OTHER_COUNTY, at=at("2021-10-27"))
        for name, (role, region) in USERS.items():
            create_user(session, name, PASSWORD, display_name=f"{name} 用户", role=role,
                        region_code=region, actor="admin")  # fmt: skip
        records = set(session.scalars(select(CreditRecord.record_no)))
    assert records == {record_no_for(inside), record_no_for(outside)}
    return World(inside, outside, record_no_for(inside), record_no_for(outside),
                 inside_commitment, outside_commitment)  # fmt: skip


@pytest.fixture
def client(engine: Engine, world: World) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine))


def _sign_in(client: TestClient, username: str) -> None:
    reply = sign_in(client, username)
    assert reply.status_code == 303, reply.text


def _post(client: TestClient, page: str, action: str, data: dict[str, str],
          **kwargs: object) -> int:  # fmt: skip
    """Post a form from ``page`` with its CSRF token; the status code."""
    token = form_token(client.get(page).text)
    reply = client.post(action, data={CSRF_FIELD: token, **data}, follow_redirects=False,
                        **kwargs)  # type: ignore[arg-type]  # fmt: skip
    return reply.status_code


def _audited(engine: Engine, entity_type: str, entity_id: str, action: str) -> list[str]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.entity_type == entity_type,
                    AuditEvent.entity_id == entity_id,
                    AuditEvent.action == action,
                )
            )
        )


def _absent(world: World, text: str) -> None:
    for mark in world.outside_marks:
        assert mark not in text, mark


# ----------------------------------------------------------------------------------------------
# pages and lists


def test_every_page_renders_and_shows_only_the_region(client: TestClient, world: World) -> None:
    _sign_in(client, "shimian")
    for path in ("/measures", "/measures?kind=surcharge&status=ordered&overdue=true",
                 "/surcharge", "/surcharge?collection=unbilled", f"/surcharge/{INSIDE_ACCOUNT}",
                 "/screening", "/credit", "/credit/commitments",
                 f"/credit/{world.inside_record}"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        _absent(world, page.text)
    measures = client.get("/measures").text
    assert world.inside_case in measures
    assert "标记完成" in measures
    assert INSIDE_ACCOUNT in client.get("/surcharge").text
    assert world.inside_record in client.get("/credit").text
    assert INSIDE_USCC in client.get("/credit/commitments").text
    assert "Mark done" in client.get("/measures?lang=en").text
    client.get("/measures?lang=zh")
    for path in (f"/surcharge/{OUTSIDE_ACCOUNT}", f"/credit/{world.outside_record}",
                 "/surcharge/0000", "/credit/XY0"):  # fmt: skip
        refused = client.get(path)
        assert refused.status_code == 404, path
        _absent(world, refused.text)


def test_the_province_sees_both_counties(client: TestClient, world: World) -> None:
    _sign_in(client, "sichuan")
    measures = client.get("/api/v1/measures").json()
    assert {m["case_no"] for m in measures["items"]} == {world.inside_case, world.outside_case}
    assert measures["total"] == 4
    accounts = client.get("/api/v1/surcharge").json()
    assert {a["account_no"] for a in accounts["items"]} == {INSIDE_ACCOUNT, OUTSIDE_ACCOUNT}
    records = client.get("/api/v1/credit/records").json()
    assert {r["record_no"] for r in records["items"]} == {world.inside_record,
                                                          world.outside_record}  # fmt: skip


def test_lists_are_paged_and_filtered(client: TestClient, world: World) -> None:
    _sign_in(client, "sichuan")
    first = client.get("/api/v1/measures?limit=1").json()
    second = client.get("/api/v1/measures?limit=1&offset=1").json()
    assert (first["total"], len(first["items"]), second["offset"]) == (4, 1, 1)
    assert first["items"][0] != second["items"][0]
    assert first["items"][0]["kind"] == "power_cut"  # due first
    only = client.get("/api/v1/measures?kind=surcharge").json()
    assert {m["kind"] for m in only["items"]} == {"surcharge"}
    assert client.get("/api/v1/measures?overdue=true").json()["total"] == 4  # all past due now
    assert client.get(f"/api/v1/measures?case_no={world.outside_case}").json()["total"] == 2
    assert client.get("/api/v1/measures?kind=nonsense").status_code == 422
    assert client.get("/measures?kind=nonsense").status_code == 422
    page = client.get("/measures?limit=1")
    assert "下一页" in page.text
    assert "offset=1" in page.text
    unbilled = client.get("/api/v1/surcharge?collection=unbilled").json()
    assert unbilled["total"] == 2
    assert client.get("/api/v1/surcharge?collection=outstanding").json()["total"] == 0
    found = client.get(f"/api/v1/surcharge?q={INSIDE_ACCOUNT[:8]}").json()
    assert [a["account_no"] for a in found["items"]] == [INSIDE_ACCOUNT]


# ----------------------------------------------------------------------------------------------
# measures


def test_completing_a_measure_from_the_list(
    client: TestClient, world: World, engine: Engine
) -> None:
    _sign_in(client, "shimian")
    page = "/measures"
    form = {"kind": "power_cut", "reason": "已停电", "back": "/measures?kind=power_cut"}
    refused = client.post(f"/measures/{world.inside_case}/complete", data=form,
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403  # no CSRF token
    token = form_token(client.get(page).text)
    done = client.post(f"/measures/{world.inside_case}/complete",
                       data={CSRF_FIELD: token, **form}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == "/measures?kind=power_cut"
    assert _post(client, page, f"/measures/{world.outside_case}/complete", form) == 404
    assert _post(client, page, "/measures/MW0/complete", form) == 404
    with session_scope(engine) as session:
        case = get_case(session, world.inside_case)
        status = {m.kind: m.status for m in case.measures}
    assert status[MeasureKind.POWER_CUT] is MeasureStatus.COMPLETED
    actors = _audited(engine, "case", world.inside_case, "complete_measure")
    assert actors == ["shimian 用户 (shimian)"]
    # the last one through the API moves the case on; a stale version is refused
    stale = client.post(f"/api/v1/measures/{world.inside_case}/complete",
                        json={"kind": "surcharge", "expected_version": 1})  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    last = client.post(f"/api/v1/measures/{world.inside_case}/complete",
                       json={"kind": "surcharge", "reason": "加价电费已收取"})  # fmt: skip
    assert last.status_code == 200, last.text
    assert last.json()["status"] == "measures_completed"
    assert {m["status"] for m in last.json()["measures"]} == {"completed"}
    again = client.post(f"/api/v1/measures/{world.inside_case}/complete",
                        json={"kind": "surcharge"})  # fmt: skip
    assert again.status_code == 422  # no open surcharge measure left
    assert _audited(engine, "case", world.inside_case, "complete_measures") == [
        "shimian 用户 (shimian)"
    ]


@pytest.mark.parametrize("username", ["auditor", "inspector", "grid"])
def test_readers_may_not_complete_measures(client: TestClient, world: World, username: str) -> None:
    _sign_in(client, username)
    page = client.get("/measures")
    assert page.status_code == 200
    assert "标记完成" not in page.text
    form = {"kind": "power_cut"}
    assert _post(client, "/measures", f"/measures/{world.inside_case}/complete", form) == 403
    api = client.post(f"/api/v1/measures/{world.inside_case}/complete", json=form)
    assert api.status_code == 403
    assert api.json()["code"] == "forbidden"


# ----------------------------------------------------------------------------------------------
# surcharge


def test_the_grid_company_bills_and_records_payments(
    client: TestClient, world: World, engine: Engine
) -> None:
    _sign_in(client, "grid")
    page = f"/surcharge/{INSIDE_ACCOUNT}"
    bill = {"period_start": "2021-10-01", "period_end": "2021-10-31", "metered_kwh": "310,000",
            "due_date": "2021-12-15"}  # fmt: skip
    assert _post(client, page, f"{page}/bills", bill) == 303
    assert _post(client, page, f"{page}/bills", bill) == 422  # billed once only
    pay = {"paid_date": "2021-12-10", "amount_yuan": "150000.00", "reference": "回单001"}
    assert _post(client, page, f"{page}/payments", pay) == 303
    assert _post(client, page, f"{page}/payments", {**pay, "amount_yuan": "0.001"}) == 422
    assert _post(client, page, f"{page}/payments", {**pay, "amount_yuan": "很多"}) == 422
    shown = client.get(page).text
    assert "400,000.00" in shown  # 20 of 31 days × 10,000 kWh × 2.00 yuan
    assert "250,000.00" in shown
    assert "部分缴纳" in shown
    detail = client.get(f"/api/v1/surcharge/{INSIDE_ACCOUNT}?as_of=2021-12-20").json()
    assert detail["bills"][0]["amount_fen"] == 40_000_000
    assert detail["bills"][0]["surcharged_wh"] == 200_000_000
    assert detail["bills"][0]["segments"][0]["rate_yuan_per_kwh"] == "2.00"
    assert detail["reconciliation"]["outstanding_fen"] == 25_000_000
    assert detail["reconciliation"]["days_overdue"] == 5
    assert detail["account"]["collection"] == "partial"
    # the API: November, and the rest paid
    billed = client.post(f"/api/v1/surcharge/{INSIDE_ACCOUNT}/bills", json={
        "periods": [{"period_start": "2021-11-01", "period_end": "2021-11-30",
                     "metered_wh": 300_000_000}], "due_date": "2021-12-31"})  # fmt: skip
    assert billed.status_code == 201, billed.text
    assert billed.json()[0]["amount_fen"] == 60_000_000
    bad = client.post(f"/api/v1/surcharge/{INSIDE_ACCOUNT}/bills", json={
        "periods": [{"period_start": "2021-12-31", "period_end": "2021-12-01",
                     "metered_wh": 1}], "due_date": "2022-01-31"})  # fmt: skip
    assert bad.status_code == 422
    paid = client.post(f"/api/v1/surcharge/{INSIDE_ACCOUNT}/payments",
                       json={"paid_date": "2021-12-20", "amount_fen": 85_000_000})  # fmt: skip
    assert paid.status_code == 201
    summary = client.get("/api/v1/surcharge?collection=paid").json()
    assert [a["account_no"] for a in summary["items"]] == [INSIDE_ACCOUNT]
    assert summary["items"][0]["balance_fen"] == 0
    actors = _audited(engine, "surcharge_account", INSIDE_ACCOUNT, "payment")
    assert actors == ["grid 用户 (grid)"] * 2
    assert _audited(engine, "surcharge_account", INSIDE_ACCOUNT, "bill") == ["grid 用户 (grid)"] * 2
    with session_scope(engine) as session:
        assert verify_chain(session).ok
    # another region's account does not exist for this user
    assert _post(client, page, f"/surcharge/{OUTSIDE_ACCOUNT}/payments", pay) == 404
    outside = client.post(f"/api/v1/surcharge/{OUTSIDE_ACCOUNT}/payments",
                          json={"paid_date": "2021-12-20", "amount_fen": 1})  # fmt: skip
    assert outside.status_code == 404
    _absent(world, outside.text)


def test_a_grid_company_system_bills_with_its_api_key(
    engine: Engine, client: TestClient, world: World
) -> None:
    with session_scope(engine) as session:
        yaan = issue_key(session, "国网雅安供电公司营销系统", role=Role.GRID_ANALYST,
                         region_code="511800", actor="admin")  # fmt: skip
        chengdu = issue_key(session, "国网成都供电公司营销系统", role=Role.GRID_ANALYST,
                            region_code="510100", actor="admin")  # fmt: skip
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {yaan.token}"}
    listed = client.get("/api/v1/surcharge", headers=headers).json()
    assert {a["account_no"] for a in listed["items"]} == {INSIDE_ACCOUNT, OUTSIDE_ACCOUNT}
    body = {"periods": [{"period_start": "2021-10-01", "period_end": "2021-10-31",
                         "metered_wh": 310_000_000}], "due_date": "2021-12-15"}  # fmt: skip
    billed = client.post(f"/api/v1/surcharge/{OUTSIDE_ACCOUNT}/bills", json=body, headers=headers)
    assert billed.status_code == 201
    assert _audited(engine, "surcharge_account", OUTSIDE_ACCOUNT, "bill") == [
        f"API key 国网雅安供电公司营销系统 ({yaan.key_id})"
    ]
    too_long = {**body, "periods": [{"period_start": "2021-01-01", "period_end": "2023-12-31",
                                     "metered_wh": 1}]}  # fmt: skip
    refused = client.post(f"/api/v1/surcharge/{INSIDE_ACCOUNT}/bills", json=too_long,
                          headers=headers)  # fmt: skip
    assert refused.status_code == 422
    assert "366 days" in refused.json()["detail"]
    other = {"Authorization": f"Bearer {chengdu.token}"}
    assert client.get("/api/v1/surcharge", headers=other).json()["total"] == 0
    assert client.get(f"/api/v1/surcharge/{INSIDE_ACCOUNT}", headers=other).status_code == 404
    screened = client.post("/api/v1/screening/connections", headers=other,
                           json=[{"reference": "1", "name": "x", "uscc": INSIDE_USCC}])  # fmt: skip
    assert screened.json()[0]["decision"] == "pass"


@pytest.mark.parametrize("username", ["auditor", "inspector"])
def test_readers_may_not_bill(client: TestClient, world: World, username: str) -> None:
    _sign_in(client, username)
    page = f"/surcharge/{INSIDE_ACCOUNT}"
    shown = client.get(page)
    assert shown.status_code == 200
    assert "登记缴费" not in shown.text
    pay = {"paid_date": "2021-12-10", "amount_yuan": "1.00"}
    assert _post(client, page, f"{page}/payments", pay) == 403
    bill = {"period_start": "2021-10-01", "period_end": "2021-10-31", "metered_kwh": "1",
            "due_date": "2021-12-15"}  # fmt: skip
    assert _post(client, page, f"{page}/bills", bill) == 403
    api = client.post(f"/api/v1/surcharge/{INSIDE_ACCOUNT}/payments",
                      json={"paid_date": "2021-12-10", "amount_fen": 100})  # fmt: skip
    assert api.status_code == 403


def test_the_list_exports_for_the_grid_company(client: TestClient, world: World) -> None:
    _sign_in(client, "shimian")
    as_csv = client.get("/surcharge/export?format=csv")
    assert as_csv.status_code == 200
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["电费户号", "案件编号", "区划代码"]
    assert [r[0] for r in rows[1:]] == [INSIDE_ACCOUNT]
    assert rows[1][13] == "未出账"
    _absent(world, as_csv.content.decode("utf-8-sig"))
    as_xlsx = client.get("/api/v1/surcharge/export?format=xlsx")
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "电费户号"
    assert [r[0] for r in values[1:]] == [INSIDE_ACCOUNT]
    assert "xlsx" in as_xlsx.headers["content-disposition"]


# ----------------------------------------------------------------------------------------------
# screening


def test_screening_one_party_from_the_form(client: TestClient, world: World) -> None:
    _sign_in(client, "grid")
    form = {"kind": "connections", "reference": "BZ-1", "name": "换了名字的公司",
            "uscc": INSIDE_USCC}  # fmt: skip
    token = form_token(client.get("/screening").text)
    held = client.post("/screening", data={CSRF_FIELD: token, **form})
    assert held.status_code == 200
    assert "暂停办理" in held.text
    assert world.inside_case in held.text
    load = {"kind": "connections", "name": "某算力中心", "declared_load_kw": "3000",
            "round_the_clock": "yes", "industry": "数据中心"}  # fmt: skip
    token = form_token(client.get("/screening").text)
    assert "申报负荷疑似挖矿" in client.post("/screening", data={CSRF_FIELD: token, **load}).text
    token = form_token(client.get("/screening").text)
    daytime = client.post("/screening", data={CSRF_FIELD: token, **load, "round_the_clock": "no"})
    assert "通过" in daytime.text
    assert "申报负荷疑似挖矿" not in daytime.text
    token = form_token(client.get("/screening").text)
    market = client.post("/screening", data={CSRF_FIELD: token, **load, "kind": "market"})
    assert "通过" in market.text  # market lists are not judged on load
    assert client.post("/screening", data=form).status_code == 403  # no token


def test_a_batch_is_screened_and_a_bad_file_named_by_row_and_column(
    client: TestClient, world: World
) -> None:
    _sign_in(client, "shimian")
    batch = ("reference,name,uscc,address,declared_load_kw,daily_hours,industry\n"
             f"A1,某公司,{INSIDE_USCC},,,,\n"
             f"A2,另一公司,{OUTSIDE_USCC},,,,\n"
             "A3,某面粉厂,,四川省成都市双流区某路1号,300,16,食品加工\n")  # fmt: skip
    token = form_token(client.get("/screening").text)
    upload = {"file": ("parties.csv", batch.encode("utf-8-sig"), "text/csv")}
    reply = client.post("/screening/upload", data={CSRF_FIELD: token, "kind": "customers"},
                        files=upload)  # fmt: skip
    assert reply.status_code == 200
    assert reply.text.count("暂停办理") == 1  # A1 only: 汉源县's enterprise is not on 石棉县's list
    _absent(world, reply.text.replace(OUTSIDE_USCC, ""))
    bad = "reference,name,declared_load_kw\nX1,某厂,很多\n,无编号,\n"
    token = form_token(client.get("/screening").text)
    refused = client.post("/screening/upload", data={CSRF_FIELD: token, "kind": "connections"},
                          files={"file": ("bad.csv", bad.encode(), "text/csv")})  # fmt: skip
    assert refused.status_code == 422
    assert "declared_load_kw" in refused.text
    assert "<td>2</td>" in refused.text
    assert "<td>3</td><td>reference</td>" in refused.text
    token = form_token(client.get("/screening").text)
    binary = client.post("/screening/upload", data={CSRF_FIELD: token, "kind": "market"},
                         files={"file": ("x.csv", "名称".encode("gbk"), "text/csv")})  # fmt: skip
    assert binary.status_code == 422
    assert "UTF-8" in binary.text


def test_screening_api_sees_the_watch_list_of_the_callers_region(
    client: TestClient, world: World
) -> None:
    parties = [{"reference": "C1", "name": "某公司", "uscc": OUTSIDE_USCC},
               {"reference": "C2", "name": "石棉鑫源1科技有限责任公司"}]  # fmt: skip
    _sign_in(client, "shimian")
    mine = {r["reference"]: r for r in client.post("/api/v1/screening/market", json=parties).json()}
    assert mine["C1"]["decision"] == "pass"
    assert mine["C2"]["decision"] == "hold"
    assert {h["on"] for h in mine["C2"]["hits"]} == {"name"}
    _absent(world, json.dumps(mine, ensure_ascii=False).replace(OUTSIDE_USCC, ""))
    _sign_in(client, "sichuan")
    province = client.post("/api/v1/screening/customers", json=parties).json()
    held = {r["reference"]: r for r in province}["C1"]
    assert held["decision"] == "hold"
    assert any(world.outside_case in h["source"] for h in held["hits"])
    assert client.post("/api/v1/screening/nonsense", json=parties).status_code == 422
    assert client.post("/api/v1/screening/market", json=[]).status_code == 422
    _sign_in(client, "auditor")
    assert client.post("/api/v1/screening/market", json=parties).status_code == 403
    assert client.get("/screening").status_code == 403


# ----------------------------------------------------------------------------------------------
# credit


def test_a_commitment_is_recorded_with_its_document_hashed_and_withdrawn(
    client: TestClient, world: World, engine: Engine
) -> None:
    _sign_in(client, "shimian")
    uscc = make_uscc(7)
    scan = b"%PDF-1.4 signed commitment"
    form = {"uscc": uscc, "name": "石棉县云算7数据有限公司", "region_code": "511824",
            "legal_representative": "陈晨", "text_version": "2021-09",
            "text": "本企业郑重承诺：不参与虚拟货币“挖矿”活动。", "signed_date": "2021-10-01",
            "valid_until": "2024-09-30", "signatory": "陈晨"}  # fmt: skip
    page = "/credit/commitments"
    status = _post(client, page, page, form,
                   files={"document": ("承诺书-7.pdf", scan, "application/pdf")})  # fmt: skip
    assert status == 303
    with session_scope(engine) as session:
        commitment = session.scalars(select(Commitment).where(Commitment.uscc == uscc)).one()
        assert commitment.document_sha256 == hashlib.sha256(scan).hexdigest()
        assert commitment.document_name == "承诺书-7.pdf"
        assert commitment.text_sha256 == sha256_text(form["text"])
        key = f"{uscc}#{commitment.id}"
        commitment_id = commitment.id
    assert _audited(engine, "credit_commitment", key, "sign") == ["shimian 用户 (shimian)"]
    # a second in force is refused; no document at all is refused; another county's region too
    assert _post(client, page, page, {**form, "document_name": "a.pdf",
                                      "document_sha256": "ab" * 32}) == 422  # fmt: skip
    assert _post(client, page, page, {**form, "uscc": make_uscc(8)}) == 422
    typed = {"document_name": "a.pdf", "document_sha256": "ab" * 32}
    assert _post(client, page, page, {**form, **typed, "uscc": "123"}) == 422
    assert _post(client, page, page, {**form, **typed, "uscc": make_uscc(11),
                                      "region_code": "5118"}) == 422  # fmt: skip
    assert _post(client, page, page, {**form, "uscc": make_uscc(12), "document_name": "a.pdf",
                                      "document_sha256": "ab"}) == 422  # fmt: skip
    elsewhere = {**form, "uscc": make_uscc(9, "511823"), "region_code": "511823",
                 "document_name": "a.pdf", "document_sha256": "ab" * 32}  # fmt: skip
    assert _post(client, page, page, elsewhere) == 422
    on_file_elsewhere = {**form, "uscc": OUTSIDE_USCC, "name": "", "region_code": "",
                         "document_name": "a.pdf", "document_sha256": "ab" * 32}  # fmt: skip
    assert _post(client, page, page, on_file_elsewhere) == 404
    withdraw = {"reason": "企业注销", "effective": "2022-01-01"}
    assert _post(client, page, f"/credit/commitments/{commitment_id}/withdraw", withdraw) == 303
    assert _post(client, page, f"/credit/commitments/{world.outside_commitment}/withdraw",
                 withdraw) == 404  # fmt: skip
    assert _audited(engine, "credit_commitment", key, "withdraw") == ["shimian 用户 (shimian)"]
    listed = client.get(f"/api/v1/credit/commitments?uscc={uscc}").json()
    assert listed["items"][0]["status"] == "withdrawn"
    assert listed["items"][0]["withdrawn_date"] == "2022-01-01"
    everything = client.get("/api/v1/credit/commitments").json()
    assert {c["uscc"] for c in everything["items"]} == {INSIDE_USCC, uscc}
    # the API: the text's digest, the document's digest
    body = {"uscc": make_uscc(10), "text_version": "2021-09", "text_sha256": "ef" * 32,
            "signed_date": "2021-10-01", "valid_until": "2024-09-30", "signatory": "陈晨",
            "document_name": "b.pdf", "document_sha256": "12" * 32,
            "enterprise": {"name": "石棉县某数据中心", "region_code": "511824"}}  # fmt: skip
    made = client.post("/api/v1/credit/commitments", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "in_force"
    gone = client.post(f"/api/v1/credit/commitments/{made.json()['id']}/withdraw",
                       json={"reason": "签署有误"})  # fmt: skip
    assert gone.status_code == 200
    assert gone.json()["status"] == "withdrawn"
    missing = client.post("/api/v1/credit/commitments/999999/withdraw", json={"reason": "x"})
    assert missing.status_code == 404


def test_a_credit_record_is_corrected_then_revoked(
    client: TestClient, world: World, engine: Engine
) -> None:
    _sign_in(client, "shimian")
    page = f"/credit/{world.inside_record}"
    shown = client.get(page).text
    assert "不履行承诺" in shown
    assert "撤销记录（申诉）" in shown
    assert _post(client, page, f"{page}/correct", {"reason": "", "facts": "x"}) == 422
    fixed = {"reason": "矿机台数更正", "facts": "该企业……现场查见矿机118台。"}
    assert _post(client, page, f"{page}/correct", fixed) == 303
    assert "现场查见矿机118台" in client.get(page).text
    assert _post(client, page, f"/credit/{world.outside_record}/revoke", {"reason": "x"}) == 404
    assert _post(client, page, f"{page}/revoke", {"reason": "申诉成立"}) == 303
    assert _post(client, page, f"{page}/revoke", {"reason": "again"}) == 422
    record = client.get(f"/api/v1/credit/records/{world.inside_record}").json()
    assert (record["status"], record["status_reason"]) == ("revoked", "申诉成立")
    assert _audited(engine, "credit_record", world.inside_record, "correct") == [
        "shimian 用户 (shimian)"
    ]
    assert _audited(engine, "credit_record", world.inside_record, "revoke") == [
        "shimian 用户 (shimian)"
    ]
    with session_scope(engine) as session:
        commitment = session.get(Commitment, world.inside_commitment)
        assert commitment is not None
        assert commitment.status is CommitmentStatus.IN_FORCE  # revoked: in force again
        assert verify_chain(session).ok


def test_credit_api_breach_revoke_and_correct(
    client: TestClient, world: World, engine: Engine
) -> None:
    _sign_in(client, "shimian")
    again = client.post("/api/v1/credit/records", json={"case_no": world.inside_case})
    assert again.status_code == 201
    assert again.json()["record_no"] == world.inside_record  # once per case
    assert client.post("/api/v1/credit/records",
                       json={"case_no": world.outside_case}).status_code == 404  # fmt: skip
    corrected = client.post(f"/api/v1/credit/records/{world.inside_record}/correct",
                            json={"reason": "更正", "restriction": "限制参与政府采购"})  # fmt: skip
    assert corrected.status_code == 200
    assert corrected.json()["status"] == "corrected"
    assert client.post(f"/api/v1/credit/records/{world.outside_record}/revoke",
                       json={"reason": "x"}).status_code == 404  # fmt: skip
    revoked = client.post(f"/api/v1/credit/records/{world.inside_record}/revoke",
                          json={"reason": "申诉成立"})  # fmt: skip
    assert revoked.json()["status"] == "revoked"
    filtered = client.get("/api/v1/credit/records?status=revoked").json()
    assert [r["record_no"] for r in filtered["items"]] == [world.inside_record]
    assert client.get("/api/v1/credit/records?status=published").json()["total"] == 0
    token = form_token(client.get("/credit").text)
    made = client.post("/credit/breach", data={CSRF_FIELD: token, "case_no": world.inside_case},
                       follow_redirects=False)  # fmt: skip
    assert made.headers["location"] == f"/credit/{world.inside_record}"


def test_credit_exports_hold_the_region_only(client: TestClient, world: World) -> None:
    _sign_in(client, "auditor")
    as_csv = client.get("/credit/export?format=csv")
    assert as_csv.status_code == 200
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [r["信息编号"] for r in rows] == [world.inside_record]
    assert rows[0]["信息状态"] == "公示"
    as_jsonl = client.get("/api/v1/credit/export?format=jsonl")
    assert as_jsonl.status_code == 200
    lines = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [line["信息编号"] for line in lines] == [world.inside_record]
    for body in (as_csv.content.decode("utf-8-sig"), as_jsonl.text):
        _absent(world, body)


@pytest.mark.parametrize("username", ["auditor", "inspector", "grid"])
def test_only_officials_change_credit(client: TestClient, world: World, username: str) -> None:
    _sign_in(client, username)
    page = f"/credit/{world.inside_record}"
    shown = client.get(page)
    assert shown.status_code == 200
    assert "撤销记录（申诉）" not in shown.text
    token = form_token(shown.text)  # the sign-out form carries one
    for action, data in ((f"{page}/revoke", {"reason": "x"}),
                         (f"{page}/correct", {"reason": "x", "facts": "y"}),
                         (f"/credit/commitments/{world.inside_commitment}/withdraw",
                          {"reason": "x"}),
                         ("/credit/breach", {"case_no": world.inside_case})):  # fmt: skip
        reply = client.post(action, data={CSRF_FIELD: token, **data}, follow_redirects=False)
        assert reply.status_code == 403, action
    for action, body in ((f"/api/v1/credit/records/{world.inside_record}/revoke", {"reason": "x"}),
                         ("/api/v1/credit/records", {"case_no": world.inside_case}),
                         (f"/api/v1/credit/commitments/{world.inside_commitment}/withdraw",
                          {"reason": "x"})):  # fmt: skip
        assert client.post(action, json=body).status_code == 403, action


# ----------------------------------------------------------------------------------------------
# the jurisdiction sweep


def _paths(world: World, inside: bool) -> list[tuple[str, bool]]:
    """Every GET route of these screens, with its path parameters filled in, and whether it
    names one record."""
    values = {
        "account_no": INSIDE_ACCOUNT if inside else OUTSIDE_ACCOUNT,
        "record_no": world.inside_record if inside else world.outside_record,
    }
    paths = []
    routes = [r for part in (credit, measures, screening, surcharge) for r in part.router.routes]
    for route in routes:
        path = getattr(route, "path", "")
        if "GET" not in getattr(route, "methods", set()):
            continue
        filled = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        paths.append((filled, filled != path))
    assert len(paths) >= 14
    return paths


@pytest.mark.parametrize("username", ["shimian", "grid", "inspector", "auditor"])
def test_no_route_shows_another_region(client: TestClient, world: World, username: str) -> None:
    _sign_in(client, username)
    for path, _ in _paths(world, inside=True):
        reply = client.get(path)
        expected = 403 if path == "/screening" and username in ("inspector", "auditor") else 200
        assert reply.status_code == expected, (path, reply.text[:300])
        _absent(world, reply.content.decode("utf-8-sig", errors="replace"))
    for path, one_record in _paths(world, inside=False):
        reply = client.get(path)
        if one_record:
            assert reply.status_code == 404, path
        _absent(world, reply.content.decode("utf-8-sig", errors="replace"))


def test_a_nul_character_is_refused_not_a_server_error(client: TestClient, world: World) -> None:
    """PostgreSQL cannot store NUL in text: the caller hears 422 (SQLite finds nothing: 404)."""
    _sign_in(client, "shimian")
    for path in ("/api/v1/measures?case_no=%00", "/api/v1/surcharge?q=%00",
                 "/api/v1/surcharge/%00", "/api/v1/credit/records/%00", "/surcharge/%00",
                 "/api/v1/credit/commitments?uscc=%00"):  # fmt: skip
        assert client.get(path).status_code in (200, 404, 422), path


def test_an_administrator_reads_none_of_it(client: TestClient, world: World) -> None:
    _sign_in(client, "admin")
    for path, _ in _paths(world, inside=True):
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, world: World) -> None:
    assert client.get("/measures", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/surcharge").status_code == 401
    assert client.post("/api/v1/screening/market", json=[{"reference": "1", "name": "x"}]
                       ).status_code == 401  # fmt: skip


def test_records_move_with_the_list(engine: Engine, world: World) -> None:
    """The fixture's own invariants: both accounts listed, both records published."""
    with session_scope(engine) as session:
        accounts = set(session.scalars(select(SurchargeAccount.account_no)))
        statuses = set(session.scalars(select(CreditRecord.status)))
    assert accounts == {INSIDE_ACCOUNT, OUTSIDE_ACCOUNT}
    assert statuses == {RecordStatus.PUBLISHED}
