"""Ridge classifier on standardized indicator rows; probabilities by a temperature-scaled softmax.

The temperature is fitted on the purged inner validation slice (Guo et al., 2017), so the
probabilities are calibrated on data the coefficients did not see.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.models.base import BaseModel, fit_temperature, full_class_rows, softmax, weighted_standardizer
from hetstack.models.registry import register


@register(name="ridge", family="classical", input_kind="tabular")
class RidgeModel(BaseModel):
    default_params = {"alpha": 10.0}

    def _decision(self, X) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return Z @ self.coef_.T + self.intercept_

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from sklearn.linear_model import RidgeClassifier
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = weighted_standardizer(X, sample_weight)
        with threadpool_limits(limits=self.threads):
            clf = RidgeClassifier(alpha=float(self.params["alpha"]))
            clf.fit((X - self.mean_) / self.scale_, y, sample_weight=sample_weight)
        self.coef_, self.intercept_ = full_class_rows(clf.classes_, clf.coef_, clf.intercept_, X.shape[1])
        calib_X, calib_y, calib_w = (X_val, y_val, None) if y_val is not None else (X, y, sample_weight)
        self.temperature_ = 1.0
        self.temperature_ = fit_temperature(self._decision(calib_X), calib_y, calib_w)
        return None

    def _predict_proba(self, X):
        return softmax(self._decision(X) / self.temperature_)

    def _save(self, path: Path) -> None:
        write_json(path / "ridge.json", {"mean": self.mean_, "scale": self.scale_, "coef": self.coef_,
                                          "intercept": self.intercept_, "temperature": self.temperature_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "ridge.json")
        self.mean_, self.scale_ = np.array(state["mean"]), np.array(state["scale"])
        self.coef_, self.intercept_ = np.array(state["coef"]), np.array(state["intercept"])
        self.temperature_ = float(state["temperature"])
