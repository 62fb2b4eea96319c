"""Chinese street addresses: reading them into components, and matching leads about one site."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minewatch.domain.cases.address import (
    Address,
    MatchLevel,
    match_addresses,
    normalise_address,
    parse_chinese_number,
)

XICHANG = "513401"  # 四川省凉山彝族自治州西昌市
LIANGSHAN = "513400"
SICHUAN = "510000"
MIANNING = "513433"  # 冕宁县, also in 凉山
JINGYANG = "510603"  # 德阳市旌阳区

# One mining site at 西昌市建设路12号3栋, as four sources write it.
SAME_SITE = (
    ("四川省凉山彝族自治州西昌市河西镇建设路12号3栋2单元501室", None),  # meter customer archive
    ("凉山州西昌 建设路 十二号 三幢", None),  # ISP allocation record
    ("西昌市建设路１２号３号楼附近（原红星厂）", None),  # citizen's report, typed on a phone
    ("建设路12号3#楼内", XICHANG),  # inspection note, filed under the county
)


# --- reading -----------------------------------------------------------------------------------


def test_full_address_is_read_into_every_component() -> None:
    address = normalise_address("四川省凉山彝族自治州西昌市河西镇建设路12号3栋2单元5层501室")
    assert (address.province_code, address.prefecture_code, address.county_code) == (
        SICHUAN,
        LIANGSHAN,
        XICHANG,
    )
    assert address.town == "河西镇"
    assert address.road == "建设路"
    assert (address.number, address.building, address.unit) == ("12", "3", "2")
    assert (address.floor, address.room) == ("5", "501")
    assert address.remainder == ""
    assert address.confidence == 1.0
    assert address.key == "513401/河西镇/建设路/12号/3栋/2单元/5层/501室"


def test_abbreviated_province_prefecture_and_county_resolve_to_the_same_codes() -> None:
    full = normalise_address("四川省凉山彝族自治州西昌市建设路12号")
    short = normalise_address("四川凉山西昌建设路12号")
    with_zhou = normalise_address("凉山州西昌市建设路12号")
    assert full.county_code == short.county_code == with_zhou.county_code == XICHANG
    assert full.key == short.key == with_zhou.key == "513401/建设路/12号"


def test_omitted_province_and_prefecture_are_inferred_from_the_county() -> None:
    address = normalise_address("冕宁县城厢镇红星村3组15号")
    assert address.county_code == MIANNING
    assert address.prefecture_code == LIANGSHAN
    assert address.province_code == SICHUAN
    assert (address.town, address.village, address.group, address.number) == (
        "城厢镇",
        "红星村",
        "3",
        "15",
    )


def test_region_hint_resolves_a_bare_street() -> None:
    bare = normalise_address("建设路12号")
    hinted = normalise_address("建设路12号", region_hint=XICHANG)
    assert bare.county_code is None
    assert bare.key == "*/建设路/12号"
    assert hinted.county_code == XICHANG
    assert hinted.province_code == SICHUAN
    assert hinted.key == "513401/建设路/12号"
    assert hinted.confidence > bare.confidence
    assert any("region_hint" in note for note in hinted.notes)


def test_region_hint_narrows_a_prefecture_named_in_the_text_to_its_county() -> None:
    address = normalise_address("凉山州河西镇建设路12号", region_hint=XICHANG)
    assert address.county_code == XICHANG
    assert address.town == "河西镇"


def test_text_outside_the_region_hint_wins_and_is_noted() -> None:
    address = normalise_address("德阳市旌阳区人民路8号", region_hint=XICHANG)
    assert address.county_code == JINGYANG
    assert address.confidence < 1.0
    assert any("outside region_hint" in note for note in address.notes)


def test_region_hint_settles_a_name_shared_by_two_counties() -> None:
    ambiguous = normalise_address("朝阳区建设路5号")
    beijing = normalise_address("朝阳区建设路5号", region_hint="110000")
    assert ambiguous.county_code is None
    assert "朝阳区" in ambiguous.remainder
    assert ambiguous.road == "建设路"  # the ambiguous name is not glued onto the road
    assert any("ambiguous" in note for note in ambiguous.notes)
    assert ambiguous.confidence < beijing.confidence
    assert beijing.county_code == "110105"


def test_unknown_region_names_stay_in_the_remainder_and_lower_confidence() -> None:
    address = normalise_address("火星省红旗县人民路1号")
    assert address.province_code is None
    assert address.remainder == "火星省 红旗县"
    assert address.road == "人民路"
    assert address.number == "1"
    assert address.confidence <= 0.5


def test_full_width_digits_letters_and_punctuation() -> None:
    address = normalise_address("西昌市　建设路１２号，Ａ座　５０１室")
    assert (address.road, address.number, address.building, address.room) == (
        "建设路",
        "12",
        "A",
        "501",
    )


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("西昌市建设路二十三号", "23"),
        ("西昌市建设路十二号", "12"),
        ("西昌市建设路一百零五号", "105"),
        ("西昌市建设路一〇五号", "105"),
        ("西昌市建设路两百号", "200"),
        ("西昌市建设路023号", "23"),
    ],
)
def test_chinese_numerals_in_house_numbers(text: str, number: str) -> None:
    assert normalise_address(text).number == number


@pytest.mark.parametrize("written", ["3栋", "三幢", "3号楼", "第三栋", "3#楼", "3号厂房"])
def test_building_written_many_ways(written: str) -> None:
    address = normalise_address(f"西昌市建设路12号{written}")
    assert address.building == "3"
    assert address.key == "513401/建设路/12号/3栋"


@pytest.mark.parametrize(
    "text", ["西昌市建设路12-3号", "西昌市建设路12号之3", "西昌市建设路12附3号"]
)
def test_dash_and_zhi_forms_are_number_and_sub_number(text: str) -> None:
    address = normalise_address(text)
    assert (address.number, address.sub_number) == ("12", "3")
    assert address.key == "513401/建设路/12-3号"


def test_floors_3lou_is_a_floor_but_3haolou_is_a_building() -> None:
    floor = normalise_address("西昌市建设路12号3楼")
    building = normalise_address("西昌市建设路12号3号楼")
    basement = normalise_address("西昌市建设路12号负一层")
    assert (floor.floor, floor.building) == ("3", None)
    assert (building.floor, building.building) == (None, "3")
    assert basement.floor == "-1"


def test_building_unit_room_in_dashed_form_after_the_number() -> None:
    address = normalise_address("西昌市建设路12号3-2-501")
    assert (address.number, address.building, address.unit, address.room) == (
        "12",
        "3",
        "2",
        "501",
    )


def test_shanghai_lane_and_house_number() -> None:
    address = normalise_address("上海市黄浦区南京东路123弄45号")
    assert address.county_code == "310101"
    assert address.prefecture_code is None  # 市辖区 is a grouping, not a prefecture
    assert (address.road, address.lane, address.number) == ("南京东路", "123", "45")


def test_road_named_after_a_city_is_not_read_as_that_city() -> None:
    address = normalise_address("中山东路5号", region_hint=XICHANG)
    assert address.county_code == XICHANG
    assert address.road == "中山东路"
    unhinted = normalise_address("西昌路5号")
    assert unhinted.county_code is None
    assert unhinted.road == "西昌路"


def test_village_suffix_inside_a_road_name_stays_in_the_road() -> None:
    address = normalise_address("西昌市新村路8号")
    assert address.village is None
    assert address.road == "新村路"


def test_industrial_park_is_a_component() -> None:
    address = normalise_address("凉山州西昌市经久工业园区A区3号厂房")
    assert address.county_code == XICHANG
    assert address.park == "经久工业园区"
    assert address.building == "3"
    assert "A区" in address.remainder
    assert address.key == "513401/经久园区/3栋"


def test_park_roads_with_numbers_in_their_names() -> None:
    address = normalise_address("西昌市经久工业园区2号路18号")
    assert address.park == "经久工业园区"
    assert address.road == "2号路"
    assert address.number == "18"


def test_bracketed_former_name_is_set_aside_not_read_as_address() -> None:
    address = normalise_address("西昌市建设路12号（原红星厂）【已停产】")
    assert address.aside == ("原红星厂", "已停产")
    assert address.places == ()
    assert address.key == "513401/建设路/12号"


def test_noise_words_are_removed_and_noted() -> None:
    address = normalise_address("西昌市河西镇红星村 水泥厂旁边往里走200米 3组")
    assert address.village == "红星村"
    assert address.places == ("水泥厂",)
    assert address.group == "3"
    assert address.remainder == ""
    assert any("旁边" in note for note in address.notes)
    assert address.confidence < 1.0


def test_nei_in_a_place_name_is_kept_but_nei_after_a_park_is_noise() -> None:
    neijiang = normalise_address("内江市市中区建设路1号")
    assert neijiang.prefecture_code == "511000"
    road = normalise_address("西昌市内江路8号")
    assert road.road == "内江路"
    inside = normalise_address("西昌市经久工业园区内3栋")
    assert inside.park == "经久工业园区"
    assert inside.building == "3"
    assert inside.remainder == ""


def test_street_office_and_villagers_committee_take_canonical_suffixes() -> None:
    address = normalise_address("成都市青羊区光华街道办事处光华村委会5社二十三号")
    assert address.county_code == "510105"
    assert (address.town, address.village, address.group, address.number) == (
        "光华街道",
        "光华村",
        "5",
        "23",
    )


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\u3000"])
def test_empty_or_whitespace_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        normalise_address(text)


def test_unknown_region_hint_is_refused() -> None:
    with pytest.raises(ValueError, match="999999"):
        normalise_address("建设路12号", region_hint="999999")


def test_retired_region_hint_is_read_as_its_successor() -> None:
    address = normalise_address("炉城镇建设路12号", region_hint="513321")  # 康定县, retired 2015
    assert address.county_code == "513301"
    assert any("retired" in note for note in address.notes)


@pytest.mark.parametrize("text", ["asdf！！？？", "？？？", "（）", "12345", "号号号栋栋", "路"])
def test_nonsense_does_not_crash_and_has_low_confidence(text: str) -> None:
    address = normalise_address(text)
    assert address.text == text
    assert address.county_code is None
    assert address.confidence <= 0.5


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_any_text_is_read_without_error(text: str) -> None:
    address = normalise_address(text)
    assert 0.0 <= address.confidence <= 1.0
    assert address.key


def test_address_is_frozen() -> None:
    address = normalise_address("西昌市建设路12号")
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.road = "人民路"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("两千零八", 2008)],
)
def test_parse_chinese_number(text: str, value: int) -> None:
    assert parse_chinese_number(text) == value


def test_parse_chinese_number_refuses_words() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_chinese_number("十二楼")


# A small golden corpus: messy addresses as sources write them, and the key each must read to.
GOLDEN_KEYS = [
    ("四川省甘孜藏族自治州康定市炉城镇大桥水电站", "513301/炉城镇"),
    ("峨边彝族自治县新场乡三村二组", "511132/新场乡/三村/2组"),
    ("攀枝花市东区炳草岗大街88号B座1802", "510402/炳草岗大街/88号/B栋/1802室"),
    (
        "泸州市江阳区酒城大道三段16号7栋二单元十二楼1201号",
        "510502/酒城大道3段/16号/7栋/2单元/12层/1201室",
    ),
    ("重庆市城口县葛城街道", "500229/葛城街道"),
    ("广元市利州区南河路24号院3幢", "510802/南河路/24号/3栋"),
    ("西昌市西郊乡大石板村委会2组", "513401/西郊乡/大石板村/2组"),
    ("宜宾市南溪区108国道旁", "511503/108国道"),
    ("绵阳市涪城区科创园区创新中心2号楼3层", "510703/科创园区/2栋/3层"),
    ("乐山市沙湾区嘉农镇A栋2单元301", "511111/嘉农镇/A栋/2单元/301室"),
    ("新疆维吾尔自治区昌吉回族自治州昌吉市", "652301"),
    ("内蒙古鄂尔多斯市东胜区", "150602"),
    ("西昌市 北京路 100号 A栋 10F", "513401/北京路/100号/A栋/10层"),
    ("四川省 成都市 双流县 西航港街道 空港一路 一段 88号", "510116/西航港街道/空港一路1段/88号"),
    ("雅安市汉源县九襄镇大树村5组38号旁边的铁皮房", "511823/九襄镇/大树村/5组/38号"),
]


@pytest.mark.parametrize(("text", "key"), GOLDEN_KEYS)
def test_golden_keys(text: str, key: str) -> None:
    assert normalise_address(text).key == key


# --- matching ----------------------------------------------------------------------------------


def _read(pair: tuple[str, str | None]) -> Address:
    return normalise_address(pair[0], region_hint=pair[1])


def test_same_site_four_ways_match_at_building_level() -> None:
    addresses = [_read(pair) for pair in SAME_SITE]
    for i, a in enumerate(addresses):
        assert a.county_code == XICHANG
        for b in addresses[i + 1 :]:
            result = match_addresses(a, b)
            assert result.level.at_least(MatchLevel.BUILDING), (a.text, b.text, result)
            assert result.score >= 0.8, (a.text, b.text, result)
    assert len({a.key for a in addresses[1:]}) == 1  # the archive alone adds town, unit, room


def test_different_numbers_on_one_road_do_not_match_at_number_level() -> None:
    result = match_addresses(
        normalise_address("西昌市建设路12号"), normalise_address("西昌市建设路14号")
    )
    assert result.level is MatchLevel.ROAD
    assert result.score < 0.1
    assert "number differs: 12号 vs 14号" in result.reasons
    assert "same road 建设路" in result.reasons


def test_same_road_name_in_two_counties_scores_low() -> None:
    xichang = normalise_address("西昌市人民路12号")
    mianning = normalise_address("冕宁县人民路12号")
    deyang = normalise_address("德阳市旌阳区人民路12号")
    same_prefecture = match_addresses(xichang, mianning)
    other_prefecture = match_addresses(xichang, deyang)
    assert same_prefecture.level is MatchLevel.PREFECTURE
    assert any(reason.startswith("county differs") for reason in same_prefecture.reasons)
    assert same_prefecture.score < 0.05
    assert other_prefecture.level is MatchLevel.PROVINCE
    assert other_prefecture.score < 0.05


def test_same_road_without_any_region_is_only_moderate() -> None:
    unanchored = match_addresses(normalise_address("人民路12号"), normalise_address("人民路12号"))
    anchored = match_addresses(
        normalise_address("西昌市人民路12号"), normalise_address("西昌市人民路12号")
    )
    assert unanchored.level is MatchLevel.NUMBER
    assert unanchored.score < 0.5
    assert anchored.score > unanchored.score + 0.3


def test_a_missing_component_is_neutral_not_a_conflict() -> None:
    with_town = normalise_address("西昌市河西镇建设路12号3栋")
    without_town = normalise_address("西昌市建设路12号3栋")
    result = match_addresses(with_town, without_town)
    assert result.level is MatchLevel.BUILDING
    assert not any("differs" in reason for reason in result.reasons)
    assert "town 河西镇 on one side only" in result.reasons
    assert result.score == match_addresses(without_town, without_town).score


def test_conflicting_building_on_the_same_number_pulls_the_score_down() -> None:
    same = match_addresses(
        normalise_address("西昌市建设路12号3栋"), normalise_address("西昌市建设路12号3栋")
    )
    other = match_addresses(
        normalise_address("西昌市建设路12号3栋"), normalise_address("西昌市建设路12号5栋")
    )
    assert other.level is MatchLevel.NUMBER
    assert other.score < same.score / 5


def test_sub_numbers_that_differ_conflict_but_a_missing_one_does_not() -> None:
    base = normalise_address("西昌市建设路12号")
    three = normalise_address("西昌市建设路12-3号")
    five = normalise_address("西昌市建设路12号之5")
    assert match_addresses(base, three).level is MatchLevel.NUMBER
    conflict = match_addresses(three, five)
    assert any(reason.startswith("sub-number differs") for reason in conflict.reasons)
    assert conflict.score < match_addresses(base, three).score / 3


def test_park_addresses_written_two_ways_match() -> None:
    result = match_addresses(
        normalise_address("西昌市经久工业园区A区3号厂房"),
        normalise_address("凉山州西昌经久园区3栋"),
    )
    assert result.level is MatchLevel.BUILDING
    assert "same park 经久工业园区 ~ 经久园区" in result.reasons
    assert result.score > 0.5


def test_different_parks_in_one_county_conflict() -> None:
    result = match_addresses(
        normalise_address("西昌市经久工业园区3栋"), normalise_address("西昌市安宁工业园区3栋")
    )
    assert result.level is MatchLevel.COUNTY
    assert result.score < 0.1


def test_former_name_in_brackets_matches_the_landmark_written_plainly() -> None:
    plain = normalise_address("西昌市河西镇红星厂")
    bracketed = normalise_address("西昌市河西镇新华路（原红星厂）")
    unrelated = normalise_address("西昌市河西镇新华路（原东方厂）")
    with_former = match_addresses(plain, bracketed)
    without = match_addresses(plain, unrelated)
    assert any("红星厂" in reason and "landmark" in reason for reason in with_former.reasons)
    assert with_former.score > without.score


def test_village_addresses_match_at_number_level_and_differ_by_group() -> None:
    a = normalise_address("冕宁县城厢镇红星村3组15号")
    b = normalise_address("凉山州冕宁城厢镇红星村三组十五号")
    c = normalise_address("冕宁县城厢镇红星村4组15号")
    assert match_addresses(a, b).level is MatchLevel.NUMBER
    other_group = match_addresses(a, c)
    assert other_group.level is MatchLevel.VILLAGE
    assert other_group.score < match_addresses(a, b).score / 3


def test_town_written_as_xiang_or_zhen_still_matches() -> None:
    result = match_addresses(
        normalise_address("西昌市经久乡建设路1号"), normalise_address("西昌市经久镇建设路1号")
    )
    assert result.level is MatchLevel.NUMBER
    assert "same town 经久乡 ~ 经久镇" in result.reasons


def test_match_is_symmetric_in_score_and_level() -> None:
    a = _read(SAME_SITE[0])
    b = _read(SAME_SITE[2])
    forward, backward = match_addresses(a, b), match_addresses(b, a)
    assert (forward.score, forward.level) == (backward.score, backward.level)


def test_nonsense_matches_nothing() -> None:
    result = match_addresses(normalise_address("asdf"), normalise_address("西昌市建设路12号"))
    assert result.level is MatchLevel.NONE
    assert result.score == 0.0
    assert result.reasons[-1].startswith("nothing to compare")


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(str.strip), st.sampled_from(SAME_SITE))
def test_scores_stay_in_the_unit_interval(text: str, site: tuple[str, str | None]) -> None:
    result = match_addresses(normalise_address(text), _read(site))
    assert 0.0 <= result.score <= 1.0


def test_old_name_of_an_upgraded_county_resolves_to_the_current_code() -> None:
    old = normalise_address("甘孜州康定县炉城镇大桥水电站")
    assert old.county_code == "513301"  # 康定县 became 康定市 in 2015
    assert old.town == "炉城镇"
    assert old.places == ("大桥水电站",)


def test_road_sections_are_part_of_the_road() -> None:
    chinese = normalise_address("成都市武侯区人民南路四段12号附2号")
    arabic = normalise_address("成都市武侯区人民南路4段12-2号")
    other_section = normalise_address("成都市武侯区人民南路三段12号")
    assert chinese.road == arabic.road == "人民南路4段"
    assert chinese.key == arabic.key
    assert match_addresses(chinese, other_section).level is MatchLevel.COUNTY


def test_region_in_brackets_is_used_when_the_text_names_none() -> None:
    address = normalise_address("（西昌）建设路5号")
    assert address.county_code == XICHANG
    assert address.aside == ("西昌",)


def test_zone_named_only_by_its_kind_is_a_park() -> None:
    address = normalise_address("成都高新区天府大道北段1700号9楼")
    assert address.prefecture_code == "510100"
    assert address.county_code is None
    assert address.park == "高新区"
    assert address.road == "天府大道北段"
    assert (address.number, address.floor) == ("1700", "9")
    assert address.key == "510100/高新区/天府大道北段/1700号/9层"


def test_place_suffix_inside_a_town_name_does_not_cut_it() -> None:
    address = normalise_address("凉山州会理县鹿厂镇铜矿山")
    assert address.county_code == "513402"  # 会理县 became 会理市
    assert address.town == "鹿厂镇"
    assert address.places == ("铜矿山",)


def test_citizen_report_with_lead_in_words_and_a_region_after_them() -> None:
    lead_in = normalise_address("群众反映：建设路5号", region_hint=XICHANG)
    assert (lead_in.road, lead_in.number, lead_in.remainder) == ("建设路", "5", "")
    later = normalise_address("据说西昌市安宁镇某废弃厂房里有人挖矿")
    assert later.county_code == XICHANG
    assert later.town == "安宁镇"
    assert "据说" in later.remainder
    assert "某废弃厂房" in later.places


def test_region_named_after_the_street_is_still_read() -> None:
    address = normalise_address("建设路12号西昌市")
    assert address.county_code == XICHANG
    assert (address.road, address.number, address.remainder) == ("建设路", "12", "")


def test_direction_and_numbered_road_section() -> None:
    address = normalise_address("成都市金牛区一环路北三段2号")
    assert address.road == "一环路北3段"
    assert address.number == "2"
    assert address.remainder == ""


def test_match_levels_are_ordered_from_general_to_specific() -> None:
    assert MatchLevel.ROOM.at_least(MatchLevel.BUILDING)
    assert MatchLevel.BUILDING.at_least(MatchLevel.BUILDING)
    assert not MatchLevel.ROAD.at_least(MatchLevel.NUMBER)
    assert not MatchLevel.NONE.at_least(MatchLevel.PROVINCE)


def test_dashes_as_separators_are_not_sub_numbers() -> None:
    dashed = normalise_address("西昌市-建设路-12号-3栋")
    assert (dashed.road, dashed.number, dashed.sub_number, dashed.building) == (
        "建设路",
        "12",
        None,
        "3",
    )
    assert dashed.remainder == ""
    basement = normalise_address("西昌市建设路12号-1层")
    assert (basement.sub_number, basement.floor) == (None, "-1")
    sub = normalise_address("西昌市建设路12号-3")
    assert sub.sub_number == "3"
