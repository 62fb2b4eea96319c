"""The ledger workbook (项目台账.xlsx) as regional offices fill it in, read and written.

Reading is forgiving about form and strict about content: the header row may sit under a title
and its parentheses may be full- or half-width; codes may be written as their Chinese labels;
dates in the usual Chinese spellings. Every cell is checked, every problem is collected with its
row and column, and one :class:`~minewatch.errors.InputFileError` lists them all; a workbook is
accepted whole or not at all.
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from minewatch.errors import InputFileError, InputProblem, MineWatchError
from minewatch.ingest.cells import parse_day
from minewatch.reference import credit_code, regions
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
    check_entry,
    format_machines,
    label,
    parse_coded,
    parse_hashrate_unit,
    parse_machines,
    site_key,
)

SHEET = "项目台账"
GUIDE_SHEET = "填写说明"
DEFAULT_TITLE = "虚拟货币“挖矿”项目台账"
_HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class _Column:
    key: str  # a LedgerEntry field, or "index" / "region_name"
    header: str
    kind: str  # text | number | int | date | coded | machines | unit | region
    width: float
    guide: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: type[StrEnum] | None = None


_COLUMNS: tuple[_Column, ...] = (
    _Column("index", "序号", "int", 6, "行号，导入时不读取"),
    _Column("project_code", "项目编号", "text", 18, "已在台账中的项目填写，新项目留空由系统编号",
            aliases=("项目代码",)),
    _Column("project_name", "项目名称", "text", 24, "", aliases=("矿场名称",)),
    _Column("enterprise_name", "所属企业", "text", 30, "企业全称", required=True,
            aliases=("企业名称", "主体名称", "所属企业名称", "经营主体")),
    _Column("enterprise_uscc", "统一社会信用代码", "text", 22, "18位，GB 32100-2015",
            required=True, aliases=("信用代码", "社会信用代码", "企业统一社会信用代码")),
    _Column("legal_representative", "法定代表人", "text", 10, "", aliases=("法人", "法人代表")),
    _Column("site_address", "项目地址", "text", 36, "到门牌号或厂房", required=True,
            aliases=("地址", "项目所在地址", "详细地址", "项目详细地址")),
    _Column("region_name", "所在地区", "text", 20, "省市县名称；与行政区划代码二选一",
            aliases=("所在地", "地区", "所在县区")),
    _Column("region_code", "行政区划代码", "region", 12, "县级6位代码（GB/T 2260）",
            aliases=("区划代码", "县区代码", "所在地区代码")),
    _Column("longitude", "经度", "number", 10, "十进制度"),
    _Column("latitude", "纬度", "number", 10, "十进制度"),
    _Column("site_type", "场所类型", "coded", 14, "", choices=SiteType,
            aliases=("场所性质", "选址类型")),
    _Column("status", "状态", "coded", 10, "", required=True, choices=ProjectStatus,
            aliases=("项目状态", "当前状态")),
    _Column("machines", "矿机型号及数量", "machines", 34, "型号×台数，多种用；分隔",
            aliases=("矿机型号", "设备型号及数量", "矿机型号及台数")),
    _Column("machine_count", "规模（台）", "int", 10, "矿机总台数",
            aliases=("规模", "矿机数量", "矿机台数")),
    _Column("hashrate", "算力", "number", 12, "数值；单位填在下一列", aliases=("总算力",)),
    _Column("hashrate_unit", "算力单位", "unit", 10, "TH/s、PH/s、MH/s、GH/s 等"),
    _Column("rated_power_kw", "额定功率（千瓦）", "number", 14, "",
            aliases=("功率（千瓦）", "装机功率（千瓦）", "用电负荷（千瓦）", "额定功率")),
    _Column("monthly_energy_kwh", "耗电量（千瓦时/月）", "number", 16, "",
            aliases=("月耗电量（千瓦时）", "耗电量", "月用电量（千瓦时）")),
    _Column("planned_production_date", "计划投产时间", "date", 14, "在建项目填写",
            aliases=("计划投产日期", "预计投产时间")),
    _Column("supply_kind", "供电方式", "coded", 14, "", choices=SupplyKind,
            aliases=("供电类型",)),
    _Column("grid_account_no", "供电户号", "text", 16, "电网用电户号",
            aliases=("用电户号", "户号", "电力户号")),
    _Column("supply_line", "供电线路", "text", 16, ""),
    _Column("supply_plant", "供电电厂", "text", 18, "自备电厂或专线直供电厂名称",
            aliases=("供电电站",)),
    _Column("discovered_by", "发现方式", "coded", 12, "", required=True,
            choices=DiscoveryMethod, aliases=("发现途径", "线索来源")),
    _Column("responsible_region_code", "责任县区代码", "region", 12, "留空则为所在县区",
            aliases=("责任县区", "责任地区代码")),
    _Column("responsible_official", "责任人", "text", 20, "单位及姓名"),
    _Column("exit_deadline", "退出期限", "date", 12, "", aliases=("退出时限", "整改期限")),
    _Column("notes", "备注", "text", 24, ""),
)  # fmt: skip

_BY_KEY = {c.key: c for c in _COLUMNS}


def header_of() -> dict[str, str]:
    """The workbook header of every ledger field (to name columns in error messages)."""
    return {c.key: c.header for c in _COLUMNS}


@dataclass(frozen=True)
class LedgerRow:
    """A ledger row read from a workbook, with its row number as the spreadsheet shows it."""

    row_number: int
    entry: LedgerEntry


@dataclass
class LedgerSheet:
    """What a workbook held: its rows, and remarks that did not stop the import."""

    rows: list[LedgerRow]
    warnings: list[InputProblem] = field(default_factory=list)
    sheet_name: str = SHEET
    header_row: int = 1


@dataclass
class LedgerSheetError(InputFileError):
    """A workbook with problems in some rows; ``rows`` holds the rows that were read soundly,
    so a caller can check them further (against the database) and report everything at once."""

    rows: list[LedgerRow] = field(default_factory=list)

    def __str__(self) -> str:
        return InputFileError.__str__(self)


# --------------------------------------------------------------------------- reading


def _header_key(text: str) -> str:
    key = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s*]+", "", key).lower()


_HEADER_INDEX: dict[str, _Column] = {}
for _column in _COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _HEADER_INDEX[_header_key(_name)] = _column


class _CellError(ValueError):
    """A cell that cannot be read; the message is the reason."""


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        raise _CellError(f"expected text, found the date {value:%Y-%m-%d}")
    text = str(value).strip()
    return text or None


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise _CellError(f"expected a number, found {value}")
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime | date):
        raise _CellError(f"expected a number, found the date {value:%Y-%m-%d}")
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _CellError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _CellError(f"{value!r} is not a finite number")
    return number


def _integer(value: object) -> int | None:
    number = _number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise _CellError(f"{value!r} is not a whole number")
    return int(number)


def _date(value: object) -> date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # an Excel serial day number, 1954–2119
            converted = from_excel(value)
            if isinstance(converted, datetime):
                return converted.date()
        raise _CellError(f"{value!r} is not a date (write 2021-12-31)")
    try:
        return parse_day(value, month_alone=True)
    except ValueError:
        raise _CellError(f"{value!r} is not a date (write 2021-12-31)") from None


def _region(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        if len(text) != 6:
            raise _CellError(f"{text!r} is not a 6-digit GB/T 2260 code")
        return text
    try:
        return regions.resolve_name(text).code
    except regions.UnknownRegionError:
        raise _CellError(f"{text!r} is neither a GB/T 2260 code nor a region name") from None
    except MineWatchError as error:  # an ambiguous name
        raise _CellError(str(error)) from None


_HASHRATE_WITH_UNIT = re.compile(r"^(?P<number>[0-9.,]+)\s*(?P<unit>[A-Za-z/]+)$")


@dataclass
class _RowReader:
    """Reads one row into a ledger entry, collecting problems rather than stopping."""

    row_number: int
    cells: dict[str, object]
    problems: list[InputProblem] = field(default_factory=list)

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(InputProblem(self.row_number, _BY_KEY[key].header, reason))

    def get(self, key: str, parse: Callable[[object], Any]) -> Any:
        try:
            return parse(self.cells.get(key))
        except _CellError as error:
            self.problem(key, str(error))
            return None

    def coded(self, key: str, enum_cls: type[StrEnum], default: StrEnum | None = None) -> Any:
        text = self.get(key, _text)
        if text is None:
            if default is None and _BY_KEY[key].required:
                self.problem(key, "is empty")
            return default
        try:
            return parse_coded(enum_cls, text)
        except ValueError as error:
            self.problem(key, str(error))
            return None

    def required_text(self, key: str) -> str | None:
        value = self.get(key, _text)
        if value is None:
            self.problem(key, "is empty")
        return value  # type: ignore[no-any-return]

    def entry(self) -> LedgerEntry | None:
        count_before = len(self.problems)
        name = self.required_text("enterprise_name")
        uscc = self.required_text("enterprise_uscc")
        if uscc is not None:
            try:
                uscc = credit_code.validate(uscc)
            except credit_code.InvalidCreditCodeError as error:
                self.problem("enterprise_uscc", str(error))
        address = self.required_text("site_address")
        region_code = self._region_code()
        responsible = self.get("responsible_region_code", _region) or region_code
        site_type = self.coded("site_type", SiteType, SiteType.OTHER)
        status = self.coded("status", ProjectStatus)
        discovered_by = self.coded("discovered_by", DiscoveryMethod)
        supply_kind = self.coded("supply_kind", SupplyKind, SupplyKind.GRID)
        machines_text = self.get("machines", _text)
        machines: tuple[MachineCount, ...] = ()
        if machines_text is not None:
            try:
                machines = parse_machines(machines_text)
            except ValueError as error:
                self.problem("machines", str(error))
        hashrate, unit = self._hashrate()
        longitude = self.get("longitude", _number)
        latitude = self.get("latitude", _number)
        if longitude is not None and not 73.0 <= longitude <= 136.0:
            self.problem("longitude", f"{longitude} is outside China (73–136° E)")
        if latitude is not None and not 3.0 <= latitude <= 54.0:
            self.problem("latitude", f"{latitude} is outside China (3–54° N)")
        values = {
            "project_code": self.get("project_code", _text),
            "project_name": self.get("project_name", _text) or "",
            "legal_representative": self.get("legal_representative", _text),
            "machine_count": self.get("machine_count", _integer),
            "rated_power_kw": self.get("rated_power_kw", _number),
            "monthly_energy_kwh": self.get("monthly_energy_kwh", _number),
            "planned_production_date": self.get("planned_production_date", _date),
            "grid_account_no": self.get("grid_account_no", _text),
            "supply_line": self.get("supply_line", _text),
            "supply_plant": self.get("supply_plant", _text),
            "responsible_official": self.get("responsible_official", _text),
            "exit_deadline": self.get("exit_deadline", _date),
            "notes": self.get("notes", _text),
        }
        if len(self.problems) > count_before:
            return None
        assert name is not None
        assert uscc is not None
        assert address is not None
        assert region_code is not None
        assert responsible is not None
        entry = LedgerEntry(
            enterprise_name=name,
            enterprise_uscc=uscc,
            site_address=address,
            region_code=region_code,
            responsible_region_code=responsible,
            site_type=site_type,
            status=status,
            discovered_by=discovered_by,
            supply_kind=supply_kind,
            machines=machines,
            hashrate=hashrate,
            hashrate_unit=unit,
            longitude=longitude,
            latitude=latitude,
            **values,
        )
        for key, reason in check_entry(entry):
            self.problem(key if key in _BY_KEY else "notes", reason)
        return None if len(self.problems) > count_before else entry

    def _region_code(self) -> str | None:
        code = self.get("region_code", _region)
        name = self.get("region_name", _text)
        named = None
        if name is not None:
            try:
                named = regions.resolve_name(name)
            except regions.UnknownRegionError:
                self.problem("region_name", f"{name!r} is not a region name")
                return None
            except MineWatchError as error:  # an ambiguous name
                self.problem("region_name", str(error))
                return None
        if code is None:
            if named is None:
                self.problem("region_code", "is empty (give 行政区划代码 or 所在地区)")
            return named.code if named else None
        if named is not None and not regions.is_within(code, named.code):
            self.problem("region_code", f"{code} is not in 所在地区 {name} ({named.code})")
        return code  # type: ignore[no-any-return]

    def _hashrate(self) -> tuple[float | None, HashrateUnit | None]:
        """算力 and 算力单位; the unit may also be written in the 算力 cell (``33 PH/s``)."""
        raw = self.cells.get("hashrate")
        inline: str | None = None
        if isinstance(raw, str):
            match = _HASHRATE_WITH_UNIT.match(unicodedata.normalize("NFKC", raw).strip())
            if match is not None:
                raw, inline = match["number"], match["unit"]
        try:
            hashrate = _number(raw)
        except _CellError as error:
            self.problem("hashrate", str(error))
            return None, None
        column = self.get("hashrate_unit", _text)
        units: dict[str, HashrateUnit] = {}
        for key, text in (("hashrate", inline), ("hashrate_unit", column)):
            if text is not None:
                try:
                    units[key] = parse_hashrate_unit(text)
                except ValueError as error:
                    self.problem(key, str(error))
        if len(set(units.values())) > 1:
            self.problem("hashrate", f"the unit {inline} differs from 算力单位 {column}")
        unit = units.get("hashrate_unit", units.get("hashrate"))
        if hashrate is not None and inline is None and column is None:
            self.problem("hashrate_unit", "is empty; a hash rate needs its unit (TH/s, PH/s …)")
        return hashrate, unit


def _open_problem(path: Path, reason: str) -> InputFileError:
    return InputFileError(path, [InputProblem(None, None, reason)])


def read_ledger_xlsx(path: Path | str) -> LedgerSheet:
    """Read and check a ledger workbook; raise :class:`InputFileError` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise _open_problem(path, "file not found" if not path.exists() else "is not a file")
    if path.suffix.lower() == ".xls":
        raise _open_problem(path, "is an old .xls workbook: save it as .xlsx and import again")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise _open_problem(path, f"is not a readable .xlsx workbook ({error})") from None
    try:
        name = SHEET if SHEET in workbook.sheetnames else workbook.sheetnames[0]
        rows = workbook[name].iter_rows(values_only=True)
        return _read_rows(path, name, rows)
    finally:
        workbook.close()


def _read_rows(path: Path, sheet_name: str, rows: Iterable[Sequence[object]]) -> LedgerSheet:
    warnings: list[InputProblem] = []
    iterator = iter(rows)
    columns: dict[int, _Column] | None = None
    header_row = 0
    for number, values in enumerate(iterator, start=1):
        if number > _HEADER_SEARCH_ROWS:
            break
        keys = {_HEADER_INDEX.get(_header_key(str(v))) for v in values if v is not None}
        if _BY_KEY["enterprise_name"] in keys:
            columns, header_row = _map_header(path, number, values, warnings), number
            break
    if columns is None:
        raise InputFileError(
            path,
            [
                InputProblem(
                    None,
                    None,
                    f"sheet {sheet_name!r}: no header row with 所属企业 in the first "
                    f"{_HEADER_SEARCH_ROWS} rows; is this the ledger (项目台账) workbook?",
                )
            ],
        )
    problems: list[InputProblem] = []
    read: list[LedgerRow] = []
    for number, values in enumerate(iterator, start=header_row + 1):
        cells = {
            column.key: value
            for index, column in columns.items()
            if index < len(values) and (value := values[index]) not in (None, "")
            and not (isinstance(value, str) and not value.strip())
        }  # fmt: skip
        if not set(cells) - {"index"}:
            continue
        reader = _RowReader(number, cells)
        entry = reader.entry()
        problems.extend(reader.problems)
        if entry is not None:
            read.append(LedgerRow(number, entry))
    problems.extend(_duplicates(read))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise LedgerSheetError(path, problems, rows=read)
    return LedgerSheet(read, warnings, sheet_name, header_row)


def _map_header(
    path: Path, row: int, values: Sequence[object], warnings: list[InputProblem]
) -> dict[int, _Column]:
    columns: dict[int, _Column] = {}
    seen: dict[str, int] = {}
    problems: list[InputProblem] = []
    for index, value in enumerate(values):
        if value is None or not str(value).strip():
            continue
        letter = get_column_letter(index + 1)
        column = _HEADER_INDEX.get(_header_key(str(value)))
        if column is None:
            warnings.append(
                InputProblem(row, f"{letter} {str(value).strip()}", "unknown column, not read")
            )
            continue
        if column.key in seen:
            problems.append(
                InputProblem(
                    row,
                    f"{letter} {str(value).strip()}",
                    f"repeats column {get_column_letter(seen[column.key] + 1)} ({column.header})",
                )
            )
            continue
        seen[column.key] = index
        columns[index] = column
    for column in _COLUMNS:
        if column.required and column.key not in seen:
            problems.append(InputProblem(row, column.header, "required column is missing"))
    if "region_code" not in seen and "region_name" not in seen:
        problems.append(
            InputProblem(row, "行政区划代码", "required column is missing (or give 所在地区)")
        )
    if problems:
        raise InputFileError(path, problems)
    return columns


def _duplicates(rows: Sequence[LedgerRow]) -> list[InputProblem]:
    problems: list[InputProblem] = []
    by_code: dict[str, int] = {}
    by_site: dict[tuple[str, str], int] = {}
    code_header = _BY_KEY["project_code"].header
    for row in rows:
        entry = row.entry
        if entry.project_code is not None:
            first = by_code.setdefault(entry.project_code, row.row_number)
            if first != row.row_number:
                problems.append(
                    InputProblem(
                        row.row_number,
                        code_header,
                        f"{entry.project_code} is already given in row {first}",
                    )
                )
                continue
        site = site_key(entry)
        first = by_site.setdefault(site, row.row_number)
        if first != row.row_number and entry.project_code is None:
            problems.append(
                InputProblem(
                    row.row_number,
                    _BY_KEY["site_address"].header,
                    f"duplicates row {first}: same enterprise ({entry.enterprise_uscc}) and "
                    f"address; give the rows different 项目编号 if they are separate projects",
                )
            )
    return problems


# --------------------------------------------------------------------------- writing


def _cell_value(entry: LedgerEntry, column: _Column, index: int) -> object:
    if column.key == "index":
        return index
    if column.key == "region_name":
        region = regions.find(entry.region_code)
        return region.full_name if region else None
    value = getattr(entry, column.key)
    if column.key == "machines":
        return format_machines(value) or None
    if isinstance(value, StrEnum):
        return label(value) if column.kind == "coded" else value.value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def write_ledger_xlsx(
    entries: Iterable[LedgerEntry], path: Path | str, *, title: str | None = None
) -> int:
    """Write the ledger as a workbook offices can fill in and import again; return the row count.

    The file appears whole or not at all (written next to ``path``, then renamed).
    """
    path = Path(path)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    width = len(_COLUMNS)
    last = get_column_letter(width)
    sheet.append([title or DEFAULT_TITLE])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 28
    sheet.append([c.header for c in _COLUMNS])
    thin = Side(style="thin", color="999999")
    for index, column in enumerate(_COLUMNS, start=1):
        cell = sheet.cell(row=2, column=index)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[2].height = 32
    count = 0
    for count, entry in enumerate(entries, start=1):
        sheet.append([_cell_value(entry, c, count) for c in _COLUMNS])
        row = count + 2
        for index, column in enumerate(_COLUMNS, start=1):
            cell = sheet.cell(row=row, column=index)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, even when it starts with "="
            elif column.kind == "date" and cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "C3"
    sheet.auto_filter.ref = f"A2:{last}{max(count + 2, 3)}"
    reach = max(count + 2, 3) + 500
    for index, column in enumerate(_COLUMNS, start=1):
        if column.choices is None:
            continue
        options = ",".join(label(m) for m in column.choices)
        validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
        validation.error = f"请选择：{options}"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        letter = get_column_letter(index)
        validation.add(f"{letter}3:{letter}{reach}")
    _write_guide(workbook)
    tmp = path.with_name(f".{path.name}.part")
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_guide(workbook: Workbook) -> None:
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.append(["列名", "是否必填", "填写要求", "可选值"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in _COLUMNS:
        options = "、".join(label(m) for m in column.choices) if column.choices else ""
        required = "必填" if column.required else ""
        if column.key in ("region_code", "region_name"):
            required = "二选一"
        guide.append([column.header, required, column.guide, options])
    for letter, width in zip("ABCD", (20, 10, 40, 60), strict=True):
        guide.column_dimensions[letter].width = width
