"""Declared hash rate, power and consumption held against machines and meters (crafted)."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from conftest import make_entry
from minewatch.detect.power.declarations import (
    DECLARATION_FINDINGS_SCHEMA,
    REASONS,
    DeclarationCheck,
    DeclarationSettings,
    check_declaration,
    check_declarations,
    checks_table,
)
from minewatch.detect.power.metered import MeteredAccount
from minewatch.detect.power.site import hashrate_from_power
from minewatch.reference.ledger import HashrateUnit, MachineCount

AS_OF = date(2021, 9, 30)
ACCOUNT = "5118240012345"  # make_entry's grid account
# make_entry: Antminer S19 Pro × 100 + Whatsminer M30S × 20 = 391.88 kW at the wall,
# 12.76 PH/s; declared 420.5 kW, 12.76 PH/s, 290,000 kWh a month.
WALL_KW = 100 * 3.25 + 20 * 3.344


def _metered(mean_kw: float, hours: float = 720.0, account: str = ACCOUNT) -> MeteredAccount:
    return MeteredAccount(account, date(2021, 9, 1), date(2021, 9, 30), mean_kw * hours, hours,
                          hours, mean_kw, 1)  # fmt: skip


def _codes(check: DeclarationCheck) -> set[str]:
    return {f.code for f in check.findings}


def _notes(check: DeclarationCheck) -> set[str]:
    return {f.code for f in check.notes}


def _figures(check: DeclarationCheck, code: str) -> dict[str, object]:
    return next(f.as_dict() for f in check.findings if f.code == code)


def test_a_consistent_declaration_is_not_flagged() -> None:
    check = check_declaration(make_entry(), _metered(400.0), as_of=AS_OF)
    assert check.findings == ()
    assert check.notes == ()
    assert check.algorithm == "SHA-256"
    assert check.machines is not None
    assert check.machines.wall_power_kw.best_kw == pytest.approx(WALL_KW)
    assert check.metered_hashrate is not None


def test_a_meter_drawing_twice_the_declaration() -> None:
    check = check_declaration(make_entry(), _metered(900.0), as_of=AS_OF)
    assert check.flagged
    assert _codes(check) == {
        "declaration.power_below_metered",
        "declaration.energy_below_metered",
        "declaration.machines_below_metered",
    }
    power = _figures(check, "declaration.power_below_metered")
    assert power["declared_kw"] == 420.5
    assert power["metered_mean_kw"] == 900.0
    assert power["gap_kw"] == pytest.approx(479.5)
    assert power["gap_kwh"] == pytest.approx(479.5 * 720)
    assert power["ratio"] == pytest.approx(900 / 420.5)
    energy = _figures(check, "declaration.energy_below_metered")
    assert energy["metered_kwh_month"] == pytest.approx(900 * 730.5)
    assert energy["gap_kwh_month"] == pytest.approx(900 * 730.5 - 290_000)
    assert energy["gap_kwh"] == pytest.approx((900 - 290_000 / 730.5) * 720)
    machines = _figures(check, "declaration.machines_below_metered")
    site_upper_kw = WALL_KW * 1.05 * 1.2 * 1.03
    assert machines["machines_site_upper_kw"] == pytest.approx(site_upper_kw)
    assert machines["gap_kw"] == pytest.approx(900 - site_upper_kw)
    assert machines["ratio"] == pytest.approx(900 / site_upper_kw)
    assert machines["from"] == "2021-09-01"


def test_the_tolerance_is_a_setting_and_its_edge_is_not_flagged() -> None:
    at_edge = check_declaration(make_entry(monthly_energy_kwh=1e9), _metered(420.5 * 1.1))
    assert at_edge.findings == ()
    beyond = check_declaration(make_entry(monthly_energy_kwh=1e9), _metered(420.5 * 1.1001))
    assert _codes(beyond) == {"declaration.power_below_metered"}
    strict = DeclarationSettings(power_tolerance=0.0)
    tight = check_declaration(make_entry(monthly_energy_kwh=1e9), _metered(425.0), settings=strict)
    assert _codes(tight) == {"declaration.power_below_metered"}


def test_hash_rate_and_power_below_the_machines() -> None:
    entry = make_entry(hashrate=1.0, rated_power_kw=100.0)  # 1 PH/s and 100 kW for 120 ASICs
    check = check_declaration(entry, None, as_of=AS_OF)
    assert _codes(check) == {
        "declaration.hashrate_below_machines",
        "declaration.power_below_machines",
    }
    hashrate = _figures(check, "declaration.hashrate_below_machines")
    assert hashrate["declared_ths"] == 1000.0
    assert hashrate["implied_lower_ths"] == pytest.approx(12_760 * 0.97)
    assert hashrate["gap_ths"] == pytest.approx(12_760 * 0.97 - 1000)
    assert hashrate["gap_best_ths"] == pytest.approx(11_760)
    assert hashrate["ratio"] == pytest.approx(12.3772)
    power = _figures(check, "declaration.power_below_machines")
    assert power["machines_lower_kw"] == pytest.approx(WALL_KW * 0.95)
    assert power["gap_kw"] == pytest.approx(WALL_KW * 0.95 - 100)
    assert _notes(check) == {"data.no_metered_energy"}


def test_hash_rate_below_the_declared_power_even_with_the_oldest_machines() -> None:
    entry = make_entry(machines=(), machine_count=None, hashrate=10.0,
                       hashrate_unit=HashrateUnit.THS, rated_power_kw=5000.0)  # fmt: skip
    check = check_declaration(entry, None, as_of=AS_OF)
    assert check.algorithm == "SHA-256"  # told by the unit
    assert _codes(check) == {"declaration.hashrate_below_power"}
    bounds = hashrate_from_power(5000.0, "SHA-256", AS_OF).hashrate
    figures = _figures(check, "declaration.hashrate_below_power")
    assert figures["implied_lower_ths"] == pytest.approx(bounds.lower_ths)
    assert figures["implied_upper_ths"] == pytest.approx(bounds.upper_ths)
    assert figures["ratio"] == pytest.approx(bounds.lower_ths / 10.0)


def test_hash_rate_below_the_metered_power() -> None:
    entry = make_entry(machines=(), machine_count=None, hashrate=100.0,
                       hashrate_unit=HashrateUnit.THS, rated_power_kw=None,
                       monthly_energy_kwh=None)  # fmt: skip
    check = check_declaration(entry, _metered(1000.0), as_of=AS_OF)
    assert _codes(check) == {"declaration.hashrate_below_metered"}
    assert _figures(check, "declaration.hashrate_below_metered")["metered_mean_kw"] == 1000.0
    assert {(f.code, f.as_dict()["field"]) for f in check.notes} == {
        ("declaration.not_declared", "rated_power_kw"),
        ("declaration.not_declared", "monthly_energy_kwh"),
    }


def test_unknown_models_are_noted_and_undeclared_machines_not_inferred() -> None:
    machines = (MachineCount("Antminer S19 Pro", 100), MachineCount("神秘矿机 X1", 50))
    check = check_declaration(make_entry(machines=machines, machine_count=150), _metered(900.0))
    assert "declaration.machines_below_metered" not in _codes(check)
    assert "declaration.power_below_metered" in _codes(check)
    (note,) = check.notes
    assert (note.code, note.as_dict()) == (
        "declaration.unknown_model", {"model": "神秘矿机 X1", "count": 50},
    )  # fmt: skip


def test_checks_that_cannot_be_made_are_noted() -> None:
    no_account = check_declaration(make_entry(grid_account_no=None), None)
    assert _notes(no_account) == {"data.no_grid_account"}
    short = check_declaration(make_entry(), _metered(900.0, hours=100.0))
    assert short.findings == ()
    assert _notes(short) == {"data.short_metering"}
    gpu = make_entry(machines=(), machine_count=None, hashrate=500.0,
                     hashrate_unit=HashrateUnit.MHS)  # fmt: skip
    assert _notes(check_declaration(gpu, None)) == {
        "declaration.algorithm_unknown", "data.no_metered_energy",
    }  # fmt: skip
    early = check_declaration(make_entry(hashrate=0.001), _metered(400.0), as_of=date(2014, 1, 1))
    assert "data.no_hardware" in _notes(early)
    assert "declaration.hashrate_below_machines" in _codes(early)


def test_nan_declarations_are_missing_ones() -> None:
    entry = make_entry(rated_power_kw=math.nan, monthly_energy_kwh=math.nan)
    check = check_declaration(entry, _metered(900.0))
    assert _codes(check) == {"declaration.machines_below_metered"}
    assert _notes(check) == {"declaration.not_declared"}


def test_projects_find_their_meter_by_account_and_the_table_leads_with_the_worst() -> None:
    entries = [
        make_entry(1, project_code="XM-511824-0001", grid_account_no="A-1"),
        make_entry(2, project_code="XM-511824-0002", grid_account_no="Ａ-2"),  # full width
        make_entry(3, project_code="XM-511824-0003", grid_account_no=None),
    ]
    metered = {"A-1": _metered(400.0, account="A-1"), "A-2": _metered(2000.0, account="A-2")}
    checks = check_declarations(entries, metered, as_of=AS_OF)
    assert [c.flagged for c in checks] == [False, True, False]
    settings = DeclarationSettings()
    table = checks_table(checks, settings)
    assert table.schema == DECLARATION_FINDINGS_SCHEMA
    rows = table.to_pylist()
    assert [r["project_code"] for r in rows] == ["XM-511824-0002", "XM-511824-0001",
                                                 "XM-511824-0003"]  # fmt: skip
    worst = rows[0]
    assert worst["metered_mean_kw"] == 2000.0
    assert worst["machines_power_upper_kw"] == pytest.approx(WALL_KW * 1.05 * 1.2 * 1.03)
    assert worst["declared_hashrate_ths"] == pytest.approx(12_760)
    assert worst["reasons"].startswith("declaration.power_below_metered(declared_kw=420.5")
    evidence = json.loads(worst["evidence"])
    assert evidence["settings"]["power_tolerance"] == 0.1
    assert evidence["settings"]["site"]["pue_upper"] == 1.2
    assert evidence["findings"]["declaration.power_below_metered"]["gap_kw"] == 1579.5
    assert rows[2]["notes"] == "data.no_grid_account"


def test_no_projects() -> None:
    assert check_declarations([], {}) == []
    assert checks_table([], DeclarationSettings()).num_rows == 0


def test_every_code_is_declared_flags_are_flags_and_notes_notes() -> None:
    crafted = [
        check_declaration(make_entry(hashrate=1.0, rated_power_kw=100.0), _metered(900.0)),
        check_declaration(
            make_entry(grid_account_no=None, hashrate=None, hashrate_unit=None), None
        ),
    ]
    for check in crafted:
        assert all(REASONS[f.code].flags for f in check.findings)
        assert all(not REASONS[n.code].flags for n in check.notes)
    assert all(r.clause and r.meaning for r in REASONS.values())


@pytest.mark.parametrize("changes", [{"power_tolerance": -0.1}, {"hours_per_month": 0.0}])
def test_settings_refuse_nonsense(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        DeclarationSettings(**changes)
