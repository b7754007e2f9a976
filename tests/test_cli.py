"""`hetstack` command line: translation to Snakemake, and status of a run folder."""

import json

import pytest

from hetstack import cli
from hetstack.status import format_status, run_status


def translate(*argv):
    return cli.train_command(cli.build_parser().parse_args(["train", *argv]))


def test_train_translates_to_the_repositorys_snakemake():
    args = cli.build_parser().parse_args(
        ["train", "--base-models", "catboost,tcn,patchtst", "--meta-learner", "ridge_meta", "--horizon", "20",
         "--symbol", "MES", "--cores", "4", "--dry-run", "--configfile", "my.yaml"])
    cmd = cli.train_command(args)
    assert cmd[1:5] == ["-m", "snakemake", "--snakefile", str(cli.SNAKEFILE)] and cli.SNAKEFILE.is_file()
    assert cmd[cmd.index("--cores") + 1] == "4" and "--dry-run" in cmd
    overrides = cli.overrides_path(args)
    assert cmd[cmd.index("--configfile") + 1:cmd.index("--configfile") + 3] == ["my.yaml", str(overrides.resolve())]
    assert cli.train_overrides(args) == {"symbols": ["MES"], "horizons": [20], "meta_learner": "ridge_meta",
                                         "base_models": ["catboost", "tcn", "patchtst"]}
    assert cmd[-2:] == ["results/MES_h20/ridge_meta_report.json", "results/MES_h20/run_settings.json"]


def test_train_defaults_and_profile():
    args = cli.build_parser().parse_args(["train", "--horizon", "5", "--symbol", "MGC", "--profile", "slurm"])
    cmd = cli.train_command(args)
    assert cmd[cmd.index("--cores") + 1] == "all" and "--dry-run" not in cmd
    assert "base_models" not in cli.train_overrides(args)  # the config's bases
    assert cmd[cmd.index("--profile") + 1].endswith("slurm")
    assert "results/MGC_h5/meta_ridge_report.json" in cmd


@pytest.mark.parametrize("argv", [["--horizon", "0", "--symbol", "MES"], ["--symbol", "MES"],
                                  ["--horizon", "5", "--symbol", "MES", "--base-models", ","]])
def test_train_refuses_bad_arguments(argv):
    with pytest.raises(SystemExit):
        translate(*argv)


def test_status_of_a_partial_run(tmp_path):
    run = tmp_path / "results/SYN_h5"
    (run / "oof/lgb").mkdir(parents=True)
    (run / "splits.json").write_text(json.dumps({"folds": [{}, {}, {}]}))
    (run / "run_settings.json").write_text(json.dumps({"base_models": ["lgb", "gru"]}))
    for k in (0, 2):
        (run / f"oof/lgb/fold{k}.parquet").write_bytes(b"x")
    (run / "oof/lgb/fold1.test.parquet").write_bytes(b"x")  # a fold's test predictions are not its OOF shard
    status = run_status(run)
    assert status["n_folds"] == 3
    assert status["bases"]["lgb"]["folds_done"] == [0, 2] and status["bases"]["lgb"]["folds_missing"] == [1]
    assert status["bases"]["gru"]["folds_missing"] == [0, 1, 2] and not status["matrix"] and not status["complete"]
    text = format_status(status)
    assert "OOF folds 2/3 (missing 1)" in text and "incomplete" in text
    assert run_status(tmp_path / "nope")["exists"] is False
    assert cli.main(["status", str(tmp_path / "nope")]) == 1
