"""The CBECI-method network estimator: the reference rows, the threshold, the boundaries."""

from __future__ import annotations

import csv
import math
import os
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest

from minewatch.detect.power.cbeci import (
    TH_PER_EH,
    CbeciSettings,
    NoProfitableHardwareError,
    break_even_revenue_usd_day,
    estimate_network_power,
    profitability_threshold_j_gh,
    profitable_hardware,
)
from minewatch.reference.hardware import CbeciMiner

CORPUS = Path(
    os.environ.get("MINEWATCH_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "data")
)
REFERENCE = CORPUS / "reference" / "cbeci-reference.csv"
needs_corpus = pytest.mark.skipif(
    not REFERENCE.is_file(),
    reason=f"the CBECI reference figures are not at {REFERENCE} (set MINEWATCH_CORPUS)",
)

# The reference file's rows, copied here so the packaged data is checked without the corpus.
PACKAGED_ROWS = [
    # day, EH/s, USD/kWh, threshold J/GH, lower GW, best GW, upper GW, profitable models
    (date(2021, 5, 14), 166.84, 0.05, 0.2274, 4.98, 14.68, 33.37, 79),
    (date(2021, 7, 1), 95.12, 0.05, 0.1974, 2.84, 8.37, 19.02, None),
]


def _relative_error(value: float, reference: float) -> float:
    return abs(value - reference) / abs(reference)


@pytest.mark.parametrize("row", PACKAGED_ROWS, ids=lambda r: str(r[0]))
def test_packaged_hardware_reproduces_the_reference_rows(row: tuple[object, ...]) -> None:
    day, ehs, price, threshold, lower, best, upper, models = row
    assert isinstance(day, date)
    assert isinstance(ehs, float)
    assert isinstance(threshold, float)
    estimate = estimate_network_power(
        day, ehs * TH_PER_EH, threshold_j_gh=threshold, price_usd_kwh=float(str(price))
    )
    for value, reference in zip(
        (estimate.lower_gw, estimate.best_gw, estimate.upper_gw), (lower, best, upper), strict=True
    ):
        assert _relative_error(value, float(str(reference))) < 0.01
    if models is not None:
        assert estimate.profitable_model_count == models


@needs_corpus
def test_every_row_of_the_corpus_reference_within_one_percent() -> None:
    lines = [line for line in REFERENCE.read_text("utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert rows, "the reference file has no rows"
    for row in rows:
        day = date.fromisoformat(row["date"])
        hashrate_ths = float(row["hashrate_ehs"]) * TH_PER_EH
        price = float(row["price_usd_kwh"])
        threshold = float(row["threshold_j_gh"])
        estimate = estimate_network_power(
            day, hashrate_ths, threshold_j_gh=threshold, price_usd_kwh=price
        )
        for key in ("lower_gw", "best_gw", "upper_gw"):
            assert _relative_error(getattr(estimate, key), float(row[key])) < 0.01, (day, key)
        if row.get("profitable_models"):
            assert estimate.profitable_model_count == int(row["profitable_models"]), day
        # The threshold, from the revenue it stands for: the formula and its inverse agree.
        revenue = break_even_revenue_usd_day(threshold, hashrate_ths, price)
        from_revenue = estimate_network_power(
            day, hashrate_ths, revenue_usd_day=revenue, price_usd_kwh=price
        )
        assert _relative_error(from_revenue.threshold_j_gh, threshold) < 0.01
        assert from_revenue.best_gw == pytest.approx(estimate.best_gw)


@needs_corpus
def test_the_packaged_hardware_list_is_the_corpus_copy() -> None:
    packaged = resources.files("minewatch.reference").joinpath("data/cbeci-hardware.csv")
    shared = CORPUS / "reference" / "cbeci-hardware.csv"
    assert packaged.read_text("utf-8") == shared.read_text("utf-8")


def test_threshold_formula_by_hand() -> None:
    # 100 EH/s earning 40 M USD a day: 40e6 / (1e8 TH/s × 86,400 s) = 4.63e-6 USD/TH; a joule at
    # 0.05 USD/kWh costs 1.389e-8 USD: 333.3 J/TH = 0.3333 J/GH.
    assert profitability_threshold_j_gh(40e6, 1e8, 0.05) == pytest.approx(1 / 3, rel=1e-9)
    assert break_even_revenue_usd_day(1 / 3, 1e8, 0.05) == pytest.approx(40e6)
    assert math.isnan(profitability_threshold_j_gh(math.nan, 1e8, 0.05))
    with pytest.raises(ValueError, match="positive"):
        profitability_threshold_j_gh(40e6, 0.0, 0.05)
    with pytest.raises(ValueError, match="negative"):
        profitability_threshold_j_gh(-1.0, 1e8, 0.05)


def _miner(name: str, released: str, efficiency_j_gh: float) -> CbeciMiner:
    at = datetime.fromisoformat(released).replace(tzinfo=UTC)
    return CbeciMiner(name, at, efficiency_j_gh, 1000)


def test_released_before_the_day_and_efficiency_below_the_threshold_strictly() -> None:
    hardware = [
        _miner("on the day", "2021-05-14T00:00:00", 0.05),
        _miner("the evening before", "2021-05-13T23:59:59", 0.06),
        _miner("at the threshold", "2020-01-01", 0.10),
        _miner("just below", "2020-01-01", 0.0999),
    ]
    chosen = profitable_hardware(date(2021, 5, 14), 0.10, hardware)
    assert [m.name for m in chosen] == ["the evening before", "just below"]


def test_bounds_from_a_hand_made_list() -> None:
    hardware = [_miner("a", "2020-01-01", 0.03), _miner("b", "2020-01-01", 0.09)]
    estimate = estimate_network_power(date(2021, 1, 1), 1e8, threshold_j_gh=0.1, hardware=hardware)
    # 0.03 J/GH × 1e8 TH/s = 3e6 kW = 3 GW.
    assert estimate.lower_gw == pytest.approx(3.0 * 1.01)
    assert estimate.best_gw == pytest.approx(6.0 * 1.10)
    assert estimate.upper_gw == pytest.approx(9.0 * 1.20)
    custom = estimate_network_power(
        date(2021, 1, 1), 1e8, threshold_j_gh=0.1, hardware=hardware,
        settings=CbeciSettings(pue_lower=1.0, pue_best=1.0, pue_upper=1.0),
    )  # fmt: skip
    assert (custom.lower_gw, custom.best_gw, custom.upper_gw) == pytest.approx((3.0, 6.0, 9.0))


def test_threshold_or_revenue_not_both_nor_neither() -> None:
    with pytest.raises(ValueError, match="either"):
        estimate_network_power(date(2021, 5, 14), 1e8)
    with pytest.raises(ValueError, match="either"):
        estimate_network_power(date(2021, 5, 14), 1e8, threshold_j_gh=0.2, revenue_usd_day=1e7)
    with pytest.raises(ValueError, match="price"):
        estimate_network_power(date(2021, 5, 14), 1e8, revenue_usd_day=1e7)


@pytest.mark.parametrize("hashrate_ths", [0.0, -5.0, math.nan, math.inf])
def test_a_hash_rate_that_is_not_positive_is_refused(hashrate_ths: float) -> None:
    with pytest.raises(ValueError, match="hash rate"):
        estimate_network_power(date(2021, 5, 14), hashrate_ths, threshold_j_gh=0.2)


def test_no_profitable_hardware_is_said_not_guessed() -> None:
    with pytest.raises(NoProfitableHardwareError, match="before 2008-01-01"):
        estimate_network_power(date(2008, 1, 1), 1.0, threshold_j_gh=1e9)
    with pytest.raises(NoProfitableHardwareError, match=r"below 0\.01"):
        estimate_network_power(date(2021, 5, 14), 1e8, threshold_j_gh=0.01)
