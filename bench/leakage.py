#!/usr/bin/env python
"""The leakage meter's anchor: the stack a user would build with scikit-learn's StackingClassifier
(shuffled KFold, the same 180 feature columns, labels and train/test split as a hetstack run) against
hetstack's `auto`, on the default market and on EURUSD hourly bars.

    python bench/leakage.py [--quick] [--cores N] [--datasets synthetic eurusd] [--workdir DIR]

For each data set the real workflow builds results/{symbol}_h{h}/auto_report.json with the leakage meter
on for every base. Then, on the run's own samples:

- StackingClassifier(LightGBM, CatBoost, standardized logistic regression; final logistic regression;
  cv = KFold(5, shuffle=True, random_state=seed), stack_method predict_proba) is fitted on the train
  rows and predicts the test rows;
- its validation claim: the final estimator's shuffled-KFold log loss over the same out-of-fold base
  predictions StackingClassifier fits it on (cross_val_predict with the same cv), what a user reads as
  the stack's CV score;
- test log losses of both stacks and their paired difference with its block SE (blocks of twice the
  longest label span), and hetstack's own meter per base (shuffled OOF, purged OOF, test).

--quick: 12,000 synthetic bars, 60 boosting rounds. JSON: bench/out/leakage[-quick].json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import default_or_eurusd
from common import (MARKETS, REPO, drop_scratch, fmt_se, market_arguments, print_table, result_name, run_timed,
                    run_workflow, scratch_root, write_result)

sys.path.insert(0, str(REPO / "src"))

from hetstack.evaluation import class_prior, row_log_loss, se_blocks
from hetstack.io import read_json
from hetstack.stages.meta import block_rows
from hetstack.tables import PROB_COLUMNS


def sklearn_stack(rounds: int, seed: int):
    from catboost import CatBoostClassifier
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import StackingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cv = KFold(n_splits=5, shuffle=True, random_state=seed)
    estimators = [("lightgbm", LGBMClassifier(n_estimators=rounds, learning_rate=0.05, random_state=seed,
                                              n_jobs=1, verbose=-1)),
                  ("catboost", CatBoostClassifier(iterations=rounds, learning_rate=0.06, random_seed=seed,
                                                  thread_count=1, verbose=False, allow_writing_files=False)),
                  ("logistic", make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000)))]
    final = LogisticRegression(max_iter=1000)
    return StackingClassifier(estimators, final_estimator=final, cv=cv, stack_method="predict_proba"), cv


def compare(run: Path, features: Path, rounds: int, seed: int) -> dict:
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict

    labels = pd.read_parquet(run / "labels.parquet")
    X = np.load(features, mmap_mode="r")
    train = labels[labels["split"] == "train"]
    test = labels[labels["split"] == "test"]
    X_train, y_train = np.asarray(X[train["sample_id"].to_numpy()]), train["label"].to_numpy()
    X_test, y_test = np.asarray(X[test["sample_id"].to_numpy()]), test["label"].to_numpy()
    stack, cv = sklearn_stack(rounds, seed)
    start = time.perf_counter()
    stack.fit(X_train, y_train)
    test_proba = stack.predict_proba(X_test)
    # the out-of-fold base predictions StackingClassifier fitted its final estimator on, and that estimator's
    # shuffled-KFold score over them: the validation figure the user sees
    oof = np.hstack([cross_val_predict(clone(est), X_train, y_train, cv=cv, method="predict_proba")
                     for _, est in stack.estimators])
    claimed = cross_val_predict(clone(stack.final_estimator), oof, y_train, cv=cv, method="predict_proba")
    wall = time.perf_counter() - start
    auto = pd.read_parquet(run / "predictions/auto_test.parquet")
    assert np.array_equal(auto["sample_id"].to_numpy(), test["sample_id"].to_numpy())
    ids, t1 = test["sample_id"].to_numpy(np.int64), test["t1"].to_numpy(np.int64)
    block = block_rows(ids, t1)
    prior = class_prior(y_train)
    prior_loss = row_log_loss(y_test, np.tile(prior, (len(y_test), 1)))
    sk_loss = row_log_loss(y_test, test_proba)
    auto_loss = row_log_loss(y_test, auto[PROB_COLUMNS].to_numpy())
    report = read_json(run / "auto_report.json")
    return {
        "n_train": int(len(y_train)), "n_test": int(len(y_test)), "block_rows": int(block),
        "sklearn_stack": {"claimed_cv_log_loss": float(row_log_loss(y_train, claimed).mean()),
                          "test_log_loss": float(sk_loss.mean()),
                          "test_skill": {"mean": float((prior_loss - sk_loss).mean()),
                                         "se": se_blocks(prior_loss - sk_loss, block)},
                          "wall_s": wall},
        "auto": {"validation_log_loss": report["performance"].get("val_log_loss"),
                 "test_log_loss": float(auto_loss.mean()),
                 "test_skill": {"mean": float((prior_loss - auto_loss).mean()),
                                "se": se_blocks(prior_loss - auto_loss, block)}},
        "auto_minus_sklearn_log_loss": {"mean": float((sk_loss - auto_loss).mean()),
                                        "se": se_blocks(sk_loss - auto_loss, block)},
        "meter": report.get("leakage_meter"),
    }


def main() -> None:
    ap = market_arguments(__doc__, "12,000 synthetic bars, 60 boosting rounds")
    args = ap.parse_args()
    root = scratch_root(args.workdir, "leakage")
    rounds = 60 if args.quick else 300
    results = {}
    try:
        for name in args.datasets:
            symbol, config, data = default_or_eurusd(
                name, root / name / "data",
                {"synthetic": {"n_bars": 12000}, "oof": {"embargo_bars": 240}} if args.quick else None)
            config["leakage_meter"] = {"enabled": True, "bases": "all"}
            horizon = config.get("horizons", [20])[0]
            target = f"results/{symbol}_h{horizon}/auto_report.json"
            work = root / name
            print(f"\n{name}: building {target} ...", flush=True)
            wall = run_workflow(work, config, [target], args.cores)
            entry = {"symbol": symbol, "data": data, "wall_s": wall,
                     **compare(work / Path(target).parent, work / f"results/{symbol}/features.npy", rounds, 42)}
            results[name] = entry
            sk, auto = entry["sklearn_stack"], entry["auto"]
            rows = [{"stack": "StackingClassifier (shuffled KFold)", "validation log loss": sk["claimed_cv_log_loss"],
                     "test log loss": sk["test_log_loss"],
                     "test skill (SE)": fmt_se(sk["test_skill"])},
                    {"stack": "hetstack auto (purged)", "validation log loss": auto["validation_log_loss"],
                     "test log loss": auto["test_log_loss"],
                     "test skill (SE)": fmt_se(auto["test_skill"])}]
            print_table(rows, list(rows[0]), f"{name}: validation against test; auto - sklearn, paired: "
                        f"{fmt_se(entry['auto_minus_sklearn_log_loss'])}")
    finally:
        drop_scratch(root, args.workdir)
    write_result(result_name("leakage", args.quick, args.datasets, MARKETS),
                 {"cores": args.cores, "quick": args.quick, "datasets": results})


if __name__ == "__main__":
    run_timed(main)
