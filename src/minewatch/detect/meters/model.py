"""A small gradient-boosted tree model over the physical features, in numpy.

Trained only on MineWatch's own synthetic provinces (``minewatch train meters``), stored as
JSON in the package and evaluated offline. Boosting on log-loss gives calibrated
probabilities; shallow trees let the model say "a flat block *and* no weather response" or
"a valley block *or* a constant floor" that a linear score cannot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from minewatch.detect.meters._fused import tree_margin

F = npt.NDArray[np.float64]
MODEL_RESOURCE = "data/meters-model.json"
PACKAGED_MODEL_PATH = Path(__file__).parent.parent / MODEL_RESOURCE
"""Where ``minewatch train meters`` writes the model in a source checkout."""


@dataclass(frozen=True)
class TreeModel:
    """Additive trees of fixed depth: ``feature[t, node]``, ``threshold[t, node]``, leaves."""

    feature_names: tuple[str, ...]
    depth: int
    base_score: float
    learning_rate: float
    features: npt.NDArray[np.int64]  # (trees, 2**depth - 1)
    thresholds: F  # (trees, 2**depth - 1)
    leaves: F  # (trees, 2**depth)
    threshold: float  # the score above which a meter is suspected
    provenance: dict[str, Any]

    def margin(self, x: F) -> F:
        """Raw log-odds for rows of ``x`` (columns in ``feature_names`` order)."""
        return tree_margin(
            x,
            self.features,
            self.thresholds,
            self.leaves,
            self.depth,
            self.base_score,
            self.learning_rate,
        )

    def predict(self, x: F) -> F:
        """Probability of mining."""
        return 1.0 / (1.0 + np.exp(-self.margin(x)))

    def to_json(self) -> str:
        return json.dumps(
            {
                "feature_names": list(self.feature_names),
                "depth": self.depth,
                "base_score": self.base_score,
                "learning_rate": self.learning_rate,
                "features": self.features.tolist(),
                "thresholds": [[round(v, 6) for v in row] for row in self.thresholds.tolist()],
                "leaves": [[round(v, 6) for v in row] for row in self.leaves.tolist()],
                "threshold": self.threshold,
                "provenance": self.provenance,
            },
            ensure_ascii=False,
            indent=0,
        )

    @classmethod
    def from_json(cls, text: str) -> TreeModel:
        data = json.loads(text)
        return cls(
            feature_names=tuple(data["feature_names"]),
            depth=int(data["depth"]),
            base_score=float(data["base_score"]),
            learning_rate=float(data["learning_rate"]),
            features=np.asarray(data["features"], dtype=np.int64),
            thresholds=np.asarray(data["thresholds"], dtype=np.float64),
            leaves=np.asarray(data["leaves"], dtype=np.float64),
            threshold=float(data["threshold"]),
            provenance=dict(data.get("provenance", {})),
        )


def load_packaged_model() -> TreeModel:
    """The model shipped in the package."""
    ref = resources.files("minewatch.detect").joinpath(MODEL_RESOURCE)
    return TreeModel.from_json(ref.read_text("utf-8"))


def save_model(model: TreeModel, path: Path) -> None:
    path.write_text(model.to_json(), encoding="utf-8")


def fit_trees(
    x: F,
    y: npt.NDArray[np.bool_],
    feature_names: tuple[str, ...],
    *,
    rounds: int = 200,
    depth: int = 3,
    learning_rate: float = 0.1,
    bins: int = 48,
    min_leaf: float = 5.0,
    l2: float = 1.0,
    seed: int = 0,
    subsample: float = 0.8,
) -> TreeModel:
    """Fit boosted trees on log-loss by second-order (Newton) steps over quantile bins."""
    rng = np.random.default_rng(seed)
    n, k = x.shape
    edges = [np.unique(np.quantile(x[:, j], np.linspace(0, 1, bins + 1)[1:-1])) for j in range(k)]
    binned = np.column_stack([np.searchsorted(edges[j], x[:, j], side="left") for j in range(k)])
    target = y.astype(np.float64)
    prior = float(np.clip(target.mean(), 1e-6, 1 - 1e-6))
    base = float(np.log(prior / (1 - prior)))
    margin = np.full(n, base)
    internal = 2**depth - 1
    features = np.zeros((rounds, internal), dtype=np.int64)
    thresholds = np.full((rounds, internal), np.inf)
    leaves = np.zeros((rounds, 2**depth))
    for t in range(rounds):
        p = 1.0 / (1.0 + np.exp(-margin))
        grad = p - target
        hess = np.maximum(p * (1 - p), 1e-6)
        use = rng.random(n) < subsample
        node = np.zeros(n, dtype=np.int64)
        for level in range(depth):
            for position in range(2**level):
                index = 2**level - 1 + position
                rows = use & (node == index)
                split = _best_split(binned[rows], grad[rows], hess[rows], bins, min_leaf, l2)
                if split is None:
                    features[t, index], thresholds[t, index] = 0, np.inf
                else:
                    j, b = split
                    features[t, index] = j
                    thresholds[t, index] = edges[j][b] if b < len(edges[j]) else np.inf
            f = features[t, node]
            go_right = x[np.arange(n), f] > thresholds[t, node]
            node = 2 * node + 1 + go_right
        leaf = node - internal
        g = np.bincount(leaf[use], grad[use], minlength=2**depth)
        h = np.bincount(leaf[use], hess[use], minlength=2**depth)
        leaves[t] = -g / (h + l2)
        margin += learning_rate * leaves[t, leaf]
    return TreeModel(
        feature_names=feature_names,
        depth=depth,
        base_score=base,
        learning_rate=learning_rate,
        features=features,
        thresholds=thresholds,
        leaves=leaves,
        threshold=0.5,
        provenance={},
    )


def _best_split(
    binned: npt.NDArray[np.int64],
    grad: F,
    hess: F,
    bins: int,
    min_leaf: float,
    l2: float,
) -> tuple[int, int] | None:
    if binned.shape[0] < 2 * min_leaf:
        return None
    g_total, h_total = grad.sum(), hess.sum()
    parent = g_total**2 / (h_total + l2)
    best_gain, best = 0.0, None
    for j in range(binned.shape[1]):
        g = np.bincount(binned[:, j], grad, minlength=bins)
        h = np.bincount(binned[:, j], hess, minlength=bins)
        g_left, h_left = np.cumsum(g)[:-1], np.cumsum(h)[:-1]
        g_right, h_right = g_total - g_left, h_total - h_left
        ok = (h_left >= min_leaf * 0.01) & (h_right >= min_leaf * 0.01)
        gain = g_left**2 / (h_left + l2) + g_right**2 / (h_right + l2) - parent
        gain = np.where(ok, gain, 0.0)
        b = int(np.argmax(gain))
        if gain[b] > best_gain:
            best_gain, best = float(gain[b]), (j, b)
    return best
