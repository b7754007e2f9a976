#!/usr/bin/env python
"""Planning at scale: time `snakemake --dry-run` of the real workflow on ~8,700 jobs against a bare
Snakefile with the same DAG shape (rules that only touch files) and print both and their ratio.

    python bench/plan_scale.py [--symbols 100] [--horizons 3] [--folds 5] [--repeat 2]

The real run uses this repository's Snakefile with --directory in a temporary folder and no data
files, so every symbol is planned on the synthetic market; nothing is built. Target: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table, write_result

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
        expand("results/{{symbol}}_h{{horizon}}/run_settings.json", symbol=SYMBOLS, horizon=HORIZONS),
        expand("results/{{symbol}}_h{{horizon}}/manifest.json", symbol=SYMBOLS, horizon=HORIZONS),

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

rule run_settings:
    input: "results/{{symbol}}/features.json", "results/{{symbol}}_h{{horizon}}/splits.json"
    output: "results/{{symbol}}_h{{horizon}}/run_settings.json"
    shell: "touch {{output}}"

rule manifest:
    input: "results/{{symbol}}_h{{horizon}}/{meta}_report.json", "results/{{symbol}}_h{{horizon}}/run_settings.json"
    output: "results/{{symbol}}_h{{horizon}}/manifest.json"
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
for out in snakemake.output:
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True) if not path.suffix else (path.parent.mkdir(parents=True, exist_ok=True), path.touch())
"""


ENV_YAML = "channels: [conda-forge]\ndependencies: [python=3.11]\n"


def with_directives(snakefile: str) -> str:
    """The bare DAG with what every hetstack rule declares, as constants: log, benchmark, conda,
    threads, resources, params and a `script:`. What hetstack adds beyond this is its own cost."""
    def rewrite(match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        if "touch {output}" not in body and "mkdir -p {output}" not in body:
            return match.group(0)
        first_output = re.search(r'output:[^"]*"results/([^"]+)"', body).group(1)
        stem = first_output.rsplit(".", 1)[0] if "." in first_output.rsplit("/", 1)[-1] else first_output
        directives = (f'    log: "logs/{name}/{stem}.log"\n'
                      f'    benchmark: "benchmarks/{name}/{stem}.tsv"\n'
                      '    conda: "env.yaml"\n'
                      '    threads: 1\n'
                      '    resources: mem_mb=2048\n'
                      '    params: seed=42, settings={"purge_bars": 60, "embargo_bars": 1440}\n'
                      '    script: "touch.py"\n')
        body = re.sub(r'    (shell: "touch \{output\}"|shell: "mkdir -p \{output\}")\n', directives, body)
        return f"rule {name}:{body}"

    return re.sub(r"rule (\w+):(.*?)(?=\nrule |\Z)", rewrite, snakefile, flags=re.S)


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
    bare_snakefile = BARE.format(symbols=symbols, horizons=horizons, bases=BASES, folds=args.folds,
                                 multires=["patchtst"], meta=META)
    script_snakefile = (bare_snakefile.replace('shell: "touch {output}"', 'script: "touch.py"')
                        .replace('shell: "mkdir -p {output}"', 'script: "touch.py"'))
    variants = {  # name: (Snakefile text or None for hetstack's own, what it is)
        "bare": (bare_snakefile, "bare Snakefile, same DAG, shell: touch (the issue's baseline)"),
        "script": (script_snakefile, "the same with script: instead of shell:"),
        "directives": (with_directives(bare_snakefile),
                       "the same with hetstack's directives as constants (log, benchmark, conda, threads, "
                       "resources, params, script)"),
        "hetstack": (None, "hetstack's Snakefile"),
    }
    with tempfile.TemporaryDirectory(prefix="hetstack-plan-") as tmp:
        tmp = Path(tmp)
        base_cmd = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--quiet", "rules"]
        commands = {}
        for name, (text, _) in variants.items():
            folder = tmp / name
            folder.mkdir()
            if text is None:
                (folder / "plan.yaml").write_text(yaml.safe_dump({
                    "symbols": symbols, "horizons": horizons, "base_models": BASES, "meta_learner": [META],
                    "oof": {"n_folds": args.folds}, "data_dir": str(folder / "data"),
                }))
                commands[name] = [*base_cmd, "--snakefile", str(REPO / "Snakefile"), "--directory", str(folder),
                                  "--configfile", str(folder / "plan.yaml")]
            else:
                (folder / "Snakefile").write_text(text)
                (folder / "touch.py").write_text(TOUCH_PY)
                (folder / "env.yaml").write_text(ENV_YAML)
                commands[name] = [*base_cmd, "--snakefile", str(folder / "Snakefile"), "--directory", str(folder)]
        wall = {name: [] for name in variants}
        cpu = {name: [] for name in variants}
        jobs = {}
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                w, c, text = dry_run(cmd, tmp / name, tmp / f"{name}.log")
                wall[name].append(w)
                cpu[name].append(c)
                jobs[name] = total_jobs(text)
                print(f"{name:10s} dry run: {w:6.2f} s wall, {c:6.2f} s CPU, {jobs[name]} jobs", flush=True)
    if len(set(jobs.values())) != 1:
        sys.exit(f"the DAGs differ in size: {jobs}")
    # CPU time of the snakemake process is the headline: wall time also measures whatever else the
    # machine is doing. Both are the fastest of --repeat runs.
    best_cpu = {name: min(values) for name, values in cpu.items()}
    rows = [{"variant": name, "jobs": jobs[name], "wall_s": min(wall[name]), "cpu_s": best_cpu[name],
             "hetstack_cpu_ratio": best_cpu["hetstack"] / best_cpu[name], "what": what}
            for name, (_, what) in variants.items()]
    print_table(rows, ["variant", "jobs", "wall_s", "cpu_s", "hetstack_cpu_ratio", "what"],
                title=f"dry run of {jobs['hetstack']} jobs ({args.symbols} symbols x {len(horizons)} horizons x "
                      f"{len(BASES)} bases x {args.folds} folds)")
    ratio = best_cpu["hetstack"] / best_cpu["bare"]
    print(f"\nhetstack / bare: {ratio:.2f} (target <= 1.2: {'met' if ratio <= 1.2 else 'missed'})")
    write_result("plan_scale", {"args": vars(args), "rows": rows, "ratio_vs_bare": ratio})

if __name__ == "__main__":
    main()
