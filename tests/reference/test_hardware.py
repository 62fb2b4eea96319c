"""The packaged mining-hardware catalogue."""

from __future__ import annotations

import pytest

from minewatch.reference.hardware import catalogue, find_model
from minewatch.reference.ledger import HashrateUnit


def test_catalogue_holds_the_reference_models() -> None:
    models = catalogue()
    assert len(models) >= 20
    s19 = find_model("Antminer S19 Pro")
    assert s19 is not None
    assert (s19.hashrate, s19.hashrate_unit, s19.power_w) == (110.0, HashrateUnit.THS, 3250.0)
    assert s19.efficiency_j_per_th == pytest.approx(29.545, rel=1e-3)


@pytest.mark.parametrize("name", ["antminer s19 pro", "Bitmain Antminer S19 Pro", "AntminerS19Pro"])
def test_lookup_ignores_case_spaces_and_vendor(name: str) -> None:
    model = find_model(name)
    assert model is not None
    assert model.model == "Antminer S19 Pro"


def test_unknown_model() -> None:
    assert find_model("Antminer S99") is None


def test_every_model_is_consistent_with_its_published_efficiency() -> None:
    import csv
    from importlib import resources

    text = resources.files("minewatch.reference").joinpath("data/miners.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        model = find_model(row["model"])
        assert model is not None
        if row["efficiency_unit"] == "J/TH":
            assert model.efficiency_j_per_th == pytest.approx(float(row["efficiency"]), rel=0.03)
