#!/usr/bin/env python
"""Full size: the design's run (config/full.yaml: 500,000 bars; 2D (N, 180), 3D (N, 120, 180), 4D
(N, 9, 60, 5) up to daily bars; 5 purged folds, purge 60, embargo 1,440) measured job by job, and
the whole run projected from those jobs.

    python bench/fullsize.py [--quick] [--bars N] [--threads 2] [--bases a,b,c] [--epochs K]
                             [--no-retrain] [--whole] [--tail FILE] [--workdir DIR]
                             [--model-params JSON] [--report-only]

It runs the workflow's own rules, one job at a time at --threads threads each (`--cores threads`):
bars, features, multires, labels, fold 0 of each base, then each base's retrain. Wall time and peak
RSS come from Snakemake's benchmark files; from the job logs, boosters' seconds per iteration and
neural bases' epoch time, samples per second and the split of an epoch between assembling batches
(gathering windows from the memory map, normalizing) and forward/backward/step.

Projection, per base: 5 fold jobs at fold 0's time, plus the retrain (measured, or fold 0's time
times the ratio of samples without --no-retrain). The jobs after the folds (merge, meta, report,
plots) come from --whole, measured, or from a --tail file written by a --whole run at another size,
scaled by the number of samples. 2 cores: every job one after another at 2 threads, the sum. 16
cores: the data jobs, then the fold and retrain jobs list-scheduled 8 at a time at their measured
2-thread times (no speed-up assumed from more threads a job), then the tail. --whole runs the rest
of the whole run at --cores threads and puts its measured wall beside the projection.
--quick checks the script at a small size (8,000 bars, short windows, small models).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, config_file, print_table, read_benchmarks, run_workflow, write_result

SYMBOL, HORIZON = "MES", 20
RUN = f"results/{SYMBOL}_h{HORIZON}"
N_FOLDS = 5
WIDE_CORES, WIDE_THREADS = 16, 2
DATA_RULES = ("bars", "features", "multires", "labels")
MODEL_RULES = ("oof_fold", "retrain_base")
NEURAL_EPOCH = re.compile(r"epoch (\d+): .*; (\d+) samples: batches ([0-9.]+) s, forward/backward ([0-9.]+) s")
BOOSTER_STEP = re.compile(r": iteration (\d+)/(\d+)")
FITTING = re.compile(r": fitting on (\d+) samples")
STAMP = "%Y-%m-%d %H:%M:%S,%f"


def bench_config(args) -> dict:
    """config/full.yaml over config.yaml, one symbol and horizon, --threads a fit job."""
    from snakemake.utils import update_config

    config = config_file("config.yaml")
    update_config(config, config_file("full.yaml"))
    update_config(config, {"symbols": [SYMBOL], "horizons": [HORIZON], "threads": {"fit": args.threads}})
    if args.bases:
        config["base_models"] = args.bases
    if args.quick:
        update_config(config, {
            "synthetic": {"n_bars": 8000}, "regime": {"window": 200},
            "adapters": {"sequence": {"seq_len": 16}, "multires": {"timeframes": [1, 5, 15], "seq_len": 8}},
            "oof": {"purge_bars": 20, "embargo_bars": 100},
            "model_params": {"catboost": {"iterations": 40, "early_stopping_rounds": 10},
                             "lightgbm_multires": {"num_boost_round": 40},
                             "logistic_window": {"C_grid": [1.0e-3], "max_iter": 50},
                             "tcn": {"epochs": 1}, "patchtst": {"epochs": 1}},
            "statistics": {"bootstrap_reps": 100}})
    if args.bars:
        config["synthetic"]["n_bars"] = args.bars
    update_config(config, {"model_params": args.model_params})
    for base in config_bases(config):
        if args.epochs and base in NEURAL:
            config["model_params"].setdefault(base, {})["epochs"] = args.epochs
    return config


NEURAL = {"tcn", "patchtst", "inceptiontime", "resnet1d", "lstm", "gru", "itransformer", "tft", "nbeats", "transformer"}


def config_bases(config: dict) -> list[str]:
    bases = config["base_models"]
    return [b for b in (bases.values() if isinstance(bases, dict) else bases) if b]


def job_targets(bases: list[str], retrain: bool, multires: bool) -> list[tuple[str, str]]:
    """(label, target) of the jobs measured one at a time, in the order the workflow needs them."""
    jobs = [("bars", f"results/{SYMBOL}/bars.parquet"), ("features", f"results/{SYMBOL}/features.npy")]
    if multires:
        jobs.append(("multires", f"results/{SYMBOL}/multires.npy"))
    jobs.append(("labels", f"{RUN}/labels.parquet"))
    jobs += [(f"{base} fold 0", f"{RUN}/oof/{base}/fold0.parquet") for base in bases]
    if retrain:
        jobs += [(f"{base} retrain", f"{RUN}/models/bases/{base}") for base in bases]
    return jobs


def log_timeline(path: Path) -> list[tuple[float, str]]:
    """(seconds since the epoch, message) of each line of a job log."""
    lines = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            stamp = datetime.strptime(line[:23], STAMP).timestamp()
        except ValueError:
            continue
        lines.append((stamp, line[24:]))
    return lines


def pace_from_log(path: Path) -> dict:
    """Fit samples; boosters: seconds per iteration between the first and last progress line;
    neural: per-epoch seconds, samples per second, and batch assembly against forward/backward."""
    lines = log_timeline(path)
    out: dict = {}
    for _, message in lines:
        if match := FITTING.search(message):
            out["fit_samples"] = int(match.group(1))
            break
    steps = [(t, int(m.group(1))) for t, msg in lines if (m := BOOSTER_STEP.search(msg))]
    if len(steps) >= 2:
        # the first fit only (a seed bag or a C grid fits again): up to where the count falls
        first = [steps[0]]
        for step in steps[1:]:
            if step[1] <= first[-1][1]:
                break
            first.append(step)
        if len(first) >= 2:
            out["s_per_iteration"] = (first[-1][0] - first[0][0]) / (first[-1][1] - first[0][1])
            out["iterations_logged"] = first[-1][1]
    epochs = [(t, m) for t, msg in lines if (m := NEURAL_EPOCH.search(msg))]
    if epochs:
        batch = sum(float(m.group(3)) for _, m in epochs)
        step = sum(float(m.group(4)) for _, m in epochs)
        samples = sum(int(m.group(2)) for _, m in epochs)
        out.update(epochs=len(epochs), train_s_per_epoch=(batch + step) / len(epochs),
                   samples_per_s=samples / (batch + step), batch_s=batch, step_s=step,
                   batch_over_step=batch / step if step else float("nan"))
        if len(epochs) >= 2:  # epoch to epoch: training plus the validation pass
            out["epoch_s"] = (epochs[-1][0] - epochs[0][0]) / (len(epochs) - 1)
    return out


def job_log(workdir: Path, rule: str, job: str) -> Path:
    return workdir / "logs" / rule / f"{job}.log"


def measured_jobs(workdir: Path) -> list[dict]:
    rows = []
    for row in read_benchmarks(workdir):
        row = dict(row)
        if row["rule"] in MODEL_RULES:
            row.update(pace_from_log(job_log(workdir, row["rule"], row["job"])))
        rows.append(row)
    return rows


def base_of(row: dict) -> str:
    parts = row["job"].split("/")
    return parts[1] if row["rule"] == "oof_fold" else parts[-1]


def sample_counts(workdir: Path) -> dict:
    """Train and test samples of the run (labels.parquet's roles)."""
    import pandas as pd

    roles = pd.read_parquet(workdir / RUN / "labels.parquet", columns=["split"])["split"]
    return {"train": int((roles == "train").sum()), "test": int((roles == "test").sum())}


def project(rows: list[dict], bases: list[str], tail_s: float, threads: int) -> dict:
    """Whole-run seconds on 2 cores (one job at a time) and on 16 (WIDE_CORES / threads jobs at once)."""
    data_s = sum(r["s"] for r in rows if r["rule"] in DATA_RULES)
    model_jobs: list[float] = []
    per_base = {}
    for base in bases:
        fold = next((r for r in rows if r["rule"] == "oof_fold" and r["job"].endswith(f"/{base}/fold0")), None)
        retrain = next((r for r in rows if r["rule"] == "retrain_base" and base_of(r) == base), None)
        if fold is None and retrain is None:
            raise SystemExit(f"no fold 0 and no retrain of {base} measured")
        ratio = (fold or retrain).get("retrain_ratio", 1.25)
        fold_s = fold["s"] if fold else retrain["s"] / ratio  # time ~ samples
        retrain_s = retrain["s"] if retrain else fold_s * ratio
        per_base[base] = {"fold_s": fold_s, "retrain_s": retrain_s, "fold_measured": fold is not None,
                          "retrain_measured": retrain is not None, "total_s": N_FOLDS * fold_s + retrain_s}
        model_jobs += [fold_s] * N_FOLDS + [retrain_s]
    serial = data_s + sum(model_jobs) + tail_s
    lanes = [0.0] * max(1, WIDE_CORES // max(threads, WIDE_THREADS))
    for seconds in sorted(model_jobs, reverse=True):  # longest first onto the least loaded lane
        lane = min(range(len(lanes)), key=lanes.__getitem__)
        lanes[lane] += seconds
    return {"per_base": per_base, "data_s": data_s, "model_s": sum(model_jobs), "tail_s": tail_s,
            "two_cores_s": serial, "sixteen_cores_s": data_s + max(lanes) + tail_s, "lanes": len(lanes)}


def tail_jobs(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["rule"] not in DATA_RULES + MODEL_RULES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small size, to check the script")
    parser.add_argument("--bars", type=int, help="bars of the synthetic symbol (full: 500,000)")
    parser.add_argument("--threads", type=int, default=2, help="threads a fit job (and --cores)")
    parser.add_argument("--bases", type=lambda s: s.split(","), help="base models (default: the configured ones)")
    parser.add_argument("--epochs", type=int, help="cap neural bases' epochs (their epoch time is what is measured)")
    parser.add_argument("--no-retrain", dest="retrain", action="store_false", help="skip the retrain jobs")
    parser.add_argument("--whole", action="store_true", help="then run the rest of the whole run and time it")
    parser.add_argument("--tail", type=Path, help="a --whole run's JSON: its tail jobs, scaled to these samples")
    parser.add_argument("--workdir", type=Path, help="scratch folder (kept; reruns reuse its finished jobs)")
    parser.add_argument("--model-params", type=json.loads, default={},
                        help='JSON merged over model_params, e.g. \'{"lightgbm_multires": {"feature_fraction": 0.25}}\'')
    parser.add_argument("--name", help="the JSON's name under bench/out (default from the size and bases)")
    parser.add_argument("--levers", action="store_true",
                        help="then time lightgbm_multires' rounds under each of LEVERS on 60,000 fold-0 samples")
    parser.add_argument("--report-only", action="store_true", help="run nothing: project from the jobs measured")
    args = parser.parse_args()
    config = bench_config(args)
    bases = config_bases(config)
    n_bars = config["synthetic"]["n_bars"]
    name = args.name or ("fullsize-quick" if args.quick else f"fullsize-{n_bars}" + ("-" + "-".join(bases) if args.bases else ""))
    workdir = args.workdir or (REPO / "bench" / "out" / name)
    from hetstack.catalogue import get_spec

    multires = any(get_spec(b).input_kind == "multires" for b in bases)
    for label, target in [] if args.report_only else job_targets(bases, args.retrain, multires):
        wall = run_workflow(workdir, config, [target], args.threads)
        print(f"{label}: {wall:.1f} s (snakemake included)", flush=True)
    rows = [r for r in measured_jobs(workdir) if r["rule"] in DATA_RULES + MODEL_RULES
            and (r["rule"] in DATA_RULES or base_of(r) in bases) and (r["rule"] != "oof_fold" or r["job"].endswith("fold0"))]
    ratio = retrain_ratio(workdir)
    for r in rows:
        r["retrain_ratio"] = ratio
    counts = sample_counts(workdir)
    result = {"date": time.strftime("%Y-%m-%d"), "n_bars": n_bars, "threads": args.threads, "bases": bases,
              "samples": counts, "config": {k: config[k] for k in ("adapters", "oof", "model_params")}}
    tail_s, tail_source = 0.0, "none"
    if args.tail:
        source = json.loads(args.tail.read_text())
        scale = counts["train"] / source["samples"]["train"]
        tail_s = source["tail"]["s"] * scale
        tail_source = f"{args.tail.name}, x{scale:.2f} samples"
    projection = project(rows, bases, tail_s, args.threads)
    if args.whole:
        before = {(r["rule"], r["job"]) for r in measured_jobs(workdir)}
        wall = run_workflow(workdir, config, [], args.threads)
        every = measured_jobs(workdir)
        rest_models = [r for r in every if r["rule"] in MODEL_RULES and (r["rule"], r["job"]) not in before]
        # the tail: everything the rest of the run spent outside fold and retrain jobs (meta, report,
        # plots, Snakemake itself), so that the projection is checked on its fold-0 assumption
        tail_s, tail_source = wall - sum(r["s"] for r in rest_models), "measured (--whole)"
        result["tail"] = {"s": tail_s, "jobs": tail_jobs(every)}
        projection = project(rows, bases, tail_s, args.threads)
        result["whole"] = {"wall_s": wall + sum(r["s"] for r in rows), "rest_wall_s": wall,
                           "model_jobs_s": sum(r["s"] for r in every if r["rule"] in MODEL_RULES),
                           "model_jobs_projected_s": projection["model_s"]}
    projection["tail_source"] = tail_source
    result.update(jobs=rows, projection=projection, sizes=output_sizes(workdir, bases))
    if args.levers:
        result["levers"] = lever_paces(workdir, config, args.threads)
        print_table(result["levers"], ["lever", "build_s", "s_per_round"], "lightgbm_multires levers")
    report(result)
    write_result(name, result)


LEVERS = {"as configured": {}, "feature_fraction 0.25": {"feature_fraction": 0.25}, "max_bin 63": {"max_bin": 63},
          "bagging_fraction 0.5": {"bagging_fraction": 0.5}, "force_row_wise": {"force_col_wise": False, "force_row_wise": True}}


def lever_paces(workdir: Path, config: dict, threads: int, n_samples: int = 60_000, rounds: int = 20) -> list[dict]:
    """lightgbm_multires on `n_samples` evenly spaced fold-0 training samples of a measured workdir, once
    per lever: seconds to build the Dataset and per boosting round (no early stopping)."""
    import lightgbm as lgb
    import numpy as np

    from hetstack.adapters import make_adapter, subset
    from hetstack.catalogue import get_spec
    from hetstack.tables import SampleTable, load_folds

    samples = SampleTable.read(workdir / RUN / "labels.parquet")
    ids = load_folds(workdir / RUN / "folds.parquet")[0].train_ids
    ids = ids[np.linspace(0, len(ids) - 1, min(n_samples, len(ids))).round().astype(int)]
    adapter = make_adapter("multires", multires_path=workdir / "results" / SYMBOL / "multires.npy", **config["adapters"])
    windows, y = adapter.rows(ids), samples.column("label", ids) + 1
    rows = []
    for lever, change in LEVERS.items():
        model = get_spec("lightgbm_multires").cls({**config["model_params"]["lightgbm_multires"], **change},
                                                  seed=config["seed"], threads=threads)
        params = {**model._booster_params(), **change}  # over the fixed ones (force_col_wise)
        start = time.perf_counter()
        train = lgb.Dataset(model._dataset_input(subset(windows, np.arange(len(ids)))), label=y,
                            params={**model._dataset_params(windows), **params}).construct()
        built = time.perf_counter()
        lgb.train(params, train, num_boost_round=rounds)
        rows.append({"lever": lever, "build_s": built - start, "s_per_round": (time.perf_counter() - built) / rounds})
        print(rows[-1], flush=True)
    return rows


def retrain_ratio(workdir: Path) -> float:
    """Retrain samples over fold-0 samples: how much longer a retrain fits (time ~ samples)."""
    from hetstack.tables import SampleTable, load_folds

    samples = SampleTable.read(workdir / RUN / "labels.parquet")
    folds = load_folds(workdir / RUN / "folds.parquet")
    return len(samples.ids_of("train")) / len(folds[0].train_ids)


def output_sizes(workdir: Path, bases: list[str]) -> dict:
    """MB on disk: fold 0's OOF shard per base, the 5 shards projected, and the arrays."""
    mb = 2 ** 20
    shards = {b: workdir / RUN / "oof" / b / "fold0.parquet" for b in bases}
    sizes = {f"shard_{b}_mb": path.stat().st_size / mb for b, path in shards.items() if path.exists()}
    # a missing shard weighs as much as the others (every base writes the same columns)
    sizes["oof_shards_projected_mb"] = N_FOLDS * len(bases) * sum(sizes.values()) / max(1, len(sizes))
    for name in ("features.npy", "multires.npy"):
        path = workdir / "results" / SYMBOL / name
        if path.exists():
            sizes[name.replace(".npy", "_mb")] = path.stat().st_size / mb
    matrix = workdir / RUN / "meta_matrix.parquet"
    if matrix.exists():
        sizes["meta_matrix_mb"] = matrix.stat().st_size / mb
    return sizes


def report(result: dict) -> None:
    rows = [{"job": f"{r['rule']} {r['job']}", "s": r["s"], "rss_mb": r["max_rss_mb"],
             "s/iter": r.get("s_per_iteration", ""), "epoch_s": r.get("train_s_per_epoch", ""),
             "samples/s": r.get("samples_per_s", ""), "batch/step": r.get("batch_over_step", "")} for r in result["jobs"]]
    print_table(rows, ["job", "s", "rss_mb", "s/iter", "epoch_s", "samples/s", "batch/step"],
                f"{result['n_bars']:,} bars, {result['threads']} threads a job; samples {result['samples']}")
    p = result["projection"]
    print_table([{"base": b, **v} for b, v in p["per_base"].items()],
                ["base", "fold_s", "fold_measured", "retrain_s", "retrain_measured", "total_s"], "per base: 5 folds + retrain")
    print(f"\nprojected whole run: {p['two_cores_s'] / 3600:.2f} h on 2 cores, {p['sixteen_cores_s'] / 3600:.2f} h "
          f"on 16 ({p['lanes']} jobs at once); tail {p['tail_s']:.0f} s ({p['tail_source']})")
    if "whole" in result:
        w = result["whole"]
        print(f"measured whole run: {w['wall_s']:.0f} s (jobs measured one at a time, then the rest's wall) against "
              f"{p['two_cores_s']:.0f} s projected ({w['wall_s'] / p['two_cores_s']:.2f}x); fold and retrain jobs "
              f"{w['model_jobs_s']:.0f} s against {w['model_jobs_projected_s']:.0f} s projected")
    print("sizes (MB):", {k: round(v, 1) for k, v in result["sizes"].items()})


if __name__ == "__main__":
    main()
