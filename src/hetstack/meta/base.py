"""Meta-learners: models of family 'inference' fitted on the OOF matrix (N, n_bases * 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.models.base import BaseModel, PredictionOutput, softmax


@dataclass
class MetaLearnerOutput(PredictionOutput):
    base_weights: dict[str, list[float]] = field(default_factory=dict)
    base_predictions: dict[str, np.ndarray] = field(default_factory=dict)


class MetaLearner(BaseModel):
    """Input columns are each base's p(-1), p(0), p(+1), bases in `base_names` order."""

    weights_method = ""
    # True when fit() uses X_val (early stopping, a temperature): the workflow then carves a purged
    # slice from the meta's own training rows, never from the rows it is validated on.
    fits_on_holdout = False
    # True when the input holds the regime features (hetstack.regime) after the probabilities.
    reads_regime = False

    def __init__(self, params=None, *, seed: int = 0, threads: int = 1, base_names=()):
        super().__init__(params, seed=seed, threads=threads)
        self.base_names = list(base_names)

    def n_inputs(self) -> int:
        return 3 * len(self.base_names)

    def _check_width(self, X) -> None:
        if X.shape[1] != self.n_inputs():
            extra = " + the regime features" if self.reads_regime else ""
            raise ValueError(f"{self.name}: expected {self.n_inputs()} columns "
                             f"({len(self.base_names)} bases x 3{extra}), got {X.shape[1]}")

    def fit(self, X_train, y_train, X_val=None, y_val=None, sample_weights=None, config=None):
        self._check_width(np.asarray(X_train))
        return super().fit(X_train, y_train, X_val, y_val, sample_weights, config)

    def predict(self, X) -> MetaLearnerOutput:
        X = np.asarray(X, dtype=np.float64)
        self._check_width(X)
        out = super().predict(X)
        base_predictions = {b: X[:, 3 * i:3 * i + 3] for i, b in enumerate(self.base_names)}
        return MetaLearnerOutput(out.predictions, out.probabilities, out.confidence,
                                 base_weights=self.contributions(), base_predictions=base_predictions)

    def contributions(self) -> dict[str, list[float]]:
        """Weight of each base per class [w_-1, w_0, w_+1]; `weights_method` says how they are made."""
        raise NotImplementedError

    def save(self, path) -> None:
        super().save(path)
        write_json(Path(path) / "bases.json", {"base_names": self.base_names})

    @classmethod
    def _unfitted(cls, path, header: dict, threads: int):
        # the base names first: _load may look bases up by name
        return cls(header["params"], seed=header["seed"], threads=threads,
                   base_names=read_json(Path(path) / "bases.json")["base_names"])


class LinearMeta(MetaLearner):
    """softmax((X @ coef.T + intercept) / temperature); subclasses fit coef/intercept."""

    weights_method = ("share of |coefficient| of the base's p(c) in the meta's class-c score, "
                      "normalized over bases for each class c")

    def _fit_linear(self, X, y, sample_weight) -> tuple[np.ndarray, np.ndarray, bool]:
        """Return (coef (3, D), intercept (3,), scores_need_temperature)."""
        raise NotImplementedError

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        from hetstack.models.base import fit_temperature

        X = np.asarray(X, dtype=np.float64)
        with threadpool_limits(limits=self.threads):
            self.coef_, self.intercept_, needs_temperature = self._fit_linear(X, y, sample_weight)
        self.temperature_ = 1.0
        if needs_temperature:
            # on held-out rows when given: in-sample scores are overconfident
            if X_val is not None and y_val is not None and len(y_val):
                X_val = np.asarray(X_val, dtype=np.float64)
                self.temperature_ = fit_temperature(X_val @ self.coef_.T + self.intercept_, y_val)
            else:
                self.temperature_ = fit_temperature(X @ self.coef_.T + self.intercept_, y, sample_weight)
        return None

    def _predict_proba(self, X):
        return softmax((np.asarray(X, dtype=np.float64) @ self.coef_.T + self.intercept_) / self.temperature_)

    def contributions(self) -> dict[str, list[float]]:
        diag = np.array([[abs(self.coef_[c, 3 * b + c]) for c in range(len(CLASSES))]
                         for b in range(len(self.base_names))])
        totals = diag.sum(axis=0)
        shares = np.divide(diag, totals, out=np.full_like(diag, 1.0 / len(self.base_names)), where=totals > 0)
        return {b: shares[i].tolist() for i, b in enumerate(self.base_names)}

    def coefficients(self) -> dict[str, list[list[float]]]:
        """Raw coefficients: for each base, a 3x3 block [meta class][base's p(c)]."""
        return {b: self.coef_[:, 3 * i:3 * i + 3].tolist() for i, b in enumerate(self.base_names)}

    def _save(self, path: Path) -> None:
        write_json(path / "linear.json", {"coef": self.coef_, "intercept": self.intercept_,
                                          "temperature": self.temperature_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "linear.json")
        self.coef_, self.intercept_ = np.array(state["coef"]), np.array(state["intercept"])
        self.temperature_ = float(state["temperature"])


def permutation_importance(predict_proba, X, y_idx, n_bases: int, *, seed: int, n_repeats: int = 5,
                           sample_weight=None) -> np.ndarray:
    """(n_bases, 3) share of each base in the meta's skill on each class, by permutation.

    For base b, its three columns (p(-1), p(0), p(+1)) are permuted together over the rows (so every row
    still holds a valid probability vector, and the base's joint information is removed at once), with a
    seeded permutation, `n_repeats` times. The importance of b for class c is the mean drop in the
    meta's predicted probability of the TRUE class over the rows whose label is c (weighted by
    `sample_weight` when given), averaged over the repeats. Negative drops are clipped to 0 and each class
    column is normalized over bases to sum to 1; a class with no positive drop (or no row) gets 1/n_bases.
    """
    X = np.asarray(X, dtype=np.float64)
    y_idx = np.asarray(y_idx, dtype=np.int64)
    n = len(y_idx)
    rows = np.arange(n)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    base_true = np.asarray(predict_proba(X), dtype=np.float64)[rows, y_idx]
    rng = np.random.default_rng(seed)
    drops = np.zeros((n_bases, len(CLASSES)))
    for b in range(n_bases):
        for _ in range(int(n_repeats)):
            X_perm = X.copy()
            X_perm[:, 3 * b:3 * b + 3] = X[rng.permutation(n), 3 * b:3 * b + 3]
            drop = base_true - np.asarray(predict_proba(X_perm), dtype=np.float64)[rows, y_idx]
            for c in range(len(CLASSES)):
                mask = y_idx == c
                if mask.any() and w[mask].sum() > 0:
                    drops[b, c] += float(np.average(drop[mask], weights=w[mask])) / int(n_repeats)
    return normalize_shares(drops)


def normalize_shares(values: np.ndarray) -> np.ndarray:
    """Clip at 0 and normalize each column over bases to sum to 1 (uniform where a column is all 0)."""
    values = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    totals = values.sum(axis=0)
    uniform = np.full_like(values, 1.0 / values.shape[0])
    return np.divide(values, totals, out=uniform, where=totals > 0)


class PermutationImportanceMeta(MetaLearner):
    """Non-linear meta-learners: subclasses implement `_fit_model`; contributions() are permutation importances
    computed once at fit time (on the validation rows when given, else on the training rows) and saved."""

    weights_method = ("permutation importance of the base's three columns on the meta validation slice "
                      "(training rows when no validation slice is given): for class c, the mean drop in the "
                      "predicted probability of the true class over rows labelled c when the base's p(-1), p(0), "
                      "p(+1) are permuted together; clipped at 0 and normalized over bases for each class")

    def _fit_model(self, X, y, X_val, y_val, sample_weight) -> int | None:
        raise NotImplementedError

    def _fit(self, X, y, X_val, y_val, sample_weight):
        best_iteration = self._fit_model(X, y, X_val, y_val, sample_weight)
        on_val = X_val is not None and y_val is not None and len(y_val) > 0
        X_imp, y_imp = (X_val, y_val) if on_val else (X, y)
        repeats = int(self.params.get("importance_repeats", 5))
        self.importance_ = permutation_importance(
            self._predict_proba, X_imp, y_imp, len(self.base_names), seed=self.seed, n_repeats=repeats,
            sample_weight=None if on_val else sample_weight)
        self.importance_info_ = {"computed_on": "validation" if on_val else "training", "n_rows": int(len(y_imp)),
                                 "n_repeats": repeats}
        return best_iteration

    def contributions(self) -> dict[str, list[float]]:
        return {b: [float(v) for v in self.importance_[i]] for i, b in enumerate(self.base_names)}

    def save(self, path) -> None:
        super().save(path)
        write_json(Path(path) / "importance.json", {"importance": self.importance_, **self.importance_info_})

    @classmethod
    def load(cls, path, threads: int = 1):
        model = super().load(path, threads=threads)
        state = read_json(Path(path) / "importance.json")
        model.importance_ = np.array(state.pop("importance"), dtype=np.float64)
        model.importance_info_ = state
        return model


__all__ = ["MetaLearner", "MetaLearnerOutput", "LinearMeta", "PermutationImportanceMeta",
           "permutation_importance", "normalize_shares"]
