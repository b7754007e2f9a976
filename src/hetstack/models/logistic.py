"""Multinomial logistic regression on standardized indicator rows.

sklearn's lbfgs solver fits the (3, D) weights; prediction is the softmax of the linear scores,
computed in numpy from the exported mean/scale/coef/intercept, so a fitted and a loaded model
run the same code and give bit-identical probabilities (equal to sklearn's predict_proba up to
float rounding). The log-loss objective already yields probabilities; no extra calibration.
"""

from __future__ import annotations

import numpy as np

from hetstack.models.base import StandardizedLinearModel, softmax
from hetstack.models.registry import register


@register(name="logistic", family="classical", input_kind="tabular")
class LogisticModel(StandardizedLinearModel):
    default_params = {"C": 1.0, "max_iter": 1000, "tol": 1e-4, "class_weight": None}
    search_space = {"C": {"type": "float", "low": 1e-4, "high": 10.0, "log": True}}
    state_file = "logistic.json"

    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=float(self.params["C"]), solver="lbfgs", max_iter=int(self.params["max_iter"]),
                                  tol=float(self.params["tol"]), class_weight=self.params["class_weight"],
                                  random_state=self.seed)

    def _fit_standardized(self, Z, y, sample_weight):
        return self._classifier().fit(Z, y, sample_weight=sample_weight)

    def _after_fit(self, estimator, X, y, X_val, y_val, sample_weight) -> None:
        self.n_iter_ = int(np.max(estimator.n_iter_))

    def _predict_proba(self, X):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.threads):
            return softmax(self._decision(X))

    def _extra_state(self) -> dict:
        return {"n_iter": self.n_iter_}

    def _set_extra_state(self, state: dict) -> None:
        self.n_iter_ = int(state["n_iter"])
