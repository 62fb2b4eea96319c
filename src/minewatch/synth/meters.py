"""Synthetic smart-meter load curves of one prefecture: crypto-mining meters among look-alikes.

:func:`generate_meters` invents, from a seed, the customers of a prefecture, the daily mean
temperature of each county and every meter's load curve in the canonical wide daily form
(:data:`~minewatch.ingest.schemas.READINGS_SCHEMA`: ``p001 … p096`` = average kW of each 15-minute
slot from 00:00 Asia/Shanghai), together with the ground truth (which meters mine, since when,
with how many rigs). It exists to train and, above all, to *evaluate* mining detectors on
provinces they were not tuned on, so every kind of load is modelled from its physics with
randomised parameters per meter, and the mixture is parameterised (:class:`MeterSynthParams`).
Only numpy's ``default_rng`` is used; the same seed and parameters give the same province.

Weather
    Daily mean temperature per county = annual sine climatology of the prefecture (Ya'an: mean
    15.5 °C, amplitude 10 °C, warmest around 19 July, which gives ~22-23 °C in early September,
    ~7 °C in mid December and ~25.5 °C in July, in line with the China Meteorological
    Administration 1991-2020 normals for 雅安) + an AR(1) synoptic anomaly (lag-1 correlation
    0.7, standard deviation 2.5-3.5 °C) shared by the prefecture + a fixed altitude offset per
    county (−2.5…+0.5 °C) + 0.4 °C of county noise. Other prefectures use rough provincial
    normals (colder and more continental to the north and on the plateau). Inside the day the
    air temperature follows an asymmetric cycle with its minimum at 05:00 and maximum at 14:30
    (half-range 3-5 °C); it drives every cooling/heating load but only the daily mean is exported
    (WEATHER_SCHEMA).

Calendar
    Weekends and the official 2021/2022 holidays with their make-up working days (State Council
    notices 国办发明电〔2020〕27号 and 〔2021〕11号): 2021 Mid-Autumn is 19-21 September with
    Saturday 18 September worked; National Day is 1-7 October with 26 September and 9 October
    worked. Other years fall back to 1 January, 1-3 May and 1-7 October.

Ordinary loads (:data:`ORDINARY_KINDS`)
    ``household``: standby 0.05-0.25 kW, refrigerator compressor cycling (60-150 W, 40-50 %
    duty, 40-80 min cycles), occupant activity with a 07:00 breakfast peak and an 18-22 h evening
    peak (1-3 kW at 15-min resolution; later and broader on days off), random appliance events
    (kettle, cooker, washing machine, water heater: 2-6 a day), split air conditioners above a
    set point of 25-28 °C and electric heaters/heat pumps below 6-10 °C (Sichuan has no district
    heating), families away over National Day, ~5 % vacant flats. ``shop``: opening hours
    08:00-10:00 → 20:00-22:30, refrigeration and signage at night, weekend/holiday trade, HVAC.
    ``office``: 08:00-09:00 → 17:30-18:50 on working days with a lunch dip, 15-35 % night base
    (servers, standby), temperature-driven HVAC. ``industry_1shift`` / ``industry_2shift``:
    shift levels with lunch or shift-change dips, machines switching, weekends off for many,
    holidays off.

Look-alikes (:data:`LOOKALIKE_KINDS`): flat-ish loads that are *not* mining
    ``data_centre``: IT load 150 kW-15 MW (log-uniform) with 2-10 % diurnal traffic modulation
    (internet DCs peak 20-22 h, enterprise DCs in business hours), a weekly pattern and a slow
    drift (racks added); cooling = IT × (PUE − 1), PUE 1.25-1.7 (Uptime Institute surveys put the
    2021 average near 1.57; new Chinese large DCs target < 1.3), scaled by outdoor temperature
    with ~1 h thermal lag: +3-5 % per °C above a free-cooling threshold of 10-15 °C, less below.
    ``base_station``: 1.5-8 kW; 55-75 % equipment base (BBU, rectifiers, transmission), a traffic
    part low at 02-06 h and high at 19-23 h, and air conditioning above 21-24 °C (shelter
    cooling). ``water_works``: 2-20 pumps of 30-250 kW, the number running follows the city's
    demand (06-09 h and 18-21 h peaks, night minimum ~45 %) plus reservoir filling in valley
    hours; the load steps in whole pumps. ``industry_3shift``: continuous process with dips at
    the 0/8/16 h shift changes, 3-8 % process noise, machines switching and a weekly half-day
    maintenance stop. ``hospital``: 40-60 % 24 h base, outpatient peak on working days,
    temperature-driven HVAC. ``cold_storage``: 1-6 compressors of 15-75 kW cycling with a duty
    cycle rising with outdoor temperature, defrost every 6-8 h. ``storage_heater`` (蓄热式电锅炉
    / 电采暖): charges only in the valley period 23:00-07:00, at full power until the store is
    full, the energy being proportional to the next day's heating degree-days below 15 °C (so
    nothing on warm days and a shorter block on milder nights). ``ev_charging``: 2-20 AC (7 kW)
    or DC (60-120 kW) chargers; sessions arrive as a Poisson process peaking at midday, in the
    evening and after 23:00. ``irrigation_pump``: 5-55 kW on the agricultural tariff, in
    episodes of 1-4 days (continuous, or 8-16 h a day) separated by off days, more frequent in
    warm/dry weather.

Mining (:data:`MINING_KINDS`; ``is_mining`` in the truth)
    Rig power is the nameplate wall power of catalogue models released by the start month
    (:func:`minewatch.reference.hardware.catalogue`: SHA-256 ASICs 1.3-3.5 kW, GPU rigs of 6-8
    cards 0.9-1.8 kW) × ``rig_power_scale`` × 0.97-1.03 (PSU efficiency, firmware tuning), times
    1.02-1.08 for exhaust fans, network and control. ASIC fans regulate chip temperature
    themselves, so a farm's load has no diurnal, weekly or temperature pattern: 0.3-1 % noise,
    single-rig reboots (one rig missing for 1-3 slots; ~0.05-0.2 per rig and day), rare failures
    (a permanent step down of a few rigs) and at most 0-0.2 %/°C of thermal throttling above
    30 °C. ``asic_farm``: 20-3000 rigs (log-normal, median 150) × ``farm_size_scale``.
    ``farm_as_data_centre``: the same registered as a data centre, with an optional constant
    "cooling" share (5-20 %, not temperature-following). ``gpu_commercial``: 5-60 GPU rigs behind
    an internet café or shop front. ``household_rigs``: a household with 1-3 GPU rigs or small
    ASICs. ``valley_only``: rigs switched on by timer for the valley period 23:00-07:00 only.
    ``throttling_farm``: throttles to 55-90 % for 1-8 h at random times. ``curtailed_farm``:
    near zero (standby, lighting) for 2-6 consecutive days. ``ramping_farm``: starts inside the
    period and comes online in 2-4 batches of whole rigs on separate days.
    Mining that starts inside the period (``mid_period_start_share``; always for
    ``ramping_farm``) starts at a random slot (``start_slot``) of a day uniformly chosen between
    day 3 and day ``days − 4``; before it the meter carries the site's previous load (fit-out
    crews and lighting of an empty warehouse or plant, 1-10 kW, which ends when the farm goes
    live) or, for households and shops, their ordinary profile. ``mining_kw`` in the truth is
    the steady mining power incl. fans (and the constant cooling share of disguised farms).

Data-quality faults (:class:`MeterSynthParams`): runs of missing slots (null), missing and
duplicated meter-days (duplicates appended at the end of the table), meter faults (negative
values, 9 999 999 kW, 65 535 kW, values in W instead of kW) and meters with only 1-3 days of
history. The truth ignores faults.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from minewatch.ingest.schemas import (
    CUSTOMERS_SCHEMA,
    READINGS_SCHEMA,
    SLOTS_PER_DAY,
    WEATHER_SCHEMA,
    TariffClass,
)
from minewatch.reference import credit_code, regions
from minewatch.reference.hardware import MinerModel, catalogue
from minewatch.reference.regions import Region

__all__ = [
    "ALL_KINDS",
    "LOOKALIKE_KINDS",
    "MINING_KINDS",
    "ORDINARY_KINDS",
    "TRUTH_SCHEMA",
    "VALLEY_SLOTS",
    "MeterProvince",
    "MeterSynthParams",
    "generate_meters",
    "write_meter_province",
]

Arr = npt.NDArray[Any]
_F32 = np.float32
_S = SLOTS_PER_DAY

MINING_KINDS: tuple[str, ...] = (
    "asic_farm",
    "farm_as_data_centre",
    "gpu_commercial",
    "household_rigs",
    "valley_only",
    "throttling_farm",
    "curtailed_farm",
    "ramping_farm",
)
LOOKALIKE_KINDS: tuple[str, ...] = (
    "data_centre",
    "base_station",
    "water_works",
    "industry_3shift",
    "hospital",
    "cold_storage",
    "storage_heater",
    "ev_charging",
    "irrigation_pump",
)
ORDINARY_KINDS: tuple[str, ...] = (
    "household",
    "shop",
    "office",
    "industry_1shift",
    "industry_2shift",
)
ALL_KINDS: tuple[str, ...] = MINING_KINDS + LOOKALIKE_KINDS + ORDINARY_KINDS

_DEFAULT_MINING_MIX: dict[str, float] = {
    "asic_farm": 0.24,
    "farm_as_data_centre": 0.10,
    "gpu_commercial": 0.12,
    "household_rigs": 0.16,
    "valley_only": 0.10,
    "throttling_farm": 0.10,
    "curtailed_farm": 0.08,
    "ramping_farm": 0.10,
}
_DEFAULT_LOOKALIKE_MIX: dict[str, float] = {
    "data_centre": 0.17,
    "base_station": 0.19,
    "water_works": 0.09,
    "industry_3shift": 0.11,
    "hospital": 0.09,
    "cold_storage": 0.10,
    "storage_heater": 0.08,
    "ev_charging": 0.09,
    "irrigation_pump": 0.08,
}
_ORDINARY_MIX: dict[str, float] = {
    "household": 0.78,
    "shop": 0.10,
    "office": 0.04,
    "industry_1shift": 0.05,
    "industry_2shift": 0.03,
}

VALLEY_SLOTS: npt.NDArray[np.bool_] = np.zeros(_S, dtype=bool)
"""Slots of the valley (低谷) tariff period 23:00-07:00 (Sichuan time-of-use tariff)."""
VALLEY_SLOTS[:28] = True
VALLEY_SLOTS[92:] = True

TRUTH_SCHEMA = pa.schema(
    [
        pa.field("meter_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("is_mining", pa.bool_(), nullable=False),
        pa.field("mining_kind", pa.string()),
        pa.field("start_date", pa.date32()),
        pa.field("mining_kw", pa.float64()),
        pa.field("rigs", pa.int32()),
        pa.field("hashrate_ths", pa.float64()),
        pa.field("start_slot", pa.int16()),
    ]
)

_CHUNK = 5000
_HOURS: Arr = ((np.arange(_S) + 0.5) / 4.0).astype(_F32)  # slot centre [h]


@dataclass(frozen=True)
class MeterSynthParams:
    """Knobs of a generated prefecture; every default is a plausible 2021 Sichuan prefecture."""

    mining_share: float = 0.03
    lookalike_share: float = 0.15
    mining_mix: Mapping[str, float] | None = None
    lookalike_mix: Mapping[str, float] | None = None
    rig_power_scale: float = 1.0
    farm_size_scale: float = 1.0
    noise_scale: float = 1.0
    mid_period_start_share: float = 0.5
    gap_rate: float = 0.002
    missing_day_rate: float = 0.005
    duplicate_day_rate: float = 0.0005
    bad_value_rate: float = 0.0002
    short_history_share: float = 0.002


@dataclass(frozen=True)
class MeterProvince:
    """A generated prefecture: readings, customers, weather and the ground truth."""

    readings: pa.Table
    customers: pa.Table
    weather: pa.Table
    truth: pa.Table
    start_date: date
    days: int


# --------------------------------------------------------------------------------------------
# Small numeric helpers


def _u(rng: np.random.Generator, lo: float, hi: float, m: int) -> Arr:
    return rng.uniform(lo, hi, m).astype(_F32)


def _c(x: Arr) -> Arr:
    """Per-meter values as a (m, 1, 1) float32 column."""
    return np.asarray(x, dtype=_F32).reshape(-1, 1, 1)


def _bump(centre: Arr | float, width: Arr | float) -> Arr:
    """Circular Gaussian bump over the day, (m, 96) for per-meter centres, else (96,)."""
    c = np.asarray(centre, dtype=_F32)[..., None]
    w = np.asarray(width, dtype=_F32)[..., None]
    d = (_HOURS - c + 12.0) % 24.0 - 12.0
    out: Arr = np.exp(-0.5 * (d / w) ** 2).astype(_F32)
    return out


def _window(start: Arr | float, end: Arr | float, ramp: float = 0.2) -> Arr:
    """Smooth 0→1→0 window between two hours of the day (no wrap-around), (m, 96)."""
    s = np.asarray(start, dtype=_F32)[..., None]
    e = np.asarray(end, dtype=_F32)[..., None]
    rise = 0.5 + 0.5 * np.tanh((_HOURS - s) / (2 * ramp))
    fall = 0.5 + 0.5 * np.tanh((e - _HOURS) / (2 * ramp))
    out: Arr = (rise * fall).astype(_F32)
    return out


def _norm01(x: Arr) -> Arr:
    lo = x.min(axis=-1, keepdims=True)
    hi = x.max(axis=-1, keepdims=True)
    out: Arr = (x - lo) / np.maximum(hi - lo, 1e-6)
    return out


def _by_day(workday_shape: Arr, dayoff_shape: Arr, workday: Arr) -> Arr:
    """(m, days, 96): the working-day shape on working days, the other one else."""
    out: Arr = np.where(workday[None, :, None], workday_shape[:, None, :], dayoff_shape[:, None, :])
    return out


def _ar1(rng: np.random.Generator, m: int, n: int, phi: float | Arr) -> Arr:
    """(m, n) float32 stationary AR(1) noise with unit variance (circular, via FFT)."""
    e = rng.standard_normal((m, n), dtype=_F32)
    ph = np.asarray(phi, dtype=np.float64)
    if ph.ndim:
        ph = ph.reshape(-1, 1)
    if not np.any(ph):
        return e
    spec = np.fft.rfft(e, axis=1)
    w = np.exp(-2j * np.pi * np.arange(n // 2 + 1) / n)
    spec *= (np.sqrt(1.0 - ph**2) / (1.0 - ph * w)).astype(np.complex64)
    out: Arr = np.fft.irfft(spec, n=n, axis=1).astype(_F32)
    return out


# --------------------------------------------------------------------------------------------
# Weather and calendar

# (annual mean °C, annual amplitude °C) of daily mean temperature: rough 1991-2020 normals.
_PROVINCE_CLIMATE: dict[str, tuple[float, float]] = {
    "11": (12.5, 15.0), "12": (13.0, 15.0), "13": (12.5, 15.0), "14": (10.0, 14.0),
    "15": (5.0, 18.0), "21": (8.0, 17.0), "22": (5.0, 19.0), "23": (3.0, 21.0),
    "31": (16.5, 12.0), "32": (15.5, 13.0), "33": (17.0, 12.0), "34": (16.0, 13.0),
    "35": (19.5, 9.0), "36": (18.0, 12.0), "37": (13.5, 14.0), "41": (15.0, 14.0),
    "42": (16.5, 13.0), "43": (17.0, 12.0), "44": (22.0, 7.5), "45": (21.0, 8.0),
    "46": (25.0, 4.0), "50": (18.0, 11.0), "51": (16.0, 10.0), "52": (15.0, 9.5),
    "53": (16.0, 6.0), "54": (8.0, 9.0), "61": (13.5, 13.0), "62": (8.0, 13.0),
    "63": (4.0, 12.0), "64": (9.0, 14.0), "65": (8.0, 18.0), "71": (23.0, 6.0),
    "81": (23.0, 6.5), "82": (22.5, 6.5),
}  # fmt: skip
_PREFECTURE_CLIMATE: dict[str, tuple[float, float]] = {
    "511800": (15.5, 10.0),  # 雅安
    "513200": (6.0, 9.0),  # 阿坝 (plateau)
    "513300": (6.0, 9.0),  # 甘孜 (plateau)
    "513400": (17.0, 7.0),  # 凉山 (西昌)
    "510400": (20.5, 6.0),  # 攀枝花
    "652300": (7.0, 19.0),  # 昌吉 (准东)
    "150600": (7.0, 17.0),  # 鄂尔多斯
}
_WARMEST_DAY = 200  # day of year of the climatological maximum (~19 July)


def _climate(prefecture_code: str) -> tuple[float, float]:
    if prefecture_code in _PREFECTURE_CLIMATE:
        return _PREFECTURE_CLIMATE[prefecture_code]
    return _PROVINCE_CLIMATE.get(prefecture_code[:2], (15.0, 11.0))


def _diurnal_shape() -> Arr:
    """Zero-mean intra-day temperature shape, −1 at 05:00 and +1 at 14:30 (asymmetric)."""
    h = _HOURS.astype(np.float64)
    rising = (h >= 5.0) & (h <= 14.5)
    later = np.where(h >= 14.5, h, h + 24.0)
    shape = np.where(
        rising, -np.cos(np.pi * (h - 5.0) / 9.5), np.cos(np.pi * (later - 14.5) / 14.5)
    )
    out: Arr = (shape - shape.mean()).astype(_F32)
    return out


def _weather(
    rng: np.random.Generator, n_counties: int, start: date, days: int, prefecture_code: str
) -> tuple[Arr, Arr]:
    """(daily mean (c, days), slot temperature (c, days, 96)), float32."""
    mean, amp = _climate(prefecture_code)
    doy = np.array([(start + timedelta(d)).timetuple().tm_yday for d in range(days)], float)
    clim = mean + amp * np.cos(2 * np.pi * (doy - _WARMEST_DAY) / 365.25)
    sd = rng.uniform(2.5, 3.5)
    phi = 0.7
    anomaly = np.empty(days)
    anomaly[0] = rng.normal(0.0, sd)
    innovations = rng.normal(0.0, sd * math.sqrt(1 - phi**2), days)
    for d in range(1, days):
        anomaly[d] = phi * anomaly[d - 1] + innovations[d]
    offset = rng.uniform(-2.5, 0.5, n_counties)
    daily = (
        clim[None, :]
        + anomaly[None, :]
        + offset[:, None]
        + rng.normal(0.0, 0.4, (n_counties, days))
    ).astype(_F32)
    # Clear, warm-anomaly days have a larger diurnal range.
    half_range = np.clip(
        4.0 + 0.25 * anomaly[None, :] + rng.normal(0, 0.4, (n_counties, days)), 3, 5
    )
    slot = daily[:, :, None] + half_range.astype(_F32)[:, :, None] * _diurnal_shape()
    return daily, slot.astype(_F32)


def _date_range(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(i) for i in range((b - a).days + 1)]


_HOLIDAYS: frozenset[date] = frozenset(
    d
    for first, last in (
        ("2021-01-01", "2021-01-03"), ("2021-02-11", "2021-02-17"), ("2021-04-03", "2021-04-05"),
        ("2021-05-01", "2021-05-05"), ("2021-06-12", "2021-06-14"), ("2021-09-19", "2021-09-21"),
        ("2021-10-01", "2021-10-07"), ("2022-01-01", "2022-01-03"), ("2022-01-31", "2022-02-06"),
        ("2022-04-03", "2022-04-05"), ("2022-04-30", "2022-05-04"), ("2022-06-03", "2022-06-05"),
        ("2022-09-10", "2022-09-12"), ("2022-10-01", "2022-10-07"),
    )
    for d in _date_range(first, last)
)  # fmt: skip
_MAKEUP_DAYS: frozenset[date] = frozenset(
    date.fromisoformat(s)
    for s in (
        "2021-02-07", "2021-02-20", "2021-04-25", "2021-05-08", "2021-09-18", "2021-09-26",
        "2021-10-09", "2022-01-29", "2022-01-30", "2022-04-02", "2022-04-24", "2022-05-07",
        "2022-10-08", "2022-10-09",
    )
)  # fmt: skip


def _is_holiday(day: date) -> bool:
    if day.year in (2021, 2022):
        return day in _HOLIDAYS
    return (day.month, day.day) in {(1, 1), (5, 1), (5, 2), (5, 3)} or (
        day.month == 10 and day.day <= 7
    )


def _calendar(start: date, days: int) -> tuple[Arr, Arr, Arr]:
    """(working day, public holiday, day of week 0=Monday), each (days,)."""
    dates = [start + timedelta(d) for d in range(days)]
    holiday = np.array([_is_holiday(d) for d in dates], dtype=bool)
    dow = np.array([d.weekday() for d in dates], dtype=np.int64)
    makeup = np.array([d in _MAKEUP_DAYS for d in dates], dtype=bool)
    workday = ((dow < 5) | makeup) & ~holiday
    return workday, holiday, dow


# --------------------------------------------------------------------------------------------
# Generation context


@dataclass(frozen=True)
class _Rig:
    model: str
    kw: float
    ths: float


@dataclass(frozen=True)
class _Ctx:
    days: int
    noise: float
    params: MeterSynthParams
    temp: Arr  # (counties, days, 96) slot air temperature, float32
    temp_day: Arr  # (counties, days) daily mean
    workday: Arr  # (days,) bool
    holiday: Arr  # (days,) bool
    dow: Arr  # (days,) int
    pools: dict[str, tuple[tuple[_Rig, ...], Arr]]  # rig pool → (rigs, weights)


@dataclass(frozen=True)
class _Batch:
    county: Arr  # (m,) county index
    start_day: Arr  # (m,) day mining starts, −1 = before the period
    start_slot: Arr  # (m,) slot, −1 = none

    @property
    def m(self) -> int:
        return int(self.county.shape[0])


@dataclass
class _Out:
    load: Arr  # (m, days, 96) float32
    mining_kw: Arr | None = None
    rigs: Arr | None = None
    hashrate_ths: Arr | None = None
    start_day: Arr | None = None
    start_slot: Arr | None = None
    residential: Arr | None = None  # for kinds whose customer may be a household
    rated_kw: Arr | None = None  # installed power, when the period may not show it


def _as_rig(model: MinerModel) -> _Rig:
    return _Rig(model.model, model.power_w / 1000.0, model.hashrate_hs / 1e12)


def _rig_pools(start: date) -> dict[str, tuple[tuple[_Rig, ...], Arr]]:
    """Rigs on sale by the start month: farms (mostly SHA-256), GPU rigs, small rigs."""
    month = f"{start.year:04d}-{start.month:02d}"
    every = list(catalogue().values())
    models = [m for m in every if m.released <= month] or every
    gpu = [m for m in models if m.vendor == "generic"] or [min(models, key=lambda m: m.power_w)]
    asic = [m for m in models if m.vendor != "generic"] or models
    small = [m for m in models if m.power_w <= 2200] or gpu

    def weighted(group: list[MinerModel]) -> tuple[tuple[_Rig, ...], Arr]:
        w = np.array([6.0 if m.algorithm == "SHA-256" else 1.0 for m in group])
        return tuple(_as_rig(m) for m in group), w / w.sum()

    return {"farm": weighted(asic), "gpu": weighted(gpu), "small": weighted(small)}


def _rig_meta(
    ctx: _Ctx, rng: np.random.Generator, m: int, pool: str, rigs: Arr
) -> tuple[Arr, Arr, Arr]:
    """(kW per rig incl. fans and network, mining kW, hash rate TH/s) for each meter."""
    models, weights = ctx.pools[pool]
    pick = rng.choice(len(models), size=m, p=weights)
    kw = np.array([models[i].kw for i in pick]) * ctx.params.rig_power_scale
    kw *= rng.uniform(0.97, 1.03, m)
    ths = np.array([models[i].ths for i in pick])
    unit = kw * rng.uniform(1.02, 1.08, m)
    return unit, rigs * unit, rigs * ths


def _farm_rigs(
    rng: np.random.Generator, m: int, scale: float, median: float, sigma: float, lo: int, hi: int
) -> Arr:
    r = np.clip(np.exp(rng.normal(math.log(median), sigma, m)), lo, hi)
    out: Arr = np.maximum(1, np.round(r * scale)).astype(np.int64)
    return out


def _after_start(b: _Batch, days: int) -> Arr:
    t0 = np.where(b.start_day >= 0, b.start_day * _S + np.maximum(b.start_slot, 0), 0)
    t = np.arange(days * _S)
    out: Arr = (t[None, :] >= t0[:, None]).reshape(b.m, days, _S)
    return out


def _temps(ctx: _Ctx, b: _Batch) -> Arr:
    out: Arr = ctx.temp[b.county]
    return out


# --------------------------------------------------------------------------------------------
# Ordinary loads


def _household_load(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> Arr:
    m, days = b.m, ctx.days
    ns = ctx.noise
    n = days * _S
    base = _c(_u(rng, 0.05, 0.25, m))
    # Refrigerator: compressor cycles of 40-80 min seen as partial on-fractions per slot.
    t = np.arange(n, dtype=_F32)
    period = _u(rng, 2.7, 5.3, m)[:, None]
    phase = _u(rng, 0.0, 2 * math.pi, m)[:, None]
    fridge_kw = _u(rng, 0.06, 0.15, m)[:, None]
    fridge = fridge_kw * np.clip(0.45 + 0.8 * np.sin(t * (2 * np.pi / period) + phase), 0, 1)
    # Occupant activity: breakfast, lunch, evening; later and broader on days off.
    shift = rng.normal(0.0, 0.5, m).astype(_F32)
    work = (
        0.55 * _bump(7.2 + shift, 0.6)
        + 0.25 * _bump(12.2 + shift, 0.7)
        + _bump(19.8 + shift, 1.4)
        + 0.25 * _bump(22.6 + shift, 0.7)
    )
    off = (
        0.45 * _bump(8.8 + shift, 1.1)
        + 0.45 * _bump(12.3 + shift, 1.0)
        + 0.35 * _bump(15.5 + shift, 2.0)
        + _bump(19.6 + shift, 1.6)
    )
    act = _by_day(work, off, ctx.workday)
    travelling = (rng.random(m) < 0.2)[:, None] & ctx.holiday[None, :]
    act *= np.where(travelling, _F32(0.05), _F32(1.0))[:, :, None]
    amp = _u(rng, 0.4, 1.5, m)
    vacant = rng.random(m) < 0.05
    amp[vacant] *= 0.03
    day_factor = np.exp(0.25 * ns * rng.standard_normal((m, days, 1), dtype=_F32))
    sigma = 0.45 * ns
    slot_factor = np.exp(sigma * rng.standard_normal((m, days, _S), dtype=_F32) - 0.5 * sigma**2)
    load = base + fridge.reshape(m, days, _S) + _c(amp) * act * day_factor * slot_factor
    del slot_factor
    # Appliance events (kettle, cooker, washer, water heater) as 15-min averages of 0.4-2.4 kW.
    rate = _u(rng, 2.0, 6.0, m) / _S * np.where(vacant, 0.0, 1.0).astype(_F32)
    p = _c(rate) * (0.25 + act) / 0.55
    u = rng.random((m, days, _S), dtype=_F32)
    load += np.where(u < p, 0.3 + 1.8 * u / np.maximum(p, 1e-9), _F32(0.0))
    del u, p
    # Air conditioning and electric heating, weighted by occupancy.
    temp_max = float(ctx.temp[np.unique(b.county)].max())
    temp_min = float(ctx.temp[np.unique(b.county)].min())
    if temp_max > 24.0 or temp_min < 11.0:
        temp = _temps(ctx, b)
        occ = (
            np.clip(0.3 + act, 0, 1)
            * np.where(travelling | vacant[:, None], 0.0, 1.0).astype(_F32)[:, :, None]
        )
        hvac = np.zeros_like(load)
        if temp_max > 24.0:
            ac_kw = _u(rng, 0.8, 2.5, m) * (rng.random(m) < 0.85)
            setpoint = _c(_u(rng, 25.0, 28.0, m))
            hvac += _c(ac_kw) * np.clip((temp - setpoint) / 6.0, 0, 1.2)
        if temp_min < 11.0:
            heat_kw = _u(rng, 0.5, 2.0, m) * (rng.random(m) < 0.6)
            setpoint = _c(_u(rng, 6.0, 10.0, m))
            hvac += _c(heat_kw) * np.clip((setpoint - temp) / 8.0, 0, 1.2)
        load += hvac * occ
    out: Arr = load.astype(_F32, copy=False)
    return out


def _gen_household(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    return _Out(_household_load(ctx, rng, b))


def _hvac(
    ctx: _Ctx,
    rng: np.random.Generator,
    b: _Batch,
    cool_kw: Arr,
    heat_kw: Arr,
    cool_set: tuple[float, float],
    heat_set: tuple[float, float],
) -> Arr:
    """Cooling above and heating below per-meter set points, (m, days, 96) kW."""
    temp = _temps(ctx, b)
    cs = _c(_u(rng, *cool_set, b.m))
    hs = _c(_u(rng, *heat_set, b.m))
    out: Arr = _c(cool_kw) * np.clip((temp - cs) / 8.0, 0, 1.3) + _c(heat_kw) * np.clip(
        (hs - temp) / 8.0, 0, 1.3
    )
    return out


def _shop_load(
    ctx: _Ctx, rng: np.random.Generator, b: _Batch, level: Arr, opening: tuple[float, float]
) -> Arr:
    m, days = b.m, ctx.days
    open_h = _u(rng, opening[0], opening[0] + 2.0, m)
    close_h = np.minimum(_u(rng, opening[1], opening[1] + 2.5, m), 24.0)
    night = _c(_u(rng, 0.08, 0.3, m))
    trade = _window(open_h, close_h) * (0.85 + 0.15 * _bump(12.0, 1.5) + 0.2 * _bump(19.0, 1.5))
    open_day = np.ones((m, days), dtype=_F32)
    closing_dow = np.where(rng.random(m) < 0.15, rng.integers(0, 7, m), -1)
    open_day[closing_dow[:, None] == ctx.dow[None, :]] = 0.0
    away = rng.random(m) < 0.25
    open_day[away[:, None] & ctx.holiday[None, :]] = 0.0
    busy = np.where(ctx.holiday, 1.15, np.where(ctx.workday, 1.0, 1.1)).astype(_F32)
    day = (open_day * busy[None, :])[:, :, None] * trade[:, None, :]
    sd = _c(_u(rng, 0.04, 0.10, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, days * _S, 0.6).reshape(m, days, _S)
    load = _c(level) * (night + (1.0 - night) * day) * noise
    hvac = _hvac(
        ctx, rng, b, level * _u(rng, 0.2, 0.5, m), level * _u(rng, 0.1, 0.3, m), (23, 26), (8, 12)
    )
    out: Arr = (load + hvac * np.minimum(day, 1.0)).astype(_F32)
    return out


def _gen_shop(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    level = np.clip(np.exp(rng.normal(math.log(6.0), 0.7, b.m)), 1.5, 60).astype(_F32)
    return _Out(_shop_load(ctx, rng, b, level, (8.0, 20.0)))


def _gen_office(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    level = np.clip(np.exp(rng.normal(math.log(80.0), 0.9, m)), 15, 1500).astype(_F32)
    start = _u(rng, 8.0, 9.0, m)
    end = _u(rng, 17.5, 18.8, m)
    hours = _window(start, end, 0.25) * (1.0 - 0.15 * _bump(12.6, 0.5))
    saturday = (rng.random(m) < 0.15)[:, None] & (ctx.dow[None, :] == 5) & ~ctx.holiday[None, :]
    on = np.where(ctx.workday[None, :], 1.0, np.where(saturday, 0.4, 0.0)).astype(_F32)
    occupied = on[:, :, None] * hours[:, None, :]
    base = _c(_u(rng, 0.15, 0.35, m))
    sd = _c(_u(rng, 0.03, 0.06, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, days * _S, 0.7).reshape(m, days, _S)
    hvac_hours = on[:, :, None] * _window(start - 1.0, end, 0.3)[:, None, :]
    hvac = _hvac(
        ctx,
        rng,
        b,
        level * _u(rng, 0.25, 0.45, m),
        level * _u(rng, 0.1, 0.3, m),
        (23, 26),
        (10, 14),
    )
    out: Arr = (_c(level) * (base + (1.0 - base) * occupied) * noise + hvac * hvac_hours).astype(
        _F32
    )
    return _Out(out)


def _machines(rng: np.random.Generator, m: int, n: int, count: int) -> Arr:
    """Share (0..1) of `count` machines running, each switching with persistence."""
    total = np.zeros((m, n), dtype=_F32)
    for _ in range(count):
        total += (_ar1(rng, m, n, 0.9) > rng.uniform(-0.5, 0.8)).astype(_F32)
    out: Arr = total / count
    return out


def _industry(ctx: _Ctx, rng: np.random.Generator, b: _Batch, shifts: int) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    median = {1: 150.0, 2: 300.0}[shifts]
    level = np.clip(np.exp(rng.normal(math.log(median), 1.0, m)), 20, 4000).astype(_F32)
    if shifts == 1:
        start = _u(rng, 7.5, 8.5, m)
        end = start + _u(rng, 8.5, 9.5, m)
        hours = _window(start, end, 0.2) * (1.0 - 0.5 * _window(12.0, 13.0, 0.1))
        works_sat = rng.random(m) < 0.4
        works_sun = np.zeros(m, dtype=bool)
    else:
        start = _u(rng, 6.0, 8.0, m)
        end = start + 16.0
        hours = _window(start, end, 0.2) * (1.0 - 0.2 * _bump(start + 8.0, 0.25))
        works_sat = rng.random(m) < 0.6
        works_sun = works_sat & (rng.random(m) < 0.5)
    working = (
        ctx.workday[None, :]
        | (works_sat[:, None] & (ctx.dow[None, :] == 5))
        | (works_sun[:, None] & (ctx.dow[None, :] == 6))
    ) & ~ctx.holiday[None, :]
    base = _c(_u(rng, 0.05, 0.15, m))
    production = np.exp(0.08 * ctx.noise * rng.standard_normal((m, days, 1), dtype=_F32))
    sd = _c(_u(rng, 0.04, 0.10, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, n, 0.5).reshape(m, days, _S)
    machines = 0.7 + 0.3 * _machines(rng, m, n, 3).reshape(m, days, _S)
    run = working[:, :, None] * hours[:, None, :] * production * machines
    out: Arr = (_c(level) * (base + (1.0 - base) * run) * noise).astype(_F32)
    return _Out(np.maximum(out, 0.0))


def _gen_industry_1shift(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    return _industry(ctx, rng, b, 1)


def _gen_industry_2shift(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    return _industry(ctx, rng, b, 2)


# --------------------------------------------------------------------------------------------
# Look-alikes


def _gen_data_centre(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    it = np.exp(rng.uniform(math.log(150.0), math.log(15000.0), m)).astype(_F32)
    internet = rng.random(m) < 0.6
    modulation = _c(_u(rng, 0.02, 0.10, m))
    evening = _norm01(
        0.65 * _bump(21.0 + rng.normal(0, 0.7, m).astype(_F32), 2.5) + 0.45 * _bump(14.5, 3.5)
    )
    business = _norm01(_window(_u(rng, 8.0, 9.5, m), _u(rng, 17.5, 19.5, m), 0.5))
    work = np.where(internet[:, None], evening, business)
    off = np.where(internet[:, None], evening, 0.15 * business)
    shape = _by_day(work, off, ctx.workday)
    weekly = np.where(
        internet[:, None], 1.0 + 0.01 * ~ctx.workday[None, :], 1.0 - 0.02 * ~ctx.workday[None, :]
    )
    drift = 1.0 + rng.uniform(-0.01, 0.03, m)[:, None] * np.linspace(0, 1, days)[None, :]
    it_load = _c(it) * (1.0 - modulation / 2 + modulation * shape)
    it_load *= (weekly * drift).astype(_F32)[:, :, None]
    # Chillers: +3-5 %/°C above the free-cooling threshold, following the air ~1 h late.
    pue = _c(_u(rng, 1.25, 1.7, m))
    threshold = _c(_u(rng, 10.0, 15.0, m))
    slope = _c(_u(rng, 0.03, 0.05, m))
    lag = int(rng.integers(2, 6))
    temp = np.roll(_temps(ctx, b).reshape(m, n), lag, axis=1).reshape(m, days, _S)
    relative = np.where(
        temp > threshold,
        1.0 + slope * (temp - threshold),
        np.maximum(1.0 - 0.03 * (threshold - temp), 0.45),
    )
    cooling = it_load * (pue - 1.0) * relative / (1.0 + slope * 8.0)
    sd = _c(_u(rng, 0.003, 0.01, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, n, 0.7).reshape(m, days, _S)
    return _Out(((it_load + cooling) * noise).astype(_F32))


def _gen_base_station(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    power = _c(_u(rng, 1.5, 8.0, m))
    equipment = _c(_u(rng, 0.55, 0.75, m))
    traffic = 0.15 + 0.85 * _norm01(
        0.55 * _bump(11.5, 3.0) + _bump(21.0 + rng.normal(0, 0.5, m).astype(_F32), 2.2)
    )
    weekend = np.where(ctx.workday, 1.0, 0.95).astype(_F32)[None, :, None]
    part = power * (1.0 - equipment) * 0.7 * traffic[:, None, :] * weekend
    sd = _c(_u(rng, 0.01, 0.02, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, n, 0.5).reshape(m, days, _S)
    ac_kw = power * _c(_u(rng, 0.15, 0.3, m))
    setpoint = _c(_u(rng, 21.0, 24.0, m))
    cycling = np.maximum(1.0 + 0.3 * ctx.noise * _ar1(rng, m, n, 0.3).reshape(m, days, _S), 0)
    ac = ac_kw * np.clip((_temps(ctx, b) - setpoint) / 10.0, 0, 1.2) * cycling
    return _Out(((power * equipment + part) * noise + ac).astype(_F32))


def _gen_water_works(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    pumps = rng.integers(2, 21, m)
    pump_kw = _c(_u(rng, 30.0, 250.0, m))
    shift = rng.normal(0, 0.4, m).astype(_F32)
    work = 0.45 + 0.9 * _bump(7.3 + shift, 1.2) + 0.75 * _bump(19.5 + shift, 1.4)
    off = 0.45 + 0.75 * _bump(8.6 + shift, 1.6) + 0.75 * _bump(19.3 + shift, 1.5)
    demand = _by_day(work, off, ctx.workday)
    share = _c(_u(rng, 0.3, 0.55, m))
    warm = 1.0 + 0.015 * (ctx.temp_day[b.county] - 20.0)
    daily = np.exp(0.04 * ctx.noise * rng.standard_normal((m, days), dtype=_F32))
    refill = _c(_u(rng, 0.0, 0.25, m)) * VALLEY_SLOTS.astype(_F32)
    target = _c(pumps) * (share * demand * (warm * daily)[:, :, None] + refill)
    slow = 0.35 * _ar1(rng, m, n, 0.97).reshape(m, days, _S)
    running = np.clip(np.round(target + slow), 1, _c(pumps))
    head = 1.0 + 0.02 * ctx.noise * _ar1(rng, m, n, 0.8).reshape(m, days, _S)
    treatment = pump_kw * _c(pumps) * _c(_u(rng, 0.02, 0.05, m))
    return _Out((running * pump_kw * head + treatment).astype(_F32))


def _gen_industry_3shift(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    level = np.clip(np.exp(rng.normal(math.log(800.0), 1.0, m)), 100, 8000).astype(_F32)
    depth = _u(rng, 0.10, 0.25, m)[:, None]
    changes = _bump(0.1, 0.25) + _bump(8.1, 0.25) + _bump(16.1, 0.25)
    shape = 1.0 - depth * changes[None, :]
    machines = 0.75 + 0.25 * _machines(rng, m, n, int(rng.integers(3, 9))).reshape(m, days, _S)
    sd = _c(_u(rng, 0.03, 0.08, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, n, 0.5).reshape(m, days, _S)
    load = _c(level) * shape[:, None, :] * machines * noise
    # Weekly planned maintenance: one weekday, 4-12 h from 08:00 at 20-40 % load.
    dow = rng.integers(0, 7, m)
    stop = _window(8.0, 8.0 + _u(rng, 4.0, 12.0, m), 0.2)
    residual = _c(_u(rng, 0.2, 0.4, m))
    on_day = (dow[:, None] == ctx.dow[None, :])[:, :, None]
    load *= 1.0 - on_day * stop[:, None, :] * (1.0 - residual)
    load *= 1.0 + 0.003 * (_temps(ctx, b) - 20.0)  # cooling-water pumps and fans
    return _Out(np.maximum(load, 0.0).astype(_F32))


def _gen_hospital(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    level = np.clip(np.exp(rng.normal(math.log(600.0), 0.8, m)), 100, 5000).astype(_F32)
    base = _c(_u(rng, 0.4, 0.6, m))
    clinic = _window(7.5, 17.5, 0.5) * (1.0 - 0.1 * _bump(12.5, 0.6)) + 0.25 * _bump(19.5, 1.5)
    clinic = np.broadcast_to(clinic, (m, _S))
    shape = _by_day(clinic, 0.45 * clinic, ctx.workday)
    sd = _c(_u(rng, 0.02, 0.04, m)) * ctx.noise
    noise = 1.0 + sd * _ar1(rng, m, n, 0.6).reshape(m, days, _S)
    hvac = _hvac(
        ctx,
        rng,
        b,
        level * _u(rng, 0.15, 0.3, m),
        level * _u(rng, 0.05, 0.15, m),
        (21, 24),
        (13, 15),
    )
    core = _c(level) * (base + 0.8 * (1.0 - base) * shape) * noise
    return _Out((core + hvac).astype(_F32))


def _gen_cold_storage(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    count = rng.integers(1, 7, m)
    comp_kw = _u(rng, 15.0, 75.0, m)
    temp = _temps(ctx, b).reshape(m, n)
    duty = np.clip(_u(rng, 0.25, 0.4, m)[:, None] + 0.025 * (temp - 10.0), 0.15, 0.95)
    # Defrost every 6-8 h for 30 min: compressors off, heaters on.
    period = rng.integers(24, 33, m)[:, None]
    defrost = ((np.arange(n)[None, :] + rng.integers(0, 32, m)[:, None]) % period) < 2
    load = np.zeros((m, n), dtype=_F32)
    for k in range(6):
        active = (count > k).astype(_F32)[:, None]
        if not active.any():
            break
        on = np.clip(duty + 0.45 * ctx.noise * _ar1(rng, m, n, 0.3), 0, 1)
        load += active * comp_kw[:, None] * on
    total_kw = (comp_kw * count)[:, None]
    load = np.where(defrost, 0.15 * total_kw, load)
    activity = 0.05 + 0.1 * _window(7.0, 19.0, 0.5)
    aux = total_kw[:, :, None] * activity[None, None, :]
    out: Arr = (load.reshape(m, days, _S) + aux).astype(_F32)
    return _Out(out)


def _gen_storage_heater(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    residential = rng.random(m) < 0.5
    power = np.where(residential, _u(rng, 8.0, 30.0, m), _u(rng, 30.0, 300.0, m)).astype(_F32)
    # Sized to fill the 8 h valley at design heating degree-days (15 °C base) of 10-20 K.
    design = _u(rng, 10.0, 20.0, m)
    ua = power * 8.0 / (24.0 * design)  # kW per K
    tday = ctx.temp_day[b.county]
    # Night k (k = 0 is the night ending on the first morning) stores heat for day k.
    forecast = tday + rng.normal(0, 0.7, (m, days)).astype(_F32) * ctx.noise
    need_kwh = ua[:, None] * 24.0 * np.maximum(15.0 - forecast, 0.0)
    hours = np.minimum(need_kwh / power[:, None], 8.0)  # (m, nights = days)
    j = np.arange(32, dtype=_F32)
    fill_start = np.clip(hours[:, :, None] * 4.0 - j, 0, 1)  # starts at 23:00
    fill_end = fill_start[:, :, ::-1]  # ends at 07:00
    late = rng.random(m) < 0.3
    fill = np.where(late[:, None, None], fill_end, fill_start)
    level = _c(power) * (1.0 + 0.01 * ctx.noise * rng.standard_normal((m, days, 1), dtype=_F32))
    load = np.zeros((m, days, _S), dtype=_F32)
    load[:, :, :28] = fill[:, :, 4:]  # 00:00-07:00 of day k
    load[:, :-1, 92:] = fill[:, 1:, :4]  # 23:00-24:00 of day k belongs to night k + 1
    # The last evening uses the same forecast as its own day.
    load[:, -1, 92:] = fill[:, -1, :4]
    return _Out((load * level).astype(_F32), residential=residential, rated_kw=power)


def _gen_ev_charging(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    chargers = rng.integers(2, 21, m)
    dc = rng.random(m) < 0.45
    charger_kw = np.where(dc, _u(rng, 60.0, 120.0, m), 7.0).astype(_F32)
    per_day = np.where(dc, _u(rng, 4.0, 10.0, m), _u(rng, 1.0, 3.0, m))
    arrivals = 0.2 + _bump(12.5, 1.5) + 1.4 * _bump(19.5, 2.2) + 0.6 * _bump(23.5, 1.5)
    arrivals = arrivals / arrivals.mean()
    weekly = np.where(ctx.workday, 1.0, 0.9)
    lam = (chargers * per_day / _S)[:, None, None] * arrivals[None, None, :] * weekly[None, :, None]
    lam = lam.reshape(m, n)
    durations = np.where(dc[:, None], np.array([1, 2, 3, 4]), np.array([8, 16, 24, 32]))
    probs = np.where(
        dc[:, None], np.array([0.2, 0.35, 0.3, 0.15]), np.array([0.3, 0.35, 0.2, 0.15])
    )
    busy = np.zeros((m, n), dtype=np.int64)
    t = np.arange(n)
    for c in range(4):
        cum = np.cumsum(rng.poisson(lam * probs[:, c : c + 1]), axis=1)
        back = t[None, :] - durations[:, c : c + 1]
        earlier = np.where(back >= 0, np.take_along_axis(cum, np.maximum(back, 0), axis=1), 0)
        busy += cum - earlier
    busy = np.minimum(busy, chargers[:, None])
    taper = np.where(dc[:, None], rng.uniform(0.55, 1.0, (m, n)), rng.uniform(0.9, 1.0, (m, n)))
    aux = _u(rng, 0.3, 1.5, m)[:, None]
    load = busy * charger_kw[:, None] * taper + aux
    rated = chargers * charger_kw + aux[:, 0]
    return _Out(load.reshape(m, days, _S).astype(_F32), rated_kw=rated)


def _gen_irrigation_pump(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    power = _u(rng, 5.0, 55.0, m)
    continuous = rng.random(m) < 0.4
    tday = ctx.temp_day[b.county]
    warm = np.exp(0.12 * (tday - tday.mean()))  # warm spells are dry spells
    season = np.clip((tday - 5.0) / 10.0, 0.1, 1.0)
    p_start = np.clip(_u(rng, 0.08, 0.2, m)[:, None] * warm * season, 0.01, 0.6)
    on = np.zeros((m, days), dtype=bool)
    first = np.zeros((m, days), dtype=bool)
    last = np.zeros((m, days), dtype=bool)
    remaining = np.zeros(m, dtype=np.int64)
    rest = np.zeros(m, dtype=np.int64)
    draws = rng.random((m, days))
    lengths = rng.integers(1, 5, (m, days))
    for d in range(days):
        starting = (remaining == 0) & (rest == 0) & (draws[:, d] < p_start[:, d])
        remaining[starting] = lengths[starting, d]
        first[:, d] = starting
        on[:, d] = remaining > 0
        remaining = np.maximum(remaining - 1, 0)
        last[:, d] = on[:, d] & (remaining == 0)
        rest = np.where(last[:, d], 1, np.maximum(rest - 1, 0))
    start_h = np.where(rng.random((m, days)) < 0.3, 20.0, rng.uniform(5.0, 9.0, (m, days)))
    run_h = rng.uniform(8.0, 16.0, (m, days))
    h = _HOURS[None, None, :]
    daily = ((h >= start_h[:, :, None]) & (h < (start_h + run_h)[:, :, None])) | (
        h < (start_h + run_h - 24.0)[:, :, None]
    )
    cont_start = rng.uniform(0.0, 24.0, (m, days))[:, :, None]
    cont_end = rng.uniform(0.0, 24.0, (m, days))[:, :, None]
    cont = np.ones((m, days, _S), dtype=bool)
    cont &= ~(first[:, :, None] & (h < cont_start))
    cont &= ~(last[:, :, None] & (h >= cont_end))
    running = on[:, :, None] & np.where(continuous[:, None, None], cont, daily)
    noise = 1.0 + 0.02 * ctx.noise * rng.standard_normal((m, days, _S), dtype=_F32)
    return _Out((running * _c(power) * noise).astype(_F32), rated_kw=power)


# --------------------------------------------------------------------------------------------
# Mining


def _site_load(ctx: _Ctx, rng: np.random.Generator, m: int) -> Arr:
    """Before a farm goes live: fit-out crews and lighting of an empty building, 1-10 kW."""
    days = ctx.days
    level = _c(_u(rng, 1.0, 10.0, m))
    work = _window(_u(rng, 7.5, 9.0, m), _u(rng, 17.0, 19.0, m), 0.3)
    shape = _by_day(0.3 + 0.7 * work, 0.3 + 0.2 * work, ctx.workday)
    noise = 1.0 + 0.1 * ctx.noise * _ar1(rng, m, days * _S, 0.6).reshape(m, days, _S)
    out: Arr = np.maximum(level * shape * noise, 0.0).astype(_F32)
    return out


def _farm_core(ctx: _Ctx, rng: np.random.Generator, b: _Batch, rigs: Arr, unit_kw: Arr) -> Arr:
    """Steady rig power with noise, single-rig reboots, rare failures, hot-day throttling."""
    m, days = b.m, ctx.days
    n = days * _S
    sd = _u(rng, 0.003, 0.01, m)[:, None] * ctx.noise
    load = (rigs * unit_kw).astype(_F32)[:, None] * (1.0 + sd * _ar1(rng, m, n, 0.3))
    # Reboots: a rig drops out for 1-3 slots, ~0.05-0.2 times per rig and day.
    lam = np.broadcast_to((rigs * rng.uniform(0.05, 0.2, m) / _S / 3.0)[:, None], (m, n))
    drop = np.zeros((m, n), dtype=_F32)
    for duration in (1, 2, 3):
        k = rng.poisson(lam).astype(_F32)
        for s in range(duration):
            drop += np.roll(k, s, axis=1)
    drop = np.minimum(drop, 0.5 * rigs[:, None])
    load -= drop * unit_kw.astype(_F32)[:, None]
    # Failures: a few rigs lost for good (hash board or PSU), ~0.4 events per 4 weeks.
    failures = rng.poisson(0.4 * days / 28.0, m)
    for i in np.nonzero((failures > 0) & (rigs >= 5))[0]:
        for _ in range(int(failures[i])):
            lost = min(1 + int(rng.poisson(0.005 * rigs[i])), max(1, int(rigs[i]) // 20))
            load[i, int(rng.integers(0, n)) :] -= lost * unit_kw[i]
    # Thermal throttling on very hot afternoons: 0-0.2 % per °C above 30 °C.
    temp = _temps(ctx, b).reshape(m, n)
    if float(temp.max()) > 30.0:
        load *= 1.0 - _u(rng, 0.0, 0.002, m)[:, None] * np.maximum(temp - 30.0, 0.0)
    out: Arr = np.maximum(load, 0.0).reshape(m, days, _S)
    return out


def _farm(
    ctx: _Ctx, rng: np.random.Generator, b: _Batch, median: float = 150.0
) -> tuple[Arr, Arr, Arr, Arr, Arr]:
    """(rigs, unit kW, mining kW, hash rate TH/s, steady load) of farms."""
    rigs = _farm_rigs(rng, b.m, ctx.params.farm_size_scale, median, 1.1, 20, 3000)
    unit, mining_kw, ths = _rig_meta(ctx, rng, b.m, "farm", rigs)
    return rigs, unit, mining_kw, ths, _farm_core(ctx, rng, b, rigs, unit)


def _live(ctx: _Ctx, rng: np.random.Generator, b: _Batch, mining: Arr) -> Arr:
    """The mining load after the start and the site's previous load before it."""
    if not np.any(b.start_day >= 0):
        return mining
    out: Arr = np.where(_after_start(b, ctx.days), mining, _site_load(ctx, rng, b.m))
    return out


def _gen_asic_farm(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    rigs, _, mining_kw, ths, core = _farm(ctx, rng, b)
    return _Out(_live(ctx, rng, b, core), mining_kw, rigs, ths)


def _gen_farm_as_data_centre(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    rigs, _, mining_kw, ths, core = _farm(ctx, rng, b)
    cooling = np.where(rng.random(b.m) < 0.6, rng.uniform(0.05, 0.2, b.m), 0.0)
    core = core * _c(1.0 + cooling)
    return _Out(_live(ctx, rng, b, core), mining_kw * (1.0 + cooling), rigs, ths)


def _gen_gpu_commercial(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m = b.m
    rigs = np.maximum(1, np.round(rng.integers(5, 61, m) * ctx.params.farm_size_scale)).astype(int)
    unit, mining_kw, ths = _rig_meta(ctx, rng, m, "gpu", rigs)
    core = _farm_core(ctx, rng, b, rigs, unit)
    level = _u(rng, 2.0, 10.0, m)
    shop = _shop_load(ctx, rng, b, level, (8.0, 22.0))
    load = shop + np.where(_after_start(b, ctx.days), core, _F32(0.0))
    return _Out(load.astype(_F32), mining_kw, rigs, ths)


def _gen_household_rigs(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m = b.m
    rigs = rng.integers(1, 4, m)
    unit, mining_kw, ths = _rig_meta(ctx, rng, m, "small", rigs)
    core = _farm_core(ctx, rng, b, rigs, unit)
    home = _household_load(ctx, rng, b)
    load = home + np.where(_after_start(b, ctx.days), core, _F32(0.0))
    return _Out(load.astype(_F32), mining_kw, rigs, ths, residential=np.ones(m, dtype=bool))


def _gen_valley_only(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m = b.m
    rigs = _farm_rigs(rng, m, ctx.params.farm_size_scale, 60.0, 1.0, 10, 800)
    unit, mining_kw, ths = _rig_meta(ctx, rng, m, "farm", rigs)
    core = _farm_core(ctx, rng, b, rigs, unit)
    block = np.broadcast_to(VALLEY_SLOTS.astype(_F32), (m, _S)).copy()
    block[:, 92] = _u(rng, 0.85, 1.0, m)  # rigs take a few minutes to boot at 23:00
    standby = _c(np.minimum(_u(rng, 0.0, 0.2, m), 0.01 * mining_kw))  # router, control PC
    mining = core * block[:, None, :] + standby * (~VALLEY_SLOTS).astype(_F32)
    return _Out(_live(ctx, rng, b, mining.astype(_F32)), mining_kw, rigs, ths)


def _gen_throttling_farm(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    rigs, _, mining_kw, ths, core = _farm(ctx, rng, b)
    factor = np.ones((m, n), dtype=_F32)
    episodes = rng.poisson(rng.uniform(0.3, 2.0, m) * days)
    for i in range(m):
        for _ in range(int(episodes[i])):
            t0 = int(rng.integers(0, n))
            t1 = t0 + int(rng.integers(4, 33))
            factor[i, t0:t1] = np.minimum(factor[i, t0:t1], rng.uniform(0.55, 0.9))
    core = core * factor.reshape(m, days, _S)
    return _Out(_live(ctx, rng, b, core), mining_kw, rigs, ths)


def _gen_curtailed_farm(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    rigs, _, mining_kw, ths, core = _farm(ctx, rng, b)
    flat = core.reshape(m, n)
    first = np.where(b.start_day >= 0, b.start_day * _S + b.start_slot, 0)
    standby = _u(rng, 0.5, 3.0, m)
    for i in range(m):
        room = n - int(first[i])
        length = min(int(rng.integers(2, 7)) * _S + int(rng.integers(-48, 49)), room - 1)
        if length <= 0:
            continue
        t0 = int(first[i]) + int(rng.integers(0, room - length + 1))
        noise = 1.0 + 0.05 * ctx.noise * rng.standard_normal(length)
        flat[i, t0 : t0 + length] = standby[i] * noise
    return _Out(_live(ctx, rng, b, flat.reshape(m, days, _S)), mining_kw, rigs, ths)


def _gen_ramping_farm(ctx: _Ctx, rng: np.random.Generator, b: _Batch) -> _Out:
    m, days = b.m, ctx.days
    n = days * _S
    rigs, _, mining_kw, ths, core = _farm(ctx, rng, b)
    online = np.zeros((m, n), dtype=_F32)
    start_day = np.maximum(b.start_day, 0)
    start_slot = np.maximum(b.start_slot, 0)
    for i in range(m):
        batches = min(int(rng.integers(2, 5)), int(rigs[i]))
        gaps = rng.integers(1, 4, batches - 1)
        batch_days = np.unique(
            np.minimum(start_day[i] + np.concatenate([[0], np.cumsum(gaps)]), days - 1)
        )
        batches = len(batch_days)
        shares = rng.dirichlet(np.ones(batches))
        counts = np.maximum(1, np.floor(shares * rigs[i])).astype(int)
        counts[-1] = max(1, int(rigs[i]) - int(counts[:-1].sum()))
        slots = np.concatenate([[start_slot[i]], rng.integers(32, 72, batches - 1)])
        for day, slot, count in zip(batch_days, slots, counts, strict=True):
            online[i, int(day) * _S + int(slot) :] += count / rigs[i]
    core = core * np.minimum(online, 1.0).reshape(m, days, _S)
    load = np.where(_after_start(b, days), core, _site_load(ctx, rng, m))
    return _Out(load.astype(_F32), mining_kw, rigs, ths, start_day, start_slot)


_GENERATORS: dict[str, Callable[[_Ctx, np.random.Generator, _Batch], _Out]] = {
    "asic_farm": _gen_asic_farm,
    "farm_as_data_centre": _gen_farm_as_data_centre,
    "gpu_commercial": _gen_gpu_commercial,
    "household_rigs": _gen_household_rigs,
    "valley_only": _gen_valley_only,
    "throttling_farm": _gen_throttling_farm,
    "curtailed_farm": _gen_curtailed_farm,
    "ramping_farm": _gen_ramping_farm,
    "data_centre": _gen_data_centre,
    "base_station": _gen_base_station,
    "water_works": _gen_water_works,
    "industry_3shift": _gen_industry_3shift,
    "hospital": _gen_hospital,
    "cold_storage": _gen_cold_storage,
    "storage_heater": _gen_storage_heater,
    "ev_charging": _gen_ev_charging,
    "irrigation_pump": _gen_irrigation_pump,
    "household": _gen_household,
    "shop": _gen_shop,
    "office": _gen_office,
    "industry_1shift": _gen_industry_1shift,
    "industry_2shift": _gen_industry_2shift,
}


# --------------------------------------------------------------------------------------------
# Kinds, start days and faults


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Counts summing to `total` in proportion to `weights` (largest remainders), at least one
    for every positive weight while the total allows."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return [0] * len(w)
    raw = w / w.sum() * total
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: total - int(counts.sum())]:
        counts[i] += 1
    for i in np.nonzero((w > 0) & (counts == 0))[0]:
        donor = int(np.argmax(counts))
        if counts[donor] > 1:
            counts[donor] -= 1
            counts[i] += 1
    return [int(c) for c in counts]


def _mix(
    given: Mapping[str, float] | None, default: dict[str, float], kinds: tuple[str, ...]
) -> list[float]:
    mix = default if given is None else dict(given)
    unknown = set(mix) - set(kinds)
    if unknown:
        raise ValueError(f"unknown kinds in mix: {sorted(unknown)}")
    weights = [float(mix.get(k, 0.0)) for k in kinds]
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("a mix needs non-negative weights with a positive sum")
    return weights


def _check_params(params: MeterSynthParams, n_meters: int, days: int) -> None:
    if n_meters < 1 or days < 1:
        raise ValueError("n_meters and days must be at least 1")
    shares = (params.mining_share, params.lookalike_share)
    if min(shares) < 0 or sum(shares) > 1:
        raise ValueError("mining_share and lookalike_share must be ≥ 0 and sum to at most 1")
    rates = (
        params.mid_period_start_share,
        params.gap_rate,
        params.missing_day_rate,
        params.duplicate_day_rate,
        params.bad_value_rate,
        params.short_history_share,
    )
    if any(not 0 <= r <= 1 for r in rates):
        raise ValueError("shares and rates must lie in [0, 1]")
    if min(params.rig_power_scale, params.farm_size_scale) <= 0 or params.noise_scale < 0:
        raise ValueError("scales must be positive (noise_scale may be 0)")


def _assign_kinds(rng: np.random.Generator, n: int, params: MeterSynthParams) -> Arr:
    n_mining = round(n * params.mining_share)
    n_look = min(round(n * params.lookalike_share), n - n_mining)
    counts = (
        _apportion(n_mining, _mix(params.mining_mix, _DEFAULT_MINING_MIX, MINING_KINDS))
        + _apportion(n_look, _mix(params.lookalike_mix, _DEFAULT_LOOKALIKE_MIX, LOOKALIKE_KINDS))
        + _apportion(n - n_mining - n_look, list(_ORDINARY_MIX.values()))
    )
    kinds = np.repeat(np.arange(len(ALL_KINDS)), counts)
    out: Arr = rng.permutation(kinds)
    return out


def _start_days(rng: np.random.Generator, kinds: Arr, days: int, share: float) -> tuple[Arr, Arr]:
    """(start day, start slot) of mining that starts inside the period; −1 elsewhere."""
    n = len(kinds)
    mining = kinds < len(MINING_KINDS)
    ramping = kinds == MINING_KINDS.index("ramping_farm")
    mid = mining & ((rng.random(n) < share) | ramping)
    lo = min(3, (days - 1) // 2)
    hi = max(lo, days - 4)
    day = np.where(mid, rng.integers(lo, hi + 1, n), -1)
    slot = np.where(mid, rng.integers(0, _S, n), -1)
    slot = np.where(mid & (day == 0), np.maximum(slot, 1), slot)
    return day, slot


def _gaps_and_bad_values(rng: np.random.Generator, load: Arr, params: MeterSynthParams) -> None:
    """Runs of missing slots and meter faults, in place on (n, days, 96)."""
    flat = load.reshape(-1)
    per_meter = load.shape[1] * _S
    total = flat.size
    mean_run = 6.0
    runs = int(rng.binomial(total, min(params.gap_rate / mean_run, 1.0)))
    if runs:
        starts = rng.integers(0, total, runs)
        ends = np.minimum(
            starts + rng.geometric(1.0 / mean_run, runs), (starts // per_meter + 1) * per_meter
        )
        lengths = ends - starts
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat[np.repeat(starts, lengths) + offsets] = np.nan
    bad = int(rng.binomial(total, min(params.bad_value_rate, 1.0)))
    if bad:
        where = rng.integers(0, total, bad)
        value = np.nan_to_num(flat[where], nan=1.0)
        kind = rng.integers(0, 4, bad)
        flat[where] = np.select(
            [kind == 0, kind == 1, kind == 2],
            [-np.abs(value) - rng.uniform(0.1, 5.0, bad), 9_999_999.0, 65_535.0],
            value * 1000.0,  # W instead of kW
        ).astype(_F32)


# --------------------------------------------------------------------------------------------
# Customers

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN = (
    "建国秀兰志明丽华文军桂英海涛淑芬晓燕红梅永强春花德胜玉珍子轩浩然欣怡雨萱俊杰思彤"
    "家豪雅琪天宇梓涵宏伟晓红明辉丽娟学文春燕金凤"
)
_GIVEN_SINGLE = "伟芳敏静强磊军洋勇艳杰娟涛超明霞平刚桂兵辉鹏华玲萍红燕飞琴斌波宇浩凯健婷雪"
_TRADE = (
    "鑫恒宏瑞盛达源泰隆丰顺兴利昌祥鼎信诚旺嘉润博远通聚合益佳德康卓越锦辉宇众晟汇峰翔腾凯川蜀雅"
)
_PLACE = (
    "青龙白鹤金鸡凤鸣永兴太平新华和平东风红星长安石桥大坪中坝沙湾柳溪花园碧峰清泉龙门双河三合五星"
)
_INDUSTRY = (
    "建材",
    "机械制造",
    "食品",
    "化工",
    "纺织",
    "家具",
    "茶业",
    "包装材料",
    "铸造",
    "汽车配件",
)
_TECH = ("科技", "电子科技", "实业", "网络科技", "信息技术", "能源科技", "商贸", "新材料科技")
_OFFICE = ("咨询", "传媒", "房地产开发", "投资管理", "建筑设计", "人力资源", "保险代理")
_GOV = ("自然资源局", "教育局", "住房和城乡建设局", "财政局", "市场监督管理局", "税务局", "水利局")
_SHOPS = ("超市", "便利店", "餐馆", "五金店", "茶楼", "药房", "火锅店", "服装店", "农资店")
_CAFES = ("网咖", "网吧", "电竞馆", "电脑经营部", "网络会所")

# name style per kind: several styles per kind so that a name never gives the kind away
_STYLES: dict[str, tuple[str, ...]] = {
    "household": ("person",),
    "shop": ("shop",),
    "office": ("office", "office", "tech", "gov"),
    "industry_1shift": ("factory", "factory", "tech"),
    "industry_2shift": ("factory", "factory", "tech"),
    "data_centre": ("dc",),
    "base_station": ("tower",),
    "water_works": ("water",),
    "industry_3shift": ("factory", "factory", "tech"),
    "hospital": ("hospital",),
    "cold_storage": ("cold",),
    "storage_heater": ("school", "hotel", "office"),
    "ev_charging": ("ev",),
    "irrigation_pump": ("person", "coop", "village"),
    "asic_farm": ("tech", "tech", "factory"),
    "farm_as_data_centre": ("dc",),
    "gpu_commercial": ("cafe", "shop"),
    "household_rigs": ("person",),
    "valley_only": ("tech", "factory"),
    "throttling_farm": ("tech", "factory"),
    "curtailed_farm": ("tech", "factory", "dc"),
    "ramping_farm": ("tech", "factory", "dc"),
}
# first two characters of the credit code: registration authority and kind of entity
_USCC_PREFIX: dict[str, str] = {
    "shop": "92", "cafe": "92", "tech": "91", "factory": "91", "office": "91", "dc": "91",
    "tower": "91", "cold": "91", "ev": "91", "hotel": "91", "water": "91", "gov": "11",
    "hospital": "12", "school": "12", "coop": "93", "village": "N2",
}  # fmt: skip
_R, _C, _I, _A = (t.value for t in TariffClass)
_TARIFF: dict[str, tuple[str, ...]] = {
    "household": (_R,), "shop": (_C,), "office": (_C,), "industry_1shift": (_I,),
    "industry_2shift": (_I,), "data_centre": (_I, _I, _C), "base_station": (_C,),
    "water_works": (_I, _C), "industry_3shift": (_I,), "hospital": (_C,),
    "cold_storage": (_C, _C, _A), "storage_heater": (_C,), "ev_charging": (_C, _I),
    "irrigation_pump": (_A,), "asic_farm": (_I,), "farm_as_data_centre": (_I, _I, _C),
    "gpu_commercial": (_C,), "household_rigs": (_R,), "valley_only": (_I, _C),
    "throttling_farm": (_I,), "curtailed_farm": (_I,), "ramping_farm": (_I,),
}  # fmt: skip
# contract capacity as a multiple of the peak load (mining: of the mining power)
_CONTRACT: dict[str, tuple[float, float]] = {
    "data_centre": (1.2, 1.6), "household": (1.2, 2.0), "household_rigs": (1.1, 1.5),
    "storage_heater": (1.1, 1.3),
}  # fmt: skip
_RESIDENTIAL_KVA = np.array([4, 6, 8, 10, 12, 16, 20, 25, 30, 40, 50], dtype=float)
_TRANSFORMERS = np.array(
    [30, 50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500,
     3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000, 25000, 31500, 40000],
    dtype=float,
)  # fmt: skip


class _Namer:
    """Names, credit codes and addresses from pre-drawn integers (one row of `r` per meter)."""

    def __init__(self, prefecture: Region, counties: Sequence[Region]) -> None:
        self.city = prefecture.name
        self.city_short = prefecture.name.removesuffix("市").removesuffix("地区")
        if self.city_short.endswith("州") and len(self.city_short) > 3:
            self.city_short = self.city_short[:2]
        self.counties = counties

    @staticmethod
    def _pick(options: str | Sequence[str], r: int) -> str:
        return options[r % len(options)]

    def person(self, r: Arr) -> str:
        surname = self._pick(_SURNAMES, int(r[0]))
        if r[1] % 3 == 0:
            return surname + self._pick(_GIVEN_SINGLE, int(r[2]))
        i = 2 * (int(r[2]) % (len(_GIVEN) // 2))
        return surname + _GIVEN[i : i + 2]

    def trade(self, r: Arr) -> str:
        first = self._pick(_TRADE, int(r[3]))
        second = self._pick(_TRADE, int(r[4]) + 1 + _TRADE.index(first))
        return first + second

    def place(self, r: Arr) -> str:
        i = 2 * (int(r[5]) % (len(_PLACE) // 2))
        return _PLACE[i : i + 2]

    def county_prefix(self, county: Region) -> str:
        return self.city if county.name.endswith("区") else county.name

    def name(self, style: str, county: Region, r: Arr) -> str:
        trade, place, city = self.trade(r), self.place(r), self.city
        cp = self.county_prefix(county)
        pick = int(r[6])
        if style == "person":
            return self.person(r)
        options: dict[str, tuple[str, ...]] = {
            "shop": (f"{cp}{place}{trade}{self._pick(_SHOPS, pick)}",),
            "cafe": (f"{cp}{trade}{self._pick(_CAFES, pick)}",),
            "tech": (
                f"{city}{trade}{self._pick(_TECH, pick)}有限公司",
                f"{cp}{trade}{self._pick(_TECH, pick)}有限公司",
            ),
            "factory": (
                f"{city}{trade}{self._pick(_INDUSTRY, pick)}有限公司",
                f"{cp}{trade}{self._pick(_INDUSTRY, pick)}有限责任公司",
            ),
            "office": (f"{city}{trade}{self._pick(_OFFICE, pick)}有限公司",),
            "gov": (f"{cp}{self._pick(_GOV, pick)}",),
            "dc": (
                f"{self.city_short}{trade}云计算数据中心",
                f"{city}{trade}大数据科技有限公司",
                f"{self.city_short}{trade}数据中心有限公司",
                f"{city}{trade}云计算有限公司",
            ),
            "tower": (f"{self.city_short}{trade}通信技术有限公司{place}基站",),
            "water": (
                f"{cp}{place}水厂",
                f"{city}{trade}供排水有限责任公司",
                f"{cp}自来水公司{place}加压站",
            ),
            "hospital": (
                f"{county.name}人民医院",
                f"{county.name}中医医院",
                f"{county.name}妇幼保健院",
                f"{city}{trade}医院",
                f"{cp}{place}镇卫生院",
            ),
            "cold": (
                f"{city}{trade}冷链物流有限公司",
                f"{cp}{trade}农产品冷藏有限公司",
                f"{cp}{place}{trade}冻库",
            ),
            "school": (f"{cp}{place}中心小学", f"{cp}{trade}幼儿园", f"{cp}{place}中学"),
            "hotel": (f"{city}{trade}宾馆有限公司", f"{cp}{trade}酒店"),
            "ev": (f"{city}{trade}新能源科技有限公司{place}充电站", f"{cp}{place}公交充电站"),
            "coop": (f"{cp}{trade}种植专业合作社", f"{cp}{place}{trade}家庭农场"),
            "village": (f"{cp}{place}村股份经济合作社",),
        }
        return self._pick(options[style], int(r[7]))

    def address(self, style: str, county: Region, r: Arr) -> str:
        town = self.place(r[8:]) + self._pick(("镇", "乡", "街道", "镇"), int(r[9]))
        number = int(r[10]) % 399 + 1
        if style in ("person", "coop", "village", "tower") and r[11] % 2 == 0:
            village = self.place(r[6:]) + "村"
            return f"{county.full_name}{town}{village}{number % 12 + 1}组{number}号"
        road = self.trade(r[8:]) + self._pick(("路", "街", "大道", "路"), int(r[10]))
        if style == "person" and r[11] % 4 == 1:
            return (
                f"{county.full_name}{town}{road}{number}号{self.trade(r[6:])}小区"
                f"{number % 20 + 1}栋{number % 4 + 1}单元{number % 30 + 1}0{number % 4 + 1}号"
            )
        return f"{county.full_name}{town}{road}{number}号"

    def uscc(self, style: str, county: Region, r: Arr) -> str | None:
        if style == "person":
            return None
        digits = [int(d) for d in f"{int(r[12]) % 10**8:08d}"]
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        check = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        org = "".join(map(str, digits)) + {10: "X", 11: "0"}.get(check, str(check))
        return credit_code.with_check_character(_USCC_PREFIX[style] + county.code + org)


def _customers(
    rng: np.random.Generator,
    meter_ids: list[str],
    kinds: Arr,
    county: Arr,
    counties: Sequence[Region],
    prefecture: Region,
    peak: Arr,
    mining_kw: Arr,
    residential: Arr,
) -> pa.Table:
    n = len(meter_ids)
    namer = _Namer(prefecture, counties)
    draws = rng.integers(0, 2**31 - 1, (n, 16))
    factor = rng.uniform(0.0, 1.0, n)
    accounts = rng.permutation(n) + int(rng.integers(10**9, 9 * 10**9 - n))
    names: list[str] = []
    usccs: list[str | None] = []
    addresses: list[str] = []
    tariffs: list[str] = []
    kvas = np.empty(n)
    volts = np.empty(n)
    for i in range(n):
        kind = ALL_KINDS[int(kinds[i])]
        r = draws[i]
        styles = ("person",) if residential[i] else _STYLES[kind]
        style = styles[int(r[1]) % len(styles)]
        region = counties[int(county[i])]
        names.append(namer.name(style, region, r))
        usccs.append(namer.uscc(style, region, r))
        addresses.append(namer.address(style, region, r))
        tariff = _R if residential[i] else _TARIFF[kind][int(r[0]) % len(_TARIFF[kind])]
        tariffs.append(tariff)
        if mining_kw[i] > 0 and kind != "household_rigs":
            lo, hi = 1.1, 1.5
            basis = max(float(mining_kw[i]), float(peak[i]) / 1.05)
        else:
            lo, hi = _CONTRACT.get(kind, (1.2, 2.0))
            basis = float(peak[i])
        want = basis * (lo + (hi - lo) * factor[i])
        if tariff == _R:
            sizes = _RESIDENTIAL_KVA
            kva = float(sizes[min(np.searchsorted(sizes, want), len(sizes) - 1)])
        elif want < 30:
            kva = float(max(5.0, 5 * math.ceil(want / 5)))
        elif mining_kw[i] > 0:
            kva = float(10 * math.ceil(want / 10))
        else:
            kva = float(
                _TRANSFORMERS[min(np.searchsorted(_TRANSFORMERS, want), len(_TRANSFORMERS) - 1)]
            )
        kvas[i] = kva
        if kva <= 12 and tariff in (_R, _C, _A):
            volts[i] = 0.22 if kva <= 8 else 0.38
        elif kva < 160:
            volts[i] = 0.38
        elif kva <= 8000:
            volts[i] = 10.0
        else:
            volts[i] = 35.0
    return pa.Table.from_arrays(
        [
            pa.array(meter_ids, pa.string()),
            pa.array([f"{a:010d}" for a in accounts], pa.string()),
            pa.array(names, pa.string()),
            pa.array(usccs, pa.string()),
            pa.array(addresses, pa.string()),
            pa.array([counties[int(c)].code for c in county], pa.string()),
            pa.array(tariffs, pa.string()),
            pa.array(kvas, pa.float64()),
            pa.array(volts, pa.float64()),
        ],
        schema=CUSTOMERS_SCHEMA,
    )


# --------------------------------------------------------------------------------------------
# Assembly


def _counties(prefecture_code: str) -> tuple[Region, list[Region]]:
    prefecture = regions.get(prefecture_code)
    found = [r for r in regions.children(prefecture.code) if not r.is_grouping]
    for grouping in (r for r in regions.children(prefecture.code) if r.is_grouping):
        found += [r for r in regions.children(grouping.code) if not r.is_grouping]
    return prefecture, sorted(found, key=lambda r: r.code) or [prefecture]


def _epoch_days(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _readings_table(ids: list[str], load: Arr, keep: Arr, first_day: int) -> pa.Table:
    """Wide daily rows of the kept (meter, day) pairs of a chunk, in (meter, date) order."""
    n, days, _ = load.shape
    meter_of_row, day_of_row = np.nonzero(keep)
    rows = load.reshape(n * days, _S)[meter_of_row * days + day_of_row]
    columns = np.ascontiguousarray(rows.T)
    del rows
    arrays: list[pa.Array] = [
        pa.array(ids, pa.string()).take(pa.array(meter_of_row)),
        pa.array((day_of_row + first_day).astype(np.int32), pa.date32()),
    ]
    for column in columns:
        missing = np.isnan(column)
        arrays.append(pa.array(column, pa.float32(), mask=missing if missing.any() else None))
    return pa.Table.from_arrays(arrays, schema=READINGS_SCHEMA)


def generate_meters(
    seed: int,
    *,
    n_meters: int,
    days: int = 28,
    start: date = date(2021, 9, 1),
    prefecture_code: str = "511800",
    params: MeterSynthParams = MeterSynthParams(),
) -> MeterProvince:
    """A prefecture of `n_meters` meters over `days` days from `start`, seeded by `seed` (≥ 0).

    Meters are generated in chunks of 5,000 (numpy, float32), so 100,000 meters × 28 days stay
    within a few GB. The same seed, size and parameters always give the same tables.
    """
    _check_params(params, n_meters, days)
    rng = np.random.default_rng([seed, 0])
    prefecture, counties = _counties(prefecture_code)
    temp_day, temp = _weather(rng, len(counties), start, days, prefecture_code)
    workday, holiday, dow = _calendar(start, days)
    ctx = _Ctx(
        days=days,
        noise=float(params.noise_scale),
        params=params,
        temp=temp,
        temp_day=temp_day,
        workday=workday,
        holiday=holiday,
        dow=dow,
        pools=_rig_pools(start),
    )
    kinds = _assign_kinds(rng, n_meters, params)
    weights = np.array([1.5 if c.name.endswith("区") else 1.0 for c in counties])
    weights *= rng.uniform(0.5, 1.5, len(counties))
    county = rng.choice(len(counties), n_meters, p=weights / weights.sum())
    start_day, start_slot = _start_days(rng, kinds, days, params.mid_period_start_share)
    numbers = int(rng.integers(10**9, 2 * 10**9)) + np.cumsum(rng.integers(1, 40, n_meters))
    meter_ids = [f"M{x:010d}" for x in numbers]
    short = np.where(
        rng.random(n_meters) < params.short_history_share, rng.integers(1, 4, n_meters), 0
    )

    mining_kw = np.zeros(n_meters)
    rigs = np.zeros(n_meters, dtype=np.int32)
    ths = np.zeros(n_meters)
    peak = np.zeros(n_meters)
    residential = np.zeros(n_meters, dtype=bool)
    first_day = _epoch_days(start)
    tables: list[pa.Table] = []
    duplicates: list[pa.Table] = []
    for chunk, lo in enumerate(range(0, n_meters, _CHUNK)):
        hi = min(lo + _CHUNK, n_meters)
        load = np.empty((hi - lo, days, _S), dtype=_F32)
        for kind_no, kind in enumerate(ALL_KINDS):
            local = np.nonzero(kinds[lo:hi] == kind_no)[0]
            if not len(local):
                continue
            idx = local + lo
            batch = _Batch(county[idx], start_day[idx], start_slot[idx])
            out = _GENERATORS[kind](ctx, np.random.default_rng([seed, 1, chunk, kind_no]), batch)
            load[local] = out.load
            peak[idx] = out.load.max(axis=(1, 2))
            if out.rated_kw is not None:
                peak[idx] = np.maximum(peak[idx], out.rated_kw)
            if out.mining_kw is not None and out.rigs is not None and out.hashrate_ths is not None:
                mining_kw[idx] = out.mining_kw
                rigs[idx] = out.rigs
                ths[idx] = out.hashrate_ths
            if out.start_day is not None and out.start_slot is not None:
                start_day[idx] = out.start_day
                start_slot[idx] = out.start_slot
            if out.residential is not None:
                residential[idx] = out.residential
        frng = np.random.default_rng([seed, 2, chunk])
        _gaps_and_bad_values(frng, load, params)
        keep = frng.random((hi - lo, days)) >= params.missing_day_rate
        keep &= (
            np.arange(days)[None, :]
            >= (days - np.where(short[lo:hi] > 0, short[lo:hi], days))[:, None]
        )
        twice = keep & (frng.random((hi - lo, days)) < params.duplicate_day_rate)
        ids = meter_ids[lo:hi]
        tables.append(_readings_table(ids, load, keep, first_day))
        if twice.any():
            duplicates.append(_readings_table(ids, load, twice, first_day))
        del load
    readings = pa.concat_tables(tables + duplicates)

    crng = np.random.default_rng([seed, 3])
    customers = _customers(
        crng, meter_ids, kinds, county, counties, prefecture, peak, mining_kw, residential
    )
    weather = pa.Table.from_arrays(
        [
            pa.array(np.repeat([c.code for c in counties], days), pa.string()),
            pa.array(
                np.tile(np.arange(days, dtype=np.int32) + first_day, len(counties)), pa.date32()
            ),
            pa.array(temp_day.reshape(-1), pa.float32()),
        ],
        schema=WEATHER_SCHEMA,
    )
    is_mining = kinds < len(MINING_KINDS)
    kind_names = np.array(ALL_KINDS, dtype=object)[kinds]
    has_start = is_mining & (start_day >= 0)
    truth = pa.Table.from_arrays(
        [
            pa.array(meter_ids, pa.string()),
            pa.array(kind_names.tolist(), pa.string()),
            pa.array(is_mining, pa.bool_()),
            pa.array(kind_names.tolist(), pa.string(), mask=~is_mining),
            pa.array((start_day + first_day).astype(np.int32), pa.date32(), mask=~has_start),
            pa.array(np.where(is_mining, mining_kw, 0.0), pa.float64()),
            pa.array(rigs, pa.int32()),
            pa.array(ths, pa.float64()),
            pa.array(start_slot.astype(np.int16), pa.int16(), mask=~has_start),
        ],
        schema=TRUTH_SCHEMA,
    )
    return MeterProvince(readings, customers, weather, truth, start, days)


# --------------------------------------------------------------------------------------------
# Files


def _write(table: pa.Table, path: Path, fmt: str) -> Path:
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=65_536)
    else:
        pacsv.write_csv(table, path)
    return path


def write_meter_province(
    province: MeterProvince, folder: Path, *, fmt: str = "parquet", split_by: str = "none"
) -> dict[str, list[Path]]:
    """Write readings (parquet with 65,536-row groups, or csv) and customers, weather and truth
    (csv) into `folder`.

    ``split_by="date"`` writes one readings file per week of the period
    (``readings_<first day>.<fmt>``), ``"county"`` one per county (``readings_<code>.<fmt>``);
    ``"none"`` a single ``readings.<fmt>``. Returns the paths by role: ``readings``,
    ``customers``, ``weather`` and ``truth``.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    if split_by not in ("none", "date", "county"):
        raise ValueError(f"split_by must be 'none', 'date' or 'county', not {split_by!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    readings = province.readings
    parts: list[tuple[str, pa.Table]] = []
    if split_by == "none":
        parts.append(("readings", readings))
    elif split_by == "date":
        for week in range(math.ceil(province.days / 7)):
            first = province.start_date + timedelta(7 * week)
            last = min(first + timedelta(7), province.start_date + timedelta(province.days))
            mask = pc.and_(
                pc.greater_equal(readings["date"], pa.scalar(first, pa.date32())),
                pc.less(readings["date"], pa.scalar(last, pa.date32())),
            )
            parts.append((f"readings_{first.isoformat()}", readings.filter(mask)))
    else:
        customers = province.customers
        for code in sorted(set(customers["region_code"].to_pylist())):
            meters = customers.filter(pc.equal(customers["region_code"], code))["meter_id"]
            mask = pc.is_in(readings["meter_id"], value_set=meters.combine_chunks())
            parts.append((f"readings_{code}", readings.filter(mask)))
    paths: dict[str, list[Path]] = {
        "readings": [_write(t, folder / f"{name}.{fmt}", fmt) for name, t in parts]
    }
    for role, table in (
        ("customers", province.customers),
        ("weather", province.weather),
        ("truth", province.truth),
    ):
        paths[role] = [_write(table, folder / f"{role}.csv", "csv")]
    return paths
