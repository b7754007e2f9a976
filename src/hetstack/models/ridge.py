"""Ridge classifier on standardized indicator rows; probabilities by a temperature-scaled softmax.

The temperature is fitted on the purged inner validation slice (Guo et al., 2017), so the
probabilities are calibrated on data the coefficients did not see.
"""

from __future__ import annotations

from hetstack.models.base import StandardizedLinearModel, fit_temperature, softmax
from hetstack.models.registry import register


@register(name="ridge", family="classical", input_kind="tabular")
class RidgeModel(StandardizedLinearModel):
    default_params = {"alpha": 10.0}
    state_file = "ridge.json"

    def _fit_standardized(self, Z, y, sample_weight):
        from sklearn.linear_model import RidgeClassifier

        return RidgeClassifier(alpha=float(self.params["alpha"])).fit(Z, y, sample_weight=sample_weight)

    def _after_fit(self, estimator, X, y, X_val, y_val, sample_weight) -> None:
        calib_X, calib_y, calib_w = (X_val, y_val, None) if y_val is not None else (X, y, sample_weight)
        self.temperature_ = fit_temperature(self._decision(calib_X), calib_y, calib_w)

    def _predict_proba(self, X):
        return softmax(self._decision(X) / self.temperature_)

    def _extra_state(self) -> dict:
        return {"temperature": self.temperature_}

    def _set_extra_state(self, state: dict) -> None:
        self.temperature_ = float(state["temperature"])
