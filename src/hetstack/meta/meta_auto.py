"""Safe stacking: the candidate meta-learner (or the best single base alone) that cross-validation
over the OOF rows picks, in the spirit of the Super Learner's discrete selector (van der Laan,
Polley & Hubbard 2007), which does asymptotically as well as the best candidate.

The choice is made by hetstack.stages.meta (choose_candidate): every candidate is scored by purged
K-fold over the meta's own fit rows, the OOF rows only, so no validation or test row takes part. A
one-standard-error rule guards it against selection bias: the first (simplest) candidate in the
list whose cross-validated log loss is within one paired block SE of the best one's is chosen. This
class holds the chosen model and the record of the choice; it predicts with the chosen model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.models.registry import REGISTRY, register
from hetstack.regime import REGIME_FEATURES

CHOSEN_DIR = "chosen"


@register(name="meta_auto", family="inference", input_kind="meta", aliases=("auto",))
class AutoMeta(MetaLearner):
    reads_regime = True  # handed on to a chosen candidate that reads them
    learns_class_prior = False  # the chosen model has its own
    # simplest first: the one-SE rule walks this order
    # margin_se: how many paired SEs a later candidate must win by (1: the one-SE rule)
    default_params = {"candidates": ["meta_best_base", "meta_ridge", "meta_logistic", "meta_regime"], "n_folds": 5,
                      "margin_se": 1.0}

    def n_inputs(self) -> int:
        return 3 * len(self.base_names) + len(REGIME_FEATURES)

    @classmethod
    def wrap(cls, chosen: MetaLearner, choice: dict, params: dict, seed: int = 0) -> "AutoMeta":
        """The fitted meta_auto that predicts with `chosen`, picked as `choice` records."""
        model = cls(params, seed=seed, base_names=chosen.base_names)
        model.chosen_, model.choice_ = chosen, dict(choice)
        model.input_shape_ = (model.n_inputs(),)
        model.is_fitted = True
        return model

    @property
    def weights_method(self) -> str:
        chosen = getattr(self, "chosen_", None)
        return f"those of the chosen candidate, {chosen.name}: {chosen.weights_method}" if chosen else ""

    def _fit(self, X, y, X_val, y_val, sample_weight):
        raise TypeError("meta_auto chooses among its candidates by purged K-fold over the samples' label times: "
                        "fit it with hetstack.stages.meta.fit_meta, or wrap a fitted candidate with AutoMeta.wrap")

    def _chosen_input(self, X):
        X = np.asarray(X, dtype=np.float64)
        return X if self.chosen_.reads_regime else X[:, :3 * len(self.base_names)]

    def _predict_proba(self, X):
        return self.chosen_.predict(self._chosen_input(X)).probabilities

    def contributions(self) -> dict[str, list[float]]:
        return self.chosen_.contributions()

    def coefficients(self):
        return self.chosen_.coefficients() if hasattr(self.chosen_, "coefficients") else None

    def regime_weights(self):
        return self.chosen_.regime_weights() if hasattr(self.chosen_, "regime_weights") else None

    def _save(self, path: Path) -> None:
        self.chosen_.save(path / CHOSEN_DIR)
        write_json(path / "choice.json", self.choice_)

    def _load(self, path: Path) -> None:
        name = read_json(path / CHOSEN_DIR / "model.json")["name"]
        if name not in REGISTRY or name == self.name:
            raise ValueError(f"{path / CHOSEN_DIR}: holds {name!r}, not a meta_auto candidate")
        self.chosen_ = REGISTRY[name].cls.load(path / CHOSEN_DIR, threads=self.threads)
        self.choice_ = read_json(path / "choice.json")
