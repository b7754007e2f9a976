"""Regime-aware meta-learner: a logarithmic opinion pool whose base weights vary with the regime.

p(c | x, f) is proportional to exp(sum_b w_b(f) log p_b(c) + beta_c + gamma_c . f), with
w_b(f) = v_b + u_b . f: one weight per base (a confidence: how far to trust its whole probability
vector), linear in the sample's standardized regime features f (hetstack.regime), as in
feature-weighted linear stacking (Sill, Takacs, Mackey & Lin 2009) but on log probabilities.

Why this form: a base that is right in the volatile state and guessing in the calm one needs a
large weight there and a small one here, which is exactly w_b(f). It has n_bases x (1 + k) + 2 + 2k
parameters, so the few regime spells a train period holds can pin it down; a multinomial logistic
regression on [log p, log p x f] has 3 x 3 x n_bases x (1 + k) and was measured to overfit them
(docs/benchmarks.md). Shared weights across classes keep the pool a pool (Genest & Zidek 1986).
The regime terms u and gamma carry an L2 penalty `alpha`, so with nothing to gain they stay near 0
and the meta is the static pool. The objective is convex in all parameters; L-BFGS fits it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.models.base import weighted_standardizer
from hetstack.models.registry import register
from hetstack.regime import REGIME_FEATURES

PROB_FLOOR = 1e-6
TERCILE_FEATURE = REGIME_FEATURES.index("log_realized_vol")
TERCILES = ("calm", "middle", "volatile")


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


@register(name="meta_regime", family="inference", input_kind="meta", aliases=("regime_meta",))
class RegimeMeta(MetaLearner):
    reads_regime = True
    # Fitted unweighted, to the loss it is scored on: uniqueness weights are larger where labels are
    # short (the volatile state hits its barriers sooner), so they would tilt the pool to one regime.
    # Its class intercepts are then fitted to the rows' own class shares: no offset is needed.
    learns_class_prior = False
    default_params = {"alpha": 0.01, "max_iter": 1000}
    weights_method = ("share of |w_b| over bases, where w_b is the base's weight on its log probabilities at the "
                      "regime features' mean (the same for every class); per volatility tercile of the fit rows "
                      "in meta_learner_regime_weights")

    def n_inputs(self) -> int:
        return 3 * len(self.base_names) + len(REGIME_FEATURES)

    def _split(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(N, n_bases, 3) log probabilities and (N, k) raw regime features."""
        X = np.asarray(X, dtype=np.float64)
        n = 3 * len(self.base_names)
        log_p = np.log(np.clip(X[:, :n], PROB_FLOOR, None)).reshape(len(X), len(self.base_names), len(CLASSES))
        return log_p, X[:, n:]

    def _unpack(self, theta: np.ndarray):
        n_bases, k = len(self.base_names), len(REGIME_FEATURES)
        v = theta[:n_bases]
        u = theta[n_bases:n_bases * (1 + k)].reshape(n_bases, k)
        rest = theta[n_bases * (1 + k):]
        beta = np.concatenate([[0.0], rest[:2]])  # class 0's score is the reference
        gamma = np.vstack([np.zeros(k), rest[2:].reshape(2, k)])
        return v, u, beta, gamma

    def _scores(self, log_p, f, v, u, beta, gamma) -> tuple[np.ndarray, np.ndarray]:
        weights = v[None, :] + f @ u.T  # (N, n_bases)
        return np.einsum("nb,nbc->nc", weights, log_p) + beta + f @ gamma.T, weights

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from scipy.optimize import minimize

        log_p, raw = self._split(X)
        if not np.isfinite(raw).all():
            raise ValueError(f"{self.name}: regime features must be finite on every fit row")
        n, n_bases, k = len(y), len(self.base_names), len(REGIME_FEATURES)
        w = np.full(n, 1.0 / n)  # sample_weight is not used: see learns_class_prior
        self.mean_, self.scale_ = weighted_standardizer(raw, w)
        f = (raw - self.mean_) / self.scale_
        onehot = np.eye(len(CLASSES))[y]
        alpha = float(self.params["alpha"])

        def loss_and_grad(theta):
            v, u, beta, gamma = self._unpack(theta)
            scores, _ = self._scores(log_p, f, v, u, beta, gamma)
            log_q = _log_softmax(scores)
            loss = -float((w * (onehot * log_q).sum(axis=1)).sum()) + alpha * (float((u**2).sum()) + float((gamma**2).sum()))
            residual = (np.exp(log_q) - onehot) * w[:, None]  # d loss / d score
            d_weights = np.einsum("nc,nbc->nb", residual, log_p)
            grad_u = d_weights.T @ f + 2 * alpha * u
            grad_gamma = residual[:, 1:].T @ f + 2 * alpha * gamma[1:]
            return loss, np.concatenate([d_weights.sum(axis=0), grad_u.ravel(), residual.sum(axis=0)[1:],
                                         grad_gamma.ravel()])

        start = np.concatenate([np.full(n_bases, 1.0 / n_bases), np.zeros(n_bases * k + 2 + 2 * k)])
        result = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B",
                          options={"maxiter": int(self.params["max_iter"]), "gtol": 1e-9})
        self.theta_ = result.x
        vol = raw[:, TERCILE_FEATURE]
        self.tercile_edges_ = np.quantile(vol, [1 / 3, 2 / 3])
        tercile = np.searchsorted(self.tercile_edges_, vol, side="right")
        self.tercile_centroids_ = np.array([f[tercile == t].mean(axis=0) if (tercile == t).any() else np.zeros(k)
                                            for t in range(len(TERCILES))])
        return None

    def _predict_proba(self, X):
        log_p, raw = self._split(X)
        scores, _ = self._scores(log_p, (raw - self.mean_) / self.scale_, *self._unpack(self.theta_))
        return np.exp(_log_softmax(scores))

    def base_weights_at(self, f: np.ndarray) -> np.ndarray:
        """w_b at standardized regime features f, one per base."""
        v, u, _, _ = self._unpack(self.theta_)
        return v + u @ np.asarray(f, dtype=np.float64)

    def _shares(self, weights: np.ndarray) -> dict[str, list[float]]:
        size = np.abs(weights)
        shares = size / size.sum() if size.sum() > 0 else np.full(len(size), 1.0 / len(size))
        return {b: [float(s)] * len(CLASSES) for b, s in zip(self.base_names, shares)}

    def contributions(self) -> dict[str, list[float]]:
        return self._shares(self.base_weights_at(np.zeros(len(REGIME_FEATURES))))

    def regime_weights(self) -> dict:
        """Per volatility tercile of the fit rows: its range of log realized vol (None: open), each base's
        weight w_b at the tercile's mean regime features, and the weights' shares (as in contributions)."""
        edges = [None, *map(float, self.tercile_edges_), None]
        out = {}
        for t, name in enumerate(TERCILES):
            weights = self.base_weights_at(self.tercile_centroids_[t])
            out[name] = {"log_realized_vol_range": [edges[t], edges[t + 1]],
                         "weights": dict(zip(self.base_names, map(float, weights))),
                         "shares": self._shares(weights)}
        return out

    def _save(self, path: Path) -> None:
        write_json(path / "regime_pool.json", {
            "features": list(REGIME_FEATURES), "theta": self.theta_, "mean": self.mean_, "scale": self.scale_,
            "tercile_edges": self.tercile_edges_, "tercile_centroids": self.tercile_centroids_})

    def _load(self, path: Path) -> None:
        state = read_json(path / "regime_pool.json")
        if state["features"] != list(REGIME_FEATURES):
            raise ValueError(f"{path}: fitted on regime features {state['features']}, this hetstack has "
                             f"{list(REGIME_FEATURES)}; retrain the meta-learner")
        for key in ("theta", "mean", "scale", "tercile_edges", "tercile_centroids"):
            setattr(self, f"{key}_", np.array(state[key], dtype=np.float64))
