"""CatBoost gradient-boosted trees on tabular indicator rows (Prokhorenkova et al., 2018)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from hetstack.models.base import BaseModel
from hetstack.models.registry import register


@register(name="catboost", family="boosting", input_kind="tabular")
class CatBoostModel(BaseModel):
    default_params = {
        "iterations": 400,
        "depth": 6,
        "learning_rate": 0.05,
        "l2_leaf_reg": 3.0,
        "early_stopping_rounds": 50,
        "auto_class_weights": None,
    }
    search_space = {
        "depth": {"type": "int", "low": 4, "high": 8},
        "learning_rate": {"type": "float", "low": 0.02, "high": 0.2, "log": True},
        "l2_leaf_reg": {"type": "float", "low": 1.0, "high": 30.0, "log": True},
    }

    def _classifier(self):
        from catboost import CatBoostClassifier

        params = {k: v for k, v in self.params.items() if k != "early_stopping_rounds" and v is not None}
        return CatBoostClassifier(
            loss_function="MultiClass",
            class_names=[0, 1, 2],  # keeps three probability columns even if a class is absent
            random_seed=self.seed,
            thread_count=self.threads,
            allow_writing_files=False,
            verbose=False,
            **params,
        )

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from hetstack.progress import CatBoostProgress

        self.model = self._classifier()
        eval_set = (np.asarray(X_val), y_val) if y_val is not None else None
        self.model.fit(
            np.asarray(X), y, sample_weight=sample_weight, eval_set=eval_set,
            early_stopping_rounds=self.params["early_stopping_rounds"] if eval_set else None,
            use_best_model=eval_set is not None,
            callbacks=[CatBoostProgress("catboost", self.model.get_params()["iterations"])],
        )
        return int(self.model.get_best_iteration() or self.model.tree_count_ - 1)

    def _predict_proba(self, X):
        return self.model.predict_proba(np.asarray(X), thread_count=self.threads)

    def _save(self, path: Path) -> None:
        # CatBoost stamps a random model_guid and the wall-clock finish time into the file; both are
        # made functions of the model itself so that the same config and seed give the same bytes.
        target = path / "model.cbm"
        metadata = self.model.get_metadata()
        metadata["train_finish_time"] = ""
        metadata["model_guid"] = ""
        self.model.save_model(str(target), format="cbm")
        digest = hashlib.sha256(target.read_bytes()).hexdigest()[:32]
        metadata["model_guid"] = "-".join(digest[i:i + 8] for i in range(0, 32, 8))
        self.model.save_model(str(target), format="cbm")

    def _load(self, path: Path) -> None:
        from catboost import CatBoostClassifier

        self.model = CatBoostClassifier()
        self.model.load_model(str(path / "model.cbm"), format="cbm")
