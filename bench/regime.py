"""The regime market: does the regime-aware meta-learner find what the static ones cannot?

The synthetic market with `synthetic.effects.regime` on: a latent two-state volatility regime whose
volatile state carries the interaction signal (off in the calm state), with the motif and the trend
as in the classic market (config/classic.yaml). Its bases (catboost, tcn, patchtst) and the static meta-learners
(meta_best_base, meta_voting, meta_caruana, meta_ridge, meta_logistic) against meta_regime and
meta_auto, in one workflow run. Test log loss and skill with batch-means SEs over blocks of 2h
consecutive samples; meta_regime's paired gain over the best static meta-learner, that best one
picked on the test rows themselves (which favours it, so the gain is if anything understated); each
model's skill in the true volatile and calm states; meta_regime's base weights per volatility third.

    python bench/regime.py --quick      # 20,000 bars, fewer iterations: a smoke test
    python bench/regime.py              # 80,000 bars (about 20 regime spells), the default settings
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import QUICK_MODEL_PARAMS, per_sample
from common import drop_scratch, on_classic, print_table, run_timed, run_workflow, scratch_root, write_result

from hetstack import CLASSES
from hetstack.evaluation import se_blocks
from hetstack.io import read_json
from hetstack.synthetic import volatile_regime
from hetstack.tables import PROB_COLUMNS

BASES = ["catboost", "tcn", "patchtst"]
STATIC = ["meta_best_base", "meta_voting", "meta_caruana", "meta_ridge", "meta_logistic"]
AWARE = ["meta_regime", "meta_auto"]
EFFECTS = {"interaction": 0.0, "motif": 1.0, "trend": 1.0, "regime": 1.0}
SYMBOL, HORIZON = "MES", 20


def market_config(data_dir: Path, quick: bool, seed: int) -> dict:
    config = on_classic({"symbols": [SYMBOL], "horizons": [HORIZON], "data_dir": str(data_dir), "seed": seed,
                         "base_models": BASES, "meta_learner": STATIC + AWARE,
                         "synthetic": {"n_bars": 20000 if quick else 80000, "effects": EFFECTS}})
    if quick:
        config["model_params"] = QUICK_MODEL_PARAMS
    return config


def scores(run: Path, n_bars: int, seed: int) -> dict:
    labels = pd.read_parquet(run / "labels.parquet", columns=["label", "split"])
    train = labels["label"].to_numpy()[labels["split"].to_numpy() == "train"]
    prior = np.array([np.mean(train == c) for c in CLASSES])
    frames = {b: pd.read_parquet(run / "test" / f"{b}.parquet") for b in BASES}
    frames.update({m: pd.read_parquet(run / "predictions" / f"{m}_test.parquet") for m in STATIC + AWARE})
    y = frames[BASES[0]]["label"].to_numpy().astype(int)
    ids = frames[BASES[0]]["sample_id"].to_numpy()
    volatile = volatile_regime(SYMBOL, n_bars, seed)[ids]
    prior_loss = -np.log(prior[np.searchsorted(CLASSES, y)])
    block = 2 * HORIZON
    rows, losses = [], {}
    for name, frame in frames.items():
        if not np.array_equal(frame["sample_id"].to_numpy(), ids):
            raise AssertionError(f"{name}: test rows differ from {BASES[0]}'s")
        _, losses[name], acc, ll = per_sample(y, frame[PROB_COLUMNS].to_numpy(np.float64))
        skill = prior_loss - losses[name]
        rows.append({"model": name, "test_log_loss": ll, "test_acc": acc, "skill": float(skill.mean()),
                     "skill_se_block": se_blocks(skill, block), "skill_volatile": float(skill[volatile].mean()),
                     "skill_calm": float(skill[~volatile].mean())})
    best_static = min(STATIC, key=lambda m: losses[m].mean())
    best_base = min(BASES, key=lambda b: losses[b].mean())
    gains = []
    for name in AWARE:
        for ref in (best_static, best_base):
            gain = losses[ref] - losses[name]
            se = se_blocks(gain, block)
            gains.append({"model": name, "against": ref, "log_loss_gain": float(gain.mean()),
                          "log_loss_gain_se_block": se, "in_se": float(gain.mean() / se)})
    report = read_json(run / "meta_regime_report.json")
    auto = read_json(run / "meta_auto_report.json")["meta_auto_choice"]
    return {"n_test": int(len(y)), "test_volatile_share": float(volatile.mean()), "models": rows, "gains": gains,
            "best_static": best_static, "best_base": best_base,
            "meta_regime_weights": {t: w["weights"] for t, w in report["meta_learner_regime_weights"].items()},
            "auto_choice": auto["chosen"],
            "auto_candidates_cv_log_loss": {n: c["log_loss"] for n, c in auto["candidates"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20,000 bars, fewer iterations/epochs")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[42])
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one")
    args = ap.parse_args()

    root = scratch_root(args.workdir, "regime")
    mode = "quick" if args.quick else "full"
    print(f"regime benchmark ({mode}), bases {BASES}, {args.cores} cores, scratch {root}", flush=True)
    results = {}
    try:
        for seed in args.seeds:
            work = root / f"seed{seed}"
            (work / "data").mkdir(parents=True, exist_ok=True)  # empty: the symbol is synthetic
            config = market_config(work / "data", args.quick, seed)
            run = f"results/{SYMBOL}_h{HORIZON}"
            wall = run_workflow(work, config, [f"{run}/{m}_report.json" for m in STATIC + AWARE], args.cores)
            result = scores(work / run, config["synthetic"]["n_bars"], seed)
            results[seed] = {"workflow_wall_s": wall, **result}
            print_table(result["models"], ["model", "test_log_loss", "test_acc", "skill", "skill_se_block",
                                           "skill_volatile", "skill_calm"],
                        f"seed {seed}: {result['n_test']} test rows, {result['test_volatile_share']:.0%} of them "
                        f"volatile; workflow {wall:.0f} s")
            print_table(result["gains"], ["model", "against", "log_loss_gain", "log_loss_gain_se_block", "in_se"],
                        f"seed {seed}: paired log-loss gains (> 0: the regime-aware meta is better)")
            print(f"meta_regime base weights per volatility third: {result['meta_regime_weights']}")
            print(f"meta_auto chose {result['auto_choice']}; CV log loss {result['auto_candidates_cv_log_loss']}")
    finally:
        drop_scratch(root, args.workdir)
    write_result("regime-quick" if args.quick else "regime", {
        "mode": mode, "bases": BASES, "static": STATIC, "aware": AWARE, "effects": EFFECTS, "cores": args.cores,
        "seeds": results,
        "se_note": "batch means over blocks of 2*horizon consecutive test samples; skill = class-prior log loss - model's",
    })


if __name__ == "__main__":
    run_timed(main)
