"""Stage functions of rules/report.smk: the report of one meta-learner, and all of them side by side."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.io import read_json, read_parquet, write_json, write_parquet
from hetstack.tables import PROB_COLUMNS, SampleTable, prob_columns
from hetstack.stages.cpcv import cpcv_report
from hetstack.stages.oof import prediction_frame

log = logging.getLogger("hetstack")


@dataclass(frozen=True)
class ReportSettings:
    symbol: str
    horizon: int
    cost_bps: float  # trading cost per unit of turnover, in basis points
    config_digest: str
    settings: dict  # the run's settings, copied into the report as they are
    regime_window: int = 1440  # bars behind the regime features, for a meta that reads them
    statistics: dict = field(default_factory=lambda: {"bootstrap_reps": 1000, "confidence": 0.95, "pbo_blocks": 16})
    seed: int = 42  # of the bootstrap resamples
    bet_sizing: bool = False  # trading.bet_sizing: a book sized by the probabilities beside the unit book
    replicate: int = 0  # seed replicate r > 0: its models were fitted with seed fit_seed
    fit_seed: int | None = None


@dataclass(frozen=True)
class CpcvInputs:
    summary: str  # cpcv/splits.json
    base_shards: dict[str, list[str]]  # per base, its split shards
    meta_predictions: dict[str, str]  # per meta-learner (this one first), its path predictions


@dataclass(frozen=True)
class WalkforwardInputs:
    summary: str  # walkforward/windows.json
    meta_dirs: dict[str, list[str]]  # per meta-learner (this one and the trials), its window models in order


def build_report(meta_requested: str, meta_dir: str, base_tests: dict[str, str], matrix_path: str, labels_path: str,
                 bars_path: str, out_report: str, out_predictions: str, run: ReportSettings, *, source_path: str,
                 trial_meta_dirs: dict[str, str] | None = None, cpcv: CpcvInputs | None = None,
                 walkforward: WalkforwardInputs | None = None, tuned_paths: dict[str, str] | None = None,
                 meter_paths: dict[str, str] | None = None) -> dict:
    """Score the stacked ensemble and each base on the same hold-out rows; write the report JSON.
    `trial_meta_dirs`: the run's other meta-learners, compared with this one as trials (DSR, PBO);
    `cpcv`: the CPCV paths of the train period to summarize (oof.scheme: cpcv);
    `walkforward`: the windows and their meta-learners (oos.scheme: walkforward): the hold-out rows are
    the record, each window's predicted by that window's meta-learner, and the report adds a table per window;
    `tuned_paths`: per tuned base, its study's choice and trials (tuning/{base}/tuned.json), counted in the DSR;
    `meter_paths`: per metered base, its shuffled-fold OOF predictions (leakage_meter), for the meter alone;
    `source_path`: the bars' source record (rule bars), stated at the top of the report."""
    from hetstack.evaluation import (book_positions, class_prior, classification_metrics, passes_through,
                                     trading_metrics)
    from hetstack.catalogue import get_spec, load_model

    meta = load_model(meta_dir)
    base_names = list(base_tests)  # every configured base; the meta may read fewer (dropped_bases)
    frames, test_ids = _aligned_test_frames(base_tests)
    samples = SampleTable.read(labels_path)
    y_test = samples.column("label", test_ids)
    X_test = np.hstack([frames[b][PROB_COLUMNS].to_numpy(np.float64) for b in base_names])
    bars = read_parquet(bars_path, columns=["timestamp", "close"])
    summary = None if walkforward is None else read_json(walkforward.summary)
    windows = None if summary is None else summary["windows"]

    def predict(name: str, model_dir: str):
        """(the meta-learner's output on the hold-out rows, each walk-forward window's base weights or None)"""
        if walkforward is None:
            model = meta if name == meta_requested else load_model(model_dir)
            return _predict_meta(model, frames, bars, test_ids, run.regime_window), None
        return _predict_windows(walkforward.meta_dirs[name], windows, frames, bars, test_ids, run.regime_window)

    out, window_weights = predict(meta_requested, meta_dir)
    matrix = read_parquet(matrix_path)
    prior = class_prior(matrix["label"].to_numpy())  # train labels' shares: no test label in the reference
    validation = read_json(Path(meta_dir) / "validation.json")
    close, stamps = bars["close"].to_numpy(np.float64), bars["timestamp"].to_numpy()

    def trading(probabilities: np.ndarray, sized: bool = False) -> dict:
        return trading_metrics(book_positions(probabilities, sized), test_ids, close, stamps, run.horizon,
                               run.cost_bps)

    base_perf = _base_performance(base_names, X_test, y_test, matrix, validation, prior, meta.base_names, trading)
    if run.bet_sizing:
        for i, b in enumerate(base_names):
            base_perf[b]["trading_sized"] = trading(X_test[:, 3 * i:3 * i + 3], sized=True)
    no_skill = _bases_without_skill(meta_requested, base_perf, meta.base_names)
    meta_test = classification_metrics(y_test, out.probabilities, prior=prior)
    meta_trading = trading(out.probabilities)
    best_base = min(base_names, key=lambda b: base_perf[b]["oof_log_loss"])  # chosen without a test row
    passes = passes_through(out.probabilities, {b: X_test[:, 3 * i:3 * i + 3] for i, b in enumerate(base_names)})
    trials = {**{b: X_test[:, 3 * i:3 * i + 3] for i, b in enumerate(base_names)}, meta_requested: out.probabilities,
              **{name: predict(name, path)[0].probabilities for name, path in (trial_meta_dirs or {}).items()}}
    tuning = tuning_summary(tuned_paths or {})
    statistics = score_statistics(y_test, test_ids, samples.column("t1", test_ids), trials, prior,
                                  (meta_requested, best_base), close, meta_trading["bars_per_year"], run,
                                  tuning_sharpes=tuning["extra_trial_sharpes_per_bar"] if tuning else ())
    if passes == best_base:  # the gain is zero by construction: no interval to print
        statistics["gain_intervals"] = None
    for name, perf in base_perf.items():
        perf["intervals"] = statistics["intervals"][name]
    source = read_json(source_path)
    report = {
        "symbol": run.symbol,
        "horizon": run.horizon,
        **({"replicate": run.replicate, "fit_seed": run.fit_seed} if run.replicate else {}),
        "data_source": source,
        "meta_learner": meta_requested,
        # the base whose probabilities the meta-learner passes on unchanged (auto keeping a base), else None
        "passes_through": passes,
        "meta_learner_type": get_spec(meta_requested).name.removeprefix("meta_"),
        "base_models": base_names,
        "base_model_performance": base_perf,
        "bases_without_oof_skill": no_skill,
        "meta_inputs": list(meta.base_names),
        "skill_reference": "log loss of always forecasting the class shares of the train (OOF) labels "
                           f"{dict(zip(map(str, CLASSES), map(float, prior)))} minus the model's; > 0 is skill",
        "meta_learner_weights": out.base_weights,
        "meta_learner_weights_method": meta.weights_method,
        "meta_learner_coefficients": meta.coefficients() if hasattr(meta, "coefficients") else None,
        "meta_learner_regime_weights": meta.regime_weights() if hasattr(meta, "regime_weights") else None,
        "performance": {**_meta_performance(validation["meta"], meta_test, meta_trading, base_perf, best_base),
                        **({"trading_sized": trading(out.probabilities, sized=True)} if run.bet_sizing else {}),
                        "intervals": statistics["intervals"][meta_requested],
                        "gain_intervals": statistics["gain_intervals"]},
        **({} if not run.bet_sizing else {"bet_sizing": bet_sizing_summary(
            {b: X_test[:, 3 * i:3 * i + 3] for i, b in enumerate(base_names)} | {meta_requested: out.probabilities},
            (meta_requested, best_base), test_ids, close, meta_trading["bars_per_year"],
            statistics["bootstrap"]["sharpe_block"], run)}),
        "trading_caveats": trading_caveats(meta_trading, statistics, meta_requested, source, run, len(test_ids)),
        "statistics": {k: v for k, v in statistics.items() if k not in ("intervals", "gain_intervals")},
        # oos.scheme walkforward only, so that a single-split report keeps its bytes
        **({} if walkforward is None else {"walkforward": window_table(
            windows, walkforward.meta_dirs[meta_requested], test_ids, samples.column("t1", test_ids), y_test,
            trials, prior, best_base, meta_requested, window_weights, summary,
            close, meta_trading["bars_per_year"], run)}),
        "cpcv": None if cpcv is None else cpcv_report(cpcv.summary, cpcv.base_shards, cpcv.meta_predictions,
                                                      labels_path, bars_path, run.horizon, run.cost_bps, prior),
        # tuning.bases only, so that an untuned report keeps its bytes
        **({"tuning": tuning} if tuning else {}),
        **({"leakage_meter": leakage_meter(meter_paths, matrix, frames, y_test)} if meter_paths else {}),
        "samples": _sample_counts(matrix, test_ids, validation, samples),
        "validation_mode": validation["mode"],
        # meta_auto: every candidate's purged K-fold scores over the meta's fit rows, and the one chosen
        "meta_auto_choice": validation.get("auto_choice"),
        "config_digest": run.config_digest,
        "settings": run.settings,
    }
    predictions = prediction_frame(samples, test_ids, out.probabilities)
    predictions["prediction"] = out.predictions
    predictions["confidence"] = out.confidence
    write_parquet(out_predictions, predictions)
    write_json(out_report, report)
    log.info("%s: test accuracy %.4f (best base %s %.4f), log-loss %.4f", meta_requested, meta_test["accuracy"],
             best_base, base_perf[best_base]["test_acc"], meta_test["log_loss"])
    return report


def bet_sizing_summary(probabilities: dict[str, np.ndarray], pair: tuple[str, str], test_ids: np.ndarray,
                       close: np.ndarray, bars_per_year: float, block: int, run: ReportSettings) -> dict:
    """Unit and sized books of the meta-learner and the best base side by side: Sharpe and turnover of
    each, and the meta's Sharpe gain over the base in each book with a paired block-bootstrap interval."""
    from hetstack.evaluation import book_positions, staggered_book
    from hetstack.statistics import sharpe_gap_interval, sharpe_ratios

    cfg = run.statistics
    books, gains = {}, {}
    for kind, sized in (("unit", False), ("sized", True)):
        pnl = {}
        for name in pair:
            book = staggered_book(book_positions(probabilities[name], sized), test_ids, close, run.horizon,
                                  run.cost_bps)
            pnl[name] = book.pnl
            books.setdefault(name, {})[kind] = {
                "sharpe_ratio": float(sharpe_ratios(book.pnl[:, None], bars_per_year)[0]),
                "turnover": float(book.traded.sum()), "mean_abs_position": float(np.abs(book.position).mean())}
        gains[kind] = {"sharpe_gain": books[pair[0]][kind]["sharpe_ratio"] - books[pair[1]][kind]["sharpe_ratio"],
                       "interval": sharpe_gap_interval(pnl[pair[0]], pnl[pair[1]], block, bars_per_year,
                                                       int(cfg["bootstrap_reps"]), float(cfg["confidence"]),
                                                       int(run.seed))}
    return {"method": "AFML 10.1: size = side * (2 Phi(z) - 1), z = (p - 1/3) / sqrt(p (1 - p)) for the "
                      "predicted class's probability p; open bets averaged by the staggered book; costs on "
                      "every change of the book's position",
            "books": books, "meta_over_best_base": gains, "best_base": pair[1]}


def _sample_counts(matrix: pd.DataFrame, test_ids: np.ndarray, validation: dict, samples: SampleTable) -> dict:
    return {
        "n_train": int(len(matrix)), "n_test": int(len(test_ids)),
        "n_meta_fit": validation["n_fit"], "n_meta_val": validation["n_val"],
        "test_sample_range": [int(test_ids[0]), int(test_ids[-1])],
        "test_period": [str(samples.column("timestamp", test_ids[:1])[0]),
                        str(samples.column("timestamp", test_ids[-1:])[0])],
    }


def trading_caveats(trading: dict, statistics: dict, meta: str, source: dict, run: ReportSettings,
                    n_test: int) -> list[str]:
    """What a reader must know before reading the trading figures: the data, the span annualized,
    how many independent bets it holds, the Sharpe's interval and the cost assumed."""
    caveats = []
    if source["kind"] == "synthetic":
        caveats.append("synthetic bars: these trading figures say nothing about a real market")
    days = trading["years"] * 365.25
    caveats.append(f"annualized from {days:.1f} days of test bars: "
                   + ("a single short period, so the annual return ({:.0%}) and Sharpe extrapolate it and mean little"
                      if days < 365 else "one period; the annual return is {:.0%}").format(trading["annualized_return"]))
    low, high = statistics["intervals"][meta]["sharpe_ratio"]
    level = statistics["bootstrap"]["confidence"]
    caveats.append(f"Sharpe {trading['sharpe_ratio']:.2f} a year, {level:.0%} interval [{low:.2f}, {high:.2f}] "
                   f"(block bootstrap of {statistics['bootstrap']['sharpe_block']}-bar blocks)")
    caveats.append(f"about {n_test // max(run.horizon, 1)} independent bets: {n_test} test rows whose "
                   f"{run.horizon}-bar labels overlap")
    caveats.append(f"costs: {run.cost_bps:g} bp per unit of turnover (turnover {trading['turnover']:.0f}); "
                   "no slippage, financing or position limits")
    return caveats


def _bases_without_skill(meta_requested: str, base_perf: dict, meta_bases) -> list[str]:
    no_skill = [b for b in base_perf if base_perf[b]["oof_skill"] <= 0]
    for b in no_skill:
        log.warning("%s: base %s has no OOF skill (%+.4f log loss against the class prior)%s", meta_requested, b,
                    base_perf[b]["oof_skill"], "" if b in meta_bases else "; the meta-learner leaves it out")
    return no_skill


def _predict_windows(meta_dirs: list[str], windows: list[dict], frames: dict[str, pd.DataFrame], bars: pd.DataFrame,
                     test_ids: np.ndarray, regime_window: int):
    """The record predicted window by window, each by its own meta-learner, and every window's base weights;
    the output's own base weights are the last window's (the deployed model's)."""
    from hetstack.catalogue import load_model
    from hetstack.meta.base import MetaLearnerOutput

    if windows[0]["test"][0] != test_ids[0] or windows[-1]["test"][1] != test_ids[-1]:
        raise ValueError("the walk-forward windows do not cover the bases' record")
    parts = []
    for window, path in zip(windows, meta_dirs):
        rows = _in_window(test_ids, window)
        parts.append(_predict_meta(load_model(path), {b: f[rows] for b, f in frames.items()}, bars, test_ids[rows],
                                   regime_window))
    out = MetaLearnerOutput(np.concatenate([p.predictions for p in parts]),
                            np.vstack([p.probabilities for p in parts]),
                            np.concatenate([p.confidence for p in parts]), base_weights=parts[-1].base_weights)
    return out, [p.base_weights for p in parts]


def _in_window(test_ids: np.ndarray, window: dict) -> np.ndarray:
    first, last = window["test"]
    return (test_ids >= first) & (test_ids <= last)


def window_table(windows: list[dict], meta_dirs: list[str], test_ids: np.ndarray, t1: np.ndarray, y: np.ndarray,
                 trials: dict[str, np.ndarray], prior: np.ndarray, best_base: str, meta_name: str,
                 window_weights: list[dict], summary: dict, close: np.ndarray, bars_per_year: float,
                 run: ReportSettings) -> dict:
    """The walk-forward record window by window: each model's scores, and the record's statistics on the
    window alone (score_statistics: intervals, paired gains, Sharpe with PSR/DSR, PBO); the meta-learner's
    paired log-loss gain over the best base with its block SE; what its meta-learner was fitted on, chose
    and weighed. `trials`: the bases, this meta-learner, then the run's other meta-learners."""
    from hetstack.evaluation import classification_metrics, per_sample_scores, se_blocks
    from hetstack.stages.meta import block_rows

    scored = list(trials)[:list(trials).index(meta_name) + 1]
    probabilities = {m: trials[m] for m in scored}
    rows_out = []
    for window, path, weights in zip(windows, meta_dirs, window_weights):
        rows = _in_window(test_ids, window)
        validation = read_json(Path(path) / "validation.json")
        scores = {m: {k: classification_metrics(y[rows], p[rows], prior=prior)[k]
                      for k in ("log_loss", "accuracy", "skill")} for m, p in probabilities.items()}
        statistics = score_statistics(y[rows], test_ids[rows], t1[rows], {m: p[rows] for m, p in trials.items()},
                                      prior, (meta_name, best_base), close, bars_per_year, run)
        for m in scored:
            scores[m]["intervals"] = statistics["intervals"][m]
            scores[m]["sharpe"] = {k: statistics["sharpe"][m][k] for k in ("sharpe_ratio", "psr", "dsr")}
        gain = (per_sample_scores(y[rows], probabilities[best_base][rows], prior)["log_loss"]
                - per_sample_scores(y[rows], probabilities[meta_name][rows], prior)["log_loss"])
        choice = validation.get("auto_choice")
        rows_out.append({
            **{k: window[k] for k in ("window", "period", "n_test", "n_train", "test", "train")},
            "meta_fit_rows": validation["walkforward"]["fit_rows"],
            "scores": scores,
            "log_loss_gain_over_best_base": float(gain.mean()),
            "log_loss_gain_se": se_blocks(gain, block_rows(test_ids[rows], t1[rows])),
            "gain_intervals": statistics["gain_intervals"],
            "pbo": None if statistics["pbo"] is None else statistics["pbo"]["pbo"],
            "auto_choice": None if choice is None else choice["chosen"],
            "meta_inputs": [b for b in weights],
            "meta_weights": weights,
        })
    return {key: summary[key] for key in ("n_windows", "train_window", "train_bars", "initial", "record")} | {
        "best_base": best_base, "windows": rows_out}


def _predict_meta(meta, frames: dict[str, pd.DataFrame], bars: pd.DataFrame, test_ids: np.ndarray, regime_window: int):
    from hetstack.regime import meta_inputs, regime_rows

    regime = regime_rows(bars, test_ids, regime_window) if meta.reads_regime else None
    probabilities = np.hstack([frames[b][PROB_COLUMNS].to_numpy(np.float64) for b in meta.base_names])
    return meta.predict(meta_inputs(meta, probabilities, regime))


def leakage_meter(meter_paths: dict[str, str], matrix, test_frames: dict, y_test: np.ndarray) -> dict:
    """The meter's three log losses per metered base, and its one-line reading (hetstack.stages.meter)."""
    from hetstack.stages.meter import meter, reading

    bases = meter({b: read_parquet(p) for b, p in meter_paths.items()}, matrix,
                  {b: test_frames[b] for b in meter_paths}, y_test)
    return {"scheme": "each base also fitted on shuffled K-fold (KFold(shuffle=True)) for this meter alone; "
                      "log losses on the OOF rows the meta-learner reads, and on the test rows",
            "bases": bases, "reading": reading(bases)}


def tuning_summary(tuned_paths: dict[str, str]) -> dict | None:
    """Each tuned base's study: its choice, every trial and their clusters; and what the DSR adds for
    them: the per-bar Sharpe of each trial cluster other than the chosen one (that one is the base itself,
    already among the test period's trials)."""
    if not tuned_paths:
        return None
    keys = ("params", "chosen_trial", "chosen_is_configured", "objective", "best_value", "configured_value",
            "n_trials", "states", "effective_trials", "chosen_cluster", "cluster_sharpes_per_bar", "span", "trials")
    bases = {base: {k: tuned[k] for k in keys}
             for base, tuned in ((b, read_json(path)) for b, path in tuned_paths.items())}
    extra = [s for b in bases.values() for c, s in enumerate(b["cluster_sharpes_per_bar"]) if c != b["chosen_cluster"]]
    return {"scheme": "one Optuna study per base on the earliest span of the train samples; the meta-learner "
                      "reads no OOF row of the span, its purge or its embargo (docs/method.md)",
            "n_trials": sum(b["n_trials"] for b in bases.values()),
            "effective_trials": sum(b["effective_trials"] for b in bases.values()),
            "extra_trial_sharpes_per_bar": extra, "bases": bases}


def score_statistics(y: np.ndarray, test_ids: np.ndarray, t1: np.ndarray, probabilities: dict[str, np.ndarray],
                     prior: np.ndarray, best: tuple[str, str, str], close: np.ndarray, bars_per_year: float,
                     run: ReportSettings, tuning_sharpes=()) -> dict:
    """Block-bootstrap intervals of every model's test scores and Sharpe, the meta-learner's paired gains,
    PSR/DSR of each Sharpe and PBO over all the models. `probabilities`: the bases, this meta-learner
    and the run's other trials; `best`: (this meta, the best base by OOF log loss)."""
    from hetstack.evaluation import per_sample_scores, se_blocks, staggered_book
    from hetstack.stages.meta import block_rows
    from hetstack.statistics import cscv_pbo, mean_intervals, sharpe_intervals, sharpe_statistics

    meta_name, best_base = best
    cfg = run.statistics
    reps, confidence, seed = int(cfg["bootstrap_reps"]), float(cfg["confidence"]), int(run.seed)
    block = block_rows(test_ids, t1)
    names = list(probabilities)
    scored = names[:names.index(meta_name) + 1]  # the bases and this meta; the other trials have their reports
    terms = {m: per_sample_scores(y, probabilities[m], prior) for m in scored}
    keys = ("accuracy", "log_loss", "skill")
    gains = [terms[meta_name]["accuracy"] - terms[best_base]["accuracy"],
             terms[best_base]["log_loss"] - terms[meta_name]["log_loss"]]
    drawn = iter(mean_intervals(np.column_stack([terms[m][k] for m in scored for k in keys] + gains),
                                block, reps, confidence, seed))
    intervals = {m: {k: next(drawn) for k in keys} for m in scored}
    gain_intervals = {"improvement_over_best_base": next(drawn), "log_loss_improvement_over_best_base": next(drawn)}
    # batch-means SEs over the same blocks: what a study pools across runs (hetstack.statistics.random_effects_pool)
    standard_errors = {m: {k: se_blocks(terms[m][k], block) for k in keys} for m in scored}
    standard_errors["gains"] = {"improvement_over_best_base": se_blocks(gains[0], block),
                                "log_loss_improvement_over_best_base": se_blocks(gains[1], block)}

    positions = {m: np.asarray(CLASSES, dtype=np.float64)[p.argmax(axis=1)] for m, p in probabilities.items()}
    pnl = {m: staggered_book(positions[m], test_ids, close, run.horizon, run.cost_bps).pnl for m in names}
    # the book holds each position for h bars: P&L bars correlate over at least that span
    sharpe_block = max(block, 2 * int(run.horizon))
    for m, interval in zip(scored, sharpe_intervals(np.column_stack([pnl[m] for m in scored]), sharpe_block,
                                                   bars_per_year, reps, confidence, seed)):
        intervals[m]["sharpe_ratio"] = interval
    # A model trading exactly as an earlier one (auto choosing a base) is the same trial, counted once.
    first_with = {}
    same_as = {m: first_with.setdefault(positions[m].tobytes(), m) for m in names}
    trials = [m for m in names if same_as[m] == m]
    sharpe = sharpe_statistics({m: pnl[m] for m in trials}, bars_per_year, tuning_sharpes)
    sharpe.update({m: {**sharpe[same_as[m]], "same_trades_as": same_as[m]} for m in names if same_as[m] != m})
    pbo = (cscv_pbo(np.column_stack([pnl[m] for m in trials]), int(cfg["pbo_blocks"]), names=trials)
           if len(trials) > 1 else None)
    return {"intervals": intervals, "gain_intervals": gain_intervals, "standard_errors": standard_errors,
            "sharpe": sharpe, "pbo": pbo,
            "bootstrap": {"method": "circular block bootstrap (arch), percentile intervals", "block": block,
                          "sharpe_block": sharpe_block, "reps": reps, "confidence": confidence, "seed": seed},
            "trials": trials, "readings": _readings(sharpe, pbo, meta_name)}


def _readings(sharpe: dict, pbo: dict, meta_name: str) -> dict:
    """One line a quant can read for each statistic."""
    mine = sharpe[meta_name]
    return {
        "psr": f"PSR {mine['psr']:.2f}: the probability that {meta_name}'s true Sharpe is above 0, given "
               f"{mine['n_bars']} test bars with skewness {mine['skewness']:.2f} and kurtosis {mine['kurtosis']:.1f}",
        "dsr": f"DSR {mine['dsr']:.2f}: the probability that {meta_name}'s test Sharpe ({mine['sharpe_ratio']:.2f} "
               f"a year) beats the best of {mine['n_trials']} skill-free trials"
               + (f" ({mine['n_tuning_trials']} of them clusters of tuning trials; {mine['dsr_before_tuning']:.2f} "
                  "without them)" if "n_tuning_trials" in mine else "")
               + "; below 0.95 it is within what luck gives the maximum",
        "pbo": "PBO: one distinct trial, nothing to choose among" if pbo is None else
               f"PBO {pbo['pbo']:.2f}: in {pbo['pbo']:.0%} of {pbo['n_splits']} CSCV splits of the test bars the "
               f"in-sample best of {pbo['n_models']} models ranks at or below the median out of sample "
               "(near 0: choosing by backtest works; 0.5 or more: the choice is luck)",
    }


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
            "gain_intervals": perf.get("gain_intervals"),
            "psr": report["statistics"]["sharpe"][report["meta_learner"]]["psr"],
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


def _aligned_test_frames(base_tests: dict[str, str]) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """Every base's test predictions, which must cover the same sample ids in the same order."""
    base_names = list(base_tests)
    frames = {b: read_parquet(base_tests[b]) for b in base_names}
    test_ids = frames[base_names[0]]["sample_id"].to_numpy(np.int64)
    for b, frame in frames.items():
        if not np.array_equal(frame["sample_id"].to_numpy(), test_ids):
            raise ValueError(f"{base_tests[b]}: test sample ids differ from those of {base_names[0]}")
    return frames, test_ids


def _base_performance(base_names, X_test, y_test, matrix, validation, prior, meta_bases, trading) -> dict:
    """Validation, OOF and test scores of each base, and its trading on the test period."""
    from hetstack.evaluation import classification_metrics

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
            "in_meta": b in meta_bases,
            "trading": trading(proba),
        }
    return base_perf


def _meta_performance(val: dict, test: dict, trading: dict, base_perf: dict, best_base: str) -> dict:
    """The meta-learner's scores and its gains over the best base: the lowest OOF log loss, chosen on
    train rows alone, as meta_best_base and auto choose."""
    return {
        "val_accuracy": val["accuracy"],
        "val_log_loss": val["log_loss"],
        "val_skill": val["skill"],
        "test_accuracy": test["accuracy"],
        "test_log_loss": test["log_loss"],
        "test_skill": test["skill"],
        "improvement_over_best_base": test["accuracy"] - base_perf[best_base]["test_acc"],
        "best_base": best_base,
        "best_base_rule": "the base with the lowest OOF log loss (train rows only)",
        "log_loss_improvement_over_best_base": base_perf[best_base]["test_log_loss"] - test["log_loss"],
        "sharpe_ratio": trading["sharpe_ratio"],
        "max_drawdown": trading["max_drawdown"],
        "trading": trading,
        "test_class_balance": test["class_balance"],
    }
