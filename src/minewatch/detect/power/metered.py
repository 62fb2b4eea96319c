"""Metered energy and mean power per grid account, from load curves or billed periods.

Load curves (:data:`~minewatch.ingest.schemas.READINGS_SCHEMA`, 96 quarter-hour mean powers
[kW] per meter and day) become :data:`~minewatch.ingest.schemas.ACCOUNT_ENERGY_SCHEMA` rows
with :func:`energy_from_readings`; billed periods come in that form already
(:func:`minewatch.ingest.account_energy.read_account_energy`). :func:`clip_to_window` keeps
the part of each period inside a window, and :func:`account_summaries` gives each account's
metered energy, hours and mean power — the figures a declaration is held against.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minewatch.ingest.schemas import ACCOUNT_ENERGY_SCHEMA, SLOT_COLUMNS, SLOT_HOURS


def account_key(text: str) -> str:
    """An account number as compared across sources: NFKC (full-width digits), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def energy_from_readings(
    readings: pa.Table,
    meter_accounts: Mapping[str, str] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Any:
    """Energy per meter over a window, from quarter-hour load curves.

    Parameters
    ----------
    readings : pyarrow.Table
        ``READINGS_SCHEMA`` rows: ``p001 … p096`` mean power of each quarter-hour [kW].
        A meter-day given in several rows is merged slot by slot (the mean of the rows that
        have the slot).
    meter_accounts : mapping meter_id → account_no, optional
        From the customer archive; meters it does not list are left out. ``None``: each
        meter id is its account number.
    start, end : date, optional
        Window of local days, both included.

    Returns
    -------
    pyarrow.Table
        ``ACCOUNT_ENERGY_SCHEMA``, one row per meter: first and last day with a reading,
        ``energy_kwh`` = Σ kW × 0.25 h over the valid quarter-hours, ``covered_h`` = their
        number × 0.25 h. Null, NaN, infinite and negative readings (meter faults) are not
        valid: they count neither as energy nor as hours.
    """
    table = readings
    if start is not None:
        table = table.filter(pc.greater_equal(table.column("date"), pa.scalar(start)))
    if end is not None:
        table = table.filter(pc.less_equal(table.column("date"), pa.scalar(end)))
    if meter_accounts is not None:
        wanted = pa.array(sorted(meter_accounts), pa.string())
        table = table.filter(pc.is_in(table.column("meter_id"), value_set=wanted))
    if table.num_rows == 0:
        return ACCOUNT_ENERGY_SCHEMA.empty_table()
    merged = (
        table.select(["meter_id", "date", *SLOT_COLUMNS])
        .group_by(["meter_id", "date"], use_threads=False)
        .aggregate([(c, "mean") for c in SLOT_COLUMNS])
    )
    kw = np.column_stack(
        [
            merged.column(f"{c}_mean").to_numpy(zero_copy_only=False).astype(np.float64)
            for c in SLOT_COLUMNS
        ]
    )
    valid = np.isfinite(kw) & (kw >= 0)
    day_kwh = np.where(valid, kw, 0.0).sum(axis=1) * SLOT_HOURS
    day_h = valid.sum(axis=1) * SLOT_HOURS
    meters = merged.column("meter_id").to_pylist()
    days = merged.column("date").to_pylist()
    totals: dict[str, list[Any]] = {}
    for meter, day, kwh, hours in zip(meters, days, day_kwh, day_h, strict=True):
        entry = totals.setdefault(meter, [None, None, 0.0, 0.0])
        if hours > 0:
            entry[0] = day if entry[0] is None else min(entry[0], day)
            entry[1] = day if entry[1] is None else max(entry[1], day)
        entry[2] += float(kwh)
        entry[3] += float(hours)
    out: dict[str, list[Any]] = {name: [] for name in ACCOUNT_ENERGY_SCHEMA.names}
    for meter in sorted(totals):
        first, last, kwh, hours = totals[meter]
        if first is None:  # no valid reading at all: the window's days, nothing metered
            first = min(d for m, d in zip(meters, days, strict=True) if m == meter)
            last = max(d for m, d in zip(meters, days, strict=True) if m == meter)
        out["account_no"].append(meter if meter_accounts is None else meter_accounts[meter])
        out["meter_id"].append(meter)
        out["start_date"].append(first)
        out["end_date"].append(last)
        out["energy_kwh"].append(kwh)
        out["covered_h"].append(hours)
    return pa.table(out, schema=ACCOUNT_ENERGY_SCHEMA)


def clip_to_window(energy: pa.Table, start: date | None, end: date | None) -> Any:
    """The part of each period inside the window ``[start, end]`` (local days, both included).

    A period that straddles an edge keeps the share of its days inside the window, of its
    energy and of its hours (a mining load is flat: its energy is spread evenly over its days);
    one entirely outside is dropped.
    """
    if start is None and end is None:
        return energy
    out: dict[str, list[Any]] = {name: [] for name in ACCOUNT_ENERGY_SCHEMA.names}
    for row in energy.to_pylist():
        first = row["start_date"] if start is None else max(row["start_date"], start)
        last = row["end_date"] if end is None else min(row["end_date"], end)
        if last < first:
            continue
        share = ((last - first).days + 1) / ((row["end_date"] - row["start_date"]).days + 1)
        out["account_no"].append(row["account_no"])
        out["meter_id"].append(row["meter_id"])
        out["start_date"].append(first)
        out["end_date"].append(last)
        out["energy_kwh"].append(row["energy_kwh"] * share)
        out["covered_h"].append(row["covered_h"] * share)
    return pa.table(out, schema=ACCOUNT_ENERGY_SCHEMA)


@dataclass(frozen=True)
class MeteredAccount:
    """What the meters of one grid account recorded.

    ``mean_kw`` is the account's mean power: each meter's energy over its own metered hours,
    added up over the meters (they run side by side). ``covered_h`` is the longest metered
    time of a meter, ``shortest_covered_h`` the shortest (what data sufficiency is judged on).
    """

    account_no: str
    start_date: date
    end_date: date
    energy_kwh: float
    covered_h: float
    shortest_covered_h: float
    mean_kw: float
    meters: int


def account_summaries(energy: pa.Table) -> dict[str, MeteredAccount]:
    """Each account's metered figures, keyed by :func:`account_key` of its number.

    Parameters
    ----------
    energy : pyarrow.Table
        ``ACCOUNT_ENERGY_SCHEMA`` rows (already clipped to the window of interest).

    Returns
    -------
    dict
        account key → :class:`MeteredAccount`. A meter without metered hours adds no power
        and makes ``shortest_covered_h`` zero.
    """
    per_meter: dict[tuple[str, str | None], list[Any]] = {}
    for row in energy.to_pylist():
        key = (account_key(row["account_no"]), row["meter_id"])
        entry = per_meter.setdefault(key, [row["start_date"], row["end_date"], 0.0, 0.0])
        entry[0] = min(entry[0], row["start_date"])
        entry[1] = max(entry[1], row["end_date"])
        entry[2] += row["energy_kwh"]
        entry[3] += row["covered_h"]
    accounts: dict[str, list[Any]] = {}
    for (account, _meter), (first, last, kwh, hours) in per_meter.items():
        entry = accounts.setdefault(account, [first, last, 0.0, 0.0, np.inf, 0.0, 0])
        entry[0] = min(entry[0], first)
        entry[1] = max(entry[1], last)
        entry[2] += kwh
        entry[3] = max(entry[3], hours)
        entry[4] = min(entry[4], hours)
        entry[5] += kwh / hours if hours > 0 else 0.0
        entry[6] += 1
    return {
        account: MeteredAccount(
            account_no=account,
            start_date=first,
            end_date=last,
            energy_kwh=kwh,
            covered_h=longest,
            shortest_covered_h=float(shortest),
            mean_kw=kw,
            meters=meters,
        )
        for account, (first, last, kwh, longest, shortest, kw, meters) in accounts.items()
    }
