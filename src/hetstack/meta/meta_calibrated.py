"""Soft voting followed by a multinomial calibration fitted on the OOF rows the meta is trained on.

Calibration (default "bias_temperature"): bias-corrected temperature scaling (BCTS, Alexandari, Kundaje &
Shrikumar 2020) of the averaged probabilities q = mean_b p_b:

    p(c) = softmax_c( log q(c) / T + b_c ),   b_0 = 0 (the neutral class is the reference)

T > 0 and the biases b_-1, b_+1 minimize the sample-weighted log-loss on the training rows (L-BFGS-B with
an analytic gradient, deterministic). Temperature rescales how confident the vote is; the per-class biases
correct the vote's class prior (e.g. a vote that under-predicts 0). With 3 parameters it cannot overfit the
OOF matrix the way a per-class isotonic map can, and it keeps the vote's ranking within each class.
"temperature" fits T alone; "none" returns the plain vote. The validation rows are not used to fit.
Contributions: the uniform vote weights (1/n_bases per base and class).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.meta.meta_voting import soft_vote
from hetstack.models.base import softmax
from hetstack.models.registry import register

_EPS = 1e-12
_MODES = ("bias_temperature", "temperature", "none")


def fit_bias_temperature(log_q: np.ndarray, y: np.ndarray, sample_weight=None, *,
                         with_bias: bool = True) -> tuple[float, np.ndarray]:
    """(T, b) minimizing the weighted log-loss of softmax(log_q / T + b), with b[1] fixed at 0."""
    from scipy.optimize import minimize

    n = len(y)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.sum()
    onehot = np.zeros((n, len(CLASSES)))
    onehot[np.arange(n), y] = 1.0

    def unpack(theta):
        bias = np.array([theta[1], 0.0, theta[2]]) if with_bias else np.zeros(len(CLASSES))
        return np.exp(theta[0]), bias

    def loss_and_grad(theta):
        t, bias = unpack(theta)
        z = log_q / t + bias
        log_p = z - z.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        loss = -float(w @ log_p[np.arange(n), y])
        g = (np.exp(log_p) - onehot) * w[:, None]  # d loss / d z
        grad_log_t = float(np.sum(g * (-log_q / t)))
        grad_bias = g.sum(axis=0)
        return loss, np.array([grad_log_t, grad_bias[0], grad_bias[2]])

    bounds = [(-6.0, 6.0), (-20.0, 20.0), (-20.0, 20.0)]
    res = minimize(loss_and_grad, np.zeros(3), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-9})
    t, bias = unpack(res.x)
    return float(t), bias


@register(name="meta_calibrated", family="inference", input_kind="meta", aliases=("calibrated_meta",))
class CalibratedMeta(MetaLearner):
    default_params = {"calibration": "bias_temperature"}
    weights_method = ("uniform soft vote (1/n_bases per base and class), followed by a multinomial calibration "
                      "(temperature + per-class bias) fitted on the meta's training rows")

    def _log_vote(self, X) -> np.ndarray:
        return np.log(np.clip(soft_vote(X, len(self.base_names)), _EPS, None))

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        mode = self.params["calibration"]
        if mode not in _MODES:
            raise ValueError(f"{self.name}: calibration {mode!r} is not one of {_MODES}")
        self.temperature_, self.bias_ = 1.0, np.zeros(len(CLASSES))
        if mode != "none":
            with threadpool_limits(limits=self.threads):
                self.temperature_, self.bias_ = fit_bias_temperature(
                    self._log_vote(X), y, sample_weight, with_bias=mode == "bias_temperature")
        return None

    def _predict_proba(self, X):
        return softmax(self._log_vote(X) / self.temperature_ + self.bias_)

    def contributions(self) -> dict[str, list[float]]:
        share = 1.0 / len(self.base_names)
        return {b: [share] * len(CLASSES) for b in self.base_names}

    def calibration(self) -> dict:
        return {"temperature": self.temperature_, "bias": self.bias_.tolist()}

    def _save(self, path: Path) -> None:
        write_json(path / "calibration.json", {"temperature": self.temperature_, "bias": self.bias_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "calibration.json")
        self.temperature_, self.bias_ = float(state["temperature"]), np.array(state["bias"], dtype=np.float64)
