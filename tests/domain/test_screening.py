"""Screening: connection applications, market participants and bank customers against the list."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from conftest import make_confirmed_case, make_uscc
from minewatch.domain.screening.service import (
    Decision,
    Party,
    ScreeningSettings,
    name_key,
    read_parties,
    screen,
    watch_list,
)
from minewatch.errors import InputFileError


def test_names_lose_their_legal_form_and_trade_words() -> None:
    assert name_key("石棉县鑫源1科技有限公司") == name_key("石棉县鑫源1（科技）有限责任公司")
    assert name_key("Ｘ云计算有限公司") == "X"


def test_a_listed_enterprise_is_held_by_code_name_or_address(session: Session) -> None:
    make_confirmed_case(session)  # 石棉县鑫源1科技有限公司 at 四川省雅安市石棉县美罗镇1号厂房
    entries = watch_list(session)
    assert {e.source.split()[0] for e in entries} >= {"case", "ledger"}
    parties = [
        Party("A1", "另一家公司", uscc=make_uscc(1)),
        Party("A2", "石棉鑫源1科技有限责任公司"),
        Party("A3", "新成立的某公司", address="雅安市石棉县美罗镇1号厂房"),
        Party("A4", "无关的水泥厂", uscc=make_uscc(500), address="四川省雅安市雨城区大兴街道8号"),
    ]
    results = {r.reference: r for r in screen(parties, entries)}
    assert results["A1"].decision == Decision.HOLD
    assert results["A1"].hits[0].on == "uscc"
    assert results["A2"].decision == Decision.HOLD
    assert {h.on for h in results["A2"].hits} == {"name"}
    assert results["A3"].decision == Decision.HOLD
    assert "address" in {h.on for h in results["A3"].hits}
    assert results["A4"].decision == Decision.PASS
    assert results["A4"].hits == ()


def test_a_declared_load_that_looks_like_mining_is_held() -> None:
    parties = [
        Party("B1", "某数据", declared_load_kw=2_000, industry="区块链数据处理", daily_hours=24),
        Party("B2", "某某冷库", declared_load_kw=2_000, industry="冷链仓储", daily_hours=24),
        Party("B3", "某某软件", declared_load_kw=80, industry="云计算", daily_hours=24),
        Party("B4", "某某渲染", declared_load_kw=900, industry="数据中心", daily_hours=10),
    ]
    results = {r.reference: r for r in screen(parties, [], check_load=True)}
    assert results["B1"].decision == Decision.HOLD
    assert "looks like mining" in results["B1"].reasons
    assert [results[k].decision for k in ("B2", "B3", "B4")] == [Decision.PASS] * 3
    # market and bank lists are not judged on load
    assert screen(parties[:1], [])[0].decision == Decision.PASS
    strict = ScreeningSettings(mining_load_kw=5_000)
    assert screen(parties[:1], [], strict, check_load=True)[0].decision == Decision.PASS


def test_the_watch_list_is_the_screeners_region(session: Session) -> None:
    make_confirmed_case(session)  # 石棉县 511824
    assert {e.source.split()[0] for e in watch_list(session, within_region="511824")} >= {
        "case",
        "ledger",
    }
    assert watch_list(session, within_region="511823") == []
    assert len(watch_list(session, within_region="510000")) == len(watch_list(session))


def test_a_declared_daytime_load_is_not_held() -> None:
    base = Party("D1", "某数据", declared_load_kw=2_000, industry="数据中心")
    assert screen([base], [], check_load=True)[0].decision == Decision.HOLD  # hours not said
    daytime = Party("D2", "某数据", declared_load_kw=2_000, industry="数据中心",
                    round_the_clock=False)  # fmt: skip
    assert screen([daytime], [], check_load=True)[0].decision == Decision.PASS


def test_parties_are_read_from_csv_with_every_bad_cell_named() -> None:
    text = ("\ufeffreference,name,uscc,declared_load_kw,daily_hours,round_the_clock,region_code\n"
            "A1,某公司,,500,24,是,511824\n"
            "A2,某厂,,,,,\n")  # fmt: skip
    parties = read_parties(text, "parties.csv")
    assert [p.reference for p in parties] == ["A1", "A2"]
    assert (parties[0].declared_load_kw, parties[0].round_the_clock) == (500.0, True)
    assert parties[1].round_the_clock is None
    bad = ("reference,name,daily_hours,round_the_clock,region_code\n"
           "B1,某厂,30,也许,999999\n"
           ",无编号,,,\n")  # fmt: skip
    with pytest.raises(InputFileError) as caught:
        read_parties(bad, "bad.csv")
    where = {(p.row, p.column) for p in caught.value.problems}
    assert where == {(2, "daily_hours"), (2, "round_the_clock"), (2, "region_code"),
                     (3, "reference")}  # fmt: skip
    with pytest.raises(InputFileError, match="missing name"):
        read_parties("reference\nX\n", "short.csv")
