"""The plant scan's pieces: the monotone output curve, robust spread, runs of shortfall."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from minewatch.detect.plants.model import (
    best_run,
    binned_spread,
    fit_curve,
    persistence,
    robust_scale,
    standardise,
)


def test_curve_is_monotone_and_flat_outside_the_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 500)
    y = np.minimum(8.0, x) + rng.normal(0, 0.3, 500)
    curve = fit_curve(x, y, bins=12, quantile=0.5)
    grid = np.linspace(-5, 20, 200)
    values = curve(grid)
    assert np.all(np.diff(values) >= 0)
    assert values[0] == pytest.approx(values[1])  # flat below the data
    assert curve(np.array([30.0]))[0] == pytest.approx(8.0, abs=0.3)  # saturates at capacity
    assert curve(np.array([4.0]))[0] == pytest.approx(4.0, abs=0.4)


def test_curve_ignores_nan_pairs_and_survives_no_data() -> None:
    x = np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    assert np.isfinite(fit_curve(x, y, 4, 0.5)(np.array([2.0]))).all()
    empty = fit_curve(np.array([]), np.array([]), 4, 0.5)
    assert empty(np.array([1.0]))[0] == 0.0


def test_upper_quantile_fit_follows_the_honest_days() -> None:
    # 60 % of the days lose a steady 2 units: the 0.8 quantile still sees the honest level
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 1000)
    honest = x + rng.normal(0, 0.1, 1000)
    y = np.where(rng.random(1000) < 0.6, honest - 2.0, honest)
    assert fit_curve(x, y, 10, 0.8)(np.array([5.0]))[0] == pytest.approx(5.0, abs=0.3)
    assert fit_curve(x, y, 10, 0.5)(np.array([5.0]))[0] < 4.0


@pytest.mark.parametrize("n", [1, 2, 5, 47, 731])
@pytest.mark.parametrize("quantile", [0.2, 0.5, 0.8])
def test_curve_knots_are_numpys_quantiles_of_equal_count_bins(n: int, quantile: float) -> None:
    rng = np.random.default_rng(n)
    x = rng.gamma(2.0, size=n)
    x[: n // 4] = 1.0  # ties in the driver
    y = rng.normal(size=n)
    order = np.argsort(x, kind="stable")
    bins = max(1, min(16, n // 3))
    edges = np.linspace(0, n, bins + 1).astype(int)
    parts = [order[a:b] for a, b in pairwise(edges.tolist())]
    knots_x = np.array([np.median(x[p]) for p in parts])
    knots_y = np.maximum.accumulate([np.quantile(y[p], quantile) for p in parts])
    knots_x, first = np.unique(knots_x, return_index=True)
    curve = fit_curve(x, y, 16, quantile)
    np.testing.assert_allclose(curve.knots_x, knots_x)
    np.testing.assert_allclose(curve.knots_y, knots_y[first])


def test_robust_scale_of_a_normal_sample_and_of_too_little() -> None:
    rng = np.random.default_rng(2)
    assert robust_scale(rng.normal(0, 3.0, 20_000)) == pytest.approx(3.0, rel=0.05)
    assert np.isnan(robust_scale(np.array([1.0])))
    assert np.isnan(robust_scale(np.array([np.nan, np.nan])))


def test_binned_spread_follows_the_scatter_and_keeps_its_floor() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 4000)
    residual = rng.normal(0, 0.1 + 0.2 * x)  # scatter grows with x
    spread = binned_spread(x, residual, bins=8, floor=0.05)
    assert spread(np.array([9.0]))[0] > 3 * spread(np.array([1.0]))[0]
    flat = binned_spread(x, np.zeros_like(x), bins=8, floor=0.05)
    assert flat(np.array([5.0]))[0] == 0.05


def test_persistence_of_white_noise_and_of_a_random_walk() -> None:
    rng = np.random.default_rng(4)
    assert persistence(rng.normal(size=5000)) == pytest.approx(1.0, abs=0.1)
    assert persistence(np.cumsum(rng.normal(size=5000))) > 10
    assert persistence(np.array([1.0, 2.0])) == 1.0  # too short to say


def test_best_run_finds_the_stretch_and_trims_neutral_days() -> None:
    gain = np.array([-1.0, 0.0, 0.0, 2.0, 3.0, -1.0, 4.0, 0.0, 0.0, -5.0])
    run = best_run(gain)
    assert run is not None
    assert (run.start, run.end) == (3, 6)
    assert run.score == pytest.approx(8.0)
    assert run.days == 4
    assert run.mask(10).sum() == 4
    assert best_run(np.array([-1.0, -2.0, 0.0])) is None
    assert best_run(np.array([np.nan, 1.0])) is not None


def test_standardise_uses_reference_days_for_persistence_only() -> None:
    rng = np.random.default_rng(5)
    residual = rng.normal(0, 1.0, 400)
    residual[200:300] += 5.0  # a step: a diversion
    judged = np.ones(400, dtype=bool)
    reference = np.ones(400, dtype=bool)
    reference[200:300] = False
    z_ref, factor_ref = standardise(residual, np.ones(400), judged, reference)
    z_all, factor_all = standardise(residual, np.ones(400), judged, judged)
    assert factor_ref < factor_all  # the step inflates persistence if it is not set aside
    assert np.nanmean(z_ref[200:300]) > np.nanmean(z_all[200:300])
    not_judged = judged.copy()
    not_judged[:10] = False
    z, _ = standardise(residual, np.ones(400), not_judged, reference)
    assert np.isnan(z[:10]).all()
