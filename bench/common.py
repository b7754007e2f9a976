"""What every benchmark script shares: running the real workflow in a scratch folder, reading
Snakemake's benchmark files, describing the machine, fitting growth exponents, printing tables.

Benchmarks are scripts, not tests: they print a table and write JSON to bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("HETSTACK_BENCH_OUT", REPO / "bench" / "out"))  # tests point it elsewhere


def config_file(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())


def classic_config() -> dict:
    """config/config.yaml with config/classic.yaml over it (see on_classic)."""
    from snakemake.utils import update_config

    config = config_file("config.yaml")
    update_config(config, config_file("classic.yaml"))
    return config


def on_classic(config: dict) -> dict:
    """`config` over config/classic.yaml: the market and bases of every figure measured before the
    heterogeneous market became the default (2026-12-06), so that those figures stay reproducible."""
    from snakemake.utils import update_config

    merged = config_file("classic.yaml")
    update_config(merged, config)
    return merged


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The real `snakemake` on this repository's Snakefile, run in `workdir` with its bench.yaml."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(workdir / "bench.yaml"), *args]


def run_workflow(workdir: Path, config: dict, targets: list[str], cores: int, *extra: str) -> float:
    """Write `config` to workdir/bench.yaml, run snakemake on `targets`; wall seconds. Exits on failure."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = snakemake_command(workdir, "--cores", str(cores), *extra, *targets)
    log = workdir / f"snakemake-{int(time.time() * 1000)}.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"workflow failed (rc {result.returncode}): {' '.join(cmd)}\n{log.read_text()[-4000:]}")
    return wall


def read_benchmarks(workdir: Path) -> list[dict]:
    """One row per job benchmark file: rule, job (path under the rule), seconds, max_rss_mb, cpu_time."""
    rows = []
    root = workdir / "benchmarks"
    for path in sorted(root.rglob("*.tsv")):
        with open(path) as fh:
            record = next(csv.DictReader(fh, delimiter="\t"))
        rel = path.relative_to(root)
        rows.append({"rule": rel.parts[0], "job": str(Path(*rel.parts[1:]).with_suffix("")),
                     "s": float(record["s"]), "max_rss_mb": _number(record["max_rss"]),
                     "cpu_time": _number(record.get("cpu_time", "NA"))})
    return rows


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")  # psutil could not measure (e.g. a job too short to sample)


def machine() -> dict:
    """What the figures were measured on: the same record as a run's manifest.json."""
    sys.path.insert(0, str(REPO / "src"))
    from hetstack.stages.manifest import machine_record

    return machine_record()


def fit_exponent(sizes, values) -> float:
    """b of values ~ a * sizes**b, by least squares on logs."""
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(values, float)), 1)[0])


def print_table(rows: list[dict], columns: list[str], title: str = "") -> None:
    """A plain fixed-width table (what the README copies)."""
    def show(value):
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    cells = [[show(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    if title:
        print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def write_result(name: str, data: dict) -> Path:
    """bench/out/{name}.json, with the machine it was measured on."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=float) + "\n")
    print(f"\nwrote {path}")
    return path


def scratch_root(workdir: Path | None, name: str) -> Path:
    """A benchmark's scratch folder: --workdir when given (kept), else a new temporary one."""
    return (workdir or Path(tempfile.mkdtemp(prefix=f"hetstack-{name}-"))).resolve()


def drop_scratch(root: Path, workdir: Path | None) -> None:
    """Remove the scratch folder unless the user named it."""
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)


def result_name(stem: str, quick: bool, chosen: list[str], every: list[str]) -> str:
    """bench/out's name for a run: the stem, -quick, and the choices when not every one of `every` ran."""
    subset = "" if set(chosen) == set(every) else "-" + "-".join(chosen)
    return (f"{stem}-quick" if quick else stem) + subset


def fmt_se(stat: dict, digits: int = 4) -> str:
    """'+0.1234 (0.0056)': a signed mean and its SE."""
    return f"{stat['mean']:+.{digits}f} ({stat['se']:.{digits}f})"


def run_timed(main) -> None:
    """A benchmark's entry point: run `main`, then print its total wall."""
    start = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - start:.0f} s")


MARKETS = ["synthetic", "eurusd"]


def market_arguments(doc: str, quick_help: str) -> argparse.ArgumentParser:
    """The options of a benchmark over the two markets (accuracy.default_or_eurusd): --quick, --cores,
    --datasets, --workdir."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--datasets", nargs="+", choices=MARKETS, default=MARKETS)
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one, removed")
    return ap
