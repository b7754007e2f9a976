"""The leakage meter (hetstack.stages.meter): on a market whose neighbouring labels share their outcome,
shuffled folds promise a log loss that purged folds and the test do not give."""

import subprocess

import numpy as np
import pandas as pd
import pytest
from snakemake_cmd import planned_jobs, snakemake_command, tiny_config, write_config

from hetstack.stages.meter import meter, reading, shuffled_oof
from hetstack.stages.oof import TrainSettings
from hetstack.tables import SampleTable

RUN = "results/SYN_h30"


@pytest.fixture(scope="module")
def random_walk_run(tmp_path_factory, snakemake_run):
    """No planted effect, 30-bar labels: nothing to learn, and each label shares most of its path with
    its neighbours', so a shuffled fold's held-out row has near-copies in training."""
    path = tmp_path_factory.mktemp("meter")
    write_config(path, tiny_config(horizons=[30], synthetic={"n_bars": 6000, "effect_strength": 0.0},
                                   oof={"purge_bars": 30, "embargo_bars": 60}, base_models=["lightgbm"],
                                   model_params={"lightgbm": {"num_boost_round": 60, "num_leaves": 15,
                                                              "min_data_in_leaf": 5, "early_stopping_rounds": 60}}))
    snakemake_run(path, f"{RUN}/meta_matrix.parquet", f"{RUN}/test/lightgbm.parquet")
    return path


@pytest.mark.integration
def test_shuffled_folds_are_optimistic_where_labels_overlap_and_purged_folds_are_not(random_walk_run):
    path = random_walk_run
    run = path / RUN
    settings = TrainSettings(params={"num_boost_round": 60, "num_leaves": 15, "min_data_in_leaf": 5,
                                     "early_stopping_rounds": 60}, seed=42, threads=1, val_split=0.15,
                             purge_bars=30, embargo_bars=60, use_sample_weights=True, adapters={})
    shuffled = shuffled_oof("lightgbm", {"features": str(path / "results/SYN/features.npy")},
                            str(run / "labels.parquet"), str(run / "meter.parquet"), settings, n_folds=3)
    samples = SampleTable.read(str(run / "labels.parquet"))
    np.testing.assert_array_equal(shuffled["sample_id"].to_numpy(), samples.ids_of("train"))  # each train row once
    matrix = pd.read_parquet(run / "meta_matrix.parquet")
    test = pd.read_parquet(run / "test/lightgbm.parquet")
    m = meter({"lightgbm": shuffled}, matrix, {"lightgbm": test}, test["label"].to_numpy())["lightgbm"]
    prior_loss = -np.mean(np.log(np.bincount(matrix["label"] + 1, minlength=3)[matrix["label"] + 1] / len(matrix)))
    # shuffled folds claim skill a random walk cannot have, far beyond the gap's SE
    assert m["shuffled_oof_log_loss"] < prior_loss - 0.05
    assert m["optimism"] > 5 * m["optimism_se"] > 0
    # purged folds and the test agree that there is none to speak of
    assert m["purged_oof_log_loss"] > prior_loss - 0.02 and m["test_log_loss"] > prior_loss - 0.05
    assert "shuffled folds would have claimed" in reading({"lightgbm": m})


@pytest.fixture(scope="module")
def metered_run(tmp_path_factory, snakemake_run):
    path = tmp_path_factory.mktemp("metered")
    write_config(path, tiny_config(meta_learner="meta_ridge", leakage_meter={"enabled": True, "n_folds": 3}))
    plan = planned_jobs(snakemake_run(path, "--dry-run"))
    snakemake_run(path)
    return path, plan


@pytest.mark.integration
def test_every_report_of_a_metered_run_holds_the_meter_and_its_first_screen_line(metered_run):
    import json

    from hetstack.plots import header_lines

    path, plan = metered_run
    assert plan["leakage_meter"] == 2  # lightgbm and ridge read 2D rows: one job each, beside their folds
    report = json.loads((path / "results/SYN_h5/meta_ridge_report.json").read_text())
    meters = report["leakage_meter"]["bases"]
    assert set(meters) == {"lightgbm", "ridge"}
    for m in meters.values():
        assert m["n_rows"] == report["samples"]["n_train"] and np.isfinite(m["optimism_se"])
        assert m["purged_oof_log_loss"] == pytest.approx(
            report["base_model_performance"][next(b for b in meters if meters[b] is m)]["oof_log_loss"], abs=1e-9)
    assert ("Leakage meter", report["leakage_meter"]["reading"]) in header_lines(report)


@pytest.mark.integration
def test_the_meters_fits_reach_nothing_but_the_report(metered_run):
    """Switching the meter off re-plans the reports (and the config's records) alone: no fold, merge, meta
    or retrain job read its fits."""
    path, _ = metered_run
    write_config(path, tiny_config(meta_learner="meta_ridge"), "off.yaml")
    result = subprocess.run(snakemake_command(path, "--dry-run", configfile="off.yaml"), capture_output=True,
                            text=True, check=True)
    # run_settings and manifest record the config's digest, which any config change moves
    assert set(planned_jobs(result)) <= {"report", "run_settings", "manifest", "all"}, planned_jobs(result)


@pytest.mark.integration
def test_the_html_reports_meter_plot_draws_three_bars_a_base(metered_run, snakemake_run):
    path, _ = metered_run
    target = "results/SYN_h5/plots/meta_ridge/meter.svg"
    snakemake_run(path, target)
    svg = (path / target).read_text()
    assert svg.lstrip().startswith("<?xml") and "leakage meter" in svg
    assert svg.count('id="patch_') >= 2 * 3  # at least the bars of both metered bases
