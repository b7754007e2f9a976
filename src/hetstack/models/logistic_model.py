"""Multinomial logistic regression on standardized indicator rows.

sklearn's lbfgs solver fits the (3, D) weights; prediction is the softmax of the linear scores,
computed in numpy from the exported mean/scale/coef/intercept, so a fitted and a loaded model
run the same code and give bit-identical probabilities (equal to sklearn's predict_proba up to
float rounding). The log-loss objective already yields probabilities; no extra calibration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.models.base import BaseModel, full_class_rows, softmax, weighted_standardizer
from hetstack.models.registry import register


@register(name="logistic", family="classical", input_kind="tabular")
class LogisticModel(BaseModel):
    default_params = {"C": 1.0, "max_iter": 1000, "tol": 1e-4, "class_weight": None}

    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=float(self.params["C"]), solver="lbfgs", max_iter=int(self.params["max_iter"]),
                                  tol=float(self.params["tol"]), class_weight=self.params["class_weight"],
                                  random_state=self.seed)

    def _decision(self, X) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return Z @ self.coef_.T + self.intercept_

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = weighted_standardizer(X, sample_weight)
        with threadpool_limits(limits=self.threads):
            clf = self._classifier().fit((X - self.mean_) / self.scale_, y, sample_weight=sample_weight)
        self.n_iter_ = int(np.max(clf.n_iter_))
        self.coef_, self.intercept_ = full_class_rows(clf.classes_, clf.coef_, clf.intercept_, X.shape[1])
        return None

    def _predict_proba(self, X):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.threads):
            return softmax(self._decision(X))

    def _save(self, path: Path) -> None:
        write_json(path / "logistic.json", {"mean": self.mean_, "scale": self.scale_, "coef": self.coef_,
                                             "intercept": self.intercept_, "n_iter": self.n_iter_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "logistic.json")
        self.mean_, self.scale_ = np.array(state["mean"]), np.array(state["scale"])
        self.coef_, self.intercept_ = np.array(state["coef"]), np.array(state["intercept"])
        self.n_iter_ = int(state["n_iter"])
