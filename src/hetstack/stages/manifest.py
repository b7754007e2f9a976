"""Stage function of rule manifest: what produced a run folder, so that a run can be compared with
another and reproduced — the resolved config, the library versions, the code's commit, the input
data's hashes, the machine, and every fitting job's wall time and peak memory."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path

from hetstack.io import read_json, write_json

PACKAGES = ("snakemake", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "catboost", "lightgbm",
            "xgboost", "xgboost-cpu", "torch", "arch")
MANIFEST_VERSION = 2  # 2: scores left to the reports, which follow the manifest


def package_versions(names=PACKAGES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def file_record(path: str | Path) -> dict:
    """Size and SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(path), "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def code_record(workflow_dir: str | Path) -> dict:
    """The project's version and, in a git checkout, its commit and whether files differ from it."""
    from hetstack import __version__

    record = {"version": __version__, "git_commit": None, "git_dirty": None}
    if not (Path(workflow_dir) / ".git").exists():
        return record
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(workflow_dir), *args], capture_output=True, text=True,
                                  timeout=20, check=True).stdout.strip()

        record["git_commit"] = git("rev-parse", "HEAD")
        record["git_dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        pass  # no git on this machine: the version alone
    return record


def machine_record() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    return {"host": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib}


def job_records(benchmarks_dir: str | Path, symbol: str, horizon: int, models: set[str], replicate: int = 0) -> list[dict]:
    """Wall seconds and peak memory of this run's jobs from Snakemake's benchmark files: the run's own
    (benchmarks/{rule}/{symbol}_h{horizon}{replicate}/...; a job of a model the run no longer has is
    left out) and its symbol's (benchmarks/{rule}/{symbol}.tsv)."""
    import csv

    from hetstack.catalogue import available
    from hetstack.paths import run_name

    registered = set(available("base")) | set(available("meta"))
    root = Path(benchmarks_dir)
    rows = []
    for rule_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        run_dir = rule_dir / run_name(symbol, horizon, replicate)
        files = [(p, str(p.relative_to(run_dir).with_suffix(""))) for p in sorted(run_dir.rglob("*.tsv"))]
        files += [(p, symbol) for p in sorted(rule_dir.glob(f"{symbol}.tsv"))]
        for path, job in files:
            if job.split("/")[0] in registered - models:
                continue
            with open(path) as stream:
                record = next(csv.DictReader(stream, delimiter="\t"), None)
            if record is not None:
                rows.append({"rule": rule_dir.name, "job": job, "s": _number(record.get("s")),
                             "max_rss_mb": _number(record.get("max_rss"))})
    return rows


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # "NA": too short for psutil to sample


def write_manifest(out: str, *, symbol: str, horizon: int, config: dict, config_digest: str,
                   settings_path: str, metas: list[str], data_files: list[str], bars_path: str, workflow_dir: str,
                   benchmarks_dir: str = "benchmarks", replicate: int = 0, fit_seed: int | None = None) -> dict:
    """manifest.json of one run folder, written before its reports (which read it): the scores
    `hetstack runs` and `diff` show come from the reports themselves. `metas`: as the config names
    them, as the report files are named."""
    from hetstack.catalogue import canonical_name

    bases = list(read_json(settings_path)["base_models"])
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "run": {"symbol": symbol, "horizon": int(horizon), "base_models": bases, "meta_learners": metas,
                "config_digest": config_digest,
                **({"replicate": int(replicate), "fit_seed": fit_seed} if replicate else {})},
        "config": config,
        "code": code_record(workflow_dir),
        "packages": package_versions(),
        "inputs": {"data": [file_record(p) for p in data_files],
                   "synthetic": None if data_files else {"seed": config.get("seed"), **(config.get("synthetic") or {})},
                   "bars": file_record(bars_path)},
        "machine": machine_record(),
        "jobs": job_records(benchmarks_dir, symbol, horizon, set(bases) | {canonical_name(m) for m in metas},
                            replicate),
    }
    write_json(out, manifest)
    return manifest
