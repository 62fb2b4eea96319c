"""The ledger as of a week, week-over-week change and the county → nation rollup."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from conftest import at, make_entry
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.ledger.weekly import (
    NATIONAL,
    ChangeKind,
    Week,
    diff_ledgers,
    ledger_of_week,
    rollup,
    sha256_hashrate_ths,
    weekly_report,
    weeks_with_history,
)
from minewatch.reference.ledger import HashrateUnit, MachineCount, ProjectStatus


def test_week_parsing_and_bounds() -> None:
    week = Week.parse("2021-W40")
    assert (week.monday, week.sunday) == (date(2021, 10, 4), date(2021, 10, 10))
    assert Week.parse("2021-10-06") == week
    assert Week.parse("2021w40") == week
    # Sunday 23:59 Beijing time is still week 40; Monday 00:00 Beijing is 16:00 UTC on Sunday.
    assert week.end_at == datetime(2021, 10, 10, 16, 0, tzinfo=UTC)
    assert Week.containing(datetime(2021, 10, 10, 15, 59, tzinfo=UTC)) == week
    assert Week.containing(datetime(2021, 10, 10, 16, 0, tzinfo=UTC)) == week.next()
    assert week.previous() == Week(2021, 39)
    assert Week(2020, 53).next() == Week(2021, 1)
    with pytest.raises(ValueError, match="2021-W60"):
        Week.parse("2021-W60")
    with pytest.raises(ValueError, match="neither"):
        Week.parse("next week")


def _history(session: Session) -> None:
    """Week 40: two projects; week 41: one new, one exits, one changes."""
    save_entry(session, make_entry(1), actor="a", at=at("2021-10-05"))
    save_entry(session, make_entry(2), actor="a", at=at("2021-10-06"))
    save_entry(
        session,
        make_entry(3, region_code="511823", responsible_region_code="511823",
                   status=ProjectStatus.IN_CONSTRUCTION, monthly_energy_kwh=None),
        actor="a", at=at("2021-10-12"),
    )  # fmt: skip
    save_entry(
        session,
        make_entry(1, project_code="XM-511824-0001", status=ProjectStatus.SHUT_DOWN,
                   monthly_energy_kwh=0.0),
        actor="a", at=at("2021-10-13"),
    )  # fmt: skip
    save_entry(
        session,
        make_entry(2, project_code="XM-511824-0002", monthly_energy_kwh=300_000.0),
        actor="a", at=at("2021-10-14"),
    )  # fmt: skip


def test_ledger_as_of_each_week_comes_from_the_chain(session: Session) -> None:
    _history(session)
    w40 = ledger_of_week(session, Week(2021, 40))
    w41 = ledger_of_week(session, Week(2021, 41))
    assert sorted(w40) == ["XM-511824-0001", "XM-511824-0002"]
    assert w40["XM-511824-0001"].status is ProjectStatus.OPERATING
    assert sorted(w41) == ["XM-511823-0001", "XM-511824-0001", "XM-511824-0002"]
    assert w41["XM-511824-0001"].status is ProjectStatus.SHUT_DOWN
    assert ledger_of_week(session, Week(2021, 39)) == {}
    assert weeks_with_history(session) == [Week(2021, 40), Week(2021, 41)]


def test_diff_classifies_new_changed_exited(session: Session) -> None:
    _history(session)
    changes = diff_ledgers(
        ledger_of_week(session, Week(2021, 40)), ledger_of_week(session, Week(2021, 41))
    )
    kinds = {c.project_code: c.kind for c in changes}
    assert kinds == {
        "XM-511823-0001": ChangeKind.NEW,
        "XM-511824-0001": ChangeKind.EXITED,
        "XM-511824-0002": ChangeKind.CHANGED,
    }
    changed = next(c for c in changes if c.kind is ChangeKind.CHANGED)
    assert changed.fields == ("monthly_energy_kwh",)


def test_cleared_after_shut_down_is_a_change_not_a_second_exit() -> None:
    shut = make_entry(1, project_code="XM-511824-0001", status=ProjectStatus.SHUT_DOWN)
    cleared = make_entry(1, project_code="XM-511824-0001", status=ProjectStatus.CLEARED)
    (change,) = diff_ledgers({"XM-511824-0001": shut}, {"XM-511824-0001": cleared})
    assert change.kind is ChangeKind.CHANGED


def test_rollup_sums_counties_into_city_province_nation(session: Session) -> None:
    _history(session)
    report = weekly_report(session, Week(2021, 41))
    by_code = {s.region_code: s for s in report.summaries}
    assert [s.region_code for s in report.summaries] == [
        NATIONAL, "510000", "511800", "511823", "511824",
    ]  # fmt: skip
    assert [s.depth for s in report.summaries] == [0, 1, 2, 3, 3]
    shimian, hanyuan = by_code["511824"], by_code["511823"]
    assert (shimian.operating, shimian.shut_down, shimian.exited, shimian.changed) == (1, 1, 1, 1)
    assert (hanyuan.in_construction, hanyuan.new) == (1, 1)
    for parent in ("511800", "510000", NATIONAL):
        total = by_code[parent]
        assert total.active == 2
        assert total.new == 1
        assert total.exited == 1
        assert total.rated_power_kw == pytest.approx(2 * 420.5)
        assert total.exited_power_kw == pytest.approx(420.5)
        assert total.monthly_energy_kwh == pytest.approx(300_000.0)  # in construction: none


def test_rollup_within_a_region_keeps_only_its_subtree(session: Session) -> None:
    _history(session)
    report = weekly_report(session, Week(2021, 41), within="511824")
    assert [s.region_code for s in report.summaries] == ["511824"]
    assert report.summaries[0].depth == 0
    assert set(report.ledger) == {"XM-511824-0001", "XM-511824-0002"}


def test_rollup_of_an_empty_ledger_is_empty() -> None:
    assert rollup({}) == []


def test_municipality_and_directly_administered_counties_roll_up() -> None:
    beijing = make_entry(1, project_code="XM-110108-0001", region_code="110108",
                         responsible_region_code="110108")  # fmt: skip
    xiantao = make_entry(2, project_code="XM-429004-0001", region_code="429004",
                         responsible_region_code="429004")  # fmt: skip
    codes = [s.region_code for s in rollup({"a": beijing, "b": xiantao})]
    assert codes == [NATIONAL, "110000", "110100", "110108", "420000", "429000", "429004"]


def test_sha256_hashrate_reads_the_algorithm_from_the_machines() -> None:
    asic = make_entry(1, hashrate=12.76, hashrate_unit=HashrateUnit.PHS)
    gpu = make_entry(
        2, machines=(MachineCount("GPU rig 8x RTX 3080", 10),), machine_count=10,
        hashrate=7.8, hashrate_unit=HashrateUnit.GHS,
    )  # fmt: skip
    unknown = make_entry(
        3, machines=(), machine_count=50, hashrate=5.0, hashrate_unit=HashrateUnit.PHS
    )
    none = make_entry(4, hashrate=None, hashrate_unit=None)
    assert sha256_hashrate_ths(asic) == pytest.approx(12_760.0)
    assert sha256_hashrate_ths(gpu) == 0.0
    assert sha256_hashrate_ths(unknown) == pytest.approx(5_000.0)
    assert sha256_hashrate_ths(none) == 0.0
