"""Multinomial logistic regression on the whole window of indicator rows (N, T, F), flattened: one
weight per (bar in the window, indicator), T x F in all (5,760 with the default 32 rows of 180).

A linear reading of the window's order: it weighs each indicator at each lag on its own, which a
pattern tied to a distance back (a heavy-volume bar's wick 10-40 bars ago) needs and which the
convolutional and recurrent bases learn slowly from overlapping labels. With that many weights
the L2 strength matters: C is picked from `C_grid` by log loss on the purged inner validation
slice (the middle value without one), walking from the strongest penalty with warm starts.

At the design's full size the flattened window is 120 x 180 = 21,600 values a sample, 19 GB for a
fold's training samples: the fit keeps at most `max_fit_mb` of them in memory, taking evenly spaced
samples when there are more (overlapping labels make neighbours near copies), and everything else
(statistics, validation, prediction) runs a chunk at a time.
"""

from __future__ import annotations

import logging

import numpy as np

from hetstack.adapters import chunk_rows, flat_windows, map_flat, subset
from hetstack.models.logistic import LogisticModel
from hetstack.models.registry import register


@register(name="logistic_window", family="classical", input_kind="sequence")
class LogisticWindowModel(LogisticModel):
    default_params = {"C_grid": [1e-5, 1e-4, 1e-3], "max_iter": 300, "tol": 1e-4, "class_weight": None,
                      "max_fit_mb": 2048}
    # one C instead of the grid: the study searches what the grid samples at three points
    search_space = {"C_grid": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True, "as_list": True}}
    state_file = "logistic_window.json"
    threaded_fit = True  # lbfgs steps are (N, T x F) products: BLAS threads pay

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        from hetstack.models.base import full_class_rows

        kept = capped_positions(len(X), int(np.prod(X.shape[1:])), float(self.params["max_fit_mb"]))
        if len(kept) < len(X):
            logging.getLogger("hetstack").info("logistic_window: fitting on %d evenly spaced samples of %d (max_fit_mb %s)",
                                               len(kept), len(X), self.params["max_fit_mb"])
            X, y = subset(X, kept), y[kept]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[kept]
        # float32 throughout: the flattened window is T x F wide, and lbfgs keeps float32 inputs.
        Z = flat_windows(X)
        weights = np.ones(len(Z), dtype=np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
        total = float(weights.sum())
        mean = (weights @ Z) / total
        rows = chunk_rows(Z)
        square = sum(weights[s:s + rows] @ np.square(Z[s:s + rows]) for s in range(0, len(Z), rows))
        spread = np.sqrt(np.maximum(square / total - mean * mean, 0.0))
        self.mean_ = mean.astype(np.float64)
        self.scale_ = np.where(spread > 1e-6, spread, 1.0).astype(np.float64)
        Z = self._standardized(Z)
        validation = None if X_val is None or y_val is None else (X_val, y_val)
        with threadpool_limits(limits=self.threads):
            estimator = self._fit_grid(Z, y, sample_weight, validation)
        self.coef_, self.intercept_ = full_class_rows(estimator.classes_, estimator.coef_.astype(np.float64),
                                                      estimator.intercept_.astype(np.float64), Z.shape[1])
        self.n_iter_ = int(np.max(estimator.n_iter_))
        return None

    def _standardized(self, Z: np.ndarray) -> np.ndarray:
        Z -= self.mean_.astype(np.float32)
        Z /= self.scale_.astype(np.float32)
        return Z

    def _fit_grid(self, Z, y, sample_weight, validation):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss

        grid = sorted(float(c) for c in self.params["C_grid"])
        estimator = LogisticRegression(C=grid[0], solver="lbfgs", max_iter=int(self.params["max_iter"]),
                                       tol=float(self.params["tol"]), class_weight=self.params["class_weight"],
                                       random_state=self.seed, warm_start=True)
        if validation is None:
            self.C_ = grid[len(grid) // 2]
            return estimator.set_params(C=self.C_).fit(Z, y, sample_weight=sample_weight)
        best = None
        for C in grid:
            estimator.set_params(C=C).fit(Z, y, sample_weight=sample_weight)
            proba = map_flat(lambda part: estimator.predict_proba(self._standardized(part)), validation[0])
            loss = log_loss(validation[1], proba, labels=estimator.classes_)
            if best is None or loss < best[0]:
                best = (loss, C, estimator.coef_.copy(), estimator.intercept_.copy(), estimator.n_iter_.copy())
        _, self.C_, estimator.coef_, estimator.intercept_, estimator.n_iter_ = best
        return estimator

    def _decision(self, X) -> np.ndarray:
        return map_flat(super()._decision, X)

    def _extra_state(self) -> dict:
        return {**super()._extra_state(), "C": self.C_}

    def _set_extra_state(self, state: dict) -> None:
        super()._set_extra_state(state)
        self.C_ = float(state["C"])


def capped_positions(n: int, width: int, max_mb: float) -> np.ndarray:
    """Positions of at most `max_mb` of float32 rows `width` wide out of n, evenly spaced over all n."""
    cap = max(1, int(max_mb * 2**20 // (4 * max(1, width))))
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))
