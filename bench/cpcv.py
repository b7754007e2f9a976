#!/usr/bin/env python
"""The cost and the figures of combinatorial purged CV (oof.scheme: cpcv) against purged K-fold.

    python bench/cpcv.py [--quick] [--cores N] [--meta auto] [--n-groups 6] [--k-test-groups 2] [--workdir DIR]

Builds `results/MES_h20/{meta}_report.json` on the classic synthetic market (config/classic.yaml) twice in one scratch
folder: first with the default purged K-fold (wall time A), then with `oof.scheme: cpcv` on top
(wall time B: only the CPCV jobs and the report run again, since K-fold's outputs are reused).
Prints the walls, the summed job seconds of each stage from Snakemake's benchmark files, and the
CPCV path statistics (mean, std, min, max over the paths) of every base and meta-learner, with
the report's test-period PSR, DSR and PBO. --quick: 12,000 bars, catboost 150 iterations,
tcn/patchtst 3 epochs. JSON: bench/out/cpcv[-quick].json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import drop_scratch, on_classic, print_table, read_benchmarks, run_timed, run_workflow, scratch_root, write_result

QUICK = {"synthetic": {"n_bars": 12000},
         "model_params": {"catboost": {"iterations": 150}, "tcn": {"epochs": 3}, "patchtst": {"epochs": 3}}}


def job_seconds(workdir: Path, rules: set[str]) -> dict[str, float]:
    """Summed wall seconds of the benchmarked jobs of each rule in `rules`."""
    totals: dict[str, float] = {}
    for row in read_benchmarks(workdir):
        if row["rule"] in rules:
            totals[row["rule"]] = totals.get(row["rule"], 0.0) + row["s"]
    return totals


def path_rows(report: dict) -> list[dict]:
    rows = []
    for model, scores in report["cpcv"]["summary"].items():
        sharpe = report["statistics"]["sharpe"].get(model, {})
        rows.append({"model": model, "acc mean": scores["accuracy"]["mean"], "acc std": scores["accuracy"]["std"],
                     "skill mean": scores["skill"]["mean"], "skill std": scores["skill"]["std"],
                     "Sharpe mean": scores["sharpe_ratio"]["mean"], "Sharpe std": scores["sharpe_ratio"]["std"],
                     "Sharpe min": scores["sharpe_ratio"]["min"], "Sharpe max": scores["sharpe_ratio"]["max"],
                     "test PSR": sharpe.get("psr", float("nan")), "test DSR": sharpe.get("dsr", float("nan"))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--meta", default="auto", help="the report built (default: the config's meta_learner)")
    ap.add_argument("--n-groups", type=int, default=6)
    ap.add_argument("--k-test-groups", type=int, default=2)
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one")
    args = ap.parse_args()

    root = scratch_root(args.workdir, "cpcv")
    base = on_classic({"symbols": ["MES"], "horizons": [20], "data_dir": str(root / "data"), **(QUICK if args.quick else {})})
    target = [f"results/MES_h20/{args.meta}_report.json"]
    n, k = args.n_groups, args.k_test_groups
    print(f"CPCV benchmark ({'quick' if args.quick else 'full'}), N={n}, k={k}, {args.cores} cores, scratch {root}",
          flush=True)
    try:
        kfold_wall = run_workflow(root, base, target, args.cores)
        kfold_jobs = job_seconds(root, {"oof_fold", "retrain_base", "fit_meta"})
        print(f"purged K-fold: {kfold_wall:.0f} s wall", flush=True)
        cpcv = {**base, "oof": {"scheme": "cpcv", "n_groups": n, "k_test_groups": k}}
        cpcv_wall = run_workflow(root, cpcv, target, args.cores)
        cpcv_jobs = job_seconds(root, {"cpcv_fold", "cpcv_meta"})
        report = json.loads((root / target[0]).read_text())
    finally:
        drop_scratch(root, args.workdir)
    n_jobs = {"outer": math.comb(n, k), "inner": math.comb(n, k + 1), "paths": math.comb(n - 1, k - 1)}
    print(f"CPCV on top: {cpcv_wall:.0f} s wall ({cpcv_wall / kfold_wall:.2f}x the K-fold run); "
          f"splits per base {n_jobs['outer']} outer + {n_jobs['inner']} inner, {n_jobs['paths']} paths")
    print(f"job seconds: K-fold {kfold_jobs}; CPCV {cpcv_jobs}")
    rows = path_rows(report)
    print_table(rows, list(rows[0]), f"CPCV paths of the train period ({report['cpcv']['n_paths']} paths, "
                                     f"{report['cpcv']['n_rows_per_path']} samples each) and the test PSR/DSR")
    print(report["statistics"]["readings"]["pbo"])
    write_result("cpcv-quick" if args.quick else "cpcv", {
        "mode": "quick" if args.quick else "full", "cores": args.cores, "meta": args.meta,
        "n_groups": n, "k_test_groups": k, "jobs_per_base": n_jobs, "kfold_wall_s": kfold_wall,
        "cpcv_extra_wall_s": cpcv_wall, "kfold_job_s": kfold_jobs, "cpcv_job_s": cpcv_jobs, "paths": rows,
        "test_statistics": report["statistics"], "cpcv": report["cpcv"],
    })


if __name__ == "__main__":
    run_timed(main)
