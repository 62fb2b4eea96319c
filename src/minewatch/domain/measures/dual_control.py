"""The dual-control tally (能耗双控, notice 1283 clause 六): mining energy per region, new
projects counted twice.

Clause 六: "对发现并查实新增虚拟货币“挖矿”项目的地区，在能耗双控考核中，按新增项目能耗量加倍
计算能源消费量" — a region where a *new* mining project is found and confirmed has that project's
energy counted double in its energy-consumption assessment. A project is new when it started
(its planned production date, else the day it entered the ledger) on or after ``new_since``,
by default the notice's date, 2021-09-03: the notice banned new projects from then on.

Energy is converted to tonnes of standard coal equivalent (tce) with a factor chosen by the
assessment (:func:`conversion_factor`): the calorific equivalent 0.1229 kgce/kWh of GB/T 2589, or
an equivalent value (the year's average coal burnt per kWh supplied); every tally names the
factor and its source. Tallies roll up county → prefecture → province → nation.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.ledger.models import Project
from minewatch.errors import MineWatchError
from minewatch.reference import regions

NOTICE_DATE = date(2021, 9, 3)


@dataclass(frozen=True)
class ConversionFactor:
    factor_id: str
    kgce_per_kwh: float
    name: str
    source: str


@cache
def _packaged() -> dict[str, ConversionFactor]:
    text = (
        resources.files("minewatch.reference")
        .joinpath("data/energy-conversion-factors.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(text.splitlines())
    return {
        r["factor_id"]: ConversionFactor(
            r["factor_id"], float(r["kgce_per_kwh"]), r["name"], r["source"]
        )
        for r in rows
    }


def conversion_factor(spec: str) -> ConversionFactor:
    """A packaged factor by id (``calorific``, ``equivalent_2021`` …) or ``VALUE:SOURCE`` for a
    factor of the assessment's own, e.g. ``0.2966:四川省统计局2021年电力等价值``."""
    packaged = _packaged()
    if spec in packaged:
        return packaged[spec]
    value, sep, source = spec.partition(":")
    try:
        kgce = float(value)
    except ValueError:
        kgce = -1.0
    if not sep or not source.strip() or not 0 < kgce < 1:
        known = ", ".join(sorted(packaged))
        raise MineWatchError(
            f"conversion factor {spec!r}: one of {known}, or VALUE:SOURCE with 0 < VALUE < 1 "
            "kgce/kWh and the source named"
        )
    return ConversionFactor("custom", kgce, "自定义折算系数", source.strip())


@dataclass(frozen=True)
class EnergyItem:
    """One project's energy in the assessment period."""

    project_code: str
    region_code: str
    energy_kwh: float
    new: bool


@dataclass(frozen=True)
class RegionTally:
    region_code: str
    projects: int
    new_projects: int
    energy_kwh: float
    new_energy_kwh: float
    counted_kwh: float
    """Energy as the assessment counts it: existing projects once, new ones twice."""
    counted_tce: float
    factor_id: str


def tally(items: Iterable[EnergyItem], factor: ConversionFactor) -> dict[str, RegionTally]:
    """Per region at every level, the projects' energy with new projects counted twice."""
    sums: dict[str, list[float]] = {}
    for item in items:
        if item.energy_kwh < 0:
            raise MineWatchError(f"project {item.project_code}: negative energy")
        county, prefecture, province = regions.county_prefecture_province(item.region_code)
        for code in {c for c in (county, prefecture, province, regions.NATIONAL) if c}:
            row = sums.setdefault(code, [0, 0, 0.0, 0.0])
            row[0] += 1
            row[1] += item.new
            row[2] += item.energy_kwh
            row[3] += item.energy_kwh if item.new else 0.0
    out = {}
    for code, (projects, new, energy, new_energy) in sorted(sums.items()):
        counted = energy + new_energy
        out[code] = RegionTally(
            region_code=code,
            projects=int(projects),
            new_projects=int(new),
            energy_kwh=round(energy, 1),
            new_energy_kwh=round(new_energy, 1),
            counted_kwh=round(counted, 1),
            counted_tce=round(counted * factor.kgce_per_kwh / 1000.0, 3),
            factor_id=factor.factor_id,
        )
    return out


def ledger_energy(
    session: Session, start: date, end: date, *, new_since: date = NOTICE_DATE
) -> list[EnergyItem]:
    """Each ledger project's energy between ``start`` and ``end`` (inclusive): its monthly
    energy pro-rated over the days it existed in the period (from its planned production date,
    else its entry in the ledger; to the period's end — a project cleared since still counts for
    the days it ran, which the ledger's history holds, not this snapshot)."""
    if end < start:
        raise MineWatchError(f"period ends {end} before it starts {start}")
    items = []
    for project in session.scalars(select(Project).order_by(Project.code)):
        began = project.planned_production_date or project.created_at.date()
        first = max(start, began)
        days = (end - first).days + 1
        if days <= 0 or project.monthly_energy_kwh is None:
            continue
        energy = project.monthly_energy_kwh * 12.0 / 365.0 * days
        items.append(EnergyItem(project.code, project.region_code, energy, began >= new_since))
    return items
