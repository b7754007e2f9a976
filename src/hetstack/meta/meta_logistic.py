"""Multinomial logistic-regression meta-learner on the OOF probabilities."""

from __future__ import annotations

from hetstack.meta.base import LinearMeta
from hetstack.models.base import full_class_rows
from hetstack.models.registry import register


@register(name="meta_logistic", family="inference", input_kind="meta", aliases=("logistic_meta",))
class LogisticMeta(LinearMeta):
    default_params = {"C": 1.0, "max_iter": 1000}

    def _fit_linear(self, X, y, sample_weight):
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=float(self.params["C"]), solver="lbfgs", max_iter=int(self.params["max_iter"]))
        clf.fit(X, y, sample_weight=sample_weight)
        coef, intercept = full_class_rows(clf.classes_, clf.coef_, clf.intercept_, X.shape[1])
        return coef, intercept, False  # already probabilistic
