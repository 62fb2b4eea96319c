"""A site's power from its machines or hash rate, its hash rate from its power, with bounds."""

from __future__ import annotations

import math
from datetime import date

import pytest

from minewatch.detect.power.site import (
    NoHardwareError,
    SiteEstimateSettings,
    efficiency_spread,
    hashrate_from_power,
    power_from_hashrate,
    power_from_machines,
)
from minewatch.reference.hardware import UnknownAlgorithmError
from minewatch.reference.ledger import MachineCount


def test_machines_at_nameplate_with_tolerance_and_overhead() -> None:
    estimate = power_from_machines({"Antminer S19 Pro": 100, "Whatsminer M30S": 20})
    wall_kw = 100 * 3.25 + 20 * 3.344
    assert estimate.wall_power_kw.best_kw == pytest.approx(wall_kw)
    assert estimate.wall_power_kw.lower_kw == pytest.approx(wall_kw * 0.95)
    assert estimate.wall_power_kw.upper_kw == pytest.approx(wall_kw * 1.05)
    assert estimate.power_kw.lower_kw == pytest.approx(wall_kw * 0.95 * 1.01)
    assert estimate.power_kw.best_kw == pytest.approx(wall_kw * 1.10 * 1.015)
    assert estimate.power_kw.upper_kw == pytest.approx(wall_kw * 1.05 * 1.20 * 1.03)
    (sha,) = estimate.hashrate
    assert sha.algorithm == "SHA-256"
    assert sha.best_ths == pytest.approx(100 * 110 + 20 * 88)
    assert (sha.lower_ths, sha.upper_ths) == pytest.approx((12760 * 0.97, 12760 * 1.03))
    assert estimate.machines_known == 120
    assert estimate.unknown_models == ()


def test_unknown_models_are_reported_not_guessed() -> None:
    machines = (MachineCount("Antminer S19", 10), MachineCount("Antminer S99", 5),
                MachineCount("antminer s19", 2))  # fmt: skip
    estimate = power_from_machines(machines)
    assert estimate.machines_known == 12
    assert estimate.unknown_models == (MachineCount("Antminer S99", 5),)
    assert estimate.machines_unknown == 5
    assert estimate.wall_power_kw.best_kw == pytest.approx(12 * 3.25)


def test_mixed_algorithms_give_one_hash_rate_each() -> None:
    estimate = power_from_machines({"Antminer L7": 2, "GPU rig 8x RTX 3080": 3, "Antminer S19": 1})
    assert estimate.algorithms == ("Ethash", "SHA-256", "Scrypt")
    ethash = estimate.hashrate[0]
    assert ethash.best_hs == pytest.approx(3 * 780e6)


def test_no_machines_give_zeros() -> None:
    estimate = power_from_machines({})
    assert estimate.power_kw.upper_kw == 0.0
    assert estimate.hashrate == ()
    assert estimate.machines_known == 0


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        power_from_machines({"Antminer S19": -1})


def test_spread_of_the_models_released_by_a_day() -> None:
    spread = efficiency_spread("BTC", date(2019, 12, 31))
    assert spread.algorithm == "SHA-256"
    assert "Antminer S19" not in spread.models
    assert spread.max_j_th == pytest.approx(1293 / 4.73)  # Antminer S7
    assert spread.min_j_th == pytest.approx(2094 / 53)  # S17 Pro
    assert spread.min_j_th < spread.mean_j_th < spread.max_j_th


def test_power_from_hashrate_uses_the_spread_tolerance_and_overhead() -> None:
    s = SiteEstimateSettings()
    estimate = power_from_hashrate(12e15, "SHA-256", date(2021, 6, 1), s)
    spread = estimate.spread
    ths = 12_000.0
    lower = ths * spread.min_j_th * (0.95 / 1.03) * 1.01 / 1000
    upper = ths * spread.max_j_th * (1.05 / 0.97) * 1.20 * 1.03 / 1000
    assert estimate.power_kw.lower_kw == pytest.approx(lower)
    assert estimate.power_kw.best_kw == pytest.approx(ths * spread.mean_j_th * 1.1 * 1.015 / 1000)
    assert estimate.power_kw.upper_kw == pytest.approx(upper)


def test_hashrate_from_power_inverts_power_from_hashrate() -> None:
    power = power_from_hashrate(5e15, "SHA-256", date(2021, 9, 1)).power_kw
    back = hashrate_from_power(power.best_kw, "SHA-256", date(2021, 9, 1)).hashrate
    assert back.best_hs == pytest.approx(5e15)
    assert hashrate_from_power(power.upper_kw, "SHA-256", date(2021, 9, 1)).hashrate.lower_hs == (
        pytest.approx(5e15)
    )
    assert hashrate_from_power(power.lower_kw, "SHA-256", date(2021, 9, 1)).hashrate.upper_hs == (
        pytest.approx(5e15)
    )


@pytest.mark.parametrize("algorithm", ["SHA-256", "Scrypt", "Ethash", "Equihash"])
def test_bounds_are_ordered(algorithm: str) -> None:
    power = power_from_hashrate(1e12, algorithm).power_kw
    assert 0 < power.lower_kw < power.best_kw < power.upper_kw
    rate = hashrate_from_power(100.0, algorithm).hashrate
    assert 0 < rate.lower_hs <= rate.best_hs <= rate.upper_hs


def test_zero_and_nan() -> None:
    assert power_from_hashrate(0.0, "SHA-256").power_kw.upper_kw == 0.0
    assert hashrate_from_power(0.0, "SHA-256").hashrate.upper_hs == 0.0
    nan_power = power_from_hashrate(math.nan, "SHA-256").power_kw
    assert all(math.isnan(v) for v in (nan_power.lower_kw, nan_power.best_kw, nan_power.upper_kw))
    assert math.isnan(hashrate_from_power(math.nan, "SHA-256").hashrate.best_hs)


@pytest.mark.parametrize("value", [-1.0, math.inf])
def test_negative_or_infinite_inputs_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        power_from_hashrate(value, "SHA-256")
    with pytest.raises(ValueError, match="non-negative"):
        hashrate_from_power(value, "SHA-256")


def test_unknown_algorithm_and_no_hardware() -> None:
    with pytest.raises(UnknownAlgorithmError):
        power_from_hashrate(1e15, "RandomX")
    with pytest.raises(NoHardwareError, match="released by 2014-01-01"):
        hashrate_from_power(100.0, "SHA-256", date(2014, 1, 1))


def test_an_efficiency_cap_leaves_out_old_machines() -> None:
    capped = SiteEstimateSettings(max_efficiency_j_th=40.0)
    spread = efficiency_spread("SHA-256", date(2021, 6, 1), capped)
    assert spread.max_j_th <= 40.0
    assert "Antminer S9" not in spread.models
    with pytest.raises(NoHardwareError, match="J/TH or better"):
        efficiency_spread("SHA-256", settings=SiteEstimateSettings(max_efficiency_j_th=1.0))


@pytest.mark.parametrize(
    "changes",
    [{"power_tolerance": 1.0}, {"pue_lower": 0.9}, {"pue_best": 1.3},
     {"supply_loss_lower": -0.1}],
)  # fmt: skip
def test_settings_refuse_inconsistent_factors(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        SiteEstimateSettings(**changes)
