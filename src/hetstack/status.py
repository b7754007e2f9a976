"""`hetstack status RUN`: which shards and outputs of a run folder exist (reads only file names)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hetstack import paths

# results/{symbol}_h{horizon}[_rep{r}]; symbols have no "_"
RUN_NAME = re.compile(r"[^_]+_h\d+" + paths.REPLICATE_PATTERN)
# Anything of these makes a folder a run folder, whatever its name.
RUN_FILES = (paths.LABELS, paths.SPLITS, paths.SETTINGS, paths.MANIFEST, paths.META_MATRIX, paths.OOF_DIR, "models")


def _bases(run: Path, settings: dict | None) -> list[str]:
    if settings and settings.get("base_models"):
        return list(settings["base_models"])
    found = set()
    for sub in (paths.OOF_DIR, paths.BASE_TESTS_DIR, paths.BASE_MODELS_DIR):
        folder = run / sub
        if folder.is_dir():
            found |= {p.stem if p.is_file() else p.name for p in folder.iterdir() if not p.name.startswith(".")}
    return sorted(found)


def _n_folds(run: Path) -> int | None:
    splits = run / paths.SPLITS
    if splits.is_file():
        return len(json.loads(splits.read_text())["folds"])
    return None


def _n_windows(run: Path) -> int | None:
    """Walk-forward windows of the run (oos.scheme walkforward), else None."""
    summary = run / paths.WALKFORWARD_DIR / "windows.json"
    return json.loads(summary.read_text())["n_windows"] if summary.is_file() else None


def _numbered(folder: Path, stem: str) -> list[int]:
    return sorted(int(m.group(1)) for p in folder.glob(f"{stem}*.parquet")
                  if (m := re.fullmatch(rf"{stem}(\d+)\.parquet", p.name)))


def check_run_folder(run: Path) -> None:
    """Refuse an existing folder that is no run folder (results/{symbol}, results/), naming the run folders
    to pass instead: its status would read as an empty, incomplete run."""
    from hetstack.errors import HetstackError

    name = run.resolve().name
    if RUN_NAME.fullmatch(name) or any((run / f).exists() for f in RUN_FILES):
        return

    def run_folders(folder: Path, pattern: str) -> list[str]:
        return sorted(str(folder / p.name) for p in folder.glob(pattern) if p.is_dir() and RUN_NAME.fullmatch(p.name))

    if (run / "bars.parquet").is_file() or (run / "features.npy").is_file():
        parent = run.parent if run.name else run.resolve().parent
        what, runs = "a symbol folder (bars, features), not a run folder", run_folders(parent, f"{name}_h*")
        none = f"{parent / name}_h{{horizon}} (none built yet: `hetstack train --symbol {name} --horizon H`)"
    else:  # e.g. results/
        what, runs = "not a run folder", run_folders(run, "*_h*")
        none = f"{paths.RUN_DIR} (none in this folder)"
    raise HetstackError(str(run), what, f"pass a run folder: {', '.join(runs)}" if runs else f"pass a run folder {none}")


def _tuning(folder: Path) -> dict | None:
    """A tuned base's study: its finished trials of n_trials (read from the journal while it runs), and the
    chosen trial once tune_select has written tuned.json."""
    if not (folder / "study.json").is_file():
        return None
    if (folder / "tuned.json").is_file():
        tuned = json.loads((folder / "tuned.json").read_text())
        return {"finished": tuned["n_trials"], "n_trials": tuned["settings"]["n_trials"],
                "chosen_trial": tuned["chosen_trial"]}
    info = json.loads((folder / "study.json").read_text())
    finished = None
    if info["storage"] == "journal" and (folder / info["journal"]).is_file():
        from optuna.trial import TrialState

        from hetstack.stages.tuning import open_study

        trials = open_study(folder / "study.json", None)[1].get_trials(deepcopy=False)
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    return {"finished": finished, "n_trials": info["settings"]["n_trials"], "chosen_trial": None}


def run_status(run_dir: str | Path) -> dict:
    """{exists, run, n_folds, bases: {base: {folds_done, folds_missing, test, model}}, matrix, metas, reports,
    complete, missing}. A folder that is no run folder raises HetstackError (`check_run_folder`)."""
    run = Path(run_dir)
    status: dict = {"run": str(run), "exists": run.is_dir()}
    if not run.is_dir():
        return status
    check_run_folder(run)
    settings_path = run / paths.SETTINGS
    settings = json.loads(settings_path.read_text()) if settings_path.is_file() else None
    n_folds = _n_folds(run)
    status.update(labels=(run / paths.LABELS).is_file(), folds=(run / paths.FOLDS).is_file(),
                  run_settings=settings is not None, manifest=(run / paths.MANIFEST).is_file(), n_folds=n_folds)
    n_windows = _n_windows(run)
    if n_windows is not None:
        status["n_windows"] = n_windows
    bases = {}
    for base in _bases(run, settings):
        done = _numbered(run / paths.OOF_DIR / base, "fold")
        missing = sorted(set(range(n_folds)) - set(done)) if n_folds is not None else []
        bases[base] = {"folds_done": done, "folds_missing": missing,
                       "model": (run / paths.BASE_MODELS_DIR / base / "model.json").is_file(),
                       "test": (run / paths.BASE_TESTS_DIR / f"{base}.parquet").is_file()}
        tuning = _tuning(run / paths.TUNING_DIR / base)
        if tuning is not None:
            bases[base]["tuning"] = tuning
        if n_windows is not None:
            windows = _numbered(run / paths.WALKFORWARD_DIR / "bases" / base, "window")
            bases[base]["windows_done"] = windows
            bases[base]["windows_missing"] = sorted(set(range(n_windows)) - set(windows))
    status["bases"] = bases
    status["matrix"] = (run / paths.META_MATRIX).is_file()
    meta_dir = run / paths.META_MODELS_DIR
    status["meta_models"] = sorted(p.name for p in meta_dir.iterdir() if (p / "model.json").is_file()) \
        if meta_dir.is_dir() else []
    status["reports"] = sorted(p.name.removesuffix(paths.REPORT_SUFFIX) for p in run.glob(f"*{paths.REPORT_SUFFIX}"))
    plots = run / paths.PLOTS_DIR
    status["plots"] = sorted(p.name for p in plots.iterdir() if p.is_dir()) if plots.is_dir() else []
    # what a finished run has; predict needs run_settings.json, runs and diff manifest.json
    missing = [] if bases else ["bases"]
    missing += [f"OOF folds of {b}" for b, s in bases.items() if s["folds_missing"]]
    missing += [f"walk-forward windows of {b}" for b, s in bases.items() if s.get("windows_missing")]
    missing += [f"test predictions of {b}" for b, s in bases.items() if not s["test"]]
    missing += [what for what, have in (("meta matrix", status["matrix"]), ("reports", status["reports"]),
                                        (paths.SETTINGS, status["run_settings"]), (paths.MANIFEST, status["manifest"]))
                if not have]
    status["missing"] = missing
    status["complete"] = not missing
    return status


def format_status(status: dict) -> str:
    if not status["exists"]:
        return f"{status['run']}: no such run folder"

    def mark(flag: bool) -> str:
        return "yes" if flag else "MISSING"

    n = status["n_folds"]
    state = "complete" if status["complete"] else f"incomplete (missing: {', '.join(status['missing'])})"
    lines = [f"run {status['run']}: {state}",
             f"  labels: {mark(status['labels'])}   folds: {mark(status['folds'])} ({n if n is not None else '?'})"
             f"   run_settings: {mark(status['run_settings'])}   manifest: {mark(status['manifest'])}"]
    for base, b in status["bases"].items():
        folds = f"{len(b['folds_done'])}/{n}" if n is not None else f"{len(b['folds_done'])}/?"
        missing = f" (missing {', '.join(map(str, b['folds_missing']))})" if b["folds_missing"] else ""
        windows = ""
        if "windows_done" in b:
            gaps = f" (missing {', '.join(map(str, b['windows_missing']))})" if b["windows_missing"] else ""
            windows = f"   walk-forward windows {len(b['windows_done'])}/{status['n_windows']}{gaps}"
        lines.append(f"  base {base:<14} OOF folds {folds}{missing}{windows}   retrained model: {mark(b['model'])}"
                     f"   test predictions: {mark(b['test'])}")
        if "tuning" in b:
            t = b["tuning"]
            done = "?" if t["finished"] is None else t["finished"]
            chosen = "running" if t["chosen_trial"] is None else f"chosen trial {t['chosen_trial']}"
            lines.append(f"    tuning: {done} of {t['n_trials']} trials finished, {chosen}")
    lines.append(f"  meta matrix: {mark(status['matrix'])}")
    lines.append(f"  meta-learners fitted: {', '.join(status['meta_models']) or 'none'}")
    lines.append(f"  reports: {', '.join(status['reports']) or 'none'}")
    lines.append(f"  plots: {', '.join(status['plots']) or 'none'}")
    return "\n".join(lines)
