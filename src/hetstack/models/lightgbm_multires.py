"""LightGBM on multi-resolution windows (B, TF, T, 5), flattened: one column per (timeframe, tf-bar,
channel) value, TF x T x 5 in all (600 with the default five timeframes of 24 bars).

The neural 4D bases must learn from a few hundred gradient steps which of those values matter and
how two of them combine; trees split on single values and their interactions directly (heavy volume
on the newest bar, and which way one hourly bar a session back moved), so they find sparse structure
in the long history with far less data. Same booster and settings as `lightgbm` on indicator rows.

The booster reads its training windows as an `lgb.Sequence`, a chunk at a time, so the flattened
(N, TF x T x 5) matrix (2.4 GB for a fold at the design's full size) never exists; its bins come from at most
`SAMPLE_VALUES` sampled values, all the rows at the default size.
"""

from __future__ import annotations

import numpy as np

from hetstack.adapters import ROWS_PER_CHUNK, chunk_rows, flat_windows, map_flat, subset
from hetstack.models.lightgbm import LightGBMModel
from hetstack.models.registry import register


SAMPLE_VALUES = 50_000_000  # LightGBM's bin-finding sample, rows x width: its default 200,000 rows would be 4 GB


@register(name="lightgbm_multires", family="boosting", input_kind="multires")
class LightGBMMultiResModel(LightGBMModel):
    def _dataset_input(self, X, validation: bool = False):
        # The early-stopping slice in memory (0.4 GB at full size): a validation set built by reference
        # from an lgb.Sequence scores NaN when the train set has weights (LightGBM 4.7).
        return flat_windows(X) if validation else [window_sequence(X)]

    def _dataset_params(self, X) -> dict:
        return {"bin_construct_sample_cnt": min(200_000, chunk_rows(X, SAMPLE_VALUES))}

    def _predict_proba(self, X):
        return map_flat(super()._predict_proba, X)


def window_sequence(windows):
    """An `lgb.Sequence` of the flattened windows: slices are flattened a chunk at a time, and single rows
    (LightGBM samples them one by one, in increasing order) come from a cached chunk."""
    import lightgbm as lgb

    class WindowSequence(lgb.Sequence):
        batch_size = ROWS_PER_CHUNK

        def __init__(self):
            self.cached_start, self.cached = -1, None

        def __len__(self) -> int:
            return len(windows)

        def __getitem__(self, index):
            if isinstance(index, slice):
                return flat_windows(subset(windows, np.arange(*index.indices(len(windows)))))
            if not isinstance(index, (int, np.integer)):
                return flat_windows(subset(windows, np.asarray(index)))
            start = int(index) - int(index) % self.batch_size
            if start != self.cached_start:
                self.cached_start = start
                self.cached = self[start:start + self.batch_size]
            return self.cached[int(index) - start].astype(np.float64)  # LightGBM bins from doubles

    return WindowSequence()
