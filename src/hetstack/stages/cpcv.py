"""Stage functions of rules/cpcv.smk: combinatorial purged CV over the train period (AFML ch. 12).

The train samples are cut into N groups. Each of the C(N, k) "outer" splits tests k groups; their
test predictions assemble phi = C(N-1, k-1) backtest paths, each covering every train sample once.
A meta-learner on outer split s (test groups T) is fitted on s's purged train rows, each row of a
group g with the base predictions of the "inner" split that tests T + {g}: a model that never
trained on g, on T, or on anything their labels touch. So neither the bases nor the meta-learner
behind a path's prediction of a row has seen that row or its test groups.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.io import read_json, read_parquet, write_json, write_parquet
from hetstack.tables import PROB_COLUMNS, SampleTable, load_folds, prob_columns

log = logging.getLogger("hetstack")


@dataclass(frozen=True)
class CpcvSettings:
    n_groups: int
    k_test_groups: int
    purge_bars: int
    embargo_bars: int


def write_cpcv_splits(labels_path: str, out_table: str, out_summary: str, settings: CpcvSettings) -> dict:
    """The outer (k test groups) then inner (k + 1) splits of the train samples: their role table
    (fold_table's codes, one `fold{j}` column a split) and a summary with the groups and the paths."""
    from hetstack.cv import check_cpcv, cpcv_groups, cpcv_paths, cpcv_splits, fold_table

    n_groups, k = check_cpcv(settings.n_groups, settings.k_test_groups)
    samples = SampleTable.read(labels_path)
    ids = samples.ids_of("train")
    t1 = samples.column("t1", ids)
    outer = cpcv_splits(ids, t1, n_groups, k, settings.purge_bars, settings.embargo_bars)
    inner = cpcv_splits(ids, t1, n_groups, k + 1, settings.purge_bars, settings.embargo_bars)
    for offset, split in enumerate(inner):
        split.index = len(outer) + offset
    splits = outer + inner
    summary = {
        "n_groups": n_groups, "k_test_groups": k, "n_outer": len(outer), "n_inner": len(inner),
        "groups": [[int(ids[g[0]]), int(ids[g[-1]])] for g in cpcv_groups(len(ids), n_groups)],
        "paths": cpcv_paths(n_groups, k),
        "splits": [{"split": s.index, "kind": "outer" if s.index < len(outer) else "inner",
                    "test_groups": list(s.test_groups), "n_train": len(s.train_ids), "n_test": len(s.test_ids),
                    "n_purged": len(s.purged_ids), "n_embargoed": len(s.embargoed_ids)} for s in splits],
        "purge_bars": settings.purge_bars, "embargo_bars": settings.embargo_bars,
    }
    write_parquet(out_table, fold_table(ids, splits).drop(columns="test_fold"))  # test groups overlap
    write_json(out_summary, summary)
    log.info("cpcv: %d groups, %d outer + %d inner splits, %d paths", n_groups, len(outer), len(inner),
             len(summary["paths"]))
    return summary


def run_cpcv_split(base: str, split: int, arrays: dict[str, str], labels_path: str, splits_path: str, out: str,
                   settings) -> None:
    """One CPCV job: the base fitted on the split's purged train rows predicts its test groups."""
    from hetstack.stages.oof import fit_fold, prediction_frame

    samples, this, _, _, probabilities = fit_fold(base, split, arrays, labels_path, splits_path, settings)
    write_parquet(out, prediction_frame(samples, this.test_ids, probabilities, split))


def _shard_probabilities(paths: list[str]) -> dict[int, pd.DataFrame]:
    """Per split: its test rows' probabilities, indexed by sample id."""
    frames = {}
    for path in paths:
        frame = read_parquet(path)
        frames[int(frame["fold"].iloc[0])] = frame.set_index("sample_id")[PROB_COLUMNS]
    return frames


def _group_of(summary: dict, ids: np.ndarray) -> np.ndarray:
    starts = np.array([first for first, _ in summary["groups"]])
    return np.searchsorted(starts, ids, side="right") - 1


def fit_cpcv_meta(meta: str, shards: dict[str, list[str]], labels_path: str, splits_path: str, summary_path: str,
                  bars_path: str, out: str, settings) -> pd.DataFrame:
    """The meta-learner of every outer split, fitted on inner-split predictions of its train rows,
    predicting the split's test groups from the outer split's base predictions."""
    from hetstack.catalogue import get_spec
    from hetstack.stages.meta import MetaFitter, sample_regime
    from hetstack.stages.oof import prediction_frame

    summary = read_json(summary_path)
    samples = SampleTable.read(labels_path)
    splits = load_folds(splits_path)
    bases = list(shards)
    predictions = {b: _shard_probabilities(paths) for b, paths in shards.items()}
    train_ids = samples.ids_of("train")
    regime = (sample_regime(meta, bars_path, train_ids, settings.regime_window)
              if get_spec(meta).cls.reads_regime else None)

    def regime_of(ids: np.ndarray):
        return None if regime is None else regime[np.searchsorted(train_ids, ids)]

    frames = []
    for split in splits[:summary["n_outer"]]:
        rows = split.train_ids
        source = meta_row_sources(summary, split.index, rows)
        fit = _meta_matrix(samples, rows, {b: _rows_from(predictions[b], rows, source) for b in bases})
        test = _meta_matrix(samples, split.test_ids,
                            {b: predictions[b][split.index].loc[split.test_ids].to_numpy() for b in bases})
        model = MetaFitter(meta, fit, bases, settings, regime_of(rows)).fit(np.ones(len(rows), dtype=bool))
        scorer = MetaFitter(meta, test, bases, settings, regime_of(split.test_ids))
        probabilities = scorer.predict(model, np.ones(len(split.test_ids), dtype=bool))
        frames.append(prediction_frame(samples, split.test_ids, probabilities, split.index))
        log.info("%s: CPCV split %d (test groups %s) fitted on %d rows", meta, split.index,
                 summary["splits"][split.index]["test_groups"], len(rows))
    result = pd.concat(frames, ignore_index=True)
    write_parquet(out, result)
    return result


def meta_row_sources(summary: dict, split: int, rows: np.ndarray) -> np.ndarray:
    """For the meta-learner of outer split `split` (test groups T): the inner split whose test
    predictions feed each of its train `rows`, the one testing T + {the row's group}."""
    inner = {tuple(s["test_groups"]): s["split"] for s in summary["splits"] if s["kind"] == "inner"}
    tested = set(summary["splits"][split]["test_groups"])
    return np.array([inner[tuple(sorted(tested | {int(g)}))] for g in _group_of(summary, rows)], dtype=np.int64)


def _rows_from(frames: dict[int, pd.DataFrame], ids: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Probabilities of each id from the split named in `source` (which tests that id's group)."""
    out = np.empty((len(ids), len(PROB_COLUMNS)))
    for split in np.unique(source):
        chosen = source == split
        out[chosen] = frames[int(split)].loc[ids[chosen]].to_numpy()
    return out


def _meta_matrix(samples: SampleTable, ids: np.ndarray, probabilities: dict[str, np.ndarray]) -> pd.DataFrame:
    matrix = pd.DataFrame({"sample_id": ids, "t1": samples.column("t1", ids),
                           "label": samples.column("label", ids), "weight": samples.column("weight", ids)})
    for base, values in probabilities.items():
        for column, v in zip(prob_columns(base), values.T):
            matrix[column] = v
    return matrix


def path_statistics(summary: dict, predictions: dict[str, pd.DataFrame], samples: SampleTable, close: np.ndarray,
                    stamps: np.ndarray, horizon: int, cost_bps: float, prior: np.ndarray) -> dict:
    """Accuracy, log loss, skill, Sharpe and drawdown of every model on every backtest path (each
    path: every train sample once, predicted by the split its path takes for its group)."""
    from hetstack.evaluation import classification_metrics, trading_metrics

    metrics = ("accuracy", "log_loss", "skill", "sharpe_ratio", "max_drawdown")
    n_rows = int(sum(np.searchsorted(samples.ids, last, side="right") - np.searchsorted(samples.ids, first)
                     for first, last in summary["groups"]))
    paths: dict[str, list[dict]] = {}
    for name, frame in predictions.items():
        by_split = {int(s): f.set_index("sample_id") for s, f in frame.groupby("fold")}
        paths[name] = []
        for path in summary["paths"]:
            parts = []
            for group, split in enumerate(path):
                first, last = summary["groups"][group]
                part = by_split[split]
                parts.append(part[(part.index >= first) & (part.index <= last)])
            rows = pd.concat(parts)
            ids = rows.index.to_numpy(np.int64)
            if not (np.diff(ids) > 0).all() or len(ids) != n_rows:
                raise ValueError(f"{name}: a CPCV path does not cover the train samples once each, in order")
            proba = rows[PROB_COLUMNS].to_numpy(np.float64)
            scores = classification_metrics(samples.column("label", ids), proba, prior=prior)
            trading = trading_metrics(np.asarray(CLASSES)[proba.argmax(axis=1)], ids, close, stamps, horizon, cost_bps)
            paths[name].append({**{k: scores[k] for k in metrics[:3]}, **{k: trading[k] for k in metrics[3:]}})
    summary_stats = {name: {k: _spread([p[k] for p in per_path]) for k in metrics} for name, per_path in paths.items()}
    return {"n_groups": summary["n_groups"], "k_test_groups": summary["k_test_groups"],
            "n_splits": summary["n_outer"], "n_inner_splits": summary["n_inner"], "n_paths": len(summary["paths"]),
            "n_rows_per_path": n_rows, "paths": paths, "summary": summary_stats}


def _spread(values: list[float]) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "min": float(values.min()), "max": float(values.max())}


def cpcv_report(summary_path: str, base_shards: dict[str, list[str]], meta_predictions: dict[str, str],
                labels_path: str, bars_path: str, horizon: int, cost_bps: float, prior: np.ndarray) -> dict:
    """The report's `cpcv` section: path statistics of the bases (outer splits) and meta-learners."""
    summary = read_json(summary_path)
    outer = {}
    for base, paths in base_shards.items():
        frames = [read_parquet(p) for p in paths]
        outer[base] = pd.concat([f for f in frames if int(f["fold"].iloc[0]) < summary["n_outer"]], ignore_index=True)
    metas = {m: read_parquet(p) for m, p in meta_predictions.items()}
    bars = read_parquet(bars_path, columns=["timestamp", "close"])
    samples = SampleTable.read(labels_path)
    stats = path_statistics(summary, {**outer, **metas}, samples, bars["close"].to_numpy(np.float64),
                            bars["timestamp"].to_numpy(), horizon, cost_bps, prior)
    stats["reading"] = (f"{stats['n_paths']} backtest paths of the train period from {stats['n_splits']} purged "
                        f"splits ({summary['k_test_groups']} of {summary['n_groups']} groups tested each, "
                        f"{stats['n_inner_splits']} more for the meta-learners' inputs): the spread of a score "
                        "over the paths is how much one backtest of it can be trusted")
    return stats
