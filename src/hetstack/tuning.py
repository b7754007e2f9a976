"""Hyperparameter tuning inside the purged folds, with Optuna, nested so that nothing scored was tuned on.

The scheme (docs/method.md): one study per run and base on the *tuning span*, the earliest
`span_fraction` of the train samples. A trial's objective is the purged K-fold log loss over the span
alone; each inner fit carves its purged early-stopping slice from its own training rows. The
meta-learner never reads an OOF row of the span, nor one that the train/test gap would keep from it
(a label overlapping the span, or within purge + embargo bars after it: `meta_rows`), and the test
period lies after the train period's own gap. So no row that a reported figure is measured on was
ever fitted or scored inside a tuning objective.

A trial applies the configured model params with the sampled ones on top; trial 0 of every study is
the configured params themselves, so a study's best is never worse than the defaults on its objective.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hetstack.errors import ConfigError

SPACE_TYPES = ("int", "float", "categorical")
DEFAULTS_ATTR = "configured_params"  # user attr of the enqueued trial that runs the configured params
WORKER_ATTR = "worker"
POSITION_CHARS = {-1: "-", 0: "0", 1: "+"}  # a trial's inner-OOF signals, one character a span sample


@dataclass
class TuningSettings:
    """One base's study: the search, its budget and the inner purged K-fold over the span."""

    space: dict[str, dict]
    n_trials: int
    timeout_s: float | None
    span_fraction: float
    n_folds: int
    purge_bars: int
    embargo_bars: int
    sampler: str = "tpe"
    pruner: str = "median"
    params: dict[str, Any] = field(default_factory=dict)  # the configured model params, trial 0

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def check_space(space: Any, where: str) -> dict[str, dict]:
    """A search space as config gives it: {param: {type: int|float|categorical, low, high, log, step,
    choices, as_list}}; `as_list: true` hands the model a one-element list (e.g. logistic_window's C_grid)."""
    if not isinstance(space, dict) or not space:
        raise ConfigError(where, f"must map parameter names to ranges, got {space!r}",
                          "give e.g. {learning_rate: {type: float, low: 0.01, high: 0.2, log: true}}")
    out = {}
    for name, spec in space.items():
        key = f"{where}.{name}"
        if not isinstance(spec, dict) or spec.get("type") not in SPACE_TYPES:
            raise ConfigError(key, f"needs a type among {', '.join(SPACE_TYPES)}, got {spec!r}",
                              "give {type: float, low: ..., high: ...} or {type: categorical, choices: [...]}")
        spec = dict(spec)
        if spec["type"] == "categorical":
            if not isinstance(spec.get("choices"), list) or not spec["choices"]:
                raise ConfigError(key, "a categorical range needs a non-empty list `choices`", "list the values")
        else:
            low, high = spec.get("low"), spec.get("high")
            numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                          for v in (low, high))
            if not numeric or not low < high or (spec.get("log") and low <= 0):
                raise ConfigError(key, f"needs finite low < high (> 0 with log), got low {low!r}, high {high!r}",
                                  "give e.g. low: 0.01, high: 0.2")
            if spec["type"] == "int" and not (float(low).is_integer() and float(high).is_integer()):
                raise ConfigError(key, f"an int range needs integer bounds, got {low!r} and {high!r}",
                                  "give whole numbers or type: float")
        unknown = set(spec) - {"type", "low", "high", "log", "step", "choices", "as_list"}
        if unknown:
            raise ConfigError(key, f"unknown fields {sorted(unknown)}", "use type, low, high, log, step, choices, as_list")
        out[str(name)] = spec
    return out


def suggest(trial, space: dict[str, dict]) -> dict[str, Any]:
    """The model params a trial samples from the space (Optuna's distributions, its sampler's choice)."""
    params = {}
    for name, spec in space.items():
        if spec["type"] == "int":
            value = trial.suggest_int(name, int(spec["low"]), int(spec["high"]), step=int(spec.get("step") or 1),
                                      log=bool(spec.get("log", False)))
        elif spec["type"] == "float":
            value = trial.suggest_float(name, float(spec["low"]), float(spec["high"]), step=spec.get("step"),
                                        log=bool(spec.get("log", False)))
        else:
            value = trial.suggest_categorical(name, spec["choices"])
        params[name] = [value] if spec.get("as_list") else value
    return params


def trial_params(trial, settings: TuningSettings) -> tuple[dict, dict]:
    """(the params the trial fits with, those it changed): trial 0 runs the configured params as they are."""
    if trial.user_attrs.get(DEFAULTS_ATTR):
        return dict(settings.params), {}
    changed = suggest(trial, settings.space)
    return {**settings.params, **changed}, changed


def tuning_span(train_ids: np.ndarray, span_fraction: float) -> np.ndarray:
    """The earliest ceil(span_fraction * n) train samples: the only rows a tuning objective reads."""
    from hetstack.cv import _ceil_share, _check_fraction

    span_fraction = _check_fraction(span_fraction, "tuning.span_fraction", 0.9, upper_inclusive=True)
    n = max(1, _ceil_share(span_fraction, len(train_ids)))
    if n >= len(train_ids):
        raise ConfigError("config: tuning.span_fraction", f"leaves no train samples after the span of {n}",
                          "lower tuning.span_fraction or use more bars")
    return np.asarray(train_ids[:n], dtype=np.int64)


def meta_rows(train_ids, train_t1, span_fraction: float, purge_bars: int, embargo_bars: int) -> np.ndarray:
    """Mask over the train samples of the rows the meta-learner may read: neither in the span, nor
    purged against it (label overlapping it, or within purge_bars before it), nor in the embargo after
    its last label end; the gap the test split keeps from the train period."""
    from hetstack.cv import purge_and_embargo

    train_ids = np.asarray(train_ids, dtype=np.int64)
    train_t1 = np.asarray(train_t1, dtype=np.int64)
    span = tuning_span(train_ids, span_fraction)
    rest = len(span)
    kept, _, _ = purge_and_embargo(train_ids[rest:], train_t1[rest:], span, train_t1[:rest], purge_bars, embargo_bars)
    if kept.size == 0:
        raise ConfigError("config: tuning.span_fraction", "leaves the meta-learner no OOF rows after the span's "
                          f"purge and embargo ({purge_bars} + {embargo_bars} bars)",
                          "lower tuning.span_fraction, oof.embargo_bars, or use more bars")
    return np.isin(train_ids, kept)


def make_storage(url: str | None, journal_path: str | Path):
    """The study's storage: an RDB URL shared by the workers (any node reaching the database), else
    Optuna's journal file beside the run's outputs; its lock works across nodes on NFS, so SLURM
    workers on a shared filesystem share it. A killed worker leaves the file whole (appends only)."""
    import optuna

    if url:
        return optuna.storages.RDBStorage(url)
    from optuna.storages.journal import JournalFileBackend

    # An absolute path: the lock is a symlink to it, and Optuna breaks a killed worker's stale lock after
    # its grace period only when that link resolves (a relative one never does: waiters spin forever).
    return optuna.storages.JournalStorage(JournalFileBackend(str(Path(journal_path).resolve())))


def make_sampler(name: str, seed: int):
    import optuna

    if name == "tpe":
        # independent TPE: the workers' proposals differ by seed; n_startup random trials first
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError("config: tuning.sampler", f"unknown sampler {name!r}", "use tpe or random")


def make_pruner(name: str):
    import optuna

    if name == "median":
        # a trial whose running log loss after an inner fold is worse than the median of earlier trials
        # at that fold stops there; the first 3 trials always finish
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError("config: tuning.pruner", f"unknown pruner {name!r}", "use median or none")


def encode_positions(positions: np.ndarray) -> str:
    return "".join(POSITION_CHARS[int(p)] for p in positions)


def decode_positions(text: str) -> np.ndarray:
    lookup = {c: p for p, c in POSITION_CHARS.items()}
    return np.fromiter((lookup[c] for c in text), dtype=np.int8, count=len(text))
