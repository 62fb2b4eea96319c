"""The packaged mining-hardware catalogue."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from minewatch.reference.hardware import (
    UnknownAlgorithmError,
    catalogue,
    cbeci_hardware,
    find_model,
    models_for,
    resolve_algorithm,
)
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


@pytest.mark.parametrize(
    ("text", "algorithm"),
    [("SHA-256", "SHA-256"), ("sha256", "SHA-256"), ("BTC", "SHA-256"), ("doge", "Scrypt"),
     ("LTC", "Scrypt"), ("ETH", "Ethash"), ("Equihash", "Equihash")],
)  # fmt: skip
def test_algorithm_by_name_or_coin(text: str, algorithm: str) -> None:
    assert resolve_algorithm(text) == algorithm


@pytest.mark.parametrize("text", ["XMR", "", "RandomX"])
def test_unknown_algorithm_names_the_known_ones(text: str) -> None:
    with pytest.raises(UnknownAlgorithmError, match="SHA-256"):
        resolve_algorithm(text)


def test_models_released_by_a_day_count_from_their_release_month() -> None:
    every = models_for("SHA-256")
    assert {m.algorithm for m in every} == {"SHA-256"}
    by_may_2020 = {m.model for m in models_for("BTC", date(2020, 5, 1))}
    assert "Antminer S19" in by_may_2020  # released 2020-05
    assert "Antminer S19j Pro" not in by_may_2020  # 2021-06
    assert models_for("SHA-256", date(2015, 8, 31)) == ()


def test_packaged_cbeci_hardware_list() -> None:
    hardware = cbeci_hardware()
    assert len(hardware) == 90
    assert hardware[0].name == "Worst CPU"
    s19 = hardware[-1]
    assert s19.name == "Bitmain Antminer S19 (95Th)"
    assert s19.released_at == datetime(2020, 5, 1, tzinfo=UTC)
    assert s19.efficiency_j_gh == pytest.approx(0.03421)
    assert all(m.efficiency_j_gh > 0 and m.quantity > 0 for m in hardware)
