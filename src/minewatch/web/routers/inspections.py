"""Double-random inspections (双随机、一公开, notice 1283 clause （十）): pages and API.

Officials of a region commit a round (the pools' hashes and the parameters, published before the
seed source exists), draw it from the published seed source and publish its results; anyone
signed in for the region re-checks it; each drawn team's inspectors record what they found at
their own targets. Without signing in, ``/public/inspections`` shows every commitment and, once
published, the picks and results — never the teams. Thin shells over
:mod:`minewatch.domain.inspections.rounds`.

Who sees what: officials and auditors see every team; an inspector sees the targets and only the
team they are on; the public sees no team at all. Grid analysts and administrators are refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.inspections.draw import (
    AgencyRule,
    DrawParameters,
    Inspector,
    Target,
    VerifyResult,
)
from minewatch.domain.inspections.models import (
    InspectionOutcome,
    InspectionRound,
    RoundStatus,
    TargetSource,
)
from minewatch.domain.inspections.pools import (
    InspectorPool,
    case_targets,
    ledger_targets,
    read_inspector_pool,
    read_target_pool,
)
from minewatch.domain.inspections.results import InspectionError, published_results
from minewatch.domain.inspections.rounds import (
    NotOnTeamError,
    commit_round,
    commitment_of,
    draw_record_of,
    draw_round,
    get_round,
    member_inspector_ids,
    public_record,
    public_rounds,
    publish_round,
    record_round_result,
    round_inspectors,
    round_targets,
    rounds_within,
    verify_round,
)
from minewatch.errors import MineWatchError
from minewatch.reference import regions
from minewatch.web import i18n
from minewatch.web.app import TEMPLATES
from minewatch.web.auth import signed_in_user
from minewatch.web.deps import (
    ERRORS,
    OFFICIALS,
    CsrfDep,
    Paged,
    PageDep,
    PageParams,
    SessionDep,
    TextRoute,
    in_region,
    paged,
    region_name,
    render,
    require,
)
from minewatch.web.i18n import language, translator

router = APIRouter(tags=["inspections"], route_class=TextRoute)

VIEWERS = OFFICIALS | {Role.INSPECTOR, Role.AUDITOR}
"""Who reads rounds: officials, inspectors (their own teams), auditors."""
TEAM_READERS = OFFICIALS | {Role.AUDITOR}
"""Who sees every drawn team."""

ViewerDep = Annotated[Actor, Depends(require(VIEWERS))]
OfficialDep = Annotated[Actor, Depends(require(OFFICIALS))]
InspectorDep = Annotated[Actor, Depends(require(Role.INSPECTOR))]

MAX_POOL_BYTES = 5 * 1024 * 1024
"""The largest pool file the commit form takes."""

STATUS_LABELS = {"committed": "已承诺", "drawn": "已抽取", "published": "已公开"}
SOURCE_LABELS = {"ledger": "项目台账", "cases": "案件", "list": "上传名单"}
OUTCOME_LABELS = {
    "compliant": "未发现问题",
    "violation": "发现挖矿",
    "not_found": "现场未找到",
    "refused": "拒绝检查",
    "pending": "待检查",
}
AGENCY_RULE_LABELS = {
    "prefer_distinct": "尽量来自不同单位",
    "require_distinct": "必须来自不同单位",
    "any": "不限单位",
}
UNSTAFFED_LABELS = {"too_few_eligible": "回避后可派人员不足", "too_few_agencies": "可派单位不足"}

i18n.register(
    {
        "双随机抽查": "Double-random inspections",
        "抽查编号": "Draw no.",
        "抽取日期": "Draw date",
        "对象来源": "Target source",
        "对象数": "Targets",
        "抽中": "Drawn",
        "已录入结果": "Results",
        "承诺时间": "Committed at",
        "承诺人": "Committed by",
        "抽取时间": "Drawn at",
        "公开时间": "Published at",
        "新建抽查": "New draw",
        "全部状态": "All statuses",
        "已承诺": "Committed",
        "已抽取": "Drawn",
        "已公开": "Published",
        "项目台账": "Ledger",
        "上传名单": "Uploaded list",
        "未发现问题": "Nothing found",
        "发现挖矿": "Mining found",
        "现场未找到": "Not found on site",
        "拒绝检查": "Access refused",
        "待检查": "Pending",
        "尽量来自不同单位": "Different agencies if possible",
        "必须来自不同单位": "Different agencies required",
        "不限单位": "Any agency",
        "回避后可派人员不足": "Too few officers left after recusals",
        "可派单位不足": "Too few agencies left",
        "承诺抽查": "Commit a draw",
        "先公布对象库与检查人员库的哈希值和抽取参数，再等待随机源开出；随机源开出后才能抽取，"
        "任何人都能据此复核抽取结果。": "Publish the hashes of the target and inspector pools and "
        "the parameters first, then wait for the seed source; only once it is published can the "
        "draw be made, and anyone can then check it.",
        "抽查地区代码": "Region code of the draw",
        "检查对象库": "Target pool",
        "本地区项目台账": "This region's project ledger",
        "本地区案件": "This region's cases",
        "上传名单（CSV）": "Uploaded list (CSV)",
        "对象名单文件": "Target list file",
        "列：target_id, region_code, enterprise_uscc，其余列作为公开属性。": "Columns: target_id, "
        "region_code, enterprise_uscc; further columns are public attributes.",
        "执法检查人员名录库（CSV）": "Inspector pool (CSV)",
        "列：inspector_id, name, region_code, agency，可选 related_usccs、past_inspections、"
        "username（代其录入结果的系统用户名，缺省为 inspector_id）。": "Columns: inspector_id, "
        "name, region_code, agency; optional related_usccs, past_inspections and username (the "
        "MineWatch user who records for the officer; the inspector_id when empty).",
        "抽取数量": "How many to draw",
        "个数": "Number",
        "按数量": "A number",
        "按比例": "A share",
        "按县分配": "Per county",
        "比例（0–1）": "Share (0–1)",
        "各县数量（每行 地区代码:数量）": "Per county (one region code:number per line)",
        "每个对象检查人数": "Inspectors per target",
        "单位搭配": "Agency mix",
        "近期检查过的对象回避（次数）": "Recuse from targets inspected in the last (draws)",
        "本县人员回避本县对象": "Recuse officers from their home county",
        "随机源说明（开出前公布）": "Seed source (named before it is published)",
        "例如：福彩双色球 第2021115期开奖号码": "e.g. the winning numbers of a named lottery draw",
        "承诺并公布": "Commit and publish",
        "基本信息": "Details",
        "抽取前公布的承诺": "Commitment published before the draw",
        "算法": "Scheme",
        "随机源": "Seed source",
        "对象库哈希": "Target pool hash",
        "人员库哈希": "Inspector pool hash",
        "参数": "Parameters",
        "抽取": "Draw",
        "随机源开出值": "Published seed source value",
        "按承诺的随机源抽取": "Draw from the committed seed source",
        "随机源开出值（原样填写）": "The published value, exactly as published",
        "种子": "Seed",
        "抽中对象": "Drawn targets",
        "序号": "No.",
        "对象": "Target",
        "企业统一社会信用代码": "Enterprise credit code",
        "名称与地址": "Name and address",
        "检查组": "Team",
        "回避人数": "Recused",
        "检查结果": "Result",
        "（不向您显示）": "(not shown to you)",
        "复核": "Verify",
        "按存储的对象库、人员库和随机源重新计算抽取结果。": "Recompute the draw from the stored "
        "pools and the seed source.",
        "复核一致：抽取结果完全由承诺的对象库、人员库、参数和随机源决定。": "The draw checks out: "
        "it follows entirely from the committed pools, parameters and seed source.",
        "复核不一致": "The draw does not check out",
        "录入检查结果": "Record a result",
        "检查日期": "Inspection date",
        "检查结论": "Outcome",
        "检查情况": "Findings",
        "录入": "Record",
        "您所在的检查组已录入全部结果。": "Your team has recorded every result.",
        "公开结果": "Publish results",
        "公开后，抽中对象和检查结果将在公示页面公开（不含检查组）。": "Once published, the drawn "
        "targets and results appear on the public page (without the teams).",
        "公示页面": "Public page",
        "双随机抽查结果公示": "Double-random inspections: public results",
        "每次抽查在抽取前公布承诺（对象库和人员库的哈希值、抽取参数、随机源）；公开后公布抽中对象和检查结果。"
        "任何人都可以据此复核抽取是否公正。": "Each draw's commitment (pool hashes, parameters, "
        "seed source) is published before the draw; once published, the drawn targets and "
        "results follow. Anyone can use them to check that the draw was fair.",
        "抽取结果尚未公开。": "The draw's results are not published yet.",
        "对象库（公开）": "Target pool (public)",
        "下载 JSON": "Download JSON",
    }
)

# ── shapes ───────────────────────────────────────────────────────────────────────────────────


class InspectionRow(BaseModel):
    """One round in a list."""

    draw_no: str
    region_code: str
    region_name: str
    status: RoundStatus
    target_source: TargetSource
    draw_date: date
    target_pool_size: int
    picks: int = Field(description="Targets drawn (0 before the draw)")
    results: int = Field(description="Results recorded so far")
    committed_by: str
    committed_at: datetime
    published_at: datetime | None


class Commitment(BaseModel):
    """What was published before the seed source existed."""

    scheme: str
    seed_source_description: str
    target_pool_sha256: str
    inspector_pool_sha256: str
    target_pool_size: int
    inspector_pool_size: int
    parameters: dict[str, Any]


class TeamMember(BaseModel):
    inspector_id: str
    name: str
    agency: str


class ResultOut(BaseModel):
    inspected_on: date
    outcome: InspectionOutcome
    findings: str | None
    lead_id: int | None = Field(description="The lead a violation became")
    recorded_at: datetime


class Pick(BaseModel):
    """One drawn target: its team (when the caller may see it) and its result."""

    position: int
    target_id: str
    region_code: str
    enterprise_uscc: str
    attributes: dict[str, str]
    team: list[TeamMember] | None = Field(description="None: not shown to this caller")
    unstaffed_reason: str | None
    recused_count: int
    mine: bool = Field(description="The caller records for this target's team")
    result: ResultOut | None


class InspectionDetail(BaseModel):
    """A round as its region's officials, inspectors and auditors see it."""

    draw_no: str
    region_code: str
    region_name: str
    status: RoundStatus
    target_source: TargetSource
    draw_date: date
    committed_by: str
    committed_at: datetime
    drawn_at: datetime | None
    published_at: datetime | None
    commitment: Commitment
    seed_source_text: str | None
    seed_sha256: str | None
    picks: list[Pick]


class ParametersIn(BaseModel):
    """How many targets and how teams are made; exactly one of the three counts."""

    draw_date: date
    target_count: int | None = Field(default=None, ge=1)
    target_share: float | None = Field(default=None, gt=0, le=1)
    region_target_counts: dict[str, int] | None = None
    inspectors_per_target: int = Field(default=2, ge=1, le=20)
    agency_rule: AgencyRule = AgencyRule.PREFER_DISTINCT
    recent_draws_excluded: int = Field(default=3, ge=0, le=100)
    recuse_home_county: bool = True


class TargetIn(BaseModel):
    target_id: str = Field(min_length=1, max_length=100)
    region_code: str = Field(pattern=r"^[0-9]{6}$")
    enterprise_uscc: str = Field(min_length=18, max_length=18)
    attributes: dict[str, str] = Field(default_factory=dict)


class InspectorIn(BaseModel):
    inspector_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)
    region_code: str = Field(pattern=r"^[0-9]{6}$")
    agency: str = Field(min_length=1, max_length=100)
    related_usccs: list[str] = Field(default_factory=list, description="Private conflict data")
    past_inspections: dict[str, int] = Field(
        default_factory=dict, description="Private: target id → draws ago (1 = the last draw)"
    )
    username: str | None = Field(
        default=None, max_length=64, description="The user recording for this officer"
    )


class CommitIn(BaseModel):
    """A round to commit: its region, both pools, the parameters, the seed source to come."""

    region_code: str = Field(pattern=r"^[0-9]{6}$")
    target_source: TargetSource = Field(
        description="ledger or cases: the region's records; list: the targets given here"
    )
    targets: list[TargetIn] | None = Field(default=None, description="Only with source list")
    inspectors: list[InspectorIn] = Field(min_length=1)
    parameters: ParametersIn
    seed_source_description: str = Field(min_length=1, max_length=500)


class DrawIn(BaseModel):
    seed_text: str = Field(
        min_length=1, max_length=500, description="The seed source's value as published"
    )


class ProblemOut(BaseModel):
    kind: str
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    problems: list[ProblemOut]


class ResultIn(BaseModel):
    target_id: str = Field(min_length=1, max_length=100)
    inspected_on: date
    outcome: InspectionOutcome
    findings: str | None = Field(default=None, max_length=5000)


class PublicRow(BaseModel):
    """One round on the public list."""

    draw_no: str
    region_code: str
    region_name: str
    status: RoundStatus
    draw_date: date
    seed_source_description: str
    target_pool_size: int
    published_at: datetime | None


class PublicDraw(BaseModel):
    """The public summary of a draw, without the inspectors and the teams."""

    scheme: str
    parameters: dict[str, Any]
    seed_source: dict[str, str]
    target_pool_sha256: str
    inspector_pool_sha256: str
    seed_sha256: str
    target_pool: list[dict[str, Any]]
    picks: list[str]


class PublicResult(BaseModel):
    seed_sha256: str
    draw_date: str
    target_id: str
    enterprise_uscc: str | None
    inspected_on: str | None
    outcome: str
    findings: str | None


class PublicInspection(BaseModel):
    """What anyone may read of a round."""

    draw_no: str
    region_code: str
    region_name: str
    status: RoundStatus
    commitment: Commitment
    draw: PublicDraw | None
    results: list[PublicResult]


# ── building the shapes ──────────────────────────────────────────────────────────────────────


def _row(rnd: InspectionRound) -> InspectionRow:
    record = draw_record_of(rnd)
    return InspectionRow(
        draw_no=rnd.draw_no,
        region_code=rnd.region_code,
        region_name=region_name(rnd.region_code),
        status=rnd.status,
        target_source=rnd.target_source,
        draw_date=rnd.draw_date,
        target_pool_size=commitment_of(rnd)["target_pool_size"],
        picks=0 if record is None else len(record.picks),
        results=0 if rnd.draw is None else len(rnd.draw.results),
        committed_by=rnd.committed_by,
        committed_at=rnd.committed_at,
        published_at=rnd.published_at,
    )


def _username(request: Request, session: Session) -> str | None:
    """The signed-in user's name (``None`` for a system presenting an API key)."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    user = signed_in_user(request, session)
    return None if user is None else user.username


def _detail(rnd: InspectionRound, actor: Actor, username: str | None) -> InspectionDetail:
    record = draw_record_of(rnd)
    picks: list[Pick] = []
    if record is not None and rnd.draw is not None:
        targets = {t.target_id: t for t in round_targets(rnd)}
        officers: dict[str, Inspector] = {i.inspector_id: i for i in round_inspectors(rnd)}
        mine_ids = member_inspector_ids(rnd, username) if username else frozenset()
        done = {r.target_id: r for r in rnd.draw.results}
        recused: dict[str, int] = {}
        for recusal in record.recusals:
            recused[recusal.target_id] = recused.get(recusal.target_id, 0) + 1
        for position, assignment in enumerate(record.assignments, start=1):
            target: Target = targets[assignment.target_id]
            mine = actor.role is Role.INSPECTOR and bool(mine_ids & set(assignment.inspector_ids))
            shown = actor.role in TEAM_READERS or mine
            result = done.get(assignment.target_id)
            picks.append(
                Pick(
                    position=position,
                    target_id=target.target_id,
                    region_code=target.region_code,
                    enterprise_uscc=target.enterprise_uscc,
                    attributes=dict(target.attributes),
                    team=[
                        TeamMember(inspector_id=i, name=officers[i].name,
                                   agency=officers[i].agency)
                        for i in assignment.inspector_ids
                    ] if shown else None,
                    unstaffed_reason=None if assignment.unstaffed_reason is None
                    else assignment.unstaffed_reason.value,
                    recused_count=recused.get(assignment.target_id, 0),
                    mine=mine,
                    result=None if result is None else ResultOut(
                        inspected_on=result.inspected_on, outcome=result.outcome,
                        findings=result.findings, lead_id=result.lead_id,
                        recorded_at=result.recorded_at,
                    ),
                )
            )  # fmt: skip
    return InspectionDetail(
        draw_no=rnd.draw_no,
        region_code=rnd.region_code,
        region_name=region_name(rnd.region_code),
        status=rnd.status,
        target_source=rnd.target_source,
        draw_date=rnd.draw_date,
        committed_by=rnd.committed_by,
        committed_at=rnd.committed_at,
        drawn_at=rnd.drawn_at,
        published_at=rnd.published_at,
        commitment=Commitment.model_validate(commitment_of(rnd)),
        seed_source_text=None if record is None else record.seed_source.text,
        seed_sha256=None if record is None else record.seed_sha256,
        picks=picks,
    )


def _verify_out(result: VerifyResult) -> VerifyOut:
    return VerifyOut(
        ok=result.ok,
        problems=[ProblemOut(kind=p.kind.value, detail=p.detail) for p in result.problems],
    )


def _public(session: Session, rnd: InspectionRound) -> PublicInspection:
    shown = public_record(session, rnd)
    return PublicInspection(
        draw_no=shown["draw_no"],
        region_code=shown["region_code"],
        region_name=region_name(shown["region_code"]),
        status=shown["status"],
        commitment=Commitment.model_validate(shown["commitment"]),
        draw=None if shown["draw"] is None else PublicDraw.model_validate(shown["draw"]),
        results=[PublicResult.model_validate(r) for r in shown["results"]],
    )


def _public_row(rnd: InspectionRound) -> PublicRow:
    commitment = commitment_of(rnd)
    return PublicRow(
        draw_no=rnd.draw_no,
        region_code=rnd.region_code,
        region_name=region_name(rnd.region_code),
        status=rnd.status,
        draw_date=rnd.draw_date,
        seed_source_description=commitment["seed_source_description"],
        target_pool_size=commitment["target_pool_size"],
        published_at=rnd.published_at,
    )


def _scope(actor_region: str, wanted: str | None) -> str | None:
    """The region a list covers: the narrower of the actor's and the one asked for; ``None``
    when they do not overlap."""
    if not wanted or wanted == actor_region:
        return actor_region
    if actor_region == regions.NATIONAL or regions.is_within(wanted, actor_region):
        return wanted
    if wanted == regions.NATIONAL or regions.is_within(actor_region, wanted):
        return actor_region
    return None


def _list(
    session: Session, actor: Actor, page: PageParams, status: RoundStatus | None,
    region_code: str | None,
) -> Paged[InspectionRow]:  # fmt: skip
    scope = _scope(actor.region_code, region_code)
    if scope is None:
        return paged([], 0, page)
    rows, total = rounds_within(session, scope, status=status, limit=page.limit,
                                offset=page.offset)  # fmt: skip
    return paged([_row(r) for r in rows], total, page)


def _round(session: Session, actor: Actor, draw_no: str) -> InspectionRound:
    """The round, or 404 — also when it lies outside the actor's region."""
    rnd = get_round(session, draw_no)
    in_region(actor, rnd.region_code)
    return rnd


def _check_commit_region(actor: Actor, region_code: str) -> None:
    if not actor.covers(region_code):
        raise HTTPException(403, f"region {region_code} is outside your region")


def _targets_for(
    session: Session, source: TargetSource, region_code: str, listed: list[Target] | None
) -> list[Target]:
    if source is TargetSource.LEDGER:
        return ledger_targets(session, region_code)
    if source is TargetSource.CASES:
        return case_targets(session, region_code)
    if listed is None:
        raise MineWatchError("a target list is needed when the target source is a list")
    return listed


# ── API ──────────────────────────────────────────────────────────────────────────────────────

DrawNo = Annotated[
    str, Path(pattern=r"^SJ-[0-9]{6}-[0-9]{4}-[0-9]{3,6}$", description="e.g. SJ-511824-2021-001")
]
StatusQuery = Annotated[RoundStatus | None, Query(description="Only rounds in this state")]
RegionQuery = Annotated[
    str | None, Query(pattern=r"^[0-9]{6}$", description="Only rounds in this region and below")
]


@router.get("/api/v1/inspections", response_model=Paged[InspectionRow], responses=ERRORS,
            summary="Inspection rounds in my region")  # fmt: skip
def api_list(
    session: SessionDep, actor: ViewerDep, page: PageDep, status: StatusQuery = None,
    region_code: RegionQuery = None,
) -> Paged[InspectionRow]:  # fmt: skip
    """The double-random rounds of the caller's region and below, newest first."""
    return _list(session, actor, page, status, region_code)


@router.post("/api/v1/inspections", response_model=InspectionDetail, status_code=201,
             responses=ERRORS, summary="Commit an inspection round")  # fmt: skip
def api_commit(body: CommitIn, session: SessionDep, actor: OfficialDep) -> InspectionDetail:
    """Keep both pools and publish their hashes and the parameters, before the seed source
    value exists. The targets are the region's ledger or cases, or the list given."""
    _check_commit_region(actor, body.region_code)
    try:
        listed = None if body.targets is None else [
            Target(t.target_id, t.region_code, t.enterprise_uscc, t.attributes)
            for t in body.targets
        ]  # fmt: skip
        if listed is not None and body.target_source is not TargetSource.LIST:
            raise MineWatchError("targets are given only with the target source list")
        inspectors = [
            Inspector(i.inspector_id, i.name, i.region_code, i.agency,
                      frozenset(i.related_usccs), i.past_inspections)
            for i in body.inspectors
        ]  # fmt: skip
        pool = InspectorPool.of(
            inspectors, {i.inspector_id: i.username for i in body.inspectors if i.username}
        )
        parameters = DrawParameters(**body.parameters.model_dump())
    except ValueError as error:
        raise MineWatchError(str(error)) from error
    targets = _targets_for(session, body.target_source, body.region_code, listed)
    rnd = commit_round(
        session, region_code=body.region_code, target_source=body.target_source,
        targets=targets, inspector_pool=pool, parameters=parameters,
        seed_source_description=body.seed_source_description, actor=actor,
    )  # fmt: skip
    return _detail(rnd, actor, None)


@router.get("/api/v1/inspections/{draw_no}", response_model=InspectionDetail, responses=ERRORS,
            summary="One inspection round")  # fmt: skip
def api_detail(
    draw_no: DrawNo, request: Request, session: SessionDep, actor: ViewerDep
) -> InspectionDetail:
    """The commitment, and once drawn the targets with their teams (every team for officials
    and auditors, only their own for an inspector) and results."""
    return _detail(_round(session, actor, draw_no), actor, _username(request, session))


@router.post("/api/v1/inspections/{draw_no}/draw", response_model=InspectionDetail,
             responses=ERRORS, summary="Draw a committed round")  # fmt: skip
def api_draw(
    draw_no: DrawNo, body: DrawIn, session: SessionDep, actor: OfficialDep
) -> InspectionDetail:
    """Draw from the value of the seed source the commitment named (409 when already drawn)."""
    rnd = draw_round(session, _round(session, actor, draw_no), body.seed_text, actor=actor)
    return _detail(rnd, actor, None)


@router.post("/api/v1/inspections/{draw_no}/verify", response_model=VerifyOut, responses=ERRORS,
             summary="Re-check a round")  # fmt: skip
def api_verify(draw_no: DrawNo, session: SessionDep, actor: ViewerDep) -> VerifyOut:
    """Recompute from what is stored: the pools hash to the commitment; the draw used what was
    committed and follows from the seed source. Every mismatch is named."""
    return _verify_out(verify_round(_round(session, actor, draw_no)))


@router.get("/api/v1/inspections/{draw_no}/results", response_model=list[PublicResult],
            responses=ERRORS, summary="A round's results")  # fmt: skip
def api_results(draw_no: DrawNo, session: SessionDep, actor: ViewerDep) -> list[PublicResult]:
    """Each drawn target and its outcome (or pending), as they will be published."""
    rnd = _round(session, actor, draw_no)
    if rnd.draw is None:
        return []
    return [PublicResult.model_validate(r) for r in published_results(session, rnd.draw)]


@router.post("/api/v1/inspections/{draw_no}/results", response_model=InspectionDetail,
             status_code=201, responses=ERRORS, summary="Record a result")  # fmt: skip
def api_record(
    draw_no: DrawNo, body: ResultIn, request: Request, session: SessionDep, actor: InspectorDep
) -> InspectionDetail:
    """What the drawn team found at one of its targets, recorded by a signed-in inspector named
    for one of the team's officers in the inspector pool (403 for anyone else)."""
    rnd = _round(session, actor, draw_no)
    username = _record(session, request, rnd, actor, body)
    return _detail(rnd, actor, username)


def _record(
    session: Session, request: Request, rnd: InspectionRound, actor: Actor, body: ResultIn
) -> str:
    username = _username(request, session)
    if username is None:
        raise HTTPException(403, "results are recorded by a signed-in inspector of the team")
    try:
        record_round_result(
            session, rnd, target_id=body.target_id, inspected_on=body.inspected_on,
            outcome=body.outcome, findings=body.findings, username=username, actor=actor.name,
        )  # fmt: skip
    except NotOnTeamError as error:
        raise HTTPException(403, str(error)) from error
    return username


@router.post("/api/v1/inspections/{draw_no}/publish", response_model=InspectionDetail,
             responses=ERRORS, summary="Publish a round's results")  # fmt: skip
def api_publish(draw_no: DrawNo, session: SessionDep, actor: OfficialDep) -> InspectionDetail:
    """Make the picks and results public (without the teams); 409 before the draw or twice."""
    rnd = publish_round(session, _round(session, actor, draw_no), actor=actor)
    return _detail(rnd, actor, None)


@router.get("/api/v1/public/inspections", response_model=Paged[PublicRow],
            summary="Inspection rounds (public)", tags=["public"])  # fmt: skip
def api_public_list(
    session: SessionDep, page: PageDep, region_code: RegionQuery = None
) -> Paged[PublicRow]:
    """Every round's commitment, newest first; no sign-in."""
    rows, total = rounds_within(session, region_code or regions.NATIONAL, limit=page.limit,
                                offset=page.offset)  # fmt: skip
    return paged([_public_row(r) for r in rows], total, page)


@router.get("/api/v1/public/inspections/{draw_no}", response_model=PublicInspection,
            responses={404: ERRORS[404]}, summary="One inspection round (public)",
            tags=["public"])  # fmt: skip
def api_public_detail(draw_no: DrawNo, session: SessionDep) -> PublicInspection:
    """The commitment and, once published, the picks and results — never the teams."""
    return _public(session, get_round(session, draw_no))


# ── pages ────────────────────────────────────────────────────────────────────────────────────


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "agency_rule_labels": AGENCY_RULE_LABELS,
        "unstaffed_labels": UNSTAFFED_LABELS,
    }


@router.get("/inspections", response_class=HTMLResponse, include_in_schema=False)
def list_page(
    request: Request, session: SessionDep, actor: ViewerDep, page: PageDep,
    status: StatusQuery = None,
) -> HTMLResponse:  # fmt: skip
    listing = _list(session, actor, page, status, None)
    return render(request, "inspections.html",
                  {"page": listing, "status": status.value if status else "",
                   "can_commit": actor.role in OFFICIALS, **_labels()}, actor=actor)  # fmt: skip


def _new_page(
    request: Request, actor: Actor, values: dict[str, Any], error: str | None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    defaults = {
        "region_code": actor.region_code if actor.region_code != regions.NATIONAL else "",
        "target_source": "ledger", "size_rule": "count", "target_count": "", "target_share": "",
        "region_counts": "", "inspectors_per_target": 2, "agency_rule": "prefer_distinct",
        "recent_draws_excluded": 3, "recuse_home_county": True, "draw_date": "",
        "seed_source_description": "",
    }  # fmt: skip
    return render(request, "inspection_new.html",
                  {"values": {**defaults, **values}, "error": error, **_labels()}, actor=actor,
                  status_code=status_code)  # fmt: skip


@router.get("/inspections/new", response_class=HTMLResponse, include_in_schema=False)
def new_page(request: Request, actor: OfficialDep) -> HTMLResponse:
    return _new_page(request, actor, {}, None)


def _upload_text(upload: UploadFile | None, what: str) -> tuple[str, str]:
    if upload is None or not upload.filename:
        raise MineWatchError(f"choose the {what} file")
    data = upload.file.read(MAX_POOL_BYTES + 1)
    if len(data) > MAX_POOL_BYTES:
        raise MineWatchError(f"{upload.filename}: larger than {MAX_POOL_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8-sig"), upload.filename
    except UnicodeDecodeError as error:
        raise MineWatchError(f"{upload.filename}: not UTF-8 text") from error


_COUNT_LINE = re.compile(r"^\s*(\d{6})\s*[:：=]\s*(\d+)\s*$")


def _region_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in re.split(r"[\n,，;；]", text):
        if not line.strip():
            continue
        match = _COUNT_LINE.match(line)
        if match is None:
            raise MineWatchError(f"per-county count {line.strip()!r}: write region_code:number")
        counts[match.group(1)] = int(match.group(2))
    return counts


def _size(rule: str, count: str, share: str, per_region: str) -> dict[str, Any]:
    """The one count parameter the form's size rule names."""
    if rule == "count":
        return {"target_count": int(count or "0")}
    if rule == "share":
        return {"target_share": float(share or "0")}
    if rule == "regions":
        return {"region_target_counts": _region_counts(per_region)}
    raise MineWatchError(f"unknown size rule {rule!r}")


@router.post("/inspections", include_in_schema=False, dependencies=[CsrfDep])
def commit_page(
    request: Request,
    session: SessionDep,
    actor: OfficialDep,
    region_code: Annotated[str, Form(max_length=6)] = "",
    target_source: Annotated[str, Form(max_length=10)] = "ledger",
    size_rule: Annotated[str, Form(max_length=10)] = "count",
    target_count: Annotated[str, Form(max_length=10)] = "",
    target_share: Annotated[str, Form(max_length=20)] = "",
    region_counts: Annotated[str, Form(max_length=5000)] = "",
    inspectors_per_target: Annotated[int, Form(ge=1, le=20)] = 2,
    agency_rule: Annotated[str, Form(max_length=20)] = "prefer_distinct",
    recent_draws_excluded: Annotated[int, Form(ge=0, le=100)] = 3,
    recuse_home_county: Annotated[bool, Form()] = False,
    draw_date: Annotated[str, Form(max_length=10)] = "",
    seed_source_description: Annotated[str, Form(max_length=500)] = "",
    targets_file: Annotated[UploadFile | None, File()] = None,
    inspectors_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {
        "region_code": region_code, "target_source": target_source, "size_rule": size_rule,
        "target_count": target_count, "target_share": target_share,
        "region_counts": region_counts, "inspectors_per_target": inspectors_per_target,
        "agency_rule": agency_rule, "recent_draws_excluded": recent_draws_excluded,
        "recuse_home_county": recuse_home_county, "draw_date": draw_date,
        "seed_source_description": seed_source_description,
    }  # fmt: skip
    code = region_code.strip()
    _check_commit_region(actor, code)
    try:
        source = TargetSource(target_source)
        day = date.fromisoformat(draw_date)
        size = _size(size_rule, target_count, target_share, region_counts)
        parameters = DrawParameters(
            day, inspectors_per_target=inspectors_per_target, agency_rule=AgencyRule(agency_rule),
            recent_draws_excluded=recent_draws_excluded, recuse_home_county=recuse_home_county,
            **size,
        )  # fmt: skip
        pool = read_inspector_pool(*_upload_text(inspectors_file, "inspector pool"))
        listed = (
            read_target_pool(*_upload_text(targets_file, "target list"))
            if source is TargetSource.LIST
            else None
        )
        targets = _targets_for(session, source, code, listed)
        rnd = commit_round(
            session, region_code=code, target_source=source, targets=targets,
            inspector_pool=pool, parameters=parameters,
            seed_source_description=seed_source_description, actor=actor,
        )  # fmt: skip
    except (MineWatchError, ValueError) as error:
        return _new_page(request, actor, values, str(error), status_code=422)
    return RedirectResponse(f"/inspections/{rnd.draw_no}", status_code=303)


def _detail_page(
    request: Request, session: Session, rnd: InspectionRound, actor: Actor, *,
    error: str | None = None, verification: VerifyOut | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    detail = _detail(rnd, actor, _username(request, session))
    recordable = [p for p in detail.picks if p.mine and p.result is None]
    return render(
        request, "inspection.html",
        {
            "d": detail, "error": error, "verification": verification,
            "can_draw": actor.role in OFFICIALS and detail.status is RoundStatus.COMMITTED,
            "can_publish": actor.role in OFFICIALS and detail.status is RoundStatus.DRAWN,
            "is_inspector": actor.role is Role.INSPECTOR,
            "recordable": recordable, "outcomes": [o.value for o in InspectionOutcome],
            **_labels(),
        },
        actor=actor, status_code=status_code,
    )  # fmt: skip


@router.get("/inspections/{draw_no}", response_class=HTMLResponse, include_in_schema=False)
def detail_page(
    draw_no: DrawNo, request: Request, session: SessionDep, actor: ViewerDep
) -> HTMLResponse:
    return _detail_page(request, session, _round(session, actor, draw_no), actor)


@router.post("/inspections/{draw_no}/draw", include_in_schema=False, dependencies=[CsrfDep])
def draw_page(
    draw_no: DrawNo, request: Request, session: SessionDep, actor: OfficialDep,
    seed_text: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    rnd = _round(session, actor, draw_no)
    try:
        draw_round(session, rnd, seed_text, actor=actor)
    except InspectionError as error:
        return _detail_page(request, session, rnd, actor, error=str(error), status_code=422)
    return RedirectResponse(f"/inspections/{draw_no}", status_code=303)


@router.post("/inspections/{draw_no}/verify", include_in_schema=False, dependencies=[CsrfDep])
def verify_page(
    draw_no: DrawNo, request: Request, session: SessionDep, actor: ViewerDep
) -> HTMLResponse:
    rnd = _round(session, actor, draw_no)
    verification = _verify_out(verify_round(rnd))
    if request.headers.get("hx-request") == "true":
        # A fragment into the page already shown: it keeps that page's CSRF token (render()
        # would issue a new one and the page's other forms would then be refused).
        fragment = {"verification": verification, "_": translator(language(request))}
        return TEMPLATES.TemplateResponse(request, "inspection_verify.html", fragment)
    return _detail_page(request, session, rnd, actor, verification=verification)


@router.post("/inspections/{draw_no}/results", include_in_schema=False, dependencies=[CsrfDep])
def record_page(
    draw_no: DrawNo, request: Request, session: SessionDep, actor: InspectorDep,
    target_id: Annotated[str, Form(max_length=100)] = "",
    inspected_on: Annotated[str, Form(max_length=10)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    findings: Annotated[str, Form(max_length=5000)] = "",
) -> Response:  # fmt: skip
    rnd = _round(session, actor, draw_no)
    try:
        body = ResultIn(
            target_id=target_id,
            inspected_on=date.fromisoformat(inspected_on),
            outcome=InspectionOutcome(outcome),
            findings=findings.strip() or None,
        )
        _record(session, request, rnd, actor, body)
    except (InspectionError, ValueError) as error:
        return _detail_page(request, session, rnd, actor, error=str(error), status_code=422)
    return RedirectResponse(f"/inspections/{draw_no}", status_code=303)


@router.post("/inspections/{draw_no}/publish", include_in_schema=False, dependencies=[CsrfDep])
def publish_page(draw_no: DrawNo, session: SessionDep, actor: OfficialDep) -> Response:
    publish_round(session, _round(session, actor, draw_no), actor=actor)
    return RedirectResponse(f"/inspections/{draw_no}", status_code=303)


@router.get("/public/inspections", response_class=HTMLResponse, include_in_schema=False)
def public_list_page(request: Request, session: SessionDep, page: PageDep) -> HTMLResponse:
    rows, total = public_rounds(session, limit=page.limit, offset=page.offset)
    listing = paged([_public_row(r) for r in rows], total, page)
    return render(request, "public_inspections.html", {"page": listing, **_labels()})


@router.get("/public/inspections/{draw_no}", response_class=HTMLResponse, include_in_schema=False)
def public_detail_page(draw_no: DrawNo, request: Request, session: SessionDep) -> HTMLResponse:
    shown = _public(session, get_round(session, draw_no))
    return render(request, "public_inspection.html", {"p": shown, **_labels()})
