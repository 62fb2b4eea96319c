"""A demo province's mining-project ledger (项目台账), week by week through the crackdown.

:func:`generate_demo_province` invents, from a seed, the enterprises of one province and the
ledger changes its counties and the grid company record over a number of weeks after notice
发改运行〔2021〕1283号 (September 2021):

* in the first week most projects are registered (operating or in construction); each later week
  fewer new ones are found, and network monitoring and public reports find more of them;
* registered projects progress operating → shut down → cleared and in construction → cleared
  (construction halted); figures, exit deadlines and officials get corrected; a few cleared sites
  are found mining again (relapse);
* by the last week most projects are shut down or cleared.

Every change carries the project's full new ledger row; no change repeats the row before it.
Projects keep their code (``XM-<county>-<nnnn>``, numbered per county in order of registration),
enterprise and site address. Times are Monday–Friday office hours in Asia/Shanghai, in UTC.

For Sichuan (510000) projects are concentrated in the hydro-power prefectures 雅安, 甘孜, 阿坝,
凉山 and 乐山, with some big-data sites around 成都; any other province's counties get a mild
random weighting (a few known mining areas, e.g. 鄂尔多斯 or 准东, a little more). Everything is
invented except the regions and the hardware catalogue; credit codes are valid GB 32100 codes
registered in the enterprise's county, and names only look like real ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from minewatch.reference import credit_code, regions
from minewatch.reference.hardware import MinerModel, catalogue
from minewatch.reference.ledger import (
    DiscoveryMethod,
    EnterpriseKind,
    HashrateUnit,
    LedgerEntry,
    MachineCount,
    ProjectStatus,
    SiteType,
    SupplyKind,
)
from minewatch.reference.regions import Region, RegionLevel

__all__ = ["DemoEnterprise", "DemoProvince", "LedgerChange", "generate_demo_province"]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoEnterprise:
    """An enterprise (or state-owned unit) behind one or more projects."""

    uscc: str
    name: str
    legal_representative: str
    address: str
    region_code: str
    state_owned: bool
    kind: EnterpriseKind


@dataclass(frozen=True)
class LedgerChange:
    """One recorded change: who, when (UTC), why, and the project's full new ledger row."""

    at: datetime
    actor: str
    reason: str
    entry: LedgerEntry


@dataclass(frozen=True)
class DemoProvince:
    """A generated province: its enterprises and its ledger changes, sorted by time."""

    province_code: str
    seed: int
    weeks: tuple[date, ...]
    enterprises: tuple[DemoEnterprise, ...]
    changes: tuple[LedgerChange, ...]

    def week_end(self, index: int) -> datetime:
        """The first instant (UTC) after week ``index`` (next Monday 00:00 Asia/Shanghai)."""
        return _local(self.weeks[index] + timedelta(days=7), 0)

    def ledger_as_of(self, moment: datetime) -> dict[str, LedgerEntry]:
        """The ledger just before ``moment``: project code → its latest row."""
        ledger: dict[str, LedgerEntry] = {}
        for change in self.changes:
            if change.at >= moment:
                break
            assert change.entry.project_code is not None
            ledger[change.entry.project_code] = change.entry
        return ledger


def generate_demo_province(
    seed: int = 1283,
    *,
    province_code: str = "510000",
    weeks: int = 8,
    first_week: date = date(2021, 9, 27),
    n_projects: int = 400,
) -> DemoProvince:
    """Invent a province's enterprises and ``weeks`` weeks of ledger changes for ``n_projects``
    projects (exactly that many project codes), deterministically from ``seed``.

    ``first_week`` is moved back to its Monday. Raises ``ValueError`` for a code that is not a
    province with counties, fewer than one week or a negative number of projects.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    if n_projects < 0:
        raise ValueError(f"n_projects must not be negative ({n_projects})")
    province = regions.get(province_code)
    if province.level != RegionLevel.PROVINCE:
        raise ValueError(f"{province_code} ({province.name}) is not a province-level code")
    monday = first_week - timedelta(days=first_week.weekday())
    mondays = tuple(monday + timedelta(weeks=i) for i in range(weeks))
    generator = _Generator(random.Random(seed), province, mondays)
    enterprises, changes = generator.run(n_projects)
    return DemoProvince(
        province_code=province.code,
        seed=seed,
        weeks=mondays,
        enterprises=tuple(enterprises),
        changes=tuple(changes),
    )


# --- reference tables for the invention --------------------------------------------------------

# Sichuan: prefecture weight per county (hydro areas heavy, 成都 for big-data sites).
_SICHUAN_PREFECTURE_WEIGHTS = {
    "5118": 6.0,  # 雅安
    "5133": 3.0,  # 甘孜
    "5132": 3.0,  # 阿坝
    "5134": 2.0,  # 凉山
    "5111": 2.5,  # 乐山
    "5101": 0.8,  # 成都
}
_SICHUAN_HYDRO = ("5118", "5133", "5132", "5134", "5111")
# Counties known for hydro-powered mining, and where they are (longitude, latitude).
_COUNTY_POINTS = {
    "511824": (102.36, 29.23, 3.0),  # 石棉
    "511823": (102.65, 29.35, 2.5),  # 汉源
    "511822": (102.85, 29.79, 1.5),  # 荥经
    "511825": (102.76, 30.07, 1.5),  # 天全
    "511827": (102.81, 30.37, 1.5),  # 宝兴
    "511802": (103.03, 29.98, 1.0),  # 雨城
    "513301": (101.96, 30.05, 2.5),  # 康定
    "513322": (102.23, 29.91, 2.5),  # 泸定
    "513323": (101.89, 30.88, 2.0),  # 丹巴
    "513324": (101.51, 29.00, 2.0),  # 九龙
    "513227": (102.36, 31.00, 2.0),  # 小金
    "513226": (102.06, 31.48, 1.5),  # 金川
    "513221": (103.59, 31.48, 2.0),  # 汶川
    "513201": (102.21, 31.90, 1.5),  # 马尔康
    "513422": (101.28, 27.93, 2.0),  # 木里
    "513433": (102.17, 28.55, 1.5),  # 冕宁
    "513435": (102.77, 28.96, 1.5),  # 甘洛
    "513401": (102.26, 27.89, 1.0),  # 西昌
    "511113": (103.08, 29.25, 2.0),  # 金口河
    "511132": (103.26, 29.23, 2.0),  # 峨边
    "511111": (103.55, 29.41, 1.5),  # 沙湾
    "511112": (103.82, 29.41, 1.5),  # 五通桥
    "510116": (103.92, 30.57, 1.0),  # 双流
    "510117": (103.89, 30.81, 1.0),  # 郫都
}
# Prefectures (Sichuan, Inner Mongolia, Xinjiang): centre and half-extent (lon, lat, ±lon, ±lat).
_PREFECTURE_AREAS = {
    "5101": (103.95, 30.65, 0.45, 0.35),
    "5103": (104.78, 29.35, 0.25, 0.2),
    "5104": (101.72, 26.58, 0.3, 0.3),
    "5105": (105.44, 28.6, 0.4, 0.4),
    "5106": (104.3, 31.2, 0.3, 0.25),
    "5107": (104.7, 31.75, 0.5, 0.5),
    "5108": (105.84, 32.3, 0.5, 0.3),
    "5109": (105.59, 30.53, 0.25, 0.25),
    "5110": (105.0, 29.6, 0.25, 0.2),
    "5111": (103.6, 29.4, 0.4, 0.3),
    "5113": (106.1, 31.0, 0.4, 0.4),
    "5114": (103.7, 30.0, 0.3, 0.25),
    "5115": (104.5, 28.5, 0.5, 0.4),
    "5116": (106.63, 30.45, 0.3, 0.2),
    "5117": (107.6, 31.3, 0.5, 0.4),
    "5118": (102.8, 29.9, 0.3, 0.5),
    "5119": (106.9, 32.0, 0.4, 0.3),
    "5120": (104.8, 30.0, 0.3, 0.2),
    "5132": (102.4, 32.2, 1.2, 1.2),
    "5133": (100.5, 30.5, 1.6, 1.8),
    "5134": (102.3, 27.8, 1.2, 1.0),
    "1501": (111.7, 40.7, 0.5, 0.4),
    "1502": (110.0, 41.0, 0.6, 0.6),
    "1503": (106.8, 39.6, 0.15, 0.2),
    "1504": (118.9, 42.6, 1.3, 1.0),
    "1505": (122.0, 43.8, 1.2, 0.9),
    "1506": (108.8, 39.5, 1.3, 0.8),
    "1507": (120.5, 49.5, 2.5, 2.0),
    "1508": (107.6, 41.2, 1.2, 0.7),
    "1509": (112.8, 41.4, 1.0, 0.8),
    "1522": (121.8, 46.3, 1.2, 0.9),
    "1525": (115.5, 43.8, 2.2, 1.2),
    "1529": (102.5, 40.0, 3.0, 1.8),
    "6501": (87.6, 43.8, 0.5, 0.4),
    "6502": (84.9, 45.3, 0.5, 0.6),
    "6504": (89.2, 42.8, 0.8, 0.5),
    "6505": (93.5, 43.0, 1.5, 0.9),
    "6523": (88.0, 44.2, 1.8, 0.6),
    "6527": (81.8, 44.8, 1.0, 0.5),
    "6528": (86.5, 40.5, 3.0, 2.0),
    "6529": (80.5, 41.0, 2.0, 1.0),
    "6530": (75.5, 39.3, 1.5, 0.9),
    "6531": (77.0, 38.6, 2.0, 1.3),
    "6532": (80.5, 37.0, 2.5, 1.0),
    "6540": (82.0, 43.7, 1.5, 0.6),
    "6542": (83.5, 46.0, 1.5, 1.2),
    "6543": (88.0, 47.5, 1.5, 1.2),
    "6590": (84.0, 43.5, 3.0, 2.0),
}
# Province bounding boxes (west, east, south, north).
_PROVINCE_BOXES = {
    "11": (115.7, 117.4, 39.4, 41.1),
    "12": (116.7, 118.1, 38.6, 40.2),
    "13": (113.5, 119.8, 36.1, 42.6),
    "14": (110.2, 114.6, 34.6, 40.7),
    "15": (97.2, 126.0, 37.4, 53.3),
    "21": (118.8, 125.8, 38.7, 43.5),
    "22": (121.6, 131.3, 40.9, 46.3),
    "23": (121.2, 135.1, 43.4, 53.6),
    "31": (120.9, 122.0, 30.7, 31.9),
    "32": (116.3, 121.9, 30.8, 35.1),
    "33": (118.0, 123.0, 27.1, 31.2),
    "34": (114.9, 119.6, 29.4, 34.7),
    "35": (115.8, 120.7, 23.5, 28.3),
    "36": (113.6, 118.5, 24.5, 30.1),
    "37": (114.8, 122.7, 34.4, 38.4),
    "41": (110.4, 116.6, 31.4, 36.4),
    "42": (108.4, 116.1, 29.0, 33.3),
    "43": (108.8, 114.3, 24.6, 30.1),
    "44": (109.7, 117.3, 20.2, 25.5),
    "45": (104.5, 112.1, 20.9, 26.4),
    "46": (108.6, 111.1, 18.1, 20.2),
    "50": (105.3, 110.2, 28.2, 32.2),
    "51": (97.3, 108.5, 26.0, 34.3),
    "52": (103.6, 109.6, 24.6, 29.2),
    "53": (97.5, 106.2, 21.1, 29.2),
    "54": (78.4, 99.1, 26.8, 36.5),
    "61": (105.5, 111.3, 31.7, 39.6),
    "62": (92.1, 108.7, 32.6, 42.8),
    "63": (89.4, 103.1, 31.6, 39.2),
    "64": (104.3, 107.7, 35.2, 39.4),
    "65": (73.5, 96.4, 34.3, 49.2),
    "71": (120.0, 122.0, 21.9, 25.3),
    "81": (113.8, 114.4, 22.15, 22.56),
    "82": (113.53, 113.6, 22.1, 22.22),
}
_CHINA_BOX = (73.5, 135.0, 18.2, 53.5)
# Other provinces' known mining areas (prefecture → extra weight).
_MINING_AREAS = {
    "1502": 1.8,  # 包头
    "1503": 2.5,  # 乌海
    "1506": 2.5,  # 鄂尔多斯
    "1509": 1.5,  # 乌兰察布
    "6502": 2.0,  # 克拉玛依
    "6505": 2.0,  # 哈密
    "6523": 2.5,  # 昌吉（准东）
    "6540": 1.5,  # 伊犁
    "6328": 2.0,  # 海西
    "5333": 2.0,  # 怒江
    "5334": 2.0,  # 迪庆
    "5309": 1.5,  # 临沧
}
_HYDRO_PROVINCES = ("51", "52", "53", "54", "63")
_TIBETAN_AREAS = ("5132", "5133", "54", "6323", "6325", "6326", "6327", "6230", "5334")
_YI_AREAS = ("5134", "5323", "5328")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
_GIVEN_ONE = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超华刚文斌波辉鹏宇浩俊峰亮林"
    "红霞玲健海飞凯鑫帆晨欣婷雪琳龙成东利英云兵彬春梅蓉川平"
)
_GIVEN_TWO_JOINED = (
    "秀英建华建国志强永刚晓东海燕国平德明红梅小龙家兴子豪思远光荣"
    "春林玉兰文杰泽宇俊杰雪梅长江世军兴华明亮金凤大伟天佑学军成刚"
)
_GIVEN_TWO = tuple(_GIVEN_TWO_JOINED[i : i + 2] for i in range(0, len(_GIVEN_TWO_JOINED), 2))
_TIBETAN_FIRST = ("扎西", "泽仁", "格绒", "次仁", "洛绒", "降央", "四郎", "益西", "尼玛", "呷绒")
_TIBETAN_SECOND = ("多吉", "卓玛", "拉姆", "邓珠", "曲珍", "翁姆", "彭措", "旺姆", "江村", "拥忠")
_YI_FIRST = ("阿苦", "吉克", "俄木", "曲比", "马海", "吉伍", "勒格", "阿说", "沙马", "吉木")
_YI_SECOND = ("日土", "阿依", "沙日", "木呷", "阿果", "伍牛", "尔布", "拉哈", "石者", "阿支")

_TRADE_FIRST = (
    "鑫恒宏瑞聚汇嘉远星云启博鼎鸿锦众新盛银飞凯腾峰翔永德泰安信佳润极数智卓晟昊弘华金天蓝明海力源达"
)
_SICHUAN_TRADE_FIRST = _TRADE_FIRST + "蜀川蜀川"
_TRADE_SECOND = (
    "源通达丰力泉诚航辰算明远盛运程合能世河鹏越峰宇昌润和捷信禾光联策晟毅链科驰腾鑫泰安华锐祥瑞"
)
_PLACE_CHARS = (
    "新安河坝桥石龙平兴和东西南北城关白马黄青金宝永长清江沙岭溪丰太乐福华林花湾阳泉山水云凤大小上下"
)
_ROAD_KINDS = ("路", "街", "大道", "路", "街")
_MINING_TRADES = (
    "科技",
    "电子科技",
    "信息技术",
    "网络科技",
    "数据科技",
    "计算机技术服务",
    "能源科技",
    "区块链科技",
)
_DATA_TRADES = ("大数据", "云计算", "数据服务", "信息产业", "云数据")
_SCHOOL_KINDS = ("职业技术学院", "理工学院", "师范学院", "职业技术学校", "技工学校", "工程学院")
_SCHOOL_SUBJECTS = ("水利电力", "交通", "信息工程", "农林", "民族", "工商")

_ALGORITHM_WEIGHTS = {"SHA-256": 0.86, "Ethash": 0.10, "Scrypt": 0.02, "Equihash": 0.02}

_REGISTRATION_REASONS = {
    DiscoveryMethod.SELF_REPORT: "首次登记（企业自查上报）",
    DiscoveryMethod.ELECTRICITY_ANALYSIS: "首次登记（用电数据异常排查发现）",
    DiscoveryMethod.NETWORK_MONITORING: "首次登记（网络监测发现矿池连接）",
    DiscoveryMethod.PUBLIC_REPORT: "首次登记（群众举报，现场核实）",
    DiscoveryMethod.INSPECTION: "首次登记（现场检查发现）",
}
_SHUT_DOWN_REASONS = (
    "现场核查：已断电关停",
    "已停止供电，矿机全部下电",
    "企业自行关停，现场核实",
    "限期整改到期，依法关停",
)
_CLEARED_REASONS = (
    "清理完毕，设备已搬离",
    "矿机已拆除清运，现场核查销号",
    "场地已恢复原用途，清理完毕",
)
_DIRECT_CLEARED_REASONS = ("关停并清理完毕，设备已搬离", "现场核查：已断电，矿机已清运")
_HALTED_REASONS = ("停止建设，场地已清理", "叫停在建项目，设备未进场，清理完毕")
_RELAPSE_REASONS = ("复查发现恢复挖矿，重新列入整治", "用电异常复查：已清理项目死灰复燃")


# --- the generator -----------------------------------------------------------------------------


@dataclass
class _County:
    region: Region
    city_prefix: str  # 雅安市 / 甘孜州 / 北京市 ('' under a province-administered grouping)
    short: str  # 石棉
    name_prefix: str  # 石棉县
    drc: str  # 雅安市石棉县发展改革局
    weight: float
    lon: float
    lat: float
    spread: float
    hydro: bool
    plant_share: float
    people: str
    data_centre_hub: bool


@dataclass
class _Firm:
    enterprise: DemoEnterprise
    county: _County
    trade: str
    plant: str | None
    addresses: set[str]


@dataclass
class _Project:
    firm: _Firm
    county: _County
    week: int
    registered_at: datetime
    entry: LedgerEntry
    overhead: float
    utilisation: float
    algorithm: str


class _Generator:
    def __init__(self, rng: random.Random, province: Region, mondays: tuple[date, ...]) -> None:
        self.rng = rng
        self.province = province
        self.mondays = mondays
        self.province_short = _province_short(province.name)
        self.grid_company = _grid_company(province.name)
        self.telecom = f"{province.name}通信管理局"
        self.counties = self._counties()
        sichuan = province.code[:2] == "51"
        self.trade_first = _SICHUAN_TRADE_FIRST if sichuan else _TRADE_FIRST
        self.county_cum = _cumulative([c.weight for c in self.counties])
        self.used_uscc: set[str] = set()
        self.used_names: set[str] = set()
        self.models = self._models(mondays[0])
        self.by_name = {m.model: m for models, _ in self.models.values() for m in models}
        self.counters: dict[str, int] = {}

    # -- places ---------------------------------------------------------------------------------

    def _counties(self) -> list[_County]:
        prefix = self.province.code[:2]
        found = [
            r
            for r in regions.all_regions()
            if r.level == RegionLevel.COUNTY and not r.is_grouping and r.code[:2] == prefix
        ]
        if not found:
            raise ValueError(f"{self.province.code} ({self.province.name}) has no counties")
        weights_rng = random.Random(f"{self.province.code}:weights")
        counties: list[_County] = []
        for region in sorted(found, key=lambda r: r.code):
            counties.append(self._county(region, weights_rng))
        return counties

    def _county(self, region: Region, weights_rng: random.Random) -> _County:
        parent = regions.find(region.parent_code) if region.parent_code else None
        if parent is None or parent.is_grouping or parent.level == RegionLevel.PROVINCE:
            municipality = self.province.name.endswith("市")
            city_prefix = self.province.name if municipality else ""
        else:
            city_prefix = _city_prefix(parent.name)
        short = _county_short(region.name)
        if city_prefix == region.name:
            city_prefix = ""
        if "自治" in region.name:
            name_prefix = short + "县"
        elif region.name.endswith("区") and city_prefix:
            name_prefix = city_prefix  # firms in a city district are named after the city
        else:
            name_prefix = region.name
        drc = f"{city_prefix}{region.name}发展改革局"
        code = region.code
        sichuan = self.province.code[:2] == "51"
        if sichuan:
            weight = _SICHUAN_PREFECTURE_WEIGHTS.get(code[:4], 0.15)
            weight *= _COUNTY_POINTS.get(code, (0.0, 0.0, 1.0))[2]
            hydro = code[:4] in _SICHUAN_HYDRO
            plant_share = 0.35 if hydro else 0.05
        else:
            weight = weights_rng.lognormvariate(0.0, 0.6)
            weight *= _MINING_AREAS.get(code[:4], 1.0)
            hydro = code[:2] in _HYDRO_PROVINCES
            plant_share = 0.25 if code[:4] in _MINING_AREAS else 0.07
        lon, lat, spread = _location(code)
        if code[:4] in _TIBETAN_AREAS or code[:2] in _TIBETAN_AREAS:
            people = "tibetan"
        elif code[:4] in _YI_AREAS:
            people = "yi"
        else:
            people = "han"
        hub = code[:4] == "5101" or (
            not sichuan and region.name.endswith("区") and weights_rng.random() < 0.3
        )
        return _County(
            region=region,
            city_prefix=city_prefix,
            short=short,
            name_prefix=name_prefix,
            drc=drc,
            weight=weight,
            lon=lon,
            lat=lat,
            spread=spread,
            hydro=hydro,
            plant_share=plant_share,
            people=people,
            data_centre_hub=hub,
        )

    def pick_county(self) -> _County:
        return self.rng.choices(self.counties, cum_weights=self.county_cum)[0]

    # -- words ----------------------------------------------------------------------------------

    def person(self, people: str = "han") -> str:
        rng = self.rng
        roll = rng.random()
        if people == "tibetan" and roll < 0.35:
            return rng.choice(_TIBETAN_FIRST) + rng.choice(_TIBETAN_SECOND)
        if people == "yi" and roll < 0.3:
            return rng.choice(_YI_FIRST) + rng.choice(_YI_SECOND)
        surname = rng.choice(_SURNAMES)
        if rng.random() < 0.55:
            return surname + rng.choice(_GIVEN_TWO)
        return surname + rng.choice(_GIVEN_ONE)

    def trade_name(self) -> str:
        first = self.rng.choice(self.trade_first)
        second = self.rng.choice(_TRADE_SECOND)
        while second == first:
            second = self.rng.choice(_TRADE_SECOND)
        return first + second

    def place(self) -> str:
        first = self.rng.choice(_PLACE_CHARS)
        second = self.rng.choice(_PLACE_CHARS)
        while second == first:
            second = self.rng.choice(_PLACE_CHARS)
        return first + second

    def township(self) -> str:
        return self.place() + self.rng.choice(("镇", "镇", "乡", "街道"))

    def street(self) -> str:
        rng = self.rng
        if rng.random() < 0.2:
            return rng.choice(("工业大道", "滨江路", "园区大道", "迎宾大道", "河东路"))
        return self.place() + rng.choice(_ROAD_KINDS)

    def plant_name(self, county: _County, trade: str | None = None) -> str:
        rng = self.rng
        base = trade or self.place()
        if county.hydro:
            if rng.random() < 0.35:
                return f"{self.place()}河{rng.choice('一二三四五')}级水电站"
            return f"{base}水电站"
        return f"{base}{rng.choice(('热电厂', '电厂', '煤矸石电厂', '自备电厂'))}"

    # -- enterprises ----------------------------------------------------------------------------

    def kind_for(self, county: _County) -> EnterpriseKind:
        kinds = (
            EnterpriseKind.MINING_OPERATOR,
            EnterpriseKind.DATA_CENTRE_OPERATOR,
            EnterpriseKind.POWER_PLANT,
            EnterpriseKind.PARK,
            EnterpriseKind.STATE_OWNED_UNIT,
            EnterpriseKind.ISP,
            EnterpriseKind.OTHER,
        )
        if county.data_centre_hub:
            weights = (0.45, 0.35, 0.01, 0.08, 0.05, 0.02, 0.04)
        elif county.plant_share >= 0.2:
            weights = (0.70, 0.04, 0.09, 0.06, 0.03, 0.01, 0.07)
        else:
            weights = (0.72, 0.07, 0.04, 0.06, 0.03, 0.01, 0.07)
        return self.rng.choices(kinds, weights=weights)[0]

    def uscc(self, county: _County, kind: EnterpriseKind) -> str:
        rng = self.rng
        while True:
            if kind == EnterpriseKind.STATE_OWNED_UNIT:
                head = "12"  # 机构编制 / 事业单位
                org = "".join(rng.choice("0123456789") for _ in range(8))
            else:
                head = "92" if kind == EnterpriseKind.OTHER else "91"  # 个体工商户 / 企业
                org = "MA" + "".join(rng.choice(credit_code.ALPHABET) for _ in range(6))
            body = f"{head}{county.region.code}{org}{credit_code.organisation_check_character(org)}"
            code = credit_code.with_check_character(body)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def firm_name(self, county: _County, kind: EnterpriseKind) -> tuple[str, str, str | None]:
        """(name, trade name, own power plant) of a new enterprise."""
        rng = self.rng
        city = county.city_prefix or county.name_prefix
        for _ in range(50):
            trade = self.trade_name()
            plant: str | None = None
            if kind == EnterpriseKind.MINING_OPERATOR:
                prefix = rng.choice((city, city, county.name_prefix, self.province_short))
                name = f"{prefix}{trade}{rng.choice(_MINING_TRADES)}有限公司"
            elif kind == EnterpriseKind.DATA_CENTRE_OPERATOR:
                prefix = rng.choice((city, self.province_short))
                name = f"{prefix}{trade}{rng.choice(_DATA_TRADES)}有限公司"
            elif kind == EnterpriseKind.POWER_PLANT:
                plant = self.plant_name(county, trade)
                if county.hydro:
                    name = f"{county.name_prefix}{trade}水电开发有限公司"
                    if rng.random() < 0.4:
                        name = f"{trade}水电开发有限公司"
                else:
                    name = f"{city}{trade}{rng.choice(('热电', '能源', '电力'))}有限责任公司"
            elif kind == EnterpriseKind.PARK:
                name = rng.choice(
                    (
                        f"{county.name_prefix}{trade}产业园区管理有限公司",
                        f"{city}{county.short}工业园区开发建设有限公司",
                        f"{self.province_short}{trade}大数据产业园运营管理有限公司",
                    )
                )
            elif kind == EnterpriseKind.STATE_OWNED_UNIT:
                region_word = rng.choice(
                    (county.short, self.province_short, self.province_short + county.short)
                )
                subject = rng.choice(_SCHOOL_SUBJECTS)
                name = f"{region_word}{subject}{rng.choice(_SCHOOL_KINDS)}"
            elif kind == EnterpriseKind.ISP:
                name = f"{city}{trade}网络服务有限公司"
            else:
                name = f"{county.name_prefix}{trade}{rng.choice(('电子产品经营部', '五金店'))}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name, trade, plant
        name = f"{name}（{len(self.used_names)}）"
        self.used_names.add(name)
        return name, trade, plant

    def new_firm(self, county: _County) -> _Firm:
        kind = self.kind_for(county)
        name, trade, plant = self.firm_name(county, kind)
        address = (
            f"{county.region.full_name}{self.township()}{self.street()}{self.rng.randint(1, 399)}号"
        )
        enterprise = DemoEnterprise(
            uscc=self.uscc(county, kind),
            name=name,
            legal_representative=self.person(county.people),
            address=address,
            region_code=county.region.code,
            state_owned=kind == EnterpriseKind.STATE_OWNED_UNIT,
            kind=kind,
        )
        return _Firm(enterprise, county, trade, plant, set())

    # -- hardware -------------------------------------------------------------------------------

    @staticmethod
    def _models(first: date) -> dict[str, tuple[list[MinerModel], list[float]]]:
        month = f"{first:%Y-%m}"
        available = [m for m in catalogue().values() if m.released <= month]
        if not available:
            available = list(catalogue().values())
        by_algorithm: dict[str, tuple[list[MinerModel], list[float]]] = {}
        for model in available:
            years, months = (int(p) for p in model.released.split("-")[:2])
            age = max(0, (first.year - years) * 12 + first.month - months)
            models, weights = by_algorithm.setdefault(model.algorithm, ([], []))
            models.append(model)
            weights.append(1.0 / (1.0 + age / 12.0))
        return by_algorithm

    def machines(self, site: SiteType) -> tuple[str, tuple[MachineCount, ...]]:
        rng = self.rng
        algorithms = list(self.models)
        algorithm = rng.choices(
            algorithms, weights=[_ALGORITHM_WEIGHTS.get(a, 0.02) for a in algorithms]
        )[0]
        models, weights = self.models[algorithm]
        if site == SiteType.RESIDENCE:
            total = _clamp(round(rng.lognormvariate(math.log(12), 0.6)), 2, 60)
        elif site == SiteType.STATE_OWNED_SERVER_ROOM:
            total = _clamp(round(rng.lognormvariate(math.log(8), 0.5)), 2, 30)
        else:
            median = {
                SiteType.DATA_CENTRE: 400,
                SiteType.BIG_DATA_PARK: 400,
                SiteType.INDUSTRIAL_PARK: 300,
            }.get(site, 150)
            total = _clamp(round(rng.lognormvariate(math.log(median), 0.95)), 20, 3000)
        if models[0].hashrate_unit != HashrateUnit.THS and algorithm != "SHA-256":
            total = max(2, total // 3)  # GPU rigs and altcoin machines: fewer, smaller sites
        kinds = min(rng.choices((1, 2, 3), weights=(0.55, 0.33, 0.12))[0], len(models), total)
        chosen: list[MinerModel] = []
        for _ in range(20):
            model = rng.choices(models, weights=weights)[0]
            if model not in chosen:
                chosen.append(model)
            if len(chosen) == kinds:
                break
        counts = _split(rng, total, len(chosen))
        pairs = sorted(zip(chosen, counts, strict=True), key=lambda p: (-p[1], p[0].model))
        return algorithm, tuple(MachineCount(m.model, c) for m, c in pairs)

    def figures(
        self, machines: Sequence[MachineCount], overhead: float
    ) -> tuple[int, float, HashrateUnit, float]:
        """(machine count, hash rate, its unit, rated power kW) of a set of machines."""
        known = [(self.by_name[m.model], m.count) for m in machines]
        unit = known[0][0].hashrate_unit
        hashes = sum(model.hashrate_hs * count for model, count in known)
        watts = sum(model.power_w * count for model, count in known)
        count = sum(c for _, c in known)
        return (
            count,
            round(hashes / unit.hashes_per_second, 2),
            unit,
            round(watts / 1000 * overhead, 1),
        )

    # -- projects -------------------------------------------------------------------------------

    def site_type(self, kind: EnterpriseKind) -> SiteType:
        rng = self.rng
        options: tuple[tuple[SiteType, float], ...]
        match kind:
            case EnterpriseKind.DATA_CENTRE_OPERATOR | EnterpriseKind.ISP:
                options = ((SiteType.DATA_CENTRE, 0.75), (SiteType.BIG_DATA_PARK, 0.25))
            case EnterpriseKind.POWER_PLANT:
                options = ((SiteType.OTHER, 0.6), (SiteType.FACTORY, 0.4))
            case EnterpriseKind.PARK:
                options = ((SiteType.INDUSTRIAL_PARK, 0.6), (SiteType.BIG_DATA_PARK, 0.4))
            case EnterpriseKind.STATE_OWNED_UNIT:
                return SiteType.STATE_OWNED_SERVER_ROOM
            case EnterpriseKind.OTHER:
                options = ((SiteType.RESIDENCE, 0.6), (SiteType.OTHER, 0.4))
            case _:
                options = (
                    (SiteType.FACTORY, 0.45),
                    (SiteType.INDUSTRIAL_PARK, 0.18),
                    (SiteType.OTHER, 0.13),
                    (SiteType.RESIDENCE, 0.12),
                    (SiteType.BIG_DATA_PARK, 0.12),
                )
        return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]

    def site(self, firm: _Firm, county: _County, site: SiteType) -> tuple[str, str]:
        """(site address, project name), the address new for this enterprise."""
        rng = self.rng
        full = county.region.full_name
        trade = firm.trade
        for _ in range(50):
            town = self.township()
            number = rng.randint(1, 599)
            building = rng.randint(1, 12)
            if site == SiteType.FACTORY:
                address = f"{full}{town}{self.street()}{number}号{building}号厂房"
                name = rng.choice((f"{trade}{town}矿场", f"{town}{trade}算力中心项目"))
            elif site == SiteType.INDUSTRIAL_PARK:
                park = f"{county.short}{self.place()}工业园区"
                address = f"{full}{park}{self.street()}{number}号{building}号厂房"
                name = f"{park}{trade}数据中心项目"
            elif site == SiteType.BIG_DATA_PARK:
                address = f"{full}{county.short}大数据产业园{building}栋{rng.randint(1, 6)}层"
                name = f"{county.short}大数据产业园{trade}算力项目"
            elif site == SiteType.DATA_CENTRE:
                address = f"{full}{town}{self.street()}{number}号数据中心{building}号机房"
                name = f"{trade}{county.short}数据中心{rng.choice('一二三')}期"
            elif site == SiteType.RESIDENCE:
                village = self.place()
                group = rng.randint(1, 12)
                address = f"{full}{town}{village}村{group}组{number}号"
                name = f"{town}{village}村居民住宅挖矿点"
            elif site == SiteType.STATE_OWNED_SERVER_ROOM:
                room = rng.choice(("信息楼", "图书馆", "实训楼", "办公楼", "网络中心"))
                address = f"{firm.enterprise.address}{room}{rng.randint(1, 6)}楼机房"
                name = f"{firm.enterprise.name}{room}机房挖矿"
            elif firm.plant is not None:
                address = f"{full}{town}{firm.plant}厂区{building}号机房"
                name = f"{firm.plant}配套算力项目"
            else:
                village = self.place()
                address = f"{full}{town}{village}村{rng.randint(1, 12)}组（原{self.place()}厂旧址）"
                name = f"{town}{trade}矿场"
            if address not in firm.addresses:
                firm.addresses.add(address)
                return address, name
        address = f"{address}{len(firm.addresses)}号"
        firm.addresses.add(address)
        return address, name

    def supply(
        self, firm: _Firm, county: _County, site: SiteType, power_kw: float
    ) -> tuple[SupplyKind, str | None, str | None, str | None]:
        """(supply kind, grid account, supply line, supply plant)."""
        rng = self.rng
        kind = SupplyKind.GRID
        if firm.plant is not None:
            kind = rng.choices(
                (SupplyKind.SELF_OWNED_PLANT, SupplyKind.PLANT_DIRECT_LINE, SupplyKind.GRID),
                weights=(0.7, 0.2, 0.1),
            )[0]
        elif site not in (SiteType.RESIDENCE, SiteType.STATE_OWNED_SERVER_ROOM):
            roll = rng.random()
            if roll < county.plant_share * 0.7:
                kind = SupplyKind.PLANT_DIRECT_LINE
            elif roll < county.plant_share:
                kind = SupplyKind.SELF_OWNED_PLANT
        kv = "10" if power_kw < 8000 else "35" if power_kw < 25000 else "110"
        if kind == SupplyKind.GRID:
            account = str(rng.randrange(10**9, 10**10))
            if site in (SiteType.RESIDENCE, SiteType.STATE_OWNED_SERVER_ROOM):
                line = f"0.4kV {self.place()}{rng.randint(1, 9)}号台区"
            else:
                line = f"{kv}kV {self.place()}线"
                if rng.random() < 0.2:
                    line += rng.choice(("I回", "II回"))
            return kind, account, line, None
        if kind == SupplyKind.SELF_OWNED_PLANT:
            plant = firm.plant or self.plant_name(county, firm.trade)
            own_line = f"{kv}kV 厂用{rng.randint(1, 3)}号线" if rng.random() < 0.6 else None
            return kind, None, own_line, plant
        plant = firm.plant or self.plant_name(county)
        return kind, None, f"{kv}kV {plant.removesuffix('水电站')[:4]}专线", plant

    def official(self, county: _County) -> str:
        if self.rng.random() < 0.6:
            return f"{county.drc} {self.person(county.people)}"
        title = {"区": "副区长", "市": "副市长", "旗": "副旗长"}.get(
            county.region.name[-1], "副县长"
        )
        return f"{county.region.name}人民政府 {title} {self.person(county.people)}"

    def discovery(self, week: int) -> DiscoveryMethod:
        span = max(1, len(self.mondays) - 1)
        f = week / span
        methods = (
            DiscoveryMethod.SELF_REPORT,
            DiscoveryMethod.ELECTRICITY_ANALYSIS,
            DiscoveryMethod.INSPECTION,
            DiscoveryMethod.PUBLIC_REPORT,
            DiscoveryMethod.NETWORK_MONITORING,
        )
        weights = (
            0.45 - 0.35 * f,
            0.30 - 0.05 * f,
            0.12 + 0.08 * f,
            0.06 + 0.16 * f,
            0.07 + 0.16 * f,
        )
        return self.rng.choices(methods, weights=weights)[0]

    def moment(self, week: int) -> datetime:
        """A random instant in office hours (Mon–Fri 09:00–18:00 local) of a week, in UTC."""
        day = self.mondays[week] + timedelta(days=self.rng.randrange(5))
        return _local(day, self.rng.randrange(9 * 3600, 18 * 3600 - 60))  # room for ties

    def new_project(self, firm: _Firm, week: int) -> _Project:
        rng = self.rng
        kind = firm.enterprise.kind
        stays = kind in (
            EnterpriseKind.STATE_OWNED_UNIT,
            EnterpriseKind.OTHER,
            EnterpriseKind.POWER_PLANT,
        )
        county = firm.county if stays or rng.random() < 0.75 else self.pick_county()
        site = self.site_type(kind)
        address, name = self.site(firm, county, site)
        algorithm, machines = self.machines(site)
        overhead = rng.uniform(1.03, 1.08)
        utilisation = rng.uniform(0.75, 0.95)
        count, hashrate, unit, power = self.figures(machines, overhead)
        registered_at = self.moment(week)
        registered_on = registered_at.astimezone(LOCAL_TZ).date()
        building = site not in (SiteType.RESIDENCE, SiteType.STATE_OWNED_SERVER_ROOM) and (
            rng.random() < (0.25 if week == 0 else 0.15)
        )
        status = ProjectStatus.IN_CONSTRUCTION if building else ProjectStatus.OPERATING
        supply_kind, account, line, plant = self.supply(firm, county, site, power)
        jitter = county.spread
        entry = LedgerEntry(
            project_code=None,
            project_name=name,
            enterprise_name=firm.enterprise.name,
            enterprise_uscc=firm.enterprise.uscc,
            legal_representative=firm.enterprise.legal_representative,
            site_address=address,
            region_code=county.region.code,
            longitude=round(county.lon + rng.uniform(-jitter, jitter), 4),
            latitude=round(county.lat + rng.uniform(-jitter, jitter), 4),
            site_type=site,
            status=status,
            discovered_by=self.discovery(week),
            responsible_region_code=county.region.code,
            machines=machines,
            machine_count=count,
            hashrate=hashrate,
            hashrate_unit=unit,
            rated_power_kw=power,
            monthly_energy_kwh=_energy(status, power, utilisation),
            planned_production_date=(
                registered_on + timedelta(days=rng.randint(30, 150)) if building else None
            ),
            supply_kind=supply_kind,
            grid_account_no=account,
            supply_line=line,
            supply_plant=plant,
            responsible_official=self.official(county),
            exit_deadline=registered_on + timedelta(days=rng.choice((14, 21, 28, 30, 35, 42))),
        )
        return _Project(firm, county, week, registered_at, entry, overhead, utilisation, algorithm)

    # -- the weeks ------------------------------------------------------------------------------

    def run(self, n_projects: int) -> tuple[list[DemoEnterprise], list[LedgerChange]]:
        rng = self.rng
        if n_projects == 0:
            return [], []
        n_firms = _clamp(round(n_projects * rng.uniform(0.62, 0.78)), 1, n_projects)
        firms = [self.new_firm(self.pick_county()) for _ in range(n_firms)]
        several = {
            EnterpriseKind.MINING_OPERATOR: 3.0,
            EnterpriseKind.DATA_CENTRE_OPERATOR: 2.0,
            EnterpriseKind.POWER_PLANT: 2.0,
            EnterpriseKind.PARK: 2.0,
            EnterpriseKind.ISP: 1.0,
            EnterpriseKind.STATE_OWNED_UNIT: 0.1,
            EnterpriseKind.OTHER: 0.2,
        }
        cum = _cumulative([several[f.enterprise.kind] for f in firms])
        owners = firms + rng.choices(firms, cum_weights=cum, k=n_projects - n_firms)
        week_weights = [1.0] + [0.2 * 0.65 ** (k - 1) for k in range(1, len(self.mondays))]
        weeks = rng.choices(range(len(self.mondays)), weights=week_weights, k=n_projects)
        projects = [self.new_project(f, w) for f, w in zip(owners, weeks, strict=True)]
        projects.sort(key=lambda p: p.registered_at)
        for project in projects:
            county = project.entry.responsible_region_code
            self.counters[county] = self.counters.get(county, 0) + 1
            code = f"XM-{county}-{self.counters[county]:04d}"
            project.entry = replace(project.entry, project_code=code)

        changes: list[tuple[datetime, int, LedgerChange]] = []
        for project in projects:
            changes.append(
                (
                    project.registered_at,
                    len(changes),
                    LedgerChange(
                        project.registered_at,
                        self.registrar(project),
                        _REGISTRATION_REASONS[project.entry.discovered_by],
                        project.entry,
                    ),
                )
            )
        for week in range(1, len(self.mondays)):
            for project in projects:
                if project.week >= week:
                    continue
                steps = self.week_of(project, week)
                if not steps:
                    continue
                times = sorted(self.moment(week) for _ in steps)
                for i in range(1, len(times)):
                    if times[i] <= times[i - 1]:
                        times[i] = times[i - 1] + timedelta(seconds=1)
                for at, (actor, reason, entry) in zip(times, steps, strict=True):
                    if entry == project.entry:
                        continue
                    project.entry = entry
                    changes.append((at, len(changes), LedgerChange(at, actor, reason, entry)))
        changes.sort(key=lambda c: (c[0], c[1]))
        enterprises = [f.enterprise for f in firms]
        return enterprises, [c[2] for c in changes]

    def registrar(self, project: _Project) -> str:
        match project.entry.discovered_by:
            case DiscoveryMethod.ELECTRICITY_ANALYSIS:
                return self.grid_company
            case DiscoveryMethod.NETWORK_MONITORING:
                return self.telecom
            case _:
                return project.county.drc

    def week_of(self, project: _Project, week: int) -> list[tuple[str, str, LedgerEntry]]:
        """This week's changes to a project (actor, reason, new row), in order."""
        rng = self.rng
        entry = project.entry
        drc = project.county.drc
        f = week / max(1, len(self.mondays) - 1)
        monday = self.mondays[week]
        steps: list[tuple[str, str, LedgerEntry]] = []
        status = entry.status
        if status == ProjectStatus.OPERATING:
            overdue = entry.exit_deadline is not None and entry.exit_deadline < monday
            if rng.random() < 0.18 + 0.3 * f + (0.3 if overdue else 0.0):
                if rng.random() < 0.12:
                    new = self.with_status(project, ProjectStatus.CLEARED)
                    steps.append((drc, rng.choice(_DIRECT_CLEARED_REASONS), new))
                else:
                    actor = self.grid_company if rng.random() < 0.25 else drc
                    new = self.with_status(project, ProjectStatus.SHUT_DOWN)
                    steps.append((actor, rng.choice(_SHUT_DOWN_REASONS), new))
        elif status == ProjectStatus.IN_CONSTRUCTION:
            roll = rng.random()
            if roll < 0.03:
                new = self.with_status(project, ProjectStatus.OPERATING)
                steps.append((drc, "核查发现已违规投产", new))
            elif roll < 0.3 + 0.3 * f:
                new = self.with_status(project, ProjectStatus.CLEARED)
                steps.append((drc, rng.choice(_HALTED_REASONS), new))
        elif status == ProjectStatus.SHUT_DOWN:
            if rng.random() < 0.35 + 0.2 * f:
                new = self.with_status(project, ProjectStatus.CLEARED)
                steps.append((drc, rng.choice(_CLEARED_REASONS), new))
        elif rng.random() < 0.015:
            actor = self.grid_company if rng.random() < 0.5 else drc
            new = self.with_status(project, ProjectStatus.OPERATING, relapse=monday)
            steps.append((actor, rng.choice(_RELAPSE_REASONS), new))
        current = steps[-1][2] if steps else entry
        if current.status != ProjectStatus.CLEARED and rng.random() < 0.07:
            edit = self.edit(project, current, monday)
            if edit is not None:
                steps.append((drc, edit[0], edit[1]))
        return steps

    def with_status(
        self, project: _Project, status: ProjectStatus, *, relapse: date | None = None
    ) -> LedgerEntry:
        entry = project.entry
        energy = _energy(status, entry.rated_power_kw or 0.0, project.utilisation)
        updated = replace(entry, status=status, monthly_energy_kwh=energy)
        if status == ProjectStatus.OPERATING:
            updated = replace(updated, planned_production_date=None)
        if relapse is not None:
            note = f"已清理后于{relapse.year}年{relapse.month}月{relapse.day}日当周复查发现恢复生产"
            updated = replace(updated, notes=note, exit_deadline=relapse + timedelta(days=14))
        return updated

    def edit(
        self, project: _Project, entry: LedgerEntry, monday: date
    ) -> tuple[str, LedgerEntry] | None:
        rng = self.rng
        choice = rng.choices(("machines", "power", "deadline", "official"), (4, 2, 3, 1))[0]
        if choice == "machines" and entry.machines:
            machines = list(entry.machines)
            i = rng.randrange(len(machines))
            old = machines[i].count
            delta = max(1, round(old * rng.uniform(0.05, 0.3)))
            new_count = old + delta if rng.random() < 0.6 or old <= delta else old - delta
            machines[i] = MachineCount(machines[i].model, new_count)
            count, hashrate, unit, power = self.figures(machines, project.overhead)
            updated = replace(
                entry,
                machines=tuple(machines),
                machine_count=count,
                hashrate=hashrate,
                hashrate_unit=unit,
                rated_power_kw=power,
                monthly_energy_kwh=_energy(entry.status, power, project.utilisation),
            )
            return "更正矿机数量", updated
        if choice == "power" and entry.rated_power_kw:
            power = round(entry.rated_power_kw * rng.uniform(0.9, 1.15), 1)
            if power == entry.rated_power_kw:
                return None
            utilisation = project.utilisation
            energy = _energy(entry.status, power, utilisation)
            return "更正额定功率（供电公司核定）", replace(
                entry, rated_power_kw=power, monthly_energy_kwh=energy
            )
        if choice == "deadline" and entry.status.is_active:
            base = max(entry.exit_deadline or monday, monday)
            deadline = base + timedelta(days=rng.choice((7, 14, 21)))
            reason = rng.choice(("调整退出期限", "延期退出：经批准顺延"))
            return reason, replace(entry, exit_deadline=deadline)
        official = self.official(project.county)
        if official == entry.responsible_official:
            return None
        return "更换责任人", replace(entry, responsible_official=official)


# --- helpers -----------------------------------------------------------------------------------


def _local(day: date, seconds: int) -> datetime:
    moment = datetime.combine(day, time(), LOCAL_TZ) + timedelta(seconds=seconds)
    return moment.astimezone(UTC)


def _energy(status: ProjectStatus, power_kw: float, utilisation: float) -> float | None:
    if status == ProjectStatus.IN_CONSTRUCTION:
        return None
    if status == ProjectStatus.OPERATING:
        return float(round(power_kw * 720 * utilisation))
    return 0.0


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out: list[float] = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` positive counts, the first the biggest share on average."""
    if parts <= 1:
        return [total]
    shares = [rng.uniform(0.2, 1.0) for _ in range(parts)]
    scale = (total - parts) / sum(shares)
    counts = [1 + int(s * scale) for s in shares]
    counts[0] += total - sum(counts)
    return counts


def _location(code: str) -> tuple[float, float, float]:
    """(longitude, latitude, site jitter) of a county, stable for its code."""
    point = _COUNTY_POINTS.get(code)
    if point is not None:
        return point[0], point[1], 0.05
    local = random.Random(int(code))
    prefecture = _PREFECTURE_AREAS.get(code[:4])
    if prefecture is not None:
        lon, lat, dlon, dlat = prefecture
        return lon + local.uniform(-dlon, dlon), lat + local.uniform(-dlat, dlat), 0.05
    west, east, south, north = _PROVINCE_BOXES.get(code[:2], _CHINA_BOX)
    width, height = east - west, north - south
    centre = random.Random(int(code[:4]))
    lon = west + width * centre.uniform(0.15, 0.85) + width * local.uniform(-0.08, 0.08)
    lat = south + height * centre.uniform(0.15, 0.85) + height * local.uniform(-0.08, 0.08)
    lon = min(east, max(west, lon))
    lat = min(north, max(south, lat))
    return lon, lat, min(0.05, 0.02 * width)


def _province_short(name: str) -> str:
    if name.startswith("内蒙古"):
        return "内蒙古"
    if name.endswith(("省", "市")):
        return name[:-1]
    if name.endswith(("自治区", "特别行政区")) or "自治区" in name:
        return name[:2]
    return name


def _grid_company(name: str) -> str:
    short = _province_short(name)
    if name.endswith("省"):
        return f"国网{short}省电力公司"
    if name.endswith("市"):
        return f"国网{short}市电力公司"
    return f"国网{short}电力公司"


def _city_prefix(name: str) -> str:
    if "自治州" in name:
        return name[:2] + "州"
    return name


def _county_short(name: str) -> str:
    if "自治" in name:
        return name[:2]
    if len(name) > 2 and name.endswith(("县", "区", "市", "旗")):
        return name[:-1]
    return name
