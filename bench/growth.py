#!/usr/bin/env python
"""Growth: wall time and peak memory of the default pipeline at 1x, 2x and 4x the bars, and the
fitted exponents b of time ~ bars**b and memory ~ bars**b (target: b <= 1.1 for both).

    python bench/growth.py [--quick] [--bars 20000] [--cores N]

Each size runs the default configuration (catboost + tcn + patchtst, 5 purged folds, meta_ridge)
on one synthetic symbol from scratch, in its own scratch folder, to
results/MES_h20/meta_ridge_report.json. Peak memory is the largest job's max_rss from Snakemake's
benchmark files. Full mode: 20,000 / 40,000 / 80,000 bars (40,000 is the README's default run);
--quick: 8,000 / 16,000 / 32,000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fit_exponent, on_classic, print_table, read_benchmarks, run_workflow, write_result

TARGET = "results/MES_h20/meta_ridge_report.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8,000 / 16,000 / 32,000 bars")
    ap.add_argument("--bars", type=int, help="the 1x size (default 20,000; 8,000 with --quick)")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--workdir", type=Path, help="keep the runs here instead of a temporary folder")
    args = ap.parse_args()
    base = args.bars or (8000 if args.quick else 20000)
    sizes = [base, 2 * base, 4 * base]

    rows, stages = [], {}
    with tempfile.TemporaryDirectory(prefix="hetstack-growth-") as tmp:
        root = args.workdir or Path(tmp)
        for n_bars in sizes:
            workdir = root / f"bars{n_bars}"
            config = on_classic({"symbols": ["MES"], "horizons": [20], "synthetic": {"n_bars": n_bars},
                                 "data_dir": str(workdir / "data")})
            wall = run_workflow(workdir, config, [TARGET], args.cores)
            jobs = read_benchmarks(workdir)
            largest = max(jobs, key=lambda job: job["max_rss_mb"])
            per_rule = defaultdict(float)
            for job in jobs:
                per_rule[job["rule"]] += job["s"]
            stages[n_bars] = dict(per_rule)
            splits = json.loads((workdir / "results/MES_h20/splits.json").read_text())
            rows.append({"bars": n_bars, "train_samples": splits["counts"]["train"],
                         "fold_fit_samples": sum(fold["n_train"] for fold in splits["folds"]),
                         "wall_s": wall, "peak_job_mb": largest["max_rss_mb"],
                         "peak_job": f"{largest['rule']}/{largest['job']}", "jobs_s": sum(per_rule.values())})
            print(f"{n_bars} bars: {wall:.1f} s wall, largest job {largest['max_rss_mb']:.0f} MB "
                  f"({largest['rule']}/{largest['job']})", flush=True)

    print_table(rows, ["bars", "train_samples", "fold_fit_samples", "wall_s", "jobs_s", "peak_job_mb", "peak_job"],
                title=f"default pipeline, one symbol, --cores {args.cores}")
    print_table([{"rule": rule, **{f"{n}_bars_s": stages[n].get(rule, 0.0) for n in sizes}}
                 for rule in sorted(stages[sizes[-1]])],
                ["rule", *(f"{n}_bars_s" for n in sizes)], title="job seconds by rule (sum over jobs)")
    time_exp = fit_exponent(sizes, [r["wall_s"] for r in rows])
    mem_exp = fit_exponent(sizes, [r["peak_job_mb"] for r in rows])
    # The embargo and the lookback are fixed bar counts, so the samples the folds fit on grow faster
    # than the bars at small sizes; the exponent against them separates that from the code's growth.
    sample_exp = fit_exponent([r["fold_fit_samples"] for r in rows], [r["jobs_s"] for r in rows])
    print(f"\nfitted exponents against bars: time {time_exp:.2f}, peak memory {mem_exp:.2f} (target <= 1.1 each: "
          f"{'met' if max(time_exp, mem_exp) <= 1.1 else 'missed'})")
    print(f"job seconds against the samples the fold jobs fit on: exponent {sample_exp:.2f}")
    write_result("growth-quick" if args.quick else "growth",
                 {"cores": args.cores, "sizes": sizes, "rows": rows, "seconds_by_rule": stages,
                  "time_exponent": time_exp, "memory_exponent": mem_exp, "job_seconds_vs_fit_samples_exponent": sample_exp})


if __name__ == "__main__":
    main()
