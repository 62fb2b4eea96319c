"""Plant data as days: output, water and the ceilings that records put on output.

Everything the plant scan judges is a local (Asia/Shanghai) day of one plant. This module turns
the canonical frames (:mod:`minewatch.ingest.schemas`) into dense ``plants × days`` arrays:

* ``tie_kwh`` / ``terminal_kwh`` — metered energy of the day, scaled to the whole day when at
  least ``min_coverage`` of it is metered, else NaN;
* ``water`` — the day's intake flow from the plant's own gauge [m³/s], NaN where there is none;
* ``ceiling_kwh`` — the most the plant could have sent to the grid that day given its capacity,
  maintenance outages (capacity out) and dispatch or curtailment limits, integrated over the
  quarter-hours of the day; ``maintenance_share`` / ``dispatch_share`` the share of the day under
  such a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.ingest.schemas import PlantEventKind

Arr = np.ndarray[Any, Any]

_DAY_MS = 86_400_000
_LOCAL_MS = 8 * 3_600_000
_SLOTS = 96
_SLOT_MS = _DAY_MS // _SLOTS
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class PlantDays:
    """Dense day arrays, one row per plant of :attr:`plant_ids`, one column per day."""

    plant_ids: list[str]
    first_day: date
    capacity_kw: Arr
    basin: list[str | None]
    gauge_id: list[str | None]
    tie_kwh: Arr
    terminal_kwh: Arr
    water: Arr
    ceiling_kwh: Arr
    maintenance_share: Arr
    dispatch_share: Arr
    available_kwh: Arr
    """The ceiling from capacity and maintenance alone (what miners on a private line could use)."""

    @property
    def days(self) -> int:
        return int(self.tie_kwh.shape[1])

    def date_of(self, day: int) -> date:
        return self.first_day + timedelta(days=int(day))


def _local_days(stamps: pa.ChunkedArray | pa.Array) -> Arr:
    ms = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(np.floor_divide(ms + _LOCAL_MS, _DAY_MS))


def plant_days(
    plants: pa.Table,
    generation: pa.Table,
    inflow: pa.Table | None = None,
    events: pa.Table | None = None,
    *,
    min_coverage: float = 0.9,
) -> PlantDays:
    """Aggregate the frames into :class:`PlantDays` over the days the generation spans.

    Generation rows of plants not in ``plants`` are ignored (the reader's cross-check reports
    them); an interval is counted on the local day it starts.
    """
    ids = [str(x) for x in plants.column("plant_id").to_pylist()]
    index = {plant_id: i for i, plant_id in enumerate(ids)}
    capacity = np.asarray(plants.column("capacity_kw").to_numpy(zero_copy_only=False), float)
    basin = (
        plants.column("basin").to_pylist() if "basin" in plants.column_names else [None] * len(ids)
    )
    gauges = (
        plants.column("gauge_id").to_pylist()
        if "gauge_id" in plants.column_names
        else [None] * len(ids)
    )
    if generation.num_rows == 0:
        raise ValueError("no generation data")
    day = _local_days(generation.column("interval_start_at"))
    first, last = int(day.min()), int(day.max())
    n_days = last - first + 1
    found = pc.index_in(
        pc.cast(generation.column("plant_id"), pa.string()), value_set=pa.array(ids, pa.string())
    )
    rows = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = rows >= 0
    cell = rows[keep] * n_days + (day[keep] - first)
    size = len(ids) * n_days
    minutes = generation.column("interval_minutes").to_numpy(zero_copy_only=False)[keep]

    def summed(column: str) -> tuple[Arr, Arr]:
        values = generation.column(column).to_numpy(zero_copy_only=False).astype(float)[keep]
        present = ~np.isnan(values)
        energy = np.bincount(cell[present], weights=values[present], minlength=size)
        covered = np.bincount(cell[present], weights=minutes[present] / 1440.0, minlength=size)
        return energy.reshape(len(ids), n_days), covered.reshape(len(ids), n_days)

    def whole_days(energy: Arr, covered: Arr) -> Arr:
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = energy / np.minimum(covered, 1.0)
        return np.where(covered >= min_coverage, scaled, np.nan)

    tie = whole_days(*summed("grid_tie_kwh"))
    terminal = whole_days(*summed("terminal_kwh"))

    water = np.full((len(ids), n_days), np.nan)
    if inflow is not None and inflow.num_rows:
        by_gauge: dict[str, list[int]] = {}
        for i, gauge in enumerate(gauges):
            if gauge:
                by_gauge.setdefault(str(gauge), []).append(i)
        g_ids = inflow.column("gauge_id").to_pylist()
        g_days = pc.cast(inflow.column("date"), pa.int32()).to_numpy(zero_copy_only=False) - first
        g_flow = inflow.column("inflow_m3s").to_numpy(zero_copy_only=False).astype(float)
        inside = (g_days >= 0) & (g_days < n_days)
        gauge_row = {g: i for i, g in enumerate(sorted(by_gauge))}
        g_index = np.array([gauge_row.get(str(g), -1) for g in g_ids])
        ok = inside & (g_index >= 0) & ~np.isnan(g_flow)
        per_gauge = np.full((len(gauge_row), n_days), np.nan)
        per_gauge[g_index[ok], g_days[ok]] = g_flow[ok]
        for gauge, row in gauge_row.items():
            for plant_row in by_gauge[gauge]:
                water[plant_row] = per_gauge[row]

    ceiling = np.repeat(capacity[:, None] * 24.0, n_days, axis=1)
    available = ceiling.copy()
    maintenance = np.zeros((len(ids), n_days))
    dispatch = np.zeros((len(ids), n_days))
    if events is not None and events.num_rows:
        _apply_events(
            events, index, capacity, first, n_days, ceiling, available, maintenance, dispatch
        )
    return PlantDays(
        plant_ids=ids,
        first_day=_EPOCH + timedelta(days=first),
        capacity_kw=capacity,
        basin=[None if b is None else str(b) for b in basin],
        gauge_id=[None if g is None else str(g) for g in gauges],
        tie_kwh=tie,
        terminal_kwh=terminal,
        water=water,
        ceiling_kwh=ceiling,
        maintenance_share=maintenance,
        dispatch_share=dispatch,
        available_kwh=available,
    )


def _apply_events(
    events: pa.Table,
    index: dict[str, int],
    capacity: Arr,
    first: int,
    n_days: int,
    ceiling: Arr,
    available: Arr,
    maintenance: Arr,
    dispatch: Arr,
) -> None:
    """Integrate each plant's records over quarter-hours into the day arrays (in place)."""
    start_ms = pc.cast(events.column("start_at"), pa.int64()).to_numpy(zero_copy_only=False)
    end_ms = pc.cast(events.column("end_at"), pa.int64()).to_numpy(zero_copy_only=False)
    origin = first * _DAY_MS - _LOCAL_MS
    first_slot = np.floor_divide(start_ms - origin, _SLOT_MS)
    end_slot = -np.floor_divide(-(end_ms - origin), _SLOT_MS)  # ceiling: a partly covered slot
    kinds = events.column("kind").to_pylist()
    limits = events.column("limit_kw").to_pylist()
    unavailable = events.column("unavailable_kw").to_pylist()
    plants = events.column("plant_id").to_pylist()
    total = n_days * _SLOTS
    per_plant: dict[int, list[int]] = {}
    for k, plant in enumerate(plants):
        row = index.get(str(plant))
        if row is not None:
            per_plant.setdefault(row, []).append(k)
    for row, ks in per_plant.items():
        cap = capacity[row]
        maint_kw = np.full(total, cap)
        limit_kw = np.full(total, np.inf)
        maint_on = np.zeros(total, bool)
        dispatch_on = np.zeros(total, bool)
        for k in ks:
            a, b = max(0, int(first_slot[k])), min(total, int(end_slot[k]))
            if b <= a:
                continue
            if kinds[k] == PlantEventKind.MAINTENANCE.value:
                out = cap if unavailable[k] is None else float(unavailable[k])
                maint_kw[a:b] = np.minimum(maint_kw[a:b], max(0.0, cap - out))
                maint_on[a:b] = True
            else:
                lim = 0.0 if limits[k] is None else float(limits[k])
                limit_kw[a:b] = np.minimum(limit_kw[a:b], lim)
                dispatch_on[a:b] = True
        slot_h = 24.0 / _SLOTS
        ceiling[row] = np.minimum(maint_kw, limit_kw).reshape(n_days, _SLOTS).sum(axis=1) * slot_h
        available[row] = maint_kw.reshape(n_days, _SLOTS).sum(axis=1) * slot_h
        maintenance[row] = maint_on.reshape(n_days, _SLOTS).mean(axis=1)
        dispatch[row] = dispatch_on.reshape(n_days, _SLOTS).mean(axis=1)
