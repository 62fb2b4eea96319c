"""A site's power from its machines or its hash rate, and its hash rate from its power.

Every estimate has a lower, a best and an upper bound, built from three factors, each declared
in :class:`SiteEstimateSettings` with its source:

* **the spread of efficiencies** [J/TH] of the catalogue's models of the algorithm
  (``minewatch.reference.hardware``, manufacturers' spec sheets), optionally only the models
  released by a date: the least efficient model gives the upper power (the lower hash rate),
  the most efficient the lower power, their plain mean the best guess — the equal weighting
  of the Cambridge CBECI method (see :mod:`minewatch.detect.power.cbeci`);
* **nameplate tolerance**: a machine's wall power is rated ±5 % and its hash rate ±3 %
  (Bitmain's Antminer S19 Pro sheet: 110 TH/s ±3 %, 3,250 W ±5 % on the wall at 25 °C);
* **site overhead** between the grid meter and the machines' plugs: cooling, fans, lighting
  (power usage effectiveness, PUE 1.01 / 1.10 / 1.20 — the mining-farm range CBECI uses for
  its lower, best and upper bounds), and supply losses in the site's transformer and cables
  (0 / 1.5 / 3 %: a loaded 10 kV distribution transformer of GB 20052 efficiency loses
  about 1–2 %). Nameplate figures are measured at the wall, so the machines' own power-supply
  losses are already in them.

Functions are pure and scalar; a NaN input gives NaN figures, a negative one a ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date

from minewatch.errors import MineWatchError
from minewatch.reference.hardware import MinerModel, find_model, models_for, resolve_algorithm
from minewatch.reference.ledger import MachineCount


class NoHardwareError(MineWatchError):
    """No catalogue model of the algorithm qualifies (none released by the date, or none
    efficient enough): there is nothing to estimate with."""


@dataclass(frozen=True)
class SiteEstimateSettings:
    """The factors of a site estimate (see the module's docstring for their sources)."""

    power_tolerance: float = 0.05
    """Nameplate wall-power tolerance, ± fraction (spec sheets: ±5 %)."""
    hashrate_tolerance: float = 0.03
    """Nameplate hash-rate tolerance, ± fraction (spec sheets: ±3 %)."""
    pue_lower: float = 1.01
    pue_best: float = 1.10
    pue_upper: float = 1.20
    """Site power over machine power: cooling and facility (CBECI's 1.01 / 1.10 / 1.20)."""
    supply_loss_lower: float = 0.0
    supply_loss_best: float = 0.015
    supply_loss_upper: float = 0.03
    """Fraction of the machines' power lost between the meter and the plugs (transformer,
    cables)."""
    max_efficiency_j_th: float | None = None
    """Leave out models less efficient than this [J/TH] (e.g. a CBECI profitability threshold
    × 1000); ``None`` keeps every model."""

    def __post_init__(self) -> None:
        for name in ("power_tolerance", "hashrate_tolerance"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1)")
        if not 1.0 <= self.pue_lower <= self.pue_best <= self.pue_upper:
            raise ValueError("PUE must be 1 ≤ pue_lower ≤ pue_best ≤ pue_upper")
        if not 0.0 <= self.supply_loss_lower <= self.supply_loss_best <= self.supply_loss_upper:
            raise ValueError("supply losses must be 0 ≤ lower ≤ best ≤ upper")

    @property
    def overhead_lower(self) -> float:
        """Site power over machines' wall power, lower bound [-]."""
        return self.pue_lower * (1.0 + self.supply_loss_lower)

    @property
    def overhead_best(self) -> float:
        """Site power over machines' wall power, best guess [-]."""
        return self.pue_best * (1.0 + self.supply_loss_best)

    @property
    def overhead_upper(self) -> float:
        """Site power over machines' wall power, upper bound [-]."""
        return self.pue_upper * (1.0 + self.supply_loss_upper)

    @property
    def efficiency_factor_lower(self) -> float:
        """A unit's real efficiency over its nameplate one, at best [-]: less power, more hash."""
        return (1.0 - self.power_tolerance) / (1.0 + self.hashrate_tolerance)

    @property
    def efficiency_factor_upper(self) -> float:
        """A unit's real efficiency over its nameplate one, at worst [-]."""
        return (1.0 + self.power_tolerance) / (1.0 - self.hashrate_tolerance)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PowerBounds:
    """Power [kW]: lower bound, best guess, upper bound."""

    lower_kw: float
    best_kw: float
    upper_kw: float


@dataclass(frozen=True)
class HashrateBounds:
    """Hash rate of one algorithm [H/s]: lower bound, best guess, upper bound."""

    algorithm: str
    lower_hs: float
    best_hs: float
    upper_hs: float

    @property
    def lower_ths(self) -> float:
        return self.lower_hs / 1e12

    @property
    def best_ths(self) -> float:
        return self.best_hs / 1e12

    @property
    def upper_ths(self) -> float:
        return self.upper_hs / 1e12


@dataclass(frozen=True)
class EfficiencySpread:
    """The efficiencies [J/TH] of the catalogue models an estimate used."""

    algorithm: str
    as_of: date | None
    models: tuple[str, ...]
    min_j_th: float
    mean_j_th: float
    max_j_th: float


@dataclass(frozen=True)
class MachinesEstimate:
    """What a site's declared machines draw and compute.

    ``wall_power_kw`` is the machines at their plugs (nameplate ± tolerance); ``power_kw`` adds
    the site overhead (what the grid meter sees). ``hashrate`` has one entry per algorithm.
    Machines of ``unknown_models`` are not counted, so with any unknown model every figure is
    a floor.
    """

    wall_power_kw: PowerBounds
    power_kw: PowerBounds
    hashrate: tuple[HashrateBounds, ...]
    machines_known: int
    unknown_models: tuple[MachineCount, ...]

    @property
    def machines_unknown(self) -> int:
        return sum(m.count for m in self.unknown_models)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(h.algorithm for h in self.hashrate)


@dataclass(frozen=True)
class PowerFromHashrate:
    """A site's power [kW] implied by its hash rate [H/s]."""

    hashrate_hs: float
    spread: EfficiencySpread
    power_kw: PowerBounds


@dataclass(frozen=True)
class HashrateFromPower:
    """A site's hash rate [H/s] implied by its (metered or rated) power [kW]."""

    power_kw: float
    spread: EfficiencySpread
    hashrate: HashrateBounds


def _check_non_negative(name: str, value: float) -> None:
    if value < 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite non-negative number, not {value}")


def _counts(machines: Iterable[MachineCount] | Mapping[str, int]) -> dict[str, int]:
    items = (
        machines.items()
        if isinstance(machines, Mapping)
        else ((m.model, m.count) for m in machines)
    )
    counts: dict[str, int] = {}
    for model, count in items:
        if count < 0:
            raise ValueError(f"{model}: a machine count must not be negative ({count})")
        counts[model] = counts.get(model, 0) + count
    return counts


def power_from_machines(
    machines: Iterable[MachineCount] | Mapping[str, int],
    settings: SiteEstimateSettings | None = None,
) -> MachinesEstimate:
    """Power and hash rate of a site from its machines, model by model.

    Parameters
    ----------
    machines : MachineCount items, or a mapping model → count
        Model names as the catalogue knows them (vendor prefix, case, spaces and dashes do not
        matter). Models the catalogue does not know are reported in ``unknown_models`` and not
        counted: nothing is guessed for them.
    settings : SiteEstimateSettings, optional
        Nameplate tolerance and site overhead.

    Returns
    -------
    MachinesEstimate
        ``wall_power_kw`` = Σ count × nameplate wall power × (1 ∓ power tolerance) [kW];
        ``power_kw`` = that × site overhead (PUE × (1 + supply loss)), lower with the lower
        factors, upper with the upper ones [kW]; per algorithm, Σ count × nameplate hash rate
        × (1 ∓ hash-rate tolerance) [H/s]. No machines give zeros.
    """
    s = settings or SiteEstimateSettings()
    wall_kw = 0.0
    hashrate_hs: dict[str, float] = {}
    known = 0
    unknown: list[MachineCount] = []
    for name, count in _counts(machines).items():
        model = find_model(name)
        if model is None:
            unknown.append(MachineCount(name, count))
            continue
        known += count
        wall_kw += count * model.power_w / 1000.0
        hashrate_hs[model.algorithm] = hashrate_hs.get(model.algorithm, 0.0) + (
            count * model.hashrate_hs
        )
    wall = PowerBounds(
        lower_kw=wall_kw * (1.0 - s.power_tolerance),
        best_kw=wall_kw,
        upper_kw=wall_kw * (1.0 + s.power_tolerance),
    )
    site = PowerBounds(
        lower_kw=wall.lower_kw * s.overhead_lower,
        best_kw=wall.best_kw * s.overhead_best,
        upper_kw=wall.upper_kw * s.overhead_upper,
    )
    rates = tuple(
        HashrateBounds(
            algorithm=algorithm,
            lower_hs=hs * (1.0 - s.hashrate_tolerance),
            best_hs=hs,
            upper_hs=hs * (1.0 + s.hashrate_tolerance),
        )
        for algorithm, hs in sorted(hashrate_hs.items())
    )
    return MachinesEstimate(wall, site, rates, known, tuple(unknown))


def efficiency_spread(
    algorithm: str,
    as_of: date | None = None,
    settings: SiteEstimateSettings | None = None,
) -> EfficiencySpread:
    """Least, mean and most energy per unit of work [J/TH] of the catalogue's models.

    Parameters
    ----------
    algorithm : str
        An algorithm or a coin (``SHA-256``, ``BTC``, ``Scrypt``, ``LTC`` …).
    as_of : date, optional
        Only models released by this day count (a model counts from the first day of its
        release month); ``None``: every model.
    settings : SiteEstimateSettings, optional
        ``max_efficiency_j_th`` leaves out models less efficient than it.

    Raises
    ------
    UnknownAlgorithmError
        The catalogue has no model of ``algorithm`` (a ``ValueError``).
    NoHardwareError
        No model of ``algorithm`` qualifies.
    """
    s = settings or SiteEstimateSettings()
    models: list[MinerModel] = [
        m
        for m in models_for(algorithm, as_of)
        if s.max_efficiency_j_th is None or m.efficiency_j_per_th <= s.max_efficiency_j_th
    ]
    name = resolve_algorithm(algorithm)
    if not models:
        when = f" released by {as_of}" if as_of is not None else ""
        cap = (
            f" at {s.max_efficiency_j_th:g} J/TH or better"
            if s.max_efficiency_j_th is not None
            else ""
        )
        raise NoHardwareError(f"the catalogue has no {name} model{when}{cap}")
    efficiencies = [m.efficiency_j_per_th for m in models]
    return EfficiencySpread(
        algorithm=name,
        as_of=as_of,
        models=tuple(m.model for m in models),
        min_j_th=min(efficiencies),
        mean_j_th=sum(efficiencies) / len(efficiencies),
        max_j_th=max(efficiencies),
    )


def power_from_hashrate(
    hashrate_hs: float,
    algorithm: str,
    as_of: date | None = None,
    settings: SiteEstimateSettings | None = None,
) -> PowerFromHashrate:
    """A site's power from its hash rate.

    Parameters
    ----------
    hashrate_hs : float
        The site's hash rate [H/s] (NaN gives NaN bounds).
    algorithm : str
        Algorithm or coin, as :func:`efficiency_spread` reads it.
    as_of : date, optional
        Only catalogue models released by this day count.
    settings : SiteEstimateSettings, optional

    Returns
    -------
    PowerFromHashrate
        ``lower_kw`` = H × e_min × (1 − p)/(1 + h) × overhead_lower,
        ``best_kw`` = H × e_mean × overhead_best,
        ``upper_kw`` = H × e_max × (1 + p)/(1 − h) × overhead_upper, with H [TH/s], e [J/TH]
        over the catalogue's qualifying models, p and h the power and hash-rate tolerances.
    """
    _check_non_negative("hashrate_hs", hashrate_hs)
    s = settings or SiteEstimateSettings()
    spread = efficiency_spread(algorithm, as_of, s)
    ths = hashrate_hs / 1e12
    bounds = PowerBounds(
        lower_kw=ths * spread.min_j_th * s.efficiency_factor_lower * s.overhead_lower / 1000.0,
        best_kw=ths * spread.mean_j_th * s.overhead_best / 1000.0,
        upper_kw=ths * spread.max_j_th * s.efficiency_factor_upper * s.overhead_upper / 1000.0,
    )
    return PowerFromHashrate(hashrate_hs, spread, bounds)


def hashrate_from_power(
    power_kw: float,
    algorithm: str,
    as_of: date | None = None,
    settings: SiteEstimateSettings | None = None,
) -> HashrateFromPower:
    """A site's hash rate from its power (metered mean kW, or rated kW), the inverse of
    :func:`power_from_hashrate`.

    Parameters
    ----------
    power_kw : float
        Power drawn by the whole site, as the grid meter sees it [kW] (NaN gives NaN bounds).
    algorithm : str
        Algorithm or coin, as :func:`efficiency_spread` reads it.
    as_of : date, optional
        Only catalogue models released by this day count.
    settings : SiteEstimateSettings, optional

    Returns
    -------
    HashrateFromPower
        ``lower_hs`` = P / overhead_upper / (e_max × (1 + p)/(1 − h)),
        ``best_hs`` = P / overhead_best / e_mean,
        ``upper_hs`` = P / overhead_lower / (e_min × (1 − p)/(1 + h)), with P [W] and e [J/H].
        The lower bound is what the least efficient qualifying model, at the worst end of its
        tolerance, behind the largest overhead, would still compute.
    """
    _check_non_negative("power_kw", power_kw)
    s = settings or SiteEstimateSettings()
    spread = efficiency_spread(algorithm, as_of, s)
    watts = power_kw * 1000.0
    bounds = HashrateBounds(
        algorithm=spread.algorithm,
        lower_hs=watts / s.overhead_upper / (spread.max_j_th * s.efficiency_factor_upper) * 1e12,
        best_hs=watts / s.overhead_best / spread.mean_j_th * 1e12,
        upper_hs=watts / s.overhead_lower / (spread.min_j_th * s.efficiency_factor_lower) * 1e12,
    )
    return HashrateFromPower(power_kw, spread, bounds)
