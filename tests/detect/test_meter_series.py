"""The load curve a meter lead carries, on hand-built loads whose numbers are known."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from minewatch.detect.meters.daily import daily_features
from minewatch.detect.meters.series import load_series
from minewatch.ingest.schemas import READINGS_SCHEMA, SLOT_COLUMNS

START = date(2021, 10, 11)
HOURS = np.arange(96) // 4


def _readings(loads: dict[str, dict[int, np.ndarray]]) -> pa.Table:
    """Wide readings from ``{meter_id: {day offset: 96 quarter-hour powers [kW]}}``."""
    ids, dates, rows = [], [], []
    for meter, days in loads.items():
        for day, load in sorted(days.items()):
            ids.append(meter)
            dates.append(START + timedelta(days=day))
            rows.append(load)
    matrix = np.asarray(rows, dtype=np.float32)
    columns = {"meter_id": pa.array(ids), "date": pa.array(dates, pa.date32())}
    columns |= {name: pa.array(matrix[:, i]) for i, name in enumerate(SLOT_COLUMNS)}
    return pa.table(columns, schema=READINGS_SCHEMA)


def _daily(readings: pa.Table, rows_per_batch: int = 7) -> pa.Table:
    """Stage one as the engine runs it: batch by batch, each with its own identifiers."""
    return pa.Table.from_batches(
        [daily_features(batch) for batch in readings.to_batches(max_chunksize=rows_per_batch)]
    )


def test_the_series_shows_the_block_that_appears_on_the_start_day() -> None:
    house = 2.0 + 3.0 * (HOURS >= 18)  # 2 kW, 5 kW in the evening
    farm = house + 400.0
    days = {d: (farm if d >= 10 else house).astype(np.float32) for d in range(20)}
    del days[4]  # a day the meter did not report
    days[6] = np.where(np.arange(96) < 60, np.nan, house).astype(np.float32)  # too few slots
    other = {d: np.full(96, 9.0, np.float32) for d in range(20)}
    readings = _readings({"M1": days, "M2": other, "M3": other})
    series = load_series(_daily(readings), {"M1": START + timedelta(days=10), "M3": None})
    assert set(series) == {"M1", "M3"}  # only the meters asked for
    m1 = series["M1"]
    assert m1["first_date"] == START.isoformat()
    assert m1["start_date"] == (START + timedelta(days=10)).isoformat()
    kwh = m1["daily_kwh"]
    assert len(kwh) == 20
    assert kwh[4] is None
    assert kwh[6] is None
    house_kwh = 2.0 * 24 + 3.0 * 6
    assert kwh[0] == pytest.approx(house_kwh, abs=0.2)
    assert kwh[12] == pytest.approx(house_kwh + 400 * 24, rel=0.005)
    assert m1["floor_kw"][0] == pytest.approx(2.0, abs=0.01)
    assert m1["floor_kw"][12] == pytest.approx(402.0, rel=0.005)
    before, after = m1["profile_before_kw"], m1["profile_after_kw"]
    assert len(before) == len(after) == 24
    assert before[3] == pytest.approx(2.0, abs=0.01)
    assert before[19] == pytest.approx(5.0, abs=0.02)
    assert after[3] == pytest.approx(402.0, rel=0.005)
    # no start detected: every valid day counts as "after"
    assert series["M3"]["profile_before_kw"] == [None] * 24
    assert series["M3"]["profile_after_kw"][0] == pytest.approx(9.0, abs=0.05)


def test_nothing_asked_nothing_given() -> None:
    readings = _readings({"M1": {0: np.full(96, 1.0, np.float32)}})
    assert load_series(_daily(readings), {}) == {}
    assert load_series(_daily(readings), {"absent": None}) == {}
