"""The packaged GB/T 2260 table: hierarchy, names, groupings and retired codes."""

from __future__ import annotations

import pytest

from minewatch.errors import MineWatchError
from minewatch.reference import regions
from minewatch.reference.regions import Region, RegionLevel, UnknownRegionError


def test_all_provinces_including_taiwan_hong_kong_and_macau() -> None:
    codes = [p.code for p in regions.provinces()]
    assert len(codes) == 34
    assert {"110000", "510000", "650000", "710000", "810000", "820000"} <= set(codes)
    assert all(p.parent_code is None and not p.is_grouping for p in regions.provinces())


def test_every_region_has_a_known_parent_of_the_level_above() -> None:
    above = {
        RegionLevel.PREFECTURE: RegionLevel.PROVINCE,
        RegionLevel.COUNTY: RegionLevel.PREFECTURE,
    }
    for region in regions.all_regions():
        if region.level is RegionLevel.PROVINCE:
            continue
        assert region.parent_code is not None
        assert regions.get(region.parent_code).level is above[region.level]


def test_get_returns_the_region() -> None:
    assert regions.get("110101") == Region("110101", "东城区", RegionLevel.COUNTY, "110100", "unit")
    assert regions.find("000001") is None


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("110101", "北京市东城区"),
        ("110000", "北京市"),
        ("510105", "四川省成都市青羊区"),
        ("419001", "河南省济源市"),
        ("500229", "重庆市城口县"),
        ("659001", "新疆维吾尔自治区石河子市"),
        ("441900", "广东省东莞市"),
    ],
)
def test_full_name_skips_groupings(code: str, full_name: str) -> None:
    assert regions.get(code).full_name == full_name


@pytest.mark.parametrize(
    ("code", "grouping", "name", "province"),
    [
        ("110101", "110100", "市辖区", "110000"),
        ("310115", "310100", "市辖区", "310000"),
        ("500229", "500200", "县", "500000"),
        ("419001", "419000", "省直辖县级行政区划", "410000"),
        ("429021", "429000", "省直辖县级行政区划", "420000"),
        ("469001", "469000", "省直辖县级行政区划", "460000"),
        ("659001", "659000", "自治区直辖县级行政区划", "650000"),
    ],
)
def test_counties_without_prefecture_hang_under_groupings(
    code: str, grouping: str, name: str, province: str
) -> None:
    parent = regions.get(regions.get(code).parent_code or "")
    assert (parent.code, parent.name, parent.is_grouping) == (grouping, name, True)
    assert parent.level is RegionLevel.PREFECTURE
    assert parent.parent_code == province
    assert regions.get(code) in regions.children(grouping)
    assert regions.county_prefecture_province(code) == (code, grouping, province)


@pytest.mark.parametrize("code", ["441900", "442000", "460400", "620200"])
def test_prefectures_without_counties(code: str) -> None:
    region = regions.get(code)
    assert region.level is RegionLevel.PREFECTURE
    assert not region.is_grouping
    assert regions.children(code) == ()


def test_county_prefecture_province() -> None:
    assert regions.county_prefecture_province("511824") == ("511824", "511800", "510000")
    assert regions.county_prefecture_province("511800") == (None, "511800", "510000")
    assert regions.county_prefecture_province("510000") == (None, None, "510000")
    assert regions.county_prefecture_province("110100") == (None, "110100", "110000")
    with pytest.raises(UnknownRegionError):
        regions.county_prefecture_province("513321")


def test_retired_code_names_year_and_successors() -> None:
    with pytest.raises(UnknownRegionError) as caught:
        regions.get("513321")
    assert caught.value.code == "513321"
    assert str(caught.value) == "513321 (康定县) was retired in 2015; use 513301 (康定市)"
    assert regions.succession("513321") == regions.Succession("513321", "康定县", 2015, ("513301",))
    assert regions.is_valid_code("513321")
    assert not regions.is_valid_code("513321", include_retired=False)


def test_succession_follows_chains_to_current_codes() -> None:
    # 交河县 went to 泊头县 (132902) in 1983, which became 泊头市 130981.
    found = regions.succession("132925")
    assert found is not None
    assert found.successors == ("130981",)
    for code in ("130106", "110103", "110104", "513321"):
        result = regions.succession(code)
        assert result is not None
        assert all(regions.find(s) is not None for s in result.successors)


def test_current_and_unknown_codes_have_no_succession() -> None:
    assert regions.succession("320411") is None  # reused: 郊区 then 新北区
    assert regions.succession("999999") is None
    assert str(UnknownRegionError("999999")) == "'999999' is not a GB/T 2260 code"
    assert not regions.is_valid_code("999999")


def test_find_by_name_exact_and_without_suffix() -> None:
    assert [r.code for r in regions.find_by_name("四川")] == ["510000"]
    assert [r.code for r in regions.find_by_name("雅安")] == ["511800"]
    assert [r.code for r in regions.find_by_name("凉山")] == ["513400"]
    assert [r.code for r in regions.find_by_name("广西")] == ["450000"]
    assert [r.code for r in regions.find_by_name("石棉县")] == ["511824"]
    assert [r.code for r in regions.find_by_name("朝阳区")] == ["110105", "220104"]
    assert [r.code for r in regions.find_by_name("朝阳区", within="220000")] == ["220104"]
    assert regions.find_by_name("市辖区") == []
    assert regions.find_by_name("不存在") == []


@pytest.mark.parametrize(
    "text", ["四川省雅安市石棉县", "雅安市石棉县", "石棉县", "四川 雅安 石棉", "四川省石棉县"]
)
def test_resolve_name_hierarchical(text: str) -> None:
    assert regions.resolve_name(text).code == "511824"


def test_resolve_name_within_municipality_and_province() -> None:
    assert regions.resolve_name("北京市朝阳区").code == "110105"
    assert regions.resolve_name("北京市市辖区东城区").code == "110101"
    assert regions.resolve_name("吉林市船营区").code == "220204"
    assert regions.resolve_name("吉林省吉林市").code == "220200"
    assert regions.resolve_name("海南省五指山市").code == "469001"


def test_resolve_name_ambiguous_names_candidates() -> None:
    with pytest.raises(regions.AmbiguousRegionError) as caught:
        regions.resolve_name("朝阳区")
    assert isinstance(caught.value, MineWatchError)
    assert [r.code for r in caught.value.candidates] == ["110105", "220104"]
    assert "北京市朝阳区" in str(caught.value)
    assert "吉林省长春市朝阳区" in str(caught.value)


@pytest.mark.parametrize("text", ["火星市", "", "四川省石棉县美罗镇"])
def test_resolve_name_unknown(text: str) -> None:
    with pytest.raises(UnknownRegionError):
        regions.resolve_name(text)


def test_is_within() -> None:
    assert regions.is_within("110101", "110101")
    assert regions.is_within("110101", "110100")
    assert regions.is_within("110101", "110000")
    assert regions.is_within("511824", "511800")
    assert regions.is_within("511824", "000000")
    assert not regions.is_within("511824", "110000")
    assert not regions.is_within("510000", "511824")
    assert regions.is_within("513321", "510000")  # retired: placed by its digits
