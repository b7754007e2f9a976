"""The contract every model follows: fit -> TrainingMetrics, predict -> PredictionOutput."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hetstack import CLASSES

CLASS_TO_INDEX = {c: i for i, c in enumerate(CLASSES)}


@dataclass
class TrainingMetrics:
    train_accuracy: float
    train_log_loss: float
    val_accuracy: float | None = None
    val_log_loss: float | None = None
    best_iteration: int | None = None
    n_train: int = 0
    n_val: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PredictionOutput:
    predictions: np.ndarray  # (N,) in {-1, 0, 1}
    probabilities: np.ndarray  # (N, 3), columns ordered -1, 0, +1
    confidence: np.ndarray  # (N,) probability of the predicted class

    @classmethod
    def from_probabilities(cls, probabilities: np.ndarray) -> "PredictionOutput":
        probabilities = np.asarray(probabilities, dtype=np.float64)
        idx = probabilities.argmax(axis=1)
        return cls(np.asarray(CLASSES, dtype=np.int8)[idx], probabilities, probabilities.max(axis=1))


def input_shape(X) -> tuple[int, ...]:
    """A batch's shape without its sample axis; lazy window sets carry a .shape too."""
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    return tuple(int(d) for d in shape[1:])


def labels_to_index(y: np.ndarray) -> np.ndarray:
    """Map labels -1/0/+1 to class indices 0/1/2."""
    y = np.asarray(y)
    if not np.isin(y, CLASSES).all():
        raise ValueError(f"labels must be in {CLASSES}")
    return (y.astype(np.int64) + 1)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y_index: np.ndarray, sample_weight=None) -> float:
    """Temperature T minimizing log-loss of softmax(scores / T): turns scores into calibrated-ish probabilities."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        p = softmax(scores / np.exp(log_t))
        ll = -np.log(np.clip(p[np.arange(len(y_index)), y_index], 1e-12, None))
        return float(np.average(ll, weights=sample_weight))

    res = minimize_scalar(loss, bounds=(-6.0, 6.0), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def fit_class_offset(proba: np.ndarray, y_idx: np.ndarray) -> np.ndarray:
    """Per-class log offset b (b_0 = 0) with which softmax(log proba + b) has the lowest unweighted
    log loss on these rows; at that optimum the mean prediction equals the class frequencies.

    A model fitted under sample weights or class balancing learns other class shares than new rows
    follow. Bayes' rule would shift by log p(c) / p_w(c), but uniqueness weights depend on the
    inputs too (overlapping labels cluster in time), so the offset is fitted, not derived."""
    from scipy.optimize import minimize

    y_idx = np.asarray(y_idx, dtype=np.int64)
    log_p = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, None))
    free = [c for c in (0, 2) if (y_idx == c).any()]  # an absent class keeps offset 0
    onehot = np.eye(len(CLASSES))[y_idx]

    def loss_and_grad(theta):
        b = np.zeros(len(CLASSES))
        b[free] = theta
        z = log_p + b
        z = z - z.max(axis=1, keepdims=True)
        log_q = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        grad = (np.exp(log_q) - onehot).mean(axis=0)
        return -float(log_q[np.arange(len(y_idx)), y_idx].mean()), grad[free]

    offset = np.zeros(len(CLASSES))
    if free and (y_idx == 1).any():
        res = minimize(loss_and_grad, np.zeros(len(free)), jac=True, method="L-BFGS-B",
                       bounds=[(-10.0, 10.0)] * len(free), options={"maxiter": 200, "gtol": 1e-10})
        offset[free] = res.x
    return offset


def shift_probabilities(proba: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """softmax(log proba + offset), rows renormalized."""
    shifted = proba * np.exp(offset)
    return shifted / shifted.sum(axis=1, keepdims=True)


def expand_probabilities(proba: np.ndarray, present_classes) -> np.ndarray:
    """Put the columns of a model that saw only some classes back into the full -1/0/+1 layout."""
    full = np.zeros((proba.shape[0], len(CLASSES)))
    for col, cls in enumerate(present_classes):
        full[:, CLASS_TO_INDEX[int(cls)]] = proba[:, col]
    return full


def weighted_standardizer(X: np.ndarray, sample_weight=None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (mean, scale) under the sample weights; constant columns get scale 1."""
    mean = np.average(X, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sample_weight))
    return mean, np.where(std > 1e-12, std, 1.0)


def full_class_rows(classes_present, coef, intercept, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """sklearn drops classes absent from y; rebuild (3, D) linear rows so absent classes never win."""
    full_coef = np.zeros((len(CLASSES), n_features))
    full_intercept = np.full(len(CLASSES), -1e3)
    coef, intercept = np.atleast_2d(coef), np.atleast_1d(intercept)
    if coef.shape[0] == 1 and len(classes_present) == 2:
        # binary: one score z for the second class; softmax([0, z]) = sigmoid(z)
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    for row, cls in enumerate(classes_present):
        full_coef[int(cls)] = coef[row]
        full_intercept[int(cls)] = intercept[row]
    return full_coef, full_intercept


class BaseModel:
    """Base class: subclasses set `name/family/input_kind` via @register and implement the hooks."""

    name: str = "base"
    family: str = ""
    input_kind: str = ""
    default_params: dict[str, Any] = {}
    # False where fitting learns no class frequencies (a plain vote, a selection of bases): then no
    # class offset is fitted (fit_class_offset) and predict() leaves the probabilities as they are.
    learns_class_prior = True
    # Whether a fit job gets threads.fit threads: boosters, networks and wide models; a linear model on
    # 180 columns gains nothing from a second thread.
    threaded_fit: bool | None = None  # None: every family but classical
    # Ranges `tuning:` searches when config names none (hetstack.tuning.check_space's format).
    search_space: dict[str, dict] = {}

    def __init__(self, params: dict[str, Any] | None = None, *, seed: int = 0, threads: int = 1):
        self.params = {**self.default_params, **(params or {})}
        self.seed = int(seed)
        self.threads = max(1, int(threads))
        self.is_fitted = False
        self.prior_shift_ = np.zeros(len(CLASSES))

    # --- the public contract ---
    def fit(self, X_train, y_train, X_val=None, y_val=None, sample_weights=None, config=None) -> TrainingMetrics:
        if config:
            self.params.update(config)
        y_train_idx = labels_to_index(y_train)
        y_val_idx = labels_to_index(y_val) if y_val is not None and len(y_val) else None
        self.input_shape_ = input_shape(X_train)
        self.prior_shift_ = np.zeros(len(CLASSES))
        best_iteration = self._fit(X_train, y_train_idx, X_val, y_val_idx, sample_weights)
        self.is_fitted = True
        proba = self.predict(X_train).probabilities
        if self.learns_class_prior and (self._reweights_classes() or (
                sample_weights is not None and np.ptp(np.asarray(sample_weights, dtype=np.float64)) > 0)):
            self.prior_shift_ = fit_class_offset(proba, y_train_idx)
            proba = shift_probabilities(proba, self.prior_shift_)
        train = self._metrics(proba, y_train_idx)
        val = self._score(X_val, y_val_idx) if y_val_idx is not None else (None, None)
        self.training_metrics_ = TrainingMetrics(
            train_accuracy=train[0], train_log_loss=train[1], val_accuracy=val[0], val_log_loss=val[1],
            best_iteration=best_iteration, n_train=len(y_train_idx),
            n_val=0 if y_val_idx is None else len(y_val_idx),
        )
        return self.training_metrics_

    def predict(self, X) -> PredictionOutput:
        if not self.is_fitted:
            raise RuntimeError(f"{self.name}: predict called before fit/load")
        expected = getattr(self, "input_shape_", None)
        if expected is not None and input_shape(X) != tuple(expected):
            from hetstack.errors import DataError

            raise DataError(f"model {self.name}", f"trained on inputs of shape (N, {', '.join(map(str, expected))}), "
                            f"given (N, {', '.join(map(str, input_shape(X)))})",
                            "predict with the run's own run_settings.json (rebuild it with snakemake), or retrain")
        proba = np.clip(np.asarray(self._predict_proba(X), dtype=np.float64), 0.0, None)
        proba = shift_probabilities(proba / proba.sum(axis=1, keepdims=True), self.prior_shift_)
        return PredictionOutput.from_probabilities(proba)

    def save(self, path: str | Path) -> None:
        """Save into directory `path`: model.json (name, params) + the model's native file(s)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._save(path)
        header = {"name": self.name, "family": self.family, "input_kind": self.input_kind,
                  "params": self.params, "seed": self.seed, "input_shape": list(self.input_shape_),
                  "prior_shift": list(map(float, self.prior_shift_))}
        from hetstack.io import write_json

        write_json(path / "model.json", header)

    @classmethod
    def load(cls, path: str | Path, threads: int = 1) -> "BaseModel":
        path = Path(path)
        header = json.loads((path / "model.json").read_text())
        if header["name"] != cls.name:
            raise ValueError(f"{path}: holds model {header['name']!r}, not {cls.name!r}")
        model = cls._unfitted(path, header, threads)
        model.input_shape_ = tuple(header["input_shape"])
        model.prior_shift_ = np.asarray(header["prior_shift"], dtype=np.float64)
        model._load(path)
        model.is_fitted = True
        return model

    @classmethod
    def _unfitted(cls, path: Path, header: dict, threads: int) -> "BaseModel":
        """The model load() fills in with _load: constructed as it was before fitting."""
        return cls(header["params"], seed=header["seed"], threads=threads)

    # --- hooks ---
    def _fit(self, X, y, X_val, y_val, sample_weight) -> int | None:
        raise NotImplementedError

    def _predict_proba(self, X) -> np.ndarray:
        raise NotImplementedError

    def _save(self, path: Path) -> None:
        raise NotImplementedError

    def _load(self, path: Path) -> None:
        raise NotImplementedError

    def _reweights_classes(self) -> bool:
        """Whether fitting reweights the classes itself (balanced losses, class weights)."""
        p = self.params
        return bool(p.get("balance_classes")) or p.get("class_weight") is not None \
            or p.get("auto_class_weights") is not None

    def _score(self, X, y_idx) -> tuple[float, float]:
        return self._metrics(self.predict(X).probabilities, y_idx)

    @staticmethod
    def _metrics(proba, y_idx) -> tuple[float, float]:
        from sklearn.metrics import accuracy_score, log_loss

        return (float(accuracy_score(y_idx, proba.argmax(axis=1))),
                float(log_loss(y_idx, proba, labels=[0, 1, 2])))


class StandardizedLinearModel(BaseModel):
    """Linear scores on weighted-standardized columns, computed in numpy so that a fitted and a
    loaded model run the same code. Subclasses fit the sklearn estimator and add their own state."""

    state_file = ""  # JSON holding mean, scale, coef, intercept and the subclass's extra state

    def _fit_standardized(self, Z: np.ndarray, y: np.ndarray, sample_weight):
        """Fit and return an sklearn linear classifier on the standardized rows Z."""
        raise NotImplementedError

    def _after_fit(self, estimator, X, y, X_val, y_val, sample_weight) -> None:
        """Extra state after coef_/intercept_ are set (e.g. a calibration temperature)."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _decision(self, X) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return Z @ self.coef_.T + self.intercept_

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = weighted_standardizer(X, sample_weight)
        with threadpool_limits(limits=self.threads):
            estimator = self._fit_standardized((X - self.mean_) / self.scale_, y, sample_weight)
        self.coef_, self.intercept_ = full_class_rows(estimator.classes_, estimator.coef_, estimator.intercept_,
                                                      X.shape[1])
        self._after_fit(estimator, X, y, X_val, y_val, sample_weight)
        return None

    def _save(self, path: Path) -> None:
        from hetstack.io import write_json

        write_json(path / self.state_file, {"mean": self.mean_, "scale": self.scale_, "coef": self.coef_,
                                            "intercept": self.intercept_, **self._extra_state()})

    def _load(self, path: Path) -> None:
        from hetstack.io import read_json

        state = read_json(path / self.state_file)
        self.mean_, self.scale_ = np.array(state["mean"]), np.array(state["scale"])
        self.coef_, self.intercept_ = np.array(state["coef"]), np.array(state["intercept"])
        self._set_extra_state(state)
