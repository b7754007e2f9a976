"""The `hetstack` command: train (through the repository's Snakemake workflow), predict, status.

    hetstack train --base-models catboost,tcn,patchtst --meta-learner ridge_meta --horizon 20 --symbol MES
    hetstack predict --run results/MES_h20 --bars new_bars.parquet --out signals.parquet
    hetstack status results/MES_h20

`train` builds one Snakemake command line (the repository's Snakefile, the report of the requested
run as target, the config overrides in a small YAML file given with `--configfile`) and runs it;
there is no second pipeline.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"


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


def run_dir(symbol: str, horizon: int, workdir: str | Path = ".") -> Path:
    return Path(workdir) / "results" / f"{symbol}_h{horizon}"


def train_targets(args) -> list[str]:
    run = f"results/{args.symbol}_h{args.horizon}"
    return [f"{run}/{args.meta_learner}_report.json", f"{run}/run_settings.json"]


def train_overrides(args) -> dict:
    """Config keys `hetstack train` sets over config/config.yaml (and --configfile)."""
    config = {"symbols": [args.symbol], "horizons": [args.horizon], "meta_learner": args.meta_learner}
    if args.base_models:
        config["base_models"] = args.base_models
    return config


def overrides_path(args) -> Path:
    """Where the overrides are written: Snakemake's --config would turn the horizon list into strings."""
    return Path(args.directory or ".") / ".hetstack" / f"train_{args.symbol}_h{args.horizon}.yaml"


def train_command(args) -> list[str]:
    """The snakemake command line `hetstack train` runs (the overrides file from `overrides_path`)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE)]
    if args.directory:
        cmd += ["--directory", str(args.directory)]
    overrides = overrides_path(args)
    if not overrides.is_absolute():
        overrides = Path.cwd() / overrides
    cmd += ["--configfile", *([str(args.configfile)] if args.configfile else []), str(overrides)]
    if args.profile:
        profile = Path(args.profile)
        if not profile.exists() and (REPO / "profiles" / args.profile).exists():
            profile = REPO / "profiles" / args.profile
        cmd += ["--profile", str(profile)]
    cmd += ["--cores", str(args.cores) if args.cores else "all"]
    if args.dry_run:
        cmd.append("--dry-run")
    cmd += list(args.snakemake_args or [])
    return cmd + train_targets(args)


def cmd_train(args) -> int:
    import yaml

    from hetstack.io import atomic_path

    cmd = train_command(args)
    with atomic_path(overrides_path(args)) as tmp:
        tmp.write_text(yaml.safe_dump(train_overrides(args), sort_keys=False))
    print(f"hetstack: config overrides {json.dumps(train_overrides(args))} in {overrides_path(args)}", flush=True)
    print("hetstack: " + shlex.join(cmd), flush=True)
    code = subprocess.call(cmd)
    report = run_dir(args.symbol, args.horizon, args.directory or ".") / f"{args.meta_learner}_report.json"
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
    from hetstack.predict import predict_bars

    try:
        bars = read_bars(args.bars)
        signals = predict_bars(args.run, bars, meta=args.meta, threads=args.threads, source=str(args.bars))
    except HetstackError as err:
        print(f"hetstack error: {err}", file=sys.stderr)
        return 1
    if str(args.out).endswith(".csv"):
        with atomic_path(args.out) as tmp:
            signals.to_csv(tmp, index=False)
    else:
        write_parquet(args.out, signals)
    dropped = len(bars) - len(signals)
    print(f"hetstack: {len(signals)} signals written to {args.out} ({dropped} bars without enough history dropped)")
    return 0


def cmd_status(args) -> int:
    from hetstack.status import format_status, run_status

    status = run_status(args.run)
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0 if status["exists"] else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hetstack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="build one symbol x horizon run with the Snakemake workflow")
    train.add_argument("--symbol", required=True)
    train.add_argument("--horizon", required=True, type=_positive)
    train.add_argument("--base-models", type=_names, default=None,
                       help="comma-separated bases, e.g. catboost,tcn,patchtst (default: the config's)")
    train.add_argument("--meta-learner", default="meta_ridge", help="e.g. ridge_meta (default meta_ridge)")
    train.add_argument("--cores", type=_positive, default=None, help="default: all")
    train.add_argument("--profile", default=None, help="a Snakemake profile: a folder, or a name under profiles/")
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
    predict.set_defaults(func=cmd_predict)

    status = sub.add_parser("status", help="which outputs of a run exist")
    status.add_argument("run", help="a run folder, e.g. results/MES_h20")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
