"""The best single base alone: the base with the lowest (sample-weighted) log loss on the fit rows,
its probabilities passed through unchanged. The floor a stacker must beat, and the simplest
candidate of meta_auto (as AutoGluon keeps single models among its ensemble's candidates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.models.registry import register

PROB_FLOOR = 1e-15


@register(name="meta_best_base", family="inference", input_kind="meta", aliases=("best_base",))
class BestBaseMeta(MetaLearner):
    learns_class_prior = False  # a base's own probabilities, already corrected by that base
    weights_method = "1 for the base with the lowest log loss on the fit rows, 0 for the others"

    def _fit(self, X, y, X_val, y_val, sample_weight):
        X = np.asarray(X, dtype=np.float64)
        rows = np.arange(len(y))
        losses = [float(np.average(-np.log(np.clip(X[rows, 3 * b + y], PROB_FLOOR, None)), weights=sample_weight))
                  for b in range(len(self.base_names))]
        self.chosen_ = int(np.argmin(losses))  # the first of equal losses
        self.fit_log_losses_ = losses
        return None

    def _predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)[:, 3 * self.chosen_:3 * self.chosen_ + 3]

    def contributions(self) -> dict[str, list[float]]:
        return {b: [float(i == self.chosen_)] * len(CLASSES) for i, b in enumerate(self.base_names)}

    def _save(self, path: Path) -> None:
        write_json(path / "best_base.json", {"chosen": self.base_names[self.chosen_],
                                             "fit_log_losses": dict(zip(self.base_names, self.fit_log_losses_))})

    def _load(self, path: Path) -> None:
        state = read_json(path / "best_base.json")
        # by name: the saved JSON's keys are sorted, not in the order of the meta's inputs
        self.chosen_ = self.base_names.index(state["chosen"])
        self.fit_log_losses_ = [state["fit_log_losses"][b] for b in self.base_names]
