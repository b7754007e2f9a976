"""Stage functions of rules/oof.smk: one base fitted on one fold's purged train rows, and the merged OOF matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.io import read_parquet, write_parquet
from hetstack.tables import PROB_COLUMNS, SampleTable, load_folds, prob_columns

log = logging.getLogger("hetstack")


@dataclass
class TrainSettings:
    params: dict[str, Any]
    seed: int
    threads: int
    val_split: float
    purge_bars: int
    embargo_bars: int
    use_sample_weights: bool
    adapters: dict[str, dict]  # per input kind, e.g. {"sequence": {"seq_len": 32}}
    device: str = "cpu"  # neural bases: "cpu", "cuda" or "auto"


def fit_weights(weights: np.ndarray) -> np.ndarray:
    """Sample weights rescaled to mean 1 over the rows being fitted, so that the rows a model is
    scored on (a fold's test part, a validation slice) never scale its training weights."""
    weights = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("sample weights must be finite, >= 0 and not all 0 on the rows fitted")
    return weights / weights.mean()


def fit_base(base: str, arrays: dict[str, str], samples: SampleTable, train_ids: np.ndarray, settings: TrainSettings,
             shuffled_validation: bool = False):
    """Fit one base on `train_ids`; early stopping on a purged inner slice carved from those ids only
    (`shuffled_validation`: on a random val_split share of them, unpurged, as shuffled-fold tools do:
    the leakage meter's fits only)."""
    from hetstack.adapters import make_adapter
    from hetstack.cv import inner_validation_split
    from hetstack.catalogue import get_spec

    spec = get_spec(base)
    adapter = make_adapter(spec.input_kind, features_path=arrays.get("features"),
                           multires_path=arrays.get("multires"), **settings.adapters)
    if shuffled_validation:
        rng = np.random.default_rng(settings.seed)
        held = np.zeros(len(train_ids), dtype=bool)
        held[rng.choice(len(train_ids), max(1, round(settings.val_split * len(train_ids))), replace=False)] = True
        fit_ids, val_ids = train_ids[~held], train_ids[held]
    else:
        fit_ids, val_ids = inner_validation_split(train_ids, samples.column("t1", train_ids), settings.val_split,
                                                  settings.purge_bars, settings.embargo_bars)
    log.info("%s: fitting on %d samples (early-stopping slice %d)", base, len(fit_ids), len(val_ids))
    from hetstack.models.seed_bag import BAG_KEY, fit_bag

    params = dict(settings.params)
    n_seeds = int(params.pop(BAG_KEY, 1))
    if n_seeds < 1:
        from hetstack.errors import ConfigError

        raise ConfigError(f"config: model_params.{base}.{BAG_KEY}", f"got {n_seeds}", "give 1 (no bagging) or more seeds")
    if "device" in getattr(spec.cls, "training_params", {}):
        params.setdefault("device", settings.device)
    weights = fit_weights(samples.column("weight", fit_ids)) if settings.use_sample_weights else None
    X_fit, y_fit = adapter.rows(fit_ids), samples.column("label", fit_ids)
    X_val, y_val = adapter.rows(val_ids), samples.column("label", val_ids)

    def fit(model):
        metrics = model.fit(X_fit, y_fit, X_val, y_val, sample_weights=weights)
        log.info("%s (seed %d): fit on %d samples, early-stopping slice %d: %s", base, model.seed, len(fit_ids),
                 len(val_ids), metrics)

    model = fit_bag(lambda seed: spec.cls(params, seed=seed, threads=settings.threads), fit, n_seeds, settings.seed)
    return model, adapter


def prediction_frame(samples: SampleTable, sample_ids: np.ndarray, probabilities: np.ndarray,
                     fold: int | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"sample_id": sample_ids,
                          "timestamp": samples.column("timestamp", sample_ids)})
    if fold is not None:
        frame["fold"] = np.int16(fold)
    for col, values in zip(PROB_COLUMNS, probabilities.T):
        frame[col] = values
    frame["label"] = samples.column("label", sample_ids).astype(np.int8)
    return frame


def fit_fold(base: str, fold: int, arrays: dict[str, str], labels_path: str, folds_path: str,
             settings: TrainSettings):
    """The base fitted on fold `fold` of a role table (folds.parquet, cpcv/splits.parquet):
    (samples, fold, model, adapter, the fold's test-row probabilities)."""
    samples = SampleTable.read(labels_path)
    folds = load_folds(folds_path)
    if not 0 <= fold < len(folds):
        raise ValueError(f"fold {fold} out of range: {folds_path} has {len(folds)} folds")
    this = folds[fold]
    model, adapter = fit_base(base, arrays, samples, this.train_ids, settings)
    return samples, this, model, adapter, model.predict(adapter.rows(this.test_ids)).probabilities


def run_fold(base: str, fold: int, arrays: dict[str, str], labels_path: str, folds_path: str,
             out_oof: str, out_test: str, settings: TrainSettings) -> None:
    """One OOF job: fit on the fold's purged train part, predict its test fold (and the hold-out)."""
    samples, this, model, adapter, oof = fit_fold(base, fold, arrays, labels_path, folds_path, settings)
    write_parquet(out_oof, prediction_frame(samples, this.test_ids, oof, fold))
    test_ids = samples.ids_of("test")
    write_parquet(out_test, prediction_frame(samples, test_ids, model.predict(adapter.rows(test_ids)).probabilities))
    log.info("%s fold %d: OOF accuracy %.4f on %d samples", base, fold,
             np.mean(np.asarray(CLASSES)[oof.argmax(1)] == samples.column("label", this.test_ids)), len(this.test_ids))


def merge_oof(shards: dict[str, list[str]], labels_path: str, folds_path: str, out_matrix: str,
              tuning: tuple[float, int, int] | None = None) -> pd.DataFrame:
    """Join every base's OOF shards into (N_oof, n_bases*3), checking each OOF sample appears exactly once.

    N_oof is every train sample for stacking (purged K-fold), the hold-out part of train for blending;
    with a tuned base (`tuning`: span_fraction, purge_bars, embargo_bars), less the tuning span and its
    purge and embargo (hetstack.tuning.meta_rows): no row a study scored reaches the meta-learner.
    """
    samples = SampleTable.read(labels_path)
    test_fold = read_parquet(folds_path, columns=["sample_id", "test_fold"])
    if not np.array_equal(test_fold["sample_id"].to_numpy(), samples.ids_of("train")):
        raise ValueError(f"{folds_path}: sample ids differ from the train samples of {labels_path}")
    test_fold = test_fold[test_fold["test_fold"].to_numpy() >= 0]
    train_ids = test_fold["sample_id"].to_numpy(np.int64)
    matrix = pd.DataFrame({
        "sample_id": train_ids,
        "timestamp": samples.column("timestamp", train_ids),
        "t1": samples.column("t1", train_ids),
        "fold": test_fold["test_fold"].to_numpy(np.int16),
        "label": samples.column("label", train_ids).astype(np.int8),
        "weight": samples.column("weight", train_ids),
    })
    for base, paths in shards.items():
        frame = pd.concat([read_parquet(p) for p in paths], ignore_index=True)
        ids = frame["sample_id"].to_numpy(np.int64)
        dupes = np.unique(ids[pd.Series(ids).duplicated().to_numpy()])
        if len(dupes):
            raise ValueError(f"{base}: sample {dupes[0]} appears in more than one OOF shard")
        order = np.argsort(ids, kind="stable")
        frame = frame.iloc[order]
        if not np.array_equal(frame["sample_id"].to_numpy(), train_ids):
            missing = np.setdiff1d(train_ids, ids)
            raise ValueError(f"{base}: OOF shards {paths} miss {len(missing)} train samples "
                             f"(first {missing[:3].tolist()}) or hold extra ones")
        if not np.array_equal(frame["fold"].to_numpy(), matrix["fold"].to_numpy()):
            raise ValueError(f"{base}: a sample's OOF prediction comes from a fold other than its test fold")
        if not np.array_equal(frame["label"].to_numpy(), matrix["label"].to_numpy()):
            raise ValueError(f"{base}: labels in the OOF shards differ from {labels_path}")
        for src, dst in zip(PROB_COLUMNS, prob_columns(base)):
            matrix[dst] = frame[src].to_numpy()
    if tuning is not None:
        from hetstack.tuning import meta_rows

        all_train = samples.ids_of("train")
        readable = all_train[meta_rows(all_train, samples.column("t1", all_train), *tuning)]
        matrix = matrix[np.isin(matrix["sample_id"].to_numpy(), readable)].reset_index(drop=True)
        log.info("meta matrix: %d OOF rows after the tuning span, its purge and embargo", len(matrix))
    write_parquet(out_matrix, matrix)
    log.info("meta matrix: %d rows x %d bases", len(matrix), len(shards))
    return matrix
