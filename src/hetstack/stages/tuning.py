"""Stage functions of rules/tuning.smk: a base's study created, its trials run by several workers sharing
one Optuna storage, and the chosen params (with every trial, for the report's deflated Sharpe) written."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import read_json, write_json
from hetstack.stages.oof import TrainSettings
from hetstack.tables import SampleTable
from hetstack.tuning import (DEFAULTS_ATTR, WORKER_ATTR, TuningSettings, decode_positions, encode_positions,
                             make_pruner, make_sampler, make_storage, trial_params, tuning_span)

log = logging.getLogger("hetstack")


def study_name(run: str, base: str) -> str:
    return f"hetstack/{run}/{base}"


def journal_of(study_path: str | Path) -> Path:
    """The journal file beside study.json: written by every worker, never a rule's output (a failed
    worker's outputs are removed; the study's finished trials must stay)."""
    return Path(study_path).with_name("journal.log")


def open_study(study_path: str | Path, storage_url: str | None, **kwargs):
    import optuna

    info = read_json(study_path)
    storage = make_storage(storage_url, journal_of(study_path))
    return info, optuna.load_study(study_name=info["study_name"], storage=storage, **kwargs)


def create_study(base: str, run: str, labels_path: str, out_study: str, settings: TuningSettings,
                 storage_url: str | None = None) -> dict:
    """A fresh study (any earlier one of this run and base removed) whose first trial is the configured
    params; study.json names it and holds the settings every worker and the selection read."""
    import optuna

    samples = SampleTable.read(labels_path)
    train_ids = samples.ids_of("train")
    span = tuning_span(train_ids, settings.span_fraction)
    inner_folds(samples, settings)  # a span too short for its folds stops here, before any worker
    name = study_name(run, base)
    journal_path = journal_of(out_study)
    if not storage_url and os.path.exists(journal_path):
        os.remove(journal_path)  # a changed search starts over: its trials answered another question
    storage = make_storage(storage_url, journal_path)
    if storage_url and name in optuna.get_all_study_names(storage):
        optuna.delete_study(study_name=name, storage=storage)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    study.enqueue_trial({}, user_attrs={DEFAULTS_ATTR: True})
    info = {"base": base, "study_name": name, "storage": "rdb" if storage_url else "journal",
            "journal": None if storage_url else journal_path.name,
            "settings": settings.to_dict(),
            "span": {"n_samples": int(len(span)), "first_id": int(span[0]), "last_id": int(span[-1]),
                     "last_t1": int(samples.column("t1", span).max()), "n_train": int(len(train_ids))}}
    write_json(out_study, info)
    log.info("%s: study %s over %d span samples (ids %d..%d), %d trials", base, name, len(span), span[0], span[-1],
             settings.n_trials)
    return info


def inner_folds(samples: SampleTable, settings: TuningSettings) -> list:
    """The purged K-fold over the tuning span that every trial is scored by."""
    from hetstack.cv import purged_kfold
    from hetstack.errors import ConfigError, DataError

    span = tuning_span(samples.ids_of("train"), settings.span_fraction)
    try:
        return purged_kfold(span, samples.column("t1", span), settings.n_folds, settings.purge_bars,
                            settings.embargo_bars)
    except DataError as error:
        raise ConfigError("config: tuning.span_fraction", f"the span's {len(span)} samples in {settings.n_folds} "
                          f"purged folds: {error.problem}", "raise tuning.span_fraction, lower tuning.n_folds, or "
                          "lower oof.embargo_bars") from None


class SpanObjective:
    """Purged K-fold log loss over the tuning span: the Optuna objective of one base's study."""

    def __init__(self, base: str, arrays: dict[str, str], samples: SampleTable, tuning: TuningSettings,
                 train: TrainSettings, worker: int):
        self.base, self.arrays, self.samples, self.tuning, self.train, self.worker = (
            base, arrays, samples, tuning, train, worker)
        self.folds = inner_folds(samples, tuning)

    def __call__(self, trial) -> float:
        import optuna

        trial.set_user_attr(WORKER_ATTR, self.worker)
        params, changed = trial_params(trial, self.tuning)
        trial.set_user_attr("params", changed)
        losses = []
        for fold in self.folds:
            proba = fit_and_predict(self.base, self.arrays, self.samples, fold.train_ids, fold.test_ids,
                                    replace(self.train, params=params))
            y = self.samples.column("label", fold.test_ids)
            losses.append(-np.log(np.clip(proba[np.arange(len(y)), np.asarray(y, np.int64) + 1], 1e-15, 1.0)))
            trial.set_user_attr(f"positions{fold.index}",
                                encode_positions(np.asarray(CLASSES)[proba.argmax(axis=1)]))
            running = float(np.concatenate(losses).mean())
            trial.report(running, fold.index)
            if trial.should_prune():
                raise optuna.TrialPruned(f"log loss {running:.5f} after inner fold {fold.index}")
        return running


def fit_and_predict(base: str, arrays: dict[str, str], samples: SampleTable, fit_ids: np.ndarray,
                    predict_ids: np.ndarray, settings: TrainSettings) -> np.ndarray:
    """One inner fit of a trial: every row a tuning objective reads passes through here."""
    from hetstack.stages.oof import fit_base

    model, adapter = fit_base(base, arrays, samples, fit_ids, settings)
    return model.predict(adapter.rows(predict_ids)).probabilities


def run_worker(base: str, worker: int, arrays: dict[str, str], labels_path: str, study_path: str, out_summary: str,
               train: TrainSettings, storage_url: str | None = None) -> dict:
    """One of the study's workers: trials until the study holds n_trials finished ones or this worker's
    time budget is spent. A rerun after a kill marks its own abandoned trial failed and goes on."""
    import optuna
    from optuna.trial import TrialState

    tuning = TuningSettings(**read_json(study_path)["settings"])
    _, study = open_study(study_path, storage_url, sampler=make_sampler(tuning.sampler, train.seed + 7919 * worker),
                          pruner=make_pruner(tuning.pruner))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get(WORKER_ATTR) == worker:  # one job per worker id: a RUNNING one is a killed run's
            study.tell(trial.number, state=TrialState.FAIL)
            log.info("%s worker %d: trial %d of a killed run marked failed", base, worker, trial.number)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    before = {t.number for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING}
    if len(study.get_trials(deepcopy=False, states=finished)) < tuning.n_trials:
        samples = SampleTable.read(labels_path)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study.optimize(SpanObjective(base, arrays, samples, tuning, train, worker), timeout=tuning.timeout_s,
                       callbacks=[optuna.study.MaxTrialsCallback(tuning.n_trials, states=finished)])
    mine = [t for t in study.get_trials(deepcopy=False)
            if t.number not in before and t.user_attrs.get(WORKER_ATTR) == worker]
    summary = {"base": base, "worker": worker,
               "trials": [{"number": t.number, "state": t.state.name, "value": t.value,
                           "seconds": (t.duration.total_seconds() if t.duration else None)} for t in mine]}
    write_json(out_summary, summary)
    log.info("%s worker %d: ran %d trials", base, worker, len(mine))
    return summary


def select_params(base: str, labels_path: str, bars_path: str, study_path: str, out_tuned: str, horizon: int,
                  cost_bps: float, seed: int, storage_url: str | None = None) -> dict:
    """The study's best trial's params (the configured ones when trial 0 wins), every trial, and the
    trials' clusters: each finished trial's inner-OOF signals traded over the span as the report trades."""
    import pandas as pd
    from optuna.trial import TrialState

    from hetstack.evaluation import staggered_book
    from hetstack.io import read_parquet
    from hetstack.statistics import trial_clusters

    info, study = open_study(study_path, storage_url)
    tuning = TuningSettings(**info["settings"])
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    complete = [t for t in finished if t.state == TrialState.COMPLETE]
    if not complete:
        raise ValueError(f"{study_path}: study {info['study_name']} has no complete trial; rerun its workers "
                         "with a longer tuning timeout")
    best = min(complete, key=lambda t: (t.value, t.number))
    samples = SampleTable.read(labels_path)
    folds = inner_folds(samples, tuning)
    close = read_parquet(bars_path, columns=["close"])["close"].to_numpy(np.float64)
    returns = {}
    for t in finished:
        scored = [f for f in folds if f"positions{f.index}" in t.user_attrs]
        ids = np.concatenate([f.test_ids for f in scored])
        positions = np.concatenate([decode_positions(t.user_attrs[f"positions{f.index}"]) for f in scored])
        book = staggered_book(positions, ids, close, horizon, cost_bps)
        returns[t.number] = pd.Series(book.pnl, index=book.bars)
    clusters = trial_clusters(pd.DataFrame(returns), seed=seed)
    cluster_of = dict(zip(returns, clusters["labels"]))
    configured = next((t for t in complete if t.user_attrs.get(DEFAULTS_ATTR)), None)
    table = [{"number": t.number, "state": t.state.name, "value": t.value,
              "configured": bool(t.user_attrs.get(DEFAULTS_ATTR)), "params": t.user_attrs.get("params", {}),
              "intermediate": [t.intermediate_values[k] for k in sorted(t.intermediate_values)],
              "worker": t.user_attrs.get(WORKER_ATTR), "cluster": cluster_of.get(t.number),
              "seconds": t.duration.total_seconds() if t.duration else None} for t in trials]
    states = {s.name: sum(t.state == s for t in trials) for s in TrialState}
    out = {"base": base, "study_name": info["study_name"], "params": best.user_attrs.get("params", {}),
           "chosen_trial": best.number, "chosen_is_configured": bool(best.user_attrs.get(DEFAULTS_ATTR)),
           "objective": "purged K-fold log loss over the tuning span",
           "best_value": best.value, "configured_value": configured.value if configured else None,
           "n_trials": len(finished), "states": {k: v for k, v in states.items() if v},
           "effective_trials": clusters["n_clusters"], "chosen_cluster": cluster_of[best.number],
           "cluster_sharpes_per_bar": clusters["cluster_sharpes_per_bar"],
           "span": info["span"], "settings": info["settings"], "trials": table}
    write_json(out_tuned, out)
    log.info("%s: trial %d of %d chosen (log loss %.5f; configured %s), %d effective trials", base, best.number,
             len(finished), best.value, out["configured_value"], clusters["n_clusters"])
    return out
