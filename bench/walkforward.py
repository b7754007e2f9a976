#!/usr/bin/env python
"""One test period against a walk-forward record: the same default run under `oos.scheme` split and
walkforward (config/walkforward.yaml), on the synthetic default market and on real EURUSD hourly bars.

    python bench/walkforward.py [--quick] [--cores N] [--datasets synthetic eurusd] [--schemes split walkforward]
                                [--workdir DIR]

For each data set and scheme the real workflow builds results/{symbol}_h{h}/auto_report.json in a
scratch folder (the schemes run one after the other on the same machine, so their walls compare). The
script then re-scores the hold-out rows (the test period, or the whole walk-forward record):

- the rows scored, and the span they cover;
- each base's skill and auto's, with block SEs (batch means over blocks of twice the longest label span,
  as the report's intervals);
- auto's log-loss and accuracy gain over the best base (lowest OOF log loss, no test row used), paired
  per row, with the block SE of the paired difference;
- auto's choice (per window under walk-forward) and the wall time of the whole run;
- under walk-forward also the same figures on the single split's test rows alone (the record's tail),
  which separates what the longer record changes from what the retraining changes.

Full mode: MES 40,000 bars (the main job's market) and EURUSD (bench/accuracy.py's settings for hourly
bars), about 40 min on 2 cores. --quick: 12,000 synthetic bars, fewer boosting rounds.
JSON: bench/out/walkforward[-quick][-{datasets}-{schemes}].json (the suffix when they are not all run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import default_or_eurusd
from common import (MARKETS, REPO, config_file, drop_scratch, fmt_se, market_arguments, print_table, result_name,
                    run_timed, run_workflow, scratch_root, write_result)

sys.path.insert(0, str(REPO / "src"))

from hetstack.evaluation import class_prior, per_sample_scores, se_blocks
from hetstack.io import read_json
from hetstack.stages.meta import block_rows
from hetstack.tables import PROB_COLUMNS

QUICK_MODEL_PARAMS = {"catboost": {"iterations": 150}, "lightgbm_multires": {"num_boost_round": 150}}


def score_rows(run: Path, report: dict, rows: np.ndarray | None = None) -> dict:
    """Skill of every base and of auto with block SEs, and auto's paired gains over the best base, on the
    report's hold-out rows (all of them, or those whose sample ids are in `rows`)."""
    labels = pd.read_parquet(run / "labels.parquet").set_index("sample_id")
    meta = pd.read_parquet(run / "predictions/auto_test.parquet")
    ids = meta["sample_id"].to_numpy(np.int64)
    keep = np.ones(len(ids), dtype=bool) if rows is None else np.isin(ids, rows)
    ids = ids[keep]
    y = labels.loc[ids, "label"].to_numpy()
    block = block_rows(ids, labels.loc[ids, "t1"].to_numpy())
    prior = class_prior(pd.read_parquet(run / "meta_matrix.parquet", columns=["label"])["label"].to_numpy())
    probabilities = {b: pd.read_parquet(run / f"test/{b}.parquet")[PROB_COLUMNS].to_numpy()[keep]
                     for b in report["base_models"]}
    probabilities["auto"] = meta[PROB_COLUMNS].to_numpy()[keep]
    terms = {m: per_sample_scores(y, p, prior) for m, p in probabilities.items()}
    best = report["performance"]["best_base"]
    ll_gain = terms[best]["log_loss"] - terms["auto"]["log_loss"]
    acc_gain = terms["auto"]["accuracy"] - terms[best]["accuracy"]
    return {
        "n_rows": int(len(ids)), "block_rows": int(block), "sample_range": [int(ids[0]), int(ids[-1])],
        "period": [str(labels.loc[ids[0], "timestamp"]), str(labels.loc[ids[-1], "timestamp"])],
        "skill": {m: {"mean": float(t["skill"].mean()), "se": se_blocks(t["skill"], block)} for m, t in terms.items()},
        "best_base": best,
        "log_loss_gain": {"mean": float(ll_gain.mean()), "se": se_blocks(ll_gain, block)},
        "accuracy_gain_points": {"mean": 100 * float(acc_gain.mean()), "se": 100 * se_blocks(acc_gain, block)},
    }


def run_one(work: Path, config: dict, target: str, cores: int) -> tuple[float, dict]:
    wall = run_workflow(work, config, [target], cores)
    return wall, read_json(work / target)


def main() -> None:
    ap = market_arguments(__doc__, "12,000 synthetic bars, fewer boosting rounds")
    ap.add_argument("--schemes", nargs="+", choices=["split", "walkforward"], default=["split", "walkforward"])
    args = ap.parse_args()
    root = scratch_root(args.workdir, "walkforward")
    walkforward = config_file("walkforward.yaml")
    print(f"walk-forward benchmark ({'quick' if args.quick else 'full'}), {args.cores} cores, scratch {root}",
          flush=True)
    results = {}
    try:
        for name in args.datasets:
            symbol, config, data = default_or_eurusd(name, root / name / "data",
                                                     {"synthetic": {"n_bars": 12000}} if args.quick else None)
            if args.quick:
                config["model_params"] = QUICK_MODEL_PARAMS
            target = f"results/{symbol}_h{config.get('horizons', [20])[0]}/auto_report.json"
            results[name] = {"symbol": symbol, "data": data, "config_override": config, "schemes": {}}
            split_rows = None
            for scheme in args.schemes:
                work = root / name / scheme
                scheme_config = {**config, **(walkforward if scheme == "walkforward" else {})}
                print(f"\n{name} {scheme}: building {target} ...", flush=True)
                wall, report = run_one(work, scheme_config, target, args.cores)
                run = work / Path(target).parent
                scores = score_rows(run, report)
                entry = {"wall_s": wall, "scores": scores,
                         "auto_choice": (report["meta_auto_choice"] or {}).get("chosen")}
                if scheme == "split":
                    labels = pd.read_parquet(run / "labels.parquet")
                    split_rows = labels.loc[labels["split"] == "test", "sample_id"].to_numpy()
                else:
                    table = report["walkforward"]
                    entry["auto_choice"] = [w["auto_choice"] for w in table["windows"]]
                    entry["windows"] = [{k: w[k] for k in ("window", "n_test", "n_train", "meta_fit_rows",
                                                           "log_loss_gain_over_best_base", "log_loss_gain_se",
                                                           "auto_choice")}
                                        | {"skill": {m: s["skill"] for m, s in w["scores"].items()}}
                                        for w in table["windows"]]
                    if split_rows is not None:
                        entry["on_split_test_rows"] = score_rows(run, report, split_rows)
                results[name]["schemes"][scheme] = entry
                print(f"{name} {scheme}: {wall:.0f} s, {scores['n_rows']} rows, auto - {scores['best_base']}: "
                      f"log loss {scores['log_loss_gain']['mean']:+.4f} (SE {scores['log_loss_gain']['se']:.4f}), "
                      f"accuracy {scores['accuracy_gain_points']['mean']:+.1f} "
                      f"(SE {scores['accuracy_gain_points']['se']:.1f}) points; auto chose {entry['auto_choice']}",
                      flush=True)
            rows = []
            for scheme, entry in results[name]["schemes"].items():
                for label, s in [(scheme, entry["scores"])] + (
                        [("walkforward on split rows", entry["on_split_test_rows"])]
                        if "on_split_test_rows" in entry else []):
                    rows.append({"rows": label, "n": s["n_rows"], "wall_s": f"{entry['wall_s']:.0f}",
                                 **{f"skill {m}": fmt_se(v) for m, v in s["skill"].items()},
                                 "ll gain": fmt_se(s['log_loss_gain']),
                                 "acc gain": f"{s['accuracy_gain_points']['mean']:+.1f} "
                                             f"({s['accuracy_gain_points']['se']:.1f})"})
            print_table(rows, list(rows[0]), f"{name}: auto against the best base, block SEs in brackets")
    finally:
        drop_scratch(root, args.workdir)
    write_result(result_name("walkforward", args.quick, args.datasets + args.schemes,
                             MARKETS + ["split", "walkforward"]),
                 {"cores": args.cores, "quick": args.quick, "datasets": results})


if __name__ == "__main__":
    run_timed(main)
