"""The benchmark scripts keep working: their pieces are checked here, never their timings."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import accuracy
import common


def test_fitted_exponent_recovers_a_power_law():
    sizes = [10_000, 20_000, 40_000]
    assert common.fit_exponent(sizes, [3.0 * n ** 1.07 for n in sizes]) == pytest.approx(1.07)
    assert common.fit_exponent(sizes, [500.0, 500.0, 500.0]) == pytest.approx(0.0, abs=1e-12)


def test_benchmark_files_are_read_per_rule_and_job(tmp_path):
    folder = tmp_path / "benchmarks" / "oof_fold" / "MES_h20" / "tcn"
    folder.mkdir(parents=True)
    (folder / "fold3.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
                                      "12.5\t0:00:12\t612.3\t900\t600\t605\t1\t2\t95\t11.9\n")
    (rows,) = common.read_benchmarks(tmp_path)
    assert rows == {"rule": "oof_fold", "job": "MES_h20/tcn/fold3", "s": 12.5, "max_rss_mb": 612.3, "cpu_time": 11.9}


def test_gym_anytrading_eurusd_csv_is_read_day_first_and_loads_as_bars(tmp_path):
    from hetstack.data import read_bars

    src = tmp_path / "FOREX_EURUSD_1H_ASK.csv"
    src.write_text("Time,Open,High,Low,Close,Volume\n"
                   "01.02.2017 22:00:00.000,1.05,1.06,1.04,1.055,100\n"
                   "01.02.2017 23:00:00.000,1.055,1.056,1.055,1.055,0\n"
                   "01.02.2017 23:00:00.000,1.055,1.057,1.054,1.056,120\n"
                   "02.02.2017 00:00:00.000,1.056,1.056,1.056,1.056,0\n"
                   "02.02.2017 01:00:00.000,1.056,1.058,1.055,1.057,90\n")
    out = tmp_path / "data" / "EURUSD.csv"
    info = accuracy.convert_package_csv(src, "gym-anytrading", out)
    bars = read_bars(out)
    assert list(bars["timestamp"].dt.strftime("%Y-%m-%d %H:%M")) == ["2017-02-01 22:00", "2017-02-01 23:00",
                                                                    "2017-02-02 01:00"]
    assert bars["volume"].tolist() == [100.0, 120.0, 90.0]  # the later duplicate kept, the flat filler dropped
    assert (info["duplicates_dropped"], info["flat_zero_volume_dropped"], info["bars"]) == (1, 1, 3)


def test_scores_agree_with_sklearn_and_block_errors_widen_for_correlated_samples():
    rng = np.random.default_rng(0)
    y = rng.choice([-1, 0, 1], size=4000)
    proba = rng.dirichlet([2, 2, 2], size=4000)
    correct, losses, acc, ll = accuracy.per_sample(y, proba)
    assert acc == pytest.approx(correct.mean()) and ll == pytest.approx(losses.mean())
    independent = rng.normal(size=4000)
    runs = np.repeat(rng.normal(size=100), 40)  # 40 equal samples in a row, as overlapping labels give
    assert accuracy.se_blocks(independent, 40) == pytest.approx(accuracy.se_mean(independent), rel=0.35)
    assert accuracy.se_blocks(runs, 40) > 4 * accuracy.se_mean(runs)


@pytest.mark.integration
def test_planning_benchmark_plans_the_same_dag_four_ways(tmp_path):
    env = dict(os.environ, HETSTACK_BENCH_OUT=str(tmp_path))
    result = subprocess.run([sys.executable, str(BENCH / "plan_scale.py"), "--symbols", "2", "--horizons", "1",
                             "--repeat", "1"], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = pd.read_json(tmp_path / "plan_scale.json", typ="series")["rows"]
    assert [row["variant"] for row in table] == ["bare", "script", "directives", "hetstack"]
    assert len({row["jobs"] for row in table}) == 1  # the script exits when the DAG sizes differ


def test_effects_markets_switch_single_effects_and_pass_the_schema(tmp_path):
    import effects
    import yaml
    from snakemake.utils import update_config

    from hetstack.catalogue import get_spec
    from hetstack.config import check_schema
    from hetstack.synthetic import market_strengths

    schema = str(BENCH.parent / "config" / "config.schema.yaml")
    for market, on in (("none", set()), ("absorption", {"absorption"}), ("all", set(effects.EFFECT_VIEW))):
        override = effects.market_config(market, tmp_path, quick=True)
        strengths = market_strengths(override["synthetic"]["market"], override["synthetic"]["effects"])
        assert {k for k, v in strengths.items() if v > 0} == on
        assert all(strengths[k] == market_strengths("heterogeneous")[k] for k in on)  # as the market plants them
        config = yaml.safe_load((BENCH.parent / "config" / "config.yaml").read_text())
        update_config(config, override)
        check_schema(config, schema)
    kinds = {"row": "tabular", "window": "sequence", "long": "multires"}
    assert all(get_spec(base).input_kind == kinds[view] for view, bases in effects.VIEWS.items() for base in bases)


def test_effects_oracle_reads_the_drift_ahead_and_scores_skill_on_test_rows(tmp_path):
    import effects

    rng = np.random.default_rng(0)
    n = 2000
    drift = rng.normal(0, 1, n + 50)
    cumulative = np.concatenate([[0.0], np.cumsum(drift)])
    ids = np.arange(n) + 10
    ahead = cumulative[ids + effects.HORIZON + 1] - cumulative[ids + 1]
    y = np.where(ahead > 2, 1, np.where(ahead < -2, -1, 0))
    split = np.where(np.arange(n) < n // 2, "train", "test")
    pd.DataFrame({"sample_id": ids, "label": y, "split": split}).to_parquet(tmp_path / "labels.parquet")
    frame = effects.oracle_frame(tmp_path, drift)
    assert len(frame) == n // 2 and np.array_equal(frame["label"].to_numpy(), y[n // 2:])
    prior = effects.train_prior(tmp_path)
    skill, _ = effects.skill_terms(prior, frame)
    assert skill.mean() > 0.5  # the drift ahead decides these labels
    shuffled = effects.oracle_frame(tmp_path, rng.permutation(drift))
    assert abs(effects.skill_terms(prior, shuffled)[0].mean()) < 0.05  # a drift unrelated to them: no skill


def test_effects_criteria_pass_a_confined_effect_and_fail_a_leaking_one():
    import effects

    rng = np.random.default_rng(0)
    ids = np.arange(4000)
    shared = rng.normal(0, 1.0, len(ids))  # noise every market shares: pairing removes it

    def market(**skills):
        scores, samples = {}, {}
        for b in effects.BASES:
            value = skills.get(b, 0.0)
            samples[b] = pd.Series(shared + value + rng.normal(0, 0.05, len(ids)), index=ids)
            scores[b] = {"skill": float(samples[b].mean()), "skill_se_block": 0.005, "test_acc": 0.5}
        return scores, samples

    results, samples = {}, {}
    for name, skills in (("none", {}), ("absorption", {"tcn": 0.06, "catboost": 0.01}),
                         ("echo", {"patchtst": 0.05, "lightgbm": 0.03})):
        results[name], samples[name] = market(**skills)
    results["absorption"]["oracle:absorption"] = {"skill": 0.2, "skill_se_block": 0.02, "test_acc": 0.6}
    results["echo"]["oracle:echo"] = {"skill": 0.02, "skill_se_block": 0.01, "test_acc": 0.5}
    rows = {r["effect"]: r for r in effects.criteria(results, samples)}
    assert rows["absorption"]["own_ok"] and rows["absorption"]["others_ok"] and rows["absorption"]["oracle_ok"]
    assert rows["absorption"]["other_shares"]["row"] == pytest.approx(0.01 / 0.06, abs=0.05)
    assert rows["echo"]["own_ok"] and not rows["echo"]["others_ok"] and not rows["echo"]["oracle_ok"]
    assert rows["absorption"]["own_gain_in_se"] > 10  # unpaired, the shared noise would leave 0.06 under 3 SE
    samples["echo"]["patchtst"] = samples["echo"]["patchtst"].iloc[1:]
    with pytest.raises(AssertionError, match="different test rows"):
        effects.criteria(results, samples)


def test_backtesting_daily_csv_loads_as_bars(tmp_path):
    """backtesting.py's GOOG.csv: an unnamed first column of dates, capitalized OHLCV columns."""
    from hetstack.data import read_bars

    src = tmp_path / "GOOG.csv"
    src.write_text(",Open,High,Low,Close,Volume\n"
                   "2004-08-19,100,104.06,95.96,100.34,22351900\n"
                   "2004-08-20,101.01,109.08,100.5,108.31,11428600\n"
                   "2004-08-23,110.75,113.48,109.05,109.4,9137200\n")
    out = tmp_path / "data" / "GOOG.csv"
    info = accuracy.convert_package_csv(src, "backtesting", out)
    bars = read_bars(out)
    assert list(bars["timestamp"].dt.strftime("%Y-%m-%d")) == ["2004-08-19", "2004-08-20", "2004-08-23"]
    assert bars["close"].tolist() == [100.34, 108.31, 109.4] and info["bars"] == 3
    assert accuracy.GOOG_FILES[0][2] == "GOOG.csv" and accuracy.GOOG_CONFIG["horizons"] == [5]


def test_regime_market_turns_the_regime_on_and_passes_the_schema(tmp_path):
    import regime
    import yaml
    from snakemake.utils import update_config

    from hetstack.catalogue import available
    from hetstack.config import check_schema

    override = regime.market_config(tmp_path, quick=True, seed=3)
    assert override["synthetic"]["effects"]["regime"] > 0 and override["synthetic"]["effects"]["interaction"] == 0
    assert set(regime.STATIC + regime.AWARE) <= set(available("meta"))
    config = yaml.safe_load((BENCH.parent / "config" / "config.yaml").read_text())
    update_config(config, override)
    check_schema(config, str(BENCH.parent / "config" / "config.schema.yaml"))


@pytest.mark.integration
def test_gpu_benchmark_times_cpu_and_says_why_without_cuda(tmp_path):
    """CI has no GPU: bench/gpu.py still fits the fold on CPU and records why CUDA was skipped."""
    import json

    import torch

    env = dict(os.environ, HETSTACK_BENCH_OUT=str(tmp_path))
    result = subprocess.run([sys.executable, str(BENCH / "gpu.py"), "--quick", "--bases", "tcn", "--bars", "8000",
                             "--threads", "1"], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = json.loads((tmp_path / "gpu-quick.json").read_text())
    (row,) = out["rows"]
    assert row["base"] == "tcn" and row["cpu_s"] > 0 and 0 <= row["cpu_best_epoch"] < 2
    if torch.cuda.is_available():
        assert row["argmax_agreement"] >= out["tolerance"]["argmax_agreement"]
    else:
        assert out["cuda"] is False and "sees no CUDA device" in out["why_no_cuda"] and "cuda_s" not in row


def test_gpu_benchmark_compares_probabilities_row_by_row():
    import gpu

    cpu = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    same = gpu.agreement(cpu, cpu)
    assert same == {"max_abs_dp": 0.0, "mean_abs_dp": 0.0, "argmax_agreement": 1.0}
    flipped = gpu.agreement(cpu, np.array([[0.2, 0.5, 0.3], [0.3, 0.6, 0.1]]))
    assert flipped["argmax_agreement"] == 0.5 and flipped["max_abs_dp"] == pytest.approx(0.3)
    assert flipped["mean_abs_dp"] == pytest.approx(0.6 / 6)


def test_effects_stack_gain_is_paired_against_the_reports_best_base_and_the_test_best(tmp_path):
    import json

    import effects

    rng = np.random.default_rng(1)
    n_train, n_test = 400, 800
    y = rng.choice([-1, 0, 1], n_train + n_test)
    pd.DataFrame({"label": y, "split": ["train"] * n_train + ["test"] * n_test}).to_parquet(tmp_path / "labels.parquet")
    (tmp_path / "test").mkdir()
    (tmp_path / "predictions").mkdir()
    truth = np.eye(3)[y[n_train:] + 1]
    for name, know in (("a", 0.1), ("b", 0.3), ("auto", 0.5)):  # share of the truth mixed into each
        noise = rng.dirichlet([5, 5, 5], n_test)
        frame = pd.DataFrame(know * truth + (1 - know) * noise, columns=["prob_-1", "prob_0", "prob_+1"])
        frame.assign(label=y[n_train:]).to_parquet(
            tmp_path / ("predictions/auto_test.parquet" if name == "auto" else f"test/{name}.parquet"))
    report = {"performance": {"best_base": "a"}, "base_model_performance": {"a": {}, "b": {}},
              "meta_auto_choice": {"chosen": "meta_ridge"}}
    (tmp_path / "auto_report.json").write_text(json.dumps(report))
    gain = effects.stack_gain(tmp_path)
    assert (gain["base"], gain["test_best_base"], gain["chose"]) == ("a", "b", "meta_ridge")
    assert gain["gain_log_loss"] > gain["test_best_gain_log_loss"] > 0 and gain["gain_log_loss_se"] > 0
    # the pool of a and b, fitted on the test rows, is at least as good as b there
    assert gain["pool_gain_log_loss"] >= gain["gain_log_loss"] - gain["test_best_gain_log_loss"] - 1e-3
    assert gain["share_of_pool"] == pytest.approx(gain["gain_log_loss"] / gain["pool_gain_log_loss"])


def test_study_targets_read_autos_pooled_gain_its_worst_run_and_the_fixed_metas_lead():
    import study

    def gain(value, se):
        return {"log_loss": {"value": value, "se": se}}

    built = {"runs": {"A_h5": {"gain": {"auto": gain(-0.02, 0.01), "meta_ridge": gain(0.01, 0.01)}},
                      "B_h5": {"gain": {"auto": gain(0.0, 0.0), "meta_ridge": gain(0.03, 0.01)}}},
             "pooled_gain_log_loss": {"auto": {"estimate": -0.01, "se": 0.008},
                                      "meta_ridge": {"estimate": 0.02, "se": 0.01}}}
    found = study.targets(built)
    assert found["auto_pooled_z"] == pytest.approx(-1.25)
    assert found["auto_worst_run_z"] == {"run": "A_h5", "z": pytest.approx(-2.0)}  # B's exact zero has no z
    assert found["fixed_meta_ahead_of_auto_in_pooled_se"]["meta_ridge"] == pytest.approx(3.0)  # 0.03 / max(SEs)


def test_fullsize_reads_paces_from_job_logs(tmp_path):
    """Boosters: seconds per iteration over the first fit's progress lines; neural bases: the epoch
    lines' batch and forward/backward seconds, and epoch-to-epoch time."""
    import fullsize

    log = tmp_path / "fold0.log"
    log.write_text("2026-12-06 10:00:00,000 INFO hetstack: catboost: fitting on 1000 samples (early-stopping slice 100)\n"
                   "2026-12-06 10:00:10,000 INFO hetstack: catboost: iteration 100/2000 learn 0.9\n"
                   "2026-12-06 10:00:30,000 INFO hetstack: catboost: iteration 300/2000 learn 0.8\n"
                   "2026-12-06 10:01:00,000 INFO hetstack: catboost: iteration 100/2000 learn 0.9\n")
    pace = fullsize.pace_from_log(log)
    assert pace["fit_samples"] == 1000 and pace["s_per_iteration"] == pytest.approx(0.1)
    assert pace["iterations_logged"] == 300 and "epochs" not in pace
    log.write_text("2026-12-06 10:00:00,000 INFO hetstack.nn: epoch 0: train loss 1.1, val loss 1.0; "
                   "500 samples: batches 2.00 s, forward/backward 8.00 s\n"
                   "2026-12-06 10:00:12,500 INFO hetstack.nn: epoch 1: train loss 1.0, val loss 1.0; "
                   "500 samples: batches 1.00 s, forward/backward 9.00 s\n")
    pace = fullsize.pace_from_log(log)
    assert pace["epochs"] == 2 and pace["train_s_per_epoch"] == pytest.approx(10.0)
    assert pace["samples_per_s"] == pytest.approx(50.0) and pace["batch_over_step"] == pytest.approx(3.0 / 17.0)
    assert pace["epoch_s"] == pytest.approx(12.5)


def test_fullsize_projects_five_folds_and_a_retrain_per_base_on_two_and_sixteen_cores():
    import fullsize

    rows = [{"rule": "features", "job": "MES", "s": 10.0},
            {"rule": "oof_fold", "job": "MES_h20/a/fold0", "s": 100.0},
            {"rule": "retrain_base", "job": "MES_h20/a", "s": 130.0},
            {"rule": "oof_fold", "job": "MES_h20/b/fold0", "s": 40.0, "retrain_ratio": 1.5}]
    p = fullsize.project(rows, ["a", "b"], tail_s=5.0, threads=2)
    assert p["per_base"]["a"] == {"fold_s": 100.0, "retrain_s": 130.0, "fold_measured": True, "retrain_measured": True,
                                  "total_s": 630.0}
    assert p["per_base"]["b"]["retrain_s"] == pytest.approx(60.0) and not p["per_base"]["b"]["retrain_measured"]
    assert p["two_cores_s"] == pytest.approx(10 + 630 + 260 + 5)
    assert p["lanes"] == 8 and p["sixteen_cores_s"] == pytest.approx(10 + 140 + 5)  # 12 jobs, longest first, on 8 lanes
    only_retrain = fullsize.project([{"rule": "retrain_base", "job": "MES_h20/c", "s": 150.0, "retrain_ratio": 1.5}],
                                    ["c"], tail_s=0.0, threads=2)["per_base"]["c"]
    assert only_retrain["fold_s"] == pytest.approx(100.0) and not only_retrain["fold_measured"]  # time ~ samples


@pytest.mark.integration
def test_fullsize_quick_measures_every_job_and_checks_its_projection_on_a_whole_run(tmp_path):
    import json

    env = dict(os.environ, HETSTACK_BENCH_OUT=str(tmp_path))
    result = subprocess.run([sys.executable, str(BENCH / "fullsize.py"), "--quick", "--whole", "--threads", "1",
                             "--workdir", str(tmp_path / "work")], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = json.loads((tmp_path / "fullsize-quick.json").read_text())
    rules = {(r["rule"], r["job"].split("/")[-1]) for r in out["jobs"]}
    assert {("bars", "MES"), ("features", "MES"), ("multires", "MES"), ("labels", "MES_h20")} <= rules
    assert {("oof_fold", "fold0"), ("retrain_base", "catboost"), ("retrain_base", "logistic_window")} <= rules
    assert all(r["s"] > 0 for r in out["jobs"]) and out["samples"]["train"] > 0
    booster = next(r for r in out["jobs"] if r["rule"] == "oof_fold" and "/catboost/" in r["job"])
    assert booster["s_per_iteration"] > 0 and booster["fit_samples"] > 0
    p = out["projection"]
    assert p["two_cores_s"] >= p["sixteen_cores_s"] > 0 and p["tail_source"] == "measured (--whole)"
    assert out["whole"]["wall_s"] > 0 and out["sizes"]["meta_matrix_mb"] > 0


def test_result_names_say_quick_and_the_subset_and_scratch_folders_go_unless_named(tmp_path):
    assert common.result_name("leakage", False, ["eurusd", "synthetic"], ["synthetic", "eurusd"]) == "leakage"
    assert common.result_name("leakage", True, ["eurusd"], ["synthetic", "eurusd"]) == "leakage-quick-eurusd"
    assert common.fmt_se({"mean": 0.12345, "se": 0.0061}) == "+0.1235 (0.0061)"
    named = common.scratch_root(tmp_path / "kept", "leakage")
    named.mkdir()
    common.drop_scratch(named, tmp_path / "kept")
    assert named.is_dir()
    temporary = common.scratch_root(None, "leakage")
    assert temporary.is_dir() and temporary.name.startswith("hetstack-leakage-")
    common.drop_scratch(temporary, None)
    assert not temporary.exists()
