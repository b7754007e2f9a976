"""`hetstack` command line: translation to Snakemake, and status of a run folder."""

import json
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from hetstack import cli
from hetstack.status import format_status, run_status


def translate(*argv):
    return cli.train_command(cli.build_parser().parse_args(["train", *argv]))


def test_train_translates_to_the_repositorys_snakemake():
    args = cli.build_parser().parse_args(
        ["train", "--base-models", "catboost,tcn,patchtst", "--meta-learner", "ridge_meta", "--horizon", "20",
         "--symbol", "MES", "--cores", "4", "--dry-run", "--configfile", "my.yaml"])
    cmd = cli.train_command(args)
    snakefile = cli.workflow_dir() / "Snakefile"
    assert cmd[1:5] == ["-m", "snakemake", "--snakefile", str(snakefile)] and snakefile.is_file()
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
    # a workflow profile: a --profile would be overridden key by key by the implicit profiles/default
    assert "--profile" not in cmd
    assert cmd[cmd.index("--workflow-profile") + 1] == str(cli.workflow_dir() / "profiles/slurm")
    first_meta = yaml.safe_load((cli.workflow_dir() / "config/config.yaml").read_text())["meta_learner"]
    first_meta = first_meta if isinstance(first_meta, str) else first_meta[0]
    assert f"results/MGC_h5/{first_meta}_report.json" in cmd


def test_meta_learner_falls_back_to_the_config_like_base_models(tmp_path):
    configfile = tmp_path / "mine.yaml"
    configfile.write_text(yaml.safe_dump({"meta_learner": ["logistic_meta", "meta_ridge"]}))
    argv = ["train", "--horizon", "5", "--symbol", "MGC", "--configfile", str(configfile)]
    args = cli.build_parser().parse_args(argv)
    assert "meta_learner" not in cli.train_overrides(args) and "base_models" not in cli.train_overrides(args)
    assert cli.train_command(args)[-2:] == ["results/MGC_h5/logistic_meta_report.json",
                                            "results/MGC_h5/run_settings.json"]
    given = cli.build_parser().parse_args([*argv, "--meta-learner", "meta_caruana"])
    assert cli.train_overrides(given)["meta_learner"] == "meta_caruana"
    assert "results/MGC_h5/meta_caruana_report.json" in cli.train_command(given)


def test_train_with_an_unknown_meta_in_the_config_says_so_in_one_line(tmp_path, capsys):
    configfile = tmp_path / "mine.yaml"
    configfile.write_text(yaml.safe_dump({"meta_learner": "meta_nope"}))
    code = cli.main(["train", "--horizon", "5", "--symbol", "MGC", "--configfile", str(configfile), "--dry-run",
                     "--directory", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "meta_learner" in err and "meta_nope" in err
    missing = cli.main(["train", "--horizon", "5", "--symbol", "MGC", "--configfile", str(tmp_path / "no.yaml")])
    assert missing == 1 and "no.yaml" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"hetstack {version('hetstack')}"


def test_models_lists_the_registry(capsys):
    assert cli.main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["catboost"] == {"name": "catboost", "kind": "base", "family": "boosting", "input": "2D (N, F)",
                                "aliases": []}
    assert rows["tcn"]["input"] == "3D (N, T, F)" and rows["patchtst"]["input"] == "4D (N, TF, T, 5)"
    assert rows["meta_ridge"]["kind"] == "meta" and "ridge_meta" in rows["meta_ridge"]["aliases"]
    assert rows["meta_ridge"]["input"].startswith("OOF matrix")
    assert cli.main(["models"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "kind", "family", "input"] and len(table) == len(rows) + 1
    assert any(line.split()[:3] == ["lstm", "base", "neural"] for line in table)


@pytest.mark.parametrize("extra, symbol, other", [([], "MES", False), (["--symbol", "MGC", "--allow-other-symbol"],
                                                                      "MGC", True)])
def test_predict_passes_symbol_flags(tmp_path, monkeypatch, extra, symbol, other):
    import pandas as pd

    import hetstack.data
    import hetstack.predict

    seen = {}

    def fake_predict(run_dir, bars, meta=None, **kwargs):
        seen.update(kwargs)
        return pd.DataFrame({"sample_id": [0]})

    monkeypatch.setattr(hetstack.data, "read_bars", lambda path: pd.DataFrame({"close": [1.0, 2.0]}))
    monkeypatch.setattr(hetstack.predict, "predict_bars", fake_predict)
    out = tmp_path / "signals.csv"
    assert cli.main(["predict", "--run", str(tmp_path), "--bars", str(Path("new") / "MES.parquet"), "--out", str(out),
                     *extra]) == 0
    assert seen["symbol"] == symbol and seen["allow_other_symbol"] is other and out.is_file()


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
