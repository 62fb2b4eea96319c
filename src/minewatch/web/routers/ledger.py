"""The ledger (项目台账): search, project pages, Excel export and import, and the same as an API.

Everything an official reaches is limited to their region in SQL (the site's region decides;
:mod:`minewatch.domain.ledger.search` explains why): lists, counts and exports never hold a
project of another region, and a project page or API record of another region is a 404. Every
role but the administrator reads; only officials of the four levels of government write
(import a workbook, push an entry), and every write is audited under their name.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from minewatch.domain.cases.service import Actor
from minewatch.domain.dashboard.figures import chain_position
from minewatch.domain.ledger.history import project_history
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.search import (
    ProjectFilters,
    ProjectSort,
    StatusFigures,
    count_projects_matching,
    find_project,
    iter_projects,
    page_of_projects,
    project_cases,
    status_figures,
)
from minewatch.domain.ledger.service import (
    ImportSummary,
    check_rows,
    import_rows,
    project_image,
    project_to_entry,
    submit_entry,
)
from minewatch.domain.ledger.weekly import LOCAL_TZ, Week
from minewatch.errors import InputFileError, InputProblem
from minewatch.ingest.ledger_xlsx import (
    LedgerSheetError,
    header_of,
    read_ledger_xlsx,
    write_ledger_xlsx,
)
from minewatch.reference import regions
from minewatch.reference.ledger import (
    DiscoveryMethod,
    ProjectStatus,
    SiteType,
    SupplyKind,
    label,
)
from minewatch.settings import Locale
from minewatch.web import i18n
from minewatch.web.app import TEMPLATES
from minewatch.web.deps import (
    ERRORS,
    OFFICIALS,
    PAGE_ERRORS,
    READERS,
    CsrfDep,
    ErrorOut,
    Paged,
    PageDep,
    SessionDep,
    TextRoute,
    paged,
    render,
    require,
)
from minewatch.web.ledger_schema import (
    HistoryEvent,
    ImportResult,
    LedgerQuery,
    ProjectDetail,
    ProjectIn,
    ProjectSummary,
    SavedProject,
    api_query,
    detail_of,
    full_region_name,
    history_of,
    local_today,
    page_query,
    saved_of,
    summary_of,
)
from minewatch.web.memo import memo_of

router = APIRouter(tags=["ledger"], route_class=TextRoute)

ReaderDep = Annotated[Actor, Depends(require(READERS))]
OfficialDep = Annotated[Actor, Depends(require(OFFICIALS))]
PageQueryDep = Annotated[LedgerQuery, Depends(page_query)]
ApiQueryDep = Annotated[LedgerQuery, Depends(api_query)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Largest workbook accepted (a province's ledger is a few megabytes)."""
MAX_EXPORT_ROWS = 20_000
"""Most projects one web export writes: the workbook is built in memory (about 11 kB and 0.7 ms
a row); the whole national ledger is exported with ``minewatch ledger export``."""
TOO_MANY = (
    "导出的项目过多：请缩小筛选范围（如按地区、状态筛选）后再导出；"
    "全部台账可由管理员用 minewatch ledger export 导出。"
)
RESULTS_ID = "ledger-results"
"""The element the HTMX requests of the ledger page replace."""

_HEADERS = header_of()

i18n.register(
    {
        "项目台账": "Ledger",
        "状态": "Status",
        "查询": "Search",
        "导出 Excel": "Export Excel",
        "导入 Excel": "Import Excel",
        "上一页": "Previous",
        "下一页": "Next",
        "共": "Total",
        "条": "rows",
        "地区": "Region",
        "全部": "All",
        "不限": "Any",
        "企业名称或统一社会信用代码": "Enterprise name or credit code",
        "项目编号、名称、地址或供电户号": "Project code, name, address or grid account",
        "已过退出期限": "Past exit deadline",
        "在建或在运且已过退出期限": "In construction or operating and past the exit deadline",
        "本周台账": "This week's ledger",
        "合计": "Total",
        "其中在建、在运": "of which live",
        "按当前条件": "for the current filters",
        "没有符合条件的项目。": "No project matches.",
        "更新时间": "Updated",
        "项目": "Project",
        "基本信息": "Details",
        "矿机": "Rigs",
        "型号": "Model",
        "台数": "Count",
        "未填报矿机型号。": "No machine models declared.",
        "关联案件": "Linked cases",
        "没有关联案件。": "No linked cases.",
        "立案时间": "Opened",
        "变更记录": "History",
        "没有变更记录。": "No recorded changes.",
        "时间": "Time",
        "操作人": "By",
        "操作": "Action",
        "原因": "Reason",
        "变更内容": "Changes",
        "新建": "Created",
        "修改": "Updated",
        "返回台账": "Back to the ledger",
        "导入项目台账": "Import the ledger",
        "上传项目台账工作簿（.xlsx），表头与导出的台账相同。": (
            "Upload a ledger workbook (.xlsx) with the headers of the exported ledger."
        ),
        "每一行都先检查，全部无误才写入；有任何问题则一行也不写入，并列出每个问题的行和列。": (
            "Every row is checked first and all are written only if none has a problem; "
            "otherwise nothing is written and every problem is listed by row and column."
        ),
        "只能导入本辖区的项目。": "Only projects of your region can be imported.",
        "工作簿": "Workbook",
        "只检查，不写入": "Check only, write nothing",
        "导入": "Import",
        "检查通过，未写入": "Checked, nothing written",
        "导入完成": "Imported",
        "新增": "New",
        "更新": "Updated",
        "未变": "Unchanged",
        "导入失败，未写入任何数据": "Import refused; nothing was written",
        "行": "Row",
        "列": "Column",
        "问题": "Problem",
        "警告": "Warnings",
        "下载当前台账作为模板": "Download the current ledger as a template",
        "项目编号": "Project code",
        "项目名称": "Project name",
        "所属企业": "Enterprise",
        "统一社会信用代码": "Unified social credit code",
        "法定代表人": "Legal representative",
        "项目地址": "Site address",
        "所在地区": "Region",
        "行政区划代码": "Region code",
        "经度": "Longitude",
        "纬度": "Latitude",
        "场所类型": "Site type",
        "矿机型号及数量": "Machine models and counts",
        "规模（台）": "Machines",
        "算力": "Hash rate",
        "算力单位": "Hash-rate unit",
        "额定功率（千瓦）": "Rated power (kW)",
        "耗电量（千瓦时/月）": "Energy (kWh/month)",
        "计划投产时间": "Planned production date",
        "供电方式": "Power supply",
        "供电户号": "Grid account no.",
        "供电线路": "Supply line",
        "供电电厂": "Supplying plant",
        "发现方式": "Found by",
        "责任县区代码": "Responsible county",
        "责任人": "Responsible official",
        "退出期限": "Exit deadline",
        "备注": "Notes",
        "序号": "No.",
        "录入时间": "Entered",
        TOO_MANY: (
            "Too many projects to export: narrow the filters (by region or status) and export "
            "again; an administrator exports the whole ledger with minewatch ledger export."
        ),
    }
)


# ---------------------------------------------------------------------------- helpers


def _labeller(lang: str) -> Any:
    locale = Locale.EN if lang == "en" else Locale.ZH_CN

    def _label(value: Any) -> str:
        if value is None:
            return ""
        try:
            return label(value, locale)
        except KeyError:
            return str(value)

    return _label


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _fragment(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """A part of a page for HTMX: no new CSRF token (the page's forms keep theirs)."""
    lang = i18n.language(request)
    response = TEMPLATES.TemplateResponse(
        request, template, {"_": i18n.translator(lang), "lang": lang, **context}
    )
    response.headers["Vary"] = "HX-Request"
    return response


@lru_cache(maxsize=512)
def _region_choices(region_code: str) -> tuple[tuple[str, str], ...]:
    """(code, indented name) of a region and the levels below it an official narrows to: a
    province's cities and counties, a city's counties, the nation's provinces and cities."""
    choices: list[tuple[str, str]] = []

    def walk(code: str, depth: int, levels: int) -> None:
        if levels == 0:
            return
        for child in regions.children(code):
            if child.is_grouping:
                walk(child.code, depth, levels)
                continue
            choices.append((child.code, "\u3000" * depth + child.name))
            walk(child.code, depth + 1, levels - 1)

    if region_code == regions.NATIONAL:
        for province in regions.provinces():
            choices.append((province.code, province.name))
            walk(province.code, 1, 1)
        return tuple(choices)
    found = regions.find(region_code)
    if found is None:
        return ()
    choices.append((found.code, found.full_name))
    walk(found.code, 1, 2)
    return tuple(choices)


@lru_cache(maxsize=512)
def _region_options(region_code: str) -> str:
    """The ``<option>`` list of :func:`_region_choices`, escaped once per region."""
    return "".join(
        f'<option value="{code}">{escape(name)}</option>'
        for code, name in _region_choices(region_code)
    )


def region_options(region_code: str, selected: str | None) -> Markup:
    """The region choices of an official, ``selected`` marked (a page renders them each time)."""
    html = _region_options(region_code)
    if selected and selected.isdigit():
        html = html.replace(
            f'<option value="{selected}">', f'<option value="{selected}" selected>', 1
        )
    return Markup(html)  # built above from escaped names and digit-only codes


@dataclass
class _Column:
    key: ProjectSort
    header: str
    numeric: bool = False


_TABLE = (
    _Column(ProjectSort.CODE, "项目编号"),
    _Column(ProjectSort.NAME, "项目名称"),
    _Column(ProjectSort.ENTERPRISE, "所属企业"),
    _Column(ProjectSort.REGION, "所在地区"),
    _Column(ProjectSort.SITE_TYPE, "场所类型"),
    _Column(ProjectSort.STATUS, "状态"),
    _Column(ProjectSort.MACHINES, "规模（台）", numeric=True),
    _Column(ProjectSort.POWER, "额定功率（千瓦）", numeric=True),
    _Column(ProjectSort.EXIT_DEADLINE, "退出期限"),
    _Column(ProjectSort.UPDATED, "更新时间"),
)


@dataclass
class _Row:
    code: str
    name: str
    enterprise: str
    region: str
    site_type: SiteType
    status: ProjectStatus
    machines: int
    power_kw: float | None
    exit_deadline: str
    overdue: bool
    updated: str


def _row(project: Project, today: Any) -> _Row:
    machines = project.machine_count
    if machines is None:  # 规模（台） as the ledger counts it: declared, else the sum over models
        machines = sum(m.count for m in project.machines)
    return _Row(
        code=project.code,
        name=project.name,
        enterprise=project.enterprise.name,
        region=full_region_name(project.region_code),
        site_type=project.site_type,
        status=project.status,
        machines=machines,
        power_kw=project.rated_power_kw,
        exit_deadline=project.exit_deadline.isoformat() if project.exit_deadline else "",
        overdue=bool(
            project.exit_deadline and project.status.is_active and project.exit_deadline < today
        ),
        updated=_local(project.updated_at),
    )


def _figures(
    request: Request, session: Session, filters: ProjectFilters, region_code: str
) -> StatusFigures:
    """The counts by status of a search, kept in the app's memo until the audit chain moves on
    (every ledger write appends to it): a national count reads every project, a page does not."""
    key = ("ledger-figures", filters, region_code, chain_position(session))
    return memo_of(request).get(
        key, lambda: status_figures(session, filters, region_code=region_code)
    )


def _results_context(
    request: Request,
    session: Session,
    actor: Actor,
    query: LedgerQuery,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    figures = _figures(request, session, query.filters, actor.region_code)
    rows = page_of_projects(
        session, query.filters, region_code=actor.region_code, limit=limit, offset=offset,
        sort=query.sort,
    )  # fmt: skip
    total = figures.total
    today = local_today()
    pages = []
    if offset > 0:
        pages.append(
            ("上一页", query.url("/ledger", offset=max(0, offset - limit), limit=_lim(limit)))
        )
    if offset + limit < total:
        pages.append(("下一页", query.url("/ledger", offset=offset + limit, limit=_lim(limit))))
    sorts = {
        c.key: query.url(
            "/ledger",
            sort=("-" if query.sort.column is c.key and not query.sort.descending else "")
            + c.key.value,
            limit=_lim(limit),
        )
        for c in _TABLE
    }
    week = Week.containing(datetime.now(LOCAL_TZ))
    return {
        "query": query,
        "rows": [_row(p, today) for p in rows],
        "figures": figures,
        "statuses": list(ProjectStatus),
        "total": total,
        "first": offset + 1 if rows else 0,
        "last": offset + len(rows),
        "pages": pages,
        "columns": _TABLE,
        "sorts": sorts,
        "sort": query.sort,
        "export_url": query.url("/ledger/export.xlsx"),
        "week": week,
        "results_id": RESULTS_ID,
    }


def _lim(limit: int) -> int | None:
    return None if limit == 50 else limit


def _is_fragment(request: Request) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == RESULTS_ID
    )


def _export_response(session: Session, actor: Actor, query: LedgerQuery) -> Response:
    """The filtered ledger of the actor's region as a workbook with the Chinese headers."""
    place = "全国" if actor.region_code == regions.NATIONAL else full_region_name(actor.region_code)
    if query.filters.region_code and query.filters.region_code != actor.region_code:
        place = full_region_name(query.filters.region_code)
    today = datetime.now(LOCAL_TZ).date()
    count = count_projects_matching(session, query.filters, region_code=actor.region_code)
    if count > MAX_EXPORT_ROWS:
        raise HTTPException(422, TOO_MANY)
    entries = (
        project_to_entry(p)
        for p in iter_projects(
            session, query.filters, region_code=actor.region_code, sort=query.sort
        )
    )
    with tempfile.TemporaryDirectory(prefix="minewatch-export-") as folder:
        path = Path(folder) / "ledger.xlsx"
        write_ledger_xlsx(entries, path, title=f"{place}虚拟货币“挖矿”项目台账（{today}）")
        content = path.read_bytes()
    name = f"项目台账-{place}-{today}.xlsx"
    fallback = f"ledger-{actor.region_code}-{today}.xlsx"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


@dataclass
class _Imported:
    file_name: str
    summary: ImportSummary | None = None
    problems: list[InputProblem] = field(default_factory=list)
    warnings: list[InputProblem] = field(default_factory=list)


MAX_NAME_BYTES = 240
"""The longest upload name kept, in UTF-8 bytes: file systems refuse names over 255 bytes."""


def _safe_name(name: str | None) -> str:
    """The uploaded file's own name (the messages about it quote it) made one that can be
    created in the import's folder: its last part, printable, at most 120 characters and
    ``MAX_NAME_BYTES`` bytes with its extension kept; ``upload.xlsx`` when none is left, or only
    ``.`` or ``..`` (which name a folder)."""
    base = Path((name or "").replace("\\", "/")).name.strip()
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    suffix = Path(cleaned).suffix if len(Path(cleaned).suffix) <= 16 else ""
    stem = cleaned[: len(cleaned) - len(suffix)][: 120 - len(suffix)]
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    kept = stem + suffix
    return kept if kept not in ("", ".", "..") else "upload.xlsx"


def _save_upload(upload: UploadFile, folder: Path) -> Path:
    path = folder / _safe_name(upload.filename)
    written = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise HTTPException(
                    413, f"the workbook is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
                )
            out.write(chunk)
    return path


def _import(session: Session, actor: Actor, upload: UploadFile, *, check_only: bool) -> _Imported:
    """Read, check and (unless ``check_only``) write a workbook, all or nothing."""
    name = _safe_name(upload.filename)
    outcome = _Imported(name)
    with tempfile.TemporaryDirectory(prefix="minewatch-import-") as folder:
        path = _save_upload(upload, Path(folder))
        try:
            sheet = read_ledger_xlsx(path)
        except LedgerSheetError as error:
            # Check the rows that were read against the database too, to list every problem.
            rows = [(r.row_number, r.entry) for r in error.rows]
            more = check_rows(session, rows, column_of=_HEADERS, within=actor.region_code)
            merged = dict.fromkeys([*error.problems, *more])
            outcome.problems = sorted(merged, key=lambda p: p.row or 0)
            return outcome
        except InputFileError as error:
            outcome.problems = list(error.problems)
            return outcome
    outcome.warnings = list(sheet.warnings)
    rows = [(r.row_number, r.entry) for r in sheet.rows]
    try:
        outcome.summary = import_rows(
            session, rows, path=name, actor=actor.name, column_of=_HEADERS,
            within=actor.region_code,
        )  # fmt: skip
    except InputFileError as error:
        session.rollback()
        outcome.problems = list(error.problems)
        return outcome
    if check_only:
        session.rollback()
    return outcome


def _project_or_404(session: Session, actor: Actor, project_code: str) -> Project:
    if len(project_code) > 40 or not project_code.isprintable():
        raise HTTPException(404, "not found")  # no project has such a code
    project = find_project(session, project_code, region_code=actor.region_code)
    if project is None:
        raise HTTPException(404, "not found")
    return project


# ---------------------------------------------------------------------------- pages


@router.get(
    "/ledger",
    response_class=HTMLResponse,
    summary="The ledger of my region, searched",
    responses=PAGE_ERRORS,
    description="The filter form, this week's figures by status and one sortable page of "
    "projects; an HTMX request targeting the results gets the results alone.",
)
def ledger_page(
    request: Request, session: SessionDep, actor: ReaderDep, query: PageQueryDep, page: PageDep
) -> HTMLResponse:
    context = _results_context(request, session, actor, query, page.limit, page.offset)
    if _is_fragment(request):
        label_of = _labeller(i18n.language(request))
        return _fragment(
            request, "ledger_results.html", {**context, "label": label_of, "fragment": True}
        )
    lang = i18n.language(request)
    context.update(
        region=full_region_name(actor.region_code)
        if actor.region_code != regions.NATIONAL
        else "全国",
        region_options=region_options(actor.region_code, query.filters.region_code),
        site_types=list(SiteType),
        supply_kinds=list(SupplyKind),
        discovery_methods=list(DiscoveryMethod),
        may_import=actor.role in OFFICIALS,
        limit=page.limit,
        label=_labeller(lang),
    )
    response = render(request, "ledger.html", context, actor=actor)
    response.headers["Vary"] = "HX-Request"
    return response


@router.get(
    "/ledger/export.xlsx",
    summary="Export the filtered ledger (Excel)",
    description="The projects of my region matching the filters, in the ledger workbook with "
    "the Chinese headers regional offices use (it can be filled in and imported again).",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **PAGE_ERRORS},
)
def ledger_export(session: SessionDep, actor: ReaderDep, query: PageQueryDep) -> Response:
    return _export_response(session, actor, query)


@router.get(
    "/ledger/import",
    response_class=HTMLResponse,
    summary="The ledger import form",
    responses=PAGE_ERRORS,
)
def ledger_import_form(request: Request, actor: OfficialDep) -> HTMLResponse:
    return render(request, "ledger_import.html", {"result": None}, actor=actor)


@router.post(
    "/ledger/import",
    response_class=HTMLResponse,
    summary="Import a ledger workbook from the form",
    responses=PAGE_ERRORS,
    dependencies=[CsrfDep],
)
def ledger_import(
    request: Request,
    session: SessionDep,
    actor: OfficialDep,
    workbook: Annotated[UploadFile, File(description="The ledger workbook (.xlsx)")],
    check_only: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    result = _import(session, actor, workbook, check_only=check_only)
    status = 422 if result.problems else 200
    return render(request, "ledger_import.html",
                  {"result": result, "check_only": check_only}, actor=actor,
                  status_code=status)  # fmt: skip


@router.get(
    "/ledger/{project_code}",
    response_class=HTMLResponse,
    summary="One project: every field, its machines, its history and its cases",
    responses=PAGE_ERRORS,
)
def project_page(
    request: Request, session: SessionDep, actor: ReaderDep, project_code: str
) -> HTMLResponse:
    project = _project_or_404(session, actor, project_code)
    entry = project_to_entry(project)
    cases = project_cases(session, project.code, region_code=actor.region_code)
    lang = i18n.language(request)
    fields = _fields(project, lang)
    return render(
        request,
        "ledger_project.html",
        {
            "project": project,
            "entry": entry,
            "fields": fields,
            "machines": entry.machines,
            "machines_total": entry.total_machines,
            "cases": [
                {
                    "case_no": c.case_no,
                    "status": c.status.value,
                    "region": full_region_name(c.assigned_region_code or c.region_code or ""),
                    "opened": _local(c.opened_at),
                }
                for c in cases
            ],
            "history": [
                {
                    "at": _local(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "reason": e.reason or "",
                    "changes": [
                        (
                            _HEADERS.get(c.field, c.field),
                            _shown(c.field, c.before, lang),
                            _shown(c.field, c.after, lang),
                        )
                        for c in e.changes
                    ],
                }
                for e in project_history(session, project.code)
            ],
            "label": _labeller(lang),
        },
        actor=actor,
    )


_CODED = {
    "site_type": SiteType,
    "status": ProjectStatus,
    "supply_kind": SupplyKind,
    "discovered_by": DiscoveryMethod,
}


def _shown(key: str, value: Any, lang: str) -> str:
    """A recorded JSON value as the page shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if key in _CODED:
        try:
            return str(_labeller(lang)(_CODED[key](value)))
        except ValueError:
            return str(value)
    if key == "machines" and isinstance(value, list):
        return "；".join(f"{m}×{c}" for m, c in value)
    if key in ("region_code", "responsible_region_code"):
        return f"{value} {full_region_name(str(value))}"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def _fields(project: Project, lang: str) -> list[tuple[str, str]]:
    """(header, value) of every field of the project's ledger row, in the workbook's order."""
    image = project_image(project)
    image["region_name"] = full_region_name(project.region_code)
    shown = [(header, _shown(key, image.get(key), lang)) for key, header in _HEADERS.items()
             if key != "index"]  # fmt: skip
    shown.append(("录入时间", _local(project.created_at)))
    shown.append(("更新时间", _local(project.updated_at)))
    return shown


# ---------------------------------------------------------------------------- API


@router.get(
    "/api/v1/projects",
    response_model=Paged[ProjectSummary],
    summary="Search the ledger of my region",
    description="Projects sited in the caller's region matching the filters, one page at a "
    "time, with the total that match.",
    responses=ERRORS,
)
def api_projects(
    request: Request, session: SessionDep, actor: ReaderDep, query: ApiQueryDep, page: PageDep
) -> Paged[ProjectSummary]:
    total = _figures(request, session, query.filters, actor.region_code).total
    rows = page_of_projects(
        session, query.filters, region_code=actor.region_code, limit=page.limit,
        offset=page.offset, sort=query.sort,
    )  # fmt: skip
    return paged([summary_of(p) for p in rows], total, page)


@router.get(
    "/api/v1/projects/export.xlsx",
    summary="Export the filtered ledger (Excel)",
    description="As GET /api/v1/projects, the whole filtered set as the ledger workbook.",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **ERRORS},
)
def api_export(session: SessionDep, actor: ReaderDep, query: ApiQueryDep) -> Response:
    return _export_response(session, actor, query)


@router.post(
    "/api/v1/projects/import",
    response_model=ImportResult,
    summary="Import a ledger workbook",
    description="All or nothing: any problem answers 422 with every problem by row and column "
    "(rows outside the caller's region among them), and nothing is written. Officials only.",
    responses={
        **ERRORS,
        413: {"model": ErrorOut, "description": "A workbook larger than the upload limit"},
    },
)
def api_import(
    session: SessionDep,
    actor: OfficialDep,
    workbook: Annotated[UploadFile, File(description="The ledger workbook (.xlsx)")],
    check_only: Annotated[bool, Form(description="Check every row, write nothing")] = False,
) -> ImportResult:
    result = _import(session, actor, workbook, check_only=check_only)
    if result.problems:
        raise InputFileError(result.file_name, result.problems)
    assert result.summary is not None
    summary = result.summary
    return ImportResult(
        file_name=result.file_name,
        checked_only=check_only,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
        total=summary.total,
        warnings=[f"{w.where()}: {w.reason}" for w in result.warnings],
    )


@router.post(
    "/api/v1/projects",
    response_model=SavedProject,
    summary="Push one ledger entry",
    description="Create a project (no project_code) or bring one to the entry, checked as an "
    "imported row is: 422 lists each field at fault; an entry outside the caller's region is "
    "refused. 201 when created, 200 otherwise. Officials only; audited.",
    responses={201: {"model": SavedProject, "description": "Created"}, **ERRORS},
    status_code=200,
)
def api_push(
    session: SessionDep, actor: OfficialDep, body: ProjectIn, response: Response
) -> SavedProject:
    try:
        outcome = submit_entry(
            session, body.entry(), actor=actor.name, within=actor.region_code, source="api"
        )
    except InputFileError as error:
        raise HTTPException(
            422, [{"field": p.column, "reason": p.reason} for p in error.problems]
        ) from None
    project = _project_or_404(session, actor, outcome.project_code)
    if outcome.action.value == "created":
        response.status_code = 201
    cases = project_cases(session, project.code, region_code=actor.region_code)
    return saved_of(project, cases, outcome.action.value)


@router.get(
    "/api/v1/projects/{project_code}",
    response_model=ProjectDetail,
    summary="One project of my region",
    description="Every field of the project's ledger row, its machines by model, and the "
    "cases of my region that point at it; 404 outside my region.",
    responses=ERRORS,
)
def api_project(session: SessionDep, actor: ReaderDep, project_code: str) -> ProjectDetail:
    project = _project_or_404(session, actor, project_code)
    return detail_of(project, project_cases(session, project.code, region_code=actor.region_code))


@router.get(
    "/api/v1/projects/{project_code}/history",
    response_model=list[HistoryEvent],
    summary="A project's recorded changes",
    description="From the audit chain, newest first: who changed what and when.",
    responses=ERRORS,
)
def api_project_history(
    session: SessionDep, actor: ReaderDep, project_code: str
) -> list[HistoryEvent]:
    project = _project_or_404(session, actor, project_code)
    return history_of(project_history(session, project.code))
