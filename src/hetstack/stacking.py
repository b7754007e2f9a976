"""The stages of the workflow as library functions; each Snakemake script calls one of them.

Data flow (one sample id = one bar position, shared by every adapter, shard and matrix):
bars -> features -> labels + purged folds -> one OOF shard per (base, fold) -> meta matrix
-> meta-learner fit; bases retrained on the full train set -> test predictions -> report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.errors import DataError
from hetstack.io import atomic_dir, read_json, read_parquet, write_json, write_parquet

log = logging.getLogger("hetstack")

PROB_COLUMNS = [f"prob_{c:+d}" if c else "prob_0" for c in CLASSES]  # prob_-1, prob_0, prob_+1


def prob_columns(base: str) -> list[str]:
    """Column names of one base's probabilities in the meta matrix."""
    return [f"{base}__{c}" for c in PROB_COLUMNS]


# ----------------------------------------------------------------------------- bars and features

def prepare_bars(symbol: str, data_file: str | None, out_path: str, *, n_bars: int, seed: int,
                 effect_strength: float = 1.0, effects: dict | None = None) -> pd.DataFrame:
    """Validated user bars when a data file exists, else the seeded synthetic market; `effects` maps
    interaction / motif / trend to that effect's own strength (1 when absent)."""
    from hetstack.data import read_bars, write_bars

    if data_file:
        bars = read_bars(data_file)
        log.info("%s: read %d bars from %s", symbol, len(bars), data_file)
    else:
        from hetstack.synthetic import generate_market

        strengths = {f"{name}_strength": float(value) for name, value in (effects or {}).items()}
        bars = generate_market(symbol, n_bars, seed=seed, effect_strength=effect_strength, **strengths)
        log.info("%s: generated %d synthetic bars (seed %d, effect strength %g, effects %s)", symbol, len(bars),
                 seed, effect_strength, effects or "all at 1")
    write_bars(out_path, bars)
    return bars


def build_features(bars_path: str, out_array: str, out_meta: str) -> None:
    from hetstack.features import compute_features, feature_settings

    bars = read_parquet(bars_path)
    features, names, warmup = compute_features(bars)
    write_npy_checked(out_array, features)
    write_json(out_meta, {"names": names, "warmup": int(warmup), "n_bars": len(bars),
                          "n_features": len(names), "dtype": str(features.dtype), "settings": feature_settings()})
    log.info("features: %d bars x %d features, warmup %d", len(bars), len(names), warmup)


def build_multires(bars_path: str, out_array: str, timeframes: list[int]) -> None:
    from hetstack.adapters import build_multires_bars

    bars = read_parquet(bars_path)
    write_npy_checked(out_array, build_multires_bars(bars, timeframes))
    log.info("multires: %d bars x timeframes %s", len(bars), timeframes)


def sample_lookback(warmup: int, vol_window: int, adapters: dict) -> int:
    """First usable sample id: every adapter (and the label volatility) has full history there."""
    from hetstack.adapters import multires_lookback

    sequence = warmup + int(adapters["sequence"]["seq_len"]) - 1
    multires = multires_lookback(adapters["multires"]["timeframes"], adapters["multires"]["seq_len"])
    return max(warmup, vol_window, sequence, multires)


def write_npy_checked(path: str, array: np.ndarray) -> None:
    from hetstack.io import write_npy

    write_npy(path, array.astype(np.float32, copy=False))


# ----------------------------------------------------------------------------- labels and splits

@dataclass
class SampleTable:
    """Labels of the sample index, with lookups by sample id."""

    frame: pd.DataFrame

    def __post_init__(self):
        self.ids = self.frame["sample_id"].to_numpy(np.int64)

    @classmethod
    def read(cls, labels_path: str) -> "SampleTable":
        return cls(read_parquet(labels_path))

    def positions(self, sample_ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.ids, sample_ids)
        if len(sample_ids) and (pos.max() >= len(self.ids) or not np.array_equal(self.ids[pos], sample_ids)):
            raise ValueError("sample ids not in the label table")
        return pos

    def column(self, name: str, sample_ids: np.ndarray) -> np.ndarray:
        return self.frame[name].to_numpy()[self.positions(sample_ids)]

    def ids_of(self, split: str) -> np.ndarray:
        return self.ids[self.frame["split"].to_numpy() == split]


def build_labels(bars_path: str, features_meta_path: str, out_labels: str, out_folds: str, out_splits: str, *,
                 source: str, horizon: int, barrier_k: float, vol_window: int, test_fraction: float,
                 n_folds: int, purge_bars: int, embargo_bars: int, adapters: dict, mode: str = "stacking",
                 blend_fraction: float = 0.2) -> None:
    from hetstack.cv import blending_fold, chronological_split, fold_table, purged_kfold, required_bars
    from hetstack.labels import average_uniqueness, triple_barrier

    bars = read_parquet(bars_path)
    warmup = int(read_json(features_meta_path)["warmup"])
    n_bars = len(bars)
    lookback = sample_lookback(warmup, vol_window, adapters)
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
        folds = blending_fold(train_ids, result.t1[train_ids], blend_fraction, purge_bars, embargo_bars)
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


def load_folds(folds_path: str):
    from hetstack.cv import folds_from_table

    return folds_from_table(read_parquet(folds_path))


# ----------------------------------------------------------------------------- base models

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


def fit_base(base: str, arrays: dict[str, str], samples: SampleTable, train_ids: np.ndarray, settings: TrainSettings):
    """Fit one base on `train_ids`; early stopping on a purged inner slice carved from those ids only."""
    from hetstack.adapters import make_adapter
    from hetstack.cv import inner_validation_split
    from hetstack.catalogue import get_spec

    spec = get_spec(base)
    adapter = make_adapter(spec.input_kind, features_path=arrays.get("features"),
                           multires_path=arrays.get("multires"), **settings.adapters)
    fit_ids, val_ids = inner_validation_split(train_ids, samples.column("t1", train_ids), settings.val_split,
                                              settings.purge_bars, settings.embargo_bars)
    log.info("%s: fitting on %d samples (early-stopping slice %d)", base, len(fit_ids), len(val_ids))
    params = dict(settings.params)
    if "device" in getattr(spec.cls, "training_params", {}):
        params.setdefault("device", settings.device)
    model = spec.cls(params, seed=settings.seed, threads=settings.threads)
    weights = fit_weights(samples.column("weight", fit_ids)) if settings.use_sample_weights else None
    metrics = model.fit(adapter.rows(fit_ids), samples.column("label", fit_ids),
                        adapter.rows(val_ids), samples.column("label", val_ids), sample_weights=weights)
    log.info("%s: fit on %d samples, early-stopping slice %d: %s", base, len(fit_ids), len(val_ids), metrics)
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


def run_fold(base: str, fold: int, arrays: dict[str, str], labels_path: str, folds_path: str,
             out_oof: str, out_test: str, settings: TrainSettings) -> None:
    """One OOF job: fit on the fold's purged train part, predict its test fold (and the hold-out)."""
    samples = SampleTable.read(labels_path)
    folds = load_folds(folds_path)
    if not 0 <= fold < len(folds):
        raise ValueError(f"fold {fold} out of range: {folds_path} has {len(folds)} folds")
    this = folds[fold]
    model, adapter = fit_base(base, arrays, samples, this.train_ids, settings)
    oof = model.predict(adapter.rows(this.test_ids)).probabilities
    write_parquet(out_oof, prediction_frame(samples, this.test_ids, oof, fold))
    test_ids = samples.ids_of("test")
    write_parquet(out_test, prediction_frame(samples, test_ids, model.predict(adapter.rows(test_ids)).probabilities))
    log.info("%s fold %d: OOF accuracy %.4f on %d samples", base, fold,
             np.mean(np.asarray(CLASSES)[oof.argmax(1)] == samples.column("label", this.test_ids)), len(this.test_ids))


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


# ----------------------------------------------------------------------------- meta matrix

def merge_oof(shards: dict[str, list[str]], labels_path: str, folds_path: str, out_matrix: str) -> pd.DataFrame:
    """Join every base's OOF shards into (N_oof, n_bases*3), checking each OOF sample appears exactly once.

    N_oof is every train sample for stacking (purged K-fold), the hold-out part of train for blending.
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
    write_parquet(out_matrix, matrix)
    log.info("meta matrix: %d rows x %d bases", len(matrix), len(shards))
    return matrix


# ----------------------------------------------------------------------------- meta-learner

def skilled_bases(X: np.ndarray, y: np.ndarray, base_names: list[str]) -> tuple[list[str], dict[str, float]]:
    """Bases whose OOF probabilities beat the class prior of these rows in log loss (skill > 0), and
    every base's skill. With none skilled, the least bad one, so the meta keeps an input."""
    from hetstack.evaluation import class_prior, classification_metrics

    prior = class_prior(y)
    skill = {b: classification_metrics(y, X[:, 3 * i:3 * i + 3], prior=prior)["skill"] for i, b in enumerate(base_names)}
    kept = [b for b in base_names if skill[b] > 0] or [max(base_names, key=skill.get)]
    return kept, skill


def fit_meta(meta: str, matrix_path: str, base_names: list[str], out_dir: str, *, params: dict, seed: int,
             threads: int, val_split: float, use_oof_for_val: bool, n_folds: int, purge_bars: int,
             embargo_bars: int, use_sample_weights: bool, drop_unskilled_bases: bool = True) -> None:
    """Fit a meta-learner on the OOF matrix; validate it on a purged tail slice (or by purged K-fold).

    With `drop_unskilled_bases`, a base without OOF skill on the meta's own training rows is left
    out of its inputs: it can only add noise. Chosen per fit, so no validation row takes part."""
    from hetstack.cv import inner_validation_split, purged_kfold
    from hetstack.evaluation import class_prior, classification_metrics
    from hetstack.catalogue import get_spec

    matrix = read_parquet(matrix_path)
    spec = get_spec(meta)
    columns = [c for b in base_names for c in prob_columns(b)]
    X = matrix[columns].to_numpy(np.float64)
    y = matrix["label"].to_numpy()
    w = matrix["weight"].to_numpy() if use_sample_weights else np.ones(len(matrix))
    ids, t1 = matrix["sample_id"].to_numpy(np.int64), matrix["t1"].to_numpy(np.int64)

    def inputs(bases: list[str]) -> list[int]:
        return [3 * base_names.index(b) + k for b in bases for k in range(3)]

    def fit_on(rows: np.ndarray):
        """A meta fitted on `rows` alone. One that early-stops or calibrates gets a purged slice
        carved from those rows, so no row a validation score is measured on is fitted on."""
        bases = skilled_bases(X[rows], y[rows], base_names)[0] if drop_unskilled_bases else list(base_names)
        Xb = X[:, inputs(bases)]
        model = spec.cls(params, seed=seed, threads=threads, base_names=bases)
        if model.fits_on_holdout:
            fit_ids, hold_ids = inner_validation_split(ids[rows], t1[rows], val_split, purge_bars, embargo_bars)
            fit, hold = np.isin(ids, fit_ids), np.isin(ids, hold_ids)
            model.fit(Xb[fit], y[fit], Xb[hold], y[hold], sample_weights=fit_weights(w[fit]))
        else:
            model.fit(Xb[rows], y[rows], sample_weights=fit_weights(w[rows]))
        return model

    def predict(model, rows: np.ndarray) -> np.ndarray:
        return model.predict(X[rows][:, inputs(model.base_names)]).probabilities

    if use_oof_for_val:
        # every OOF row validates once, predicted by a meta fitted on the purged rest
        val_mask = np.ones(len(ids), dtype=bool)
        val_proba = np.zeros((len(ids), 3))
        for fold in purged_kfold(ids, t1, n_folds, purge_bars, embargo_bars):
            te = np.isin(ids, fold.test_ids)
            val_proba[te] = predict(fit_on(np.isin(ids, fold.train_ids)), te)
        model = fit_on(val_mask)
        fit_mask = val_mask
        mode = f"purged {n_folds}-fold cross-validation over all OOF rows; final fit on all rows"
    else:
        fit_ids, val_ids = inner_validation_split(ids, t1, val_split, purge_bars, embargo_bars)
        fit_mask, val_mask = np.isin(ids, fit_ids), np.isin(ids, val_ids)
        model = fit_on(fit_mask)
        val_proba = predict(model, val_mask)
        mode = f"fit on the first {1 - val_split:.0%} of OOF rows, validated on the purged last {val_split:.0%}"
    y_val, prior = y[val_mask], class_prior(y)  # skill against the class shares of the OOF (train) rows
    fit_skill = skilled_bases(X[fit_mask], y[fit_mask], base_names)[1]
    dropped = [b for b in base_names if b not in model.base_names]
    validation = {
        "mode": mode,
        "n_fit": int(fit_mask.sum()), "n_val": int(val_mask.sum()),
        "val_sample_range": [int(ids[val_mask][0]), int(ids[val_mask][-1])],
        "meta": classification_metrics(y_val, val_proba, prior=prior),
        "bases": {b: classification_metrics(y_val, X[val_mask][:, 3 * i:3 * i + 3], prior=prior)
                  for i, b in enumerate(base_names)},
        "base_skill_on_fit_rows": fit_skill,
        "dropped_bases": dropped,
    }
    for b in dropped:
        log.warning("%s: base %s has no OOF skill on the meta's fit rows (%+.4f): left out of the meta's inputs",
                    meta, b, fit_skill[b])
    with atomic_dir(out_dir) as tmp_dir:  # the model directory appears complete or not at all
        model.save(tmp_dir)
        write_json(tmp_dir / "validation.json", validation)
    log.info("%s: validation %s", meta, validation["meta"])


# ----------------------------------------------------------------------------- report

def build_report(meta_requested: str, meta_dir: str, base_tests: dict[str, str], matrix_path: str, labels_path: str,
                 bars_path: str, out_report: str, out_predictions: str, *, symbol: str, horizon: int,
                 cost_bps: float, config_digest: str, settings: dict) -> dict:
    """Score the stacked ensemble and each base on the same hold-out rows; write the report JSON."""
    from hetstack.evaluation import class_prior, classification_metrics, trading_metrics
    from hetstack.catalogue import load_model

    meta = load_model(meta_dir)
    base_names = list(base_tests)  # every configured base; the meta may read fewer (dropped_bases)
    frames = {b: read_parquet(base_tests[b]) for b in base_names}
    test_ids = frames[base_names[0]]["sample_id"].to_numpy(np.int64)
    for b, frame in frames.items():
        if not np.array_equal(frame["sample_id"].to_numpy(), test_ids):
            raise ValueError(f"{base_tests[b]}: test sample ids differ from those of {base_names[0]}")
    samples = SampleTable.read(labels_path)
    y_test = samples.column("label", test_ids)
    X_test = np.hstack([frames[b][PROB_COLUMNS].to_numpy(np.float64) for b in base_names])
    out = meta.predict(np.hstack([frames[b][PROB_COLUMNS].to_numpy(np.float64) for b in meta.base_names]))
    matrix = read_parquet(matrix_path)
    prior = class_prior(matrix["label"].to_numpy())  # train labels' shares: no test label in the reference
    validation = read_json(Path(meta_dir) / "validation.json")
    bars = read_parquet(bars_path, columns=["timestamp", "close"])
    close, stamps = bars["close"].to_numpy(np.float64), bars["timestamp"].to_numpy()

    def trading(probabilities: np.ndarray) -> dict:
        positions = np.asarray(CLASSES)[probabilities.argmax(axis=1)]
        return trading_metrics(positions, test_ids, close, stamps, horizon, cost_bps)

    base_perf = {}
    for i, b in enumerate(base_names):
        proba = X_test[:, 3 * i:3 * i + 3]
        test = classification_metrics(y_test, proba, prior=prior)
        oof = classification_metrics(matrix["label"].to_numpy(), matrix[prob_columns(b)].to_numpy(np.float64),
                                     prior=prior)
        val = validation["bases"][b]
        base_perf[b] = {
            "val_acc": val["accuracy"], "test_acc": test["accuracy"],
            "val_log_loss": val["log_loss"], "test_log_loss": test["log_loss"],
            "oof_acc": oof["accuracy"], "oof_log_loss": oof["log_loss"],
            "val_skill": val["skill"], "test_skill": test["skill"], "oof_skill": oof["skill"],
            "in_meta": b in meta.base_names,
            "trading": trading(proba),
        }
    no_skill = [b for b in base_names if base_perf[b]["oof_skill"] <= 0]
    for b in no_skill:
        log.warning("%s: base %s has no OOF skill (%+.4f log loss against the class prior)%s", meta_requested, b,
                    base_perf[b]["oof_skill"], "" if b in meta.base_names else "; the meta-learner leaves it out")
    meta_test = classification_metrics(y_test, out.probabilities, prior=prior)
    meta_trading = trading(out.probabilities)
    best_base = max(base_names, key=lambda b: base_perf[b]["test_acc"])
    best_by_val = max(base_names, key=lambda b: base_perf[b]["val_acc"])
    from hetstack.catalogue import get_spec

    spec = get_spec(meta_requested)
    report = {
        "symbol": symbol,
        "horizon": horizon,
        "meta_learner": meta_requested,
        "meta_learner_type": spec.name.removeprefix("meta_"),
        "base_models": base_names,
        "base_model_performance": base_perf,
        "bases_without_oof_skill": no_skill,
        "meta_inputs": list(meta.base_names),
        "skill_reference": "log loss of always forecasting the class shares of the train (OOF) labels "
                           f"{dict(zip(map(str, CLASSES), map(float, prior)))} minus the model's; > 0 is skill",
        "meta_learner_weights": out.base_weights,
        "meta_learner_weights_method": meta.weights_method,
        "meta_learner_coefficients": meta.coefficients() if hasattr(meta, "coefficients") else None,
        "performance": {
            "val_accuracy": validation["meta"]["accuracy"],
            "val_log_loss": validation["meta"]["log_loss"],
            "val_skill": validation["meta"]["skill"],
            "test_accuracy": meta_test["accuracy"],
            "test_log_loss": meta_test["log_loss"],
            "test_skill": meta_test["skill"],
            "improvement_over_best_base": meta_test["accuracy"] - base_perf[best_base]["test_acc"],
            "best_base": best_base,
            "improvement_over_best_base_by_val": meta_test["accuracy"] - base_perf[best_by_val]["test_acc"],
            "best_base_by_val": best_by_val,
            "log_loss_improvement_over_best_base": min(p["test_log_loss"] for p in base_perf.values())
            - meta_test["log_loss"],
            "sharpe_ratio": meta_trading["sharpe_ratio"],
            "max_drawdown": meta_trading["max_drawdown"],
            "trading": meta_trading,
            "test_class_balance": meta_test["class_balance"],
        },
        "samples": {
            "n_train": int(len(matrix)), "n_test": int(len(test_ids)),
            "n_meta_fit": validation["n_fit"], "n_meta_val": validation["n_val"],
            "test_sample_range": [int(test_ids[0]), int(test_ids[-1])],
            "test_period": [str(samples.column("timestamp", test_ids[:1])[0]),
                            str(samples.column("timestamp", test_ids[-1:])[0])],
        },
        "validation_mode": validation["mode"],
        "config_digest": config_digest,
        "settings": settings,
    }
    predictions = prediction_frame(samples, test_ids, out.probabilities)
    predictions["prediction"] = out.predictions
    predictions["confidence"] = out.confidence
    write_parquet(out_predictions, predictions)
    write_json(out_report, report)
    log.info("%s: test accuracy %.4f (best base %s %.4f), log-loss %.4f", meta_requested, meta_test["accuracy"],
             best_base, base_perf[best_base]["test_acc"], meta_test["log_loss"])
    return report


def compare_meta_learners(report_paths: list[str], out_path: str) -> dict:
    """One table of every meta-learner's test scores against the best base, from their reports."""
    rows = {}
    for path in report_paths:
        report = read_json(path)
        perf = report["performance"]
        rows[report["meta_learner"]] = {
            "test_accuracy": perf["test_accuracy"], "test_log_loss": perf["test_log_loss"],
            "val_accuracy": perf["val_accuracy"], "val_log_loss": perf["val_log_loss"],
            "improvement_over_best_base": perf["improvement_over_best_base"],
            "log_loss_improvement_over_best_base": perf["log_loss_improvement_over_best_base"],
            "sharpe_ratio": perf["sharpe_ratio"], "max_drawdown": perf["max_drawdown"],
            "weights_method": report["meta_learner_weights_method"],
        }
    first = read_json(report_paths[0])
    summary = {
        "symbol": first["symbol"], "horizon": first["horizon"], "base_models": first["base_models"],
        "bases": {b: {"test_acc": p["test_acc"], "test_log_loss": p["test_log_loss"]}
                  for b, p in first["base_model_performance"].items()},
        "best_base": first["performance"]["best_base"],
        "meta_learners": rows,
    }
    write_json(out_path, summary)
    return summary
