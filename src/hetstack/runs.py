"""`hetstack runs` and `hetstack diff`: the run folders' manifests listed and compared."""

from __future__ import annotations

import json
from pathlib import Path

from hetstack import paths
from hetstack.errors import HetstackError
from hetstack.io import read_json


def find_runs(root: str | Path = paths.RESULTS) -> list[Path]:
    """Run folders with a manifest below `root` (a results folder, or a working directory holding one)."""
    root = Path(root)
    if (root / paths.RESULTS).is_dir():
        root = root / paths.RESULTS
    return sorted(p.parent for p in root.glob(f"*/{paths.MANIFEST}"))


def load_manifest(run: str | Path) -> dict:
    path = Path(run) / paths.MANIFEST
    if not path.is_file():
        raise HetstackError(path, "no manifest in this run folder", "build it with `snakemake --cores all` "
                            f"(target {paths.RUN_DIR}/{paths.MANIFEST}), or pass a run folder such as results/MES_h20")
    return read_json(path)


def score_record(run: str | Path, metas: list[str]) -> dict:
    """The headline test scores of every base and meta-learner, from the run's reports (a meta-learner
    without a report yet is left out), and the best base as the reports define it (chosen on OOF rows)."""
    scores: dict = {"bases": {}, "meta_learners": {}, "best_base": None}
    for meta in metas:
        path = Path(run) / f"{meta}{paths.REPORT_SUFFIX}"
        if not path.is_file():
            continue
        report = read_json(path)
        perf = report["performance"]
        scores["best_base"] = perf["best_base"]
        scores["meta_learners"][meta] = {
            "test_accuracy": perf["test_accuracy"], "test_log_loss": perf["test_log_loss"],
            "test_skill": perf["test_skill"], "sharpe_ratio": perf["sharpe_ratio"],
            "improvement_over_best_base": perf["improvement_over_best_base"]}
        for base, p in report["base_model_performance"].items():
            scores["bases"].setdefault(base, {"test_accuracy": p["test_acc"], "test_log_loss": p["test_log_loss"],
                                              "test_skill": p["test_skill"],
                                              "sharpe_ratio": p["trading"]["sharpe_ratio"]})
    return scores


def run_row(run: Path) -> dict:
    """One line of `hetstack runs`: the run's default meta-learner and its best base (by OOF log loss,
    as its reports say), each with its test skill; nothing here is picked on test rows."""
    manifest = load_manifest(run)
    metas = manifest["run"]["meta_learners"]
    scores = score_record(run, metas)
    meta = metas[0] if metas else None
    best_base = scores["best_base"]
    commit = manifest["code"]["git_commit"]
    return {"run": str(run), "bases": ",".join(manifest["run"]["base_models"]), "metas": ",".join(metas),
            "meta": meta, "meta_test_skill": scores["meta_learners"].get(meta, {}).get("test_skill"),
            "best_base": best_base, "base_test_skill": scores["bases"].get(best_base, {}).get("test_skill"),
            "job_s": round(sum(j["s"] or 0.0 for j in manifest["jobs"]), 1),
            "config": manifest["run"]["config_digest"],
            "commit": (commit[:10] + ("+" if manifest["code"]["git_dirty"] else "")) if commit else "-"}


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no runs with a manifest"
    columns = list(rows[0])

    def show(value) -> str:
        return f"{value:+.4f}" if isinstance(value, float) and abs(value) < 10 else str(value)

    widths = {c: max(len(c), *(len(show(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(show(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def flatten(value, prefix: str = "") -> dict:
    """Nested mappings as {'a.b.c': leaf}; lists stay leaves."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _changes(a: dict, b: dict) -> dict:
    flat_a, flat_b = flatten(a), flatten(b)
    return {k: [flat_a.get(k), flat_b.get(k)] for k in sorted(set(flat_a) | set(flat_b)) if flat_a.get(k) != flat_b.get(k)}


def diff_runs(run_a: str | Path, run_b: str | Path) -> dict:
    """What differs between two runs: settings, code, packages, inputs, and every shared score (b - a)."""
    a, b = load_manifest(run_a), load_manifest(run_b)
    scores_a, scores_b = score_record(run_a, a["run"]["meta_learners"]), score_record(run_b, b["run"]["meta_learners"])
    scores = {}
    for kind in ("bases", "meta_learners"):
        for model in sorted(set(scores_a[kind]) | set(scores_b[kind])):
            left, right = scores_a[kind].get(model), scores_b[kind].get(model)
            if left is None or right is None:
                scores[model] = {"only_in": str(run_a if right is None else run_b)}
                continue
            scores[model] = {m: {"a": left[m], "b": right[m], "change": right[m] - left[m]} for m in left if m in right}
    inputs = {k: [a["inputs"][k], b["inputs"][k]] for k in a["inputs"] if a["inputs"][k] != b["inputs"].get(k)}
    return {"a": str(run_a), "b": str(run_b), "config": _changes(a["config"], b["config"]),
            "code": _changes(a["code"], b["code"]), "packages": _changes(a["packages"], b["packages"]),
            "inputs": inputs, "scores": scores}


def format_diff(diff: dict) -> str:
    lines = [f"a: {diff['a']}", f"b: {diff['b']}"]
    for section in ("config", "code", "packages"):
        changes = diff[section]
        lines.append(f"{section}: " + ("same" if not changes else f"{len(changes)} changed"))
        lines += [f"  {key}: {json.dumps(old)} -> {json.dumps(new)}" for key, (old, new) in changes.items()]
    lines.append("inputs: " + ("same" if not diff["inputs"] else "differ: " + ", ".join(diff["inputs"])))
    lines.append("scores (b - a):")
    for model, scores in diff["scores"].items():
        if "only_in" in scores:
            lines.append(f"  {model}: only in {scores['only_in']}")
        else:
            lines.append(f"  {model}: " + ", ".join(f"{m} {v['a']:.4f} -> {v['b']:.4f} ({v['change']:+.4f})"
                                                  for m, v in scores.items()))
    return "\n".join(lines)
