"""LightGBM histogram gradient boosting on tabular indicator rows (Ke et al., 2017)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.models.base import BaseModel
from hetstack.models.registry import register


@register(name="lightgbm", family="boosting", input_kind="tabular")
class LightGBMModel(BaseModel):
    default_params = {
        "num_boost_round": 400,
        "early_stopping_rounds": 50,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
    }
    search_space = {
        "num_leaves": {"type": "int", "low": 7, "high": 63, "log": True},
        "learning_rate": {"type": "float", "low": 0.02, "high": 0.2, "log": True},
        "min_data_in_leaf": {"type": "int", "low": 20, "high": 400, "log": True},
        "feature_fraction": {"type": "float", "low": 0.3, "high": 1.0},
        "lambda_l2": {"type": "float", "low": 0.1, "high": 30.0, "log": True},
    }

    def _booster_params(self) -> dict:
        params = {k: v for k, v in self.params.items() if k not in ("num_boost_round", "early_stopping_rounds")}
        return {
            **params,
            "objective": "multiclass",
            "num_class": 3,
            "num_threads": self.threads,
            "seed": self.seed,
            "deterministic": True,  # same bytes for the same seed, whatever the thread count
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _fit(self, X, y, X_val, y_val, sample_weight):
        import lightgbm as lgb

        train = lgb.Dataset(self._dataset_input(X), label=y, weight=sample_weight, free_raw_data=True,
                            params=self._dataset_params(X))
        from hetstack.progress import lightgbm_callback

        valid_sets, callbacks = [], [lightgbm_callback("lightgbm", int(self.params["num_boost_round"]))]
        if y_val is not None:
            valid_sets = [lgb.Dataset(self._dataset_input(X_val, validation=True), label=y_val, reference=train,
                                      params=self._dataset_params(X))]
            callbacks.append(lgb.early_stopping(self.params["early_stopping_rounds"], verbose=False))
        self.booster = lgb.train(self._booster_params(), train, num_boost_round=self.params["num_boost_round"],
                                 valid_sets=valid_sets, callbacks=callbacks)
        return int(self.booster.best_iteration or self.booster.current_iteration())

    def _dataset_input(self, X, validation: bool = False):
        return np.asarray(X)

    def _dataset_params(self, X) -> dict | None:
        return None

    def _predict_proba(self, X):
        best = self.booster.best_iteration or None
        return self.booster.predict(np.asarray(X), num_iteration=best, num_threads=self.threads)

    def _save(self, path: Path) -> None:
        self.booster.save_model(str(path / "model.txt"), num_iteration=self.booster.best_iteration or None)

    def _load(self, path: Path) -> None:
        import lightgbm as lgb

        self.booster = lgb.Booster(model_file=str(path / "model.txt"))
        self.booster.best_iteration = 0  # the saved file already holds only the best iterations
