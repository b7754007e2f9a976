"""The leakage meter: what a shuffled-fold stack would have claimed, beside the purged OOF score and the test.

A stack built with scikit-learn's StackingClassifier, mlxtend or an AutoML fits its bases on
`KFold(shuffle=True)` folds. On overlapping labels that puts near-copies of every validation row into
training, and the validation score promises what the test never delivers. The meter fits each base
that way once per fold, for the report alone: its predictions never reach the meta-learner or the
test predictions (nothing else reads its files), and the report sets the three log losses side by side.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from hetstack.io import write_parquet
from hetstack.stages.oof import TrainSettings, fit_base, prediction_frame
from hetstack.tables import PROB_COLUMNS, SampleTable

log = logging.getLogger("hetstack")


def shuffled_oof(base: str, arrays: dict[str, str], labels_path: str, out_path: str, settings: TrainSettings,
                 n_folds: int) -> pd.DataFrame:
    """Every train sample predicted by the base fitted on the other folds of KFold(shuffle=True,
    random_state=seed), early-stopped on a random slice of them: the OOF predictions a shuffled-fold
    stack would be validated on."""
    from sklearn.model_selection import KFold

    samples = SampleTable.read(labels_path)
    train_ids = samples.ids_of("train")
    frames = []
    splits = KFold(n_splits=n_folds, shuffle=True, random_state=settings.seed).split(train_ids)
    for fold, (fit_rows, held_rows) in enumerate(splits):
        model, adapter = fit_base(base, arrays, samples, train_ids[fit_rows], settings, shuffled_validation=True)
        held = train_ids[held_rows]
        frames.append(prediction_frame(samples, held, model.predict(adapter.rows(held)).probabilities, fold))
    frame = pd.concat(frames, ignore_index=True).sort_values("sample_id", kind="stable").reset_index(drop=True)
    write_parquet(out_path, frame)
    log.info("%s: shuffled %d-fold OOF over %d train samples", base, n_folds, len(frame))
    return frame


def meter(shuffled: dict[str, pd.DataFrame], matrix: pd.DataFrame, tests: dict[str, pd.DataFrame],
          y_test: np.ndarray) -> dict:
    """Per base, on the OOF rows the meta-learner reads: the shuffled-fold OOF log loss, the purged one,
    their paired gap with its block SE; and the test log loss. A gap far above its SE is what shuffled
    folds would have promised and the test does not keep."""
    from hetstack.evaluation import row_log_loss, se_blocks
    from hetstack.stages.meta import block_rows
    from hetstack.tables import prob_columns

    ids = matrix["sample_id"].to_numpy(np.int64)
    y = matrix["label"].to_numpy()
    block = block_rows(ids, matrix["t1"].to_numpy(np.int64))
    out = {}
    for base, frame in shuffled.items():
        frame = frame.set_index("sample_id").loc[ids]
        shuffled_loss = row_log_loss(y, frame[PROB_COLUMNS].to_numpy())
        purged_loss = row_log_loss(y, matrix[prob_columns(base)].to_numpy())
        gap = purged_loss - shuffled_loss
        out[base] = {"shuffled_oof_log_loss": float(shuffled_loss.mean()),
                     "purged_oof_log_loss": float(purged_loss.mean()),
                     "test_log_loss": float(row_log_loss(y_test, tests[base][PROB_COLUMNS].to_numpy()).mean()),
                     "optimism": float(gap.mean()), "optimism_se": se_blocks(gap, block),
                     "n_rows": int(len(ids)), "block_rows": int(block)}
    return out


def reading(meters: dict) -> str:
    """The line a quant reads first, about the base shuffled folds flatter most."""
    base = max(meters, key=lambda b: meters[b]["optimism"])
    m = meters[base]
    return (f"{base}: shuffled folds would have claimed a log loss of {m['shuffled_oof_log_loss']:.3f}; purged "
            f"folds say {m['purged_oof_log_loss']:.3f}; the test says {m['test_log_loss']:.3f}")
