"""Ensemble selection (Caruana, Niculescu-Mizil, Crew & Ksikes 2004, "Ensemble Selection from Libraries of
Models"), as in AutoGluon's WeightedEnsemble.

Greedy forward selection WITH replacement: start from an empty ensemble; at step t add the base whose
inclusion gives the lowest (sample-weighted) log-loss of the running average of the selected bases'
probabilities on the rows the meta is fitted on; repeat `ensemble_size` times. The kept ensemble is the
prefix (step count) with the lowest loss. Ties are broken deterministically: among bases (or prefixes) whose
loss is within a relative 1e-12 of the best, the lowest base index (the shortest prefix) wins, so an exact
copy of a base never takes its place and floating-point noise cannot flip a choice.
Weights = selection counts in the kept prefix / its length; prediction = weighted mean of base probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.meta.meta_voting import soft_vote
from hetstack.models.registry import register

_EPS = 1e-15
_REL_TIE = 1e-12


def _first_within_tie(losses: np.ndarray) -> int:
    best = float(np.min(losses))
    return int(np.flatnonzero(losses <= best + _REL_TIE * max(1.0, abs(best)))[0])


def ensemble_selection(p_true: np.ndarray, ensemble_size: int, sample_weight=None) -> tuple[list[int], list[float], int]:
    """p_true (N, n_bases): each base's probability of the true label. Returns (selection order over all
    steps, loss after each step, length of the kept prefix)."""
    n, n_bases = p_true.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.sum()
    running = np.zeros(n)
    order, trajectory = [], []
    for step in range(1, int(ensemble_size) + 1):
        losses = np.array([-float(np.sum(w * np.log(np.clip((running + p_true[:, b]) / step, _EPS, None))))
                           for b in range(n_bases)])
        chosen = _first_within_tie(losses)
        running = running + p_true[:, chosen]
        order.append(chosen)
        trajectory.append(float(losses[chosen]))
    return order, trajectory, _first_within_tie(np.array(trajectory)) + 1


@register(name="meta_caruana", family="inference", input_kind="meta",
          aliases=("caruana_meta", "ensemble_selection"))
class CaruanaMeta(MetaLearner):
    default_params = {"ensemble_size": 25}
    learns_class_prior = False  # weighted averages of the bases' probabilities
    weights_method = ("ensemble selection weights (Caruana et al. 2004): the base's share of the greedy "
                      "selections with replacement in the lowest-log-loss prefix, the same for every class")

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        size = int(self.params["ensemble_size"])
        if size < 1:
            raise ValueError(f"{self.name}: ensemble_size must be >= 1, got {size}")
        n_bases = len(self.base_names)
        blocks = np.asarray(X, dtype=np.float64).reshape(len(X), n_bases, len(CLASSES))
        p_true = blocks[np.arange(len(X)), :, np.asarray(y)]  # (N, n_bases)
        with threadpool_limits(limits=self.threads):
            order, trajectory, kept = ensemble_selection(p_true, size, sample_weight)
        self.selection_order_, self.trajectory_, self.n_selected_ = order, trajectory, kept
        counts = np.bincount(order[:kept], minlength=n_bases)
        self.weights_ = counts / counts.sum()
        return kept

    def _predict_proba(self, X):
        return soft_vote(X, len(self.base_names), self.weights_)

    def contributions(self) -> dict[str, list[float]]:
        return {b: [float(self.weights_[i])] * len(CLASSES) for i, b in enumerate(self.base_names)}

    def _save(self, path: Path) -> None:
        write_json(path / "ensemble_selection.json",
                   {"weights": self.weights_, "selection_order": self.selection_order_,
                    "trajectory": self.trajectory_, "n_selected": self.n_selected_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "ensemble_selection.json")
        self.weights_ = np.array(state["weights"], dtype=np.float64)
        self.selection_order_ = [int(i) for i in state["selection_order"]]
        self.trajectory_ = [float(v) for v in state["trajectory"]]
        self.n_selected_ = int(state["n_selected"])
