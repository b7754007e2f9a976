#!/usr/bin/env python
"""Accuracy with standard errors: every default base and every meta-learner, on the synthetic default
market and on real EURUSD hourly bars; the meta-learners' gain over the best base and the OOF-vs-test gap.

    python bench/accuracy.py [--quick] [--cores N] [--datasets synthetic eurusd] [--workdir DIR] [--keep]

For each data set the real workflow builds `results/{symbol}_h{h}/meta_comparison.json` (the report of
every registered meta-learner on the same OOF shards and retrained bases) in a scratch folder; this
script then re-scores the per-sample hold-out predictions (test/{base}.parquet and
predictions/{meta}_test.parquet) and the OOF meta matrix:

- test accuracy +/- binomial SE sqrt(p(1-p)/n) and test log-loss +/- std(-log p_true)/sqrt(n);
- each meta-learner's accuracy gain over the best base by test accuracy (as the report picks it) and
  its log-loss gain over the base with the lowest test log-loss, each with a paired SE (std of the
  per-sample difference / sqrt(n));
- the OOF-vs-test gap: a base's OOF accuracy (purged K-fold, meta matrix) minus its test accuracy; a
  meta-learner's validation accuracy (its purged validation slice of the OOF rows) minus its test
  accuracy. The two samples are disjoint, so SE = sqrt(SE_a^2 + SE_b^2). An honest CV keeps it small;
- the majority-class baselines: the test set's own majority class (an oracle) and the train
  (OOF) majority class applied to the test set.

Samples are consecutive bars whose triple-barrier labels overlap (horizon h), so the iid SEs above
are optimistic. The "blk SE" columns are batch-means SEs (per-sample scores averaged over
consecutive blocks of 2h samples, SE of the block means), which allow for that correlation.

Data sets:
  synthetic  symbol MES, horizon 20, the default config (40,000 1-minute bars). --quick: 12,000 bars,
             catboost 150 iterations, tcn/patchtst 3 epochs.
  eurusd     EURUSD 1-hour ask bars of 2017 (6,225 bars) from gym-anytrading's
             FOREX_EURUSD_1H_ASK.csv, or backtesting.py's EURUSD.csv; if neither package is
             installed, `pip install --no-deps gym-anytrading` installs the first (data only; the
             package is never imported). Settings for hourly bars: see EURUSD_CONFIG.
  goog       Alphabet (GOOG) daily bars 2004-08-19 .. 2013-03-01 (2,148 bars) from backtesting.py's
             GOOG.csv; `pip install --no-deps backtesting` installs it when absent (data only). Settings
             for daily bars: see GOOG_CONFIG. Small: about 380 test samples.
  Full mode ~15 min, --quick a few minutes on 2 cores. JSON: bench/out/accuracy[-quick][-{dataset}].json
  (the suffix only when --datasets names one).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, on_classic, print_table, run_timed, run_workflow, write_result

sys.path.insert(0, str(REPO / "src"))
from hetstack import CLASSES as CLASS_LIST
from hetstack.evaluation import per_sample_scores, se_blocks
from hetstack.io import read_json
from hetstack.tables import PROB_COLUMNS, prob_columns

CLASSES = np.asarray(CLASS_LIST)
BASES = ["catboost", "tcn", "patchtst"]  # config/classic.yaml's bases, one per family

# Quick mode: fewer bars and fewer boosting rounds / epochs, everything else the default.
QUICK_MODEL_PARAMS = {"catboost": {"iterations": 150}, "tcn": {"epochs": 3}, "patchtst": {"epochs": 3}}

# EURUSD hourly bars (~6,200 bars, 24 a trading day, 120 a week). The defaults are sized for 1-minute
# bars: embargo 1440 = one day of minute bars would drop ~1,440 hours (~12 weeks) after every test fold.
EURUSD_CONFIG = {
    "horizons": [12],          # half a trading day (the barriers scale with vol * sqrt(h))
    "oof": {
        "n_folds": 5,          # the default
        "purge_bars": 24,      # one day: > the 12-bar label span, so no train label overlaps a test fold
        "embargo_bars": 48,    # two trading days after each test fold (~5% of a ~950-sample fold)
    },
    "adapters": {
        "sequence": {"seq_len": 32},                            # 32 hours of feature rows (the default)
        # 1 h, 4 h and daily bars; 12 closed bars each = 12 days of daily bars. Lookback
        # 24 * 12 - 1 = 287 bars, barely past the features' 240-bar warm-up; 12 = patchtst's
        # patch_len (one patch a series). The default [1, 5, 15, 30, 60] x 24 would be 1,439 hourly bars.
        "multires": {"timeframes": [1, 4, 24], "seq_len": 12},
    },
    "regime": {"window": 240},  # 10 trading days of hours, inside the 287-bar lookback
}
# vol_window (60 bars = 2.5 days), barrier_k, test_fraction, val_split and model parameters stay default.
# Samples: 6,225 bars - 287 lookback - 12 horizon ~ 5,926; the last 20% (1,186) are the test set, and
# after the 72-bar purge + embargo gap ~4,670 train samples get OOF predictions (~930 per fold).
# The ~180 features count their windows in bars (lags up to 240 bars = 10 trading days here); the one
# session feature assumes 1-minute bars (a gap > 30 min opens a session), so on hourly bars every bar
# opens one and session_minutes is constant 0: harmless, but it carries nothing.


# Alphabet daily bars (~2,150 bars, ~21 a month). Same reasoning as EURUSD_CONFIG, in days.
GOOG_CONFIG = {
    "horizons": [5],           # a trading week
    "oof": {"n_folds": 5, "purge_bars": 10, "embargo_bars": 10},  # two weeks: > the 5-bar label span
    "adapters": {
        "sequence": {"seq_len": 32},
        # 1 day, 1 week, 1 month; 12 closed bars each = a year of monthly bars (lookback 239 bars,
        # about the features' 240-bar warm-up)
        "multires": {"timeframes": [1, 5, 20], "seq_len": 12},
    },
    "regime": {"window": 120},  # about half a year of days, inside the 239-bar lookback
}

# (module, distribution, file): the first one installed is read
EURUSD_FILES = (("gym_anytrading", "gym-anytrading", "FOREX_EURUSD_1H_ASK.csv"),
                ("backtesting", "backtesting", "EURUSD.csv"))
GOOG_FILES = (("backtesting", "backtesting", "GOOG.csv"),)


def find_package_csv(files=EURUSD_FILES) -> tuple[Path, str] | None:
    """The first (module, distribution, file name) data file found, without importing the package."""
    for module, dist, name in files:
        spec = importlib.util.find_spec(module)
        for root in (spec.submodule_search_locations or []) if spec else []:
            hits = sorted(Path(root).rglob(name))
            if hits:
                return hits[0], dist
        try:
            for f in importlib.metadata.files(dist) or []:
                if f.name == name and Path(f.locate()).is_file():
                    return Path(f.locate()), dist
        except importlib.metadata.PackageNotFoundError:
            pass
    return None


def package_csv(files=EURUSD_FILES) -> tuple[Path, str]:
    """The data file, installing its package (`pip install --no-deps`: data only) when none is there."""
    found = find_package_csv(files)
    if found is None:
        dist, name = files[0][1], files[0][2]
        cmd = [sys.executable, "-m", "pip", "install", "--no-deps", dist]
        print(f"no {name} installed; running: {' '.join(cmd)}", flush=True)
        subprocess.run(cmd, check=True)
        importlib.invalidate_caches()
        found = find_package_csv(files)
        if found is None:
            sys.exit(f"{dist} installed but {name} not found in it")
    return found


def convert_package_csv(src: Path, dist: str, out: Path) -> dict:
    """Write `out` (timestamp ISO UTC, open..volume) from gym-anytrading's or backtesting.py's CSV; what was dropped."""
    raw = pd.read_csv(src)
    if dist == "gym-anytrading":
        # "01.01.2017 22:00:00.000" is day.month.year; pandas' default guess would read month first
        stamps = pd.to_datetime(raw["Time"], format="%d.%m.%Y %H:%M:%S.%f", utc=True)
    else:
        # unnamed first column of zone-less ISO times; taken as UTC (the file says nothing about a zone)
        stamps = pd.to_datetime(raw.iloc[:, 0], utc=True)
    cols = {c.lower(): c for c in raw.columns}
    bars = pd.DataFrame({"timestamp": stamps, **{k: raw[cols[k]].astype(float).to_numpy()
                                                for k in ("open", "high", "low", "close", "volume")}})
    n_raw = len(bars)
    bars = bars.sort_values("timestamp", kind="stable")
    dupes = bars["timestamp"].duplicated(keep="last")  # keep the last bar written for a timestamp
    bars = bars[~dupes]
    # Flat no-trade bars (O = H = L = C, zero volume) are weekend/holiday filler in some exports: they
    # would enter the features as fake zero-vol hours, so they go. (gym-anytrading's 2017 file has none.)
    flat = ((bars["open"] == bars["high"]) & (bars["high"] == bars["low"]) & (bars["low"] == bars["close"])
            & (bars["volume"] <= 0))
    bars = bars[~flat]
    text = bars.assign(timestamp=bars["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(index=False)
    if not (out.is_file() and out.read_text() == text):  # an unchanged file keeps its mtime: no rebuild
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    gaps = bars["timestamp"].diff().dt.total_seconds().div(3600).value_counts()
    return {"source": str(src), "package": dist, "rows": n_raw, "duplicates_dropped": int(dupes.sum()),
            "flat_zero_volume_dropped": int(flat.sum()), "bars": len(bars),
            "first": str(bars["timestamp"].iloc[0]), "last": str(bars["timestamp"].iloc[-1]),
            "hour_steps": int(gaps.get(1.0, 0)), "longer_gaps": int(len(bars) - 1 - gaps.get(1.0, 0))}


# ----------------------------------------------------------------------------- scoring

def default_or_eurusd(name: str, data_dir: Path, synthetic_quick: dict | None = None) -> tuple[str, dict, dict]:
    """(symbol, config override, data record) of a benchmark's two markets: "synthetic", the main job's
    MES (with `synthetic_quick` merged in when given), or "eurusd", the hourly bars converted into data_dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if name == "synthetic":
        config = {"symbols": ["MES"], "horizons": [20], "data_dir": str(data_dir), **(synthetic_quick or {})}
        return "MES", config, {"source": "synthetic market (hetstack.synthetic), seed 42"}
    src, dist = package_csv(EURUSD_FILES)
    data = convert_package_csv(src, dist, data_dir / "EURUSD.csv")
    return "EURUSD", {"symbols": ["EURUSD"], "data_dir": str(data_dir), **EURUSD_CONFIG}, data


def per_sample(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(correct 0/1, -log p_true, accuracy, log-loss): the means by sklearn, the per-sample terms for SEs."""
    terms = per_sample_scores(y, proba, np.full(len(CLASSES), 1 / len(CLASSES)))  # the library's, as the report's
    acc = float(accuracy_score(y, CLASSES[proba.argmax(axis=1)]))
    ll = float(log_loss(y, proba, labels=list(CLASSES)))
    losses = terms["log_loss"]
    if not (np.isclose(losses.mean(), ll, rtol=1e-6, atol=1e-9) and np.isclose(terms["accuracy"].mean(), acc)):
        raise AssertionError(f"per-sample log-loss {losses.mean()} != sklearn {ll}")
    return terms["accuracy"], losses, acc, ll


def se_mean(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


def se_binomial(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def meta_validation_scores(run: Path, meta: str, matrix: pd.DataFrame, val_accuracy: float) -> np.ndarray | None:
    """Per-sample correctness of a meta-learner on its validation slice (the last n_val OOF rows), by
    re-predicting them with the saved model; None when that does not reproduce the reported accuracy
    (e.g. training.use_oof_for_val, where every OOF row is validated by a fold model)."""
    from hetstack.catalogue import load_model

    meta_dir = run / "models" / "meta" / meta
    validation = read_json(meta_dir / "validation.json")
    rows = matrix.iloc[len(matrix) - validation["n_val"]:]
    if rows["sample_id"].iloc[0] != validation["val_sample_range"][0]:
        return None
    model = load_model(meta_dir)
    X = rows[[c for b in model.base_names for c in prob_columns(b)]].to_numpy(np.float64)
    if model.reads_regime:
        from hetstack.regime import meta_inputs, regime_rows

        window = read_json(run / f"{meta}_report.json")["settings"]["regime_window"]
        bars = pd.read_parquet(run.parent / run.name.rsplit("_h", 1)[0] / "bars.parquet")
        X = meta_inputs(model, X, regime_rows(bars, rows["sample_id"].to_numpy(), window))
    correct, _, acc, _ = per_sample(rows["label"].to_numpy().astype(int), model.predict(X).probabilities)
    return correct if np.isclose(acc, val_accuracy, atol=1e-12) else None


def score(run: Path, bases: list[str], metas: list[str], horizon: int) -> dict:
    """Every model's test scores with SEs, the meta gains (paired SEs) and the OOF-vs-test gaps."""
    block = 2 * horizon
    reports = {m: read_json(run / f"{m}_report.json") for m in metas}
    first = reports[metas[0]]
    matrix = pd.read_parquet(run / "meta_matrix.parquet")
    y_oof = matrix["label"].to_numpy().astype(int)
    tests = {b: pd.read_parquet(run / "test" / f"{b}.parquet") for b in bases}
    tests.update({m: pd.read_parquet(run / "predictions" / f"{m}_test.parquet") for m in metas})
    ids = tests[bases[0]]["sample_id"].to_numpy()
    y = tests[bases[0]]["label"].to_numpy().astype(int)
    for name, frame in tests.items():
        if not (np.array_equal(frame["sample_id"].to_numpy(), ids) and np.array_equal(frame["label"].to_numpy(), y)):
            raise AssertionError(f"{name}: test rows differ from {bases[0]}'s")
    n = len(y)
    labels = pd.read_parquet(run / "labels.parquet", columns=["label", "split"])
    train_labels = labels["label"].to_numpy()[labels["split"].to_numpy() == "train"]
    prior_loss = -np.log(np.array([np.mean(train_labels == c) for c in CLASSES])[np.searchsorted(CLASSES, y)])

    rows, correct, losses = {}, {}, {}
    for name in bases + metas:
        correct[name], losses[name], acc, ll = per_sample(y, tests[name][PROB_COLUMNS].to_numpy(np.float64))
        row = {"kind": "base" if name in bases else "meta", "test_acc": acc, "test_acc_se": se_binomial(acc, n),
               "test_acc_se_block": se_blocks(correct[name], block), "test_log_loss": ll,
               "test_log_loss_se": se_mean(losses[name]), "test_log_loss_se_block": se_blocks(losses[name], block),
               "skill": float(np.mean(prior_loss - losses[name])),
               "skill_se_block": se_blocks(prior_loss - losses[name], block)}
        if name in bases:
            reported = first["base_model_performance"][name]["test_acc"]
            oof_correct, _, oof_acc, oof_ll = per_sample(
                y_oof, matrix[prob_columns(name)].to_numpy(np.float64))
            n_ref, ref_acc, ref_ll, ref = len(y_oof), oof_acc, oof_ll, "oof"
            ref_block = se_blocks(oof_correct, block)
        else:
            perf = reports[name]["performance"]
            reported = perf["test_accuracy"]
            n_ref, ref_acc, ref_ll, ref = reports[name]["samples"]["n_meta_val"], perf["val_accuracy"], perf["val_log_loss"], "val"
            val_correct = meta_validation_scores(run, name, matrix, ref_acc)
            ref_block = se_blocks(val_correct, block) if val_correct is not None else float("nan")
        if not np.isclose(acc, reported, atol=1e-12):
            raise AssertionError(f"{name}: test accuracy {acc} differs from its report's {reported}")
        row.update({"ref": ref, "ref_acc": ref_acc, "ref_log_loss": ref_ll, "n_ref": int(n_ref),
                    "gap": ref_acc - acc, "gap_se": float(np.hypot(se_binomial(ref_acc, n_ref), row["test_acc_se"])),
                    "gap_se_block": float(np.hypot(ref_block, row["test_acc_se_block"]))})
        rows[name] = row

    # the report's best base: the lowest OOF log loss, chosen without a test row
    best_acc = best_ll = min(bases, key=lambda b: first["base_model_performance"][b]["oof_log_loss"])
    for m in metas:
        if reports[m]["performance"]["best_base"] != best_acc:
            raise AssertionError(f"{m}: report's best base {reports[m]['performance']['best_base']} != {best_acc}")
        d_acc = correct[m] - correct[best_acc]
        d_ll = losses[best_ll] - losses[m]  # > 0: the meta-learner's log-loss is lower
        rows[m].update({"best_base": best_acc, "acc_gain": float(d_acc.mean()), "acc_gain_se": se_mean(d_acc),
                        "acc_gain_se_block": se_blocks(d_acc, block), "best_base_log_loss": best_ll,
                        "log_loss_gain": float(d_ll.mean()), "log_loss_gain_se": se_mean(d_ll),
                        "log_loss_gain_se_block": se_blocks(d_ll, block)})

    n_val = int(first["samples"]["n_meta_val"])
    oof_major = {"oof_rows": float(np.mean(y_oof == pd.Series(y_oof).mode().iloc[0])),
                 "meta_val_slice": float(np.mean(y_oof[-n_val:] == pd.Series(y_oof[-n_val:]).mode().iloc[0]))}
    train_major = int(pd.Series(y_oof).mode().iloc[0])
    test_major = int(pd.Series(y).mode().iloc[0])
    return {
        "n_test": n, "n_oof": len(y_oof), "n_meta_val": int(first["samples"]["n_meta_val"]),
        "test_period": first["samples"]["test_period"], "block_len": block,
        "test_class_balance": {str(c): float(np.mean(y == c)) for c in CLASSES},
        "majority_test": {"class": test_major, "accuracy": float(np.mean(y == test_major)),
                          "se": se_binomial(float(np.mean(y == test_major)), n)},
        "majority_train_on_test": {"class": train_major, "accuracy": float(np.mean(y == train_major)),
                                   "se": se_binomial(float(np.mean(y == train_major)), n)},
        "majority_ref": oof_major,  # each reference set's own majority-class accuracy (class-balance shift)
        "models": rows,
    }


def print_scores(name: str, result: dict) -> None:
    models = result["models"]
    print(f"\n=== {name}: n_test {result['n_test']} ({result['test_period'][0]} .. {result['test_period'][1]}), "
          f"n_oof {result['n_oof']}, meta val slice {result['n_meta_val']}; blk SE over blocks of "
          f"{result['block_len']} samples")
    bal = result["test_class_balance"]
    mt, mtr = result["majority_test"], result["majority_train_on_test"]
    print(f"test classes -1/0/+1: {bal['-1']:.3f}/{bal['0']:.3f}/{bal['1']:.3f}; majority-class accuracy "
          f"{mt['accuracy']:.4f} +/- {mt['se']:.4f} (test's own class {mt['class']:+d}), "
          f"{mtr['accuracy']:.4f} (train's majority class {mtr['class']:+d}); on the reference sets: OOF rows "
          f"{result['majority_ref']['oof_rows']:.4f}, meta validation slice {result['majority_ref']['meta_val_slice']:.4f}")
    table = []
    for model, r in models.items():
        table.append({"model": model, "test acc": r["test_acc"], "SE": r["test_acc_se"],
                      "blk SE": r["test_acc_se_block"], "test logloss": r["test_log_loss"],
                      "SE ": r["test_log_loss_se"], "blk SE ": r["test_log_loss_se_block"],
                      "skill": r["skill"], "blk SE   ": r["skill_se_block"],
                      "ref": r["ref"], "ref acc": r["ref_acc"], "gap ref-test": r["gap"], "SE  ": r["gap_se"],
                      "blk SE  ": r["gap_se_block"]})
    print_table(table, list(table[0]), f"{name}: test scores (ref = OOF accuracy for a base, meta validation "
                                       "slice for a meta-learner; gap = ref acc - test acc)")
    gains = []
    for model, r in models.items():
        if r["kind"] != "meta":
            continue
        gains.append({"meta": model, "vs": r["best_base"], "acc gain": r["acc_gain"], "SE": r["acc_gain_se"],
                      "blk SE": r["acc_gain_se_block"], "vs ": r["best_base_log_loss"],
                      "logloss gain": r["log_loss_gain"], "SE ": r["log_loss_gain_se"],
                      "blk SE ": r["log_loss_gain_se_block"]})
    print_table(gains, list(gains[0]), f"{name}: meta-learner gain over the best base (accuracy: best by test "
                                       "accuracy; log-loss: lowest test log-loss; paired SEs; > 0 = meta better)")


# ----------------------------------------------------------------------------- main

def metas_registered() -> list[str]:
    from hetstack.catalogue import available

    return available("meta")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer synthetic bars, fewer iterations/epochs")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--datasets", nargs="+", choices=["synthetic", "eurusd", "goog"],
                    default=["synthetic", "eurusd"])
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one")
    ap.add_argument("--keep", action="store_true", help="keep the temporary scratch folder")
    ap.add_argument("--bases", nargs="+", default=BASES, help="base models (default: the config's)")
    args = ap.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="hetstack-accuracy-"))
    root = root.resolve()
    metas = metas_registered()
    mode = "quick" if args.quick else "full"
    bases = args.bases
    print(f"accuracy benchmark ({mode}), bases {bases}, meta-learners {metas}, {args.cores} cores, scratch {root}")
    overrides = {"model_params": QUICK_MODEL_PARAMS} if args.quick else {}
    overrides["base_models"] = bases  # always named: the default bases changed with the default market
    results = {}
    try:
        for name in args.datasets:
            work = root / name
            data_dir = work / "data"
            data_dir.mkdir(parents=True, exist_ok=True)
            if name == "synthetic":
                symbol, horizon = "MES", 20
                config = on_classic({"symbols": [symbol], "horizons": [horizon], "data_dir": str(data_dir), **overrides})
                if args.quick:
                    config["synthetic"]["n_bars"] = 12000
                data = {"source": "synthetic market (hetstack.synthetic), seed 42",
                        "n_bars": config["synthetic"].get("n_bars", 40000)}
            else:
                symbol, files, settings = ("EURUSD", EURUSD_FILES, EURUSD_CONFIG) if name == "eurusd" else (
                    "GOOG", GOOG_FILES, GOOG_CONFIG)
                src, dist = package_csv(files)
                data = convert_package_csv(src, dist, data_dir / f"{symbol}.csv")
                print(f"\n{symbol}: {data['bars']} bars {data['first']} .. {data['last']} from {src} "
                      f"({data['duplicates_dropped']} duplicate and {data['flat_zero_volume_dropped']} flat "
                      f"zero-volume bars dropped; {data['longer_gaps']} gaps > 1 h kept as they are)")
                config = {"symbols": [symbol], "data_dir": str(data_dir), **settings, **overrides}
                horizon = config["horizons"][0]
            run = f"results/{symbol}_h{horizon}"
            print(f"\n{name}: building {run}/meta_comparison.json with config override {config} ...", flush=True)
            wall = run_workflow(work, config, [f"{run}/meta_comparison.json"], args.cores)
            print(f"{name}: workflow {wall:.0f} s", flush=True)
            result = score(work / run, bases, metas, horizon)
            results[name] = {"symbol": symbol, "horizon": horizon, "config_override": config, "data": data,
                             "workflow_wall_s": wall, **result}
            print_scores(name, result)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"\nscratch kept: {root}")
    subset = ("" if set(args.datasets) == {"synthetic", "eurusd"} else "-" + "-".join(args.datasets)) + (
        "" if bases == BASES else "-" + "-".join(bases))
    write_result(("accuracy-quick" if args.quick else "accuracy") + subset, {
        "mode": mode, "bases": bases, "meta_learners": metas, "cores": args.cores,
        "quick_changes": ({"synthetic.n_bars": 12000, "model_params": QUICK_MODEL_PARAMS} if args.quick else None),
        "se_note": "iid SEs: binomial sqrt(p(1-p)/n) for accuracy, std/sqrt(n) for log-loss and paired gains; "
                   "*_se_block: batch means over blocks of 2*horizon consecutive samples (labels overlap)",
        "datasets": results,
    })


if __name__ == "__main__":
    run_timed(main)
