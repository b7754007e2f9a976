#!/usr/bin/env python
"""Cluster throughput: a few hundred real fold jobs through profiles/slurm, three ways.

    python bench/cluster.py [--quick] [--symbols 20] [--folds 5] [--group-size 20] [--array-limit 20] [--modes ...]

Needs a SLURM cluster that answers (locally: .ci/slurm/start-slurm.sh, a one-node cluster) and
snakemake-executor-plugin-slurm. In one scratch folder the upstream jobs (bars, features, labels,
folds) of `symbols` synthetic symbols run locally first; then the fold jobs alone (symbols x 2
linear bases x folds) run again from scratch in each mode:

    local     no cluster: snakemake --cores <slots>, the floor Snakemake itself costs
    per-job   profiles/slurm without its groups: one sbatch per fold job
    array     the same with slurm-array-jobs: oof_fold: one sbatch per --array-limit ready fold
              jobs, one array task (and Snakemake start-up) each
    groups    profiles/slurm as shipped: group-components folds=N fold jobs per SLURM job

Per mode: wall seconds of the snakemake call, the fold jobs' own seconds (Snakemake's benchmark
files), the overhead per job = (wall x slots - job seconds) / jobs, where slots = the cluster's
CPUs (1-thread jobs), the SLURM jobs run (their log files) and the scheduler's view from squeue
sampled every second (most pending, mean running). --quick: 2 symbols x 2 bases x 3 folds (12
jobs) in groups of 6, modes local, per-job and groups, for CI. JSON: bench/out/cluster[-quick].json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, on_classic, print_table, read_benchmarks, run_workflow, snakemake_command, write_result

BASES = ["ridge", "logistic"]  # linear, one thread each: the jobs are short, so overhead shows


def write_profile(workdir: Path, mode: str, group_size: int, array_limit: int) -> Path:
    """profiles/slurm as shipped (groups: fold jobs grouped), or without its groups (per-job, array)."""
    if mode not in ("per-job", "array", "groups"):
        raise ValueError(f"unknown SLURM mode {mode!r}: per-job, array or groups")
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    if mode == "groups":
        profile["group-components"] = [f"folds={group_size}"]
    else:
        profile.pop("groups", None)
        profile.pop("group-components", None)
    if mode == "array":
        # plugin 2.8.0: an sbatch line too long for the shell (E2BIG) falls back to a script that
        # puts --slurm-jobstep-array-execs on a line of its own, and every task then runs the
        # chunk's first job; small chunks keep to the working --wrap path
        profile["slurm-array-jobs"] = "oof_fold"
        profile["slurm-array-limit"] = array_limit
    folder = workdir / "profiles" / mode
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def bench_config(n_symbols: int, n_folds: int, n_bars: int) -> dict:
    return on_classic({"symbols": [f"S{i:02d}" for i in range(n_symbols)], "horizons": [5],
                       "synthetic": {"n_bars": n_bars}, "base_models": BASES, "meta_learner": ["meta_ridge"],
                       "oof": {"n_folds": n_folds, "purge_bars": 10, "embargo_bars": 30}, "threads": {"fit": 1}})


def fold_targets(config: dict) -> list[str]:
    return [f"results/{s}_h{h}/oof/{b}/fold{f}.parquet" for s in config["symbols"] for h in config["horizons"]
            for b in config["base_models"] for f in range(config["oof"]["n_folds"])]


def slurm_slots() -> int:
    """CPUs of the cluster's idle nodes: how many 1-thread jobs can run at once."""
    out = subprocess.run(["sinfo", "-h", "-o", "%C"], capture_output=True, text=True, check=True).stdout
    return sum(int(line.split("/")[3]) for line in out.split() if line.count("/") == 3)


class QueueSampler(threading.Thread):
    """squeue once a second: the jobs SLURM saw, how many pended and ran at once."""

    def __init__(self, interval: float = 1.0):
        super().__init__(daemon=True)
        self.interval, self.stop, self.samples, self.job_ids = interval, threading.Event(), [], set()

    def run(self) -> None:
        while not self.stop.is_set():
            out = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True).stdout
            states = [line.split() for line in out.splitlines() if line.strip()]
            self.job_ids.update(job_id for job_id, _ in states)
            self.samples.append((sum(s == "PENDING" for _, s in states), sum(s == "RUNNING" for _, s in states)))
            self.stop.wait(self.interval)

    def summary(self) -> dict:
        pending = [p for p, _ in self.samples] or [0]
        running = [r for _, r in self.samples] or [0]
        return {"squeue_jobs": len(self.job_ids), "squeue_samples": len(self.samples),
                "max_pending": max(pending), "max_running": max(running),
                "mean_running": sum(running) / len(running)}


def clear_folds(workdir: Path) -> None:
    """Delete every fold shard and its benchmark, so that a mode runs all fold jobs again."""
    for folder in [*workdir.glob("results/*/oof"), workdir / "benchmarks" / "oof_fold", workdir / ".snakemake" / "slurm_logs"]:
        shutil.rmtree(folder, ignore_errors=True)


def run_mode(workdir: Path, targets: list[str], mode: str, group_size: int, array_limit: int, slots: int,
             limit_s: int) -> dict:
    """One mode from scratch; a mode that fails or outlives `limit_s` gets a row saying so."""
    clear_folds(workdir)
    how = ["--cores", str(slots)] if mode == "local" else [
        "--workflow-profile", str(write_profile(workdir, mode, group_size, array_limit))]
    # timeout -k: the plugin can ignore SIGTERM while it waits on status checks
    cmd = ["timeout", "-k", "20", str(limit_s), *snakemake_command(workdir, *how, *targets)]
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    sampler = QueueSampler()
    sampler.start()
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    job_s = [row["s"] for row in read_benchmarks(workdir) if row["rule"] == "oof_fold"]
    slurm_logs = len(list((workdir / ".snakemake" / "slurm_logs").rglob("*.log")))
    row = {"mode": mode, "jobs": len(job_s), "slurm_jobs": slurm_logs, "wall_s": wall, **sampler.summary()}
    if result.returncode != 0 or len(job_s) != len(targets):
        why = "timed out" if result.returncode in (124, 137) else f"rc {result.returncode}"
        print(f"{mode}: failed ({why}) with {len(job_s)} of {len(targets)} fold jobs done\n"
              f"{result.stderr[-2000:]}", file=sys.stderr, flush=True)
        return {**row, "failed": f"{why} after {wall:.0f} s, {len(job_s)} of {len(targets)} fold jobs done"}
    n = len(job_s)
    return {**row, "job_s": sum(job_s), "mean_job_s": sum(job_s) / n, "slots": slots,
            "overhead_per_job_s": (wall * slots - sum(job_s)) / n, "jobs_per_min": 60 * n / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--symbols", type=int, default=20)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--bars", type=int, default=6000, help="synthetic bars per symbol")
    ap.add_argument("--group-size", type=int, default=20, help="fold jobs per SLURM job in the groups mode")
    ap.add_argument("--array-limit", type=int, default=20, help="array tasks per sbatch in the array mode")
    ap.add_argument("--mode-limit", type=int, default=1800, help="seconds a mode may take before it counts as failed")
    ap.add_argument("--modes", nargs="+", default=["local", "per-job", "array", "groups"])
    ap.add_argument("--workdir", type=Path, help="keep the scratch folder here")
    args = ap.parse_args()
    if args.quick:
        args.symbols, args.folds, args.group_size = 2, 3, 6
        args.modes = [m for m in args.modes if m != "array"]
    slots = slurm_slots()
    config = bench_config(args.symbols, args.folds, args.bars)
    targets = fold_targets(config)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hetstack-cluster-"))
    prep = run_workflow(workdir, config, targets, os.cpu_count() or 1, "--omit-from", "oof_fold")
    print(f"upstream jobs ran locally in {prep:.1f} s; {len(targets)} fold jobs, {slots} SLURM slots", flush=True)
    rows = []
    for mode in args.modes:
        rows.append(run_mode(workdir, targets, mode, args.group_size, args.array_limit, slots, args.mode_limit))
        print(f"{mode}: {rows[-1]}", flush=True)
        print_table(rows, ["mode", "jobs", "wall_s", "job_s", "mean_job_s", "overhead_per_job_s", "jobs_per_min",
                           "slurm_jobs", "max_pending", "mean_running", "failed"], "fold jobs through SLURM")
        write_result("cluster-quick" if args.quick else "cluster",  # after every mode: a later hang loses nothing
                     {"config": config, "group_size": args.group_size, "array_limit": args.array_limit,
                      "slots": slots, "modes": rows})
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if any("failed" in row for row in rows):
        sys.exit("some modes failed: " + "; ".join(f"{r['mode']}: {r['failed']}" for r in rows if "failed" in r))


if __name__ == "__main__":
    main()
