"""Effect attribution: which family finds which planted effect of the synthetic market.

Markets with no effect, each effect alone (interaction, motif, trend: `synthetic.effects`) and all
three; on each, the default bases (catboost 2D, tcn 3D, patchtst 4D), lightgbm and ridge as
tabular references, and the default meta-learner, all in one workflow run per market. Scores on
the hold-out test rows: log loss, accuracy and skill (log loss of the train labels' class shares
minus the model's), with batch-means SEs over blocks of 2h consecutive samples (labels overlap).
The no-effect market is the control: no model should show skill there.

    python bench/effects.py --quick     # 12,000 bars a market, fewer iterations: a smoke test
    python bench/effects.py             # 40,000 bars a market, the default settings
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import QUICK_MODEL_PARAMS, per_sample, se_blocks
from common import print_table, run_workflow, write_result

from hetstack import CLASSES
from hetstack.tables import PROB_COLUMNS

BASES = ["catboost", "tcn", "patchtst", "lightgbm", "ridge"]
META = "meta_ridge"
EFFECTS = ("interaction", "motif", "trend")
MARKETS = {"none": {}, **{name: {name: 1.0} for name in EFFECTS}, "all": {name: 1.0 for name in EFFECTS}}
EXPECTED_FINDER = {"interaction": "tabular (2D)", "motif": "sequence (3D)", "trend": "multi-resolution (4D)"}


def market_config(market: str, data_dir: Path, quick: bool) -> dict:
    effects = {name: MARKETS[market].get(name, 0.0) for name in EFFECTS}
    config = {"symbols": ["MES"], "horizons": [20], "data_dir": str(data_dir), "base_models": BASES,
              "meta_learner": META, "synthetic": {"n_bars": 12000 if quick else 40000, "effects": effects}}
    if quick:
        config["model_params"] = QUICK_MODEL_PARAMS
    return config


def market_scores(run: Path, horizon: int) -> list[dict]:
    """One row per model: test log loss, accuracy and skill with block SEs."""
    labels = pd.read_parquet(run / "labels.parquet", columns=["label", "split"])
    train = labels["label"].to_numpy()[labels["split"].to_numpy() == "train"]
    prior = np.array([np.mean(train == c) for c in CLASSES])
    frames = {b: pd.read_parquet(run / "test" / f"{b}.parquet") for b in BASES}
    frames[META] = pd.read_parquet(run / "predictions" / f"{META}_test.parquet")
    y = frames[BASES[0]]["label"].to_numpy().astype(int)
    prior_loss = -np.log(prior[np.searchsorted(CLASSES, y)])
    block = 2 * horizon
    rows, per_model = [], {}
    for name, frame in frames.items():
        if not np.array_equal(frame["label"].to_numpy(), y):
            raise AssertionError(f"{name}: test rows differ from {BASES[0]}'s")
        correct, losses, acc, ll = per_sample(y, frame[PROB_COLUMNS].to_numpy(np.float64))
        per_model[name] = (correct, losses)
        rows.append({"model": name, "test_log_loss": ll, "test_acc": acc, "test_acc_se_block": se_blocks(correct, block),
                     "skill": float(np.mean(prior_loss - losses)), "skill_se_block": se_blocks(prior_loss - losses, block)})
    # The meta-learner against the base with the best test log loss: picking it on test favours the
    # base, so the gain is if anything understated. Paired per-sample differences, block SEs.
    best = min(BASES, key=lambda b: per_model[b][1].mean())
    loss_gain = per_model[best][1] - per_model[META][1]
    acc_gain = per_model[META][0] - per_model[best][0]
    rows[-1].update({"best_base": best, "gain_log_loss": float(loss_gain.mean()),
                     "gain_log_loss_se_block": se_blocks(loss_gain, block), "gain_acc": float(acc_gain.mean()),
                     "gain_acc_se_block": se_blocks(acc_gain, block)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="12,000 bars a market, fewer iterations/epochs")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markets", nargs="+", choices=list(MARKETS), default=list(MARKETS))
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one")
    args = ap.parse_args()

    root = (args.workdir or Path(tempfile.mkdtemp(prefix="hetstack-effects-"))).resolve()
    mode = "quick" if args.quick else "full"
    print(f"effects benchmark ({mode}), bases {BASES}, meta {META}, {args.cores} cores, scratch {root}", flush=True)
    results = {}
    try:
        for market in args.markets:
            work = root / market
            (work / "data").mkdir(parents=True, exist_ok=True)  # empty: every symbol is synthetic
            config = market_config(market, work / "data", args.quick)
            wall = run_workflow(work, config, [f"results/MES_h20/{META}_report.json"], args.cores)
            rows = market_scores(work / "results/MES_h20", 20)
            results[market] = {"effects": config["synthetic"]["effects"], "workflow_wall_s": wall, "models": rows}
            print_table(rows, ["model", "test_log_loss", "test_acc", "test_acc_se_block", "skill", "skill_se_block"],
                        f"market '{market}' (effects {config['synthetic']['effects']}), workflow {wall:.0f} s")
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    summary = [{"model": m, **{market: f"{r['skill']:+.4f} ({r['skill_se_block']:.4f})"
                               for market, res in results.items() for r in res["models"] if r["model"] == m}}
               for m in BASES + [META]]
    print_table(summary, ["model", *results], "skill (block SE) by market")
    gains = [{"market": market, **{k: res["models"][-1][k] for k in
                                   ("best_base", "gain_log_loss", "gain_log_loss_se_block", "gain_acc", "gain_acc_se_block")}}
             for market, res in results.items()]
    print_table(gains, list(gains[0]) if gains else ["market"], f"{META} against the best base (paired, block SE)")
    write_result("effects-quick" if args.quick else "effects", {
        "mode": mode, "bases": BASES, "meta": META, "cores": args.cores, "markets": results,
        "expected_finder": EXPECTED_FINDER,
        "se_note": "batch means over blocks of 2*horizon consecutive test samples; skill = class-prior log loss - model's",
    })


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - start:.0f} s")
