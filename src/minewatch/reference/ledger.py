"""The vocabulary and record of the mining-project ledger (项目台账), notice 1283 clauses (三)(四).

The ledger is the form every county fills in and the province rolls up weekly: which enterprise,
where, how big (machines, hashrate, power, consumption), in which state, how it is powered, how
it was found and who is responsible for its exit. :class:`LedgerEntry` is that form's row; the
database, the Excel workbooks and the demo generator all speak it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeVar

from minewatch.reference import credit_code, regions
from minewatch.settings import Locale


class ProjectStatus(StrEnum):
    """Where a project stands; ``in_construction`` and ``operating`` are the live states."""

    IN_CONSTRUCTION = "in_construction"
    OPERATING = "operating"
    SHUT_DOWN = "shut_down"
    CLEARED = "cleared"

    @property
    def is_active(self) -> bool:
        return self in (ProjectStatus.IN_CONSTRUCTION, ProjectStatus.OPERATING)


class SiteType(StrEnum):
    INDUSTRIAL_PARK = "industrial_park"
    BIG_DATA_PARK = "big_data_park"
    DATA_CENTRE = "data_centre"
    FACTORY = "factory"
    RESIDENCE = "residence"
    STATE_OWNED_SERVER_ROOM = "state_owned_server_room"
    OTHER = "other"


class SupplyKind(StrEnum):
    """How the site gets its power (clause 十二 forbids the last two for mining)."""

    GRID = "grid"
    SELF_OWNED_PLANT = "self_owned_plant"
    PLANT_DIRECT_LINE = "plant_direct_line"


class DiscoveryMethod(StrEnum):
    ELECTRICITY_ANALYSIS = "electricity_analysis"
    NETWORK_MONITORING = "network_monitoring"
    PUBLIC_REPORT = "public_report"
    INSPECTION = "inspection"
    SELF_REPORT = "self_report"


class EnterpriseKind(StrEnum):
    DATA_CENTRE_OPERATOR = "data_centre_operator"
    MINING_OPERATOR = "mining_operator"
    POWER_PLANT = "power_plant"
    ISP = "isp"
    PARK = "park"
    STATE_OWNED_UNIT = "state_owned_unit"
    OTHER = "other"


class HashrateUnit(StrEnum):
    """Hash-rate units; the value is the symbol written in ledgers."""

    HS = "H/s"
    KHS = "KH/s"
    MHS = "MH/s"
    GHS = "GH/s"
    THS = "TH/s"
    PHS = "PH/s"
    EHS = "EH/s"
    SOLS = "Sol/s"  # Equihash counts solutions, not hashes
    KSOLS = "KSol/s"

    @property
    def hashes_per_second(self) -> float:
        """How many H/s one of this unit is."""
        return _HASHRATE_FACTORS[self]


_HASHRATE_FACTORS = {
    HashrateUnit.HS: 1.0,
    HashrateUnit.KHS: 1e3,
    HashrateUnit.MHS: 1e6,
    HashrateUnit.GHS: 1e9,
    HashrateUnit.THS: 1e12,
    HashrateUnit.PHS: 1e15,
    HashrateUnit.EHS: 1e18,
    HashrateUnit.SOLS: 1.0,
    HashrateUnit.KSOLS: 1e3,
}

# Chinese (as regional offices write it) and English labels of every coded value.
_LABELS: dict[StrEnum, tuple[str, str]] = {
    ProjectStatus.IN_CONSTRUCTION: ("在建", "in construction"),
    ProjectStatus.OPERATING: ("在运", "operating"),
    ProjectStatus.SHUT_DOWN: ("已关停", "shut down"),
    ProjectStatus.CLEARED: ("已清理", "cleared"),
    SiteType.INDUSTRIAL_PARK: ("工业园区", "industrial park"),
    SiteType.BIG_DATA_PARK: ("大数据产业园", "big-data park"),
    SiteType.DATA_CENTRE: ("数据中心", "data centre"),
    SiteType.FACTORY: ("厂房", "factory"),
    SiteType.RESIDENCE: ("居民住宅", "residence"),
    SiteType.STATE_OWNED_SERVER_ROOM: ("国有单位机房", "state-owned unit server room"),
    SiteType.OTHER: ("其他", "other"),
    SupplyKind.GRID: ("电网供电", "grid"),
    SupplyKind.SELF_OWNED_PLANT: ("自备电厂", "self-owned plant"),
    SupplyKind.PLANT_DIRECT_LINE: ("电厂专线直供", "direct line from a plant"),
    DiscoveryMethod.ELECTRICITY_ANALYSIS: ("用电分析", "electricity analysis"),
    DiscoveryMethod.NETWORK_MONITORING: ("网络监测", "network monitoring"),
    DiscoveryMethod.PUBLIC_REPORT: ("群众举报", "public report"),
    DiscoveryMethod.INSPECTION: ("检查发现", "inspection"),
    DiscoveryMethod.SELF_REPORT: ("自查上报", "self-report"),
    EnterpriseKind.DATA_CENTRE_OPERATOR: ("数据中心运营企业", "data-centre operator"),
    EnterpriseKind.MINING_OPERATOR: ("挖矿经营主体", "mining operator"),
    EnterpriseKind.POWER_PLANT: ("发电企业", "power plant"),
    EnterpriseKind.ISP: ("网络运营商", "ISP"),
    EnterpriseKind.PARK: ("园区", "park"),
    EnterpriseKind.STATE_OWNED_UNIT: ("国有单位", "state-owned unit"),
    EnterpriseKind.OTHER: ("其他", "other"),
}

# Other spellings found in provincial workbooks.
_ALIASES: dict[str, StrEnum] = {
    "在运行": ProjectStatus.OPERATING,
    "运行": ProjectStatus.OPERATING,
    "已投产": ProjectStatus.OPERATING,
    "在建设": ProjectStatus.IN_CONSTRUCTION,
    "拟建": ProjectStatus.IN_CONSTRUCTION,
    "关停": ProjectStatus.SHUT_DOWN,
    "已停产": ProjectStatus.SHUT_DOWN,
    "停产": ProjectStatus.SHUT_DOWN,
    "已退出": ProjectStatus.CLEARED,
    "清理": ProjectStatus.CLEARED,
    "大数据园区": SiteType.BIG_DATA_PARK,
    "住宅": SiteType.RESIDENCE,
    "电网": SupplyKind.GRID,
    "专线直供": SupplyKind.PLANT_DIRECT_LINE,
    "网前供电": SupplyKind.PLANT_DIRECT_LINE,
    "举报": DiscoveryMethod.PUBLIC_REPORT,
    "自查": DiscoveryMethod.SELF_REPORT,
    "现场检查": DiscoveryMethod.INSPECTION,
}

E = TypeVar("E", bound=StrEnum)


def label(value: StrEnum, locale: Locale = Locale.ZH_CN) -> str:
    """The label of a coded value in ``locale``."""
    zh, en = _LABELS[value]
    return zh if locale is Locale.ZH_CN else en


def parse_coded(enum_cls: type[E], text: str) -> E:
    """Read a coded value written as its code, its Chinese label, its English label or an alias.

    Raises ``ValueError`` naming the accepted Chinese labels when nothing matches.
    """
    key = text.strip()
    for member in enum_cls:
        zh, en = _LABELS[member]
        if key in (member.value, zh) or key.lower() == en.lower():
            return member
    alias = _ALIASES.get(key)
    if isinstance(alias, enum_cls):
        return alias
    accepted = "、".join(_LABELS[m][0] for m in enum_cls)
    raise ValueError(f"{text!r} is not one of {accepted}")


def parse_hashrate_unit(text: str) -> HashrateUnit:
    """Read a hash-rate unit written as ``TH/s``, ``TH``, ``th/s``, ``T`` …"""
    key = text.strip().upper().replace("／", "/").removesuffix("/S").removesuffix("S")
    if key in ("", "H"):
        return HashrateUnit.HS
    for unit in HashrateUnit:
        if unit.value.upper().removesuffix("/S") in (key, key + "H"):
            return unit
    raise ValueError(
        f"{text!r} is not a hash-rate unit ({', '.join(u.value for u in HashrateUnit)})"
    )


_QUANTITY = re.compile(
    r"^\s*(?P<value>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


def parse_hashrate(text: str) -> tuple[float, HashrateUnit]:
    """Read a hash rate with its unit, ``12 PH/s``, ``12PH``, ``95 TH/s``, ``3.5 GH/s``.

    Raises ``ValueError`` when the number or the unit is missing or not one.
    """
    match = _QUANTITY.match(unicodedata.normalize("NFKC", text))
    if match is None or not match["unit"]:
        raise ValueError(f"{text!r} is not a hash rate with its unit (e.g. 12 PH/s)")
    return float(match["value"]), parse_hashrate_unit(match["unit"])


@dataclass(frozen=True, order=True)
class MachineCount:
    """Machines of one model at a site."""

    model: str
    count: int


_MACHINE_ITEM = re.compile(r"^\s*(?P<model>.+?)\s*[×xX*＊]\s*(?P<count>\d+)\s*台?\s*$")


def parse_machines(text: str) -> tuple[MachineCount, ...]:
    """Read ``Antminer S19 Pro×200；Whatsminer M30S×50`` (any of ；;,，、 and newlines between).

    Raises ``ValueError`` naming the part that is not ``model×count``.
    """
    items: dict[str, int] = {}
    for part in re.split(r"[；;，,、\n]+", text):
        if not part.strip():
            continue
        match = _MACHINE_ITEM.match(part)
        if match is None:
            raise ValueError(
                f"{part.strip()!r} is not written as model×count (e.g. Antminer S19×100)"
            )
        count = int(match["count"])
        if count <= 0:
            raise ValueError(f"{part.strip()!r}: the count must be positive")
        model = match["model"]
        items[model] = items.get(model, 0) + count
    return tuple(MachineCount(m, c) for m, c in items.items())


def format_machines(machines: Iterable[MachineCount]) -> str:
    """The inverse of :func:`parse_machines`."""
    return "；".join(f"{m.model}×{m.count}" for m in machines)


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger: a mining project, existing or under construction.

    ``project_code`` is ``None`` for a project not yet in the ledger. Figures carry their units in
    their names; ``hashrate`` is in ``hashrate_unit``. Dates are local (Asia/Shanghai) dates.
    """

    project_code: str | None
    enterprise_name: str
    enterprise_uscc: str
    site_address: str
    region_code: str
    site_type: SiteType
    status: ProjectStatus
    discovered_by: DiscoveryMethod
    responsible_region_code: str
    project_name: str = ""
    legal_representative: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    machines: tuple[MachineCount, ...] = field(default_factory=tuple)
    machine_count: int | None = None
    hashrate: float | None = None
    hashrate_unit: HashrateUnit | None = None
    rated_power_kw: float | None = None
    monthly_energy_kwh: float | None = None
    planned_production_date: date | None = None
    supply_kind: SupplyKind = SupplyKind.GRID
    grid_account_no: str | None = None
    supply_line: str | None = None
    supply_plant: str | None = None
    responsible_official: str | None = None
    exit_deadline: date | None = None
    notes: str | None = None

    @property
    def hashrate_hs(self) -> float | None:
        """The hash rate in H/s, or ``None`` when not declared."""
        if self.hashrate is None or self.hashrate_unit is None:
            return None
        return self.hashrate * self.hashrate_unit.hashes_per_second

    @property
    def total_machines(self) -> int:
        """规模（台）: the declared count, else the sum over models."""
        if self.machine_count is not None:
            return self.machine_count
        return sum(m.count for m in self.machines)


def entry_to_json(entry: LedgerEntry) -> dict[str, object]:
    """A JSON-native image of a ledger row (dates ISO, codes as their values, machines as pairs).

    This image is what the audit chain records, so the ledger as of any week can be read back
    with :func:`entry_from_json`.
    """
    return {
        "project_code": entry.project_code,
        "project_name": entry.project_name,
        "enterprise_name": entry.enterprise_name,
        "enterprise_uscc": entry.enterprise_uscc,
        "legal_representative": entry.legal_representative,
        "site_address": entry.site_address,
        "region_code": entry.region_code,
        "longitude": entry.longitude,
        "latitude": entry.latitude,
        "site_type": entry.site_type.value,
        "status": entry.status.value,
        "machines": [[m.model, m.count] for m in entry.machines],
        "machine_count": entry.machine_count,
        "hashrate": entry.hashrate,
        "hashrate_unit": entry.hashrate_unit.value if entry.hashrate_unit else None,
        "rated_power_kw": entry.rated_power_kw,
        "monthly_energy_kwh": entry.monthly_energy_kwh,
        "planned_production_date": _iso(entry.planned_production_date),
        "supply_kind": entry.supply_kind.value,
        "grid_account_no": entry.grid_account_no,
        "supply_line": entry.supply_line,
        "supply_plant": entry.supply_plant,
        "discovered_by": entry.discovered_by.value,
        "responsible_region_code": entry.responsible_region_code,
        "responsible_official": entry.responsible_official,
        "exit_deadline": _iso(entry.exit_deadline),
        "notes": entry.notes,
    }


def entry_from_json(data: dict[str, object]) -> LedgerEntry:
    """The inverse of :func:`entry_to_json`."""

    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    def number(key: str) -> float | None:
        value = data.get(key)
        return None if value is None else float(value)  # type: ignore[arg-type]

    def day(key: str) -> date | None:
        value = data.get(key)
        return None if value is None else date.fromisoformat(str(value))

    machines_raw = data.get("machines") or []
    assert isinstance(machines_raw, list)
    machine_count = data.get("machine_count")
    unit = text("hashrate_unit")
    return LedgerEntry(
        project_code=text("project_code"),
        project_name=text("project_name") or "",
        enterprise_name=str(data["enterprise_name"]),
        enterprise_uscc=str(data["enterprise_uscc"]),
        legal_representative=text("legal_representative"),
        site_address=str(data["site_address"]),
        region_code=str(data["region_code"]),
        longitude=number("longitude"),
        latitude=number("latitude"),
        site_type=SiteType(str(data["site_type"])),
        status=ProjectStatus(str(data["status"])),
        machines=tuple(MachineCount(str(m), int(c)) for m, c in machines_raw),
        machine_count=None if machine_count is None else int(str(machine_count)),
        hashrate=number("hashrate"),
        hashrate_unit=HashrateUnit(unit) if unit else None,
        rated_power_kw=number("rated_power_kw"),
        monthly_energy_kwh=number("monthly_energy_kwh"),
        planned_production_date=day("planned_production_date"),
        supply_kind=SupplyKind(str(data["supply_kind"])),
        grid_account_no=text("grid_account_no"),
        supply_line=text("supply_line"),
        supply_plant=text("supply_plant"),
        discovered_by=DiscoveryMethod(str(data["discovered_by"])),
        responsible_region_code=str(data["responsible_region_code"]),
        responsible_official=text("responsible_official"),
        exit_deadline=day("exit_deadline"),
        notes=text("notes"),
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


PROJECT_CODE_PATTERN = re.compile(r"^XM-(?P<county>\d{6})-(?P<n>\d{4,})$")


def check_entry(entry: LedgerEntry) -> list[tuple[str, str]]:
    """What is wrong with a ledger row on its own, as (field, reason) pairs; empty when sound."""
    problems: list[tuple[str, str]] = []
    try:
        credit_code.validate(entry.enterprise_uscc)
    except credit_code.InvalidCreditCodeError as error:
        problems.append(("enterprise_uscc", str(error)))
    for field_name in ("region_code", "responsible_region_code"):
        code = getattr(entry, field_name)
        region = regions.find(code)
        if region is None:
            problems.append((field_name, _region_reason(code)))
        elif region.is_grouping:
            problems.append((field_name, f"{code} ({region.name}) is a grouping, not a place"))
        elif field_name == "region_code" and not _is_county_level(region):
            problems.append(
                (field_name, f"{code} ({region.full_name}) is not a county-level region (县/区/市)")
            )
    if not entry.enterprise_name.strip():
        problems.append(("enterprise_name", "is empty"))
    if not entry.site_address.strip():
        problems.append(("site_address", "is empty"))
    if entry.project_code is not None and not PROJECT_CODE_PATTERN.match(entry.project_code):
        problems.append(("project_code", f"{entry.project_code!r} is not like XM-511824-0001"))
    if entry.machines and entry.machine_count is not None:
        total = sum(m.count for m in entry.machines)
        if total != entry.machine_count:
            problems.append(
                ("machine_count", f"is {entry.machine_count} but the models add up to {total}")
            )
    for field_name in ("hashrate", "rated_power_kw", "monthly_energy_kwh", "machine_count"):
        value = getattr(entry, field_name)
        if value is not None and value < 0:
            problems.append((field_name, f"is negative ({value})"))
    if (entry.hashrate is None) != (entry.hashrate_unit is None):
        problems.append(("hashrate_unit", "a hash rate needs its unit, and a unit its hash rate"))
    return problems


def _region_reason(code: str) -> str:
    succession = regions.succession(code)
    if succession is not None:
        return str(regions.UnknownRegionError(code))
    return f"{code!r} is not a GB/T 2260 region code"


def _is_county_level(region: regions.Region) -> bool:
    """Counties, and prefectures that have no counties (东莞市, 中山市, 儋州市, 嘉峪关市)."""
    if region.level is regions.RegionLevel.COUNTY:
        return True
    return region.level is regions.RegionLevel.PREFECTURE and not regions.children(region.code)


def address_key(address: str) -> str:
    """An address as compared for duplicates: NFKC (full-width digits), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", address))


def site_key(entry: LedgerEntry) -> tuple[str, str]:
    """(credit code, address key): two rows with the same key describe the same site.

    Raises :class:`~minewatch.reference.credit_code.InvalidCreditCodeError` for a bad code.
    """
    return credit_code.validate(entry.enterprise_uscc), address_key(entry.site_address)
