"""Stage functions of rules/retrain.smk: a base refitted on the whole train set (or its fold models' test
predictions averaged)."""

from __future__ import annotations


import numpy as np

from hetstack.io import atomic_dir, read_parquet, write_parquet
from hetstack.tables import PROB_COLUMNS, SampleTable
from hetstack.stages.oof import TrainSettings, fit_base, prediction_frame


def retrain_base(base: str, arrays: dict[str, str], labels_path: str, out_model_dir: str, out_test: str,
                 settings: TrainSettings) -> None:
    """Refit a base on the whole train set, save it (native format), predict the hold-out test set."""
    samples = SampleTable.read(labels_path)
    model, adapter = fit_base(base, arrays, samples, samples.ids_of("train"), settings)
    test_ids = samples.ids_of("test")
    proba = model.predict(adapter.rows(test_ids)).probabilities
    with atomic_dir(out_model_dir) as tmp_dir:  # the model directory appears complete or not at all
        model.save(tmp_dir)
    write_parquet(out_test, prediction_frame(samples, test_ids, proba))


def average_fold_tests(shard_paths: list[str], out_test: str) -> None:
    """Test predictions without a full retrain: the mean of the fold models' probabilities."""
    frames = [read_parquet(p) for p in shard_paths]
    base = frames[0]
    for path, frame in zip(shard_paths[1:], frames[1:]):
        if not np.array_equal(frame["sample_id"].to_numpy(), base["sample_id"].to_numpy()):
            raise ValueError(f"{path}: test sample ids differ from {shard_paths[0]}")
    out = base.copy()
    out[PROB_COLUMNS] = np.mean([f[PROB_COLUMNS].to_numpy() for f in frames], axis=0)
    write_parquet(out_test, out)
