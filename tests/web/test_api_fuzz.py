"""Every operation of the OpenAPI document, fuzzed with schemathesis: no input, valid or not, is
a server error, every status returned is one the operation documents, and every documented
response body matches its schema.

The app runs over a small province (the bulletin world: four cases, a ledger project, reports, a
surcharge account; an inspection round and a credit commitment), one world for the whole run.
Each request is made with the API key of the province's, a county's or its inspectors' system —
or, under ``/api/v1/admin``, as a signed-in administrator. A path parameter is often one of the
world's own records, so the handlers run on real data rather than stopping at 404. The tests
after the fuzzing hold the server errors found by hand, with inputs the generator does not make.

``MINEWATCH_FUZZ_EXAMPLES`` sets the examples per operation (default 10, for the suite, with the
same inputs on every run; once set, each run draws new ones) and ``MINEWATCH_FUZZ_BACKENDS`` the
backends (default ``sqlite``; ``sqlite,postgresql`` with ``MINEWATCH_TEST_DATABASE_URL`` set for a
deeper run before a release).
"""

from __future__ import annotations

import os
import re
import shutil
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

import bulletin_world
from conftest import _TEST_SETTINGS, POSTGRES_URL, make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.states import Role
from minewatch.domain.credit.models import Commitment, CreditRecord
from minewatch.domain.db import make_engine, session_scope
from minewatch.domain.inspections.models import InspectionRound
from minewatch.domain.ledger.models import Project
from minewatch.domain.measures.models import SurchargeAccount
from minewatch.domain.migrate import upgrade_database
from minewatch.domain.reports.models import PublicReport
from minewatch.settings import Settings
from minewatch.web.app import create_app
from minewatch.web.auth import SESSION_COOKIE
from minewatch.web.security import CSRF_FIELD
from webclient import PASSWORD

EXAMPLES = int(os.environ.get("MINEWATCH_FUZZ_EXAMPLES", "10"))
DEEPER = "MINEWATCH_FUZZ_EXAMPLES" in os.environ
BACKENDS = os.environ.get("MINEWATCH_FUZZ_BACKENDS", "sqlite").split(",")
KEYS = (
    ("四川省发改委系统", Role.PROVINCIAL, "510000"),
    ("石棉县发改局系统", Role.COUNTY, "511824"),
    ("石棉县检查组终端", Role.INSPECTOR, "511824"),
)
"""Who calls: the province's system mostly, and the county's and its inspectors' for the
actions only they may take (a site check, an inspection result)."""
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class World:
    app: FastAPI
    keys: tuple[str, ...]
    """The API keys of ``KEYS``, in order."""
    admin_cookie: str
    known: dict[str, list[str]]
    """Path parameter → the world's own values for it."""


def _login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found is not None
    reply = client.post("/login", data={CSRF_FIELD: found.group(1), "username": username,
                                        "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303, reply.text
    return str(client.cookies[SESSION_COOKIE])


def _inspection_round(client: TestClient, bearer: dict[str, str]) -> None:
    body = {
        "region_code": "511824",
        "target_source": "ledger",
        "inspectors": [
            {
                "inspector_id": f"ZF-{i:02d}",
                "name": f"检查员{i}",
                "region_code": "511802",
                "agency": ("发改", "能源监管")[i % 2],
                "username": f"insp{i}",
            }
            for i in range(4)
        ],
        "parameters": {"draw_date": "2021-10-08", "target_share": 0.4},
        "seed_source_description": "福彩双色球 第2021115期开奖号码",
    }
    made = client.post("/api/v1/inspections", json=body, headers=bearer)
    assert made.status_code == 201, made.text


def _commitment(client: TestClient, bearer: dict[str, str]) -> None:
    body = {"uscc": make_uscc(10), "text_version": "2021-09", "text_sha256": "ef" * 32,
            "signed_date": "2021-10-01", "valid_until": "2024-09-30", "signatory": "陈晨",
            "document_name": "b.pdf", "document_sha256": "12" * 32,
            "enterprise": {"name": "石棉县某数据中心", "region_code": "511824"}}  # fmt: skip
    made = client.post("/api/v1/credit/commitments", json=body, headers=bearer)
    assert made.status_code == 201, made.text


def _settings(data_dir: Path | None = None) -> Settings:
    """The settings of an app here, as ``_isolated_environment`` gives each test: none of the
    developer's ``MINEWATCH_*``; the data directory ``data_dir`` when given."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("MINEWATCH_") and name not in _TEST_SETTINGS:
                patch.delenv(name)
        return Settings() if data_dir is None else Settings(data_dir=data_dir)


def _database(backend: str, tmp: Path, sqlite_template: Path) -> Engine:
    """A freshly migrated, empty database of the backend, as the ``engine`` fixture makes."""
    if backend == "sqlite":
        path = tmp / "minewatch.db"
        shutil.copy(sqlite_template, path)
        return make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    assert POSTGRES_URL is not None, "MINEWATCH_TEST_DATABASE_URL is needed for postgresql"
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    return engine


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[World]:
    """One world for the whole run: the operations, in their order, share (and change) it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    engine = _database(request.param, tmp, sqlite_template)
    with session_scope(engine) as session:
        bulletin_world.build(session)
        create_user(session, "fuzz_admin", PASSWORD, display_name="管理员", role=Role.ADMIN,
                    region_code="510000", actor="setup")  # fmt: skip
        create_user(session, "shimian", PASSWORD, display_name="石棉县", role=Role.COUNTY,
                    region_code="511824", actor="setup")  # fmt: skip
        keys = tuple(
            issue_key(session, name, role=role, region_code=region, actor="setup").token
            for name, role, region in KEYS
        )
        spare = issue_key(session, "备用系统", role=Role.CITY, region_code="511800", actor="setup")
    app = create_app(_settings(tmp / "data"), engine=engine, report_limit=1_000_000)
    client = TestClient(app)
    bearer = {"Authorization": f"Bearer {keys[0]}"}
    _inspection_round(client, bearer)
    _commitment(client, bearer)
    admin_cookie = _login(client, "fuzz_admin")
    with session_scope(engine) as session:
        known = {
            "case_no": list(session.scalars(select(Case.case_no))),
            "project_code": list(session.scalars(select(Project.code))),
            "account_no": list(session.scalars(select(SurchargeAccount.account_no))),
            "draw_no": list(session.scalars(select(InspectionRound.draw_no))),
            "record_no": list(session.scalars(select(CreditRecord.record_no))),
            "commitment_id": [str(i) for i in session.scalars(select(Commitment.id))],
            "code": list(session.scalars(select(PublicReport.receipt_code))),
            # the fuzzing may revoke and deactivate: never the callers' own keys and account
            "username": ["shimian"],
            "key_id": [spare.key_id],
            "week": ["2021-W42", "2021-W43"],
            "kind": ["market", "customers", "connections"],
        }
    yield World(app, keys, admin_cookie, {name: v for name, v in known.items() if v})
    engine.dispose()


# The document alone (no database is touched to serve it); each call goes to the world's app.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(_settings(), engine=make_engine("sqlite://"))
)


def _pick(value: object, count: int) -> int:
    """One of ``count`` choices, the same each time for the same generated ``value``."""
    return zlib.crc32(repr(value).encode()) % count


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not DEEPER,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_is_a_server_error(case: Any, world: World) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        if name in world.known:
            # the generated value or one of the world's, chosen by the generated value
            choices = [value, *world.known[name]]
            case.path_parameters[name] = choices[_pick(value, len(choices))]
    if case.path.startswith("/api/v1/admin"):
        case.call_and_validate(app=world.app, checks=CHECKS,
                               cookies={SESSION_COOKIE: world.admin_cookie})  # fmt: skip
    else:
        # the province's key twice as often as each of the others
        key = world.keys[(0, 0, 1, 2)[_pick((case.query, case.body), 4)]]
        case.call_and_validate(app=world.app, checks=CHECKS,
                               headers={"Authorization": f"Bearer {key}"})  # fmt: skip


# Inputs the generator does not make: the server errors found by hand around the fuzzing.


def test_an_unpaired_surrogate_is_invalid_json(world: World) -> None:
    """JSON may spell half a UTF-16 pair; no database or digest takes it as text."""
    client = TestClient(world.app)
    bearer = {"Authorization": f"Bearer {world.keys[0]}", "Content-Type": "application/json"}
    case_no = world.known["case_no"][0]
    for path, raw in (
        ("/api/v1/reports", r'{"address": "\ud800", "observed": "风扇噪音"}'),
        ("/api/v1/reports", r'{"address": "石棉县", "observed": "x", "contact": "\udfff"}'),
        (f"/api/v1/cases/{case_no}/actions/dismiss", r'{"reason": "\ud800"}'),
        ("/api/v1/leads", r'[{"source": "meters", "subject": "\udc00", "score": 0.5}]'),
    ):
        reply = client.post(path, content=raw.encode(), headers=bearer)
        assert reply.status_code == 422, (path, reply.text)
        assert reply.json()["code"] == "invalid"
        assert reply.json()["detail"][0]["type"] == "json_invalid"
    # a whole pair is one character, taken as any other
    paired = r'{"address": "石棉县美罗镇 \ud83d\ude00", "observed": "新拉了变压器"}'
    assert client.post("/api/v1/reports", content=paired.encode(),
                       headers=bearer).status_code == 201  # fmt: skip


def test_a_commitment_number_beyond_its_column_names_none(world: World) -> None:
    client = TestClient(world.app)
    bearer = {"Authorization": f"Bearer {world.keys[0]}"}
    for number in ("0", "2147483648", "9223372036854775808", "99999999999999999999"):
        reply = client.post(f"/api/v1/credit/commitments/{number}/withdraw",
                            json={"reason": "签署有误"}, headers=bearer)  # fmt: skip
        assert reply.status_code == 422, (number, reply.text)


def test_any_upload_name_is_a_file_name_the_import_can_write(world: World) -> None:
    """The workbook is saved under its own name to be read: a name that is a folder (``..``)
    or longer than a file system takes (120 Chinese characters are 360 bytes) is no error."""
    client = TestClient(world.app)
    bearer = {"Authorization": f"Bearer {world.keys[0]}"}
    for name in ("..", ".", "石" * 119 + ".xlsx", "😀" * 100, "a\x00b.xlsx", "../../台账.xlsx"):
        reply = client.post("/api/v1/projects/import", headers=bearer,
                            files={"workbook": (name, b"PK\x03\x04 not a workbook")})  # fmt: skip
        assert reply.status_code == 422, (name, reply.text)
        assert reply.json()["code"] == "invalid"
