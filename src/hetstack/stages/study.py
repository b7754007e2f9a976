"""Stage function of rules/study.smk: one answer across the runs a config defines (symbols x horizons,
x seed replicates).

Reads only the runs' reports. Per model, its test skill in each run with the run's block SE and the
random-effects pool across runs; per meta-learner, its paired gain over the run's best base (chosen by
OOF log loss, no test row) pooled the same way, with its wins and losses beyond 2 SE, and what `auto`
chose in each run. Seed replicates of one symbol x horizon share their bars, labels and test rows, so
they are not independent runs: they are averaged into one cell before pooling (the cell's SE adds the
seed variance over K to the mean sampling variance), and their spread is the models' seed spread.
"""

from __future__ import annotations

import logging

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.paths import run_name

log = logging.getLogger("hetstack")

EXACT = 1e-12  # an SE below this is a gain that is zero by construction, up to rounding
GAIN_KEYS = {"log_loss": "log_loss_improvement_over_best_base", "accuracy": "improvement_over_best_base"}


def pool_runs(values: dict[str, float], ses: dict[str, float]) -> dict:
    """values and SEs per run -> the random-effects pool, and the runs beyond 2 SE either way. A gain
    that is zero by construction (SE 0: the meta-learner passing the best base through) enters with
    the smallest SE of the other runs, as certain as the most certain run rather than infinitely."""
    from hetstack.statistics import random_effects_pool

    runs = list(values)
    ses = {r: se if se > EXACT else 0.0 for r, se in ses.items()}  # rounding noise of an exact zero
    positive = [ses[r] for r in runs if ses[r] > 0]
    if not positive:
        return {"estimate": float(np.mean([values[r] for r in runs])), "se": 0.0, "k": len(runs),
                "note": "every run's value is exact (SE 0): nothing to pool", "wins": [], "losses": []}
    floor = min(positive)
    se = [ses[r] if ses[r] > 0 else floor for r in runs]
    pooled = random_effects_pool([values[r] for r in runs], se)
    pooled["wins"] = [r for r, s in zip(runs, se) if values[r] > 2 * s]
    pooled["losses"] = [r for r, s in zip(runs, se) if values[r] < -2 * s]
    pooled["z"] = pooled["estimate"] / pooled["se"]
    return pooled


def replicate_cells(runs: dict[str, dict]) -> dict[str, dict]:
    """One cell per symbol x horizon: each model's skill and each meta's gains averaged over the cell's
    seed replicates, with SE sqrt(mean SE^2 + var over seeds / K); the seeds' values are kept. A cell of
    one replicate is its run, unchanged."""
    groups: dict[str, list[dict]] = {}
    for run in runs.values():
        groups.setdefault(run_name(run["symbol"], run["horizon"]), []).append(run)

    def combine(entries: list[dict]) -> dict:
        values = np.array([e["value"] for e in entries], dtype=np.float64)
        ses = np.array([e["se"] for e in entries], dtype=np.float64)
        if len(entries) == 1:
            return dict(entries[0])
        seed_var = float(values.var(ddof=1))
        return {"value": float(values.mean()), "se": float(np.sqrt(np.mean(ses**2) + seed_var / len(values))),
                "seed_sd": float(np.sqrt(seed_var)), "sampling_se": float(np.sqrt(np.mean(ses**2))),
                "replicates": values.tolist()}

    cells = {}
    for name, members in groups.items():
        members = sorted(members, key=lambda r: r["replicate"])
        first = members[0]
        skill = {m: combine([r["skill"][m] for r in members]) for m in first["skill"]
                 if all(m in r["skill"] for r in members)}
        gain = {m: {k: combine([r["gain"][m][k] for r in members]) for k in first["gain"][m]}
                for m in first["gain"] if all(m in r["gain"] for r in members)}
        cells[name] = {"symbol": first["symbol"], "horizon": first["horizon"], "n_replicates": len(members),
                       "skill": skill, "gain": gain}
    return cells


def seed_spread(cells: dict[str, dict]) -> dict:
    """Per model: the SD of its test skill over seeds (root mean of the cells' seed variances) beside
    its sampling SE (root mean square of the runs' block SEs); the same for each meta's log-loss gain."""
    def spread(entries: list[dict]) -> dict | None:
        entries = [e for e in entries if "seed_sd" in e]
        if not entries:
            return None
        sd = float(np.sqrt(np.mean([e["seed_sd"] ** 2 for e in entries])))
        se = float(np.sqrt(np.mean([e["sampling_se"] ** 2 for e in entries])))
        return {"seed_sd": sd, "sampling_se": se, "ratio": sd / se if se > 0 else None, "cells": len(entries)}

    models = sorted({m for c in cells.values() for m in c["skill"]})
    metas = sorted({m for c in cells.values() for m in c["gain"]})
    return {"skill": {m: spread([c["skill"][m] for c in cells.values() if m in c["skill"]]) for m in models},
            "gain_log_loss": {m: spread([c["gain"][m]["log_loss"] for c in cells.values() if m in c["gain"]])
                              for m in metas}}


def pbo_of_runs(runs: dict[str, dict], models: list[str]) -> dict | None:
    """PBO with the runs as blocks over every model scored in all of them (test skill): is the model
    best on some runs also above the median on the others? None with fewer than 2 runs or models."""
    from hetstack.statistics import pbo_across_runs

    names = [m for m in models if all(m in run["skill"] for run in runs.values())]
    if len(runs) < 2 or len(names) < 2:
        return None
    scores = [[run["skill"][m]["value"] for m in names] for run in runs.values()]
    return {**pbo_across_runs(scores, names), "score": "test skill (log loss against the class prior)"}


def build_study(report_paths: list[str], out_path: str, out_page: str | None = None) -> dict:
    """results/study.json from every report of every run (each run's meta-learners), and its HTML page
    with the forest plot (`out_page`)."""
    runs: dict[str, dict] = {}
    for path in report_paths:
        report = read_json(path)
        replicate = int(report.get("replicate", 0))
        name = run_name(report["symbol"], report["horizon"], replicate)
        run = runs.setdefault(name, {"symbol": report["symbol"], "horizon": report["horizon"], "replicate": replicate,
                                     "skill": {}, "gain": {}, "auto_choice": None})
        errors = (report.get("statistics") or {}).get("standard_errors")
        if errors is None:
            raise ValueError(f"{path}: no standard errors in this report; rebuild it with this hetstack")
        meta = report["meta_learner"]
        run["best_base"] = report["performance"]["best_base"]
        for base, perf in report["base_model_performance"].items():
            run["skill"][base] = {"value": perf["test_skill"], "se": errors[base]["skill"]}
        run["skill"][meta] = {"value": report["performance"]["test_skill"], "se": errors[meta]["skill"]}
        run["gain"][meta] = {kind: {"value": report["performance"][key], "se": errors["gains"][key]}
                             for kind, key in GAIN_KEYS.items()}
        choice = report.get("meta_auto_choice")
        if choice and meta in ("meta_auto", "auto"):
            run["auto_choice"] = choice["chosen"]
        if choice and choice.get("shrinkage"):
            run.setdefault("shrinkage", {})[meta] = {k: choice["shrinkage"][k] for k in ("stacker", "toward", "alpha")}
    models = sorted({m for r in runs.values() for m in r["skill"]})
    metas = sorted({m for r in runs.values() for m in r["gain"]})
    cells = replicate_cells(runs)

    def pooled(getter, names) -> dict:
        out = {}
        for name in names:
            have = {c: v for c, cell in cells.items() if (v := getter(cell, name)) is not None}
            out[name] = pool_runs({c: v["value"] for c, v in have.items()}, {c: v["se"] for c, v in have.items()})
        return out

    study = {
        "runs": runs,
        "n_runs": len(runs),
        **({"cells": cells, "n_cells": len(cells), "seed_spread": seed_spread(cells)}
           if len(cells) < len(runs) else {}),
        "pooled_skill": pooled(lambda run, m: run["skill"].get(m), models),
        "pooled_gain_log_loss": pooled(lambda run, m: (run["gain"].get(m) or {}).get("log_loss"), metas),
        "pooled_gain_accuracy": pooled(lambda run, m: (run["gain"].get(m) or {}).get("accuracy"), metas),
        "auto_choices": {r: run["auto_choice"] for r, run in runs.items() if run["auto_choice"]},
        "pbo_across_runs": pbo_of_runs(cells, models),
        "method": "per run: test skill and the paired gain over the run's best base (lowest OOF log loss), "
                  "with block SEs (batch means over blocks of twice the longest label span); seed replicates "
                  "of a symbol x horizon averaged into one cell (SE^2 = mean SE^2 + seed variance / K); "
                  "across cells: DerSimonian-Laird random effects (tau2: the between-run variance); wins and "
                  "losses: cells beyond 2 SE",
    }
    write_json(out_path, study)
    if out_page is not None:
        from hetstack.plots import write_study_page

        write_study_page(study, out_page)
    log.info("study: %d runs, %d models", len(runs), len(models))
    return study
