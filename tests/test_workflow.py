"""Integration: the real `snakemake` command on a tiny config in a temporary directory."""

import json

import numpy as np
import pandas as pd
import pytest
from snakemake_cmd import planned_jobs, tiny_config, write_config

pytestmark = pytest.mark.integration

TINY = tiny_config()



@pytest.fixture(scope="module")
def workdir(tmp_path_factory, snakemake_run):
    path = tmp_path_factory.mktemp("run")
    write_config(path, TINY)
    snakemake_run(path)  # rule all: every report of the config
    snakemake_run(path, "results/SYN_h5/meta_comparison.json")  # every meta-learner on the same shards
    return path


def test_report_has_every_field_with_real_values(workdir):
    report = json.loads((workdir / "results/SYN_h5/meta_ridge_report.json").read_text())
    assert report["meta_learner_type"] == "ridge"
    assert report["base_models"] == ["lightgbm", "ridge"]
    for base in ("lightgbm", "ridge"):
        perf = report["base_model_performance"][base]
        for key in ("val_acc", "test_acc", "val_log_loss", "test_log_loss", "oof_acc"):
            assert 0.0 < perf[key] < 5.0
        for key in ("val_skill", "test_skill", "oof_skill"):  # log loss gained over the train class prior
            assert -1.0 < perf[key] < 1.0
        assert perf["in_meta"] == (base in report["meta_inputs"])
        assert (perf["oof_skill"] <= 0) == (base in report["bases_without_oof_skill"])
    assert set(report["meta_learner_weights"]) == set(report["meta_inputs"])
    assert all(len(w) == 3 for w in report["meta_learner_weights"].values())
    perf = report["performance"]
    assert -1.0 < perf["val_skill"] < 1.0 and -1.0 < perf["test_skill"] < 1.0
    for key in ("val_accuracy", "test_accuracy", "improvement_over_best_base", "sharpe_ratio", "max_drawdown",
                "test_log_loss"):
        assert isinstance(perf[key], float)
    assert perf["max_drawdown"] <= 0.0
    # the best base is chosen on train rows alone: the lowest OOF log loss, never a test score
    bases = report["base_model_performance"]
    best = min(bases, key=lambda b: bases[b]["oof_log_loss"])
    assert perf["best_base"] == best and "best_base_by_val" not in perf
    assert perf["improvement_over_best_base"] == pytest.approx(perf["test_accuracy"] - bases[best]["test_acc"])
    assert perf["log_loss_improvement_over_best_base"] == pytest.approx(
        bases[best]["test_log_loss"] - perf["test_log_loss"])
    assert report["samples"]["n_train"] > 1000 and report["samples"]["n_test"] > 500
    assert len(report["config_digest"]) == 16


def test_meta_and_bases_are_scored_on_the_same_test_rows(workdir):
    run = workdir / "results/SYN_h5"
    meta_rows = pd.read_parquet(run / "predictions/meta_ridge_test.parquet")["sample_id"].to_numpy()
    labels = pd.read_parquet(run / "labels.parquet")
    np.testing.assert_array_equal(meta_rows, labels.loc[labels["split"] == "test", "sample_id"].to_numpy())
    for base in ("lightgbm", "ridge"):
        np.testing.assert_array_equal(pd.read_parquet(run / f"test/{base}.parquet")["sample_id"].to_numpy(), meta_rows)


def test_meta_matrix_covers_every_train_sample_once(workdir):
    run = workdir / "results/SYN_h5"
    matrix = pd.read_parquet(run / "meta_matrix.parquet")
    labels = pd.read_parquet(run / "labels.parquet")
    train = labels.loc[labels["split"] == "train", "sample_id"].to_numpy()
    np.testing.assert_array_equal(matrix["sample_id"].to_numpy(), train)
    assert matrix.filter(like="__prob").shape[1] == 6
    np.testing.assert_allclose(matrix[["ridge__prob_-1", "ridge__prob_0", "ridge__prob_+1"]].sum(axis=1), 1.0)


def test_alias_report_reuses_the_canonical_meta_model(workdir):
    run = workdir / "results/SYN_h5"
    report = json.loads((run / "logistic_meta_report.json").read_text())
    assert report["meta_learner"] == "logistic_meta" and report["meta_learner_type"] == "logistic"
    assert (run / "models/meta/meta_logistic/model.json").exists()
    assert not (run / "models/meta/logistic_meta").exists()


def test_second_run_has_nothing_to_do(workdir, snakemake_run):
    assert planned_jobs(snakemake_run(workdir, "-n")) == {}
    assert planned_jobs(snakemake_run(workdir, "-n", "results/SYN_h5/meta_ridge_report.json")) == {}


def test_deleting_one_shard_reruns_only_that_shard_and_its_dependents(workdir, snakemake_run):
    run = workdir / "results/SYN_h5"
    kept = {p: p.stat().st_mtime_ns for p in (run / "oof").rglob("*.parquet") if p.name != "fold1.parquet"}
    (run / "oof/ridge/fold1.parquet").unlink()
    # two meta-learners in the tiny config: each is refitted and reported again, the run's settings
    # for live prediction follow their models, and its manifest records the new reports
    assert planned_jobs(snakemake_run(workdir, "-n")) == {"oof_fold": 1, "merge_oof": 1, "fit_meta": 2, "report": 2,
                                                      "run_settings": 1, "manifest": 1, "all": 1}
    snakemake_run(workdir)
    assert planned_jobs(snakemake_run(workdir, "-n")) == {}
    assert (run / "oof/ridge/fold1.parquet").exists()
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items() if p.parent.name == "lightgbm")


def test_every_rule_wrote_its_log(workdir):
    logs = {p.parts[len((workdir / "logs").parts)] for p in (workdir / "logs").rglob("*.log")}
    assert {"bars", "features", "labels", "oof_fold", "merge_oof", "fit_meta", "retrain_base", "report"} <= logs
    assert "OOF accuracy" in (workdir / "logs/oof_fold/SYN_h5/ridge/fold0.log").read_text()


def test_user_bars_are_used_and_bad_bars_fail_with_one_line(tmp_path, snakemake_run):
    from hetstack.synthetic import generate_market

    write_config(tmp_path, {**TINY, "symbols": ["USR"]})
    (tmp_path / "data").mkdir()
    bars = generate_market("other", 3000, seed=5)
    bars.loc[10, "high"] = bars.loc[10, "low"] * 0.5
    bars.to_csv(tmp_path / "data/USR.csv", index=False)
    result = snakemake_run(tmp_path, "results/USR/bars.parquet", check=False)
    assert result.returncode != 0
    assert "data/USR.csv" in result.stderr and "high" in result.stderr
    assert not (tmp_path / "results/USR/bars.parquet").exists()
    bars.loc[10, "high"] = bars.loc[10, ["open", "close"]].max() * 1.0001
    bars.to_csv(tmp_path / "data/USR.csv", index=False)
    snakemake_run(tmp_path, "results/USR/bars.parquet")
    written = pd.read_parquet(tmp_path / "results/USR/bars.parquet")
    np.testing.assert_allclose(written["close"].to_numpy(), bars["close"].to_numpy())


def test_too_few_bars_stop_with_a_clear_line(tmp_path, snakemake_run):
    write_config(tmp_path, {**TINY, "synthetic": {"n_bars": 1000},
                                                          "oof": {**TINY["oof"], "embargo_bars": 300}})
    result = snakemake_run(tmp_path, "results/SYN_h5/labels.parquet", check=False)
    assert result.returncode != 0
    assert "too few" in result.stderr and "synthetic.n_bars" in result.stderr
    assert not (tmp_path / "results/SYN_h5/labels.parquet").exists()


def test_bad_config_is_refused_before_any_job(tmp_path, snakemake_run):
    write_config(tmp_path, {**TINY, "base_models": ["catboost", "nope"]})
    result = snakemake_run(tmp_path, "-n", check=False)
    assert result.returncode != 0
    assert "unknown model 'nope'" in result.stderr + result.stdout


def test_every_meta_learner_reports_on_the_same_shards(workdir):
    from hetstack.catalogue import available

    run = workdir / "results/SYN_h5"
    comparison = json.loads((run / "meta_comparison.json").read_text())
    assert set(comparison["meta_learners"]) == set(available("meta"))
    for name, row in comparison["meta_learners"].items():
        assert 0.2 < row["test_accuracy"] < 1.0 and row["test_log_loss"] > 0, name
        assert row["weights_method"], name
        report = json.loads((run / f"{name}_report.json").read_text())
        weights = report["meta_learner_weights"]
        assert set(weights) == set(report["meta_inputs"]) <= {"lightgbm", "ridge"}, name
        assert all(len(w) == 3 for w in weights.values())
    # one set of OOF shards served them all
    assert len(list((run / "oof").rglob("fold*.parquet"))) == 2 * 3 * 2


def test_blending_fits_the_meta_on_a_purged_hold_out_of_train(tmp_path, snakemake_run):
    config = {**TINY, "oof": {**TINY["oof"], "mode": "blending", "blend_fraction": 0.25}, "meta_learner": "meta_ridge"}
    write_config(tmp_path, config)
    snakemake_run(tmp_path)
    run = tmp_path / "results/SYN_h5"
    labels = pd.read_parquet(run / "labels.parquet")
    train = labels.loc[labels["split"] == "train", "sample_id"].to_numpy()
    matrix = pd.read_parquet(run / "meta_matrix.parquet")
    assert len(matrix) == int(np.ceil(0.25 * len(train)))
    np.testing.assert_array_equal(matrix["sample_id"].to_numpy(), train[-len(matrix):])
    assert sorted(p.name for p in (run / "oof/ridge").glob("*.parquet")) == ["fold0.parquet", "fold0.test.parquet"]
    report = json.loads((run / "meta_ridge_report.json").read_text())
    assert report["settings"]["oof_mode"] == "blending"


def test_two_bases_of_one_family_warn_and_strict_mode_refuses(tmp_path, snakemake_run):
    write_config(tmp_path, {**TINY, "base_models": ["lightgbm", "xgboost"]})
    result = snakemake_run(tmp_path, "-n")
    assert "both of family 'boosting'" in result.stdout + result.stderr
    write_config(tmp_path, {**TINY, "base_models": ["lightgbm", "xgboost"],
                                                        "strict_families": True})
    result = snakemake_run(tmp_path, "-n", check=False)
    assert result.returncode != 0 and "both of family 'boosting'" in result.stdout + result.stderr


TINY_NEURAL = {"epochs": 1, "batch_size": 128}
TINY_ARCH = {
    "lstm": {"hidden_size": 8}, "gru": {"hidden_size": 8}, "tcn": {"channels": 8, "levels": 2},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "dim_feedforward": 16},
    "inceptiontime": {"n_filters": 4, "depth": 3, "bottleneck": 4}, "resnet1d": {"channels": [8, 8, 8]},
    "nbeats": {"stacks": 1, "blocks": 1, "layers": 2, "units": 16},
    "patchtst": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16},
    "itransformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16},
    "tft": {"d_model": 8, "n_heads": 2},
}


def test_every_base_model_runs_through_the_workflow(tmp_path, snakemake_run):
    from hetstack.catalogue import available, get_spec

    bases = available("base")
    params = {name: {**TINY_NEURAL, **{k: v for k, v in TINY_ARCH[name].items()
                                       if k in get_spec(name).cls.architecture_params}}
              for name in TINY_ARCH}
    params.update(TINY["model_params"])
    params["random_forest"] = {"n_estimators": 20}
    config = {**TINY, "base_models": bases, "meta_learner": "meta_ridge", "model_params": params,
              "oof": {**TINY["oof"], "n_folds": 2},
              "adapters": {"sequence": {"seq_len": 8}, "multires": {"timeframes": [1, 5, 15], "seq_len": 8}}}
    write_config(tmp_path, config)
    snakemake_run(tmp_path)
    report = json.loads((tmp_path / "results/SYN_h5/meta_ridge_report.json").read_text())
    assert report["base_models"] == bases
    assert {"tcn", "patchtst", "catboost", "svm"} <= set(bases) and len(bases) >= 17
    for base in bases:
        assert 0.0 < report["base_model_performance"][base]["test_acc"] < 1.0, base
