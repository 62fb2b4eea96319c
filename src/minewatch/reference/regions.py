"""GB/T 2260 administrative divisions: look-up by code or name, hierarchy, retired codes.

The packaged table (``data/regions.csv``) is the 2021 code list plus the groupings it omits
(市辖区, 重庆's 县 and 省/自治区直辖县级行政区划), so every county has a parent. Retired codes and
their successors come from ``data/region_history.csv``. Both are built by
``tools/build_regions.py`` and loaded once, on first use.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from minewatch.errors import MineWatchError

__all__ = [
    "NATIONAL",
    "AmbiguousRegionError",
    "Region",
    "RegionLevel",
    "Succession",
    "UnknownRegionError",
    "all_regions",
    "children",
    "county_prefecture_province",
    "find",
    "find_by_name",
    "get",
    "is_valid_code",
    "is_within",
    "provinces",
    "resolve_name",
    "succession",
]

NATIONAL = "000000"
"""Pseudo-code for the whole country; every code is within it."""

_CODE = re.compile(r"\d{6}")
_SEPARATORS = re.compile(r"[\s,，、/·・\-]+")

# The 55 recognised minority nationalities, as they appear inside names of autonomous units
# (with or without 族), longest first so that alternation prefers the full name.
_ETHNIC_GROUPS = sorted(
    (
        "蒙古",
        "回",
        "藏",
        "维吾尔",
        "苗",
        "彝",
        "壮",
        "布依",
        "朝鲜",
        "满",
        "侗",
        "瑶",
        "白",
        "土家",
        "哈尼",
        "哈萨克",
        "傣",
        "黎",
        "傈僳",
        "佤",
        "畲",
        "高山",
        "拉祜",
        "水",
        "东乡",
        "纳西",
        "景颇",
        "柯尔克孜",
        "土",
        "达斡尔",
        "仫佬",
        "羌",
        "布朗",
        "撒拉",
        "毛南",
        "仡佬",
        "锡伯",
        "阿昌",
        "普米",
        "塔吉克",
        "怒",
        "乌孜别克",
        "俄罗斯",
        "鄂温克",
        "德昂",
        "保安",
        "裕固",
        "京",
        "塔塔尔",
        "独龙",
        "鄂伦春",
        "赫哲",
        "门巴",
        "珞巴",
        "基诺",
    ),
    key=len,
    reverse=True,
)
_AUTONOMOUS = re.compile(r"(.{2,}?)(?:(?:" + "|".join(_ETHNIC_GROUPS) + r")族?)*自治[区州县旗]")
_SUFFIXES = ("特别行政区", "林区", "地区", "新区", "矿区", "省", "市", "县", "区", "盟", "旗")


class RegionLevel(StrEnum):
    """Level of a division in GB/T 2260."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True)
class Region:
    """One GB/T 2260 division, or a grouping (``kind == "grouping"``) such as 市辖区."""

    code: str
    name: str
    level: RegionLevel
    parent_code: str | None
    kind: str

    @property
    def is_grouping(self) -> bool:
        """True for 市辖区, 县 (500200) and 省/自治区直辖县级行政区划, which are not real units."""
        return self.kind == "grouping"

    @property
    def full_name(self) -> str:
        """Names from the province down, without groupings: 110101 → 北京市东城区."""
        names: list[str] = []
        for region in reversed(list(_lineage(self))):
            if region.is_grouping and region is not self:
                continue
            if not names or names[-1] != region.name:
                names.append(region.name)
        return "".join(names)


@dataclass(frozen=True)
class Succession:
    """A retired code, the year it went out of use and the codes that took over its area."""

    code: str
    name: str
    retired_year: int
    successors: tuple[str, ...]


class UnknownRegionError(MineWatchError):
    """A code (or name) that is not in the 2021 GB/T 2260 table; says so for retired codes."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(_unknown_message(code))


class AmbiguousRegionError(MineWatchError):
    """A region name that matches more than one division; ``candidates`` lists them."""

    def __init__(self, text: str, candidates: tuple[Region, ...]) -> None:
        self.text = text
        self.candidates = candidates
        listed = ", ".join(f"{r.code} {r.full_name}" for r in candidates)
        super().__init__(f"{text!r} is ambiguous: it could be {listed}")


@dataclass(frozen=True)
class _Retired:
    name: str
    year: int
    successors: tuple[str, ...]


@dataclass(frozen=True)
class _Tables:
    by_code: dict[str, Region]
    ordered: tuple[Region, ...]
    children: dict[str, tuple[Region, ...]]
    retired: dict[str, _Retired]
    by_name: dict[str, tuple[Region, ...]]
    by_stem: dict[str, tuple[Region, ...]]
    longest_name: int


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("minewatch.reference").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def _tables() -> _Tables:
    ordered = tuple(
        Region(
            code=row["code"],
            name=row["name"],
            level=RegionLevel(row["level"]),
            parent_code=row["parent_code"] or None,
            kind=row["kind"],
        )
        for row in _read("regions.csv")
    )
    kids: dict[str, list[Region]] = {}
    by_name: dict[str, list[Region]] = {}
    by_stem: dict[str, list[Region]] = {}
    for region in ordered:
        if region.parent_code is not None:
            kids.setdefault(region.parent_code, []).append(region)
        by_name.setdefault(region.name, []).append(region)
        for stem in _stems(region.name):
            by_stem.setdefault(stem, []).append(region)
    retired = {
        row["code"]: _Retired(
            name=row["name"],
            year=int(row["retired_year"]),
            successors=tuple(s for s in row["successors"].split(";") if s),
        )
        for row in _read("region_history.csv")
    }
    return _Tables(
        by_code={r.code: r for r in ordered},
        ordered=ordered,
        children={code: tuple(rs) for code, rs in kids.items()},
        retired=retired,
        by_name={name: tuple(rs) for name, rs in by_name.items()},
        by_stem={stem: tuple(rs) for stem, rs in by_stem.items()},
        longest_name=max(len(r.name) for r in ordered),
    )


def _stems(name: str) -> set[str]:
    """Short forms of a name: 四川省 → 四川, 凉山彝族自治州 → 凉山 (never shorter than 2 chars)."""
    autonomous = _AUTONOMOUS.fullmatch(name)
    if autonomous:
        return {autonomous.group(1)}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return {name[: -len(suffix)]}
    return set()


def _lineage(region: Region) -> Iterator[Region]:
    """The region itself, then its parent, and so on up to the province."""
    by_code = _tables().by_code
    current: Region | None = region
    while current is not None:
        yield current
        current = by_code.get(current.parent_code) if current.parent_code else None


def _name_of(code: str) -> str | None:
    tables = _tables()
    if code in tables.by_code:
        return tables.by_code[code].name
    if code in tables.retired:
        return tables.retired[code].name
    return None


def _unknown_message(code: str) -> str:
    found = succession(code) if _CODE.fullmatch(code) else None
    if found is None:
        if _CODE.fullmatch(code):
            return f"{code!r} is not a GB/T 2260 code"
        return f"{code!r} is not a GB/T 2260 code or region name"
    head = f"{found.code} ({found.name}) was retired in {found.retired_year}"
    if not found.successors:
        return f"{head} and has no recorded successor"
    named = [f"{s} ({n})" if (n := _name_of(s)) else s for s in found.successors]
    if len(named) == 1:
        return f"{head}; use {named[0]}"
    return f"{head}; use one of {', '.join(named)}"


def get(code: str) -> Region:
    """The region with this 6-digit code; raises :class:`UnknownRegionError` otherwise."""
    region = find(code)
    if region is None:
        raise UnknownRegionError(code.strip())
    return region


def find(code: str) -> Region | None:
    """The region with this 6-digit code, or None."""
    return _tables().by_code.get(code.strip())


def all_regions() -> tuple[Region, ...]:
    """Every region in the table, groupings included, in code order."""
    return _tables().ordered


def provinces() -> tuple[Region, ...]:
    """The provinces, autonomous regions, municipalities and SARs, in code order."""
    return tuple(r for r in _tables().ordered if r.level is RegionLevel.PROVINCE)


def children(code: str) -> tuple[Region, ...]:
    """Direct children in code order (a municipality's child is its 市辖区 grouping)."""
    return _tables().children.get(get(code).code, ())


def is_valid_code(code: str, include_retired: bool = True) -> bool:
    """True for a code in the 2021 table, or (by default) one that was retired before."""
    tables = _tables()
    code = code.strip()
    return code in tables.by_code or (include_retired and code in tables.retired)


def succession(code: str) -> Succession | None:
    """What became of a retired code; None when the code is current or was never used.

    Successors that were themselves retired later are replaced by their own successors, so the
    codes returned are in the 2021 table wherever the history allows.
    """
    tables = _tables()
    code = code.strip()
    if code in tables.by_code or code not in tables.retired:
        return None
    record = tables.retired[code]
    resolved: list[str] = []
    for successor in record.successors:
        for final in _follow(successor, {code}):
            if final not in resolved:
                resolved.append(final)
    return Succession(code, record.name, record.year, tuple(resolved))


def _follow(code: str, seen: set[str]) -> list[str]:
    tables = _tables()
    record = tables.retired.get(code)
    if code in tables.by_code or record is None or not record.successors or code in seen:
        return [code]
    finals: list[str] = []
    for successor in record.successors:
        finals.extend(_follow(successor, seen | {code}))
    return finals


def county_prefecture_province(code: str) -> tuple[str | None, str | None, str]:
    """Codes of the (county, prefecture, province) a region rolls up to.

    The prefecture is the county's parent, which for counties of municipalities and
    province-direct counties is a grouping (110100 市辖区, 429000 省直辖县级行政区划); check
    :attr:`Region.is_grouping` to leave it out. Unknown codes raise :class:`UnknownRegionError`.
    """
    region = get(code)
    lineage = list(_lineage(region))
    province = lineage[-1].code
    if region.level is RegionLevel.PROVINCE:
        return None, None, province
    if region.level is RegionLevel.PREFECTURE:
        return None, region.code, province
    return region.code, lineage[1].code, province


def is_within(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or lies below it; ``"000000"`` contains everything.

    Codes missing from the table (e.g. retired ones) are placed by their digits.
    """
    code, ancestor = code.strip(), ancestor.strip()
    if ancestor == NATIONAL or code == ancestor:
        return True
    region = find(code)
    if region is not None:
        return any(r.code == ancestor for r in _lineage(region))
    if not (_CODE.fullmatch(code) and _CODE.fullmatch(ancestor)):
        return False
    if ancestor.endswith("0000"):
        return code[:2] == ancestor[:2]
    if ancestor.endswith("00"):
        return code[:4] == ancestor[:4]
    return False


def _normalise(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def find_by_name(name: str, within: str | None = None) -> list[Region]:
    """Regions called exactly ``name``; failing that, those whose name is ``name`` plus a suffix.

    ``find_by_name("雅安")`` finds 雅安市, ``find_by_name("凉山")`` 凉山彝族自治州. Groupings are
    never returned. ``within`` keeps only that code and what lies below it. Results are in code
    order.
    """
    tables = _tables()
    key = _normalise(name)

    def keep(regions: tuple[Region, ...]) -> list[Region]:
        return [
            r
            for r in regions
            if not r.is_grouping and (within is None or is_within(r.code, within))
        ]

    exact = keep(tables.by_name.get(key, ()))
    if exact:
        return exact
    return keep(tables.by_stem.get(key, ()))


def resolve_name(text: str) -> Region:
    """The one region a hierarchical name denotes: "四川省雅安市石棉县", "雅安石棉县" or "石棉县".

    Each part may be a full name or its short form and must lie within the part before it.
    Raises :class:`UnknownRegionError` when nothing matches and :class:`AmbiguousRegionError`
    (a :class:`MineWatchError`) naming the candidates when several regions do.
    """
    key = _normalise(text)
    parses = _parse(key, 0, None, exact=True) if key else []
    if not parses:
        raise UnknownRegionError(text)
    found: dict[str, Region] = {}
    exact: dict[str, Region] = {}
    for region, all_exact in parses:
        found.setdefault(region.code, region)
        if all_exact:
            exact.setdefault(region.code, region)
    for candidates in (found, exact):
        if len(candidates) == 1:
            return next(iter(candidates.values()))
    pool = exact or found
    raise AmbiguousRegionError(text, tuple(pool[c] for c in sorted(pool)))


def _parse(text: str, start: int, scope: Region | None, exact: bool) -> list[tuple[Region, bool]]:
    """Every way to read ``text[start:]`` as names nested within ``scope``."""
    tables = _tables()
    results: list[tuple[Region, bool]] = []
    stop = min(len(text), start + tables.longest_name)
    for end in range(stop, start, -1):
        token = text[start:end]
        matches = [(r, True) for r in tables.by_name.get(token, ())]
        matches += [(r, False) for r in tables.by_stem.get(token, ())]
        for region, is_exact in matches:
            if region.is_grouping and (scope is None or region.parent_code != scope.code):
                continue
            if scope is not None and (region is scope or not is_within(region.code, scope.code)):
                continue
            if end == len(text):
                results.append((region, exact and is_exact))
            else:
                results.extend(_parse(text, end, region, exact and is_exact))
    return results
