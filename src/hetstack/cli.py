"""The `hetstack` command: train (through the repository's Snakemake workflow), predict, status, models.

    hetstack train --base-models catboost,tcn,patchtst --meta-learner ridge_meta --horizon 20 --symbol MES
    hetstack predict --run results/MES_h20 --bars new_bars.parquet --out signals.parquet
    hetstack status results/MES_h20
    hetstack runs
    hetstack diff results/MES_h20 other/results/MES_h20
    hetstack models

`train` builds one Snakemake command line (the workflow's Snakefile, the report of the requested
run as target, the config overrides in a small YAML file given with `--configfile`) and runs it;
there is no second pipeline. The workflow is the current folder's when it holds one (a clone, even
with another clone's hetstack installed), else the source checkout hetstack runs from, else the
copy a built package ships in hetstack/_workflow (setup.py).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from hetstack import paths

WORKFLOW_FILES = ("Snakefile", "rules", "workflow_scripts", "config", "envs", "profiles", "report")
SHIPPED = "_workflow"  # where setup.py copies WORKFLOW_FILES inside the package
# Files that make a folder a hetstack workflow (a Snakefile alone could be any workflow's).
WORKFLOW_MARKERS = ("Snakefile", "rules/common.smk", "rules/predict.smk", "config/config.schema.yaml",
                    "workflow_scripts/run_settings.py")

# What `hetstack models` prints as a model's input.
INPUT_SHAPES = {"tabular": "2D (N, F)", "sequence": "3D (N, T, F)", "multires": "4D (N, TF, T, 5)",
                "meta": "OOF matrix (N, n_bases*3)"}


def is_workflow(folder: Path) -> bool:
    return all((folder / name).is_file() for name in WORKFLOW_MARKERS)


def find_workflow() -> tuple[Path, str]:
    """The folder holding the Snakefile and where it was found: the current folder when it is a hetstack
    workflow (train in a clone runs that clone), else the source checkout this module lives in, else
    the package's copy."""
    from hetstack.errors import HetstackError

    cwd = Path.cwd().resolve()
    if is_workflow(cwd):
        return cwd, "the current folder's"
    here = Path(__file__).resolve().parent
    checkout = here.parents[1]
    if here.parent.name == "src" and (checkout / "Snakefile").is_file():
        return checkout, "the checkout hetstack is imported from"
    shipped = here / SHIPPED
    if (shipped / "Snakefile").is_file():
        return shipped, "the installed package's"
    raise HetstackError(shipped, "the workflow's Snakefile is missing (neither a source checkout nor a built package)",
                        "reinstall with `pip install .` or `pip install -e .` from a checkout")


def workflow_dir() -> Path:
    """The folder holding the Snakefile (`find_workflow`)."""
    return find_workflow()[0]


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("hetstack")
    except PackageNotFoundError:  # running from a checkout that was never installed
        import hetstack

        return getattr(hetstack, "__version__", "unknown")


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one name, comma-separated")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def merged_config(configfile: str | Path | None = None) -> dict:
    """config/config.yaml with `configfile` over it, merged the way Snakemake merges them."""
    import yaml
    from snakemake.utils import update_config

    from hetstack.errors import ConfigError

    config = {}
    for path in [workflow_dir() / "config" / "config.yaml", *([configfile] if configfile else [])]:
        try:
            update_config(config, yaml.safe_load(Path(path).read_text()) or {})
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(path, f"cannot read the config file ({type(err).__name__})",
                              "pass an existing YAML file with --configfile") from None
    return config


def train_meta(args) -> str:
    """--meta-learner, else the config's first meta-learner (like --base-models, it falls back)."""
    from hetstack import config as hcfg

    if args.meta_learner:
        return args.meta_learner
    return hcfg.meta_learners(merged_config(args.configfile))[0]


def train_targets(args) -> list[str]:
    run = paths.run_dir(args.symbol, args.horizon, workdir="")
    return [str(run / f"{train_meta(args)}{paths.REPORT_SUFFIX}"), str(run / paths.SETTINGS)]


def train_overrides(args) -> dict:
    """Config keys `hetstack train` sets over config/config.yaml (and --configfile)."""
    config = {"symbols": [args.symbol], "horizons": [args.horizon]}
    if args.meta_learner:
        config["meta_learner"] = args.meta_learner
    if args.base_models:
        config["base_models"] = args.base_models
    return config


def overrides_path(args) -> Path:
    """Where the overrides are written: Snakemake's --config would turn the horizon list into strings."""
    return Path(args.directory or ".") / ".hetstack" / f"train_{args.symbol}_h{args.horizon}.yaml"


def train_command(args) -> list[str]:
    """The snakemake command line `hetstack train` runs (the overrides file from `overrides_path`)."""
    workflow = workflow_dir()
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(workflow / "Snakefile")]
    if args.directory:
        cmd += ["--directory", str(args.directory)]
    overrides = overrides_path(args)
    if not overrides.is_absolute():
        overrides = Path.cwd() / overrides
    cmd += ["--configfile", *([str(args.configfile)] if args.configfile else []), str(overrides)]
    if args.profile:
        profile = Path(args.profile)
        if not profile.exists() and (workflow / "profiles" / args.profile).exists():
            profile = workflow / "profiles" / args.profile
        # A workflow profile replaces profiles/default; a --profile would be overridden by it key by key.
        cmd += ["--workflow-profile", str(profile)]
    cmd += ["--cores", str(args.cores) if args.cores else "all"]
    if args.dry_run:
        cmd.append("--dry-run")
    cmd += list(args.snakemake_args or [])
    return cmd + train_targets(args)


def cmd_train(args) -> int:
    import yaml

    from hetstack.errors import HetstackError
    from hetstack.io import atomic_path

    try:
        workflow, found = find_workflow()
        cmd = train_command(args)
        meta = train_meta(args)
    except HetstackError as err:
        print(f"hetstack error: {err}", file=sys.stderr)
        return 1
    print(f"hetstack: workflow {workflow} ({found})", flush=True)
    with atomic_path(overrides_path(args)) as tmp:
        tmp.write_text(yaml.safe_dump(train_overrides(args), sort_keys=False))
    print(f"hetstack: config overrides {json.dumps(train_overrides(args))} in {overrides_path(args)}", flush=True)
    print("hetstack: " + shlex.join(cmd), flush=True)
    code = subprocess.call(cmd)
    report = paths.run_dir(args.symbol, args.horizon, args.directory or ".") / f"{meta}{paths.REPORT_SUFFIX}"
    if code != 0:
        print(f"hetstack: snakemake failed (exit {code}); see its output and logs/ above", file=sys.stderr)
    elif args.dry_run:
        print(f"hetstack: dry run; the report would be {report}")
    else:
        print(f"hetstack: report at {report}")
    return code


def cmd_predict(args) -> int:
    from hetstack.data import read_bars
    from hetstack.errors import HetstackError
    from hetstack.io import atomic_path, write_parquet
    from hetstack.predict import predict_bars, read_run_settings, symbol_of_bars_file

    try:
        settings = read_run_settings(args.run)
        trained = settings["symbol"]
        # a generic file name (new_bars.parquet) names no symbol: then the symbol is not checked
        symbol = args.symbol or symbol_of_bars_file(args.bars, args.run, settings)
        bars = read_bars(args.bars)
        signals = predict_bars(args.run, bars, meta=args.meta, threads=args.threads, source=str(args.bars),
                               symbol=symbol, allow_other_symbol=args.allow_other_symbol)
    except HetstackError as err:
        print(f"hetstack error: {err}", file=sys.stderr)
        return 1
    note = signals.attrs.pop("sample_id_note", "")
    if str(args.out).endswith(".csv"):
        with atomic_path(args.out) as tmp:
            signals.to_csv(tmp, index=False)
    else:
        write_parquet(args.out, signals)
    dropped = len(bars) - len(signals)
    if symbol is None:
        checked = f"symbol not checked: pass --symbol {trained} to check it"
    else:
        checked = f"symbol {symbol} checked" + ("" if symbol == trained else f" (not the run's {trained}: allowed)")
    print(f"hetstack: {len(signals)} signals written to {args.out} ({dropped} bars without enough history dropped); "
          f"{checked}")
    print(f"hetstack: {int(signals['sample_id'].notna().sum())} of them are the run's bars ({note}), "
          f"{int(signals['in_sample'].sum())} inside its training period (in_sample)")
    return 0


def cmd_status(args) -> int:
    from hetstack.errors import HetstackError
    from hetstack.status import format_status, run_status

    try:
        status = run_status(args.run)
    except HetstackError as err:
        print(f"hetstack error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0 if status["exists"] else 1


def model_rows(kind: str = "all") -> list[dict]:
    """The registry as rows: name, kind (base or meta), family, input shape, aliases."""
    from hetstack.catalogue import aliases, available, get_spec

    rows = []
    for which in (["base", "meta"] if kind == "all" else [kind]):
        alias_of = {}
        for alias, target in aliases(which).items():
            alias_of.setdefault(target, []).append(alias)
        for name in available(which):
            spec = get_spec(name)
            rows.append({"name": name, "kind": which, "family": spec.family,
                         "input": INPUT_SHAPES.get(spec.input_kind, spec.input_kind),
                         "aliases": alias_of.get(name, [])})
    return rows


def cmd_models(args) -> int:
    rows = model_rows(args.kind)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':<16} {'kind':<5} {'family':<12} input")
    for row in rows:
        also = f"  (alias {', '.join(row['aliases'])})" if row["aliases"] else ""
        print(f"{row['name']:<16} {row['kind']:<5} {row['family']:<12} {row['input']}{also}")
    return 0


def cmd_runs(args) -> int:
    from hetstack.runs import find_runs, format_table, run_row

    rows = [run_row(run) for run in find_runs(args.root)]
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


def cmd_diff(args) -> int:
    from hetstack.errors import HetstackError
    from hetstack.runs import diff_runs, format_diff

    try:
        diff = diff_runs(args.run_a, args.run_b)
    except HetstackError as err:
        print(f"hetstack error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(diff, indent=2) if args.json else format_diff(diff))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hetstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"hetstack {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="build one symbol x horizon run with the Snakemake workflow")
    train.add_argument("--symbol", required=True)
    train.add_argument("--horizon", required=True, type=_positive)
    train.add_argument("--base-models", type=_names, default=None,
                       help="comma-separated bases, e.g. catboost,tcn,patchtst (default: the config's)")
    train.add_argument("--meta-learner", default=None, help="e.g. ridge_meta (default: the config's first)")
    train.add_argument("--cores", type=_positive, default=None, help="default: all")
    train.add_argument("--profile", default=None,
                       help="a workflow profile (replaces profiles/default): a folder, or a name under profiles/")
    train.add_argument("--configfile", default=None, help="a config file over config/config.yaml")
    train.add_argument("--directory", default=None, help="working directory of results/, logs/ (default: here)")
    train.add_argument("--dry-run", action="store_true", help="plan the jobs without running them")
    train.add_argument("snakemake_args", nargs="*", help="after --: passed on to snakemake")
    train.set_defaults(func=cmd_train)

    predict = sub.add_parser("predict", help="score new bars with a finished run's models")
    predict.add_argument("--run", required=True, help="a run folder, e.g. results/MES_h20")
    predict.add_argument("--bars", required=True, help="bars (.parquet or .csv), with the lookback's history first")
    predict.add_argument("--out", required=True, help="signals file (.parquet or .csv)")
    predict.add_argument("--meta", default=None, help="meta-learner (default: the run's first)")
    predict.add_argument("--threads", type=_positive, default=1)
    predict.add_argument("--symbol", default=None,
                         help="symbol of the bars, checked against the run's (default: the one the path names, "
                              "e.g. results/MES/bars.parquet or MES.csv; a generic name is not checked)")
    predict.add_argument("--allow-other-symbol", action="store_true",
                         help="score bars of a symbol other than the run's")
    predict.set_defaults(func=cmd_predict)

    status = sub.add_parser("status", help="which outputs of a run exist")
    status.add_argument("run", help="a run folder, e.g. results/MES_h20")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    runs = sub.add_parser("runs", help="every run folder with a manifest: settings, best scores, commit")
    runs.add_argument("root", nargs="?", default=paths.RESULTS, help="a results folder or a working directory")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)

    diff = sub.add_parser("diff", help="what changed between two runs: settings, code, packages, inputs, scores")
    diff.add_argument("run_a", help="a run folder, e.g. results/MES_h20")
    diff.add_argument("run_b")
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(func=cmd_diff)

    models = sub.add_parser("models", help="the model registry: name, family, input shape")
    models.add_argument("--kind", choices=("all", "base", "meta"), default="all")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
