#!/usr/bin/env python
"""Studies: the workflow's `study` target (results/study.json) over several runs, and the targets of
issue 31 on it: is `auto` safe across a universe, and does any meta-learner gain beyond its error?

    python bench/study.py real [--cores N] [--workdir DIR] [--metas ...]
    python bench/study.py synthetic [--symbols MES MGC ...] [--cores N] [--workdir DIR] [--metas ...]
    python bench/study.py pool STUDY_DIR... --name NAME   # pool the reports of finished workdirs

real: EURUSD hourly bars at horizons 12 and 24 and GOOG daily bars at 5 and 10 (bench/accuracy.py's
settings for each, with the purge widened to cover the longer horizon), the default bases. Each data
set is one workflow run of the `study` target in its own folder; the four runs are then pooled in one
study. About 15 min on 2 cores.
synthetic: symbols of the default market (8 by default), horizon 20, one DAG; about 75 min on 2 cores.

Targets (issue 31): on real bars, auto's pooled log-loss gain over the OOF-chosen best base is >= -0.5
pooled SE and no run is below -1 SE; on the synthetic study, auto's pooled gain is not below that of any
fixed meta-learner by more than 1 pooled SE. JSON and page: bench/out/study-{name}.json / .html.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import EURUSD_CONFIG, EURUSD_FILES, GOOG_CONFIG, GOOG_FILES, convert_package_csv, package_csv
from common import OUT_DIR, REPO, print_table, run_workflow, write_result

sys.path.insert(0, str(REPO / "src"))

from hetstack.stages.study import build_study

METAS = ["auto", "meta_shrink", "meta_best_base", "meta_ridge", "meta_logistic", "meta_regime", "meta_caruana",
         "meta_voting"]
FIXED = [m for m in METAS if m not in ("auto", "meta_shrink", "meta_best_base")]
SYNTHETIC = ["MES", "MGC", "ZN", "ES", "MNQ", "CL", "GC", "NQ"]

# Two horizons per data set; the purge must exceed the longer label span.
REAL = {
    "EURUSD": (EURUSD_FILES, {**EURUSD_CONFIG, "horizons": [12, 24],
                              "oof": {**EURUSD_CONFIG["oof"], "purge_bars": 48}}),
    "GOOG": (GOOG_FILES, {**GOOG_CONFIG, "horizons": [5, 10], "oof": {**GOOG_CONFIG["oof"], "purge_bars": 20}}),
}


def run_real(root: Path, metas: list[str], cores: int) -> list[Path]:
    workdirs = []
    for symbol, (files, settings) in REAL.items():
        work = root / symbol
        data_dir = work / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        src, dist = package_csv(files)
        convert_package_csv(src, dist, data_dir / f"{symbol}.csv")
        config = {"symbols": [symbol], "data_dir": str(data_dir), **settings, "meta_learner": metas}
        print(f"{symbol}: study of horizons {settings['horizons']} in {work} ...", flush=True)
        print(f"{symbol}: workflow {run_workflow(work, config, ['study'], cores):.0f} s", flush=True)
        workdirs.append(work)
    return workdirs


def run_synthetic(root: Path, symbols: list[str], metas: list[str], cores: int) -> list[Path]:
    config = {"symbols": symbols, "horizons": [20], "meta_learner": metas}
    print(f"synthetic: study of {len(symbols)} symbols in {root} ...", flush=True)
    print(f"synthetic: workflow {run_workflow(root, config, ['study'], cores):.0f} s", flush=True)
    return [root]


def reports_of(workdirs: list[Path], metas: list[str]) -> list[str]:
    from hetstack.catalogue import canonical_name

    names = {canonical_name(m) for m in metas} | set(metas)
    return sorted(str(p) for w in workdirs for p in (w / "results").glob("*_h*/*_report.json")
                  if p.name[:-len("_report.json")] in names)


def targets(study: dict) -> dict:
    """Issue 31's targets, as measured on this study."""
    gains = study["pooled_gain_log_loss"]
    auto = gains.get("meta_auto") or gains.get("auto")
    runs = {r: run["gain"].get("meta_auto") or run["gain"].get("auto") for r, run in study["runs"].items()}
    worst = min((g["log_loss"]["value"] / g["log_loss"]["se"], r) for r, g in runs.items()
                if g and g["log_loss"]["se"] > 0) if runs else None
    behind = {m: (gains[m]["estimate"] - auto["estimate"]) / max(auto["se"], gains[m]["se"])
              for m in FIXED if m in gains}
    return {"auto_pooled_z": auto["estimate"] / auto["se"] if auto["se"] > 0 else None,
            "auto_worst_run_z": None if worst is None else {"run": worst[1], "z": worst[0]},
            "fixed_meta_ahead_of_auto_in_pooled_se": behind}


def pool(workdirs: list[Path], metas: list[str], name: str) -> dict:
    out = OUT_DIR / f"study-{name}"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    study = build_study(reports_of(workdirs, metas), str(out.with_suffix(".json")), str(out.with_suffix(".html")))
    rows = [{"meta": m, "pooled gain": p["estimate"], "SE": p["se"], "z": p.get("z", float("nan")),
             "tau2": p.get("tau2", 0.0), "wins": len(p["wins"]), "losses": len(p["losses"])}
            for m, p in sorted(study["pooled_gain_log_loss"].items())]
    print_table(rows, list(rows[0]), f"{name}: log-loss gain over each run's OOF-chosen best base, pooled over "
                                     f"{study['n_runs']} runs (random effects)")
    per_run = [{"run": r, **{m: f"{g['log_loss']['value']:+.4f} ({g['log_loss']['se']:.4f})"
                             for m, g in sorted(run["gain"].items())}, "auto chose": run["auto_choice"]}
               for r, run in sorted(study["runs"].items())]
    print_table(per_run, list(per_run[0]), f"{name}: per run, gain (SE)")
    found = targets(study)
    print(f"\n{name}: targets {found}")
    if study.get("pbo_across_runs"):
        print(f"{name}: PBO across runs {study['pbo_across_runs']['pbo']:.2f}")
    write_result(f"study-{name}-summary", {"workdirs": [str(w) for w in workdirs], "metas": metas,
                                           "targets": found, "study": study})
    return study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["real", "synthetic", "pool"])
    ap.add_argument("workdirs", nargs="*", type=Path, help="pool: finished study folders")
    ap.add_argument("--name", help="pool: the study's name in bench/out")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept; a rerun resumes it)")
    ap.add_argument("--metas", nargs="+", default=METAS)
    ap.add_argument("--symbols", nargs="+", default=SYNTHETIC)
    args = ap.parse_args()
    start = time.perf_counter()
    root = (args.workdir or Path(f"/tmp/hetstack-study-{args.kind}")).resolve()
    if args.kind == "real":
        pool(run_real(root, args.metas, args.cores), args.metas, "real")
    elif args.kind == "synthetic":
        pool(run_synthetic(root, args.symbols, args.metas, args.cores), args.metas, "synthetic")
    else:
        pool([w.resolve() for w in args.workdirs], args.metas, args.name or "pooled")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
