"""Mining hardware catalogue: model → algorithm, hash rate, power, efficiency.

Figures are manufacturers' nameplate values as collected in ``data/miners.csv`` (public spec
sheets). Used to turn a ledger's machines into rated power and hash rate, and later (meter
analytics) measured kW into rigs.

``data/cbeci-hardware.csv`` is the bitcoin (SHA-256) hardware list of the Cambridge Bitcoin
Electricity Consumption Index (CBECI, Cambridge Centre for Alternative Finance): each model's
release time (Unix seconds) and efficiency [J/GH], from CPUs to the Antminer S19; read by
:func:`cbeci_hardware` for the network-level estimator (``minewatch.detect.power.cbeci``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources

from minewatch.reference.ledger import HashrateUnit, parse_hashrate_unit


@dataclass(frozen=True)
class MinerModel:
    """One model of mining machine at its nameplate rating."""

    model: str
    vendor: str
    algorithm: str
    coin: str
    released: str
    hashrate: float
    hashrate_unit: HashrateUnit
    power_w: float

    @property
    def hashrate_hs(self) -> float:
        """Nameplate hash rate [H/s]."""
        return self.hashrate * self.hashrate_unit.hashes_per_second

    @property
    def efficiency_j_per_th(self) -> float:
        """Energy per unit of work [J/TH] (power over hash rate)."""
        return self.power_w / (self.hashrate_hs / 1e12)

    @property
    def released_date(self) -> date:
        """The first day of the release month (the catalogue gives months, ``2020-05``)."""
        year, month = self.released.split("-")[:2]
        return date(int(year), int(month), 1)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


@lru_cache(maxsize=1)
def catalogue() -> dict[str, MinerModel]:
    """All packaged models, keyed by a normalised model name (case, spaces and dashes ignored)."""
    text = resources.files("minewatch.reference").joinpath("data/miners.csv").read_text("utf-8")
    models: dict[str, MinerModel] = {}
    for row in csv.DictReader(text.splitlines()):
        model = MinerModel(
            model=row["model"],
            vendor=row["vendor"],
            algorithm=row["algorithm"],
            coin=row["coin"],
            released=row["released"],
            hashrate=float(row["hashrate"]),
            hashrate_unit=parse_hashrate_unit(row["hashrate_unit"]),
            power_w=float(row["power_w"]),
        )
        models[_key(model.model)] = model
    return models


def find_model(name: str) -> MinerModel | None:
    """The catalogue entry for ``name`` (vendor prefix optional), or ``None`` if unknown."""
    models = catalogue()
    key = _key(name)
    if key in models:
        return models[key]
    for model in models.values():
        if key == _key(f"{model.vendor}{model.model}"):
            return model
    return None


class UnknownAlgorithmError(ValueError):
    """An algorithm or coin that no catalogue model mines."""


def algorithms() -> tuple[str, ...]:
    """The algorithms of the catalogue's models (``SHA-256``, ``Scrypt``, ``Ethash`` …)."""
    return tuple(sorted({m.algorithm for m in catalogue().values()}))


def resolve_algorithm(text: str) -> str:
    """The catalogue's spelling of an algorithm named by itself or by a coin it mines.

    ``sha256``, ``SHA-256`` and ``BTC`` give ``SHA-256``; ``LTC`` and ``DOGE`` give ``Scrypt``
    (case, spaces and dashes ignored). Raises :class:`UnknownAlgorithmError` naming the
    algorithms the catalogue knows.
    """
    key = _key(text)
    for model in catalogue().values():
        coins = {_key(c) for c in model.coin.split("/")}
        if key and (key == _key(model.algorithm) or key in coins):
            return model.algorithm
    known = ", ".join(algorithms())
    raise UnknownAlgorithmError(f"{text!r} is not an algorithm or coin of the catalogue ({known})")


def models_for(algorithm: str, released_by: date | None = None) -> tuple[MinerModel, ...]:
    """The catalogue's models of ``algorithm`` (see :func:`resolve_algorithm`), optionally only
    those released by ``released_by`` (a model counts from the first day of its release month).
    """
    name = resolve_algorithm(algorithm)
    return tuple(
        m
        for m in catalogue().values()
        if m.algorithm == name and (released_by is None or m.released_date <= released_by)
    )


@dataclass(frozen=True)
class CbeciMiner:
    """One bitcoin mining machine of the CBECI hardware list."""

    name: str
    released_at: datetime
    """Release time (UTC)."""
    efficiency_j_gh: float
    """Energy per unit of work [J/GH]."""
    quantity: int
    """The list's ``Qty`` column (CBECI v1 weighs models equally; kept for reference)."""


@lru_cache(maxsize=1)
def cbeci_hardware() -> tuple[CbeciMiner, ...]:
    """The packaged CBECI hardware list, in file order."""
    text = resources.files("minewatch.reference").joinpath("data/cbeci-hardware.csv")
    rows = csv.DictReader(text.read_text("utf-8").splitlines())
    return tuple(
        CbeciMiner(
            name=row["Miner_name"],
            released_at=datetime.fromtimestamp(int(row["UNIX_date_of_release"]), UTC),
            efficiency_j_gh=float(row["Efficiency_J_Gh"]),
            quantity=int(row["Qty"]),
        )
        for row in rows
    )
