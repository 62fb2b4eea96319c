"""Synthetic river basins of small hydro plants, some feeding miners through a private line.

:func:`generate_plants` invents, from a seed, the basins of a mountainous prefecture, the daily
rain they share, the river flow at every plant's intake, the plants' output at the generator
terminal (机端) and the grid-tie meter (上网关口) every 15 or 60 minutes, the dispatch
instructions, curtailment and maintenance records that explain some of the shortfalls, and the
ground truth: which plants divert part of their output to miners (网前供电, 专线直供), from when,
how much. It exists to evaluate generation-side detectors (notice 1283 clause 五) on basins they
were not tuned on; only numpy's ``default_rng`` is used, and the same seed and parameters give
the same basins.

Rain and river flow
    Each basin has its own daily rain: a wet-day chance and a mean wet-day depth that follow the
    season of south-west China (a monsoon peak in July; 75-85 % of the year's 900-1,600 mm falls
    from May to October), gamma-distributed depths. A plant's catchment receives the basin's rain
    times a lognormal local factor (σ 0.35; storms are local, the season is not). Runoff is two
    linear reservoirs in parallel (quick flow, recession 2-5 days; base flow, 80-160 days) with a
    runoff coefficient of 0.45-0.65 (the base flow, from ground water and high snow, is what keeps
    these rivers running through a five-month dry season at 20-40 % of their mean flow); the flow
    at the intake is catchment area × runoff. The area is set so that the mean flow is 0.45-0.9 ×
    the plant's design flow (small hydro is sized for a flow exceeded 20-35 % of the year). A
    basin in drought (:attr:`PlantSynthParams.drought_share`) gets a 60-150 day spell at 10-35 %
    of its rain, in the dry season or across a failed
    monsoon, which every plant of the basin feels.

Plants
    Head 15-300 m (log-uniform), peak efficiency 0.86-0.91, 1-4 identical units; installed
    capacity 0.8-40 MW (log-uniform; China's small hydro is ≤ 50 MW), design flow = capacity /
    (9.81 × head × efficiency). An ecological release of 10 % of the mean flow is never turbined;
    a unit needs 30 % of its design flow to run, and its efficiency falls off at part load
    (η = η_max (1 − 0.3 (1 − q)²), q the share of design flow used). Run-of-river plants are flat
    within the day; plants with a day's pondage (30 %) shift water into the 08-12 h and 17-22 h
    peaks. Between the terminal and the grid-tie meter the step-up transformer and line lose
    0.2-0.5 % of capacity (no-load, while connected) plus 0.5-2 % of capacity at full output
    (load loss ∝ output²).

Records that explain shortfalls (:data:`~minewatch.ingest.schemas.PLANT_EVENTS_SCHEMA`)
    *Maintenance*: 1-2 outages a year per plant, 2-20 days, mostly in the dry season, of one unit
    or the whole plant. *Dispatch and curtailment*: in the wet season the grid cannot take every
    basin's output (弃水): 3-10 episodes a year per basin, 6 hours to 5 days, limiting 40-100 % of
    the basin's plants to 30-80 % of capacity (or to nothing); each is filed as a dispatch
    instruction or a curtailment record.

Diverting plants (:attr:`PlantSynthParams.diverting_share`)
    From a start day (after at least :attr:`PlantSynthParams.min_baseline_days` of honest
    operation) a private line tapped between the terminal and the grid-tie meter feeds miners
    that draw 10-45 % of capacity around the clock whenever the water allows, before the grid is
    served; miners thus also burn water that curtailment would spill. 30 % of them are
    "migratory" (候鸟式) and leave at the end of October. Where the plant files terminal readings
    (:attr:`PlantSynthParams.terminal_share` of plants), half the diverters file the true terminal
    output (the gap to the grid-tie meter gives them away) and half file a terminal reading
    made up from the grid-tie one with a plausible loss.

Meters and gauges
    Readings carry 0.1 % of noise (class 0.2S meters); 0.3 % of intervals are missing and one plant
    in ten loses a 2-10 day stretch. :attr:`PlantSynthParams.gauged_share` of plants have an intake
    gauge, read daily with a fixed rating-curve bias (± 8 %) and 5 % daily error, 2 % of days
    missing; the others have no gauge and can only be compared with their peers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from minewatch.ingest.schemas import (
    GENERATION_SCHEMA,
    INFLOW_SCHEMA,
    PLANT_EVENTS_SCHEMA,
    PLANTS_SCHEMA,
    PlantEventKind,
    PlantType,
)
from minewatch.reference import credit_code, regions

Arr = np.ndarray[Any, Any]

SLOTS = 96
"""The generator's resolution: 15-minute slots from 00:00 Asia/Shanghai."""
_SLOT_H = 0.25
_LOCAL_OFFSET = timedelta(hours=8)


@dataclass(frozen=True)
class PlantSynthParams:
    """What kind of basins to invent."""

    basins: int = 4
    plants_per_basin: tuple[int, int] = (8, 14)
    start: date = date(2020, 1, 1)
    days: int = 731
    diverting_share: float = 0.15
    """Share of plants that divert part of their output to miners (at least one per basin)."""
    min_baseline_days: int = 240
    """A diverter starts no earlier than this many days into the data."""
    min_diversion_days: int = 60
    migratory_share: float = 0.3
    gauged_share: float = 0.7
    terminal_share: float = 0.5
    drought_share: float = 0.5
    """Share of basins with a drought spell."""
    hourly_share: float = 0.5
    """Share of plants metered hourly (the rest every 15 minutes)."""
    prefectures: tuple[str, ...] = ("511800", "513300", "513400")
    """Where the basins lie (Ya'an, Garzê, Liangshan: Sichuan's small hydro country)."""


@dataclass(frozen=True)
class PlantBasins:
    """The generated basins: the four input frames and the ground truth."""

    plants: pa.Table
    generation: pa.Table
    inflow: pa.Table
    events: pa.Table
    truth: pa.Table
    params: PlantSynthParams = field(repr=False)


TRUTH_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.string(), nullable=False),
        pa.field("basin", pa.string()),
        pa.field("diverting", pa.bool_()),
        pa.field("start_date", pa.date32()),
        pa.field("end_date", pa.date32()),  # last day of diversion (inclusive)
        pa.field("diverted_kw", pa.float64()),  # the miners' draw
        pa.field("diverted_kwh", pa.float64()),  # energy that went down the private line
        pa.field("terminal_filed", pa.bool_()),
        pa.field("terminal_honest", pa.bool_()),
        pa.field("gauged", pa.bool_()),
        pa.field("drought", pa.bool_()),
        pa.field("curtailed_days", pa.int32()),
        pa.field("maintenance_days", pa.int32()),
        pa.field("honest_shortfall_kwh", pa.float64()),
        # output the water allowed but curtailment, dispatch and maintenance kept off the grid
    ]
)
"""Per plant: what really happened."""


@dataclass(frozen=True)
class _Plant:
    plant_id: str
    basin: int
    capacity_kw: float
    units: int
    head_m: float
    eta_max: float
    design_flow_m3s: float
    eco_flow_m3s: float
    area_km2: float
    pondage: bool
    peak_amplitude: float
    no_load_loss: float
    load_loss: float
    hourly: bool
    gauged: bool
    gauge_bias: float
    terminal_filed: bool


# ----------------------------------------------------------------------------------------------
# weather and runoff


def _day_of_year(start: date, days: int) -> Arr:
    first = start.timetuple().tm_yday - 1
    return (first + np.arange(days)) % 365


def _season(doy: Arr) -> Arr:
    """0 (dry, mid-January) … 1 (monsoon peak, late July)."""
    return np.asarray(0.5 * (1 - np.cos(2 * np.pi * (doy - 20) / 365.0)) ** 1.6)


def _basin_rain(rng: np.random.Generator, doy: Arr, drought: tuple[int, int, float] | None) -> Arr:
    annual_mm = rng.uniform(900, 1600)
    season = _season(doy)
    wet_chance = 0.15 + 0.55 * season
    depth = 2.0 + 16.0 * season**1.3
    rain = np.where(rng.random(doy.size) < wet_chance, rng.gamma(0.8, depth / 0.8), 0.0)
    rain *= annual_mm / (rain.mean() * 365.0)
    if drought is not None:
        first, length, factor = drought
        rain[first : first + length] *= factor
    return np.asarray(rain)


def _runoff_mm(rng: np.random.Generator, rain: Arr) -> Arr:
    """Daily runoff [mm] of two linear reservoirs fed by ``rain`` [mm]."""
    coefficient = rng.uniform(0.45, 0.65)
    quick_k = 1.0 / rng.uniform(2.0, 5.0)
    slow_k = 1.0 / rng.uniform(80.0, 160.0)
    quick_share = rng.uniform(0.35, 0.55)
    quick = slow = 0.0
    # spin up on the first year so the base flow starts in balance
    warm = rain[:365] if rain.size >= 365 else rain
    out = np.empty(rain.size)
    for series, keep in ((warm, False), (rain, True)):
        for i, r in enumerate(series):
            effective = coefficient * r
            quick += quick_share * effective
            slow += (1 - quick_share) * effective
            q = quick_k * quick + slow_k * slow
            quick -= quick_k * quick
            slow -= slow_k * slow
            if keep:
                out[i] = q
    return out


# ----------------------------------------------------------------------------------------------
# plants


def _make_plant(
    rng: np.random.Generator, params: PlantSynthParams, basin: int, number: int
) -> _Plant:
    capacity_kw = float(np.exp(rng.uniform(np.log(800), np.log(40_000))))
    head_m = float(np.exp(rng.uniform(np.log(15), np.log(300))))
    eta = float(rng.uniform(0.86, 0.91))
    design = capacity_kw / (9.81 * head_m * eta)
    return _Plant(
        plant_id=f"HP{basin + 1:02d}{number:03d}",
        basin=basin,
        capacity_kw=round(capacity_kw, -1),
        units=int(rng.integers(1, 5)),
        head_m=head_m,
        eta_max=eta,
        design_flow_m3s=design,
        eco_flow_m3s=0.0,  # set with the area
        area_km2=0.0,
        pondage=bool(rng.random() < 0.3),
        peak_amplitude=float(rng.uniform(0.3, 0.8)),
        no_load_loss=float(rng.uniform(0.002, 0.005)),
        load_loss=float(rng.uniform(0.005, 0.02)),
        hourly=bool(rng.random() < params.hourly_share),
        gauged=bool(rng.random() < params.gauged_share),
        gauge_bias=float(rng.uniform(0.92, 1.08)),
        terminal_filed=bool(rng.random() < params.terminal_share),
    )


def _water_power_kw(plant: _Plant, flow_m3s: Arr) -> Arr:
    """Output the water allows [kW] for intake flow ``flow_m3s`` (before any limit)."""
    usable = np.clip(flow_m3s - plant.eco_flow_m3s, 0.0, plant.design_flow_m3s)
    unit_flow = plant.design_flow_m3s / plant.units
    q = usable / plant.design_flow_m3s
    eta = plant.eta_max * (1 - 0.3 * (1 - q) ** 2)
    power = 9.81 * plant.head_m * eta * usable
    return np.where(usable >= 0.3 * unit_flow, np.minimum(power, plant.capacity_kw), 0.0)


def _peak_shape() -> Arr:
    hours = (np.arange(SLOTS) + 0.5) * _SLOT_H
    peak = ((hours >= 8) & (hours < 12)) | ((hours >= 17) & (hours < 22))
    shape = np.where(peak, 1.0, -1.0)
    return np.asarray(shape - shape.mean())


# ----------------------------------------------------------------------------------------------
# events


@dataclass
class _Events:
    rows: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def add(
        self,
        plant: _Plant,
        kind: PlantEventKind,
        start_slot: int,
        end_slot: int,
        day0: date,
        *,
        limit_kw: float | None = None,
        unavailable_kw: float | None = None,
    ) -> None:
        self.counter += 1
        prefix = {"dispatch": "DD", "curtailment": "QS", "maintenance": "JX"}[kind.value]
        self.rows.append(
            {
                "plant_id": plant.plant_id,
                "kind": kind.value,
                "start_at": _instant(day0, start_slot),
                "end_at": _instant(day0, end_slot),
                "limit_kw": limit_kw,
                "unavailable_kw": unavailable_kw,
                "record_no": f"{prefix}{day0.year}{self.counter:05d}",
                "note": {
                    "dispatch": "调度指令限出力",
                    "curtailment": "断面受限弃水",
                    "maintenance": "机组检修",
                }[kind.value],
            }
        )


def _instant(day0: date, slot: int) -> datetime:
    local = datetime(day0.year, day0.month, day0.day) + timedelta(minutes=15 * slot)
    return (local - _LOCAL_OFFSET).replace(tzinfo=UTC)


def _maintenance(
    rng: np.random.Generator, plant: _Plant, days: int, doy: Arr
) -> list[tuple[int, int, float]]:
    """Outages as (first slot, end slot, kW out), in slots from the first day."""
    out: list[tuple[int, int, float]] = []
    dry = np.flatnonzero(_season(doy) < 0.35)
    wet = np.flatnonzero(_season(doy) >= 0.35)
    for _year in range(max(1, days // 365)):
        for _ in range(int(rng.integers(1, 3))):
            pool = dry if (rng.random() < 0.8 and dry.size) else wet
            day = int(rng.choice(pool))
            length = int(rng.integers(2, 21))
            first = day * SLOTS + 32  # 08:00
            end = min(days * SLOTS, (day + length) * SLOTS + 72)  # 18:00 of the last day
            whole = plant.units == 1 or rng.random() < 0.3
            kw = plant.capacity_kw if whole else plant.capacity_kw / plant.units
            out.append((first, end, kw))
    return out


def _curtailment(
    rng: np.random.Generator, members: list[_Plant], days: int, doy: Arr
) -> list[tuple[int, int, list[tuple[_Plant, float]]]]:
    """Basin-wide episodes: (first slot, end slot, [(plant, limit kW)])."""
    wet = np.flatnonzero(_season(doy) > 0.6)
    episodes: list[tuple[int, int, list[tuple[_Plant, float]]]] = []
    if not wet.size:
        return episodes
    for _year in range(max(1, days // 365)):
        for _ in range(int(rng.integers(3, 11))):
            day = int(rng.choice(wet))
            first = day * SLOTS + int(rng.integers(0, SLOTS))
            length = int(rng.integers(24, 5 * SLOTS))  # 6 h … 5 days
            end = min(days * SLOTS, first + length)
            share = rng.uniform(0.4, 1.0)
            chosen = [p for p in members if rng.random() < share] or [members[0]]
            limits = [
                (p, 0.0 if rng.random() < 0.15 else round(p.capacity_kw * rng.uniform(0.3, 0.8)))
                for p in chosen
            ]
            episodes.append((first, end, limits))
    return episodes


# ----------------------------------------------------------------------------------------------
# the whole


def generate_plants(seed: int, params: PlantSynthParams | None = None) -> PlantBasins:
    """Invent the basins for ``seed`` (see the module docstring for the physics)."""
    params = params or PlantSynthParams()
    if params.days < params.min_baseline_days + params.min_diversion_days:
        raise ValueError(
            f"{params.days} days cannot hold {params.min_baseline_days} days of baseline and "
            f"{params.min_diversion_days} of diversion"
        )
    rng = np.random.default_rng(seed)
    days = params.days
    doy = _day_of_year(params.start, days)
    events = _Events()
    shape = _peak_shape()

    plants: list[_Plant] = []
    plant_rows: list[dict[str, Any]] = []
    truth_rows: list[dict[str, Any]] = []
    gen_parts: list[pa.Table] = []
    inflow_parts: list[pa.Table] = []
    counties = _counties(params.prefectures)

    for basin in range(params.basins):
        drought: tuple[int, int, float] | None = None
        if rng.random() < params.drought_share:
            length = int(rng.integers(60, 151))
            first = int(rng.integers(30, max(31, days - length)))
            drought = (first, length, float(rng.uniform(0.1, 0.35)))
        rain = _basin_rain(rng, doy, drought)
        count = int(rng.integers(params.plants_per_basin[0], params.plants_per_basin[1] + 1))
        members = [_make_plant(rng, params, basin, i + 1) for i in range(count)]
        divert = rng.random(count) < params.diverting_share
        if not divert.any():
            divert[int(rng.integers(0, count))] = True
        curtail = _curtailment(rng, members, days, doy)
        county = counties[basin % len(counties)]
        river = f"{_RIVERS[(seed + basin) % len(_RIVERS)]}"

        for index, plant in enumerate(members):
            local = rain * np.exp(rng.normal(-0.06, 0.35, days))
            runoff = _runoff_mm(rng, local)
            unit_flow = runoff / 86.4  # m³/s per km² (1 mm/day over 1 km² = 1000 m³/day)
            ratio = rng.uniform(0.45, 0.9)
            area = ratio * plant.design_flow_m3s / unit_flow.mean()
            flow = unit_flow * area
            plant = replace(plant, area_km2=area, eco_flow_m3s=0.1 * flow.mean())
            members[index] = plant
            plants.append(plant)
            available = np.full(days * SLOTS, plant.capacity_kw)
            maintenance_days = 0
            for first, end, kw in _maintenance(rng, plant, days, doy):
                available[first:end] = np.minimum(available[first:end], plant.capacity_kw - kw)
                maintenance_days += (end - first + SLOTS - 1) // SLOTS
                events.add(
                    plant,
                    PlantEventKind.MAINTENANCE,
                    first,
                    end,
                    params.start,
                    unavailable_kw=None if kw >= plant.capacity_kw else round(kw, 1),
                )
            limit = np.full(days * SLOTS, np.inf)
            curtailed = np.zeros(days, dtype=bool)
            for first, end, chosen in curtail:
                for member, kw in chosen:
                    if member.plant_id != plant.plant_id:
                        continue
                    limit[first:end] = np.minimum(limit[first:end], kw)
                    curtailed[first // SLOTS : (end - 1) // SLOTS + 1] = True
                    kind = (
                        PlantEventKind.DISPATCH
                        if rng.random() < 0.5
                        else PlantEventKind.CURTAILMENT
                    )
                    events.add(plant, kind, first, end, params.start, limit_kw=kw)

            water_kw = np.repeat(_water_power_kw(plant, flow), SLOTS)
            if plant.pondage:
                mean = water_kw.reshape(days, SLOTS)
                headroom = np.clip(plant.capacity_kw / np.maximum(mean[:, :1], 1e-9) - 1, 0, 1)
                factor = 1 + plant.peak_amplitude * np.minimum(headroom, 1.0) * shape
                water_kw = (mean * factor).ravel()
            possible = np.minimum(water_kw, available)

            start_day = end_day = None
            draw_kw = 0.0
            diverted = np.zeros_like(possible)
            if divert[index]:
                latest = days - params.min_diversion_days
                start_day = int(rng.integers(params.min_baseline_days, latest))
                end_day = days - 1
                start_date = params.start + timedelta(days=start_day)
                if rng.random() < params.migratory_share and start_date.month < 9:
                    october_end = date(start_date.year, 10, 31)
                    end_day = min(days - 1, (october_end - params.start).days)
                    if end_day - start_day + 1 < params.min_diversion_days:
                        end_day = min(days - 1, start_day + params.min_diversion_days - 1)
                draw_kw = round(plant.capacity_kw * rng.uniform(0.1, 0.45), -1)
                window = slice(start_day * SLOTS, (end_day + 1) * SLOTS)
                diverted[window] = np.minimum(draw_kw, possible[window])
            to_grid = np.minimum(possible - diverted, limit)
            connected = to_grid > 0
            losses = np.where(
                connected,
                plant.no_load_loss * plant.capacity_kw
                + plant.load_loss * to_grid**2 / plant.capacity_kw,
                0.0,
            )
            tie_kw = np.maximum(to_grid - losses, 0.0)
            terminal_kw = to_grid + diverted
            honest_terminal = bool(
                plant.terminal_filed and (not divert[index] or rng.random() < 0.5)
            )
            if plant.terminal_filed and not honest_terminal:
                # made up from the grid-tie reading with the plant's usual loss
                terminal_kw = np.where(tie_kw > 0, tie_kw / (1 - 1.2 * plant.load_loss), 0.0)

            gen_parts.append(_generation_table(rng, plant, params.start, days, terminal_kw, tie_kw))
            if plant.gauged:
                inflow_parts.append(_inflow_table(rng, plant, params.start, flow))

            possible_uncut = np.minimum(water_kw, plant.capacity_kw)
            honest_loss = float(
                (possible_uncut - np.minimum(possible, limit)).clip(min=0).sum() * _SLOT_H
            )
            truth_rows.append(
                {
                    "plant_id": plant.plant_id,
                    "basin": _basin_name(basin, river),
                    "diverting": bool(divert[index]),
                    "start_date": None
                    if start_day is None
                    else params.start + timedelta(days=start_day),
                    "end_date": None if end_day is None else params.start + timedelta(days=end_day),
                    "diverted_kw": draw_kw if divert[index] else None,
                    "diverted_kwh": float(diverted.sum() * _SLOT_H),
                    "terminal_filed": plant.terminal_filed,
                    "terminal_honest": honest_terminal,
                    "gauged": plant.gauged,
                    "drought": drought is not None,
                    "curtailed_days": int(curtailed.sum()),
                    "maintenance_days": maintenance_days,
                    "honest_shortfall_kwh": honest_loss,
                }
            )
            plant_rows.append(_plant_row(rng, plant, basin, river, county))

    return PlantBasins(
        plants=pa.Table.from_pylist(plant_rows, schema=PLANTS_SCHEMA),
        generation=pa.concat_tables(gen_parts),
        inflow=pa.concat_tables(inflow_parts) if inflow_parts else INFLOW_SCHEMA.empty_table(),
        events=pa.Table.from_pylist(events.rows, schema=PLANT_EVENTS_SCHEMA),
        truth=pa.Table.from_pylist(truth_rows, schema=TRUTH_SCHEMA),
        params=params,
    )


def _generation_table(
    rng: np.random.Generator,
    plant: _Plant,
    start: date,
    days: int,
    terminal_kw: Arr,
    tie_kw: Arr,
) -> pa.Table:
    per = 4 if plant.hourly else 1
    minutes = 15 * per
    n = days * SLOTS // per
    tie = tie_kw.reshape(n, per).sum(axis=1) * _SLOT_H
    terminal = terminal_kw.reshape(n, per).sum(axis=1) * _SLOT_H
    tie = tie * (1 + rng.normal(0, 0.001, n))
    terminal = terminal * (1 + rng.normal(0, 0.001, n))
    missing = rng.random(n) < 0.003
    if rng.random() < 0.1:
        first = int(rng.integers(0, n))
        missing[first : first + int(rng.integers(2, 11)) * (SLOTS // per)] = True
    keep = ~missing
    start_ms = int(_instant(start, 0).timestamp() * 1000)
    stamps = start_ms + np.arange(n, dtype=np.int64) * minutes * 60_000
    return pa.table(
        {
            "plant_id": pa.array([plant.plant_id] * int(keep.sum()), pa.string()),
            "interval_start_at": pa.array(stamps[keep], pa.timestamp("ms", tz="UTC")),
            "interval_minutes": pa.array(np.full(int(keep.sum()), minutes, np.int16)),
            "terminal_kwh": pa.array(
                np.round(terminal[keep], 3) if plant.terminal_filed else None,
                pa.float64(),
            )
            if plant.terminal_filed
            else pa.nulls(int(keep.sum()), pa.float64()),
            "grid_tie_kwh": pa.array(np.round(tie[keep], 3), pa.float64()),
        },
        schema=GENERATION_SCHEMA,
    )


def _inflow_table(rng: np.random.Generator, plant: _Plant, start: date, flow: Arr) -> pa.Table:
    measured = flow * plant.gauge_bias * (1 + rng.normal(0, 0.05, flow.size))
    keep = rng.random(flow.size) >= 0.02
    dates = [start + timedelta(days=int(i)) for i in np.flatnonzero(keep)]
    return pa.table(
        {
            "gauge_id": pa.array([_gauge_id(plant)] * len(dates), pa.string()),
            "date": pa.array(dates, pa.date32()),
            "inflow_m3s": pa.array(np.round(measured[keep], 3), pa.float64()),
        },
        schema=INFLOW_SCHEMA,
    )


def _gauge_id(plant: _Plant) -> str:
    return f"SW{plant.plant_id[2:]}"


_RIVERS = ("大渡河", "青衣江", "雅砻江", "安宁河", "金沙江", "岷江", "宝兴河", "天全河", "荥经河")
_NAMES = (
    "龙洞",
    "黑石",
    "马鞍",
    "白岩",
    "青龙",
    "磨子",
    "石门",
    "双河",
    "红岩",
    "沙坪",
    "铜厂",
    "瓦窑",
    "冷碛",
    "金鸡",
    "两河口",
    "大坪",
    "鹰嘴",
    "长河坝",
    "猴子岩",
    "牛背",
)


def _basin_name(basin: int, river: str) -> str:
    return f"{river}流域{basin + 1}"


def _counties(prefectures: tuple[str, ...]) -> list[regions.Region]:
    found: list[regions.Region] = []
    for code in prefectures:
        counties = [c for c in regions.children(code) if not c.is_grouping]
        rural = [c for c in counties if c.name.endswith("县")]  # small hydro is not in town
        found.extend(rural or counties)
    if not found:
        raise ValueError(f"no counties under {', '.join(prefectures)}")
    return found


def _plant_row(
    rng: np.random.Generator, plant: _Plant, basin: int, river: str, county: regions.Region
) -> dict[str, Any]:
    stem = _NAMES[int(plant.plant_id[-3:]) % len(_NAMES)]
    name = f"{river}{stem}{'一二三'[basin % 3]}级水电站"
    org = "".join(str(d) for d in rng.integers(0, 10, 8))
    body = f"91{county.code}{org}"
    uscc = credit_code.with_check_character(body + credit_code.organisation_check_character(org))
    return {
        "plant_id": plant.plant_id,
        "name": name,
        "plant_type": PlantType.HYDRO.value,
        "capacity_kw": plant.capacity_kw,
        "units": plant.units,
        "basin": _basin_name(basin, river),
        "river": river,
        "gauge_id": _gauge_id(plant) if plant.gauged else None,
        "loss_fraction": None,
        "owner": f"{county.name}{stem}水电开发有限公司",
        "uscc": uscc,
        "address": f"{county.full_name}{stem}村",
        "region_code": county.code,
    }


# ----------------------------------------------------------------------------------------------
# files


def write_plant_basins(
    basins: PlantBasins, folder: Path, fmt: str = "csv", *, generation_fmt: str | None = None
) -> dict[str, Path]:
    """Write the four inputs and the truth to ``folder`` (``csv`` or ``parquet``; the large
    generation table in ``generation_fmt`` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, table in (
        ("plants", basins.plants),
        ("generation", basins.generation),
        ("inflow", basins.inflow),
        ("events", basins.events),
        ("truth", basins.truth),
    ):
        kind = generation_fmt if name == "generation" and generation_fmt else fmt
        path = folder / f"{name}.{kind}"
        if kind == "parquet":
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
        out[name] = path
    return out
