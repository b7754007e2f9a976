"""Ridge meta-learner: one-vs-rest ridge regression on the OOF probabilities.

Probabilities: softmax of the decision function with one temperature fitted on held-out rows (the
workflow passes a purged slice of the meta's training rows that the ridge is not fitted on).
"""

from __future__ import annotations

from hetstack.meta.base import LinearMeta
from hetstack.models.base import full_class_rows
from hetstack.models.registry import register


@register(name="meta_ridge", family="inference", input_kind="meta", aliases=("ridge_meta",))
class RidgeMeta(LinearMeta):
    fits_on_holdout = True  # its temperature
    default_params = {"alpha": 1.0}

    def _fit_linear(self, X, y, sample_weight):
        from sklearn.linear_model import RidgeClassifier

        clf = RidgeClassifier(alpha=float(self.params["alpha"])).fit(X, y, sample_weight=sample_weight)
        coef, intercept = full_class_rows(clf.classes_, clf.coef_, clf.intercept_, X.shape[1])
        return coef, intercept, True
