"""Chinese street addresses (地址): normalise them into components, and match two of them.

Leads about one site come from sources that write its address differently: the meter customer
archive (``四川省凉山彝族自治州西昌市河西镇建设路12号3栋``), ISP allocation records
(``西昌建设路十二号三幢``), citizens' reports (``西昌市建设路１２号３号楼附近（原红星厂）``) and
inspection notes (``建设路12号3栋`` filed under county 513401). :func:`normalise_address` reads
each into an :class:`Address` of canonical components, with a :attr:`Address.key` for exact
blocking; :func:`match_addresses` says how far two addresses agree and why, so that the leads can
be fused into one case.

The reading is rule-based and offline. Regions (province, prefecture, county) are looked up in the
packaged GB/T 2260 table (:mod:`minewatch.reference.regions`), in full or short form (四川 / 四川省,
凉山 / 凉山州 / 凉山彝族自治州, 西昌 / 西昌市); a missing province or prefecture is inferred from
the county, and a missing region can come from ``region_hint`` (the lead's region code). Below the
county the components are recognised by their suffixes (镇, 乡, 街道; 村, 社区; 组, 社;
路, 街, 大道, 巷, 弄; 工业园区, 开发区, …) and by numbered units (号, 弄, 栋/幢/号楼/座, 单元,
层/楼, 室/房) written in Arabic, full-width or Chinese numerals. What cannot be read is kept
in :attr:`Address.remainder`, never dropped, and lowers :attr:`Address.confidence`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from minewatch.reference import regions
from minewatch.reference.regions import Region, RegionLevel

__all__ = [
    "Address",
    "AddressMatch",
    "MatchLevel",
    "match_addresses",
    "normalise_address",
    "parse_chinese_number",
]

# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "幺": 1,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_chinese_number(text: str) -> int:
    """The value of a house number written in Arabic or Chinese numerals.

    Parameters
    ----------
    text : str
        ``"23"``, ``"二十三"``, ``"十二"``, ``"一百零五"``, ``"两"``, or digit by digit
        (``"一〇五"`` = 105). Full-width digits must already be NFKC-normalised.

    Returns
    -------
    int
        The number.

    Raises
    ------
    ValueError
        When ``text`` is empty or holds anything but numerals.
    """
    if _ASCII_DIGITS.fullmatch(text):
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        raise ValueError(f"{text!r} is not a number in Arabic or Chinese numerals")
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = 0
    current = 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def _canonical_id(text: str) -> str:
    """A number or a lettered id in canonical form: ``"０３"`` → ``"3"``, ``"三"`` → ``"3"``."""
    letters = "".join(ch for ch in text if "A" <= ch <= "Z")
    digits = text[len(letters) :]
    return letters + (str(parse_chinese_number(digits)) if digits else "")


# ---------------------------------------------------------------------------------------------
# Cleaning: NFKC, brackets, separators, noise words
# ---------------------------------------------------------------------------------------------

_OPEN = "([{【〔「『〈《"
_CLOSE = ")]}】〕」』〉》"
_BRACKETED = re.compile(
    "[" + re.escape(_OPEN) + "]([^" + re.escape(_OPEN + _CLOSE) + "]*)[" + re.escape(_CLOSE) + "]"
)
_STRAY_BRACKETS = re.compile("[" + re.escape(_OPEN + _CLOSE) + "]")
_SEPARATORS = re.compile(r"[\s,，、;；。.:：!！?？\"'“”‘’·・|/\\]+")
_DASHES = re.compile(r"[—–‐‑‒―~〜]")
_RANGE_WORD = re.compile(r"(?<=[0-9])至(?=[0-9])")
_LEAD_IN = re.compile(r"^(?:群众|举报人|举报|反映|详细地址|地址|住址|位置|地点|位于|坐落于|在)+")
_FORMER_NAME = re.compile(r"^(?:原名|原|旧称|旧|曾用名|又名|即|现)")

# Words that place a site near something rather than name it; removed, and recorded in notes.
_NOISE = re.compile(
    r"(?:往里|往前|往后|向[东南西北前后里内左右]|沿路)?走?约?[0-9]+(?:\.[0-9]+)?(?:米|公里|千米|KM|M)"
    r"(?:处|左右)?"
    r"|(?:斜对面|对面|旁边|附近|隔壁|周边|一带|往里走|往里|里面|后面|后方|背后|旁)的?"
    r"|[东南西北左右前后]侧"
    r"|(?<=[区园厂院村镇乡社组楼号栋幢场司站室])内"
    r"|(?<=[厂院房])里"
    r"|(?<=路)口"
    r"|(?<=[路街])边"
)


@dataclass(frozen=True)
class _Cleaned:
    text: str
    aside: tuple[str, ...]


def _clean(text: str) -> _Cleaned:
    """NFKC, upper-case letters, brackets set aside, separators removed, dashes unified."""
    norm = unicodedata.normalize("NFKC", text).upper()
    aside: list[str] = []

    def keep_aside(match: re.Match[str]) -> str:
        inner = _SEPARATORS.sub("", match.group(1))
        if inner:
            aside.append(inner)
        return " "

    previous = None
    while previous != norm:
        previous = norm
        norm = _BRACKETED.sub(keep_aside, norm)
    norm = _STRAY_BRACKETS.sub("", norm)
    norm = _SEPARATORS.sub("", norm)
    norm = _DASHES.sub("-", norm)
    norm = _RANGE_WORD.sub("-", norm)
    norm = _LEAD_IN.sub("", norm)
    return _Cleaned(norm, tuple(aside))


# ---------------------------------------------------------------------------------------------
# Regions (GB/T 2260) at the head of the text
# ---------------------------------------------------------------------------------------------

# A short region name (西昌, 中山, 新华) followed by one of these is part of a street-level name
# (西昌路, 中山东路, 新华村), not a region.
_STEM_BLOCKERS = re.compile(
    r"[东西南北中]?(?:路|街|大道|巷|弄|胡同)|街道|镇|乡|村|社区|小区|花园|大厦|广场|公园|宾馆|酒店"
    r"|中学|小学|大学|医院|车站|机场|公司|厂"
)
# After a short name, the tail of the full name that writers keep (凉山自治州, 峨边自治县), or
# a generic suffix of its level: 凉山州, 峨边县, and old names of upgraded counties (康定县 for
# 康定市).
_NAME_TAILS = ("自治州", "自治县", "自治旗", "自治区")
_LEVEL_TAILS = {
    RegionLevel.PROVINCE: ("省",),
    RegionLevel.PREFECTURE: ("地区", "州", "市", "盟"),
    RegionLevel.COUNTY: ("县", "市", "区", "旗"),
}
# A name at the head that looks like a region but is not in the table (火星省, 红旗县).
_REGION_LIKE = re.compile(
    r"[^0-9镇乡村路街道号栋区园组社厂]{1,8}?(?:省|自治区|自治州|州|地区|盟|县(?!道)|市(?![场区民]))"
)


# How far into the text a full region name is looked for when the text does not start with one.
_REGION_SEARCH_CHARS = 12


@cache
def _longest_region_name() -> int:
    return max(len(r.name) for r in regions.all_regions())


@dataclass(frozen=True)
class _Link:
    """One region name read from the text, ending at ``end``."""

    region: Region
    end: int
    exact: bool


def _tail_length(region: Region, text: str, at: int) -> int:
    for tail in _NAME_TAILS:
        if region.name.endswith(tail) and text.startswith(tail, at):
            return len(tail)
    for tail in _LEVEL_TAILS[region.level]:
        if text.startswith(tail, at):
            return len(tail)
    return 0


def _region_chains(text: str, start: int, chain: tuple[_Link, ...]) -> list[tuple[_Link, ...]]:
    """Every reading of the text's head as nested region names (each within the one before)."""
    results = [chain] if chain else []
    scope = chain[-1].region if chain else None
    if scope is not None and scope.level is RegionLevel.COUNTY:
        return results
    for end in range(min(len(text), start + _longest_region_name()), start + 1, -1):
        token = text[start:end]
        for region in regions.find_by_name(token, within=scope.code if scope else None):
            if scope is not None and region.code == scope.code:
                continue
            exact = region.name == token
            stop = end
            if not exact:
                if _STEM_BLOCKERS.match(text, end):
                    continue
                stop = end + _tail_length(region, text, end)
            results.extend(_region_chains(text, stop, (*chain, _Link(region, stop, exact))))
    return results


def _ancestors(region: Region) -> Iterator[Region]:
    """The region, then its parents up to the province, without groupings."""
    current: Region | None = region
    while current is not None:
        if not current.is_grouping:
            yield current
        current = regions.find(current.parent_code) if current.parent_code else None


def _common_ancestor(found: list[Region]) -> Region | None:
    for candidate in _ancestors(found[0]):
        if all(regions.is_within(r.code, candidate.code) for r in found):
            return candidate
    return None


def _compatible(code: str, other: str) -> bool:
    return regions.is_within(code, other) or regions.is_within(other, code)


@dataclass(frozen=True)
class _RegionReading:
    region: Region | None
    end: int
    unread: str
    notes: tuple[str, ...]
    penalty: float


def _read_region(text: str, hint: Region | None, start: int = 0) -> _RegionReading:
    """The region named at ``text[start:]``'s head, how far it runs, and what was doubtful.

    After the head (``start > 0``) only a full name is taken, not a short one: 举报西昌市… is
    西昌市, but 举报新华书店 is not 新华区.
    """
    chains = _region_chains(text, start, ())
    if start > 0:
        chains = [c for c in chains if c[0].exact]
    notes: list[str] = []
    if hint is not None and chains:
        compatible = [c for c in chains if all(_compatible(k.region.code, hint.code) for k in c)]
        # Short names outside the hint's area are more likely street names than a wrong hint.
        chains = compatible or [c for c in chains if all(k.exact for k in c)]
    if not chains:
        return _RegionReading(None, start, "", (), 0.0)
    end = max(c[-1].end for c in chains)
    found: dict[str, Region] = {}
    for chain in chains:
        if chain[-1].end == end:
            found.setdefault(chain[-1].region.code, chain[-1].region)
    if len(found) == 1:
        return _RegionReading(next(iter(found.values())), end, "", (), 0.0)
    listed = ", ".join(f"{code} {r.full_name}" for code, r in sorted(found.items()))
    common = _common_ancestor(list(found.values()))
    notes.append(f"ambiguous region name {text[start:end]!r}: {listed}")
    unread = text[start:end] if common is None else ""
    return _RegionReading(common, end, unread, tuple(notes), 0.2)


# ---------------------------------------------------------------------------------------------
# Components below the county
# ---------------------------------------------------------------------------------------------


class _Kind(StrEnum):
    TOWN = "town"
    PARK = "park"
    VILLAGE = "village"
    GROUP = "group"
    ROAD = "road"
    PLACE = "place"


# Suffix → kind of a named component. At one position the longest suffix wins (街道 over 街).
_NAMED_SUFFIXES: dict[str, _Kind] = {
    **dict.fromkeys(("街道办事处", "街道办", "街道", "镇", "乡"), _Kind.TOWN),
    **dict.fromkeys(
        (
            "高新技术产业开发区",
            "经济技术开发区",
            "经济开发区",
            "工业集中发展区",
            "工业集中区",
            "工业园区",
            "产业园区",
            "工业园",
            "产业园",
            "物流园",
            "科技园",
            "开发区",
            "高新区",
            "工业区",
            "园区",
        ),
        _Kind.PARK,
    ),
    **dict.fromkeys(("村民委员会", "村委会", "村", "社区居委会", "社区", "居委会"), _Kind.VILLAGE),
    **dict.fromkeys(("村民小组",), _Kind.GROUP),
    **dict.fromkeys(
        ("大道", "大街", "国道", "省道", "县道", "公路", "胡同", "路", "街", "巷", "弄", "道"),
        _Kind.ROAD,
    ),
    **dict.fromkeys(
        (
            "小区",
            "花园",
            "大厦",
            "广场",
            "公寓",
            "家园",
            "山庄",
            "厂区",
            "厂房",
            "车间",
            "库房",
            "厂",
            "公司",
            "水电站",
            "电站",
            "矿山",
            "矿",
            "基地",
            "仓库",
            "学校",
            "大学",
            "医院",
            "宾馆",
            "酒店",
            "市场",
            "大楼",
            "机房",
            "数据中心",
            "中学",
            "小学",
            "学院",
        ),
        _Kind.PLACE,
    ),
}
_NAMED = re.compile("|".join(sorted(map(re.escape, _NAMED_SUFFIXES), key=len, reverse=True)))
# A suffix followed by another suffix is inside a longer name: 新村路, 工厂街, 鹿厂镇, 大桥村电站.
_INSIDE_NAME = re.compile(r"[东西南北中]?(?:路|街|大道|巷)|" + _NAMED.pattern)
_CANONICAL_SUFFIX = {
    "街道办事处": "街道",
    "街道办": "街道",
    "村民委员会": "村",
    "村委会": "村",
    "社区居委会": "社区",
    "居委会": "社区",
}
_PARK_SUFFIXES = tuple(s for s, k in _NAMED_SUFFIXES.items() if k is _Kind.PARK)
_TOWN_SUFFIXES = ("街道", "镇", "乡")
_VILLAGE_SUFFIXES = ("社区", "村")

_N = r"(?:[0-9]+|[零〇幺一二两三四五六七八九十百千]+)"
_ID = rf"(?:[A-Z][0-9]*|{_N})"
_NOT_ROAD = r"(?!路|街|巷|大道|大街|线|桥|公路)"
# After 12号, "-3" is a sub-number unless a unit follows: 12号-3栋 is building 3, 12号-1层 a floor.
_NOT_UNIT = r"(?![0-9零〇幺一二两三四五六七八九十百千]|栋|幢|座|层|楼|单元|室|房|号楼|#楼)"
_NUMBERED: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "building",
        re.compile(
            rf"第?(?P<a>{_ID})(?:号楼|#楼|号厂房|号车间|号仓库|号库房|号厂|栋楼?|幢楼?|座楼?)"
        ),
    ),
    ("unit", re.compile(rf"第?(?P<a>{_N})单元")),
    ("triple", re.compile(r"(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)(?:号|室)?")),
    (
        "number",
        re.compile(
            rf"第?(?P<a>{_N})(?:[-之附](?P<b>{_N}))?(?:号院|号|#)(?:[之附-](?P<c>{_N}){_NOT_UNIT}号?)?{_NOT_ROAD}"
        ),
    ),
    ("lane", re.compile(rf"(?P<a>{_N})弄")),
    (
        "section",
        re.compile(rf"(?:(?P<direction>[东西南北中])(?P<a>{_N})?|(?P<b>{_N}))段"),
    ),
    ("group", re.compile(rf"第?(?P<a>{_N})(?:村民小组|小组|组|社(?!区)|队)")),
    (
        "floor",
        re.compile(
            rf"(?:负|地下|-)(?P<neg>{_N})(?:层|楼)|B(?P<bneg>[0-9]+)(?:层|楼)?"
            rf"|第?(?P<a>{_N})(?:层|楼(?!号))|F(?P<f>[0-9]+)|(?P<g>[0-9]+)F"
        ),
    ),
    ("room", re.compile(rf"(?P<a>[A-Z]?{_N})(?:室|号房|房)")),
    ("bare", re.compile(r"(?P<a>[0-9]+)(?:-(?P<b>[0-9]+))?(?![\u4e00-\u9fff0-9])")),
)


@dataclass
class _Slots:
    """Mutable state while one address is read; frozen into an :class:`Address` at the end."""

    town: str | None = None
    park: str | None = None
    village: str | None = None
    group: str | None = None
    road: str | None = None
    lane: str | None = None
    number: str | None = None
    sub_number: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    places: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    def leave(self, text: str) -> None:
        """Keep unread text for the remainder, unless it is only a dash."""
        if text.strip("-"):
            self.leftovers.append(text)

    def below_number(self) -> bool:
        return any(v is not None for v in (self.building, self.unit, self.floor, self.room))

    def put(self, name: str, value: str, text: str) -> None:
        """Fill an empty slot; a second value for a filled slot goes to the remainder."""
        if getattr(self, name) is None:
            setattr(self, name, value)
        else:
            self.leftovers.append(text)


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _put_named(slots: _Slots, kind: _Kind, name: str, suffix: str) -> None:
    canonical = name[: -len(suffix)] + _CANONICAL_SUFFIX.get(suffix, suffix)
    if kind is _Kind.PLACE:
        slots.places.append(canonical)
    else:
        slots.put(kind.value, canonical, name)


def _put_numbered(slots: _Slots, kind: str, match: re.Match[str]) -> None:
    groups = {
        k: v if k == "direction" else _canonical_id(v)
        for k, v in match.groupdict().items()
        if v is not None
    }
    text = match.group(0)
    if kind == "section":  # 人民南路四段 is a road of its own
        if slots.road is not None and not slots.road.endswith("段"):
            slots.road += f"{groups.get('direction', '')}{groups.get('a') or groups.get('b', '')}段"
        else:
            slots.leftovers.append(text)
        return
    a, b, c = groups.get("a"), groups.get("b"), groups.get("c")
    if kind in ("building", "unit", "lane", "group", "room") and a is not None:
        slots.put(kind, a, text)
    elif kind == "floor":
        negative = groups.get("neg") or groups.get("bneg")
        value = f"-{negative}" if negative else a or groups.get("f") or groups.get("g")
        if value is not None:
            slots.put("floor", value, text)
    elif kind == "triple" and a is not None and b is not None and c is not None:
        if slots.number is None and (slots.road or slots.lane) and not slots.below_number():
            slots.number, slots.building, slots.room = a, b, c
        else:
            slots.put("building", a, text)
            slots.put("unit", b, text)
            slots.put("room", c, text)
    elif kind == "number" and a is not None:
        sub = b or c
        if slots.number is None and not slots.below_number():
            slots.number, slots.sub_number = a, sub
        elif slots.below_number() or slots.number is not None:
            slots.put("room", a if sub is None else f"{a}-{sub}", text)
    elif kind == "bare" and a is not None:
        if slots.number is None and not slots.below_number():
            slots.number, slots.sub_number = a, b
        elif b is None:
            slots.put("room", a, text)
        else:
            if slots.building is None:
                slots.building = a
            elif slots.unit is None:
                slots.unit = a
            slots.put("room", b, text)


def _match_numbered(text: str, at: int) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in _NUMBERED:
        match = pattern.match(text, at)
        if match is not None and match.end() > at:
            return kind, match
    return None


def _next_numbered(text: str, after: int) -> int | None:
    starts = [
        m.start() for _, p in _NUMBERED if (m := p.search(text, after)) and m.end() > m.start()
    ]
    return min(starts, default=None)


def _next_named(text: str, at: int) -> re.Match[str] | None:
    """The first suffix after ``at`` that ends a named component (not one inside a road name)."""
    search_from = at
    while (match := _NAMED.search(text, search_from)) is not None:
        search_from = match.start() + 1
        kind = _NAMED_SUFFIXES[match.group(0)]
        if match.start() == at and not (kind is _Kind.PARK and len(match.group(0)) >= 3):
            continue  # a suffix with no name, except a zone named by itself (成都高新区)
        if kind is not _Kind.ROAD and _INSIDE_NAME.match(text, match.end()):
            continue
        return match
    return None


def _read_components(text: str, slots: _Slots) -> None:
    """Read ``text`` (below the county) left to right into ``slots``."""
    at = 0
    while at < len(text):
        numbered = _match_numbered(text, at)
        if numbered is not None:
            _put_numbered(slots, *numbered)
            at = numbered[1].end()
            continue
        named = _next_named(text, at)
        next_number = _next_numbered(text, at + 1)
        if named is not None and (next_number is None or named.start() < next_number):
            suffix = named.group(0)
            _put_named(slots, _NAMED_SUFFIXES[suffix], text[at : named.end()], suffix)
            at = named.end()
        elif next_number is not None:
            slots.leave(text[at:next_number])
            at = next_number
        else:
            slots.leave(text[at:])
            break


# ---------------------------------------------------------------------------------------------
# The address
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A Chinese street address read into canonical components.

    Attributes
    ----------
    text : str
        The address as given.
    province_code, prefecture_code, county_code : str or None
        GB/T 2260 codes, from the text, inferred from a lower level, or from ``region_hint``.
        Groupings (市辖区, 省直辖县级行政区划) are left out, so a district of a municipality has a
        county and a province but no prefecture.
    town : str or None
        Township level, suffix canonical: ``河西镇``, ``经久乡``, ``长安街道`` (街道办事处 → 街道).
    park : str or None
        Industrial park or development zone as written: ``经久工业园区``.
    village : str or None
        ``红星村``, ``新华社区`` (村委会 → 村, 居委会 → 社区).
    group : str or None
        Villagers' group (组, 社, 队): ``"3"``.
    road : str or None
        ``建设路``, ``人民大街``, ``108国道``.
    lane : str or None
        Lane number (弄) on the road: ``"123"``.
    number, sub_number : str or None
        House number (号) and its sub-number: ``12-3号`` and ``12号之3`` are ``"12"``, ``"3"``.
    building, unit, floor, room : str or None
        栋/幢/号楼/座/号厂房, 单元, 层/楼 (negative below ground), 室/房; numbers in Arabic digits,
        letters upper-case: ``"3"``, ``"A"``, ``"-1"``, ``"501"``.
    places : tuple of str
        Named places that are not addresses: ``红星厂``, ``阳光小区``, ``大桥水电站``.
    remainder : str
        What could not be read, pieces separated by a space; empty when everything was read.
    aside : tuple of str
        Contents of brackets, kept apart: ``（原红星厂）`` → ``"原红星厂"``.
    confidence : float
        How sure the reading is, in [0, 1]; lowered by unknown or ambiguous region names, a
        region taken only from the hint, unread text and noise words.
    notes : tuple of str
        Why confidence was lowered, and where each region came from.
    """

    text: str
    province_code: str | None = None
    prefecture_code: str | None = None
    county_code: str | None = None
    town: str | None = None
    park: str | None = None
    village: str | None = None
    group: str | None = None
    road: str | None = None
    lane: str | None = None
    number: str | None = None
    sub_number: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    places: tuple[str, ...] = ()
    remainder: str = ""
    aside: tuple[str, ...] = ()
    confidence: float = 1.0
    notes: tuple[str, ...] = ()

    @property
    def region_code(self) -> str | None:
        """The most specific region code known: county, else prefecture, else province."""
        return self.county_code or self.prefecture_code or self.province_code

    @property
    def key(self) -> str:
        """A canonical string for exact blocking: region code, then the components, "/"-joined.

        ``513401/河西镇/建设路/12-3号/3栋/2单元/5层/501室``; ``*`` stands for an unknown region.
        Free text (places, remainder, brackets) is left out so that spellings of a landmark do not
        split a block; :func:`match_addresses` compares it.
        """
        parts = [self.region_code or "*"]
        parts += [
            part
            for part in (
                self.town,
                _park_key(self.park),
                self.village,
                _group_label(self.group),
                self.road,
                f"{self.lane}弄" if self.lane else None,
                _number_label(self.number, self.sub_number),
                f"{self.building}栋" if self.building else None,
                f"{self.unit}单元" if self.unit else None,
                f"{self.floor}层" if self.floor else None,
                f"{self.room}室" if self.room else None,
            )
            if part
        ]
        return "/".join(parts)


def _park_stem(park: str) -> str:
    return _strip_suffix(park, _PARK_SUFFIXES)


def _park_key(park: str | None) -> str | None:
    """经久工业园区 and 经久园区 → 经久园区; a zone named only by its kind (高新区) stays as is."""
    if park is None:
        return None
    stem = _park_stem(park)
    return park if stem == park else stem + "园区"


def _group_label(group: str | None) -> str | None:
    if group is None:
        return None
    return f"{group}组" if group.isdigit() else group


def _number_label(number: str | None, sub_number: str | None) -> str | None:
    if number is None:
        return None
    return f"{number}-{sub_number}号" if sub_number else f"{number}号"


def _resolve_hint(region_hint: str | None) -> tuple[Region | None, str | None]:
    """The hint's region and, for a retired code with one successor, a note saying so."""
    if region_hint is None:
        return None, None
    region = regions.find(region_hint)
    if region is not None:
        return region, None
    retired = regions.succession(region_hint)
    if retired is not None and len(retired.successors) == 1:
        successor = regions.find(retired.successors[0])
        if successor is not None:
            note = (
                f"region_hint {retired.code} ({retired.name}) was retired in "
                f"{retired.retired_year}; read as {successor.code} {successor.name}"
            )
            return successor, note
    raise ValueError(f"region_hint {region_hint!r} is not a current GB/T 2260 code")


def normalise_address(text: str, *, region_hint: str | None = None) -> Address:
    """Read a Chinese address into canonical components.

    Parameters
    ----------
    text : str
        The address as a source wrote it: any mix of full-width and half-width characters,
        spaces, brackets, Chinese or Arabic numerals, with or without province, prefecture and
        county.
    region_hint : str, optional
        A GB/T 2260 code known from elsewhere (the lead's ``region_code``). It fills in the
        region when the text names none or only a higher level, and settles names shared by
        several regions. When the text names a region outside it, the text wins and the
        conflict is noted.

    Returns
    -------
    Address
        The components, the unread remainder, a confidence and notes.

    Raises
    ------
    ValueError
        When ``text`` is empty or only whitespace, or ``region_hint`` is neither a current
        GB/T 2260 code nor a retired one with a single successor.
    """
    if not isinstance(text, str):
        raise TypeError(f"an address must be text, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("an address cannot be empty or only whitespace")
    hint, hint_note = _resolve_hint(region_hint)
    cleaned = _clean(text)
    notes: list[str] = [hint_note] if hint_note else []
    confidence = 1.0

    reading = _read_region(cleaned.text, hint)
    slots = _Slots()
    before = (
        ""  # text before a region name that is not at the head: 据说|西昌市…, 建设路12号|西昌市
    )
    for start in range(1, min(len(cleaned.text), _REGION_SEARCH_CHARS)):
        if reading.region is not None or reading.unread:
            break
        later = _read_region(cleaned.text, hint, start)
        if later.region is not None:
            before, reading = cleaned.text[:start], later
    notes += reading.notes
    confidence -= reading.penalty
    rest = cleaned.text[reading.end :]
    if reading.unread:
        slots.leftovers.append(reading.unread)
    if reading.region is None or reading.region.level is not RegionLevel.COUNTY:
        while (unknown := _REGION_LIKE.match(rest)) is not None:
            slots.leftovers.append(unknown.group(0))
            notes.append(f"unrecognised region name {unknown.group(0)!r}")
            confidence -= 0.2
            rest = rest[unknown.end() :]

    region = reading.region
    if region is None and not reading.unread:
        for aside in cleaned.aside:  # （西昌）建设路5号
            bracketed = _read_region(aside, hint)
            if bracketed.region is not None and bracketed.end == len(aside):
                region = bracketed.region
                notes.append(f"region {region.code} from brackets {aside!r}")
                break
    if region is not None and region is reading.region:
        notes.append(f"region {region.code} {region.full_name} from the text")
    if hint is not None:
        if region is None:
            region = hint
            notes.append(f"region {hint.code} from region_hint")
            confidence -= 0.1
        elif regions.is_within(hint.code, region.code):
            if hint.code != region.code:
                notes.append(f"narrowed to {hint.code} by region_hint")
            region = hint
        elif not regions.is_within(region.code, hint.code):
            notes.append(f"the text's region {region.code} is outside region_hint {hint.code}")
            confidence -= 0.2

    noise = _NOISE.findall(before) + _NOISE.findall(rest)
    if noise:
        before, rest = _NOISE.sub("", before), _NOISE.sub("", rest)
        notes.append("noise words removed: " + ", ".join(noise))
        confidence -= 0.05
    _read_components(before, slots)  # apart from the rest, so that no name spans the region
    _read_components(rest, slots)

    county = prefecture = province = None
    if region is not None:
        county, prefecture, province = regions.county_prefecture_province(region.code)
        if prefecture is not None and regions.get(prefecture).is_grouping:
            prefecture = None
    else:
        notes.append("no region: neither the text nor region_hint names one")
        confidence -= 0.3
    street_level = (slots.town, slots.park, slots.village, slots.road, *slots.places)
    if not any(street_level):
        confidence -= 0.2
    remainder = " ".join(piece for piece in slots.leftovers if piece)
    if remainder:
        confidence -= 0.1
        notes.append(f"unread: {remainder}")
    read_anything = region is not None or any(
        v is not None
        for v in (*street_level, slots.group, slots.number, slots.building, slots.room)
    )
    if not read_anything:
        confidence = min(confidence, 0.05)
    return Address(
        text=text,
        province_code=province,
        prefecture_code=prefecture,
        county_code=county,
        town=slots.town,
        park=slots.park,
        village=slots.village,
        group=slots.group,
        road=slots.road,
        lane=slots.lane,
        number=slots.number,
        sub_number=slots.sub_number,
        building=slots.building,
        unit=slots.unit,
        floor=slots.floor,
        room=slots.room,
        places=tuple(slots.places),
        remainder=remainder,
        aside=cleaned.aside,
        confidence=round(max(0.0, min(1.0, confidence)), 2),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------


class MatchLevel(StrEnum):
    """The most specific component on which two addresses agree, most general first."""

    NONE = "none"
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"
    TOWN = "town"
    PARK = "park"
    VILLAGE = "village"
    GROUP = "group"
    ROAD = "road"
    LANE = "lane"
    NUMBER = "number"
    BUILDING = "building"
    UNIT = "unit"
    FLOOR = "floor"
    ROOM = "room"

    def at_least(self, other: MatchLevel) -> bool:
        """True when this level is ``other`` or more specific: ROOM.at_least(BUILDING)."""
        order = list(MatchLevel)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class AddressMatch:
    """How far two addresses agree.

    Attributes
    ----------
    score : float
        In [0, 1]: evidence from agreeing components, cut hard by conflicting ones.
    level : MatchLevel
        The most specific component on which they agree before the first conflict.
    reasons : tuple of str
        One line per component compared, e.g. ``"same county 513401 西昌市"``,
        ``"same road 建设路"``, ``"number differs: 12号 vs 14号"``.
    """

    score: float
    level: MatchLevel
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Facet:
    """One component as matching sees it: its weight when equal, its penalty when not."""

    level: MatchLevel
    label: str
    agree_weight: float
    conflict_penalty: float
    value: Callable[[Address], str | None]
    shown: Callable[[Address], str | None]


def _numbered_on_same_base(a: Address, b: Address) -> bool:
    """House and lane numbers compare only when both hang on the same road, or both on none."""
    return (a.road is None) == (b.road is None)


def _group_label_of(address: Address) -> str | None:
    return _group_label(address.group)


def _number_label_of(address: Address) -> str | None:
    return _number_label(address.number, address.sub_number)


def _region_label(code: str | None) -> str | None:
    region = regions.find(code) if code else None
    return f"{code} {region.name}" if region is not None else code


_REGION_PENALTY = 3.5
_FACETS: tuple[_Facet, ...] = (
    _Facet(
        MatchLevel.PROVINCE,
        "province",
        0.1,
        _REGION_PENALTY,
        lambda x: x.province_code,
        lambda x: _region_label(x.province_code),
    ),
    _Facet(
        MatchLevel.PREFECTURE,
        "prefecture",
        0.3,
        _REGION_PENALTY,
        lambda x: x.prefecture_code,
        lambda x: _region_label(x.prefecture_code),
    ),
    _Facet(
        MatchLevel.COUNTY,
        "county",
        0.6,
        _REGION_PENALTY,
        lambda x: x.county_code,
        lambda x: _region_label(x.county_code),
    ),
    _Facet(
        MatchLevel.TOWN,
        "town",
        1.5,
        2.5,
        lambda x: _strip_suffix(x.town, _TOWN_SUFFIXES) if x.town else None,
        lambda x: x.town,
    ),
    _Facet(
        MatchLevel.PARK,
        "park",
        1.5,
        2.0,
        lambda x: _park_stem(x.park) if x.park else None,
        lambda x: x.park,
    ),
    _Facet(
        MatchLevel.VILLAGE,
        "village",
        2.0,
        2.5,
        lambda x: _strip_suffix(x.village, _VILLAGE_SUFFIXES) if x.village else None,
        lambda x: x.village,
    ),
    _Facet(MatchLevel.GROUP, "group", 1.0, 1.5, lambda x: x.group, _group_label_of),
    _Facet(MatchLevel.ROAD, "road", 2.0, 2.0, lambda x: x.road, lambda x: x.road),
    _Facet(MatchLevel.LANE, "lane", 1.0, 2.5, lambda x: x.lane, lambda x: x.lane),
    _Facet(MatchLevel.NUMBER, "number", 2.5, 3.0, lambda x: x.number, _number_label_of),
    _Facet(MatchLevel.BUILDING, "building", 1.5, 2.5, lambda x: x.building, lambda x: x.building),
    _Facet(MatchLevel.UNIT, "unit", 0.75, 1.5, lambda x: x.unit, lambda x: x.unit),
    _Facet(MatchLevel.FLOOR, "floor", 0.5, 0.7, lambda x: x.floor, lambda x: x.floor),
    _Facet(MatchLevel.ROOM, "room", 1.0, 1.0, lambda x: x.room, lambda x: x.room),
)
_SUB_NUMBER_WEIGHT = 0.5
_SUB_NUMBER_PENALTY = 1.5
_LANDMARK_WEIGHT = 1.5
_LANDMARK_SIMILARITY = 0.5
_UNANCHORED_FACTOR = 0.5
_ANCHORS = frozenset(
    (MatchLevel.PREFECTURE, MatchLevel.COUNTY, MatchLevel.TOWN, MatchLevel.PARK, MatchLevel.VILLAGE)
)
_EVIDENCE_SCALE = 4.0


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def _similarity(x: str, y: str) -> float:
    """Dice coefficient of character bigrams, in [0, 1]."""
    bx, by = _bigrams(x), _bigrams(y)
    return 2 * len(bx & by) / (len(bx) + len(by))


def _landmarks(address: Address) -> list[str]:
    """Named places, unread pieces and bracketed (former) names, 原 and the like stripped."""
    names = [*address.places, *address.remainder.split()]
    names += [_FORMER_NAME.sub("", aside) for aside in address.aside]
    return [name for name in names if len(name) >= 2]


def _best_landmark(a: Address, b: Address) -> tuple[float, str, str] | None:
    best: tuple[float, str, str] | None = None
    for x in _landmarks(a):
        for y in _landmarks(b):
            similarity = _similarity(x, y)
            if best is None or similarity > best[0]:
                best = (similarity, x, y)
    return best


def match_addresses(a: Address, b: Address) -> AddressMatch:
    """How far two addresses agree, component by component from the province down.

    Components are compared most general first. One that is missing on either side is passed
    over (neutral). Equal components add evidence; the first pair that differs is a conflict: it
    cuts the score by ``exp(-penalty)`` (a different county by ``exp(-3.5)`` ≈ 0.03, a different
    house number on the same road by ``exp(-3)`` ≈ 0.05) and nothing below it is compared. House
    and lane numbers are compared only when both addresses hang them on the same road, or both on
    none. Landmarks (places, unread text, former names in brackets) add evidence when similar
    but never conflict. With no shared prefecture, county, town, park or village, the evidence
    is halved: 人民路12号 is in every county.

    Parameters
    ----------
    a, b : Address
        Addresses from :func:`normalise_address`.

    Returns
    -------
    AddressMatch
        ``score = (1 - exp(-evidence / 4)) * exp(-penalty) * anchoring``, in [0, 1]; the level;
        the reasons.
    """
    evidence = 0.0
    penalty = 0.0
    level = MatchLevel.NONE
    reasons: list[str] = []
    for facet in _FACETS:
        if facet.level in (MatchLevel.LANE, MatchLevel.NUMBER) and not _numbered_on_same_base(a, b):
            if a.number is not None and b.number is not None:
                reasons.append("house numbers not compared: only one address names a road")
            continue
        va, vb = facet.value(a), facet.value(b)
        if va is None or vb is None:
            if va is not None or vb is not None:
                reasons.append(f"{facet.label} {facet.shown(a) or facet.shown(b)} on one side only")
            continue
        if va != vb:
            penalty += facet.conflict_penalty
            reasons.append(f"{facet.label} differs: {facet.shown(a)} vs {facet.shown(b)}")
            break
        if facet.level is MatchLevel.NUMBER and a.sub_number and b.sub_number:
            if a.sub_number != b.sub_number:
                penalty += _SUB_NUMBER_PENALTY
                reasons.append(f"sub-number differs: {facet.shown(a)} vs {facet.shown(b)}")
                break
            evidence += _SUB_NUMBER_WEIGHT
        evidence += facet.agree_weight
        level = facet.level
        shown_a, shown_b = facet.shown(a), facet.shown(b)
        same = shown_a if shown_a == shown_b else f"{shown_a} ~ {shown_b}"
        reasons.append(f"same {facet.label} {same}")
    landmark = _best_landmark(a, b)
    if landmark is not None and landmark[0] >= _LANDMARK_SIMILARITY:
        similarity, x, y = landmark
        evidence += _LANDMARK_WEIGHT * similarity
        same = x if x == y else f"{x} ~ {y}"
        reasons.append(f"same landmark {same} (similarity {similarity:.2f})")
    anchored = any(
        f.level in _ANCHORS and f.value(a) is not None and f.value(a) == f.value(b) for f in _FACETS
    )
    factor = 1.0
    if evidence > 0 and not anchored:
        factor = _UNANCHORED_FACTOR
        reasons.append("no shared prefecture, county, town, park or village: evidence halved")
    score = (1 - math.exp(-evidence / _EVIDENCE_SCALE)) * math.exp(-penalty) * factor
    if evidence == 0 and penalty == 0:
        reasons.append("nothing to compare: no component is known on both sides")
    return AddressMatch(score=round(score, 4), level=level, reasons=tuple(reasons))
