"""The dashboard's SQL aggregates: areas of a map, roll-up into them, weeks, the region limit."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from conftest import at, case_lead
from minewatch.domain.cases.service import fuse_leads
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.dashboard.figures import (
    CaseFigures,
    case_points,
    case_tally,
    map_areas,
    recent_weeks,
    region_level,
    weekly_trend,
)
from minewatch.domain.leads.service import record_leads
from minewatch.domain.ledger.weekly import Week


def test_map_areas_look_through_groupings() -> None:
    assert len(map_areas("000000")) == 34
    hubei = {r.code for r in map_areas("420000")}
    assert {"420100", "429004", "429021"} <= hubei  # 武汉市; 仙桃市, 神农架林区 (直辖)
    assert "429000" not in hubei
    beijing = {r.code for r in map_areas("110000")}
    assert "110101" in beijing  # a municipality's map is drawn in its districts
    assert map_areas("511824") == []
    assert [region_level(c) for c in ("000000", "510000", "511800", "511824")] == [
        "national", "province", "prefecture", "county",
    ]  # fmt: skip


def _cases(session: Session) -> None:
    leads = [
        case_lead("meters", "M1", 0.9, account_no="A1", region_code="511824", est_mining_kw=100.0,
                  longitude=102.36, latitude=29.23),
        case_lead("meters", "M2", 0.9, account_no="A2", region_code="429004", est_mining_kw=40.0),
        case_lead("meters", "M3", 0.9, account_no="A3", region_code="420102", est_mining_kw=None),
        case_lead("meters", "M4", 0.9, account_no="A4", region_code=None, est_mining_kw=5.0),
    ]  # fmt: skip
    record_leads(session, leads, actor="analyst", at=at("2021-10-20"))
    fuse_leads(session, actor="analyst", at=at("2021-10-20"))


def test_the_tally_rolls_up_into_the_areas_of_each_map(session: Session) -> None:
    _cases(session)
    now = at("2021-10-21")
    nation = case_tally(session, "000000", now=now)
    assert nation.figures().total == 4  # the nation also answers for a case of no known region
    by_province = nation.by_area([r.code for r in map_areas("000000")])
    assert (by_province["510000"].open_cases, by_province["420000"].open_cases) == (1, 2)
    assert by_province["420000"].open_mining_kw == 40.0
    hubei = case_tally(session, "420000", now=now)
    areas = hubei.by_area([r.code for r in map_areas("420000")])
    assert (areas["429004"].open_cases, areas["420100"].open_cases) == (1, 1)
    assert hubei.figures().overdue == 0
    later = case_tally(session, "420000", now=at("2021-10-30"))  # three days to assign
    assert later.figures().overdue == 2
    assert case_tally(session, "511800", now=now).figures().cases == {CaseStatus.OPEN: 1}


def test_case_figures_combine() -> None:
    one = CaseFigures({CaseStatus.OPEN: 1}, {CaseStatus.OPEN: 10.0}, 1)
    two = CaseFigures({CaseStatus.CLEARED: 2}, {CaseStatus.CLEARED: 5.0}, 0)
    both = CaseFigures.combine([one, two])
    assert (both.total, both.open_cases, both.cleared, both.overdue) == (3, 3, 2, 1)
    assert (both.removed_mining_kw, both.open_mining_kw) == (5.0, 15.0)


def test_points_are_the_located_open_cases_of_the_region(session: Session) -> None:
    _cases(session)
    (point,) = case_points(session, "510000")
    assert (point.region_code, point.longitude, point.latitude) == ("511824", 102.36, 29.23)
    assert case_points(session, "420000") == []


def test_weeks_run_back_across_a_new_year(session: Session) -> None:
    weeks = recent_weeks(Week(2021, 2), 4)
    assert [str(w) for w in weeks] == ["2020-W52", "2020-W53", "2021-W01", "2021-W02"]
    assert weekly_trend(session, "000000", []) == []
    _cases(session)
    (w42,) = weekly_trend(session, "510000", [Week.of(date(2021, 10, 20))])
    assert (w42.new_cases, w42.confirmed, w42.cleared) == (1, 0, 0)
