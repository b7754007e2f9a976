#!/usr/bin/env python
"""What tuning inside the purged folds buys: the default run against the same run with every default
base tuned (`tuning.bases`), on the synthetic default market and on real EURUSD hourly bars.

    python bench/tuning.py [--quick] [--cores N] [--datasets synthetic eurusd] [--workdir DIR]

For each data set the real workflow builds results/{symbol}_h{h}/auto_report.json twice in scratch
folders, untuned and tuned, one after the other on the same machine. Then, on the same test rows:

- each base tuned against its defaults: test skill of both, and the paired skill gain with its block SE
  (batch means over blocks of twice the longest label span, as the report's intervals);
- auto's log-loss gain over the best base (lowest OOF log loss), untuned and tuned, paired, with SEs;
- a control run with every study cut to trial 0 (the configured params): the same bases as untuned, the
  meta-learner without the span's rows; tuned - untuned splits into tuned - control (the params) and
  control - untuned (the rows the span takes from the meta-learner);
- auto's DSR untuned, and tuned before and after counting the tuning trials' clusters;
- per base: trials run (complete, pruned), effective trials, whether trial 0 (the configured params)
  won the study, the study's objective at the configured and the chosen params, and the workers' wall.

Budget: TRIALS trials a base, capped by TIMEOUT_MINUTES per worker (2 workers), so that both data sets
fit 2 cores in under an hour. --quick: 12,000 synthetic bars, 4 trials a base, fewer boosting rounds.
JSON: bench/out/tuning[-quick].json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import default_or_eurusd
from common import (MARKETS, REPO, drop_scratch, fmt_se, market_arguments, print_table, read_benchmarks, result_name,
                    run_timed, run_workflow, scratch_root, write_result)

sys.path.insert(0, str(REPO / "src"))

from hetstack.evaluation import class_prior, per_sample_scores, se_blocks
from hetstack.io import read_json
from hetstack.stages.meta import block_rows
from hetstack.tables import PROB_COLUMNS

BASES = ["catboost", "logistic_window", "lightgbm_multires"]
TRIALS = {"catboost": 12, "logistic_window": 8, "lightgbm_multires": 12}
TIMEOUT_MINUTES = {"catboost": 7, "logistic_window": 4, "lightgbm_multires": 4}
QUICK_MODEL_PARAMS = {"catboost": {"iterations": 150}, "lightgbm_multires": {"num_boost_round": 150}}


def tuning_section(quick: bool, control: bool = False) -> dict:
    """Every default base tuned; the control runs trial 0 alone (the configured params) and so differs
    from the untuned run only in the rows the meta-learner loses to the span."""
    return {"bases": {b: {"n_trials": 1 if control else 4 if quick else TRIALS[b],
                          "timeout_minutes": 2 if quick else TIMEOUT_MINUTES[b]} for b in BASES}}


def test_terms(run: Path, names: list[str], prior: np.ndarray) -> tuple[dict, np.ndarray, int]:
    """Per-row scores of each base and of auto on the run's test rows, the row ids and the block length."""
    labels = pd.read_parquet(run / "labels.parquet").set_index("sample_id")
    meta = pd.read_parquet(run / "predictions/auto_test.parquet")
    ids = meta["sample_id"].to_numpy(np.int64)
    y = labels.loc[ids, "label"].to_numpy()
    probabilities = {b: pd.read_parquet(run / f"test/{b}.parquet")[PROB_COLUMNS].to_numpy() for b in names}
    probabilities["auto"] = meta[PROB_COLUMNS].to_numpy()
    return ({m: per_sample_scores(y, p, prior) for m, p in probabilities.items()}, ids,
            block_rows(ids, labels.loc[ids, "t1"].to_numpy()))


def mean_se(values: np.ndarray, block: int) -> dict:
    return {"mean": float(np.mean(values)), "se": se_blocks(values, block)}


def compare(runs: dict[str, Path], reports: dict) -> dict:
    """The runs scored against one prior (the untuned run's train labels: the same labels in all)."""
    prior = class_prior(pd.read_parquet(runs["untuned"] / "labels.parquet").query("split == 'train'")["label"]
                        .to_numpy())
    terms, scored = {}, {}
    for name, run in runs.items():
        terms[name], ids, block = test_terms(run, BASES, prior)
        scored[name] = ids
    assert all(np.array_equal(scored["untuned"], v) for v in scored.values()), "the runs scored different test rows"
    out = {"n_test": int(len(ids)), "block_rows": int(block), "bases": {}, "stack": {}}
    for b in BASES:
        gain = terms["tuned"][b]["skill"] - terms["untuned"][b]["skill"]
        out["bases"][b] = {"untuned_skill": mean_se(terms["untuned"][b]["skill"], block),
                           "tuned_skill": mean_se(terms["tuned"][b]["skill"], block),
                           "skill_gain": mean_se(gain, block)}
    for name in runs:
        report = reports[name]
        best = report["performance"]["best_base"]
        sharpe = report["statistics"]["sharpe"]["auto"]
        out["stack"][name] = {
            "best_base": best, "auto_choice": (report["meta_auto_choice"] or {}).get("chosen"),
            "auto_skill": mean_se(terms[name]["auto"]["skill"], block),
            "log_loss_gain_over_best_base": mean_se(terms[name][best]["log_loss"] - terms[name]["auto"]["log_loss"],
                                                    block),
            "dsr": sharpe["dsr"], "dsr_before_tuning": sharpe.get("dsr_before_tuning"),
            "dsr_trials": sharpe["n_trials"], "sharpe_ratio": sharpe["sharpe_ratio"],
            "meta_rows": report["samples"]["n_train"]}
    # tuned - untuned = (tuned - control: the params) + (control - untuned: the span's rows taken from the meta)
    for a, b in (("tuned", "untuned"), ("tuned", "control"), ("control", "untuned")):
        if a in terms and b in terms:
            out["stack"][f"auto_skill_{a}_minus_{b}"] = mean_se(terms[a]["auto"]["skill"] - terms[b]["auto"]["skill"],
                                                               block)
    if "control" in terms:  # the control fits every base with its configured params: its bases are the untuned
        out["control_bases_identical"] = {b: bool(np.array_equal(terms["control"][b]["log_loss"],
                                                                 terms["untuned"][b]["log_loss"])) for b in BASES}
    return out


def study_figures(workdir: Path, run: Path) -> dict:
    walls = {}
    for row in read_benchmarks(workdir):
        if row["rule"] == "tune_worker":
            base = Path(row["job"]).parts[1]
            walls[base] = max(walls.get(base, 0.0), row["s"])
    out = {}
    for b in BASES:
        tuned = read_json(run / f"tuning/{b}/tuned.json")
        out[b] = {k: tuned[k] for k in ("n_trials", "states", "effective_trials", "chosen_trial",
                                        "chosen_is_configured", "configured_value", "best_value", "params")}
        out[b]["workers_wall_s"] = walls.get(b)
        seconds = [t["seconds"] for t in tuned["trials"] if t["state"] == "COMPLETE" and t["seconds"]]
        out[b]["complete_trial_median_s"] = float(np.median(seconds)) if seconds else None
    return out


def main() -> None:
    ap = market_arguments(__doc__, "12,000 synthetic bars, 4 trials a base")
    args = ap.parse_args()
    root = scratch_root(args.workdir, "tuning")
    print(f"tuning benchmark ({'quick' if args.quick else 'full'}), {args.cores} cores, scratch {root}", flush=True)
    results = {}
    try:
        for name in args.datasets:
            # quick: the default 1,440-bar embargo would leave 12,000 bars' folds too few rows
            symbol, config, data = default_or_eurusd(
                name, root / name / "data",
                {"synthetic": {"n_bars": 12000}, "oof": {"embargo_bars": 240}} if args.quick else None)
            if args.quick:
                config["model_params"] = QUICK_MODEL_PARAMS
            target = f"results/{symbol}_h{config.get('horizons', [20])[0]}/auto_report.json"
            walls, reports, runs = {}, {}, {}
            for variant in ("untuned", "control", "tuned"):
                work = root / name / variant
                variant_config = {**config, **({"tuning": tuning_section(args.quick, control=variant == "control")}
                                               if variant != "untuned" else {})}
                print(f"\n{name} {variant}: building {target} ...", flush=True)
                walls[variant] = run_workflow(work, variant_config, [target], args.cores)
                reports[variant] = read_json(work / target)
                runs[variant] = work / Path(target).parent
                print(f"{name} {variant}: {walls[variant]:.0f} s", flush=True)
            entry = {"symbol": symbol, "data": data, "config_override": config, "wall_s": walls,
                     "tuning": tuning_section(args.quick), **compare(runs, reports),
                     "studies": study_figures(root / name / "tuned", runs["tuned"])}
            results[name] = entry
            rows = [{"base": b, "untuned skill": fmt_se(v['untuned_skill']),
                     "tuned skill": fmt_se(v['tuned_skill']),
                     "gain": fmt_se(v['skill_gain']),
                     "trials (eff.)": f"{entry['studies'][b]['n_trials']} ({entry['studies'][b]['effective_trials']})",
                     "trial 0 won": entry["studies"][b]["chosen_is_configured"],
                     "workers s": f"{entry['studies'][b]['workers_wall_s'] or 0:.0f}"}
                    for b, v in entry["bases"].items()]
            print_table(rows, list(rows[0]), f"{name}: each base tuned against its defaults, paired block SEs")
            rows = [{"run": v, "wall s": f"{walls[v]:.0f}", "best base": s["best_base"], "auto": str(s["auto_choice"]),
                     "auto skill": fmt_se(s["auto_skill"]),
                     "gain over best": fmt_se(s["log_loss_gain_over_best_base"]),
                     "DSR": f"{s['dsr']:.3f}", "DSR before tuning trials": str(s["dsr_before_tuning"]),
                     "DSR trials": s["dsr_trials"], "meta rows": s["meta_rows"]}
                    for v, s in ((v, entry["stack"][v]) for v in runs)]
            print_table(rows, list(rows[0]), f"{name}: the stack untuned, with the span alone (control) and tuned")
            print("paired auto skill differences: " + ", ".join(
                f"{k.removeprefix('auto_skill_')} {fmt_se(v)}"
                for k, v in entry["stack"].items() if k.startswith("auto_skill_")), flush=True)
    finally:
        drop_scratch(root, args.workdir)
    write_result(result_name("tuning", args.quick, args.datasets, MARKETS),
                 {"cores": args.cores, "quick": args.quick, "datasets": results})


if __name__ == "__main__":
    run_timed(main)
