"""Stage functions of rules/walkforward.smk (oos.scheme: walkforward): retrain as a trader would and
stack online.

The samples after the initial span (the labels' `test` split, the record) are cut into consecutive
windows. Window w's bases are refitted on every sample known before its first bar (cv.known_before:
the test period's purge and embargo) and predict the window. Its meta-learner is fitted on the rows
whose base predictions are out of sample and whose labels are known before the window: the purged
K-fold OOF rows of the initial span and the walk-forward predictions of the earlier windows. No
nested cross-validation: each row's base predictions come from models that never trained on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hetstack.cv import Fold
from hetstack.io import atomic_dir, read_parquet, write_json, write_parquet
from hetstack.tables import PROB_COLUMNS, SampleTable, load_folds, prob_columns

log = logging.getLogger("hetstack")

OOF_ROWS = -1  # `window` of a meta row whose base predictions are the initial span's purged K-fold OOF


class LeakError(RuntimeError):
    """A walk-forward meta-learner would read a row whose label or base predictions are not out of sample: a bug, never
    the user's input."""


@dataclass(frozen=True)
class WalkforwardSettings:
    n_windows: int
    purge_bars: int
    embargo_bars: int
    train_bars: int | None = None  # rolling: bars of history before a window's cut; None: expanding


def write_windows(labels_path: str, out_table: str, out_summary: str, settings: WalkforwardSettings) -> dict:
    """The windows' role table (cv.fold_table codes, column fold{w} for window w) and their summary."""
    from hetstack.cv import fold_table, walkforward_windows

    samples = SampleTable.read(labels_path)
    ids, record = samples.ids, samples.ids_of("test")
    windows = walkforward_windows(ids, samples.column("t1", ids), record, settings.n_windows, settings.purge_bars,
                                  settings.embargo_bars, settings.train_bars)
    stamps = samples.column("timestamp", ids)
    initial = samples.ids_of("train")

    def period(members: np.ndarray) -> list[str]:
        return [str(stamps[np.searchsorted(ids, members[0])]), str(stamps[np.searchsorted(ids, members[-1])])]

    summary = {
        "n_windows": len(windows),
        "train_window": "expanding" if settings.train_bars is None else "rolling",
        "train_bars": settings.train_bars, "purge_bars": settings.purge_bars, "embargo_bars": settings.embargo_bars,
        "initial": {"samples": [int(initial[0]), int(initial[-1])], "n": len(initial), "period": period(initial)},
        "record": {"samples": [int(record[0]), int(record[-1])], "n": len(record), "period": period(record)},
        "windows": [{"window": w.index, "test": [int(w.test_ids[0]), int(w.test_ids[-1])], "period": period(w.test_ids),
                     "n_test": len(w.test_ids), "train": [int(w.train_ids[0]), int(w.train_ids[-1])],
                     "n_train": len(w.train_ids), "n_purged": len(w.purged_ids)} for w in windows],
    }
    write_parquet(out_table, fold_table(ids, windows))
    write_json(out_summary, summary)
    log.info("walk-forward: %d windows over %d record samples after %d initial ones", len(windows), len(record),
             len(initial))
    return summary


def window_samples(samples: SampleTable, train_ids: np.ndarray) -> SampleTable:
    """The sample table with uniqueness weights of `train_ids` among themselves (mean 1), NaN elsewhere:
    the labels' weights cover the initial span only, and a window trains on more."""
    frame = samples.frame.copy()
    weight = np.full(len(frame), np.nan)
    weight[samples.positions(train_ids)] = uniqueness_among(train_ids, samples.column("t1", train_ids))
    frame["weight"] = weight
    return SampleTable(frame)


def uniqueness_among(ids: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """AFML 4.4 average uniqueness of these labels among themselves alone (mean 1)."""
    from hetstack.labels import average_uniqueness

    t1 = np.asarray(t1, dtype=np.int64)
    return average_uniqueness(np.asarray(ids, dtype=np.int64), t1, int(t1.max()) + 1)


def run_window(base: str, window: int, arrays: dict[str, str], labels_path: str, windows_path: str,
               out_model_dir: str, out_predictions: str, settings) -> None:
    """One walk-forward job: the base refitted on window `window`'s train samples (early stopping on a
    purged slice of them), saved, and its predictions of the window's samples."""
    from hetstack.stages.oof import fit_base, prediction_frame

    windows = load_folds(windows_path)
    if not 0 <= window < len(windows):
        raise ValueError(f"window {window} out of range: {windows_path} has {len(windows)} windows")
    this = windows[window]
    samples = window_samples(SampleTable.read(labels_path), this.train_ids)
    model, adapter = fit_base(base, arrays, samples, this.train_ids, settings)
    probabilities = model.predict(adapter.rows(this.test_ids)).probabilities
    with atomic_dir(out_model_dir) as tmp_dir:
        model.save(tmp_dir)
    write_parquet(out_predictions, prediction_frame(samples, this.test_ids, probabilities, window))
    log.info("%s window %d: fitted on %d samples, predicted %d", base, window, len(this.train_ids),
             len(this.test_ids))


def _window_rows(samples: SampleTable, shards: dict[str, list[str]], windows: list[int]) -> pd.DataFrame:
    """Meta-matrix rows of the given windows: every base's walk-forward predictions side by side."""
    frames = {b: pd.concat([read_parquet(paths[w]) for w in windows], ignore_index=True) for b, paths in shards.items()}
    first = next(iter(frames.values()))
    ids = first["sample_id"].to_numpy(np.int64)
    rows = pd.DataFrame({"sample_id": ids, "timestamp": samples.column("timestamp", ids),
                         "t1": samples.column("t1", ids), "fold": np.int16(OOF_ROWS),
                         "window": first["fold"].to_numpy(np.int16),
                         "label": samples.column("label", ids).astype(np.int8), "weight": np.nan})
    for base, frame in frames.items():
        if not np.array_equal(frame["sample_id"].to_numpy(), ids):
            raise ValueError(f"{base}: walk-forward predictions cover other samples than {next(iter(frames))}'s")
        for src, dst in zip(PROB_COLUMNS, prob_columns(base)):
            rows[dst] = frame[src].to_numpy()
    return rows


def window_meta_rows(matrix: pd.DataFrame, samples: SampleTable, shards: dict[str, list[str]], windows: list[Fold],
                     window: int, purge_bars: int, embargo_bars: int) -> pd.DataFrame:
    """The rows window `window`'s meta-learner is fitted on: the OOF matrix and the earlier windows'
    predictions, kept where known before the window (cv.known_before), with uniqueness weights among
    themselves. `shards`: per base, the prediction files of windows 0 .. `window` - 1 in order."""
    from hetstack.cv import known_before

    oof = matrix.assign(window=np.int16(OOF_ROWS))
    earlier = [_window_rows(samples, shards, list(range(window)))] if window else []
    rows = pd.concat([oof, *earlier], ignore_index=True)
    start = int(windows[window].test_ids[0])
    fit = rows[known_before(rows["sample_id"], rows["t1"], start, purge_bars, embargo_bars)].reset_index(drop=True)
    fit["weight"] = uniqueness_among(fit["sample_id"], fit["t1"])
    return fit


def check_meta_rows(fit: pd.DataFrame, samples: SampleTable, folds: list[Fold], windows: list[Fold], window: int,
                    purge_bars: int, embargo_bars: int) -> None:
    """Raise LeakError unless every row window `window`'s meta-learner reads is honest: its label resolved
    before the window's first bar and its id before the purge and embargo gap; its base predictions from a
    purged K-fold model (or an earlier window's) that held it out as a test row, never trained on it."""
    ids = fit["sample_id"].to_numpy(np.int64)
    start = int(windows[window].test_ids[0])
    gap = purge_bars + embargo_bars
    t1 = samples.column("t1", ids)
    late = (ids >= start - gap) | (t1 >= start)
    if late.any():
        raise LeakError(f"walk-forward window {window}: meta row {int(ids[late][0])} (label end {int(t1[late][0])}) is "
                        f"not known before the window starts at bar {start} with a {gap}-bar gap")
    source_window, source_fold = fit["window"].to_numpy(), fit["fold"].to_numpy()
    for what, source, splits in (("fold", source_fold, folds), ("window", source_window, windows)):
        for k in np.unique(source[source >= 0]):
            if what == "window" and k >= window:
                raise LeakError(f"walk-forward window {window}: meta rows carry predictions of window {k}")
            mine = ids[source == k]
            held_out = np.isin(mine, splits[k].test_ids)  # test and train roles are disjoint
            if not held_out.all():
                raise LeakError(f"walk-forward window {window}: meta row {int(mine[~held_out][0])} has base "
                                f"predictions of {what} {k}, whose models did not hold it out")
    orphans = (source_window == OOF_ROWS) & (source_fold < 0)
    if orphans.any():
        raise LeakError(f"walk-forward window {window}: meta row {int(ids[orphans][0])} has no known source of predictions")


def fit_window_meta(meta: str, matrix_path: str, shards: dict[str, list[str]], labels_path: str, folds_path: str,
                    windows_path: str, bars_path: str, window: int, out_model_dir: str, settings) -> None:
    """Window `window`'s meta-learner (meta_auto choosing on the same rows), fitted and validated as fit_meta
    on the honest rows known before the window. `shards`: per base, its predictions of the earlier windows."""
    from hetstack.stages.meta import fit_meta_rows, save_meta

    samples = SampleTable.read(labels_path)
    windows = load_folds(windows_path)
    fit = window_meta_rows(read_parquet(matrix_path), samples, shards, windows, window, settings.purge_bars,
                           settings.embargo_bars)
    check_meta_rows(fit, samples, load_folds(folds_path), windows, window, settings.purge_bars, settings.embargo_bars)
    model, validation = fit_meta_rows(meta, fit, list(shards), settings, bars_path)
    counts = fit["window"].value_counts()
    validation["walkforward"] = {
        "window": window, "first_sample": int(windows[window].test_ids[0]), "n_fit_rows": len(fit),
        "fit_rows": {"oof": int(counts.get(OOF_ROWS, 0)),
                     **{f"window{int(k)}": int(n) for k, n in sorted(counts.items()) if k != OOF_ROWS}},
        "last_fit_label_end": int(fit["t1"].max()),
    }
    save_meta(meta, model, validation, out_model_dir)
    log.info("%s window %d: fitted on %d honest rows %s", meta, window, len(fit), validation["walkforward"]["fit_rows"])


def deploy_model(model_dir: str, out_dir: str) -> None:
    """The last window's model copied to where `hetstack predict` and the report look: the one a trader runs."""
    import shutil

    with atomic_dir(out_dir) as tmp_dir:
        shutil.copytree(model_dir, tmp_dir, dirs_exist_ok=True)


def concat_record(shards: list[str], out: str) -> None:
    """A base's (or meta-learner's) predictions of the whole record: its windows' in order, as a test file."""
    frame = pd.concat([read_parquet(p) for p in shards], ignore_index=True)
    ids = frame["sample_id"].to_numpy(np.int64)
    if len(ids) > 1 and not (np.diff(ids) > 0).all():
        raise ValueError(f"{shards}: walk-forward windows overlap or are out of order")
    write_parquet(out, frame.drop(columns="fold"))
