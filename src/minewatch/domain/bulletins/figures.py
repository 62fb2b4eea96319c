"""The figures of a weekly bulletin, each read back from the database.

Sources, and how each figure is attributed to a region:

- **Case transitions** come from the audit chain (``audit_event`` rows with entity type
  ``case``), whose actions are the transition names of :mod:`minewatch.domain.cases.states`
  (``check``, ``confirm``, ``dismiss``, ``clear``, ``recheck``, ``relapse``) and ``open`` written
  by fusion. Counts are *events*: a case that relapses and is confirmed again counts twice.
  A case belongs to its assigned county, else its site's region, **as its last audited image
  before the bulletin's end says** — a case handed on later does not move a past bulletin.
- **Measures** come from ``case_measure`` (``ordered_at``, ``completed_at``), attributed with
  their case.
- **Leads** come from ``lead`` (``first_seen_at``, ``region_code``); **public reports** from
  ``public_report`` (``received_at``, ``closed_at``, the assigned county else the region), their
  overdue state at the end from the audit images (``due_at`` passed, not closed).
- **The ledger** is :func:`minewatch.domain.ledger.weekly.weekly_report` for the week.

Periods are half-open, ``[start, end)``: the week runs from Monday 00:00 Asia/Shanghai to the
next Monday 00:00 (or ``now``, if earlier); the cumulative period from the first record to the
same end. States "at the week's end" are read at that end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.cases.models import Case, Measure, MeasureKind
from minewatch.domain.cases.service import ENTITY as CASE_ENTITY
from minewatch.domain.cases.states import CaseStatus, Transition
from minewatch.domain.db import utcnow
from minewatch.domain.leads.models import Lead
from minewatch.domain.ledger.weekly import LOCAL_TZ, RegionSummary, Week, weekly_report
from minewatch.domain.reports.models import PublicReport, ReportStatus
from minewatch.domain.reports.service import ENTITY as REPORT_ENTITY
from minewatch.domain.scope import answering_within, within
from minewatch.reference import regions

OPEN_ACTION = "open"
"""The action :func:`~minewatch.domain.cases.service.fuse_leads` writes when it opens a case."""

COUNTED_ACTIONS: dict[str, str] = {
    OPEN_ACTION: "opened",
    Transition.CHECK.value: "checked",
    Transition.CONFIRM.value: "confirmed",
    Transition.DISMISS.value: "dismissed",
    Transition.CLEAR.value: "cleared",
    Transition.RECHECK.value: "rechecked",
    Transition.RELAPSE.value: "relapsed",
}
"""Audit action → the :class:`Flow` field it counts."""

NOT_OPEN = frozenset({CaseStatus.DISMISSED, CaseStatus.RECHECKED})
"""Stages in which a case needs no more work: dismissed, or re-checked clean (dynamic zero)."""


@dataclass(frozen=True)
class Flow:
    """What happened in a region in one period (a week, or cumulative to its end)."""

    leads: int = 0
    """Leads first seen in the period (``lead.first_seen_at``), by the lead's region."""
    opened: int = 0
    """Cases opened by fusion (audit action ``open``)."""
    checked: int = 0
    """Site checks recorded (``check``; re-checks are counted apart)."""
    confirmed: int = 0
    """Cases confirmed as mining (``confirm``)."""
    dismissed: int = 0
    """Cases dismissed, no mining found (``dismiss``)."""
    cleared: int = 0
    """Cases cleared after every measure was done (``clear``)."""
    rechecked: int = 0
    """Re-checks of cleared sites that found them clean (``recheck``)."""
    relapsed: int = 0
    """Re-checks that found mining again (``relapse``)."""
    measures_ordered: Mapping[MeasureKind, int] = field(default_factory=dict)
    """Measures ordered (``case_measure.ordered_at``), by kind."""
    measures_completed: Mapping[MeasureKind, int] = field(default_factory=dict)
    """Measures completed (``case_measure.completed_at``), by kind."""
    reports_received: int = 0
    """Public reports received (``public_report.received_at``)."""
    reports_closed: int = 0
    """Public reports closed (``public_report.closed_at``)."""
    energy_cut_kwh: float = 0.0
    """Energy kept off mining [kWh]: for each case, its ``est_mining_kw`` (as audited when it was
    cleared) × the hours of the period during which it stood cleared or re-checked (from
    ``clear`` to a ``relapse``, if any). An estimate from the leads' power, not a metered one."""

    @property
    def measures_ordered_total(self) -> int:
        return sum(self.measures_ordered.values())

    @property
    def measures_completed_total(self) -> int:
        return sum(self.measures_completed.values())


@dataclass(frozen=True)
class RegionFigures:
    """One region's line of the bulletin."""

    region_code: str
    name: str
    week: Flow
    """The ISO week."""
    cumulative: Flow
    """Everything up to the week's end."""
    by_stage: Mapping[CaseStatus, int]
    """Cases by stage at the week's end (stage of the last audited image)."""
    open_cases: int
    """Cases at the week's end neither dismissed nor re-checked clean."""
    overdue_cases: int
    """Cases at the week's end past their stage's deadline (``stage_due_at`` of the last image
    before the end, earlier than the end)."""
    reports_overdue: int
    """Public reports at the week's end past their deadline and not closed."""
    ledger_active: int
    """Ledger projects operating or in construction at the week's end."""
    ledger_total: int
    """Ledger projects of any status at the week's end."""
    ledger_power_kw: float
    """Rated power of the live ledger projects [kW]."""
    ledger_exited_week: int
    """Ledger projects that exited in the week (live the week before, shut down or cleared now)."""
    ledger_exited_power_kw: float
    """Rated power of those projects [kW]."""
    exit_due: int
    """Timetable: ledger projects whose exit deadline (``exit_deadline``, the province's
    timetable under clause （二）/（二十）) falls on or before the week's Sunday."""
    exit_due_done: int
    """Of those, the ones no longer live (shut down or cleared) at the week's end."""

    @property
    def exit_progress(self) -> float | None:
        """Share of the projects due to exit by now that have exited; None when none is due."""
        return None if self.exit_due == 0 else self.exit_due_done / self.exit_due


@dataclass(frozen=True)
class OverdueRow:
    """A case past its stage's deadline at the week's end."""

    case_no: str
    region_code: str | None
    region_name: str
    status: CaseStatus
    due_at: datetime
    days_overdue: int


@dataclass(frozen=True)
class Bulletin:
    """The bulletin of one region for one ISO week."""

    week: Week
    region_code: str
    region_name: str
    start_at: datetime
    """Monday 00:00 Asia/Shanghai, in UTC."""
    end_at: datetime
    """The week's end (next Monday 00:00 local) or ``now`` if earlier, in UTC."""
    generated_at: datetime
    total: RegionFigures
    children: tuple[RegionFigures, ...]
    """Each child region (province → prefectures; prefecture → counties; none for a county)."""
    overdue: tuple[OverdueRow, ...]
    """Overdue cases of the region at the week's end, most overdue first."""
    cleared_by_week: tuple[tuple[Week, int], ...]
    """Cumulative cleared count (``clear`` events) of the region at the end of each week, from
    the week of the first case event to this one."""

    @property
    def rows(self) -> tuple[RegionFigures, ...]:
        """The region first, then its children."""
        return (self.total, *self.children)


# ----------------------------------------------------------------------------------------------
# the columns of the summary, shared by the writers


@dataclass(frozen=True)
class Column:
    """One column of the summary: Chinese header, what it counts, and how to read it."""

    key: str
    header: str
    meaning: str
    value: Callable[[RegionFigures], int | float | str]


def _kind_columns() -> list[Column]:
    out: list[Column] = []
    for kind in MeasureKind:
        out.append(
            Column(
                f"ordered_{kind.value}",
                f"累计下达措施·{_MEASURE_LABELS[kind]}",
                f"截至周末下达的“{_MEASURE_LABELS[kind]}”措施数（通知第{kind.clause}条，"
                f"{kind.agency}）",
                lambda r, k=kind: r.cumulative.measures_ordered.get(k, 0),  # type: ignore[misc]
            )
        )
        out.append(
            Column(
                f"completed_{kind.value}",
                f"累计落实措施·{_MEASURE_LABELS[kind]}",
                f"截至周末落实完成的“{_MEASURE_LABELS[kind]}”措施数",
                lambda r, k=kind: r.cumulative.measures_completed.get(k, 0),  # type: ignore[misc]
            )
        )
    return out


_MEASURE_LABELS: dict[MeasureKind, str] = {
    MeasureKind.POWER_CUT: "停限电",
    MeasureKind.SURCHARGE: "差别电价",
    MeasureKind.MARKET_EXIT: "退出电力市场",
    MeasureKind.FISCAL_STOP: "停止财税支持",
    MeasureKind.FINANCE_STOP: "停止金融服务",
    MeasureKind.CLOSURE: "关停淘汰",
}

STAGE_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "待分派",
    CaseStatus.ASSIGNED: "待核查",
    CaseStatus.CHECKED: "待认定",
    CaseStatus.CONFIRMED: "已认定",
    CaseStatus.DISMISSED: "已排除",
    CaseStatus.MEASURES_ORDERED: "处置中",
    CaseStatus.MEASURES_COMPLETED: "措施已落实",
    CaseStatus.CLEARED: "已整治",
    CaseStatus.RECHECKED: "已复查",
}


def _stage_columns() -> list[Column]:
    return [
        Column(
            f"stage_{stage.value}",
            f"周末环节·{label}",
            f"周末时处于“{label}”环节的案件数（{stage.value}）",
            lambda r, s=stage: r.by_stage.get(s, 0),  # type: ignore[misc]
        )
        for stage, label in STAGE_LABELS.items()
    ]


def _progress(r: RegionFigures) -> str:
    share = r.exit_progress
    return "—" if share is None else f"{share:.0%}"


COLUMNS: tuple[Column, ...] = (
    Column("region_code", "区划代码", "GB/T 2260 行政区划代码", lambda r: r.region_code),
    Column("name", "地区", "地区名称；第一行为本地区合计，其后为各下级地区", lambda r: r.name),
    Column("leads_week", "本周新增线索", "本周首次发现的线索数（按线索所在地区）",
           lambda r: r.week.leads),
    Column("opened_week", "本周新立案", "本周立案数（审计链 open 事件）", lambda r: r.week.opened),
    Column("checked_week", "本周现场核查", "本周录入的现场核查数（check 事件，不含复查）",
           lambda r: r.week.checked),
    Column("confirmed_week", "本周认定", "本周认定为挖矿的案件数（confirm 事件）",
           lambda r: r.week.confirmed),
    Column("dismissed_week", "本周排除", "本周核查排除的案件数（dismiss 事件）",
           lambda r: r.week.dismissed),
    Column("cleared_week", "本周整治到位", "本周整治到位的案件数（clear 事件）",
           lambda r: r.week.cleared),
    Column("rechecked_week", "本周复查无反弹", "本周复查未见挖矿的案件数（recheck 事件）",
           lambda r: r.week.rechecked),
    Column("relapsed_week", "本周复查反弹", "本周复查再次发现挖矿的案件数（relapse 事件）",
           lambda r: r.week.relapsed),
    Column("leads_total", "累计线索", "截至周末的线索数", lambda r: r.cumulative.leads),
    Column("opened_total", "累计立案", "截至周末的立案数", lambda r: r.cumulative.opened),
    Column("confirmed_total", "累计认定", "截至周末的认定数", lambda r: r.cumulative.confirmed),
    Column("dismissed_total", "累计排除", "截至周末的排除数", lambda r: r.cumulative.dismissed),
    Column("cleared_total", "累计整治到位", "截至周末的整治到位数", lambda r: r.cumulative.cleared),
    Column("rechecked_total", "累计复查无反弹", "截至周末的复查无反弹数",
           lambda r: r.cumulative.rechecked),
    Column("relapsed_total", "累计反弹", "截至周末的复查反弹数", lambda r: r.cumulative.relapsed),
    Column("open_cases", "周末在办案件", "周末时既未排除、也未复查到位的案件数",
           lambda r: r.open_cases),
    Column("overdue_cases", "周末逾期案件", "周末时超过本环节办理时限的案件数",
           lambda r: r.overdue_cases),
    *_stage_columns(),
    Column("measures_ordered_week", "本周下达措施", "本周下达的处置措施数（各类合计）",
           lambda r: r.week.measures_ordered_total),
    Column("measures_completed_week", "本周落实措施", "本周落实完成的处置措施数（各类合计）",
           lambda r: r.week.measures_completed_total),
    *_kind_columns(),
    Column("reports_received_week", "本周受理举报", "本周收到的群众举报数",
           lambda r: r.week.reports_received),
    Column("reports_closed_week", "本周办结举报", "本周办结的群众举报数",
           lambda r: r.week.reports_closed),
    Column("reports_received_total", "累计受理举报", "截至周末收到的群众举报数",
           lambda r: r.cumulative.reports_received),
    Column("reports_closed_total", "累计办结举报", "截至周末办结的群众举报数",
           lambda r: r.cumulative.reports_closed),
    Column("reports_overdue", "周末逾期举报", "周末时超过办理时限且未办结的举报数",
           lambda r: r.reports_overdue),
    Column("ledger_active", "台账在运在建项目", "周末台账中在运、在建项目数",
           lambda r: r.ledger_active),
    Column("ledger_total", "台账项目总数", "周末台账中各状态项目总数", lambda r: r.ledger_total),
    Column("ledger_power_kw", "在运在建额定功率(kW)", "周末台账在运、在建项目额定功率之和（千瓦）",
           lambda r: round(r.ledger_power_kw, 1)),
    Column("ledger_exited_week", "本周退出项目", "上周在运在建、本周已关停或清理的台账项目数",
           lambda r: r.ledger_exited_week),
    Column("ledger_exited_power_kw", "本周退出功率(kW)", "本周退出项目的额定功率之和（千瓦）",
           lambda r: round(r.ledger_exited_power_kw, 1)),
    Column("energy_cut_week_kwh", "本周压减用电(kWh)",
           "整治到位案件的估算挖矿功率（kW）× 本周内处于整治到位/复查状态的小时数，千瓦时",
           lambda r: round(r.week.energy_cut_kwh, 1)),
    Column("energy_cut_total_kwh", "累计压减用电(kWh)", "同上，自整治到位之日起累计至周末",
           lambda r: round(r.cumulative.energy_cut_kwh, 1)),
    Column("exit_due", "时间表应退出项目", "台账中退出期限（exit_deadline）不晚于本周日的项目数",
           lambda r: r.exit_due),
    Column("exit_due_done", "其中已退出", "上述项目中周末已关停或清理的项目数",
           lambda r: r.exit_due_done),
    Column("exit_progress", "时间表完成率", "其中已退出 ÷ 时间表应退出项目；无应退出项目时为“—”",
           _progress),
)  # fmt: skip
"""The summary's columns, in order (sheet 汇总, its guide 说明, the PDF's table)."""


# ----------------------------------------------------------------------------------------------
# reading the history


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_at(text: str | None) -> datetime | None:
    return None if text is None else _aware(datetime.fromisoformat(text))


@dataclass
class CaseHistory:
    """A case's audited events up to the end: (time, action, image after)."""

    case_no: str
    events: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1][2]

    @property
    def region_code(self) -> str | None:
        """The assigned county, else the site's region, as last audited."""
        image = self.last
        code = image.get("assigned_region_code") or image.get("region_code")
        return None if code is None else str(code)

    @property
    def status(self) -> CaseStatus:
        return CaseStatus(self.last["status"])

    @property
    def due_at(self) -> datetime | None:
        return _parse_at(self.last.get("stage_due_at"))

    def times(self, action: str) -> list[datetime]:
        return [when for when, name, _ in self.events if name == action]

    def cleared_spans(self, end: datetime) -> list[tuple[datetime, datetime, float]]:
        """(from, to, kW) of each stretch the case stood cleared, ``end`` closing an open one."""
        spans: list[tuple[datetime, datetime, float]] = []
        start: datetime | None = None
        kw = 0.0
        for when, action, image in self.events:
            if action == Transition.CLEAR.value and start is None:
                start, kw = when, float(image.get("est_mining_kw") or 0.0)
            elif action == Transition.RELAPSE.value and start is not None:
                spans.append((start, when, kw))
                start = None
        if start is not None:
            spans.append((start, end, kw))
        return spans


def case_histories(session: Session, end: datetime) -> dict[str, CaseHistory]:
    """Every case's audited events before ``end``, in chain order."""
    out: dict[str, CaseHistory] = {}
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.at, AuditEvent.action, AuditEvent.after_json)
        .where(AuditEvent.entity_type == CASE_ENTITY, AuditEvent.at < end)
        .order_by(AuditEvent.seq)
    )
    for case_no, when, action, after_json in rows:
        if after_json is None:
            continue
        history = out.setdefault(case_no, CaseHistory(case_no))
        history.events.append((_aware(when), action, json.loads(after_json)))
    return out


def _report_images(session: Session, end: datetime) -> dict[str, dict[str, Any]]:
    images: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.after_json)
        .where(AuditEvent.entity_type == REPORT_ENTITY, AuditEvent.at < end)
        .order_by(AuditEvent.seq)
    )
    for code, after_json in rows:
        if after_json is not None:
            images[code] = json.loads(after_json)
    return images


def child_regions(region_code: str) -> list[regions.Region]:
    """The regions one level down, groupings (市辖区, 省直辖县级行政区划) looked through."""
    region = regions.get(region_code)
    if region.level is regions.RegionLevel.COUNTY:
        return []
    out: list[regions.Region] = []
    for child in regions.children(region.code):
        if child.is_grouping:
            out.extend(c for c in regions.children(child.code) if not c.is_grouping)
        else:
            out.append(child)
    return out


def lies_within(code: str | None, ancestor: str) -> bool:
    return code is not None and regions.is_within(code, ancestor)


def _in(when: datetime | None, start: datetime | None, end: datetime) -> bool:
    return when is not None and (start is None or _aware(when) >= start) and _aware(when) < end


def _hours(spans: Iterable[tuple[datetime, datetime, float]], start: datetime | None,
           end: datetime) -> float:  # fmt: skip
    energy = 0.0
    for begin, finish, kw in spans:
        lo = begin if start is None else max(begin, start)
        hi = min(finish, end)
        if hi > lo:
            energy += kw * (hi - lo).total_seconds() / 3600.0
    return energy


@dataclass
class _Facts:
    """Everything read once, then counted per region."""

    end: datetime
    start: datetime
    histories: dict[str, CaseHistory]
    leads: list[tuple[datetime, str | None]]
    measures: list[tuple[str, MeasureKind, datetime, datetime | None]]
    reports: list[tuple[str | None, datetime, datetime | None]]
    report_images: dict[str, dict[str, Any]]


def _flow(facts: _Facts, code: str, start: datetime | None) -> Flow:
    end = facts.end
    counts: Counter[str] = Counter()
    energy = 0.0
    cases = {n for n, h in facts.histories.items() if lies_within(h.region_code, code)}
    for case_no in cases:
        history = facts.histories[case_no]
        for when, action, _ in history.events:
            if action in COUNTED_ACTIONS and _in(when, start, end):
                counts[COUNTED_ACTIONS[action]] += 1
        energy += _hours(history.cleared_spans(end), start, end)
    ordered: Counter[MeasureKind] = Counter()
    completed: Counter[MeasureKind] = Counter()
    for case_no, kind, ordered_at, completed_at in facts.measures:
        if case_no not in cases:
            continue
        if _in(ordered_at, start, end):
            ordered[kind] += 1
        if _in(completed_at, start, end):
            completed[kind] += 1
    return Flow(
        leads=sum(1 for when, region in facts.leads if lies_within(region, code)
                  and _in(when, start, end)),
        opened=counts["opened"], checked=counts["checked"], confirmed=counts["confirmed"],
        dismissed=counts["dismissed"], cleared=counts["cleared"],
        rechecked=counts["rechecked"], relapsed=counts["relapsed"],
        measures_ordered={k: ordered[k] for k in MeasureKind if ordered[k]},
        measures_completed={k: completed[k] for k in MeasureKind if completed[k]},
        reports_received=sum(1 for region, received, _ in facts.reports
                             if lies_within(region, code) and _in(received, start, end)),
        reports_closed=sum(1 for region, _, closed in facts.reports
                           if lies_within(region, code) and _in(closed, start, end)),
        energy_cut_kwh=energy,
    )  # fmt: skip


def _figures(
    facts: _Facts,
    code: str,
    name: str,
    summaries: Mapping[str, RegionSummary],
    timetable: list[tuple[str, bool]],
) -> RegionFigures:
    histories = [h for h in facts.histories.values() if lies_within(h.region_code, code)]
    by_stage = Counter(h.status for h in histories)
    overdue = sum(1 for h in histories if (due := h.due_at) is not None and due < facts.end)
    reports_overdue = 0
    for image in facts.report_images.values():
        region = image.get("assigned_region_code") or image.get("region_code")
        due = _parse_at(image.get("due_at"))
        closed = image.get("status") == ReportStatus.CLOSED.value
        if lies_within(region, code) and due is not None and due < facts.end and not closed:
            reports_overdue += 1
    summary = summaries.get(code)
    due_rows = [done for region, done in timetable if lies_within(region, code)]
    return RegionFigures(
        region_code=code,
        name=name,
        week=_flow(facts, code, facts.start),
        cumulative=_flow(facts, code, None),
        by_stage={s: by_stage[s] for s in CaseStatus if by_stage[s]},
        open_cases=sum(1 for h in histories if h.status not in NOT_OPEN),
        overdue_cases=overdue,
        reports_overdue=reports_overdue,
        ledger_active=0 if summary is None else summary.active,
        ledger_total=0 if summary is None else summary.total,
        ledger_power_kw=0.0 if summary is None else summary.rated_power_kw,
        ledger_exited_week=0 if summary is None else summary.exited,
        ledger_exited_power_kw=0.0 if summary is None else summary.exited_power_kw,
        exit_due=len(due_rows),
        exit_due_done=sum(due_rows),
    )


def bulletin_for_week(
    session: Session, week: Week, region_code: str, *, now: datetime | None = None
) -> Bulletin:
    """The bulletin of ``region_code`` (the nation ``000000``, a province, prefecture or county)
    for ``week``; the nation's children are the provinces.

    ``now`` (default: the current time) is the generation time; a week not yet over is read up
    to ``now``. Unknown region codes raise :class:`minewatch.reference.regions.UnknownRegionError`.
    Leads and public reports are read for the region only (by their region, in SQL); case
    histories are read whole, since a case belongs where its last image before the end put it.
    """
    if region_code == regions.NATIONAL:
        code, name = regions.NATIONAL, "全国"
        below: list[regions.Region] = list(regions.provinces())
    else:
        region = regions.get(region_code)
        code, name, below = region.code, region.full_name, child_regions(region.code)
    generated = utcnow() if now is None else _aware(now)
    start = week_start(week)
    end = min(week.end_at, generated)
    histories = case_histories(session, end)
    numbers = {cid: no for cid, no in session.execute(select(Case.id, Case.case_no))}
    facts = _Facts(
        end=end,
        start=start,
        histories=histories,
        leads=[(_aware(w), r) for w, r in session.execute(
            select(Lead.first_seen_at, Lead.region_code)
            .where(Lead.first_seen_at < end, within(Lead.region_code, code)))],
        measures=[(numbers[cid], kind, _aware(o), None if c is None else _aware(c))
                  for cid, kind, o, c in session.execute(
                      select(Measure.case_id, Measure.kind, Measure.ordered_at,
                             Measure.completed_at).where(Measure.ordered_at < end))],
        reports=[(a or r, _aware(w), None if c is None else _aware(c))
                 for a, r, w, c in session.execute(
                     select(PublicReport.assigned_region_code, PublicReport.region_code,
                            PublicReport.received_at, PublicReport.closed_at)
                     .where(PublicReport.received_at < end,
                            answering_within(PublicReport.assigned_region_code,
                                             PublicReport.region_code, code)))],
        report_images=_report_images(session, end),
    )  # fmt: skip
    ledger = weekly_report(session, week, within=code)
    summaries = {s.region_code: s for s in ledger.summaries}
    timetable = [
        (entry.region_code, not entry.status.is_active)
        for entry in ledger.ledger.values()
        if entry.exit_deadline is not None and entry.exit_deadline <= week.sunday
    ]
    total = _figures(facts, code, name, summaries, timetable)
    children = tuple(
        _figures(facts, child.code, child.name, summaries, timetable) for child in below
    )
    overdue = sorted(
        (
            OverdueRow(
                case_no=h.case_no,
                region_code=h.region_code,
                region_name=region_name_of(h.region_code),
                status=h.status,
                due_at=due,
                days_overdue=(end - due).days,
            )
            for h in histories.values()
            if lies_within(h.region_code, code) and (due := h.due_at) is not None and due < end
        ),
        key=lambda row: (row.due_at, row.case_no),
    )
    return Bulletin(
        week=week,
        region_code=code,
        region_name=name,
        start_at=start,
        end_at=end,
        generated_at=generated,
        total=total,
        children=children,
        overdue=tuple(overdue),
        cleared_by_week=_cleared_series(histories, code, week, end),
    )


def region_name_of(code: str | None) -> str:
    if code is None:
        return "未知"
    found = regions.find(code)
    return code if found is None else found.full_name


def _cleared_series(
    histories: Mapping[str, CaseHistory], code: str, week: Week, end: datetime
) -> tuple[tuple[Week, int], ...]:
    clears = sorted(
        when
        for h in histories.values()
        if lies_within(h.region_code, code)
        for when in h.times(Transition.CLEAR.value)
    )
    firsts = [h.events[0][0] for h in histories.values() if lies_within(h.region_code, code)]
    current = Week.containing(min(firsts)) if firsts else week
    current = min(current, week)
    series: list[tuple[Week, int]] = []
    while current <= week:
        cut = min(current.end_at, end)
        series.append((current, sum(1 for when in clears if when < cut)))
        current = current.next()
    return tuple(series)


def week_start(week: Week) -> datetime:
    """Monday 00:00 Asia/Shanghai of ``week``, in UTC."""
    return datetime.combine(week.monday, time(), LOCAL_TZ).astimezone(UTC)
