#!/usr/bin/env python
"""One fold job of each default neural base on CUDA against CPU: wall time, peak GPU memory, agreement.

    python bench/gpu.py [--quick] [--bases tcn patchtst] [--fold 0] [--bars N] [--threads N] [--workdir DIR]

config/config.yaml restricted to one symbol and horizon (MES, h 20). Step 0 builds the features,
multires bars, labels and folds with the workflow (untimed). Then for each base, fold `--fold` is
fitted in this process by hetstack.stages.oof.fit_fold, the fold job's own code, once with
training.device cpu (--threads threads, default every core) and once with cuda: same data, seed,
epochs and early-stopping slice. Per base: wall seconds of each fit, the speed-up, peak GPU memory
(torch.cuda.max_memory_allocated), the epoch each kept, and how their test-fold probabilities
(both predicted on CPU) agree: max and mean |dp| and the share of rows with the same argmax.

Tolerance: CUDA's kernels round differently from CPU's and the difference compounds over epochs,
so the two fits are not bit-equal; they agree when mean |dp| <= 0.02 and the argmax agrees on at
least 95% of the rows. The script exits 1 when a base misses that. Without CUDA
(torch.cuda.is_available() false) it times CPU alone and says why. --quick: 12,000 bars, 2 epochs.
JSON: bench/out/gpu[-quick].json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, classic_config, print_table, run_workflow, write_result

SYMBOL, HORIZON = "MES", 20
QUICK = {"n_bars": 12000, "epochs": 2}
MEAN_ABS_TOLERANCE, ARGMAX_AGREEMENT = 0.02, 0.95


def bench_config(quick: bool, n_bars: int | None) -> dict:
    config = classic_config()
    config["symbols"], config["horizons"] = [SYMBOL], [HORIZON]
    config["data_dir"] = "data"  # none in the scratch folder: the synthetic market
    if quick:
        config["synthetic"]["n_bars"] = QUICK["n_bars"]
        for base in default_neural_bases(config):
            config["model_params"][base] = {**config["model_params"].get(base, {}), "epochs": QUICK["epochs"]}
    if n_bars:
        config["synthetic"]["n_bars"] = n_bars
    return config


def default_neural_bases(config: dict) -> list[str]:
    from hetstack.catalogue import get_spec
    from hetstack.config import base_models

    return [b for b in base_models(config) if "device" in getattr(get_spec(b).cls, "training_params", {})]


def fold_settings(config: dict, base: str, threads: int):
    """What rule oof_fold hands run_fold (rules/common.smk TRAIN_PARAMS, model_params)."""
    from hetstack.config import model_params
    from hetstack.stages.oof import TrainSettings

    return TrainSettings(params=model_params(config, base), seed=config["seed"], threads=threads,
                         val_split=config["training"]["val_split"], purge_bars=config["oof"]["purge_bars"],
                         embargo_bars=config["oof"]["embargo_bars"],
                         use_sample_weights=config["oof"]["use_sample_weights"],
                         adapters={k: dict(config["adapters"][k]) for k in ("sequence", "multires")}, device="cpu")


def timed_fit(base: str, fold: int, files: dict[str, Path], settings) -> dict:
    import torch

    from hetstack.stages.oof import fit_fold

    cuda = settings.device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    _, _, model, _, proba = fit_fold(base, fold, {"features": str(files["features"]), "multires": str(files["multires"])},
                                     str(files["labels"]), str(files["folds"]), settings)
    if cuda:
        torch.cuda.synchronize()
    return {"s": time.perf_counter() - start, "proba": proba, "best_epoch": model.training_metrics_.best_iteration,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


def agreement(cpu: np.ndarray, gpu: np.ndarray) -> dict:
    diff = np.abs(cpu - gpu)
    return {"max_abs_dp": float(diff.max()), "mean_abs_dp": float(diff.mean()),
            "argmax_agreement": float(np.mean(cpu.argmax(1) == gpu.argmax(1)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bases", nargs="+", help="default: the neural bases of config/config.yaml")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--bars", type=int, help="synthetic bars (default: the config's; --quick 12,000)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU fit threads")
    ap.add_argument("--workdir", type=Path, help="keep the scratch folder here")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    import torch

    config = bench_config(args.quick, args.bars)
    bases = args.bases or default_neural_bases(config)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hetstack-gpu-"))
    run, sym = workdir / "results" / f"{SYMBOL}_h{HORIZON}", workdir / "results" / SYMBOL
    files = {"features": sym / "features.npy", "multires": sym / "multires.npy",
             "labels": run / "labels.parquet", "folds": run / "folds.parquet"}
    prep = run_workflow(workdir, config, [str(p.relative_to(workdir)) for p in files.values()], os.cpu_count() or 1)
    cuda = torch.cuda.is_available()
    why = None if cuda else f"torch {torch.__version__} sees no CUDA device (CUDA build: {torch.version.cuda})"
    print(f"step 0: inputs built in {prep:.1f} s (untimed); bases {bases}; " +
          (f"CUDA: {torch.cuda.get_device_name(0)}" if cuda else f"CPU only: {why}"), flush=True)
    rows, failed = [], []
    for base in bases:
        settings = fold_settings(config, base, args.threads)
        cpu = timed_fit(base, args.fold, files, settings)
        row = {"base": base, "cpu_s": cpu["s"], "cpu_threads": args.threads, "cpu_best_epoch": cpu["best_epoch"]}
        if cuda:
            gpu = timed_fit(base, args.fold, files, replace(settings, device="cuda"))
            row.update(cuda_s=gpu["s"], speedup=cpu["s"] / gpu["s"], peak_gpu_mib=gpu["peak_gpu_mib"],
                       cuda_best_epoch=gpu["best_epoch"], **agreement(cpu["proba"], gpu["proba"]))
            if row["mean_abs_dp"] > MEAN_ABS_TOLERANCE or row["argmax_agreement"] < ARGMAX_AGREEMENT:
                failed.append(base)
        rows.append(row)
        print(f"{base}: {row}", flush=True)
    print_table(rows, [c for c in ("base", "cpu_s", "cuda_s", "speedup", "peak_gpu_mib", "cpu_best_epoch",
                                   "cuda_best_epoch", "max_abs_dp", "mean_abs_dp", "argmax_agreement")
                       if any(c in r for r in rows)], f"one fold job (fold {args.fold}), CPU against CUDA")
    write_result("gpu-quick" if args.quick else "gpu", {
        "config": {"symbol": SYMBOL, "horizon": HORIZON, "n_bars": config["synthetic"]["n_bars"], "fold": args.fold,
                   "model_params": {b: config["model_params"].get(b, {}) for b in bases}},
        "cuda": cuda, "cuda_device": torch.cuda.get_device_name(0) if cuda else None, "why_no_cuda": why,
        "tolerance": {"mean_abs_dp": MEAN_ABS_TOLERANCE, "argmax_agreement": ARGMAX_AGREEMENT}, "rows": rows})
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        sys.exit(f"CUDA and CPU predictions disagree beyond the tolerance for {failed}")


if __name__ == "__main__":
    main()
