#!/usr/bin/env python
"""The OOF stage: the design's single-process loop against the workflow's fold jobs.

    python bench/oof_vs_loop.py [--quick] [--bars N] [--workdir DIR] [--[no-]baseline-all-cores] [--[no-]baseline-tuned-allocator]

What it measures, all in one run, on one machine, on the same data, bases and folds:
1. The baseline: a faithful single-process reimplementation of the design's
   HeterogeneousOOFGenerator loop (for each fold, for each base: load its data, materialize its
   inputs as full arrays, fit, predict), run in its own subprocess so that its peak RSS is its own.
   Wall time and peak memory against the workflow at --cores 1 and --cores 2.
   Targets: workflow at --cores 2 <= 0.55 x the baseline's wall; largest workflow job's peak
   memory <= 0.5 x the baseline's peak.
2. Parallel speedup of the OOF stage, wall at --cores 1 over --cores 2: target >= 1.8.
3. Overhead: the share of the --cores 1 wall not spent inside jobs (Snakemake's benchmark files):
   target <= 10%.
5. Sequence memory: each TCN fold job's peak RSS against the bytes its materialized (N, T, F)
   float32 windows (fit + early-stopping slice + test fold) would take; the ratio is reported.

Same work, different execution model. The design early-stops on the OOF fold itself, which leaks
the fold's labels into its own predictions; the baseline here does NOT copy that: it does exactly
the model work of a workflow fold job (hetstack.stages.oof.fit_base / run_fold): the same models,
params, seeds and threads, early stopping on the purged inner slice of the fold's training ids
(hetstack.cv.inner_validation_split), sample weights, and it also predicts the hold-out test set
as every fold job does. Only the execution model differs: one process, full in-memory arrays
(tabular rows, (N, T, F) windows, (N, TF, T, 5) multi-resolution windows) instead of one job
per (base, fold) reading lazy windows over memory-mapped arrays. The OOF and hold-out
probabilities of the baseline are checked against the workflow's shards (max abs difference).

Threads: like for like, every model gets the per-job threads of the workflow (threads.fit, 1 by
default; OMP_NUM_THREADS and friends set to it). --baseline-all-cores adds a second baseline row
whose models use every core (on by default in full mode). Allocator: every fold job sets glibc's
mmap and trim thresholds at start (hetstack.workflow.keep_freed_memory_for_reuse); the design's loop
does not, and --baseline-tuned-allocator adds a row of the loop with the same settings (on by default
in full mode), so both effects can be told apart.

Full mode: config/config.yaml restricted to one symbol (MES, horizon 20): 40,000 bars, 5 folds,
bases catboost, tcn, patchtst with their configured parameters. --quick: 12,000 bars, catboost
100 iterations, neural bases 2 epochs (stated in the output). Step 0 builds the shared inputs
(features, multires, labels, folds) with the workflow, untimed. Results: bench/out/oof_vs_loop.json
(oof_vs_loop-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, classic_config, print_table, read_benchmarks, snakemake_command, write_result

SYMBOL, HORIZON = "MES", 20
QUICK = {"n_bars": 12000, "catboost_iterations": 100, "epochs": 2}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "GOTO_NUM_THREADS")
CHUNK = 2048  # windows materialized per copy into the preallocated full array


# ----------------------------------------------------------------------------- noise

def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat; nan elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds of this process's finished children (and theirs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Phase:
    """Wall time of a block, and the share of the machine's cores other processes used meanwhile."""

    def __enter__(self):
        self.busy, self.own, self.start = busy_seconds(), own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.start
        others = (busy_seconds() - self.busy) - (own_seconds() - self.own)
        self.others_share = max(0.0, others) / (self.wall * (os.cpu_count() or 1))
        return False


# ----------------------------------------------------------------------------- configuration

def bench_config(quick: bool, n_bars: int | None) -> dict:
    """config/config.yaml restricted to one symbol and horizon (smaller in quick mode)."""
    config = classic_config()
    config["symbols"], config["horizons"] = [SYMBOL], [HORIZON]
    config["data_dir"] = "data"  # relative to the scratch workdir: none there, so the synthetic market
    if quick:
        config["synthetic"]["n_bars"] = QUICK["n_bars"]
        params = config["model_params"]
        params["catboost"] = {**params.get("catboost", {}), "iterations": QUICK["catboost_iterations"]}
        for base in ("tcn", "patchtst"):
            params[base] = {**params.get(base, {}), "epochs": QUICK["epochs"]}
    if n_bars:
        config["synthetic"]["n_bars"] = int(n_bars)
    return config


def paths(workdir: Path) -> dict[str, Path]:
    run = workdir / "results" / f"{SYMBOL}_h{HORIZON}"
    return {"features": workdir / "results" / SYMBOL / "features.npy",
            "multires": workdir / "results" / SYMBOL / "multires.npy",
            "labels": run / "labels.parquet", "folds": run / "folds.parquet", "oof": run / "oof"}


def job_threads(config: dict, base: str, cores: int | None = None) -> int:
    """rules/common.smk fit_threads, lowered to --cores as Snakemake does."""
    from hetstack.catalogue import get_spec

    threads = 1 if get_spec(base).family == "classical" else int(config.get("threads", {}).get("fit", 2))
    return min(threads, cores) if cores else threads


# ----------------------------------------------------------------------------- the baseline (child process)

def materialize(lazy, n: int) -> np.ndarray:
    """A lazy WindowSet / MultiResSet as one full ndarray (what the design's data loaders return)."""
    out = np.empty(lazy.shape, dtype=np.float32)
    for start in range(0, n, CHUNK):
        pos = np.arange(start, min(start + CHUNK, n))
        out[pos] = lazy.batch(pos)
    return out


def load_inputs(kind: str, files: dict[str, Path], adapters: dict, id_sets: list[np.ndarray]) -> list[np.ndarray]:
    """The design's data_loaders[model](...): read the base's data and return full arrays."""
    from hetstack.adapters import MultiResSet, WindowSet
    from hetstack.io import load_npy

    if kind == "multires":
        ohlc = load_npy(files["multires"], mmap=False)
        spec = adapters["multires"]
        return [materialize(MultiResSet(ohlc, spec["timeframes"], ids, spec["seq_len"]), len(ids)) for ids in id_sets]
    features = load_npy(files["features"], mmap=False)
    if kind == "sequence":
        seq_len = int(adapters["sequence"]["seq_len"])
        return [materialize(WindowSet(features, ids, seq_len), len(ids)) for ids in id_sets]
    if kind == "tabular":
        return [np.ascontiguousarray(features[ids]) for ids in id_sets]
    raise ValueError(f"baseline: no loader for input kind {kind!r}")


def baseline_child(workdir: Path, out_path: Path, threads_override: int | None, tuned_allocator: bool) -> None:
    """The design's loop, fold-major then base, in this process; writes probabilities and stats."""
    start = time.perf_counter()
    if tuned_allocator:
        from hetstack.workflow import keep_freed_memory_for_reuse

        keep_freed_memory_for_reuse()
    from hetstack.config import base_models, model_params
    from hetstack.cv import inner_validation_split
    from hetstack.catalogue import get_spec
    from hetstack.stages.oof import fit_weights
    from hetstack.tables import SampleTable, load_folds

    config = yaml.safe_load((workdir / "bench.yaml").read_text())
    files = paths(workdir)
    bases = base_models(config)
    samples = SampleTable.read(str(files["labels"]))
    folds = load_folds(str(files["folds"]))
    hold_ids = samples.ids_of("test")
    train_ids_all = np.sort(np.concatenate([f.test_ids for f in folds]))
    oof = np.full((len(train_ids_all), 3 * len(bases)), np.nan)
    hold = np.full((len(folds), len(bases), len(hold_ids), 3), np.nan)
    adapters, oof_cfg, training = config["adapters"], config["oof"], config["training"]
    steps = []
    for fold in folds:
        for b, base in enumerate(bases):
            t0 = time.perf_counter()
            spec = get_spec(base)
            fit_ids, val_ids = inner_validation_split(fold.train_ids, samples.column("t1", fold.train_ids),
                                                      training["val_split"], oof_cfg["purge_bars"],
                                                      oof_cfg["embargo_bars"])
            X_fit, X_val, X_test, X_hold = load_inputs(spec.input_kind, files, adapters,
                                                       [fit_ids, val_ids, fold.test_ids, hold_ids])
            t_load = time.perf_counter() - t0
            params = model_params(config, base)
            if "device" in getattr(spec.cls, "training_params", {}):
                params.setdefault("device", training.get("device", "cpu"))
            threads = threads_override if threads_override else job_threads(config, base)
            model = spec.cls(params, seed=config["seed"], threads=threads)
            weights = fit_weights(samples.column("weight", fit_ids)) if oof_cfg["use_sample_weights"] else None
            model.fit(X_fit, samples.column("label", fit_ids), X_val, samples.column("label", val_ids),
                      sample_weights=weights)
            rows = np.searchsorted(train_ids_all, fold.test_ids)
            oof[rows, 3 * b:3 * b + 3] = model.predict(X_test).probabilities
            hold[fold.index, b] = model.predict(X_hold).probabilities
            nbytes = sum(x.nbytes for x in (X_fit, X_val, X_test, X_hold))
            steps.append({"fold": int(fold.index), "base": base, "s": time.perf_counter() - t0, "load_s": t_load,
                          "materialized_mb": nbytes / 2**20, "threads": threads,
                          "n_fit": len(fit_ids), "n_val": len(val_ids), "n_test_fold": len(fold.test_ids),
                          "n_hold": len(hold_ids)})
            print(f"  baseline fold {fold.index} {base:10s} {steps[-1]['s']:7.1f} s, "
                  f"inputs {steps[-1]['materialized_mb']:7.1f} MB", flush=True)
            del X_fit, X_val, X_test, X_hold, model
    np.savez(out_path.with_suffix(".npz"), train_ids=train_ids_all, oof=oof, hold_ids=hold_ids, hold=hold)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out_path.write_text(json.dumps({"bases": bases, "steps": steps, "loop_s": time.perf_counter() - start,
                                    "peak_rss_mb": peak_kb / 1024}, indent=2))


def run_baseline(workdir: Path, label: str, threads: int | None, env_threads: int, tuned_allocator: bool = False) -> dict:
    """Start the baseline in its own interpreter; wall time measured from outside (imports included).

    threads: every model's threads (None: the workflow's per-job threads); env_threads: OMP_NUM_THREADS
    and friends, as Snakemake sets them for a job."""
    out = workdir / f"baseline-{label}.json"
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.update({var: str(env_threads) for var in THREAD_VARS})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--baseline-child", str(workdir), "--child-out", str(out)]
    if threads:
        cmd += ["--child-threads", str(threads)]
    if tuned_allocator:
        cmd += ["--child-tuned-allocator"]
    print(f"\nbaseline ({label}): {' '.join(cmd)}", flush=True)
    with Phase() as phase:
        result = subprocess.run(cmd, env=env)
    if result.returncode != 0:
        sys.exit(f"baseline ({label}) failed with rc {result.returncode}")
    stats = json.loads(out.read_text())
    data = np.load(out.with_suffix(".npz"))
    return {**stats, "wall_s": phase.wall, "others_cpu_share": phase.others_share,
            "probs": {k: data[k] for k in data.files}}


FLOOR = ("import resource, sys\n"
         "import numpy, pandas, pyarrow, torch, yaml  # noqa\n"
         "from snakemake.logging import logger  # noqa: the script preamble's imports\n"
         "from snakemake.iocontainers import Snakemake  # noqa\n"
         "from snakemake.shell import shell  # noqa\n"
         "from hetstack.catalogue import get_spec\n"
         "from hetstack.tables import SampleTable\n"
         "get_spec(sys.argv[1]).cls({}, seed=0, threads=1)\n"
         "SampleTable.read(sys.argv[2])\n"
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")


def import_floor_mb(base: str, labels: Path) -> float:
    """Peak RSS of a bare interpreter that imports what a fold job of `base` imports and reads the labels:
    the part of a job's peak that no data layout can remove (imports of Snakemake's script preamble included)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH"))
                                                      if p))
    out = subprocess.run([sys.executable, "-c", FLOOR, base, str(labels)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the workflow

REPORT_RUSAGE = ("import resource, subprocess, sys\n"
                 "rc = subprocess.run(sys.argv[2:]).returncode\n"
                 "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
                 "sys.exit(rc)\n")


def run_snakemake(workdir: Path, config: dict, targets: list[str], cores: int) -> tuple[float, float, float]:
    """(wall seconds, ru_maxrss MB of the largest process in snakemake's tree: itself or one job,
    share of the cores other processes used meanwhile)."""
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    rss_file = workdir / "rusage.txt"
    cmd = [sys.executable, "-c", REPORT_RUSAGE, str(rss_file),
           *snakemake_command(workdir, "--cores", str(cores), *targets)]
    log = workdir / f"snakemake-cores{cores}-{int(time.time() * 1000)}.log"
    with open(log, "w") as out, Phase() as phase:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"workflow failed (rc {result.returncode}): see {log}\n{log.read_text()[-4000:]}")
    return phase.wall, int(rss_file.read_text()) / 1024, phase.others_share


def shard_targets(bases: list[str], n_folds: int) -> list[str]:
    return [f"results/{SYMBOL}_h{HORIZON}/oof/{b}/fold{k}.parquet" for b in bases for k in range(n_folds)]


def clean_oof(workdir: Path) -> None:
    for path in (paths(workdir)["oof"], workdir / "benchmarks" / "oof_fold", workdir / "logs" / "oof_fold"):
        shutil.rmtree(path, ignore_errors=True)


def workflow_probs(workdir: Path, bases: list[str], n_folds: int, train_ids: np.ndarray, hold_ids: np.ndarray):
    """The shards as the baseline's arrays: (N_train, 3 * bases) OOF and (folds, bases, N_hold, 3) hold-out."""
    from hetstack.io import read_parquet
    from hetstack.tables import PROB_COLUMNS

    oof = np.full((len(train_ids), 3 * len(bases)), np.nan)
    hold = np.full((n_folds, len(bases), len(hold_ids), 3), np.nan)
    root = paths(workdir)["oof"]
    for b, base in enumerate(bases):
        for k in range(n_folds):
            frame = read_parquet(root / base / f"fold{k}.parquet")
            rows = np.searchsorted(train_ids, frame["sample_id"].to_numpy())
            oof[rows, 3 * b:3 * b + 3] = frame[PROB_COLUMNS].to_numpy()
            test = read_parquet(root / base / f"fold{k}.test.parquet")
            if not np.array_equal(test["sample_id"].to_numpy(), hold_ids):
                sys.exit(f"{base} fold {k}: hold-out sample ids differ from the baseline's")
            hold[k, b] = test[PROB_COLUMNS].to_numpy()
    return oof, hold


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmax(np.abs(a - b))) if np.isfinite(a).all() and np.isfinite(b).all() else float("nan")


# ----------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK['n_bars']} bars, fewer iterations and epochs")
    ap.add_argument("--bars", type=int, help="synthetic bars (default: 40,000 full, 12,000 quick)")
    ap.add_argument("--baseline-all-cores", action=argparse.BooleanOptionalAction, default=None,
                    help="also run the baseline with every core per model (default: on in full mode)")
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one, removed")
    ap.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-tuned-allocator", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline-tuned-allocator", action=argparse.BooleanOptionalAction, default=None,
                    help="also run the baseline with the fold jobs' allocator settings "
                         "(hetstack.workflow.keep_freed_memory_for_reuse; default: on in full mode)")
    args = ap.parse_args()
    if args.baseline_child:
        baseline_child(args.baseline_child, args.child_out, args.child_threads, args.child_tuned_allocator)
        return
    sys.path.insert(0, str(REPO / "src"))
    all_cores = (not args.quick) if args.baseline_all_cores is None else args.baseline_all_cores
    args.tuned = (not args.quick) if args.baseline_tuned_allocator is None else args.baseline_tuned_allocator
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measure(args, args.workdir.resolve(), all_cores)
    else:
        with tempfile.TemporaryDirectory(prefix="hetstack-oof-") as tmp:
            measure(args, Path(tmp), all_cores)


def measure(args, workdir: Path, all_cores: bool) -> None:
    from hetstack.adapters import WindowSet  # noqa: F401  (fail early when the library is missing)
    from hetstack.config import base_models
    from hetstack.cv import inner_validation_split
    from hetstack.tables import SampleTable, load_folds

    config = bench_config(args.quick, args.bars)
    bases = base_models(config)
    n_folds = int(config["oof"]["n_folds"])
    n_bars = config["synthetic"]["n_bars"]
    mode = (f"QUICK: {n_bars} bars, catboost {QUICK['catboost_iterations']} iterations, neural bases "
            f"{QUICK['epochs']} epochs" if args.quick else f"full: {n_bars} bars, configured model parameters")
    print(f"OOF stage, {SYMBOL} h{HORIZON}, bases {bases}, {n_folds} folds; {mode}; threads.fit "
          f"{config.get('threads', {}).get('fit')}; cores on this machine {os.cpu_count()}; workdir {workdir}",
          flush=True)
    f = paths(workdir)

    # step 0 (untimed): the shared inputs, built by the workflow
    t0 = time.perf_counter()
    inputs = [str(p.relative_to(workdir)) for p in (f["features"], f["multires"], f["labels"], f["folds"])]
    run_snakemake(workdir, config, inputs, cores=2)
    print(f"step 0: inputs built in {time.perf_counter() - t0:.1f} s (untimed)", flush=True)
    samples = SampleTable.read(str(f["labels"]))
    folds = load_folds(str(f["folds"]))

    # the baseline(s)
    baselines = {"loop, per-job threads": run_baseline(workdir, "job-threads", None,
                                                          int(config.get("threads", {}).get("fit", 2)))}
    if all_cores:
        baselines[f"loop, {os.cpu_count()} threads per model"] = run_baseline(workdir, "all-cores", os.cpu_count(),
                                                                                   os.cpu_count())
    if args.tuned:  # the fold jobs tune glibc's allocator at start; the design's loop does not
        baselines["loop, per-job threads, jobs' allocator settings"] = run_baseline(
            workdir, "tuned-allocator", None, int(config.get("threads", {}).get("fit", 2)), tuned_allocator=True)
    base0 = baselines["loop, per-job threads"]
    train_ids, hold_ids = base0["probs"]["train_ids"], base0["probs"]["hold_ids"]

    # the workflow at --cores 1, then --cores 2
    targets = shard_targets(bases, n_folds)
    runs = {}
    for cores in (1, 2):
        clean_oof(workdir)
        print(f"\nworkflow --cores {cores}: {len(targets)} OOF fold jobs", flush=True)
        wall, tree_rss, others = run_snakemake(workdir, config, targets, cores)
        jobs = [r for r in read_benchmarks(workdir) if r["rule"] == "oof_fold"]
        if len(jobs) != len(targets):
            sys.exit(f"expected {len(targets)} oof_fold benchmark files, found {len(jobs)}")
        oof, hold = workflow_probs(workdir, bases, n_folds, train_ids, hold_ids)
        runs[cores] = {"wall_s": wall, "others_cpu_share": others, "jobs": jobs, "sum_job_s": sum(j["s"] for j in jobs),
                       "max_job_rss_mb": max(j["max_rss_mb"] for j in jobs), "tree_ru_maxrss_mb": tree_rss,
                       "oof": oof, "hold": hold}
        print(f"workflow --cores {cores}: {wall:.1f} s wall, jobs {runs[cores]['sum_job_s']:.1f} s in all", flush=True)

    # same work? probabilities of the baseline against the shards
    same = []
    for name, bl in baselines.items():
        same.append({"compared": f"{name} vs workflow --cores 1",
                     "oof_max_abs_diff": max_diff(bl["probs"]["oof"], runs[1]["oof"]),
                     "holdout_max_abs_diff": max_diff(bl["probs"]["hold"], runs[1]["hold"])})
    same.append({"compared": "workflow --cores 2 vs --cores 1",
                 "oof_max_abs_diff": max_diff(runs[2]["oof"], runs[1]["oof"]),
                 "holdout_max_abs_diff": max_diff(runs[2]["hold"], runs[1]["hold"])})

    # sequence memory: TCN jobs against their materialized windows
    seq_len = int(config["adapters"]["sequence"]["seq_len"])
    n_features = int(np.load(f["features"], mmap_mode="r").shape[1])
    seq_bases = [b for b in bases if _input_kind(b) == "sequence"]
    seq_rows = []
    floors = {base: import_floor_mb(base, f["labels"]) for base in seq_bases}
    for base in seq_bases:
        for fold in folds:
            fit_ids, val_ids = inner_validation_split(fold.train_ids, samples.column("t1", fold.train_ids),
                                                      config["training"]["val_split"], config["oof"]["purge_bars"],
                                                      config["oof"]["embargo_bars"])
            n = len(fit_ids) + len(val_ids) + len(fold.test_ids)
            window_mb = n * seq_len * n_features * 4 / 2**20
            for cores in (1, 2):
                job = next(j for j in runs[cores]["jobs"] if j["job"] == f"{SYMBOL}_h{HORIZON}/{base}/fold{fold.index}")
                seq_rows.append({"base": base, "fold": fold.index, "cores": cores, "N": n,
                                 "windows_mb": window_mb,
                                 "windows_with_holdout_mb": (n + len(hold_ids)) * seq_len * n_features * 4 / 2**20,
                                 "job_max_rss_mb": job["max_rss_mb"], "rss/windows": job["max_rss_mb"] / window_mb,
                                 "import_floor_mb": floors[base],
                                 "(rss-floor)/windows": (job["max_rss_mb"] - floors[base]) / window_mb})

    # the figures
    bl_wall, bl_peak = base0["wall_s"], base0["peak_rss_mb"]
    w1, w2 = runs[1]["wall_s"], runs[2]["wall_s"]
    largest_job = max(runs[1]["max_job_rss_mb"], runs[2]["max_job_rss_mb"])
    overhead = 1 - runs[1]["sum_job_s"] / w1
    timing_rows = [{"run": name, "wall_s": bl["wall_s"], "vs_baseline": bl["wall_s"] / bl_wall,
                    "peak_rss_mb": bl["peak_rss_mb"], "others_cpu": bl["others_cpu_share"],
                    "note": f"in-loop {bl['loop_s']:.1f} s"}
                   for name, bl in baselines.items()]
    for cores in (1, 2):
        r = runs[cores]
        timing_rows.append({"run": f"workflow --cores {cores}", "wall_s": r["wall_s"],
                            "vs_baseline": r["wall_s"] / bl_wall,
                            "peak_rss_mb": r["max_job_rss_mb"], "others_cpu": r["others_cpu_share"],
                            "note": f"largest job (benchmark); tree ru_maxrss {r['tree_ru_maxrss_mb']:.0f} MB; "
                                    f"jobs {r['sum_job_s']:.1f} s"})
    print_table(timing_rows, ["run", "wall_s", "vs_baseline", "peak_rss_mb", "others_cpu", "note"],
                title=f"OOF stage wall time and peak memory ({mode})")
    print("others_cpu: share of the machine's cores used by processes outside this benchmark during the run "
          "(from /proc/stat); well above 0 means the timings are noisy")
    job_rows = [{"base": base, **{f"cores{c}_s": sum(j["s"] for j in runs[c]["jobs"] if f"/{base}/" in j["job"])
                                  for c in (1, 2)},
                 "loop_s": sum(s["s"] for s in base0["steps"] if s["base"] == base),
                 "loop_inputs_mb": max(s["materialized_mb"] for s in base0["steps"] if s["base"] == base),
                 "job_max_rss_mb": max(j["max_rss_mb"] for c in (1, 2) for j in runs[c]["jobs"]
                                       if f"/{base}/" in j["job"])}
                for base in bases]
    print_table(job_rows, ["base", "loop_s", "cores1_s", "cores2_s", "loop_inputs_mb", "job_max_rss_mb"],
                title="per base, summed over folds (loop_inputs_mb: the largest fold's full arrays in the loop)")
    print_table([{k: f"{v:.2e}" if isinstance(v, float) else v for k, v in row.items()} for row in same],
                ["compared", "oof_max_abs_diff", "holdout_max_abs_diff"],
                title="same work: probabilities of the baseline against the workflow's shards")
    if seq_rows:
        print_table(seq_rows, ["base", "fold", "cores", "N", "windows_mb", "windows_with_holdout_mb",
                               "job_max_rss_mb", "rss/windows", "import_floor_mb", "(rss-floor)/windows"],
                    title=f"sequence memory: job peak RSS against materialized (N, T={seq_len}, F={n_features}) "
                          f"float32 windows, N = fit + early-stopping slice + test fold")
        print("import_floor_mb: peak RSS of a bare python that imports what the job imports (snakemake's script "
              "preamble, torch, pandas, pyarrow, hetstack) and reads the labels; (rss-floor)/windows: the rest of "
              "the job's peak against the windows")
    seq_ratio = max(r["rss/windows"] for r in seq_rows) if seq_rows else float("nan")
    seq_ratio_floor = max(r["(rss-floor)/windows"] for r in seq_rows) if seq_rows else float("nan")
    targets_rows = [
        {"figure": "workflow --cores 2 wall / baseline wall", "value": w2 / bl_wall, "target": "<= 0.55",
         "met": w2 / bl_wall <= 0.55},
        *([{"figure": "workflow --cores 2 wall / baseline with the jobs' allocator settings",
             "value": w2 / baselines["loop, per-job threads, jobs' allocator settings"]["wall_s"],
             "target": "report", "met": "-"}] if args.tuned else []),
        {"figure": "largest workflow job peak / baseline peak", "value": largest_job / bl_peak, "target": "<= 0.5",
         "met": largest_job / bl_peak <= 0.5},
        {"figure": "speedup, wall --cores 1 / --cores 2", "value": w1 / w2, "target": ">= 1.8", "met": w1 / w2 >= 1.8},
        {"figure": "overhead at --cores 1, 1 - sum(job s) / wall", "value": overhead, "target": "<= 0.10",
         "met": overhead <= 0.10},
        {"figure": "TCN job peak / materialized windows (largest)", "value": seq_ratio, "target": "report", "met": "-"},
        {"figure": "TCN job peak above import floor / windows (largest)", "value": seq_ratio_floor, "target": "report",
         "met": "-"},
    ]
    print_table(targets_rows, ["figure", "value", "target", "met"], title=f"targets ({mode})")
    noisy = max([bl["others_cpu_share"] for bl in baselines.values()] + [r["others_cpu_share"] for r in runs.values()])
    if noisy > 0.1:
        print(f"(other processes used up to {noisy:.0%} of the cores during a timed run: timings are noisy)")
    if args.quick:
        print("(quick mode: small data and short training; the targets are set for the full run)")

    write_result("oof_vs_loop-quick" if args.quick else "oof_vs_loop", {
        "mode": mode, "symbol": SYMBOL, "horizon": HORIZON, "bases": bases, "n_folds": n_folds, "n_bars": n_bars,
        "config": config,
        "baselines": {name: {k: v for k, v in bl.items() if k != "probs"} for name, bl in baselines.items()},
        "workflow": {str(c): {k: v for k, v in r.items() if k not in ("oof", "hold")} for c, r in runs.items()},
        "same_work": same, "sequence_memory": seq_rows,
        "figures": {"wall_cores2_over_baseline": w2 / bl_wall,
                    "largest_job_peak_over_baseline_peak": largest_job / bl_peak,
                    "speedup_cores1_over_cores2": w1 / w2, "overhead_cores1": overhead,
                    "tcn_peak_over_windows_max": seq_ratio, "tcn_peak_above_floor_over_windows_max": seq_ratio_floor},
        "targets": targets_rows,
    })


def _input_kind(base: str) -> str:
    from hetstack.catalogue import get_spec

    return get_spec(base).input_kind


if __name__ == "__main__":
    main()
