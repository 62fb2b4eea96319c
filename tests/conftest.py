"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

Set ``MINEWATCH_TEST_DATABASE_URL`` (``.ci/run`` does) to run every database test on both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from minewatch.domain.audit.service import GENESIS_HASH
from minewatch.domain.cases.models import Case, CheckOutcome
from minewatch.domain.cases.service import (
    Actor,
    CheckData,
    assign,
    confirm,
    fuse_leads,
    record_check,
)
from minewatch.domain.cases.states import Role
from minewatch.domain.db import make_engine, session_scope
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.migrate import upgrade_database
from minewatch.reference.credit_code import with_check_character
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
)

POSTGRES_URL = os.environ.get("MINEWATCH_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
TABLES = [
    "host_action",
    "host_check",
    "unit_key",
    "asset_address",
    "asset_mac",
    "server_asset",
    "api_key",
    "app_user",
    "inspection_round",
    "inspection_result",
    "inspection_draw",
    "surcharge_payment",
    "surcharge_bill",
    "surcharge_account",
    "credit_record",
    "credit_commitment",
    "public_report",
    "case_lead",
    "site_check",
    "case_measure",
    "mining_case",
    "project_machine",
    "project",
    "lead",
    "enterprise",
    "audit_event",
    "ip_allocation",
]


_TEST_SETTINGS = frozenset(
    {
        "MINEWATCH_TEST_DATABASE_URL",
        "MINEWATCH_REQUIRE_BROWSER",
        "MINEWATCH_REQUIRE_SPARK",
        "MINEWATCH_CHROMIUM",
        "MINEWATCH_E2E_SCREENSHOTS",
        "MINEWATCH_FUZZ_EXAMPLES",
        "MINEWATCH_FUZZ_BACKENDS",
    }
)
"""Settings of the test run itself, not of MineWatch: kept in each test's environment."""


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's settings or writes to their data directory."""
    for name in list(os.environ):
        if name.startswith("MINEWATCH_") and name not in _TEST_SETTINGS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("MINEWATCH_DATA_DIR", str(tmp_path / "data"))
    from minewatch.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(make_engine(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The PostgreSQL test database, emptied and migrated once per run."""
    assert POSTGRES_URL is not None
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A freshly migrated, empty database on each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "minewatch.db"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
        yield engine
        engine.dispose()
        return
    pg: Engine = request.getfixturevalue("postgres_engine")
    with pg.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("UPDATE audit_head SET seq = 0, hash = :h WHERE id = 1"), {"h": GENESIS_HASH}
        )
    yield pg


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed at the end of the test (like a CLI command)."""
    with session_scope(engine) as session:
        yield session


def make_uscc(serial: int, region: str = "511824", authority: str = "91") -> str:
    """A valid credit code for tests."""
    org = f"MA{serial:07d}"
    return with_check_character(f"{authority}{region}{org}")


def make_bad_uscc(serial: int) -> str:
    """A credit code whose check character is wrong."""
    good = make_uscc(serial)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def make_entry(n: int = 1, **changes: object) -> LedgerEntry:
    """A plausible ledger row; keyword arguments override fields."""
    base = LedgerEntry(
        project_code=None,
        project_name=f"石棉县矿场{n}号",
        enterprise_name=f"石棉县鑫源{n}科技有限公司",
        enterprise_uscc=make_uscc(n),
        legal_representative="王磊",
        site_address=f"四川省雅安市石棉县美罗镇{n}号厂房",
        region_code="511824",
        longitude=102.36,
        latitude=29.23,
        site_type=SiteType.FACTORY,
        status=ProjectStatus.OPERATING,
        discovered_by=DiscoveryMethod.SELF_REPORT,
        responsible_region_code="511824",
        machines=(MachineCount("Antminer S19 Pro", 100), MachineCount("Whatsminer M30S", 20)),
        machine_count=120,
        hashrate=12.76,
        hashrate_unit=HashrateUnit.PHS,
        rated_power_kw=420.5,
        monthly_energy_kwh=290_000.0,
        supply_kind=SupplyKind.GRID,
        grid_account_no="5118240012345",
        supply_line="35kV 石棉线",
        responsible_official="石棉县发展改革局 李强",
        exit_deadline=date(2021, 12, 31),
    )
    fields = {**base.__dict__, **changes}
    return LedgerEntry(**fields)


def at(day: str, hour: int = 10) -> datetime:
    """A UTC instant on ``day`` (ISO date)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# ---- cases, as the domain, CLI and screening tests build them

PROVINCE = Actor("省发改委 张敏", Role.PROVINCIAL, "510000")
COUNTY = Actor("石棉县发改局 李强", Role.COUNTY, "511824")
OTHER_COUNTY = Actor("汉源县发改局 王芳", Role.COUNTY, "511823")
INSPECTOR = Actor("石棉县检查组 赵刚", Role.INSPECTOR, "511824")
AUDITOR = Actor("审计 钱进", Role.AUDITOR, "000000")

FOUND = CheckData(
    checked_on=date(2021, 10, 25),
    inspectors=("赵刚", "孙丽"),
    outcome=CheckOutcome.MINING_FOUND,
    rigs={"Antminer S19 Pro": 100, "Whatsminer M30S": 20},
    mining_kw_observed=410.0,
    attachments=(("现场照片1.jpg", "ab" * 32),),
)
CLEAN = CheckData(date(2021, 12, 20), ("赵刚", "孙丽"), CheckOutcome.NO_MINING)


def case_lead(source: str, subject: str, score: float, **values: object) -> LeadData:
    fields: dict[str, object] = {
        "source": source,
        "subject": subject,
        "score": score,
        "category": "mining",
        "reasons": f"{source}.test",
        "evidence": {},
        "region_code": "511824",
        "est_start_date": date(2021, 10, 12),
        "est_mining_kw": 650.0,
    }
    fields.update(values)
    return LeadData(**fields)  # type: ignore[arg-type]


def make_open_case(session: Session) -> str:
    record_leads(
        session,
        [
            case_lead("meters", "M1", 0.9, account_no="5118240012345", uscc=make_uscc(1)),
            case_lead("network", "ip:10.0.0.7", 0.8, uscc=make_uscc(1)),
        ],
        actor="analyst",
        at=at("2021-10-20"),
    )
    summary = fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    assert (summary.opened, summary.attached) == (1, 1)
    (case_no,) = set(session.scalars(select(Case.case_no)))
    return case_no


def make_confirmed_case(session: Session) -> str:
    case_no = make_open_case(session)
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    record_check(session, case_no, FOUND, actor=INSPECTOR, at=at("2021-10-25"))
    confirm(session, case_no, actor=COUNTY, entry=make_entry(1), at=at("2021-10-26"))
    return case_no
