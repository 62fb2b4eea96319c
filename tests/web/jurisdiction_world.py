"""The world of the jurisdiction matrix: the same records in three arenas, each marked.

=======  ======  =====================================================================
arena    code    where
=======  ======  =====================================================================
石棉     511824  a county of 雅安市 (511800), 四川省 (510000)
汉源     511823  its sibling county in the same prefecture
五华     530102  a district of 昆明市, 云南省 (530000): another province
=======  ======  =====================================================================

Each arena holds, written through the domain services as the offices would: a confirmed case
(ledger project, enterprise with a signed commitment and so a credit record, power cut and
surcharge ordered, the account on the surcharge list with a bill), an open second case, leads
behind both, a public report handed to the county (its lead fused into a case), an inspection
round committed and drawn in the county, a case of an enterprise registered in the next arena
(石棉 → 汉源 → 五华 → 石棉), a county user and an API key of the county. Every
record carries a text found nowhere else (:attr:`Arena.markers`): a response to someone who
does not cover the arena must not hold any of them.

The actors (:data:`ACTORS`) sit at every level of the Sichuan arenas and one in Yunnan; each
is a signed-in user and, where the role may hold one, an API key.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import at, make_entry, make_uscc
from minewatch.domain.accounts.service import create_user
from minewatch.domain.apikeys.service import issue_key
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind
from minewatch.domain.cases.service import (
    Actor,
    CheckData,
    MeasureOrder,
    assign,
    confirm,
    fuse_leads,
    order_measures,
    record_check,
)
from minewatch.domain.cases.states import Role
from minewatch.domain.credit.service import (
    CommitmentData,
    record_commitment,
    record_for_case,
    sha256_text,
)
from minewatch.domain.enterprises.service import EnterpriseData
from minewatch.domain.inspections.draw import DrawParameters, Inspector, Target
from minewatch.domain.inspections.models import InspectionOutcome, TargetSource
from minewatch.domain.inspections.pools import InspectorPool
from minewatch.domain.inspections.rounds import (
    commit_round,
    draw_record_of,
    draw_round,
    record_round_result,
)
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.measures.service import bill_account
from minewatch.domain.measures.surcharge import BillingPeriod
from minewatch.domain.reports.models import Channel
from minewatch.domain.reports.service import ContactVault, ReportData, submit_report, triage
from minewatch.domain.selfcheck.keys import issue_unit_key
from minewatch.reference.ledger import EnterpriseKind
from minewatch.reference.regions import is_within
from webclient import PASSWORD

SEED = "03 08 15 21 27 33 + 12"
NATION = "000000"


@dataclass(frozen=True)
class Place:
    """What an arena's records are made of before they exist."""

    tag: str
    code: str
    province: str
    neighbour: str
    """A county nearby, the inspectors' home (so none is recused from the arena's targets)."""
    serial: int
    county: str
    street: str
    lon: float
    lat: float

    @property
    def enterprise(self) -> str:
        return f"{self.county}界碑{self.tag}矿业有限公司"

    @property
    def address(self) -> str:
        return f"{self.street}界碑{self.tag}路{self.serial}号厂房"

    @property
    def unit(self) -> str:
        """A state-owned unit of the county doing its server-room self-inspection."""
        return f"{self.county}界碑{self.tag}职业学院"

    @property
    def report_address(self) -> str:
        return f"{self.street}界碑{self.tag}举报点{self.serial}号"

    @property
    def report_enterprise(self) -> str:
        return f"界碑{self.tag}被举报数据中心"

    @property
    def account(self) -> str:
        return f"{self.code}77{self.serial:05d}"

    @property
    def second_account(self) -> str:
        return f"{self.code}88{self.serial:05d}"

    @property
    def uscc(self) -> str:
        return make_uscc(self.serial, self.code)

    @property
    def project_name(self) -> str:
        return f"{self.county}界碑{self.tag}矿场"

    @property
    def target_name(self) -> str:
        return f"界碑{self.tag}报装申请单位"

    @property
    def visiting_account(self) -> str:
        return f"{self.code}99{self.serial:05d}"

    @property
    def visiting_project(self) -> str:
        return f"{self.county}界碑{self.tag}外地企业矿场"

    @property
    def findings(self) -> str:
        return f"界碑{self.tag}现场未见矿机"

    @property
    def username(self) -> str:
        return f"jiebei_{self.tag.lower()}"

    @property
    def key_name(self) -> str:
        return f"界碑{self.tag}电网对接系统"


PLACES = (
    Place("SM", "511824", "510000", "511802", 71, "石棉县", "四川省雅安市石棉县美罗镇",
          102.36, 29.23),
    Place("HY", "511823", "510000", "511802", 72, "汉源县", "四川省雅安市汉源县九襄镇",
          102.65, 29.35),
    Place("WH", "530102", "530000", "530103", 73, "五华区", "云南省昆明市五华区护国街道",
          102.70, 25.04),
)  # fmt: skip


@dataclass
class Arena:
    """One arena's records as written: the path parameters that reach them and their markers."""

    place: Place
    case_no: str = ""
    second_case_no: str = ""
    report_case_no: str = ""
    project_code: str = ""
    record_no: str = ""
    commitment_id: int = 0
    receipt_code: str = ""
    draw_no: str = ""
    key_id: str = ""
    lead_subjects: tuple[str, ...] = ()
    visiting_case_no: str = ""
    """A case of the arena whose enterprise is registered in the next arena (and signed its
    commitment there): the enterprise is both arenas', the case and its credit record only
    this one's."""
    visiting_project_code: str = ""
    visiting_record_no: str = ""

    @property
    def code(self) -> str:
        return self.place.code

    @property
    def account_no(self) -> str:
        return self.place.account

    @property
    def uscc(self) -> str:
        return self.place.uscc

    @property
    def username(self) -> str:
        return self.place.username

    @property
    def markers(self) -> tuple[str, ...]:
        """Texts of this arena's records that appear in no other arena's."""
        p = self.place
        found = (
            self.case_no, self.second_case_no, self.report_case_no, self.project_code,
            self.record_no, self.receipt_code, self.draw_no, self.key_id, p.account,
            p.second_account, p.uscc, p.enterprise, p.address, p.report_address,
            p.report_enterprise, p.project_name, p.target_name, p.findings, p.username, p.key_name,
            p.unit,
            *self.lead_subjects, self.visiting_case_no, self.visiting_project_code,
            self.visiting_record_no, p.visiting_account, p.visiting_project,
        )  # fmt: skip
        assert all(found), f"arena {p.code} is missing a record"
        return found


@dataclass(frozen=True)
class ActorSpec:
    """One actor of the matrix: a user (and an API key unless an administrator)."""

    name: str
    role: Role
    region: str

    def covers(self, code: str) -> bool:
        return self.region == NATION or is_within(code, self.region)


ACTORS = (
    ActorSpec("national", Role.NATIONAL, NATION),
    ActorSpec("sichuan", Role.PROVINCIAL, "510000"),
    ActorSpec("yaan", Role.CITY, "511800"),
    ActorSpec("shimian", Role.COUNTY, "511824"),
    ActorSpec("grid", Role.GRID_ANALYST, "511800"),
    ActorSpec("inspector", Role.INSPECTOR, "511824"),
    ActorSpec("auditor", Role.AUDITOR, "510000"),
    ActorSpec("admin", Role.ADMIN, "510000"),
    ActorSpec("yunnan", Role.PROVINCIAL, "530000"),
)


@dataclass
class World:
    arenas: tuple[Arena, ...]
    keys: dict[str, str] = field(default_factory=dict)
    """Actor name → its API key (every actor but the administrator)."""

    def markers_outside(self, actor: ActorSpec) -> list[tuple[str, str]]:
        """(arena code, marker) of every arena the actor does not cover."""
        return [(a.code, m) for a in self.arenas if not actor.covers(a.code) for m in a.markers]


def _lead(place: Place, subject: str, account: str, **values: object) -> LeadData:
    fields: dict[str, object] = {
        "source": "meters", "subject": subject, "score": 0.9, "category": "mining",
        "reasons": "meters.flat_24x7", "evidence": {}, "region_code": place.code,
        "account_no": account, "est_start_date": date(2021, 10, 1), "est_mining_kw": 650.0,
    }  # fmt: skip
    fields.update(values)
    return LeadData(**fields)  # type: ignore[arg-type]


def _case_with(session: Session, account: str) -> str:
    case_no = session.scalar(select(Case.case_no).where(Case.account_no == account))
    assert case_no is not None
    return case_no


def _visiting_case(session: Session, arena: Arena, host: Place) -> None:
    """A case in the arena whose enterprise is registered (and signed its commitment) in
    ``host``'s county: its confirmation breaches that commitment and makes a credit record."""
    place = arena.place
    province = Actor(f"{place.province}发改委", Role.PROVINCIAL, place.province)
    county = Actor(f"{place.county}发改局", Role.COUNTY, place.code)
    uscc = make_uscc(place.serial + 100, host.code)
    name = f"外地注册{host.tag}{place.tag}科技有限公司"
    enterprise = EnterpriseData(uscc=uscc, name=name, region_code=host.code,
                                kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
                                legal_representative="刘洋")  # fmt: skip
    commitment = CommitmentData(
        uscc=uscc, text_version="2021-09", text_sha256=sha256_text("本企业郑重承诺……"),
        signed_date=date(2021, 9, 20), valid_until=date(2024, 9, 19), signatory="刘洋",
        document_name="承诺书.pdf", document_sha256="ab" * 32,
    )  # fmt: skip
    record_commitment(session, commitment, actor=f"{host.county}发改局", enterprise=enterprise,
                      at=at("2021-09-21"))  # fmt: skip
    record_leads(session, [_lead(place, f"JB-{place.tag}-visiting", place.visiting_account,
                                 uscc=uscc)], actor="analyst", at=at("2021-10-18"))  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-18"))
    case_no = _case_with(session, place.visiting_account)
    assign(session, case_no, place.code, actor=province, at=at("2021-10-19"))
    found = CheckData(date(2021, 10, 20), ("赵刚",), CheckOutcome.MINING_FOUND,
                      rigs={"Antminer S19 Pro": 40})  # fmt: skip
    record_check(session, case_no, found, actor=county, at=at("2021-10-20"))
    entry = make_entry(
        place.serial + 100, project_name=place.visiting_project, enterprise_name=name,
        enterprise_uscc=uscc, site_address=f"{place.street}外地企业{place.serial}号机房",
        region_code=place.code, responsible_region_code=place.code,
        grid_account_no=place.visiting_account, longitude=place.lon + 0.01, latitude=place.lat,
        responsible_official=f"{place.county}发展改革局 李强",
    )  # fmt: skip
    confirm(session, case_no, actor=county, entry=entry, at=at("2021-10-21"))
    case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
    record = record_for_case(session, case_no)
    assert case.project_code is not None
    assert record is not None
    arena.visiting_case_no = case_no
    arena.visiting_project_code = case.project_code
    arena.visiting_record_no = record.record_no


def _build_arena(session: Session, place: Place, host: Place) -> Arena:
    arena = Arena(place)
    province = Actor(f"{place.province}发改委", Role.PROVINCIAL, place.province)
    county = Actor(f"{place.county}发改局", Role.COUNTY, place.code)
    inspector = Actor(f"{place.county}检查组", Role.INSPECTOR, place.code)
    subjects = (f"JB-{place.tag}-meter", f"JB-{place.tag}-ip", f"JB-{place.tag}-second")
    arena.lead_subjects = subjects
    record_leads(
        session,
        [
            _lead(place, subjects[0], place.account, uscc=place.uscc),
            _lead(place, subjects[1], place.account, source="network", score=0.8,
                  uscc=place.uscc),
            _lead(place, subjects[2], place.second_account, est_mining_kw=300.0),
        ],
        actor="analyst", at=at("2021-10-18"),
    )  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-18"))
    arena.case_no = _case_with(session, place.account)
    arena.second_case_no = _case_with(session, place.second_account)
    assert arena.case_no != arena.second_case_no

    # the enterprise signs its commitment, so confirming the case makes its credit record
    enterprise = EnterpriseData(uscc=place.uscc, name=place.enterprise, region_code=place.code,
                                kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
                                legal_representative="王磊")  # fmt: skip
    commitment = CommitmentData(
        uscc=place.uscc, text_version="2021-09", text_sha256=sha256_text("本企业郑重承诺……"),
        signed_date=date(2021, 9, 20), valid_until=date(2024, 9, 19), signatory="王磊",
        document_name="承诺书.pdf", document_sha256="cd" * 32,
    )  # fmt: skip
    signed = record_commitment(session, commitment, actor=province.name, enterprise=enterprise,
                               at=at("2021-09-21"))  # fmt: skip
    arena.commitment_id = signed.id

    assign(session, arena.case_no, place.code, actor=province, at=at("2021-10-19"))
    found = CheckData(date(2021, 10, 20), ("赵刚", "孙丽"), CheckOutcome.MINING_FOUND,
                      rigs={"Antminer S19 Pro": 100}, mining_kw_observed=410.0)  # fmt: skip
    record_check(session, arena.case_no, found, actor=inspector, at=at("2021-10-20"))
    entry = make_entry(
        place.serial, project_name=place.project_name, enterprise_name=place.enterprise,
        enterprise_uscc=place.uscc, site_address=place.address, region_code=place.code,
        responsible_region_code=place.code, grid_account_no=place.account,
        longitude=place.lon, latitude=place.lat,
        responsible_official=f"{place.county}发展改革局 李强",
    )  # fmt: skip
    confirm(session, arena.case_no, actor=county, entry=entry, at=at("2021-10-21"))
    order_measures(
        session, arena.case_no,
        [MeasureOrder(MeasureKind.POWER_CUT, date(2021, 11, 5)),
         MeasureOrder(MeasureKind.SURCHARGE, date(2021, 12, 31))],
        actor=county, at=at("2021-10-22"),
    )  # fmt: skip
    bill_account(
        session, place.account,
        [BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal("310000"))],
        due_date=date(2021, 11, 15), actor=county.name, at=at("2021-11-01"),
    )  # fmt: skip
    case = session.scalars(select(Case).where(Case.case_no == arena.case_no)).one()
    assert case.project_code is not None
    arena.project_code = case.project_code
    record = record_for_case(session, arena.case_no)
    assert record is not None, "the commitment in force makes a credit record on confirmation"
    arena.record_no = record.record_no

    # a public report, handed to the county: a lead of its own, fused into a case
    vault = ContactVault("a deployment secret of some length")
    report = submit_report(
        session,
        ReportData(Channel.HOTLINE_12398, place.report_address, "风扇噪音很大，夜里灯火通明",
                   enterprise_name=place.report_enterprise, contact="13800000000",
                   region_code=place.code),
        vault=vault, at=at("2021-10-23"),
    )  # fmt: skip
    arena.receipt_code = report.receipt_code
    triage(session, report.receipt_code, place.code, actor=province, at=at("2021-10-24"))
    lead = session.scalars(select(Lead).where(Lead.subject == report.receipt_code)).one()
    report_case = session.scalar(
        select(Case).where(Case.leads.any(lead_id=lead.id))  # type: ignore[arg-type]
    )
    assert report_case is not None
    arena.report_case_no = report_case.case_no

    # a double-random round of the county, committed and drawn
    targets = [
        Target(f"BZ-{place.tag}-{i:02d}", place.code, make_uscc(500 + i, place.code),
               {"name": f"{place.target_name}{i}"})
        for i in range(1, 7)
    ]  # fmt: skip
    pool = InspectorPool.of(
        [Inspector(f"ZF-{place.tag}-{i}", f"检查员{i}", place.neighbour,
                   ("发改", "能源监管")[i % 2]) for i in range(4)],
        {f"ZF-{place.tag}-{i}": f"insp_{place.tag.lower()}_{i}" for i in range(4)},
    )  # fmt: skip
    rnd = commit_round(
        session, region_code=place.code, target_source=TargetSource.LIST, targets=targets,
        inspector_pool=pool, parameters=DrawParameters(date(2021, 10, 8), target_count=2),
        seed_source_description="福彩双色球 第2021115期开奖号码", actor=county,
        at=at("2021-10-01"),
    )  # fmt: skip
    draw_round(session, rnd, SEED, actor=county, at=at("2021-10-08"))
    arena.draw_no = rnd.draw_no
    record = draw_record_of(rnd)
    assert record is not None
    drawn = next(a for a in record.assignments if a.staffed)
    record_round_result(
        session, rnd, target_id=drawn.target_id, inspected_on=date(2021, 10, 12),
        outcome=InspectionOutcome.COMPLIANT, findings=place.findings,
        username=f"insp_{place.tag.lower()}_{drawn.inspector_ids[0].rsplit('-', 1)[1]}",
        actor="检查员", at=at("2021-10-12"),
    )  # fmt: skip

    _visiting_case(session, arena, host)

    create_user(session, place.username, PASSWORD, display_name=f"{place.county}办事员",
                role=Role.COUNTY, region_code=place.code, actor="setup")  # fmt: skip
    arena.key_id = issue_key(session, place.key_name, role=Role.COUNTY, region_code=place.code,
                             actor="setup").key_id  # fmt: skip
    issue_unit_key(session, place.unit, region_code=place.code, actor="setup")
    return arena


def build(session: Session) -> World:
    """The three arenas and the actors' accounts and keys."""
    hosts = (*PLACES[1:], PLACES[0])
    world = World(tuple(_build_arena(session, p, h) for p, h in zip(PLACES, hosts, strict=True)))
    for spec in ACTORS:
        create_user(session, spec.name, PASSWORD, display_name=f"矩阵{spec.name}",
                    role=spec.role, region_code=spec.region, actor="setup")  # fmt: skip
        if spec.role is not Role.ADMIN:
            issued = issue_key(session, f"矩阵{spec.name}", role=spec.role,
                               region_code=spec.region, actor="setup")  # fmt: skip
            world.keys[spec.name] = issued.token
    markers = [m for a in world.arenas for m in a.markers]
    assert len(set(markers)) == len(markers)
    for a in world.arenas:
        for b in world.arenas:
            if a is not b:
                clash = [(m, n) for m in a.markers for n in b.markers if m in n]
                assert not clash, clash
    return world


# ---- what a response shows: text, spreadsheets unpacked, PDF page text decoded

_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_NAMED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_LITERAL = rb"\(((?:\\[0-7]{1,3}|\\.|[^\\()])*)\)"
_STREAM = rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length (\d+)\s*>>\s*stream\r?\n"


def _pdf_literal(body: bytes) -> str:
    """A literal string read both ways: as UTF-16BE (reportlab's CID-font text and metadata)
    and as Latin-1 (its plain strings)."""

    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        octal = code[:1] in b"01234567"
        return bytes([int(code, 8) % 256]) if octal else _NAMED.get(code, code)

    raw = _ESCAPE.sub(one, body)
    if raw.startswith(b"\xfe\xff"):
        raw = raw[2:]
    wide = raw[: len(raw) // 2 * 2].decode("utf-16-be", "replace")
    return f"{wide}\n{raw.decode('latin-1')}"


def _pdf_text(data: bytes) -> str:
    """Every literal string of the PDF, in its objects and its (ASCII85 + Flate) content
    streams, decoded as reportlab writes them."""
    shown = [_pdf_literal(m.group(1)) for m in re.finditer(_LITERAL, data)]
    for match in re.finditer(_STREAM, data):
        raw = data[match.end() : match.end() + int(match.group(1))]
        content = zlib.decompress(base64.a85decode(raw.strip(), adobe=True))
        shown += [_pdf_literal(m.group(1)) for m in re.finditer(_LITERAL, content)]
    return "\n".join(shown)


def shown_text(content: bytes) -> str:
    """The text a response carries, whatever its format."""
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if content.startswith(b"%PDF"):
        return _pdf_text(content)
    return content.decode("utf-8", "replace")
