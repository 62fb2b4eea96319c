"""The dual-control tally: new projects count twice, rolled up, converted with a named factor."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from conftest import at, make_entry
from minewatch.domain.ledger.service import save_entry
from minewatch.domain.measures.dual_control import (
    EnergyItem,
    conversion_factor,
    ledger_energy,
    tally,
)
from minewatch.errors import MineWatchError

CALORIFIC = conversion_factor("calorific")


def test_new_projects_count_twice_and_roll_up() -> None:
    items = [
        EnergyItem("P1", "511824", 1_000_000.0, new=False),  # 石棉县, existing
        EnergyItem("P2", "511824", 500_000.0, new=True),  # 石棉县, new: counted twice
        EnergyItem("P3", "511823", 200_000.0, new=True),  # 汉源县
        EnergyItem("P4", "150802", 300_000.0, new=False),  # 内蒙古 巴彦淖尔 临河区
    ]
    result = tally(items, CALORIFIC)
    county = result["511824"]
    assert (county.projects, county.new_projects) == (2, 1)
    assert county.counted_kwh == 2_000_000.0
    assert county.counted_tce == pytest.approx(2_000_000 * 0.1229 / 1000)
    assert result["511800"].counted_kwh == 2_400_000.0  # 雅安市
    assert result["510000"].counted_kwh == 2_400_000.0
    assert result["150000"].counted_kwh == 300_000.0
    assert result["000000"].counted_kwh == 2_700_000.0
    assert result["000000"].factor_id == "calorific"


def test_factors_name_their_source() -> None:
    assert "GB/T 2589" in CALORIFIC.source
    own = conversion_factor("0.2966:四川省统计局2021年电力等价值")
    assert own.kgce_per_kwh == pytest.approx(0.2966)
    assert "四川省统计局" in own.source
    for bad in ("0.3", "2.5:太大", "x:来源", "equivalent_1999"):
        with pytest.raises(MineWatchError, match="VALUE:SOURCE"):
            conversion_factor(bad)


def test_ledger_energy_prorates_and_marks_new_projects(session: Session) -> None:
    save_entry(session, make_entry(1, planned_production_date=date(2021, 6, 1),
               monthly_energy_kwh=365_000.0), actor="a", at=at("2021-09-10"))  # fmt: skip
    save_entry(session, make_entry(2, planned_production_date=date(2021, 10, 1),
               grid_account_no="5118240000002", monthly_energy_kwh=365_000.0),
               actor="a", at=at("2021-10-10"))  # fmt: skip
    items = {i.project_code: i for i in ledger_energy(session, date(2021, 9, 1),
                                                      date(2021, 10, 31))}  # fmt: skip
    first, second = sorted(items.values(), key=lambda i: i.project_code)
    assert not first.new
    assert first.energy_kwh == pytest.approx(12_000 * 61)  # 365,000 kWh a month = 12,000 a day
    assert second.new
    assert second.energy_kwh == pytest.approx(12_000 * 31)
    with pytest.raises(MineWatchError, match="before it starts"):
        ledger_energy(session, date(2021, 10, 31), date(2021, 9, 1))
