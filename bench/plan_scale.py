#!/usr/bin/env python
"""Planning at scale: time `snakemake --dry-run` of the real workflow on ~8,700 jobs against a bare
Snakefile with the same DAG shape (rules that only touch files) and print both and their ratio.

    python bench/plan_scale.py [--symbols 100] [--horizons 3] [--bases 4] [--folds 5] [--repeat 2] [--growth 25 50]

--bases 16 plans 100 x 3 x 16 x 5 = 24,000 fold jobs; --growth also plans bare and hetstack at those
symbol counts and fits how CPU time and peak memory grow with the job count.

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
from common import fit_exponent, print_table, write_result

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


def dry_run(cmd: list[str], cwd: Path, log: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds of the snakemake process, its peak RSS in MiB, its output)."""
    import psutil  # a dependency of snakemake

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    peak = 0
    with open(log, "w") as out:
        process = psutil.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None:
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.05)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log.read_text()
    if process.returncode != 0:
        sys.exit(f"dry run failed ({' '.join(cmd)}):\n{text[-4000:]}")
    return elapsed, cpu, peak / 2**20, text


def total_jobs(text: str) -> int:
    for line in text[text.index("Job stats:"):].splitlines():
        if line.startswith("total"):
            return int(line.split()[1])
    raise ValueError("no job stats in the dry run's output")


def fold_jobs(text: str) -> int:
    for line in text[text.index("Job stats:"):].splitlines():
        if line.split()[:1] == ["oof_fold"]:
            return int(line.split()[1])
    return 0


def choose_bases(n: int) -> list[str]:
    """The default four first (one per family and input shape), then the other registered bases."""
    sys.path.insert(0, str(REPO / "src"))
    from hetstack.catalogue import available

    others = [b for b in available("base") if b not in BASES]
    if not 1 <= n <= len(BASES) + len(others):
        sys.exit(f"--bases must be in 1..{len(BASES) + len(others)}")
    return (BASES + others)[:n]


def multires_bases(bases: list[str]) -> list[str]:
    from hetstack.catalogue import get_spec

    return [b for b in bases if get_spec(b).input_kind == "multires"]


def plan(n_symbols: int, n_horizons: int, bases: list[str], folds: int, repeat: int, names: list[str]) -> dict:
    """Dry runs of the chosen variants at one size: {variant: {jobs, fold_jobs, wall_s, cpu_s, peak_mib}}."""
    symbols = [f"S{i:03d}" for i in range(n_symbols)]
    horizons = [5, 20, 60][:n_horizons] if n_horizons <= 3 else list(range(5, 5 + 5 * n_horizons, 5))
    bare_snakefile = BARE.format(symbols=symbols, horizons=horizons, bases=bases, folds=folds,
                                 multires=multires_bases(bases), meta=META)
    script_snakefile = (bare_snakefile.replace('shell: "touch {output}"', 'script: "touch.py"')
                        .replace('shell: "mkdir -p {output}"', 'script: "touch.py"'))
    texts = {"bare": bare_snakefile, "script": script_snakefile, "directives": with_directives(bare_snakefile),
             "hetstack": None}
    results = {}
    with tempfile.TemporaryDirectory(prefix="hetstack-plan-") as tmp:
        tmp = Path(tmp)
        base_cmd = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--quiet", "rules"]
        commands = {}
        for name in names:
            folder = tmp / name
            folder.mkdir()
            if texts[name] is None:
                (folder / "plan.yaml").write_text(yaml.safe_dump({
                    "symbols": symbols, "horizons": horizons, "base_models": bases, "meta_learner": [META],
                    "oof": {"n_folds": folds}, "data_dir": str(folder / "data"),
                }))
                commands[name] = [*base_cmd, "--snakefile", str(REPO / "Snakefile"), "--directory", str(folder),
                                  "--configfile", str(folder / "plan.yaml")]
            else:
                (folder / "Snakefile").write_text(texts[name])
                (folder / "touch.py").write_text(TOUCH_PY)
                (folder / "env.yaml").write_text(ENV_YAML)
                commands[name] = [*base_cmd, "--snakefile", str(folder / "Snakefile"), "--directory", str(folder)]
        for _ in range(repeat):
            for name, cmd in commands.items():
                w, c, m, text = dry_run(cmd, tmp / name, tmp / f"{name}.log")
                row = results.setdefault(name, {"jobs": total_jobs(text), "fold_jobs": fold_jobs(text),
                                                "wall_s": w, "cpu_s": c, "peak_mib": m})
                row.update(wall_s=min(row["wall_s"], w), cpu_s=min(row["cpu_s"], c), peak_mib=min(row["peak_mib"], m))
                print(f"{name:10s} dry run: {w:6.2f} s wall, {c:6.2f} s CPU, {m:6.0f} MiB, {row['jobs']} jobs",
                      flush=True)
    if len({r["jobs"] for r in results.values()}) != 1:
        sys.exit(f"the DAGs differ in size: { {n: r['jobs'] for n, r in results.items()} }")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--horizons", type=int, default=3)
    ap.add_argument("--bases", type=int, default=len(BASES), help="how many registered bases (16: 24,000 fold jobs)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    ap.add_argument("--growth", type=int, nargs="*", default=[],
                    help="also plan bare and hetstack at these symbol counts and fit time/memory exponents")
    args = ap.parse_args()
    bases = choose_bases(args.bases)
    variants = {
        "bare": "bare Snakefile, same DAG, shell: touch (the issue's baseline)",
        "script": "the same with script: instead of shell:",
        "directives": "the same with hetstack's directives as constants (log, benchmark, conda, threads, "
                      "resources, params, script)",
        "hetstack": "hetstack's Snakefile",
    }
    results = plan(args.symbols, args.horizons, bases, args.folds, args.repeat, list(variants))
    # CPU time of the snakemake process is the headline: wall time also measures whatever else the
    # machine is doing. Both are the fastest of --repeat runs.
    rows = [{"variant": name, **results[name], "hetstack_cpu_ratio": results["hetstack"]["cpu_s"] / results[name]["cpu_s"],
             "what": what} for name, what in variants.items()]
    print_table(rows, ["variant", "jobs", "fold_jobs", "wall_s", "cpu_s", "peak_mib", "hetstack_cpu_ratio", "what"],
                title=f"dry run of {results['hetstack']['jobs']} jobs ({args.symbols} symbols x {args.horizons} "
                      f"horizons x {len(bases)} bases x {args.folds} folds)")
    ratio = results["hetstack"]["cpu_s"] / results["bare"]["cpu_s"]
    print(f"\nhetstack / bare: {ratio:.2f} (target <= 1.2: {'met' if ratio <= 1.2 else 'missed'})")
    growth = []
    for n in sorted(set(args.growth) | ({args.symbols} if args.growth else set())):
        at = results if n == args.symbols else plan(n, args.horizons, bases, args.folds, args.repeat, ["bare", "hetstack"])
        growth += [{"symbols": n, "variant": v, **at[v]} for v in ("bare", "hetstack")]
    exponents = {}
    if growth:
        for v in ("bare", "hetstack"):
            part = [g for g in growth if g["variant"] == v]
            exponents[v] = {k: fit_exponent([g["jobs"] for g in part], [g[k] for g in part])
                            for k in ("cpu_s", "peak_mib")}
        print_table(growth, ["symbols", "variant", "jobs", "fold_jobs", "wall_s", "cpu_s", "peak_mib"],
                    title="growth with the job count")
        print("exponents (value ~ jobs^b):", exponents)
    write_result("plan_scale", {"args": vars(args), "bases": bases, "rows": rows, "ratio_vs_bare": ratio,
                                "growth": growth, "exponents": exponents})


if __name__ == "__main__":
    main()
