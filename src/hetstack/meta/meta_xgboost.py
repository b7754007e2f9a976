"""Gradient-boosted shallow trees (XGBoost, Chen & Guestrin 2016) on the OOF probabilities.

Native xgboost.train with multi:softprob, max_depth 3, early stopping on the validation rows when given.
Saved as XGBoost's JSON model plus the number of trees to use. Contributions: permutation importance
of each base's three columns (see PermutationImportanceMeta).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.meta.base import PermutationImportanceMeta
from hetstack.models.registry import register

_OWN_PARAMS = ("num_boost_round", "early_stopping_rounds", "importance_repeats")


@register(name="meta_xgboost", family="inference", input_kind="meta", aliases=("xgboost_meta",))
class XGBoostMeta(PermutationImportanceMeta):
    fits_on_holdout = True  # early stopping
    default_params = {
        "num_boost_round": 300,
        "early_stopping_rounds": 30,
        "eta": 0.05,
        "max_depth": 3,
        "min_child_weight": 1.0,
        "subsample": 0.8,
        "colsample_bytree": 1.0,
        "lambda": 1.0,
        "importance_repeats": 5,
    }

    def _booster_params(self) -> dict:
        params = {k: v for k, v in self.params.items() if k not in _OWN_PARAMS}
        return {**params, "objective": "multi:softprob", "num_class": 3, "eval_metric": "mlogloss",
                "tree_method": "hist", "nthread": self.threads, "seed": self.seed, "verbosity": 0}

    def _matrix(self, X, y=None, weight=None):
        import xgboost as xgb

        return xgb.DMatrix(np.asarray(X, dtype=np.float64), label=y, weight=weight, nthread=self.threads)

    def _fit_model(self, X, y, X_val, y_val, sample_weight):
        import xgboost as xgb

        train = self._matrix(X, y, sample_weight)
        kwargs = {}
        if y_val is not None and len(y_val):
            kwargs = {"evals": [(self._matrix(X_val, y_val), "val")],
                      "early_stopping_rounds": int(self.params["early_stopping_rounds"]), "verbose_eval": False}
        self.booster_ = xgb.train(self._booster_params(), train, num_boost_round=int(self.params["num_boost_round"]),
                                  **kwargs)
        self.n_trees_ = int(self.booster_.best_iteration) + 1 if kwargs else int(self.params["num_boost_round"])
        return self.n_trees_ - 1

    def _predict_proba(self, X):
        proba = self.booster_.predict(self._matrix(X), iteration_range=(0, self.n_trees_))
        return np.asarray(proba, dtype=np.float64).reshape(-1, 3)

    def _save(self, path: Path) -> None:
        self.booster_.save_model(str(path / "booster.json"))
        write_json(path / "xgboost_meta.json", {"n_trees": self.n_trees_})

    def _load(self, path: Path) -> None:
        import xgboost as xgb

        self.booster_ = xgb.Booster(model_file=str(path / "booster.json"))
        self.booster_.set_param({"nthread": self.threads})
        self.n_trees_ = int(read_json(path / "xgboost_meta.json")["n_trees"])
