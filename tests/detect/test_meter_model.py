"""The boosted-tree model: it learns, it round-trips, the packaged one is sound."""

from __future__ import annotations

import numpy as np
import pytest

from minewatch.detect.meters.model import TreeModel, fit_trees, load_packaged_model
from minewatch.detect.meters.scan import FEATURE_NAMES
from minewatch.engine.training import MIN_THRESHOLD, TARGET_FPR, threshold_for


def test_trees_learn_an_interaction_a_line_cannot() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(4000, 2))
    y = (x[:, 0] > 0) ^ (x[:, 1] > 0)  # exclusive or
    model = fit_trees(x, y, ("a", "b"), rounds=60, depth=2, learning_rate=0.3)
    accuracy = ((model.predict(x) > 0.5) == y).mean()
    assert accuracy > 0.95


def test_model_json_round_trip() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 3))
    model = fit_trees(x, x[:, 0] + 0.2 * x[:, 1] > 0, ("a", "b", "c"), rounds=10)
    again = TreeModel.from_json(model.to_json())
    assert np.allclose(again.predict(x), model.predict(x), atol=1e-5)


def test_packaged_model_matches_the_features_and_says_how_it_was_made() -> None:
    model = load_packaged_model()
    assert model.feature_names == FEATURE_NAMES
    assert model.threshold >= MIN_THRESHOLD
    assert model.provenance["command"] == "minewatch train meters"
    assert model.provenance["positives"] > 500


@pytest.mark.parametrize("negatives", [1000, 20_000])
def test_threshold_keeps_false_alarms_under_the_target(negatives: int) -> None:
    rng = np.random.default_rng(2)
    scores = np.concatenate([rng.beta(1, 8, negatives), rng.beta(8, 1, 200)])
    mining = np.concatenate([np.zeros(negatives, bool), np.ones(200, bool)])
    threshold = threshold_for(scores, mining)
    assert (scores[~mining] >= threshold).mean() <= max(TARGET_FPR, 1 / negatives)
    assert threshold >= MIN_THRESHOLD
