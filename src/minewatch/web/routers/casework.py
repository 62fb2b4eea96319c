"""Casework: the case list, the case page with its evidence and actions, and the leads API.

Pages: ``/cases`` (filters, sort, pages; HTMX swaps the table), ``/cases/{case_no}`` (the case
file: header, leads with their evidence and charts, checks, measures, ledger project, credit
record, history from the audit chain) and one form post per action. API: ``/api/v1/cases``,
``/api/v1/cases/{case_no}``, ``/api/v1/cases/{case_no}/actions/<action>`` and
``/api/v1/leads`` (read, and push by grid companies and ISPs with a key scoped to a region).

Every list is filtered by the caller's region in SQL; a case outside it is 404, exactly as a
case that does not exist. Each action is checked for the role (403), then handed to the case
service with the caller as the actor, so it lands in the audit chain under their name; a refused
transition or a stale version is 409, with the page saying which.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from minewatch.domain.cases.file import case_file
from minewatch.domain.cases.models import CheckOutcome, MeasureKind, MeasureStatus
from minewatch.domain.cases.service import (
    Actor,
    CaseError,
    CaseQuery,
    CaseSort,
    ConcurrentEditError,
    TransitionRefusedError,
    find_case,
    search_cases,
    take_leads,
)
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import utcnow
from minewatch.domain.leads.service import LeadQuery, search_leads
from minewatch.domain.reports.service import ContactVault, reveal_contact
from minewatch.errors import NotFoundError
from minewatch.web import i18n
from minewatch.web.app import TEMPLATES
from minewatch.web.case_views import (
    ACTION_LABELS,
    ACTION_ROLES,
    ACTIONS,
    FIELD_LABELS,
    HISTORY_LABELS,
    LOCAL_TZ,
    MEASURE_LABELS,
    MEASURE_STATUS_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    ActionBody,
    AssignBody,
    CaseAction,
    CaseDetail,
    CaseRow,
    CheckBody,
    CompleteBody,
    LeadBatch,
    LeadOut,
    LeadPushOut,
    OrderBody,
    ReasonedBody,
    batch_problems,
    case_detail,
    case_row,
    county_choices,
    lead_out,
    push_out,
    region_choices,
    region_label,
)
from minewatch.web.charts import lead_charts
from minewatch.web.deps import (
    ERRORS,
    OFFICIALS,
    READERS,
    ActorDep,
    CsrfDep,
    Paged,
    PageDep,
    PageParams,
    SessionDep,
    TextRoute,
    paged,
    render,
    require,
)
from minewatch.web.i18n import language, translator

router = APIRouter(tags=["casework"], route_class=TextRoute)

Reader = Annotated[Actor, Depends(require(READERS))]
PUSHERS = frozenset({*OFFICIALS, Role.GRID_ANALYST})
"""Who may push leads: a grid company's or an ISP's system (an analyst key), or an official's."""

CaseNo = Annotated[str, Path(max_length=40, description="The case number, e.g. MW5118242021000001")]


# ----------------------------------------------------------------------------------------------
# filters


class CaseFilters(BaseModel):
    """The list's query parameters, as the page and the API take them."""

    status: list[CaseStatus]
    source: str | None
    region: str | None
    overdue: bool
    q: str | None
    sort: CaseSort

    def query(self) -> CaseQuery:
        return CaseQuery(
            statuses=tuple(self.status),
            source=self.source or None,
            region_code=self.region or None,
            overdue=self.overdue,
            text=self.q or None,
            sort=self.sort,
        )

    def params(self, **changes: Any) -> str:
        """The query string of these filters (for the pages' links)."""
        values: dict[str, Any] = {
            "status": [s.value for s in self.status],
            "source": self.source or "",
            "region": self.region or "",
            "overdue": "true" if self.overdue else "",
            "q": self.q or "",
            "sort": self.sort.value,
            **changes,
        }
        pairs = [
            (k, item)
            for k, v in values.items()
            for item in (v if isinstance(v, list) else [v])
            if item not in ("", None)
        ]
        return urlencode(pairs)


def _case_filters(
    status: Annotated[list[CaseStatus], Query(description="Stages (repeat for several)")] = [],  # noqa: B006 - FastAPI copies query defaults
    source: Annotated[
        str | None, Query(max_length=20, pattern=r"^[a-z_]*$", description="A lead source")
    ] = None,
    region: Annotated[
        str | None,
        Query(pattern=r"^(\d{6})?$", description="Answering region (within yours) and below"),
    ] = None,
    overdue: Annotated[bool, Query(description="Only cases past their stage deadline")] = False,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of case no., address, account, USCC, enterprise"),
    ] = None,
    sort: Annotated[CaseSort, Query(description="Order of the list")] = CaseSort.CONFIDENCE,
) -> CaseFilters:
    return CaseFilters(status=status, source=source, region=region, overdue=overdue,
                       q=(q or "").strip() or None, sort=sort)  # fmt: skip


FiltersDep = Annotated[CaseFilters, Depends(_case_filters)]


def _list(session: Session, actor: Actor, filters: CaseFilters, page: PageParams) -> Paged[CaseRow]:
    cases, total = search_cases(
        session, actor, filters.query(), limit=page.limit, offset=page.offset
    )
    now = utcnow()
    return paged([case_row(c, actor, now) for c in cases], total, page)


# ----------------------------------------------------------------------------------------------
# API: cases


@router.get(
    "/api/v1/cases",
    response_model=Paged[CaseRow],
    summary="Cases in my region",
    description="The caller's cases (by the assigned county, else the site's region), "
    "filtered by stage, lead source, region, overdue and text, sorted, one page at a time.",
    responses=ERRORS,
)
def api_cases(
    session: SessionDep, actor: Reader, filters: FiltersDep, page: PageDep
) -> Paged[CaseRow]:
    return _list(session, actor, filters, page)


@router.get(
    "/api/v1/cases/{case_no}",
    response_model=CaseDetail,
    summary="One case, with its evidence and history",
    description="The case file: header, leads with their evidence, site checks, measures, "
    "the ledger project and credit record, the history from the audit chain, and the actions "
    "the caller may take now. 404 for a case outside the caller's region.",
    responses=ERRORS,
)
def api_case(case_no: CaseNo, session: SessionDep, actor: Reader) -> CaseDetail:
    return case_detail(case_file(session, case_no, actor), actor)


def _act(
    session: Session, actor: Actor, case_no: str, action: CaseAction, body: ActionBody
) -> CaseDetail:
    """404 outside the caller's region, 403 for a role that never takes this action, then the
    service (409 when the stage refuses it or the version is stale)."""
    find_case(session, case_no, actor)  # 404 before anything else is said about the case
    if actor.role not in ACTION_ROLES[action]:
        raise HTTPException(403, f"a {actor.role.value} may not {action.value}")
    ACTIONS[action].call(session, case_no, body, actor)
    return case_detail(case_file(session, case_no, actor), actor)


def _action_route(
    action: CaseAction, summary: str, description: str
) -> Callable[[Callable[..., CaseDetail]], Callable[..., CaseDetail]]:
    """The decorator of one action's API route."""
    return router.post(
        f"/api/v1/cases/{{case_no}}/actions/{action.value}",
        response_model=CaseDetail,
        summary=summary,
        description=description,
        responses=ERRORS,
    )


@_action_route(
    CaseAction.ASSIGN,
    "Assign the case to a county",
    "Hand the case to a county within the caller's region (dispatchers only).",
)
def api_assign(
    case_no: CaseNo, body: AssignBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.ASSIGN, body)


@_action_route(
    CaseAction.CHECK,
    "Record the site check",
    "What the inspectors found on site (county officials and inspectors).",
)
def api_check(case_no: CaseNo, body: CheckBody, session: SessionDep, actor: ActorDep) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.CHECK, body)


@_action_route(
    CaseAction.CONFIRM,
    "Confirm mining",
    "After a check that found mining: the project enters the ledger and an "
    "enterprise that signed a commitment gets its credit record.",
)
def api_confirm(
    case_no: CaseNo, body: ActionBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.CONFIRM, body)


@_action_route(
    CaseAction.DISMISS,
    "Dismiss the case",
    "No mining: the reason is kept and the leads become labelled negatives.",
)
def api_dismiss(
    case_no: CaseNo, body: ReasonedBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.DISMISS, body)


@_action_route(
    CaseAction.ORDER_MEASURES,
    "Order measures",
    "Measures of the notice (power cut, surcharge, market exit, fiscal and finance "
    "stop, closure), each with its due date.",
)
def api_order(case_no: CaseNo, body: OrderBody, session: SessionDep, actor: ActorDep) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.ORDER_MEASURES, body)


@_action_route(
    CaseAction.COMPLETE_MEASURE,
    "Complete a measure",
    "One ordered measure is done; with the last one the case reaches measures completed.",
)
def api_complete(
    case_no: CaseNo, body: CompleteBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.COMPLETE_MEASURE, body)


@_action_route(
    CaseAction.CLEAR,
    "Clear the site",
    "Every measure done: the site is cleared and due for its re-check.",
)
def api_clear(
    case_no: CaseNo, body: ActionBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.CLEAR, body)


@_action_route(
    CaseAction.RECHECK,
    "Re-check a cleared site",
    "Clean: re-checked; mining found again: the case relapses to assigned.",
)
def api_recheck(
    case_no: CaseNo, body: CheckBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.RECHECK, body)


@_action_route(
    CaseAction.REOPEN,
    "Reopen a dismissed case",
    "New evidence or an appeal: the case and its leads are open again.",
)
def api_reopen(
    case_no: CaseNo, body: ReasonedBody, session: SessionDep, actor: ActorDep
) -> CaseDetail:
    return _act(session, actor, case_no, CaseAction.REOPEN, body)


# ----------------------------------------------------------------------------------------------
# API: leads


@router.get(
    "/api/v1/leads",
    response_model=Paged[LeadOut],
    summary="Leads in my region",
    description="Leads of every source in the caller's region and below, highest score first; "
    "a lead names its case when that case is in the caller's region too.",
    responses=ERRORS,
)
def api_leads(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    source: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]*$")] = None,
    status: Annotated[
        str | None, Query(max_length=20, description="new, confirmed or dismissed")
    ] = None,
    region: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> Paged[LeadOut]:
    query = LeadQuery(source=source or None, status=status or None, region_code=region or None,
                      min_score=min_score)  # fmt: skip
    hits, total = search_leads(
        session, actor.region_code, query, limit=page.limit, offset=page.offset
    )
    return paged([lead_out(h.lead, h.case_no) for h in hits], total, page)


@router.post(
    "/api/v1/leads",
    response_model=LeadPushOut,
    status_code=201,
    summary="Push a batch of leads",
    description="For grid companies and ISPs, with an API key scoped to a region: a batch of "
    "leads, accepted whole or not at all. An item outside the key's region, repeated, or "
    "invalid is refused (422) naming its position and field. The leads are recorded, fused "
    "into cases, and the cases reached in the caller's region are returned.",
    responses=ERRORS,
)
def api_push_leads(
    batch: LeadBatch,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(PUSHERS))],
) -> LeadPushOut:
    problems = batch_problems(batch, actor)
    if problems:
        raise RequestValidationError(problems)
    intake = take_leads(session, [item.data() for item in batch.leads], actor=actor)
    return push_out(intake, actor)


# ----------------------------------------------------------------------------------------------
# pages

i18n.register(
    {
        "待分派": "To assign",
        "待核查": "To check",
        "待认定": "To decide",
        "已认定": "Confirmed",
        "已排除": "Dismissed",
        "处置中": "Measures ordered",
        "措施已落实": "Measures completed",
        "已整治": "Cleared",
        "已复查": "Re-checked",
        "停限电": "Power cut",
        "差别电价": "Surcharge",
        "退出电力市场": "Market exit",
        "停止财税支持": "Fiscal support stopped",
        "停止金融服务": "Financial services stopped",
        "关停淘汰": "Closure",
        "发现挖矿": "Mining found",
        "未发现挖矿": "No mining",
        "已停运搬离": "Site closed",
        "无法进入现场": "No access",
        "已下达": "Ordered",
        "已落实": "Completed",
        "用电分析": "Electricity analysis",
        "网络监测": "Network monitoring",
        "电站发电": "Plant generation",
        "群众举报": "Public report",
        "双随机检查": "Inspections",
        "项目台账": "Ledger",
        "分派": "Assign",
        "录入核查结果": "Record site check",
        "认定属实": "Confirm mining",
        "排除": "Dismiss",
        "下达处置措施": "Order measures",
        "措施落实": "Complete measure",
        "整治销号": "Clear",
        "复查": "Re-check",
        "重新立案": "Reopen",
        "立案": "Opened",
        "并入线索": "Lead attached",
        "措施全部落实": "All measures completed",
        "复查发现反弹": "Relapse found on re-check",
        "承办县区": "Assigned county",
        "所在地区": "Region",
        "统一社会信用代码": "Unified social credit code",
        "用电户号": "Electricity account",
        "估计开始日期": "Estimated start",
        "估计挖矿负荷（kW）": "Estimated mining load (kW)",
        "入账项目": "Ledger project",
        "排除理由": "Reason dismissed",
        "反弹次数": "Relapses",
        "环节期限": "Stage deadline",
        "线索数": "Leads",
        "现场核查": "Site checks",
        # the list
        "全部": "All",
        "仅看逾期": "Overdue only",
        "关键词": "Keyword",
        "案件编号、地址、户号、信用代码或企业名称": "Case no., address, account, credit code or "
        "enterprise",
        "排序": "Sort",
        "置信度最高": "Most confident",
        "最新立案": "Newest",
        "最早立案": "Oldest",
        "期限最近": "Nearest deadline",
        "最近更新": "Recently updated",
        "按编号": "By number",
        "企业": "Enterprise",
        "期限": "Deadline",
        "逾期": "Overdue",
        "没有符合条件的案件。": "No case matches.",
        # the case page
        "案件详情": "Case file",
        "基本情况": "Summary",
        "承办": "Assigned to",
        "未分派": "Not assigned",
        "估计开始": "Estimated start",
        "估计挖矿负荷": "Estimated mining load",
        "估计矿机": "Estimated rigs",
        "现场清点矿机": "Rigs counted on site",
        "台": "rigs",
        "版本": "Version",
        "已办理：": "Done: ",
        "可办理事项": "Actions",
        "您对本案件暂无可办理事项。": "You have no action on this case now.",
        "分派至县区": "Assign to county",
        "理由（选填）": "Reason (optional)",
        "理由": "Reason",
        "核查日期": "Date of check",
        "核查人员（以顿号或逗号分隔）": "Inspectors (separated by commas)",
        "核查结果": "Outcome",
        "矿机型号": "Rig model",
        "数量": "Count",
        "实测挖矿负荷（kW）": "Mining load measured (kW)",
        "备注": "Notes",
        "处置措施": "Measures",
        "完成期限": "Due date",
        "说明（选填）": "Note (optional)",
        "措施": "Measure",
        "提交": "Submit",
        "线索与证据": "Leads and evidence",
        "得分": "Score",
        "匹配依据": "Matched on",
        "理由代码": "Reason codes",
        "负荷曲线": "Load curve",
        "日用电量（kWh）": "Daily energy (kWh)",
        "日最低小时负荷（kW）": "Lowest hourly load of the day (kW)",
        "检测开始": "Detected start",
        "开始前平均日负荷曲线（kW）": "Mean daily profile before (kW)",
        "开始后平均日负荷曲线（kW）": "Mean daily profile after (kW)",
        "时": "hour",
        "该线索未附负荷曲线。": "This lead carries no load curve.",
        "有效天数": "Valid days",
        "警告": "Warnings",
        "矿池": "Pool",
        "钱包": "Wallet",
        "矿工名": "Worker",
        "客户端": "Client",
        "服务器": "Server",
        "协议": "Transport",
        "币种": "Coin",
        "方法": "Method",
        "字节": "Bytes",
        "包数": "Packets",
        "首次出现": "First seen",
        "最后出现": "Last seen",
        "流量": "Flows",
        "矿池汇总": "Pools",
        "追溯": "Traced by",
        "应发电量（kWh）": "Expected generation (kWh)",
        "上网电量（kWh）": "Delivered (kWh)",
        "缺口（kWh）": "Shortfall (kWh)",
        "按周": "by week",
        "短缺期间": "Shortfall period",
        "私接负荷（kW）": "Private line draw (kW)",
        "已排除的解释": "Explanations ruled out",
        "举报内容": "What was reported",
        "用电情况": "Power use",
        "查看举报人联系方式": "Reveal the reporter's contact",
        "查看理由（记入审计）": "Reason (audited)",
        "举报人联系方式：": "Reporter's contact: ",
        "举报人未留联系方式。": "The reporter left no contact.",
        "检查发现": "Findings",
        "核查人员": "Inspectors",
        "证据": "Evidence",
        "核查日期与结果": "Checks",
        "矿机": "Rigs",
        "实测负荷（kW）": "Load measured (kW)",
        "尚无现场核查。": "No site check yet.",
        "条款": "Clause",
        "执行单位": "Agency",
        "下达时间": "Ordered",
        "完成时间": "Completed",
        "尚未下达处置措施。": "No measure ordered yet.",
        "项目台账与信用记录": "Ledger and credit record",
        "台账项目编号": "Project code",
        "项目名称": "Project name",
        "信用记录": "Credit record",
        "公示期至": "Public until",
        "未进入台账。": "Not in the ledger.",
        "无信用记录。": "No credit record.",
        "办理记录": "History",
        "时间": "Time",
        "办理人": "By",
        "事项": "Action",
        "变更": "Changes",
        "无权办理：": "Not allowed: ",
        "案件已被他人修改，请刷新页面后重试。": "The case was changed by someone else; reload "
        "and try again.",
        "无法办理：": "Refused: ",
        "请求有误：": "Invalid request: ",
        "返回列表": "Back to the list",
    }
)
"""English of the casework pages (statuses, measures and sources are the labels of
:mod:`minewatch.web.case_views`)."""


def _fragment(request: Request, template: str, context: dict[str, Any], actor: Actor) -> Response:
    """A part of a page for HTMX: no new CSRF token (the forms already on the page keep theirs)."""
    lang = language(request)
    return TEMPLATES.TemplateResponse(
        request, template, {"_": translator(lang), "lang": lang, "actor": actor, **context}
    )


def _local(moment: datetime | None) -> str:
    """A UTC instant as Beijing time, to the minute."""
    return "" if moment is None else moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


_STATUS_BY_VALUE = {status.value: label for status, label in STATUS_LABELS.items()}


def _change_text(field: str, value: str | None, translate: Callable[[str], str]) -> str:
    """A changed field's value as an official reads it: stages and regions by name."""
    if value is None:
        return "—"
    if field == "status" and value in _STATUS_BY_VALUE:
        return translate(_STATUS_BY_VALUE[value])
    if field in ("region_code", "assigned_region_code"):
        return region_label(value)
    if field == "stage_due_at":
        return _local(datetime.fromisoformat(value))
    if field == "sources":
        return "、".join(translate(SOURCE_LABELS.get(s, s)) for s in value.split(",") if s)
    if field == "measures":  # "power_cut:ordered、surcharge:ordered"
        return "、".join(_measure_text(item, translate) for item in value.split("、") if item)
    if field == "checks":  # "2021-11-20 mining_found、2021-12-20 no_mining (复查)"
        return "、".join(_check_text(item, translate) for item in value.split("、") if item)
    return value


_MEASURE_BY_VALUE = {kind.value: label for kind, label in MEASURE_LABELS.items()}
_MEASURE_STATUS_BY_VALUE = {s.value: label for s, label in MEASURE_STATUS_LABELS.items()}
_OUTCOME_BY_VALUE = {outcome.value: label for outcome, label in OUTCOME_LABELS.items()}


def _measure_text(item: str, translate: Callable[[str], str]) -> str:
    kind, _, status = item.partition(":")
    name = translate(_MEASURE_BY_VALUE.get(kind, kind))
    if not status:
        return name
    return f"{name}（{translate(_MEASURE_STATUS_BY_VALUE.get(status, status))}）"


def _check_text(item: str, translate: Callable[[str], str]) -> str:
    checked_on, _, rest = item.partition(" ")
    outcome, _, recheck = rest.partition(" ")
    text = f"{checked_on} {translate(_OUTCOME_BY_VALUE.get(outcome, outcome))}"
    return f"{text}（{translate('复查')}）" if recheck else text


def _reason_text(action: str, reason: str | None, translate: Callable[[str], str]) -> str:
    """An event's reason as an official reads it: a measure completed without a reason is
    recorded under its kind, which reads by name."""
    if not reason:
        return ""
    if action == "complete_measure" and reason in _MEASURE_BY_VALUE:
        return translate(_MEASURE_BY_VALUE[reason])
    return reason


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "action_labels": ACTION_LABELS,
        "measure_labels": MEASURE_LABELS,
        "measure_status_labels": MEASURE_STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "history_labels": HISTORY_LABELS,
        "field_labels": FIELD_LABELS,
        "region_label": region_label,
        "change_text": _change_text,
        "reason_text": _reason_text,
        "local": _local,
    }


SORT_LABELS: dict[CaseSort, str] = {
    CaseSort.CONFIDENCE: "置信度最高",
    CaseSort.NEWEST: "最新立案",
    CaseSort.OLDEST: "最早立案",
    CaseSort.DUE: "期限最近",
    CaseSort.UPDATED: "最近更新",
    CaseSort.CASE_NO: "按编号",
}


@router.get("/cases", response_class=HTMLResponse, summary="Cases in my region (page)",
            include_in_schema=False)  # fmt: skip
def case_list(
    request: Request,
    session: SessionDep,
    actor: Reader,
    filters: FiltersDep,
    page: PageDep,
) -> Response:
    rows = _list(session, actor, filters, page)
    context = {
        **_labels(),
        "page": rows,
        "filters": filters,
        "region": region_label(actor.region_code) or "全国",
        "regions": region_choices(actor.region_code),
        "sorts": SORT_LABELS,
        "previous": filters.params(offset=max(page.offset - page.limit, 0), limit=page.limit),
        "next": filters.params(offset=page.offset + page.limit, limit=page.limit),
    }
    if request.headers.get("hx-request") == "true":
        return _fragment(request, "cases_table.html", context, actor)
    return render(request, "cases.html", context, actor=actor)


def _case_page(
    request: Request,
    session: Session,
    actor: Actor,
    case_no: str,
    *,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
    revealed: dict[str, str | None] | None = None,
) -> HTMLResponse:
    file = case_file(session, case_no, actor)
    detail = case_detail(file, actor)
    today = utcnow().astimezone(LOCAL_TZ).date()
    open_measures = [m.kind for m in detail.measures if m.status is MeasureStatus.ORDERED]
    reports = {
        code: {
            "contact_held": report.contact_ciphertext is not None,
            "may_reveal": actor.role is Role.COUNTY
            and report.assigned_region_code is not None
            and actor.covers(report.assigned_region_code),
        }
        for code, report in file.reports.items()
    }
    translate = translator(language(request))
    context = {
        **_labels(),
        "case": detail,
        "charts": {lead.lead_id: lead_charts(lead, translate) for lead in detail.leads},
        "actions": detail.next_actions,
        "counties": county_choices(actor.region_code, detail.site_region_code)
        if CaseAction.ASSIGN in detail.next_actions
        else [],
        "outcomes": list(CheckOutcome),
        "measure_kinds": list(MeasureKind),
        "open_measures": open_measures,
        "today": today.isoformat(),
        "due_default": (today + timedelta(days=30)).isoformat(),
        "reports": reports,
        "revealed": revealed or {},
        "done": ACTION_LABELS.get(CaseAction(request.query_params["done"]))
        if request.query_params.get("done") in set(CaseAction)
        else None,
        "error": error,
    }
    response = render(request, "case.html", context, actor=actor, status_code=status_code)
    if revealed:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/cases/{case_no}", response_class=HTMLResponse, include_in_schema=False)
def case_page(request: Request, case_no: CaseNo, session: SessionDep, actor: Reader
              ) -> HTMLResponse:  # fmt: skip
    return _case_page(request, session, actor, case_no)


def _split_names(text: str) -> list[str]:
    for separator in "，,;；":
        text = text.replace(separator, "、")
    return [name.strip() for name in text.split("、") if name.strip()]


def _check_form(form: FormData) -> dict[str, Any]:
    rigs: dict[str, int] = {}
    for model, count in zip(form.getlist("rig_model"), form.getlist("rig_count"), strict=False):
        name = str(model).strip()
        if name and str(count).strip():
            rigs[name] = rigs.get(name, 0) + int(str(count))
    return {
        "checked_on": form.get("checked_on") or None,
        "inspectors": _split_names(str(form.get("inspectors") or "")),
        "outcome": form.get("outcome") or None,
        "rigs": rigs,
        "mining_kw_observed": form.get("mining_kw_observed") or None,
        "notes": form.get("notes") or None,
    }


def _order_form(form: FormData) -> dict[str, Any]:
    due = form.get("due_date") or None
    note = form.get("note") or None
    return {
        "measures": [{"kind": kind, "due_date": due, "note": note} for kind in form.getlist("kind")]
    }


_FORM_READERS: dict[CaseAction, Callable[[FormData], dict[str, Any]]] = {
    CaseAction.ASSIGN: lambda form: {"county_code": form.get("county_code") or ""},
    CaseAction.CHECK: _check_form,
    CaseAction.RECHECK: _check_form,
    CaseAction.ORDER_MEASURES: _order_form,
    CaseAction.COMPLETE_MEASURE: lambda form: {"kind": form.get("kind") or None},
}
"""How each action's form becomes its request body (the rest take a reason only)."""


def _form_body(action: CaseAction, form: FormData) -> ActionBody:
    values: dict[str, Any] = {
        "reason": str(form.get("reason") or "").strip() or None,
        "version": form.get("version") or None,
    }
    reader = _FORM_READERS.get(action)
    if reader is not None:
        values.update(reader(form))
    return ACTIONS[action].body.model_validate(values)


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]


@router.post("/cases/{case_no}/actions/{action}", response_class=HTMLResponse,
             include_in_schema=False, dependencies=[CsrfDep])  # fmt: skip
def case_action(
    request: Request,
    case_no: CaseNo,
    action: CaseAction,
    form: FormDep,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """One action from the case page; success goes back to the page, a refusal is shown on it
    (403 role, 409 stage or stale version, 422 invalid) and nothing of it is kept."""
    find_case(session, case_no, actor)  # 404 outside the region, before anything else
    if actor.role not in ACTION_ROLES[action]:
        refusal = ("无权办理：", ACTION_LABELS[action])
        return _case_page(request, session, actor, case_no, error=refusal, status_code=403)
    try:
        body = _form_body(action, form)
        ACTIONS[action].call(session, case_no, body, actor)
    except (ValidationError, ValueError) as error:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=422,
                          error=("请求有误：", _validation_text(error)))  # fmt: skip
    except ConcurrentEditError:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=409,
                          error=("案件已被他人修改，请刷新页面后重试。", ""))  # fmt: skip
    except TransitionRefusedError as error:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=409,
                          error=("无法办理：", str(error)))  # fmt: skip
    except CaseError as error:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=422,
                          error=("无法办理：", str(error)))  # fmt: skip
    return RedirectResponse(f"/cases/{case_no}?done={action.value}", status_code=303)


def _validation_text(error: ValidationError | ValueError) -> str:
    if isinstance(error, ValidationError):
        return "；".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
    return str(error)


@router.post("/cases/{case_no}/reveal-contact", response_class=HTMLResponse,
             include_in_schema=False, dependencies=[CsrfDep])  # fmt: skip
def reveal_report_contact(
    request: Request, case_no: CaseNo, form: FormDep, session: SessionDep, actor: ActorDep
) -> Response:
    """The reporter's contact, for a county official of the handling county (audited)."""
    file = case_file(session, case_no, actor)
    code = str(form.get("receipt_code") or "")
    reason = str(form.get("reason") or "").strip()
    if code not in file.reports:
        raise NotFoundError(f"case {case_no} has no report {code}")
    if actor.role is not Role.COUNTY:
        return _case_page(request, session, actor, case_no, status_code=403,
                          error=("无权办理：", "查看举报人联系方式"))  # fmt: skip
    vault = ContactVault(request.app.state.settings.secret_key.get_secret_value())
    try:
        contact = reveal_contact(session, code, actor=actor, vault=vault, reason=reason)
    except TransitionRefusedError as error:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=403,
                          error=("无法办理：", str(error)))  # fmt: skip
    except CaseError as error:
        session.rollback()
        return _case_page(request, session, actor, case_no, status_code=422,
                          error=("无法办理：", str(error)))  # fmt: skip
    return _case_page(request, session, actor, case_no, revealed={code: contact})
