"""Support-vector classifier that scales to 1e5+ rows, with calibrated probabilities.

Formulation
-----------
* Features are standardized (weighted mean/std, as in models/ridge.py).
* kernel="linear": a linear SVM, L2-regularized squared hinge, one-vs-rest (liblinear through
  sklearn's LinearSVC, solved in the primal since rows >> features). Cost is linear in rows.
* kernel="rbf_approx": the same linear SVM on a Nystroem approximation of the RBF kernel
  (Williams & Seeger, 2001): `n_components` training rows (seeded) are the landmarks and
  phi(x) = k(x, landmarks) @ K_landmarks^{-1/2}, so phi(x).phi(x') ~ exp(-gamma |x - x'|^2).
  Memory and time stay O(n * n_components).
  An exact kernel SVM is not offered: it needs the n x n kernel matrix (O(n^2) memory, O(n^2)
  to O(n^3) time), which is out of reach at 1e5+ rows.
* Probabilities: SVM decision scores are margins, not probabilities, so a multinomial logistic
  regression on the decision scores (a multi-class Platt scaling, Platt 1999) is fitted on the
  purged inner validation slice (X_val, y_val) -- data the SVM weights did not see. Without a
  validation slice it falls back to the training rows, recorded as `calibrated_on = "train"`
  (such probabilities are over-confident).

Everything (scaler, landmarks and normalization, SVM weights, calibration) is exported to
JSON/.npy and prediction runs in numpy, so a fitted and a loaded model give bit-identical
probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import load_npy, read_json, write_json, write_npy
from hetstack.models.base import BaseModel, full_class_rows, softmax, weighted_standardizer
from hetstack.models.registry import register

KERNELS = ("linear", "rbf_approx")
_CHUNK = 65536  # rows per block when mapping through the kernel approximation


@register(name="svm", family="classical", input_kind="tabular")
class SVMModel(BaseModel):
    default_params = {
        "kernel": "linear",
        "C": 0.1,
        "n_components": 200,  # rbf_approx landmarks
        "gamma": None,  # rbf_approx; None -> 1 / n_features (standardized inputs)
        "max_iter": 2000,
        "tol": 1e-4,
        "class_weight": None,
        "calibration_C": 1.0,  # inverse L2 strength of the multinomial calibration
    }

    def _check_kernel(self) -> str:
        kernel = self.params["kernel"]
        if kernel not in KERNELS:
            raise ValueError(f"svm: kernel must be one of {KERNELS}, got {kernel!r}")
        return kernel

    def _classifier(self):
        from sklearn.svm import LinearSVC

        return LinearSVC(C=float(self.params["C"]), loss="squared_hinge", dual=False,
                         max_iter=int(self.params["max_iter"]), tol=float(self.params["tol"]),
                         class_weight=self.params["class_weight"], random_state=self.seed)

    def _calibrator(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=float(self.params["calibration_C"]), solver="lbfgs", max_iter=1000)

    # --- numpy feature map and scores (shared by fitted and loaded models) ---
    def _features(self, X) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        if self.params["kernel"] == "linear":
            return Z
        sq_landmarks = np.einsum("ij,ij->i", self.components_, self.components_)
        out = np.empty((len(Z), self.normalization_.shape[0]))
        for start in range(0, len(Z), _CHUNK):
            block = Z[start:start + _CHUNK]
            sq_dist = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * (block @ self.components_.T)
            sq_dist += sq_landmarks[None, :]
            np.maximum(sq_dist, 0.0, out=sq_dist)
            out[start:start + _CHUNK] = np.exp(-self.gamma_ * sq_dist) @ self.normalization_.T
        return out

    def _decision(self, X) -> np.ndarray:
        """Raw SVM margins, one column per trained one-vs-rest problem (1 when binary)."""
        return self._features(X) @ self.coef_.T + self.intercept_

    def _calibrated(self, scores: np.ndarray) -> np.ndarray:
        return softmax(scores @ self.calib_coef_.T + self.calib_intercept_)

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        kernel = self._check_kernel()
        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = weighted_standardizer(X, sample_weight)
        with threadpool_limits(limits=self.threads):
            if kernel == "rbf_approx":
                from sklearn.kernel_approximation import Nystroem

                gamma = self.params["gamma"]
                self.gamma_ = float(gamma) if gamma is not None else 1.0 / X.shape[1]
                nystroem = Nystroem(kernel="rbf", gamma=self.gamma_, random_state=self.seed,
                                    n_components=min(int(self.params["n_components"]), len(X)))
                nystroem.fit((X - self.mean_) / self.scale_)
                self.components_ = np.ascontiguousarray(nystroem.components_, dtype=np.float64)
                self.normalization_ = np.ascontiguousarray(nystroem.normalization_, dtype=np.float64)
            else:
                self.gamma_ = None
            features = self._features(X)
            del X
            svm = self._classifier().fit(features, y, sample_weight=sample_weight)
            self.coef_ = np.atleast_2d(svm.coef_).astype(np.float64)
            self.intercept_ = np.atleast_1d(svm.intercept_).astype(np.float64)
            self.n_iter_ = int(svm.n_iter_)
            if y_val is not None and len(np.unique(y_val)) >= 2:
                self.calibrated_on_ = "val"
                scores, calib_y, calib_w = self._decision(X_val), y_val, None
            else:  # no usable validation slice: calibrate on train (over-confident)
                self.calibrated_on_ = "train"
                scores, calib_y, calib_w = features @ self.coef_.T + self.intercept_, y, sample_weight
            del features
            calibrator = self._calibrator().fit(scores, calib_y, sample_weight=calib_w)
        self.calib_coef_, self.calib_intercept_ = full_class_rows(
            calibrator.classes_, calibrator.coef_, calibrator.intercept_, self.coef_.shape[0])
        return None

    def _predict_proba(self, X):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.threads):
            return self._calibrated(self._decision(X))

    def _save(self, path: Path) -> None:
        state = {"kernel": self.params["kernel"], "mean": self.mean_, "scale": self.scale_, "gamma": self.gamma_,
                 "coef": self.coef_, "intercept": self.intercept_, "n_iter": self.n_iter_,
                 "calib_coef": self.calib_coef_, "calib_intercept": self.calib_intercept_,
                 "calibrated_on": self.calibrated_on_}
        write_json(path / "svm.json", state)
        if self.params["kernel"] == "rbf_approx":
            write_npy(path / "svm_components.npy", self.components_)
            write_npy(path / "svm_normalization.npy", self.normalization_)

    def _load(self, path: Path) -> None:
        state = read_json(path / "svm.json")
        if state["kernel"] != self.params["kernel"]:
            raise ValueError(f"{path}: svm.json kernel {state['kernel']!r} != params {self.params['kernel']!r}")
        self.mean_, self.scale_ = np.array(state["mean"]), np.array(state["scale"])
        self.coef_, self.intercept_ = np.array(state["coef"], ndmin=2), np.array(state["intercept"], ndmin=1)
        self.calib_coef_, self.calib_intercept_ = np.array(state["calib_coef"]), np.array(state["calib_intercept"])
        self.gamma_ = state["gamma"]
        self.n_iter_, self.calibrated_on_ = int(state["n_iter"]), state["calibrated_on"]
        if state["kernel"] == "rbf_approx":
            self.components_ = load_npy(path / "svm_components.npy", mmap=False)
            self.normalization_ = load_npy(path / "svm_normalization.npy", mmap=False)
