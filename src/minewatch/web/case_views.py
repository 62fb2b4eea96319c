"""What the casework pages and API say about cases: typed rows, the case file, the actions.

The routes (:mod:`minewatch.web.routers.casework`) stay thin: they parse, call the functions
here, and render. Each action of the case page is one entry of :data:`ACTIONS` — its request
body and the service function it calls with the actor — looked up by name, never by if/elif.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from minewatch.domain.bulletins.figures import STAGE_LABELS
from minewatch.domain.cases import service
from minewatch.domain.cases.file import CaseFile, HistoryEntry
from minewatch.domain.cases.models import (
    Case,
    CaseLead,
    CheckOutcome,
    Measure,
    MeasureKind,
    MeasureStatus,
    SiteCheck,
)
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import RULES, CaseStatus, Role, Transition, next_actions
from minewatch.domain.db import utcnow
from minewatch.domain.leads.models import Lead
from minewatch.domain.leads.service import LeadData
from minewatch.reference import credit_code, regions

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# ----------------------------------------------------------------------------------------------
# labels (Chinese; the router registers their English)

STATUS_LABELS: dict[CaseStatus, str] = dict(STAGE_LABELS)

MEASURE_LABELS: dict[MeasureKind, str] = {
    MeasureKind.POWER_CUT: "停限电",
    MeasureKind.SURCHARGE: "差别电价",
    MeasureKind.MARKET_EXIT: "退出电力市场",
    MeasureKind.FISCAL_STOP: "停止财税支持",
    MeasureKind.FINANCE_STOP: "停止金融服务",
    MeasureKind.CLOSURE: "关停淘汰",
}

OUTCOME_LABELS: dict[CheckOutcome, str] = {
    CheckOutcome.MINING_FOUND: "发现挖矿",
    CheckOutcome.NO_MINING: "未发现挖矿",
    CheckOutcome.SITE_CLOSED: "已停运搬离",
    CheckOutcome.NO_ACCESS: "无法进入现场",
}

MEASURE_STATUS_LABELS: dict[MeasureStatus, str] = {
    MeasureStatus.ORDERED: "已下达",
    MeasureStatus.COMPLETED: "已落实",
}

SOURCE_LABELS: dict[str, str] = {
    "meters": "用电分析",
    "network": "网络监测",
    "plants": "电站发电",
    "hosts": "机房自查",
    "report": "群众举报",
    "inspection": "双随机检查",
    "ledger": "项目台账",
}
"""The lead sources a case can have, as officials name them."""


class CaseAction(StrEnum):
    """What an official can do on the case page: one form and one API route each."""

    ASSIGN = "assign"
    CHECK = "check"
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ORDER_MEASURES = "order_measures"
    COMPLETE_MEASURE = "complete_measure"
    CLEAR = "clear"
    RECHECK = "recheck"
    REOPEN = "reopen"


ACTION_LABELS: dict[CaseAction, str] = {
    CaseAction.ASSIGN: "分派",
    CaseAction.CHECK: "录入核查结果",
    CaseAction.CONFIRM: "认定属实",
    CaseAction.DISMISS: "排除",
    CaseAction.ORDER_MEASURES: "下达处置措施",
    CaseAction.COMPLETE_MEASURE: "措施落实",
    CaseAction.CLEAR: "整治销号",
    CaseAction.RECHECK: "复查",
    CaseAction.REOPEN: "重新立案",
}

_TRANSITIONS: dict[CaseAction, tuple[Transition, ...]] = {
    CaseAction.ASSIGN: (Transition.ASSIGN,),
    CaseAction.CHECK: (Transition.CHECK,),
    CaseAction.CONFIRM: (Transition.CONFIRM,),
    CaseAction.DISMISS: (Transition.DISMISS,),
    CaseAction.ORDER_MEASURES: (Transition.ORDER,),
    CaseAction.COMPLETE_MEASURE: (Transition.COMPLETE,),
    CaseAction.CLEAR: (Transition.CLEAR,),
    CaseAction.RECHECK: (Transition.RECHECK, Transition.RELAPSE),
    CaseAction.REOPEN: (Transition.REOPEN,),
}
"""The transitions behind each action (a re-check that finds mining again is a relapse)."""

ACTION_ROLES: dict[CaseAction, frozenset[Role]] = {
    action: frozenset().union(*(RULES[t].roles for t in transitions))
    for action, transitions in _TRANSITIONS.items()
}
"""The roles that may ever take each action (in some stage)."""

HISTORY_LABELS: dict[str, str] = {
    "open": "立案",
    "attach_lead": "并入线索",
    "assign": "分派",
    "check": "录入核查结果",
    "confirm": "认定属实",
    "dismiss": "排除",
    "order_measures": "下达处置措施",
    "complete_measure": "措施落实",
    "complete_measures": "措施全部落实",
    "clear": "整治销号",
    "recheck": "复查",
    "relapse": "复查发现反弹",
    "reopen": "重新立案",
}

FIELD_LABELS: dict[str, str] = {
    "status": "环节",
    "assigned_region_code": "承办县区",
    "region_code": "所在地区",
    "uscc": "统一社会信用代码",
    "account_no": "用电户号",
    "address": "地址",
    "confidence": "置信度",
    "sources": "来源",
    "est_start_date": "估计开始日期",
    "est_mining_kw": "估计挖矿负荷（kW）",
    "project_code": "入账项目",
    "dismissed_reason": "排除理由",
    "relapses": "反弹次数",
    "stage_due_at": "环节期限",
    "leads": "线索数",
    "checks": "现场核查",
    "measures": "处置措施",
}


def case_actions(status: CaseStatus, role: Role) -> list[CaseAction]:
    """The actions ``role`` may take on a case in ``status`` (for the page and the API)."""
    allowed = set(next_actions(status, role))
    return [a for a in CaseAction if allowed.intersection(_TRANSITIONS[a])]


def region_label(code: str | None) -> str:
    if not code:
        return ""
    if code == regions.NATIONAL:
        return "全国"
    found = regions.find(code)
    return found.full_name if found is not None else code


def county_choices(region_code: str, site_region_code: str | None = None) -> list[tuple[str, str]]:
    """The counties an actor of ``region_code`` may assign a case to, as (code, full name): those
    of the site's province (a case is handed to a county near its site), within the actor's
    region; all of the actor's when the site's region is not known."""
    scope = region_code
    if site_region_code is not None and regions.is_valid_code(site_region_code):
        province = site_region_code[:2] + "0000"
        if region_code == regions.NATIONAL or regions.is_within(province, region_code):
            scope = province
    return list(_counties_within(scope))


@functools.lru_cache(maxsize=256)
def _counties_within(region_code: str) -> tuple[tuple[str, str], ...]:
    if region_code == regions.NATIONAL:
        return tuple(
            (r.code, r.full_name)
            for r in regions.all_regions()
            if r.level is regions.RegionLevel.COUNTY and not r.is_grouping
        )
    found = regions.find(region_code)
    if found is None:
        return ()
    if found.level is regions.RegionLevel.COUNTY:
        return ((found.code, found.full_name),)
    return tuple(
        (r.code, r.full_name)
        for r in regions.all_regions()
        if r.level is regions.RegionLevel.COUNTY
        and not r.is_grouping
        and regions.is_within(r.code, region_code)
    )


def region_choices(region_code: str) -> list[tuple[str, str]]:
    """The regions a list can be narrowed to: the actor's own, then one or two levels below."""
    found = None if region_code == regions.NATIONAL else regions.find(region_code)
    if found is None:
        return [(r.code, r.name) for r in regions.provinces()]
    out = [(found.code, found.full_name)]
    for child in regions.children(found.code):
        if not child.is_grouping:
            out.append((child.code, child.full_name))
        for grandchild in regions.children(child.code):
            if not grandchild.is_grouping:
                out.append((grandchild.code, grandchild.full_name))
    return out


# ----------------------------------------------------------------------------------------------
# rows and the case file


class CaseRow(BaseModel):
    """One case of a list."""

    case_no: str
    status: CaseStatus
    region_code: str | None = Field(description="The answering region: assigned, else site")
    site_region_code: str | None
    assigned_region_code: str | None
    sources: list[str]
    confidence: float
    address: str | None
    enterprise_name: str | None
    uscc: str | None
    account_no: str | None
    opened_at: datetime
    updated_at: datetime
    stage_due_at: datetime | None
    overdue: bool
    version: int
    next_actions: list[CaseAction]


def case_row(case: Case, actor: Actor, now: datetime) -> CaseRow:
    return CaseRow(
        case_no=case.case_no,
        status=case.status,
        region_code=case.assigned_region_code or case.region_code,
        site_region_code=case.region_code,
        assigned_region_code=case.assigned_region_code,
        sources=[s for s in case.sources.split(",") if s],
        confidence=round(case.confidence, 3),
        address=case.address,
        enterprise_name=case.enterprise.name if case.enterprise is not None else None,
        uscc=case.uscc,
        account_no=case.account_no,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        stage_due_at=case.stage_due_at,
        overdue=service.is_overdue(case, now),
        version=case.version,
        next_actions=case_actions(case.status, actor.role),
    )


class LeadOut(BaseModel):
    """A lead as the lists show it (its evidence is on the case)."""

    lead_id: int
    source: str
    subject: str
    status: str
    score: float
    category: str
    reasons: str
    region_code: str | None
    account_no: str | None
    customer_name: str | None
    uscc: str | None
    address: str | None
    est_start_date: date | None
    est_mining_kw: float | None
    est_rigs: int | None
    est_hashrate_ths: float | None
    first_seen_at: datetime
    last_seen_at: datetime
    case_no: str | None = Field(None, description="The case it joined, when in your region")


def lead_out(lead: Lead, case_no: str | None) -> LeadOut:
    return LeadOut(
        lead_id=lead.id,
        source=lead.source,
        subject=lead.subject,
        status=lead.status,
        score=round(lead.score, 4),
        category=lead.category,
        reasons=lead.reasons,
        region_code=lead.region_code,
        account_no=lead.account_no,
        customer_name=lead.customer_name,
        uscc=lead.uscc,
        address=lead.address,
        est_start_date=lead.est_start_date,
        est_mining_kw=lead.est_mining_kw,
        est_rigs=lead.est_rigs,
        est_hashrate_ths=lead.est_hashrate_ths,
        first_seen_at=lead.first_seen_at,
        last_seen_at=lead.last_seen_at,
        case_no=case_no,
    )


class CaseLeadOut(LeadOut):
    """A lead of a case, with what it matched on and its evidence."""

    matched_on: str
    match_score: float
    attached_at: datetime
    evidence: dict[str, Any]


def case_lead_out(link: CaseLead, case_no: str) -> CaseLeadOut:
    base = lead_out(link.lead, case_no).model_dump()
    return CaseLeadOut(
        **base,
        matched_on=link.matched_on,
        match_score=round(link.match_score, 3),
        attached_at=link.attached_at,
        evidence=json.loads(link.lead.evidence_json or "{}"),
    )


class CheckOut(BaseModel):
    checked_on: date
    inspectors: list[str]
    outcome: CheckOutcome
    rigs: dict[str, int]
    rigs_found: int
    mining_kw_observed: float | None
    notes: str | None
    recheck: bool
    attachments: list[dict[str, str]]
    recorded_at: datetime


def check_out(check: SiteCheck) -> CheckOut:
    return CheckOut(
        checked_on=check.checked_on,
        inspectors=[name for name in check.inspectors.split("、") if name],
        outcome=check.outcome,
        rigs=json.loads(check.rigs_json or "{}"),
        rigs_found=check.rigs_found,
        mining_kw_observed=check.mining_kw_observed,
        notes=check.notes,
        recheck=check.recheck,
        attachments=json.loads(check.attachments_json or "[]"),
        recorded_at=check.recorded_at,
    )


class MeasureOut(BaseModel):
    kind: MeasureKind
    clause: str
    agency: str
    status: MeasureStatus
    due_date: date
    ordered_at: datetime
    completed_at: datetime | None
    note: str | None


def measure_out(measure: Measure) -> MeasureOut:
    return MeasureOut(
        kind=measure.kind,
        clause=measure.clause,
        agency=measure.agency,
        status=measure.status,
        due_date=measure.due_date,
        ordered_at=measure.ordered_at,
        completed_at=measure.completed_at,
        note=measure.note,
    )


class ChangeOut(BaseModel):
    field: str
    before: str | None
    after: str | None


class HistoryOut(BaseModel):
    """One event of the case's audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    reason: str | None
    changes: list[ChangeOut]


def history_out(entry: HistoryEntry) -> HistoryOut:
    return HistoryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        reason=entry.reason,
        changes=[ChangeOut(field=c.field, before=c.before, after=c.after) for c in entry.changes],
    )


class ProjectRef(BaseModel):
    """The ledger project the confirmed case entered."""

    project_code: str
    name: str
    status: str
    region_code: str
    rated_power_kw: float | None
    machine_count: int | None


class CreditRef(BaseModel):
    """The credit record the case made (clause 九)."""

    record_no: str
    status: str
    measure: str
    decision_date: date
    publicity_until: date


class EnterpriseRef(BaseModel):
    name: str | None
    uscc: str | None


class CaseDetail(CaseRow):
    """The case file: the case, its leads with evidence, checks, measures, history and links."""

    enterprise: EnterpriseRef
    longitude: float | None
    latitude: float | None
    est_start_date: date | None
    est_mining_kw: float | None
    est_rigs: int | None
    rigs_found: int | None
    relapses: int
    dismissed_reason: str | None
    stage_entered_at: datetime
    project: ProjectRef | None
    credit_record: CreditRef | None
    leads: list[CaseLeadOut]
    checks: list[CheckOut]
    measures: list[MeasureOut]
    history: list[HistoryOut]


def case_detail(file: CaseFile, actor: Actor, now: datetime | None = None) -> CaseDetail:
    case = file.case
    row = case_row(case, actor, utcnow() if now is None else now)
    rigs = [link.lead.est_rigs for link in case.leads if link.lead.est_rigs is not None]
    name = case.enterprise.name if case.enterprise is not None else None
    if name is None:
        name = next((lk.lead.customer_name for lk in case.leads if lk.lead.customer_name), None)
    project = file.project
    record = file.credit_record
    return CaseDetail(
        **row.model_dump(),
        enterprise=EnterpriseRef(name=name, uscc=case.uscc),
        longitude=case.longitude,
        latitude=case.latitude,
        est_start_date=case.est_start_date,
        est_mining_kw=case.est_mining_kw,
        est_rigs=max(rigs) if rigs else None,
        rigs_found=case.checks[-1].rigs_found if case.checks else None,
        relapses=case.relapses,
        dismissed_reason=case.dismissed_reason,
        stage_entered_at=case.stage_entered_at,
        project=None
        if project is None
        else ProjectRef(
            project_code=project.code,
            name=project.name,
            status=project.status.value,
            region_code=project.region_code,
            rated_power_kw=project.rated_power_kw,
            machine_count=project.machine_count,
        ),
        credit_record=None
        if record is None
        else CreditRef(
            record_no=record.record_no,
            status=record.status.value,
            measure=record.measure,
            decision_date=record.decision_date,
            publicity_until=record.publicity_until,
        ),
        leads=[case_lead_out(link, case.case_no) for link in case.leads],
        checks=[check_out(c) for c in case.checks],
        measures=[measure_out(m) for m in case.measures],
        history=[history_out(e) for e in file.history],
    )


# ----------------------------------------------------------------------------------------------
# actions

Reason = Annotated[str | None, Field(None, max_length=2000, description="Why (kept in the audit)")]
Version = Annotated[
    int | None,
    Field(
        None,
        ge=1,
        description="The case version the caller saw; a stale one is refused (409) instead of "
        "overwriting someone else's change",
    ),
]


def _no_nul(value: Any) -> Any:
    """A text with a NUL character cannot be stored (PostgreSQL refuses it): name the field."""
    texts = list(value) if isinstance(value, list | dict) else [value]
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise ValueError("text must not contain a NUL character")
    return value


class ActionBody(BaseModel):
    """What every action takes: why, and the version of the case the caller saw."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _texts = field_validator("*")(_no_nul)

    reason: Reason = None
    version: Version = None


class AssignBody(ActionBody):
    county_code: str = Field(pattern=r"^\d{6}$", description="The county that must check it")


class CheckBody(ActionBody):
    checked_on: date
    inspectors: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        min_length=1, max_length=20
    )
    outcome: CheckOutcome
    rigs: dict[Annotated[str, Field(min_length=1, max_length=100)], Annotated[int, Field(ge=0)]] = (
        Field(default_factory=dict, description="Rigs counted, by model")
    )
    mining_kw_observed: float | None = Field(None, ge=0, le=10_000_000)
    notes: str | None = Field(None, max_length=4000)

    @field_validator("checked_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > datetime.now(LOCAL_TZ).date():
            raise ValueError("a check cannot be dated in the future")
        return value

    def data(self) -> service.CheckData:
        return service.CheckData(
            checked_on=self.checked_on,
            inspectors=tuple(self.inspectors),
            outcome=self.outcome,
            rigs={model: count for model, count in self.rigs.items() if count},
            mining_kw_observed=self.mining_kw_observed,
            notes=self.notes,
        )


class ReasonedBody(ActionBody):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _texts = field_validator("*")(_no_nul)

    kind: MeasureKind
    due_date: date
    note: str | None = Field(None, max_length=2000)


class OrderBody(ActionBody):
    measures: list[MeasureIn] = Field(min_length=1, max_length=len(MeasureKind))


class CompleteBody(ActionBody):
    kind: MeasureKind


Handler = Callable[[Session, str, Any, Actor], Case]


@dataclass(frozen=True)
class ActionSpec:
    """One action: its request body and the service call it makes."""

    body: type[ActionBody]
    call: Handler


def _assign(session: Session, case_no: str, body: AssignBody, actor: Actor) -> Case:
    return service.assign(session, case_no, body.county_code, actor=actor, reason=body.reason,
                          expected_version=body.version)  # fmt: skip


def _check(session: Session, case_no: str, body: CheckBody, actor: Actor) -> Case:
    return service.record_check(session, case_no, body.data(), actor=actor, reason=body.reason,
                                expected_version=body.version)  # fmt: skip


def _confirm(session: Session, case_no: str, body: ActionBody, actor: Actor) -> Case:
    return service.confirm(session, case_no, actor=actor, reason=body.reason,
                           expected_version=body.version)  # fmt: skip


def _dismiss(session: Session, case_no: str, body: ReasonedBody, actor: Actor) -> Case:
    return service.dismiss(session, case_no, reason=body.reason, actor=actor,
                           expected_version=body.version)  # fmt: skip


def _order(session: Session, case_no: str, body: OrderBody, actor: Actor) -> Case:
    orders = [service.MeasureOrder(m.kind, m.due_date, m.note) for m in body.measures]
    return service.order_measures(session, case_no, orders, actor=actor, reason=body.reason,
                                  expected_version=body.version)  # fmt: skip


def _complete(session: Session, case_no: str, body: CompleteBody, actor: Actor) -> Case:
    return service.complete_measure(session, case_no, body.kind, actor=actor,
                                    reason=body.reason, expected_version=body.version)  # fmt: skip


def _clear(session: Session, case_no: str, body: ActionBody, actor: Actor) -> Case:
    return service.clear(session, case_no, actor=actor, reason=body.reason,
                         expected_version=body.version)  # fmt: skip


def _recheck(session: Session, case_no: str, body: CheckBody, actor: Actor) -> Case:
    return service.recheck(session, case_no, body.data(), actor=actor, reason=body.reason,
                           expected_version=body.version)  # fmt: skip


def _reopen(session: Session, case_no: str, body: ReasonedBody, actor: Actor) -> Case:
    return service.reopen(session, case_no, reason=body.reason, actor=actor,
                          expected_version=body.version)  # fmt: skip


ACTIONS: dict[CaseAction, ActionSpec] = {
    CaseAction.ASSIGN: ActionSpec(AssignBody, _assign),
    CaseAction.CHECK: ActionSpec(CheckBody, _check),
    CaseAction.CONFIRM: ActionSpec(ActionBody, _confirm),
    CaseAction.DISMISS: ActionSpec(ReasonedBody, _dismiss),
    CaseAction.ORDER_MEASURES: ActionSpec(OrderBody, _order),
    CaseAction.COMPLETE_MEASURE: ActionSpec(CompleteBody, _complete),
    CaseAction.CLEAR: ActionSpec(ActionBody, _clear),
    CaseAction.RECHECK: ActionSpec(CheckBody, _recheck),
    CaseAction.REOPEN: ActionSpec(ReasonedBody, _reopen),
}
"""Every action of the case page, by name."""


# ----------------------------------------------------------------------------------------------
# leads pushed by grid companies and ISPs


class PushedSource(StrEnum):
    """The sources a system may push (reports and inspections come through their own forms)."""

    METERS = "meters"
    NETWORK = "network"
    PLANTS = "plants"


MAX_EVIDENCE_CHARS = 65_536


class LeadIn(BaseModel):
    """One pushed lead: what the source saw, where, and the evidence behind it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: PushedSource
    subject: str = Field(min_length=1, max_length=64, description="Meter id, IP, plant id…")
    score: float = Field(ge=0.0, le=1.0)
    category: str = Field("mining", min_length=1, max_length=20)
    reasons: str = Field(min_length=1, max_length=2000, description="Dotted reason codes")
    evidence: dict[str, Any] = Field(default_factory=dict)
    region_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code of the site")
    account_no: str | None = Field(None, max_length=40)
    customer_name: str | None = Field(None, max_length=200)
    uscc: str | None = Field(None, min_length=18, max_length=18)
    address: str | None = Field(None, max_length=300)
    est_start_date: date | None = None
    est_mining_kw: float | None = Field(None, ge=0.0, le=10_000_000.0)
    est_rigs: int | None = Field(None, ge=0, le=10_000_000)
    est_hashrate_ths: float | None = Field(None, ge=0.0)
    longitude: float | None = Field(None, ge=-180.0, le=180.0)
    latitude: float | None = Field(None, ge=-90.0, le=90.0)

    _texts = field_validator("*")(_no_nul)

    @field_validator("region_code")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if regions.find(value) is None:
            raise ValueError(f"{value} is not a region code of GB/T 2260")
        return value

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str | None) -> str | None:
        if value is not None and not credit_code.is_valid(value):
            raise ValueError(f"{value} is not a valid unified social credit code (GB 32100)")
        return value

    @field_validator("evidence")
    @classmethod
    def _small_evidence(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except ValueError as error:
            raise ValueError("evidence must hold finite numbers only") from error
        if len(text) > MAX_EVIDENCE_CHARS:
            raise ValueError(f"evidence is longer than {MAX_EVIDENCE_CHARS} characters of JSON")
        return value

    def data(self) -> LeadData:
        return LeadData(
            source=self.source.value,
            subject=self.subject,
            score=self.score,
            category=self.category,
            reasons=self.reasons,
            evidence=self.evidence,
            account_no=self.account_no,
            customer_name=self.customer_name,
            uscc=self.uscc,
            address=self.address,
            region_code=self.region_code,
            est_start_date=self.est_start_date,
            est_mining_kw=self.est_mining_kw,
            est_rigs=self.est_rigs,
            est_hashrate_ths=self.est_hashrate_ths,
            longitude=self.longitude,
            latitude=self.latitude,
        )


class LeadBatch(BaseModel):
    """A batch of leads: accepted whole, or not at all."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    leads: list[LeadIn] = Field(min_length=1, max_length=1000)


class TouchedCaseOut(BaseModel):
    case_no: str
    status: CaseStatus
    opened: bool = Field(description="Opened by this batch")
    items: list[int] = Field(description="Positions in the batch of the leads that reached it")


class LeadPushOut(BaseModel):
    """What a pushed batch did."""

    created: int
    updated: int
    unchanged: int
    linked: int = Field(description="Leads linked to an enterprise")
    opened: int = Field(description="Cases opened")
    attached: int = Field(description="Leads attached to existing cases")
    cases: list[TouchedCaseOut] = Field(description="The cases reached, in your region")


def batch_problems(batch: LeadBatch, actor: Actor) -> list[dict[str, Any]]:
    """Items a valid batch still may not hold, each named by position and field (the shape of
    a request validation error): a site outside the caller's region, a lead repeated."""
    problems: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(batch.leads):
        if not actor.covers(item.region_code):
            problems.append({
                "loc": ["body", "leads", index, "region_code"],
                "msg": f"{item.region_code} is outside the region {actor.region_code} "
                "of this key",
                "type": "outside_region",
            })  # fmt: skip
        key = (item.source.value, item.subject)
        if key in seen:
            problems.append({
                "loc": ["body", "leads", index, "subject"],
                "msg": f"{item.source.value} {item.subject} is already item {seen[key]}",
                "type": "duplicate",
            })  # fmt: skip
        seen.setdefault(key, index)
    return problems


def push_out(intake: service.Intake, actor: Actor) -> LeadPushOut:
    """The batch's outcome, naming only the cases in the caller's region."""
    return LeadPushOut(
        created=intake.leads.created,
        updated=intake.leads.updated,
        unchanged=intake.leads.unchanged,
        linked=intake.leads.linked,
        opened=intake.fusion.opened,
        attached=intake.fusion.attached,
        cases=[
            TouchedCaseOut(case_no=c.case_no, status=c.status, opened=c.opened, items=list(c.items))
            for c in intake.cases
            if actor.covers(c.answering_region_code)
        ],
    )
