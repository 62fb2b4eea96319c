"""Mining hardware catalogue: model → algorithm, hash rate, power, efficiency.

Figures are manufacturers' nameplate values as collected in ``data/miners.csv`` (public spec
sheets). Used to turn a ledger's machines into rated power and hash rate, and later (meter
analytics) measured kW into rigs.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
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
