"""The generated demo province: deterministic, valid codes and regions, a plausible crackdown."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from minewatch.reference import credit_code, regions
from minewatch.reference.hardware import find_model
from minewatch.reference.ledger import (
    EnterpriseKind,
    LedgerEntry,
    ProjectStatus,
    SiteType,
    SupplyKind,
)
from minewatch.reference.regions import RegionLevel
from minewatch.synth.province import DemoProvince, generate_demo_province

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE = re.compile(r"^XM-(\d{6})-(\d{4})$")


@pytest.fixture(scope="module")
def sichuan() -> DemoProvince:
    return generate_demo_province()


def province_of(code: str) -> str:
    """The province a region lies in, by walking up its parents."""
    region = regions.get(code)
    while region.level != RegionLevel.PROVINCE:
        assert region.parent_code is not None
        region = regions.get(region.parent_code)
    return region.code


def histories(province: DemoProvince) -> dict[str, list[LedgerEntry]]:
    by_code: dict[str, list[LedgerEntry]] = defaultdict(list)
    for change in province.changes:
        assert change.entry.project_code is not None
        by_code[change.entry.project_code].append(change.entry)
    return by_code


def active_by_week(province: DemoProvince) -> list[int]:
    return [
        sum(e.status.is_active for e in province.ledger_as_of(province.week_end(i)).values())
        for i in range(len(province.weeks))
    ]


def digest(province: DemoProvince) -> str:
    return hashlib.sha256(repr((province.enterprises, province.changes)).encode()).hexdigest()


def test_same_seed_same_province_and_another_seed_another() -> None:
    first = generate_demo_province(5, n_projects=150)
    again = generate_demo_province(5, n_projects=150)
    other = generate_demo_province(6, n_projects=150)
    assert first == again
    assert digest(first) == digest(again)
    assert first.changes != other.changes
    assert first.enterprises != other.enterprises


def test_independent_of_string_hash_randomisation() -> None:
    script = (
        "import hashlib; from minewatch.synth.province import generate_demo_province as g; "
        "p = g(11, n_projects=80, weeks=4); "
        "print(hashlib.sha256(repr((p.enterprises, p.changes)).encode()).hexdigest())"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {digest(generate_demo_province(11, n_projects=80, weeks=4))}


def test_weeks_are_the_mondays(sichuan: DemoProvince) -> None:
    assert sichuan.province_code == "510000"
    assert sichuan.seed == 1283
    assert sichuan.weeks == tuple(date(2021, 9, 27) + timedelta(weeks=i) for i in range(8))
    moved = generate_demo_province(1, n_projects=10, weeks=2, first_week=date(2021, 9, 30))
    assert moved.weeks == (date(2021, 9, 27), date(2021, 10, 4))


def test_enterprises_have_valid_unique_credit_codes_of_their_county(
    sichuan: DemoProvince,
) -> None:
    codes = [e.uscc for e in sichuan.enterprises]
    assert len(set(codes)) == len(codes)
    assert len({e.name for e in sichuan.enterprises}) == len(codes)
    for enterprise in sichuan.enterprises:
        assert credit_code.validate(enterprise.uscc) == enterprise.uscc
        assert credit_code.region_code_of(enterprise.uscc) == enterprise.region_code
        assert regions.get(enterprise.region_code).level == RegionLevel.COUNTY
        assert province_of(enterprise.region_code) == "510000"
        if enterprise.state_owned:
            assert enterprise.kind == EnterpriseKind.STATE_OWNED_UNIT
            assert enterprise.uscc.startswith("1")
        else:
            assert enterprise.uscc[:2] in ("91", "92")
        assert enterprise.legal_representative
        assert regions.get(enterprise.region_code).name in enterprise.address
        assert enterprise.address.endswith("号")


def test_about_seven_projects_to_ten_enterprises(sichuan: DemoProvince) -> None:
    assert 0.6 * 400 <= len(sichuan.enterprises) <= 0.8 * 400
    owners = {c.entry.enterprise_uscc for c in sichuan.changes}
    assert owners == {e.uscc for e in sichuan.enterprises}
    kinds = {e.kind for e in sichuan.enterprises}
    assert {EnterpriseKind.MINING_OPERATOR, EnterpriseKind.POWER_PLANT} <= kinds
    miners = sum(e.kind == EnterpriseKind.MINING_OPERATOR for e in sichuan.enterprises)
    assert miners > len(sichuan.enterprises) / 2


def test_rows_name_their_enterprise(sichuan: DemoProvince) -> None:
    by_uscc = {e.uscc: e for e in sichuan.enterprises}
    for change in sichuan.changes:
        enterprise = by_uscc[change.entry.enterprise_uscc]
        assert change.entry.enterprise_name == enterprise.name
        assert change.entry.legal_representative == enterprise.legal_representative
        if enterprise.kind == EnterpriseKind.STATE_OWNED_UNIT:
            assert change.entry.site_type == SiteType.STATE_OWNED_SERVER_ROOM
        else:
            assert change.entry.site_type != SiteType.STATE_OWNED_SERVER_ROOM


def test_every_region_is_a_county_of_the_province(sichuan: DemoProvince) -> None:
    for code in {c.entry.region_code for c in sichuan.changes} | {
        c.entry.responsible_region_code for c in sichuan.changes
    }:
        assert regions.get(code).level == RegionLevel.COUNTY
        assert province_of(code) == "510000"
    for change in sichuan.changes:
        assert change.entry.responsible_region_code == change.entry.region_code
        assert regions.get(change.entry.region_code).full_name in change.entry.site_address


def test_sichuan_projects_sit_in_the_hydro_prefectures(sichuan: DemoProvince) -> None:
    first = {c.entry.project_code: c.entry for c in reversed(sichuan.changes)}
    prefectures = [e.region_code[:4] for e in first.values()]
    hydro = sum(p in ("5118", "5133", "5132", "5134", "5111") for p in prefectures)
    assert hydro > 0.7 * len(prefectures)
    assert "5101" in prefectures
    plants = [e for e in first.values() if e.supply_kind != SupplyKind.GRID]
    assert plants
    assert all(e.supply_plant for e in plants)
    assert any("水电站" in (e.supply_plant or "") for e in plants)
    for entry in first.values():
        assert 97.0 < (entry.longitude or 0) < 109.0
        assert 26.0 < (entry.latitude or 0) < 34.5


def test_project_codes_are_unique_numbered_per_county_and_stable(sichuan: DemoProvince) -> None:
    by_code = histories(sichuan)
    assert len(by_code) == 400
    numbers: dict[str, list[int]] = defaultdict(list)
    for code, entries in by_code.items():
        match = CODE.match(code)
        assert match is not None
        numbers[match[1]].append(int(match[2]))
        first = entries[0]
        assert match[1] == first.region_code
        for entry in entries:
            assert entry.enterprise_uscc == first.enterprise_uscc
            assert entry.enterprise_name == first.enterprise_name
            assert entry.site_address == first.site_address
            assert entry.region_code == first.region_code
    for county_numbers in numbers.values():
        assert sorted(county_numbers) == list(range(1, len(county_numbers) + 1))
    addresses = [(e[0].enterprise_uscc, e[0].site_address) for e in by_code.values()]
    assert len(set(addresses)) == len(addresses)


def test_changes_are_sorted_office_hours_inside_the_weeks(sichuan: DemoProvince) -> None:
    start = datetime.combine(sichuan.weeks[0], datetime.min.time(), SHANGHAI)
    end = sichuan.week_end(len(sichuan.weeks) - 1)
    moments = [c.at for c in sichuan.changes]
    assert moments == sorted(moments)
    for change in sichuan.changes:
        assert change.at.utcoffset() == timedelta(0)
        assert change.at.tzinfo is UTC
        assert start <= change.at < end
        local = change.at.astimezone(SHANGHAI)
        assert local.weekday() < 5
        assert 9 <= local.hour < 18
        assert change.actor
        assert change.reason


def test_first_change_registers_and_none_is_a_no_op(sichuan: DemoProvince) -> None:
    first_reasons = set()
    for code, entries in histories(sichuan).items():
        for before, after in itertools.pairwise(entries):
            assert before != after, code
        first_reasons.add(
            next(c.reason for c in sichuan.changes if c.entry.project_code == code)[:4]
        )
    assert first_reasons == {"首次登记"}


def test_each_week_registers_fewer_projects(sichuan: DemoProvince) -> None:
    new = [0] * len(sichuan.weeks)
    seen: set[str] = set()
    for change in sichuan.changes:
        code = change.entry.project_code
        assert code is not None
        if code not in seen:
            seen.add(code)
            week = (change.at.astimezone(SHANGHAI).date() - sichuan.weeks[0]).days // 7
            new[week] += 1
    assert new[0] > 0.5 * 400
    assert new[0] > new[1] > new[-1]


def test_the_crackdown_works(sichuan: DemoProvince) -> None:
    active = active_by_week(sichuan)
    assert active[0] > active[-1]
    assert active[-1] < 0.25 * 400
    statuses = {c.entry.status for c in sichuan.changes}
    assert statuses == set(ProjectStatus)
    first_week = sichuan.ledger_as_of(sichuan.week_end(0)).values()
    assert all(e.status.is_active for e in first_week)
    last = sichuan.ledger_as_of(sichuan.week_end(len(sichuan.weeks) - 1))
    assert len(last) == 400
    done = sum(e.status in (ProjectStatus.SHUT_DOWN, ProjectStatus.CLEARED) for e in last.values())
    assert done > 0.7 * 400
    reasons = {c.reason for c in sichuan.changes}
    assert "更正矿机数量" in reasons
    relapses = [
        (b, a)
        for entries in histories(sichuan).values()
        for b, a in itertools.pairwise(entries)
        if b.status == ProjectStatus.CLEARED and a.status == ProjectStatus.OPERATING
    ]
    assert len(relapses) < 0.05 * 400


def test_figures_follow_the_machines(sichuan: DemoProvince) -> None:
    registered: set[str] = set()
    for change in sichuan.changes:
        entry = change.entry
        models = [find_model(m.model) for m in entry.machines]
        assert all(m is not None for m in models)
        known = [m for m in models if m is not None]
        assert len({m.algorithm for m in known}) == 1
        assert entry.machine_count == sum(m.count for m in entry.machines)
        assert entry.hashrate_unit is not None
        assert entry.hashrate is not None
        hashes = sum(m.hashrate_hs * c.count for m, c in zip(known, entry.machines, strict=True))
        assert entry.hashrate * entry.hashrate_unit.hashes_per_second == pytest.approx(
            hashes, rel=1e-3
        )
        watts = sum(m.power_w * c.count for m, c in zip(known, entry.machines, strict=True))
        assert entry.rated_power_kw is not None
        assert entry.project_code is not None
        if entry.project_code not in registered:  # later rows may carry a corrected power
            registered.add(entry.project_code)
            assert 1.0 <= entry.rated_power_kw * 1000 / watts <= 1.11
        if entry.status == ProjectStatus.OPERATING:
            assert entry.monthly_energy_kwh is not None
            assert 0.7 < entry.monthly_energy_kwh / (entry.rated_power_kw * 720) < 1.0
        if entry.status == ProjectStatus.IN_CONSTRUCTION:
            assert entry.planned_production_date is not None
        if entry.site_type in (SiteType.RESIDENCE, SiteType.STATE_OWNED_SERVER_ROOM):
            assert (entry.machine_count or 0) <= 60
        else:
            assert (entry.machine_count or 0) <= 3500
        if entry.supply_kind == SupplyKind.GRID:
            assert entry.grid_account_no is not None
            assert len(entry.grid_account_no) == 10
        if entry.status.is_active:
            assert entry.exit_deadline is not None
        assert entry.responsible_official


@pytest.mark.parametrize("province_code", ["150000", "110000", "650000"])
def test_other_provinces(province_code: str) -> None:
    province = generate_demo_province(3, province_code=province_code, n_projects=90)
    assert len(histories(province)) == 90
    for change in province.changes:
        for code in (change.entry.region_code, change.entry.responsible_region_code):
            assert regions.get(code).level == RegionLevel.COUNTY
            assert province_of(code) == province_code
    for enterprise in province.enterprises:
        assert credit_code.is_valid(enterprise.uscc)
        assert province_of(enterprise.region_code) == province_code
    active = active_by_week(province)
    assert active[0] > active[-1]


@pytest.mark.parametrize(("n_projects", "weeks"), [(1, 1), (10, 2), (57, 5), (0, 3)])
def test_the_number_of_projects_is_exact(n_projects: int, weeks: int) -> None:
    province = generate_demo_province(9, n_projects=n_projects, weeks=weeks)
    assert len(histories(province)) == n_projects
    assert len(province.weeks) == weeks
    assert (len(province.enterprises) == 0) == (n_projects == 0)


@pytest.mark.parametrize(
    "arguments",
    [{"weeks": 0}, {"n_projects": -1}, {"province_code": "511800"}, {"province_code": "810000"}],
)
def test_rejects_what_it_cannot_generate(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        generate_demo_province(1, **arguments)  # type: ignore[arg-type]


def test_province_scale() -> None:
    # (Its speed is measured by `make bench`, not here.)
    province = generate_demo_province(7, n_projects=5000, weeks=8)
    assert len(histories(province)) == 5000
