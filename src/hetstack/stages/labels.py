"""Stage function of rules/labels.smk: triple-barrier labels, the train/test split and the purged folds."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.errors import DataError
from hetstack.io import read_json, read_parquet, write_json, write_parquet


log = logging.getLogger("hetstack")


def sample_lookback(warmup: int, vol_window: int, adapters: dict, regime_window: int = 0) -> int:
    """First usable sample id: every adapter, the label volatility and the regime features have full
    history there (the regime window counts for every meta-learner, so the samples never depend on it)."""
    from hetstack.adapters import multires_lookback

    sequence = warmup + int(adapters["sequence"]["seq_len"]) - 1
    multires = multires_lookback(adapters["multires"]["timeframes"], adapters["multires"]["seq_len"])
    return max(warmup, vol_window, sequence, multires, int(regime_window))


@dataclass(frozen=True)
class LabelSettings:
    horizon: int
    barrier_k: float  # barriers at +/- barrier_k * rolling vol * sqrt(horizon)
    vol_window: int
    test_fraction: float
    n_folds: int
    purge_bars: int
    embargo_bars: int
    adapters: dict  # per input kind: their lookback sets the first usable sample
    mode: str = "stacking"  # or "blending": one purged hold-out fold
    blend_fraction: float = 0.2
    regime_window: int = 1440


def build_labels(bars_path: str, features_meta_path: str, out_labels: str, out_folds: str, out_splits: str,
                 settings: LabelSettings, *, source: str) -> None:
    """Labels, weights and split of every sample, and the purged folds; `source` names the bars in errors."""
    from hetstack.cv import blending_fold, chronological_split, fold_table, purged_kfold, required_bars
    from hetstack.labels import average_uniqueness, triple_barrier

    cfg = settings
    horizon, barrier_k, vol_window, test_fraction = cfg.horizon, cfg.barrier_k, cfg.vol_window, cfg.test_fraction
    n_folds, purge_bars, embargo_bars, mode = cfg.n_folds, cfg.purge_bars, cfg.embargo_bars, cfg.mode
    bars = read_parquet(bars_path)
    warmup = int(read_json(features_meta_path)["warmup"])
    n_bars = len(bars)
    lookback = sample_lookback(warmup, vol_window, cfg.adapters, cfg.regime_window)
    need = required_bars(max(n_folds, 2), horizon, purge_bars, embargo_bars, lookback, test_fraction)
    if n_bars < need:
        raise DataError(source, f"{n_bars} bars is too few: need at least {need} for horizon {horizon}, "
                        f"{n_folds} folds, purge {purge_bars}, embargo {embargo_bars} and a {lookback}-bar lookback",
                        "supply more bars or lower oof.n_folds, oof.embargo_bars, oof.purge_bars or the horizon")
    result = triple_barrier(bars["close"].to_numpy(np.float64), horizon, barrier_k, vol_window)
    all_ids = np.arange(n_bars, dtype=np.int64)
    keep = result.valid & (all_ids >= lookback)  # one sample index for every base
    sample_ids, t1 = all_ids[keep], result.t1[keep]
    train_ids, test_ids = chronological_split(sample_ids, t1, test_fraction, purge_bars, embargo_bars)
    label = result.label[keep]
    is_train = np.isin(sample_ids, train_ids)
    train_classes = np.unique(label[is_train])
    if len(train_classes) < 2:
        raise DataError(source, f"horizon {horizon}: every train label is {int(train_classes[0])}",
                        "use a different labels.barrier_k or horizon so that the barriers are touched sometimes")
    split = np.full(len(sample_ids), "gap", dtype=object)
    split[is_train] = "train"
    split[np.isin(sample_ids, test_ids)] = "test"
    # Uniqueness of the train labels among themselves, mean 1 over train: no gap or test label
    # enters a training weight. Other rows train nothing and get NaN.
    weight = np.full(len(sample_ids), np.nan)
    weight[is_train] = average_uniqueness(sample_ids[is_train], t1[is_train], n_bars)
    labels = pd.DataFrame({
        "sample_id": sample_ids,
        "timestamp": bars["timestamp"].to_numpy()[sample_ids],
        "t1": t1.astype(np.int64),
        "label": label.astype(np.int8),
        "weight": weight,
        "barrier": result.barrier[keep],
        "forward_return": result.forward_return[keep],
        "split": pd.array(split, dtype="string"),
    })
    labels["timestamp"] = pd.to_datetime(labels["timestamp"], utc=True)
    if mode == "blending":
        folds = blending_fold(train_ids, result.t1[train_ids], cfg.blend_fraction, purge_bars, embargo_bars)
    else:
        folds = purged_kfold(train_ids, result.t1[train_ids], n_folds, purge_bars, embargo_bars)
    write_parquet(out_labels, labels)
    write_parquet(out_folds, fold_table(train_ids, folds))
    counts = {s: int((split == s).sum()) for s in ("train", "gap", "test")}
    write_json(out_splits, {
        "horizon": horizon, "n_bars": n_bars, "lookback": lookback, "n_samples": len(sample_ids),
        "counts": counts,
        "train": [int(train_ids[0]), int(train_ids[-1])], "test": [int(test_ids[0]), int(test_ids[-1])],
        "class_balance": {str(c): int((label == c).sum()) for c in CLASSES},
        "folds": [{"fold": f.index, "test": [int(f.test_ids[0]), int(f.test_ids[-1])], "n_train": len(f.train_ids),
                   "n_test": len(f.test_ids), "n_purged": len(f.purged_ids), "n_embargoed": len(f.embargoed_ids)}
                  for f in folds],
        "purge_bars": purge_bars, "embargo_bars": embargo_bars, "mode": mode,
    })
    log.info("labels: %s samples, classes %s", counts, {c: int((label == c).sum()) for c in CLASSES})
