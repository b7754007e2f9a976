"""Integration: live prediction, the `hetstack` command and Snakemake's HTML report on a tiny run
with one tabular and one sequence base."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hetstack.tables import PROB_COLUMNS
from report_browser import chromium_or_skip, open_report
from snakemake_cmd import REPO, snakemake_command, tiny_config, write_config

pytestmark = pytest.mark.integration

METAS = ["meta_ridge", "meta_regime", "auto"]
CONFIG = tiny_config(base_models=["lightgbm", "gru"], meta_learner=METAS,
                     regime={"window": 300},
                     adapters={"sequence": {"seq_len": 8}, "multires": {"timeframes": [1, 5], "seq_len": 4}},
                     model_params={"gru": {"epochs": 1, "batch_size": 128, "hidden_size": 8}})



def hetstack(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hetstack.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=900, env={**os.environ, "PYTHONPATH": str(REPO / "src")})


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, snakemake_run):
    path = tmp_path_factory.mktemp("live")
    write_config(path, CONFIG)
    snakemake_run(path, "all", "plots")  # every report, the run settings and the report's pictures
    return path


SIGNAL_COLUMNS = ["timestamp", "row", "sample_id", "in_sample", "prediction", *PROB_COLUMNS, "confidence"]


@pytest.mark.parametrize("meta", [None, "meta_regime", "auto"])  # None: the run's first, meta_ridge
def test_predict_reproduces_the_workflows_test_predictions(workdir, meta):
    from hetstack.predict import predict_bars

    run = workdir / "results/SYN_h5"
    bars = pd.read_parquet(workdir / "results/SYN/bars.parquet")
    signals = predict_bars(run, bars, meta=meta)
    expected = pd.read_parquet(run / f"predictions/{meta or 'meta_ridge'}_test.parquet")
    settings = json.loads((run / "run_settings.json").read_text())
    labels = pd.read_parquet(run / "labels.parquet")
    assert settings["base_models"] == ["lightgbm", "gru"] and settings["horizon"] == 5
    assert list(signals.columns) == SIGNAL_COLUMNS and signals["sample_id"].dtype == "Int64"
    # every bar with the lookback's history is scored, in order; on the run's own bars the run's ids are positions
    rows = np.arange(settings["lookback"], len(bars))
    np.testing.assert_array_equal(signals["row"], rows)
    np.testing.assert_array_equal(signals["sample_id"].to_numpy(np.int64), rows)
    # and on a tail of them (the lookback's history before the last train samples, then gap and test) the
    # run's ids too, not positions in the tail
    first_test = int(labels.loc[labels["split"] == "test", "sample_id"].min())
    start = first_test - 100 - settings["lookback"]
    tail = predict_bars(run, bars.iloc[start:].reset_index(drop=True), meta=meta)
    np.testing.assert_array_equal(tail["row"], np.arange(settings["lookback"], len(bars) - start))
    np.testing.assert_array_equal(tail["sample_id"].to_numpy(np.int64), np.arange(first_test - 100, len(bars)))
    # in_sample: up to the last train label's end, so every train sample and no test sample
    train_end = int(labels.loc[labels["split"] == "train", "t1"].max())
    for frame in (signals, tail):
        np.testing.assert_array_equal(frame["in_sample"], frame["sample_id"].to_numpy(np.int64) <= train_end)
        by_id = frame.set_index("sample_id")["in_sample"]
        assert not by_id.loc[expected["sample_id"].to_numpy()].any()
        assert by_id.loc[by_id.index.intersection(labels.loc[labels["split"] == "train", "sample_id"])].all()
    assert tail["in_sample"].any() and not tail["in_sample"].all()
    got = signals.set_index("sample_id").loc[expected["sample_id"].to_numpy()]
    np.testing.assert_allclose(got[PROB_COLUMNS].to_numpy(), expected[PROB_COLUMNS].to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got["prediction"].to_numpy(), expected["prediction"].to_numpy())
    np.testing.assert_allclose(got["confidence"].to_numpy(), expected["confidence"].to_numpy(), rtol=1e-9)
    assert (got["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    # the tail's probabilities too (float32 rounding of rolling sums over a shorter history is all that differs)
    got_tail = tail.set_index("sample_id").loc[expected["sample_id"].to_numpy()]
    np.testing.assert_allclose(got_tail[PROB_COLUMNS].to_numpy(), expected[PROB_COLUMNS].to_numpy(), atol=1e-5)


def test_reports_hold_the_regime_weights_and_the_auto_choice(workdir):
    run = workdir / "results/SYN_h5"
    regime = json.loads((run / "meta_regime_report.json").read_text())
    weights = regime["meta_learner_regime_weights"]
    assert list(weights) == ["calm", "middle", "volatile"]
    for third in weights.values():
        assert set(third["weights"]) == set(regime["meta_inputs"])
    low, high = weights["middle"]["log_realized_vol_range"]
    assert weights["calm"]["log_realized_vol_range"] == [None, low] and low < high
    assert weights["volatile"]["log_realized_vol_range"] == [high, None]
    assert regime["settings"]["regime_window"] == 300
    auto = json.loads((run / "auto_report.json").read_text())
    choice = auto["meta_auto_choice"]
    assert choice["chosen"] in choice["order"] and set(choice["candidates"]) == set(choice["order"])
    assert auto["meta_learner_weights_method"].startswith(f"those of the chosen candidate, {choice['chosen']}")
    assert json.loads((run / "meta_ridge_report.json").read_text())["meta_auto_choice"] is None


def test_reports_hold_intervals_and_the_trials_statistics(workdir):
    run = workdir / "results/SYN_h5"
    report = json.loads((run / "meta_regime_report.json").read_text())
    perf = report["performance"]
    for name, scores in [*((b, p) for b, p in report["base_model_performance"].items()), ("meta_regime", None)]:
        intervals = scores["intervals"] if scores else perf["intervals"]
        accuracy = scores["test_acc"] if scores else perf["test_accuracy"]
        sharpe = scores["trading"]["sharpe_ratio"] if scores else perf["sharpe_ratio"]
        assert intervals["accuracy"][0] <= accuracy <= intervals["accuracy"][1], name
        assert intervals["sharpe_ratio"][0] <= sharpe <= intervals["sharpe_ratio"][1], name
        assert report["statistics"]["sharpe"][name]["sharpe_ratio"] == pytest.approx(sharpe, rel=1e-9)
    low, high = perf["gain_intervals"]["improvement_over_best_base"]
    assert low <= perf["improvement_over_best_base"] <= high
    statistics = report["statistics"]
    # every meta-learner of the run is a trial beside the bases, whichever report is read (once for each
    # distinct way of trading: auto choosing a base trades as that base)
    models = ["lightgbm", "gru", "meta_regime", "meta_ridge", "auto"]
    assert set(statistics["sharpe"]) == set(models)
    assert statistics["trials"] == [m for m in models if "same_trades_as" not in statistics["sharpe"][m]]
    assert statistics["pbo"]["n_models"] == len(statistics["trials"]) and 0 <= statistics["pbo"]["pbo"] <= 1
    assert statistics["bootstrap"]["block"] == 10  # twice the 5-bar labels
    assert set(statistics["readings"]) == {"psr", "dsr", "pbo"}
    page = (run / "plots/meta_regime/scores.html").read_text()
    assert "PBO" in page and "<th>DSR</th>" in page
    assert report["cpcv"] is None and report["settings"]["scheme"] == "kfold"  # CPCV only when asked for


def test_predict_command_drops_bars_without_history(workdir):
    run = workdir / "results/SYN_h5"
    lookback = json.loads((run / "run_settings.json").read_text())["lookback"]
    bars = pd.read_parquet(workdir / "results/SYN/bars.parquet")
    new = workdir / "SYN.parquet"  # the symbol is the file's name, as in data/
    bars.iloc[-(lookback + 50):].to_parquet(new)  # the lookback's history, then 50 bars to score
    result = hetstack("predict", "--run", str(run), "--bars", str(new), "--out", "signals.parquet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    signals = pd.read_parquet(workdir / "signals.parquet")
    assert len(signals) == 50 and "50 signals written" in result.stdout and "symbol SYN checked" in result.stdout
    assert "50 of them are the run's bars" in result.stdout and "0 inside its training period" in result.stdout
    assert list(signals.columns) == SIGNAL_COLUMNS and signals["sample_id"].dtype == "Int64"
    np.testing.assert_array_equal(signals["sample_id"].to_numpy(np.int64), np.arange(len(bars) - 50, len(bars)))
    np.testing.assert_array_equal(signals["row"], np.arange(lookback, lookback + 50))
    assert not signals["in_sample"].any()
    np.testing.assert_allclose(signals[PROB_COLUMNS].sum(axis=1), 1.0, rtol=1e-9)
    assert set(signals["prediction"]) <= {-1, 0, 1}
    # the same as a prediction over the full history: every feature reads a bounded past, so the
    # lookback's history is enough (float32 rounding of rolling sums is all that may differ)
    from hetstack.predict import predict_bars

    full = predict_bars(run, bars).iloc[-50:]
    np.testing.assert_array_equal(signals["timestamp"].to_numpy(), full["timestamp"].to_numpy())
    np.testing.assert_allclose(signals[PROB_COLUMNS].to_numpy(), full[PROB_COLUMNS].to_numpy(), atol=1e-5)

    def refused(path, *flags):
        result = hetstack("predict", "--run", str(run), "--bars", str(path), "--out", "x.parquet", *flags, cwd=workdir)
        assert result.returncode == 1 and "Traceback" not in result.stderr and not (workdir / "x.parquet").exists()
        return result.stderr

    # the README's example: a generic name names no symbol, so it is scored and the symbol not checked;
    # the run's own results/SYN/bars.parquet names SYN (not 'bars')
    generic = workdir / "new_bars.parquet"
    bars.iloc[-(lookback + 50):].to_parquet(generic)
    result = hetstack("predict", "--run", str(run), "--bars", str(generic), "--out", "generic.parquet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "symbol not checked: pass --symbol SYN to check it" in result.stdout
    result = hetstack("predict", "--run", str(run), "--bars", "results/SYN/bars.parquet", "--out", "own.parquet",
                      cwd=workdir)
    assert result.returncode == 0 and "symbol SYN checked" in result.stdout, result.stderr

    bars.iloc[:lookback].to_parquet(new)  # nothing has enough history: one clear line, exit 1
    assert "lookback" in refused(new)
    # another symbol's bars (named by --symbol, or by a file named as a symbol the project knows): refused
    # unless asked for; the same bars as 5-minute bars: always refused
    assert "trained on 'SYN'" in refused(generic, "--symbol", "MGC")
    (workdir / "incoming").mkdir()
    other = workdir / "incoming/MGC.parquet"
    bars.iloc[-(lookback + 50):].to_parquet(other)
    (workdir / "results/MGC").mkdir()  # MGC's folder beside the run: a symbol the project knows
    try:
        assert "trained on 'SYN'" in refused(other)
    finally:
        (workdir / "results/MGC").rmdir()
    assert hetstack("predict", "--run", str(run), "--bars", str(generic), "--out", "other.parquet", "--symbol", "MGC",
                    "--allow-other-symbol", cwd=workdir).returncode == 0
    slow = bars.iloc[-(lookback + 50):].copy()
    slow["timestamp"] = pd.date_range(slow["timestamp"].iloc[0], periods=len(slow), freq="5min")
    slow.to_parquet(new)
    assert "5 min apart (median spacing) but the run was trained on 1 min bars" in refused(new, "--allow-other-symbol")


def test_run_settings_follow_the_models(workdir):
    """Settings built alone after an adapter change would pair new windows with old weights: the rule
    depends on the models, so Snakemake retrains them first."""
    changed = yaml.safe_load((workdir / "tiny.yaml").read_text())
    changed["adapters"]["sequence"]["seq_len"] = 6
    (workdir / "changed.yaml").write_text(yaml.safe_dump(changed))
    cmd = snakemake_command(workdir, "--cores", "1", "-n", "results/SYN_h5/run_settings.json", configfile="changed.yaml")
    plan = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "retrain_base" in plan.stdout and "fit_meta" in plan.stdout and "run_settings" in plan.stdout


def test_status_lists_shards_and_outputs(workdir):
    result = hetstack("status", "results/SYN_h5", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert ": complete" in result.stdout and "base gru" in result.stdout and "OOF folds 3/3" in result.stdout
    assert "manifest: yes" in result.stdout  # `all` builds the run's manifest
    symbol = hetstack("status", "results/SYN", cwd=workdir)  # the symbol's folder: which run folder to pass
    assert symbol.returncode == 1 and symbol.stderr.strip().endswith(
        "results/SYN: a symbol folder (bars, features), not a run folder; fix: pass a run folder: results/SYN_h5")
    fold = workdir / "results/SYN_h5/oof/gru/fold1.parquet"
    saved = fold.read_bytes()
    fold.unlink()
    try:
        status = json.loads(hetstack("status", "results/SYN_h5", "--json", cwd=workdir).stdout)
        assert status["bases"]["gru"]["folds_missing"] == [1] and status["bases"]["lightgbm"]["folds_missing"] == []
        assert status["complete"] is False and sorted(status["reports"]) == sorted(METAS)
    finally:
        fold.write_bytes(saved)


def test_train_dry_run_plans_the_requested_run(workdir):
    result = hetstack("train", "--directory", str(workdir), "--configfile", str(workdir / "tiny.yaml"),
                      "--base-models", "lightgbm,ridge", "--meta-learner", "ridge_meta", "--horizon", "5",
                      "--symbol", "SYN", "--cores", "1", "--dry-run", cwd=workdir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    text = result.stdout + result.stderr
    assert "results/SYN_h5/ridge_meta_report.json" in text and "oof_fold" in text and "dry run" in text
    assert yaml.safe_load((workdir / ".hetstack/train_SYN_h5.yaml").read_text())["horizons"] == [5]
    assert not (workdir / "results/SYN_h5/oof/ridge").exists()  # planned, not run


def test_html_report_shows_every_plot_in_a_browser(workdir, snakemake_run):
    chromium = chromium_or_skip()
    snakemake_run(workdir, "plots", "--report", str(workdir / "report.html"))
    check = open_report(chromium, workdir / "report.html")
    assert "hetstack" in check["text"]  # the workflow description rendered by the app
    plots = {f"results/SYN_h5/plots/{meta}/{name}.svg" for meta in METAS for name in
             ("scores", "reliability", "equity", "weights", "oof_folds")}
    assert set(check["images"]) == plots
    for path, img in check["images"].items():
        assert img and img["complete"] and img["width"] > 200 and img["height"] > 200 and img["shown"] > 100, path
        assert img["caption"].startswith("<p>") and len(img["caption"]) > 100, path  # the rendered caption
    assert check["others"] == {f"results/SYN_h5/plots/{meta}/{page}.html": "text/html" for meta in METAS
                               for page in ("scores", "headline")}
    for meta in METAS:  # the first screen: every run's headline
        assert f"SYN h5 {meta}" in check["text"] and "Meta-learner:" in check["text"]
