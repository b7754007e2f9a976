"""XGBoost histogram gradient boosting on tabular indicator rows (Chen & Guestrin, 2016).

Native API (xgboost.train, multi:softprob); early stopping watches only the purged inner
validation slice passed in. The booster is saved in XGBoost's own JSON format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.models.base import BaseModel
from hetstack.models.registry import register

_FILE = "xgb_model.json"  # model.json is the BaseModel header


@register(name="xgboost", family="boosting", input_kind="tabular")
class XGBoostModel(BaseModel):
    default_params = {
        "num_boost_round": 400,
        "early_stopping_rounds": 50,
        "eta": 0.05,
        "max_depth": 6,
        "min_child_weight": 5.0,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "lambda": 1.0,
        "max_bin": 256,
    }
    search_space = {
        "max_depth": {"type": "int", "low": 3, "high": 8},
        "eta": {"type": "float", "low": 0.02, "high": 0.2, "log": True},
        "min_child_weight": {"type": "float", "low": 1.0, "high": 50.0, "log": True},
        "colsample_bytree": {"type": "float", "low": 0.3, "high": 1.0},
        "lambda": {"type": "float", "low": 0.1, "high": 30.0, "log": True},
    }

    def _booster_params(self) -> dict:
        params = {k: v for k, v in self.params.items() if k not in ("num_boost_round", "early_stopping_rounds")}
        return {
            **params,
            "objective": "multi:softprob",
            "num_class": 3,
            "eval_metric": "mlogloss",
            "tree_method": "hist",
            "nthread": self.threads,
            "seed": self.seed,
            "verbosity": 0,
        }

    def _fit(self, X, y, X_val, y_val, sample_weight):
        import xgboost as xgb

        from hetstack.progress import xgboost_callback

        dtrain = xgb.QuantileDMatrix(np.asarray(X), label=y, weight=sample_weight, nthread=self.threads,
                                     max_bin=int(self.params["max_bin"]))
        evals, stopping = [], None
        if y_val is not None:
            evals = [(xgb.QuantileDMatrix(np.asarray(X_val), label=y_val, ref=dtrain, nthread=self.threads), "val")]
            stopping = self.params["early_stopping_rounds"]
        self.booster = xgb.train(self._booster_params(), dtrain, num_boost_round=int(self.params["num_boost_round"]),
                                 evals=evals, early_stopping_rounds=stopping, verbose_eval=False,
                                 callbacks=[xgboost_callback("xgboost", int(self.params["num_boost_round"]))])
        if stopping is None:  # no validation slice: keep every round
            self.booster.set_attr(best_iteration=str(self.booster.num_boosted_rounds() - 1))
        self.best_iteration_ = int(self.booster.attr("best_iteration"))
        return self.best_iteration_

    def _predict_proba(self, X):
        import xgboost as xgb

        dmat = xgb.DMatrix(np.asarray(X), nthread=self.threads)
        return self.booster.predict(dmat, iteration_range=(0, self.best_iteration_ + 1))

    def _save(self, path: Path) -> None:
        self.booster.save_model(str(path / _FILE))

    def _load(self, path: Path) -> None:
        import xgboost as xgb

        self.booster = xgb.Booster(params={"nthread": self.threads}, model_file=str(path / _FILE))
        self.booster.set_param({"nthread": self.threads})
        self.best_iteration_ = int(self.booster.attr("best_iteration"))
