"""Safe stacking: the candidate meta-learner (or the best single base alone) that cross-validation
over the OOF rows picks, in the spirit of the Super Learner's discrete selector (van der Laan,
Polley & Hubbard 2007), which does asymptotically as well as the best candidate.

The choice is made by hetstack.stages.meta (choose_candidate): every candidate is scored by purged
K-fold over the meta's own fit rows, the OOF rows only, so no validation or test row takes part. A
one-standard-error rule guards it against selection bias: the first (simplest) candidate in the
list whose cross-validated log loss is within one paired SE (from the per-fold means) of the best
one's is chosen. This class holds the chosen model and the record of the choice; it predicts with the
chosen model, or with a convex blend of it and a partner (meta_shrink).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.meta.base import MetaLearner
from hetstack.models.registry import REGISTRY, register
from hetstack.regime import REGIME_FEATURES

CHOSEN_DIR = "chosen"
PARTNER_DIR = "partner"  # meta_shrink: the other half of the blend


@register(name="meta_auto", family="inference", input_kind="meta", aliases=("auto",))
class AutoMeta(MetaLearner):
    reads_regime = True  # handed on to a chosen candidate that reads them
    learns_class_prior = False  # the chosen model has its own
    # simplest first: the one-SE rule walks this order
    # margin_se: how many paired SEs a later candidate must win by (1: the one-SE rule)
    # shrink: blend the lowest-CV stacker with the first candidate instead of choosing (meta_shrink)
    default_params = {"candidates": ["meta_best_base", "meta_ridge", "meta_logistic", "meta_regime"], "n_folds": 5,
                      "margin_se": 1.0, "shrink": False}
    partner_, partner_weight_ = None, 0.0

    @staticmethod
    def is_auto(name: str) -> bool:
        """Whether the registered meta-learner `name` chooses among candidates (fit with fit_auto)."""
        return issubclass(REGISTRY[name].cls, AutoMeta) if name in REGISTRY else False

    def n_inputs(self) -> int:
        return 3 * len(self.base_names) + len(REGIME_FEATURES)

    @classmethod
    def wrap(cls, chosen: MetaLearner, choice: dict, params: dict, seed: int = 0,
             partner: tuple[MetaLearner, float] | None = None) -> "AutoMeta":
        """The fitted meta_auto that predicts with `chosen`, picked as `choice` records; with a
        `partner` (model, weight w), with (1 - w) * chosen + w * partner."""
        names = list(chosen.base_names) + [b for b in (partner[0].base_names if partner else []) if b not in chosen.base_names]
        model = cls(params, seed=seed, base_names=names)
        model.chosen_, model.choice_ = chosen, dict(choice)
        if partner is not None:
            model.partner_, model.partner_weight_ = partner[0], float(partner[1])
        model.input_shape_ = (model.n_inputs(),)
        model.is_fitted = True
        return model

    @property
    def weights_method(self) -> str:
        chosen = getattr(self, "chosen_", None)
        if chosen is None:
            return ""
        if self.partner_ is not None:
            return (f"{1 - self.partner_weight_:.2f} x those of {chosen.name} ({chosen.weights_method}) + "
                    f"{self.partner_weight_:.2f} x those of {self.partner_.name} ({self.partner_.weights_method})")
        return f"those of the chosen candidate, {chosen.name}: {chosen.weights_method}"

    def _fit(self, X, y, X_val, y_val, sample_weight):
        raise TypeError("meta_auto chooses among its candidates by purged K-fold over the samples' label times: "
                        "fit it with hetstack.stages.meta.fit_meta, or wrap a fitted candidate with AutoMeta.wrap")

    def _input_of(self, model: MetaLearner, X):
        """The columns of `model`'s bases (and the regime features if it reads them) out of this meta's X."""
        X = np.asarray(X, dtype=np.float64)
        columns = [3 * self.base_names.index(b) + k for b in model.base_names for k in range(3)]
        regime = list(range(3 * len(self.base_names), X.shape[1])) if model.reads_regime else []
        return X[:, columns + regime]

    def _parts(self) -> list[tuple[MetaLearner, float]]:
        if self.partner_ is None:
            return [(self.chosen_, 1.0)]
        return [(self.chosen_, 1.0 - self.partner_weight_), (self.partner_, self.partner_weight_)]

    def _predict_proba(self, X):
        return sum(w * m.predict(self._input_of(m, X)).probabilities for m, w in self._parts())

    def contributions(self) -> dict[str, list[float]]:
        out = {b: np.zeros(3) for b in self.base_names}
        for model, weight in self._parts():
            for b, c in model.contributions().items():
                out[b] += weight * np.asarray(c, dtype=np.float64)
        return {b: [float(x) for x in c] for b, c in out.items()}

    def coefficients(self):
        return self.chosen_.coefficients() if hasattr(self.chosen_, "coefficients") else None

    def regime_weights(self):
        return self.chosen_.regime_weights() if hasattr(self.chosen_, "regime_weights") else None

    def _save(self, path: Path) -> None:
        self.chosen_.save(path / CHOSEN_DIR)
        if self.partner_ is not None:
            self.partner_.save(path / PARTNER_DIR)
        extra = {"partner_weight": self.partner_weight_} if self.partner_ is not None else {}
        write_json(path / "choice.json", {**self.choice_, **extra})

    def _load_part(self, path: Path) -> MetaLearner:
        name = read_json(path / "model.json")["name"]
        if name not in REGISTRY or self.is_auto(name):
            raise ValueError(f"{path}: holds {name!r}, not a {self.name} candidate")
        return REGISTRY[name].cls.load(path, threads=self.threads)

    def _load(self, path: Path) -> None:
        self.chosen_ = self._load_part(path / CHOSEN_DIR)
        self.choice_ = read_json(path / "choice.json")
        self.partner_weight_ = float(self.choice_.pop("partner_weight", 0.0))
        self.partner_ = self._load_part(path / PARTNER_DIR) if (path / PARTNER_DIR).exists() else None
