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


@pytest.mark.parametrize("bars, extra, symbol, other, said", [
    ("new/MES.parquet", [], "MES", False, "symbol MES checked"),
    ("new/MES.parquet", ["--symbol", "MGC", "--allow-other-symbol"], "MGC", True, "not the run's MES: allowed"),
    # the README's example: a generic name names no symbol, so it is not refused as symbol 'new_bars'
    ("new_bars.parquet", [], None, False, "symbol not checked: pass --symbol MES to check it"),
    ("results/MES/bars.parquet", [], "MES", False, "symbol MES checked")])
def test_predict_passes_symbol_flags(tmp_path, monkeypatch, capsys, bars, extra, symbol, other, said):
    import pandas as pd

    import hetstack.data
    import hetstack.predict

    seen = {}

    def fake_predict(run_dir, bars, meta=None, **kwargs):
        seen.update(kwargs)
        frame = pd.DataFrame({"sample_id": pd.array([7], dtype="Int64"), "in_sample": [False]})
        frame.attrs["sample_id_note"] = "matched"
        return frame

    monkeypatch.setattr(hetstack.data, "read_bars", lambda path: pd.DataFrame({"close": [1.0, 2.0]}))
    monkeypatch.setattr(hetstack.predict, "predict_bars", fake_predict)
    monkeypatch.setattr(hetstack.predict, "read_run_settings", lambda run: {"symbol": "MES", "symbols": ["MES"]})
    out = tmp_path / "signals.csv"
    assert cli.main(["predict", "--run", str(tmp_path / "results/MES_h20"), "--bars", bars, "--out", str(out),
                     *extra]) == 0
    assert seen["symbol"] == symbol and seen["allow_other_symbol"] is other and out.is_file()
    printed = capsys.readouterr().out.splitlines()
    assert said in printed[0] and "1 of them are the run's bars (matched), 0 inside" in printed[1]


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


def finished_run(run: Path, *, settings=True, manifest=True) -> Path:
    (run / "oof/lgb").mkdir(parents=True)
    (run / "test").mkdir()
    (run / "splits.json").write_text(json.dumps({"folds": [{}]}))
    for name in ["oof/lgb/fold0.parquet", "test/lgb.parquet", "meta_matrix.parquet", "meta_ridge_report.json",
                 *(["run_settings.json"] if settings else []), *(["manifest.json"] if manifest else [])]:
        (run / name).write_text("{}")
    return run


def test_a_run_without_its_settings_or_manifest_is_not_complete(tmp_path, capsys):
    assert run_status(finished_run(tmp_path / "a/results/SYN_h5"))["complete"]
    for settings, manifest, missing in [(False, True, "run_settings.json"), (True, False, "manifest.json")]:
        status = run_status(finished_run(tmp_path / f"{missing}/results/SYN_h5", settings=settings, manifest=manifest))
        assert not status["complete"] and status["missing"] == [missing]
        assert f"incomplete (missing: {missing})" in format_status(status)


def test_status_of_a_symbol_folder_names_the_run_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results/MES").mkdir(parents=True)
    (tmp_path / "results/MES/bars.parquet").write_bytes(b"x")
    assert cli.main(["status", "results/MES"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("hetstack error: results/MES: a symbol folder (bars, features), not a run folder; fix: pass a run "
                   "folder results/MES_h{horizon} (none built yet: `hetstack train --symbol MES --horizon H`)")
    for run in ("results/MES_h20", "results/MES_h20_rep1", "results/MES_h5", "results/MGC_h20"):
        (tmp_path / run).mkdir()
    assert cli.main(["status", "results/MES/"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(
        "fix: pass a run folder: results/MES_h20, results/MES_h20_rep1, results/MES_h5")
    assert cli.main(["status", "results"]) == 1  # the results folder itself
    assert capsys.readouterr().err.strip().endswith("results: not a run folder; fix: pass a run folder: results/MES_h20, "
                                                    "results/MES_h20_rep1, results/MES_h5, results/MGC_h20")
    for run in ("results/MES_h20", "results/MES_h20_rep1"):  # a seed replicate is a run folder too
        assert cli.main(["status", run]) == 0 and "incomplete" in capsys.readouterr().out


def test_train_runs_the_current_folders_workflow(tmp_path, monkeypatch, capsys):
    """In another clone, `hetstack train` runs that clone's Snakefile, not the imported package's."""
    import shutil
    import subprocess

    clone = tmp_path / "clone"
    for name in cli.WORKFLOW_MARKERS + ("config/config.yaml",):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cli.workflow_dir() / name, clone / name)
    monkeypatch.chdir(clone)
    assert cli.workflow_dir() == clone.resolve()
    cmd = translate("--horizon", "5", "--symbol", "MES")
    assert cmd[cmd.index("--snakefile") + 1] == str(clone.resolve() / "Snakefile")
    ran = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: ran.append(cmd) or 0)
    assert cli.main(["train", "--horizon", "5", "--symbol", "MES", "--dry-run"]) == 0
    assert f"hetstack: workflow {clone.resolve()} (the current folder's)" in capsys.readouterr().out
    assert ran[0][ran[0].index("--snakefile") + 1] == str(clone.resolve() / "Snakefile")
    # a folder with some other Snakefile is not taken for hetstack's workflow
    other = tmp_path / "other"
    other.mkdir()
    (other / "Snakefile").write_text("rule all:\n")
    monkeypatch.chdir(other)
    assert cli.workflow_dir() != other.resolve() and (cli.workflow_dir() / "rules/common.smk").is_file()


def readme_models_table() -> dict[str, str]:
    """model name -> family, from the README's Models table (backquoted names of the models column)."""
    import re

    section = (Path(__file__).resolve().parents[1] / "README.md").read_text().split("## Models", 1)[1]
    rows = [line for line in section.split("\n\n", 2)[1].splitlines() if line.startswith("|")]
    assert [c.strip() for c in rows[0].strip("|").split("|")] == ["family", "models", "input"]
    table = {}
    for row in rows[2:]:
        family, models, _ = (c.strip() for c in row.strip("|").split("|"))
        table.update({name: family for name in re.findall(r"`([a-z0-9_]+)`", models)})
    return table


def test_readme_models_table_says_the_registrys_families():
    from hetstack.catalogue import available, canonical_name, get_spec

    table = readme_models_table()
    assert {canonical_name(name) for name in table} == set(available("base")) | set(available("meta"))
    wrong = {name: (family, get_spec(name).family) for name, family in table.items()
             if family != get_spec(name).family}
    assert not wrong, f"README family != registry family: {wrong}"
