#!/usr/bin/env python
"""Planning at scale: time `snakemake --dry-run` of the real workflow on ~8,700 jobs against a bare
Snakefile with the same DAG shape (rules that only touch files) and print both and their ratio.

    python bench/plan_scale.py [--symbols 100] [--horizons 3] [--folds 5] [--repeat 2]

The real run uses this repository's Snakefile with --directory in a temporary folder and no data
files, so every symbol is planned on the synthetic market; nothing is built. Target: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BASES = ["catboost", "ridge", "tcn", "patchtst"]  # one per family, 2D, 3D and 4D inputs
META = "meta_ridge"

BARE = '''
SYMBOLS = {symbols!r}
HORIZONS = {horizons!r}
BASES = {bases!r}
N_FOLDS = {folds}
MULTIRES = {multires!r}

wildcard_constraints:
    symbol=r"[A-Za-z0-9][A-Za-z0-9.\\-]*",
    horizon=r"[1-9][0-9]*",
    base="|".join(BASES),
    meta="{meta}",
    fold=r"[0-9]+",

def arrays(wc):
    return [f"results/{{wc.symbol}}/multires.npy" if wc.base in MULTIRES else f"results/{{wc.symbol}}/features.npy"]

rule all:
    input:
        expand("results/{{symbol}}_h{{horizon}}/{meta}_report.json", symbol=SYMBOLS, horizon=HORIZONS),
        expand("results/{{symbol}}_h{{horizon}}/oof/{{base}}/fold{{fold}}.parquet", symbol=SYMBOLS, horizon=HORIZONS, base=BASES, fold=range(N_FOLDS)),
        expand("results/{{symbol}}_h{{horizon}}/test/{{base}}.parquet", symbol=SYMBOLS, horizon=HORIZONS, base=BASES),

rule bars:
    output: "results/{{symbol}}/bars.parquet"
    shell: "touch {{output}}"

rule features:
    input: "results/{{symbol}}/bars.parquet"
    output: "results/{{symbol}}/features.npy", "results/{{symbol}}/features.json"
    shell: "touch {{output}}"

rule multires:
    input: "results/{{symbol}}/bars.parquet"
    output: "results/{{symbol}}/multires.npy"
    shell: "touch {{output}}"

rule labels:
    input: "results/{{symbol}}/bars.parquet", "results/{{symbol}}/features.json"
    output: "results/{{symbol}}_h{{horizon}}/labels.parquet", "results/{{symbol}}_h{{horizon}}/folds.parquet",
            "results/{{symbol}}_h{{horizon}}/splits.json"
    shell: "touch {{output}}"

rule oof_fold:
    input: arrays, "results/{{symbol}}_h{{horizon}}/labels.parquet", "results/{{symbol}}_h{{horizon}}/folds.parquet"
    output: "results/{{symbol}}_h{{horizon}}/oof/{{base}}/fold{{fold}}.parquet",
            "results/{{symbol}}_h{{horizon}}/oof/{{base}}/fold{{fold}}.test.parquet"
    shell: "touch {{output}}"

rule merge_oof:
    input: lambda wc: expand("results/{{symbol}}_h{{horizon}}/oof/{{base}}/fold{{fold}}.parquet", base=BASES, fold=range(N_FOLDS), **wc),
           "results/{{symbol}}_h{{horizon}}/labels.parquet", "results/{{symbol}}_h{{horizon}}/folds.parquet"
    output: "results/{{symbol}}_h{{horizon}}/meta_matrix.parquet"
    shell: "touch {{output}}"

rule fit_meta:
    input: "results/{{symbol}}_h{{horizon}}/meta_matrix.parquet"
    output: directory("results/{{symbol}}_h{{horizon}}/models/meta/{{meta}}")
    shell: "mkdir -p {{output}}"

rule retrain_base:
    input: arrays, "results/{{symbol}}_h{{horizon}}/labels.parquet"
    output: directory("results/{{symbol}}_h{{horizon}}/models/bases/{{base}}"),
            "results/{{symbol}}_h{{horizon}}/test/{{base}}.parquet"
    shell: "touch {{output}}"

rule report:
    input: "results/{{symbol}}_h{{horizon}}/models/meta/{{meta}}",
           lambda wc: expand("results/{{symbol}}_h{{horizon}}/test/{{base}}.parquet", base=BASES, **wc),
           "results/{{symbol}}_h{{horizon}}/meta_matrix.parquet", "results/{{symbol}}_h{{horizon}}/labels.parquet",
           "results/{{symbol}}/bars.parquet"
    output: "results/{{symbol}}_h{{horizon}}/{{meta}}_report.json",
            "results/{{symbol}}_h{{horizon}}/predictions/{{meta}}_test.parquet"
    shell: "touch {{output}}"
'''


# The same bare DAG with `script:` instead of `shell:`: Snakemake 9 reads a script rule's source
# once per job while planning (ScriptProcessor), a cost of the directive, not of hetstack's code.
TOUCH_PY = """from pathlib import Path
for out in snakemake.output:  # noqa: F821
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True) if not path.suffix else (path.parent.mkdir(parents=True, exist_ok=True), path.touch())
"""


def dry_run(cmd: list[str], cwd: Path, log: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the snakemake process, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "w") as out:
        result = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log.read_text()
    if result.returncode != 0:
        sys.exit(f"dry run failed ({' '.join(cmd)}):\n{text[-4000:]}")
    return elapsed, cpu, text


def total_jobs(text: str) -> int:
    for line in text[text.index("Job stats:"):].splitlines():
        if line.startswith("total"):
            return int(line.split()[1])
    raise ValueError("no job stats in the dry run's output")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--horizons", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    args = ap.parse_args()

    symbols = [f"S{i:03d}" for i in range(args.symbols)]
    horizons = [5, 20, 60][: args.horizons] if args.horizons <= 3 else list(range(5, 5 + 5 * args.horizons, 5))
    with tempfile.TemporaryDirectory(prefix="hetstack-plan-") as tmp:
        tmp = Path(tmp)
        real, bare, script = tmp / "real", tmp / "bare", tmp / "script"
        for path in (real, bare, script):
            path.mkdir()
        (real / "plan.yaml").write_text(yaml.safe_dump({
            "symbols": symbols, "horizons": horizons, "base_models": BASES, "meta_learner": [META],
            "oof": {"n_folds": args.folds}, "data_dir": str(real / "data"),
        }))
        bare_snakefile = BARE.format(symbols=symbols, horizons=horizons, bases=BASES, folds=args.folds,
                                     multires=["patchtst"], meta=META)
        (bare / "Snakefile").write_text(bare_snakefile)
        (script / "Snakefile").write_text(bare_snakefile.replace('shell: "touch {output}"', 'script: "touch.py"')
                                          .replace('shell: "mkdir -p {output}"', 'script: "touch.py"'))
        (script / "touch.py").write_text(TOUCH_PY)
        snakemake = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--quiet", "rules"]
        real_cmd = [*snakemake, "--snakefile", str(REPO / "Snakefile"), "--directory", str(real),
                    "--configfile", str(real / "plan.yaml")]
        bare_cmd = [*snakemake, "--snakefile", str(bare / "Snakefile"), "--directory", str(bare)]
        script_cmd = [*snakemake, "--snakefile", str(script / "Snakefile"), "--directory", str(script)]
        wall, cpu, jobs = {"real": [], "bare": [], "script": []}, {"real": [], "bare": [], "script": []}, {}
        for _ in range(args.repeat):
            for name, cmd, cwd in (("bare", bare_cmd, bare), ("script", script_cmd, script), ("real", real_cmd, real)):
                w, c, text = dry_run(cmd, cwd, tmp / f"{name}.log")
                wall[name].append(w)
                cpu[name].append(c)
                jobs[name] = total_jobs(text)
                print(f"{name:6s} dry run: {w:6.2f} s wall, {c:6.2f} s CPU, {jobs[name]} jobs", flush=True)
        # CPU time of the snakemake process is the headline: wall time also measures whatever else
        # the machine is doing. Both are the fastest of --repeat runs.
        print(f"\nwall: hetstack {min(wall['real']):.2f} s, bare {min(wall['bare']):.2f} s, "
              f"ratio {min(wall['real']) / min(wall['bare']):.2f}")
        c_real, c_bare = min(cpu["real"]), min(cpu["bare"])
        print(f"CPU:  hetstack {c_real:.2f} s ({jobs['real']} jobs), bare {c_bare:.2f} s ({jobs['bare']} jobs), "
              f"ratio {c_real / c_bare:.2f} (target <= 1.2)")
        c_script = min(cpu["script"])
        print(f"CPU:  bare with script: instead of shell: {c_script:.2f} s, hetstack / that {c_real / c_script:.2f}")


if __name__ == "__main__":
    main()
