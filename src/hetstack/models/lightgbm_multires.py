"""LightGBM on multi-resolution windows (B, TF, T, 5), flattened: one column per (timeframe, tf-bar,
channel) value, TF x T x 5 in all (600 with the default five timeframes of 24 bars).

The neural 4D bases must learn from a few hundred gradient steps which of those values matter and
how two of them combine; trees split on single values and their interactions directly (heavy volume
on the newest bar, and which way one hourly bar a session back moved), so they find sparse structure
in the long history with far less data. Same booster and settings as `lightgbm` on indicator rows.
"""

from __future__ import annotations

from hetstack.adapters import flat_windows
from hetstack.models.lightgbm import LightGBMModel
from hetstack.models.registry import register


@register(name="lightgbm_multires", family="boosting", input_kind="multires")
class LightGBMMultiResModel(LightGBMModel):
    def _fit(self, X, y, X_val, y_val, sample_weight):
        return super()._fit(flat_windows(X), y, None if X_val is None else flat_windows(X_val), y_val, sample_weight)

    def _predict_proba(self, X):
        return super()._predict_proba(flat_windows(X))
