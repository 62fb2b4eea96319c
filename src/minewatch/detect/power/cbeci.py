"""The bitcoin network's power by the Cambridge Bitcoin Electricity Consumption Index method.

CBECI (Cambridge Centre for Alternative Finance, methodology v1.x) bounds the network's power
from its hash rate and the hardware that could mine at a profit on a day:

1. **Profitability threshold** — the least efficient machine that still breaks even on
   electricity alone::

       PT [J/GH] = (R / (H × 86,400)) / (p / 3.6e6) / 1,000

   with R the miners' revenue [USD/day] (block rewards and fees), H the network hash rate
   [TH/s] and p the electricity price [USD/kWh]: R / (H × 86,400) is revenue per TH
   [USD/TH], p / 3.6e6 the price of a joule [USD/J], their ratio J/TH, and / 1,000 J/GH.
2. **Profitable set** — the machines of the hardware list (packaged
   ``reference/data/cbeci-hardware.csv``) *released before* the day (release time strictly
   before 00:00 UTC of the day) whose efficiency is *below* PT (strictly).
3. **Power** [GW], with e the efficiencies [J/GH] of the profitable set, equally weighted::

       lower = min(e) × H / 1e6 × 1.01
       best  = mean(e) × H / 1e6 × 1.10
       upper = max(e) × H / 1e6 × 1.20

   (J/GH × TH/s = kW, so / 1e6 gives GW); the factors are the PUE of the lower, best and
   upper bounds (:class:`CbeciSettings`).

Inputs are the same day's figures; CBECI's published index smooths them (7-day hash rate,
14-day revenue), which a caller may do before calling :func:`estimate_network_power`. The
threshold can be given directly when the revenue is not at hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from minewatch.errors import MineWatchError
from minewatch.reference.hardware import CbeciMiner, cbeci_hardware

SECONDS_PER_DAY = 86_400.0
J_PER_KWH = 3.6e6
TH_PER_EH = 1e6


class NoProfitableHardwareError(MineWatchError):
    """No machine of the list was released before the day with an efficiency below the
    threshold: the method has no bound to give."""


@dataclass(frozen=True)
class CbeciSettings:
    """The PUE factors of CBECI's lower, best and upper bounds [-]."""

    pue_lower: float = 1.01
    pue_best: float = 1.10
    pue_upper: float = 1.20

    def __post_init__(self) -> None:
        if not 1.0 <= self.pue_lower <= self.pue_best <= self.pue_upper:
            raise ValueError("PUE must be 1 ≤ pue_lower ≤ pue_best ≤ pue_upper")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class NetworkEstimate:
    """The network's power on a day, with what it was computed from."""

    day: date
    hashrate_ths: float
    threshold_j_gh: float
    revenue_usd_day: float | None
    price_usd_kwh: float | None
    profitable_models: tuple[str, ...]
    efficiency_min_j_gh: float
    efficiency_mean_j_gh: float
    efficiency_max_j_gh: float
    lower_gw: float
    best_gw: float
    upper_gw: float
    settings: CbeciSettings

    @property
    def profitable_model_count(self) -> int:
        return len(self.profitable_models)

    @property
    def hashrate_ehs(self) -> float:
        return self.hashrate_ths / TH_PER_EH


def profitability_threshold_j_gh(
    revenue_usd_day: float, hashrate_ths: float, price_usd_kwh: float
) -> float:
    """CBECI's profitability threshold: the efficiency at which mining just pays for its power.

    Parameters
    ----------
    revenue_usd_day : float
        Miners' revenue, block rewards and fees [USD/day].
    hashrate_ths : float
        Network hash rate [TH/s].
    price_usd_kwh : float
        Electricity price [USD/kWh].

    Returns
    -------
    float
        PT = (R / (H × 86,400)) / (p / 3.6e6) / 1,000 [J/GH].
    """
    if any(math.isnan(x) for x in (revenue_usd_day, hashrate_ths, price_usd_kwh)):
        return math.nan
    if hashrate_ths <= 0 or price_usd_kwh <= 0:
        raise ValueError("the hash rate and the electricity price must be positive")
    if revenue_usd_day < 0:
        raise ValueError("the revenue must not be negative")
    usd_per_th = revenue_usd_day / (hashrate_ths * SECONDS_PER_DAY)
    usd_per_j = price_usd_kwh / J_PER_KWH
    return usd_per_th / usd_per_j / 1000.0


def break_even_revenue_usd_day(
    threshold_j_gh: float, hashrate_ths: float, price_usd_kwh: float
) -> float:
    """The miners' revenue [USD/day] at which :func:`profitability_threshold_j_gh` gives
    ``threshold_j_gh`` [J/GH] (its inverse), for a hash rate [TH/s] and a price [USD/kWh]."""
    return threshold_j_gh * 1000.0 * (price_usd_kwh / J_PER_KWH) * hashrate_ths * SECONDS_PER_DAY


def profitable_hardware(
    day: date, threshold_j_gh: float, hardware: Sequence[CbeciMiner] | None = None
) -> tuple[CbeciMiner, ...]:
    """The machines released before ``day`` (00:00 UTC) with efficiency below the threshold.

    Parameters
    ----------
    day : date
        The day of the estimate; a machine released on the day itself does not count.
    threshold_j_gh : float
        Profitability threshold [J/GH]; a machine exactly at it does not count.
    hardware : sequence of CbeciMiner, optional
        The hardware list (default: the packaged CBECI list).
    """
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    listed = cbeci_hardware() if hardware is None else hardware
    return tuple(m for m in listed if m.released_at < start and m.efficiency_j_gh < threshold_j_gh)


def estimate_network_power(
    day: date,
    hashrate_ths: float,
    *,
    threshold_j_gh: float | None = None,
    revenue_usd_day: float | None = None,
    price_usd_kwh: float | None = None,
    hardware: Sequence[CbeciMiner] | None = None,
    settings: CbeciSettings | None = None,
) -> NetworkEstimate:
    """The bitcoin network's power on ``day`` by the CBECI method (lower, best, upper).

    Parameters
    ----------
    day : date
        The day; only machines released before it count.
    hashrate_ths : float
        Network hash rate [TH/s] (1 EH/s = 1e6 TH/s).
    threshold_j_gh : float, optional
        Profitability threshold [J/GH], when known; else it is computed from
        ``revenue_usd_day`` and ``price_usd_kwh``. Give one or the other.
    revenue_usd_day : float, optional
        Miners' revenue [USD/day].
    price_usd_kwh : float, optional
        Electricity price [USD/kWh]; needed with ``revenue_usd_day``, recorded otherwise.
    hardware : sequence of CbeciMiner, optional
        The hardware list (default: the packaged CBECI list).
    settings : CbeciSettings, optional
        PUE factors of the three bounds.

    Returns
    -------
    NetworkEstimate
        ``lower_gw`` = min(e) × H / 1e6 × pue_lower, ``best_gw`` = mean(e) × H / 1e6 × pue_best,
        ``upper_gw`` = max(e) × H / 1e6 × pue_upper [GW], e [J/GH] over the profitable set.

    Raises
    ------
    ValueError
        Both or neither of threshold and revenue given; revenue without a price; a negative or
        non-finite input.
    NoProfitableHardwareError
        The profitable set is empty.
    """
    s = settings or CbeciSettings()
    if (threshold_j_gh is None) == (revenue_usd_day is None):
        raise ValueError("give either the profitability threshold or the miners' revenue")
    if not math.isfinite(hashrate_ths) or hashrate_ths <= 0:
        raise ValueError(f"the network hash rate must be positive, not {hashrate_ths}")
    if threshold_j_gh is None:
        assert revenue_usd_day is not None
        if price_usd_kwh is None:
            raise ValueError("the threshold from the revenue needs the electricity price")
        threshold_j_gh = profitability_threshold_j_gh(revenue_usd_day, hashrate_ths, price_usd_kwh)
    if not math.isfinite(threshold_j_gh) or threshold_j_gh <= 0:
        raise ValueError(f"the profitability threshold must be positive, not {threshold_j_gh}")
    profitable = profitable_hardware(day, threshold_j_gh, hardware)
    if not profitable:
        raise NoProfitableHardwareError(
            f"no machine of the hardware list was released before {day} with an efficiency "
            f"below {threshold_j_gh:.4g} J/GH"
        )
    efficiencies = [m.efficiency_j_gh for m in profitable]
    e_min, e_max = min(efficiencies), max(efficiencies)
    e_mean = sum(efficiencies) / len(efficiencies)
    gw_per_j_gh = hashrate_ths / 1e6  # J/GH × TH/s = J/GH × 1,000 GH/s = kW; / 1e6: GW
    return NetworkEstimate(
        day=day,
        hashrate_ths=hashrate_ths,
        threshold_j_gh=threshold_j_gh,
        revenue_usd_day=revenue_usd_day,
        price_usd_kwh=price_usd_kwh,
        profitable_models=tuple(m.name for m in profitable),
        efficiency_min_j_gh=e_min,
        efficiency_mean_j_gh=e_mean,
        efficiency_max_j_gh=e_max,
        lower_gw=e_min * gw_per_j_gh * s.pue_lower,
        best_gw=e_mean * gw_per_j_gh * s.pue_best,
        upper_gw=e_max * gw_per_j_gh * s.pue_upper,
        settings=s,
    )
