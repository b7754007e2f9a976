"""Uniform soft voting: the mean of the bases' probability vectors. Nothing is fitted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import write_json
from hetstack.meta.base import MetaLearner
from hetstack.models.registry import register


def soft_vote(X, n_bases: int, weights=None) -> np.ndarray:
    """(Weighted) mean of the bases' (N, 3) probability blocks of a meta matrix (N, n_bases * 3)."""
    blocks = np.asarray(X, dtype=np.float64).reshape(len(X), n_bases, len(CLASSES))
    if weights is None:
        return blocks.mean(axis=1)
    return np.einsum("nbc,b->nc", blocks, np.asarray(weights, dtype=np.float64))


@register(name="meta_voting", family="inference", input_kind="meta", aliases=("voting_meta",))
class VotingMeta(MetaLearner):
    learns_class_prior = False  # weighted averages of the bases' probabilities
    weights_method = "uniform soft vote: every base weighs 1/n_bases for every class (nothing is fitted)"

    def _fit(self, X, y, X_val, y_val, sample_weight):
        return None  # the base names are recorded by the constructor and saved by MetaLearner.save

    def _predict_proba(self, X):
        return soft_vote(X, len(self.base_names))

    def contributions(self) -> dict[str, list[float]]:
        share = 1.0 / len(self.base_names)
        return {b: [share] * len(CLASSES) for b in self.base_names}

    def _save(self, path: Path) -> None:
        write_json(path / "voting.json", {"n_bases": len(self.base_names)})

    def _load(self, path: Path) -> None:
        pass
