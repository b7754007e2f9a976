"""The report's pictures: the numbers behind them and that each file is a drawn SVG."""

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from hetstack import plots
from hetstack.evaluation import trading_metrics
from hetstack.tables import prob_columns


def test_reliability_curve_of_a_calibrated_forecast_is_on_the_diagonal():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1, 1, 1], size=20000)
    y = np.array([-1, 0, 1])[(rng.random((len(proba), 1)) > proba.cumsum(axis=1)).sum(axis=1)]
    curve = plots.reliability_curve(y, proba)
    big = curve[curve["count"] > 500]
    np.testing.assert_allclose(big["observed"], big["predicted"], atol=0.03)
    # an overconfident forecast (always 90% on a coin-flip class) sits far below the diagonal
    bad = plots.reliability_curve(np.zeros(1000, dtype=int), np.tile([0.9, 0.05, 0.05], (1000, 1)))
    top = bad[bad["predicted"] > 0.8].iloc[0]
    assert top["observed"] == 0.0


def test_equity_curve_matches_the_reports_drawdown():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, 600)))
    ids = np.arange(50, 500)
    positions = rng.choice([-1.0, 0.0, 1.0], size=len(ids))
    stamps = pd.date_range("2024-01-01", periods=600, freq="1min", tz="UTC").to_numpy()
    bars, equity, drawdown = plots.equity_curve(positions, ids, close, 5, 0.5)
    metrics = trading_metrics(positions, ids, close, stamps, 5, 0.5)
    assert bars[0] == ids[0] + 1 and bars[-1] == ids[-1] + 5
    assert drawdown.max() <= 0 and drawdown.min() == pytest.approx(metrics["max_drawdown"])


def test_oof_fold_scores_per_fold_and_base():
    y = np.array([1, 1, -1, -1, 0, 0])
    good = np.eye(3)[[2, 2, 0, 0, 1, 1]]
    matrix = pd.DataFrame({"fold": [0, 0, 0, 1, 1, 1], "label": y})
    for base, proba in (("a", good), ("b", good[::-1])):
        for col, values in zip(prob_columns(base), (0.8 * proba + 0.2 / 3).T):
            matrix[col] = values
    scores = plots.oof_fold_scores(matrix, ["a", "b"]).set_index(["fold", "base"])
    assert scores.loc[(0, "a"), "accuracy"] == 1.0 and scores.loc[(1, "a"), "accuracy"] == 1.0
    assert scores.loc[(0, "b"), "accuracy"] < 1.0
    assert scores.loc[(0, "a"), "log_loss"] < scores.loc[(0, "b"), "log_loss"]


def _drawn_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    shapes = [e for e in root.iter() if e.tag.split("}")[-1] in ("path", "rect", "use", "image")]
    assert len(shapes) > 10, f"{path} has almost nothing drawn"
    return ET.tostring(root, encoding="unicode")


def test_every_plot_is_a_drawn_svg(tmp_path):
    report = {"symbol": "SYN", "horizon": 5, "meta_learner": "meta_ridge", "base_models": ["a", "b"],
              "base_model_performance": {b: {"test_acc": acc, "test_log_loss": 1.05, "val_acc": acc, "val_log_loss": 1.06,
                                             "test_skill": skill, "val_skill": skill, "oof_skill": skill,
                                             "in_meta": skill > 0, "trading": {"sharpe_ratio": 0.1}}
                                         for b, acc, skill in (("a", 0.4, -0.01), ("b", 0.45, 0.03))},
              "performance": {"test_accuracy": 0.5, "test_log_loss": 1.0, "val_accuracy": 0.48, "val_log_loss": 1.01,
                              "test_skill": 0.05, "val_skill": 0.04, "sharpe_ratio": 1.2},
              "meta_learner_weights": {"a": [0.1, -0.2, 0.3], "b": [0.4, 0.0, -0.1]},
              "meta_learner_weights_method": "coefficient shares"}
    table = plots.score_table(report)
    assert list(table["model"]) == ["a", "b", "meta_ridge"] and table["test_accuracy"].iloc[-1] == 0.5
    plots.write_score_table_html(table, tmp_path / "t.html", "scores")
    page = (tmp_path / "t.html").read_text()
    assert "<td>meta_ridge</td>" in page and "<th>test_skill</th>" in page and "no (no OOF skill)" in page
    plots.plot_scores(table, tmp_path / "scores.svg", "scores")
    assert "meta_ridge" in _drawn_svg(tmp_path / "scores.svg")
    rng = np.random.default_rng(2)
    y = rng.choice([-1, 0, 1], size=300)
    plots.plot_reliability(y, {"a": rng.dirichlet([1, 1, 1], 300), "meta": rng.dirichlet([2, 2, 2], 300)},
                           tmp_path / "rel.svg", "reliability")
    _drawn_svg(tmp_path / "rel.svg")
    stamps = pd.date_range("2024-01-01", periods=100, freq="1min", tz="UTC")
    equity = np.cumprod(1 + rng.normal(0, 1e-3, 100))
    plots.plot_equity(stamps, equity, equity / np.maximum.accumulate(equity) - 1, tmp_path / "eq.svg", "equity")
    _drawn_svg(tmp_path / "eq.svg")
    plots.plot_weights(report["meta_learner_weights"], "coefficient shares", tmp_path / "w.svg", "weights")
    text = _drawn_svg(tmp_path / "w.svg")
    assert "-0.200" in text and "coefficient shares" in text
    scores = pd.DataFrame({"fold": [0, 0, 1, 1], "base": ["a", "b", "a", "b"], "accuracy": [0.4, 0.5, 0.45, 0.42],
                           "log_loss": [1.0, 1.1, 1.05, 1.02]})
    plots.plot_oof_folds(scores, tmp_path / "f.svg", "folds")
    _drawn_svg(tmp_path / "f.svg")


def test_score_table_shows_each_interval_the_psr_dsr_and_the_readings(tmp_path):
    intervals = {"accuracy": [0.41, 0.47], "log_loss": [1.01, 1.09], "skill": [-0.02, 0.04], "sharpe_ratio": [-1.5, 2.5]}
    perf = {"test_acc": 0.44, "test_log_loss": 1.05, "val_acc": 0.45, "val_log_loss": 1.06, "test_skill": 0.01,
            "val_skill": 0.01, "oof_skill": 0.01, "in_meta": True, "trading": {"sharpe_ratio": 0.5},
            "intervals": intervals}
    report = {"symbol": "SYN", "horizon": 5, "meta_learner": "meta_ridge", "base_models": ["a"],
              "base_model_performance": {"a": perf},
              "performance": {"test_accuracy": 0.46, "test_log_loss": 1.04, "val_accuracy": 0.45,
                              "val_log_loss": 1.05, "test_skill": 0.02, "val_skill": 0.02, "sharpe_ratio": 0.9,
                              "best_base": "a", "improvement_over_best_base": 0.02,
                              "log_loss_improvement_over_best_base": 0.01, "intervals": intervals,
                              "gain_intervals": {"improvement_over_best_base": [-0.01, 0.05],
                                                 "log_loss_improvement_over_best_base": [-0.003, 0.02]}},
              "statistics": {"bootstrap": {"confidence": 0.9},
                             "sharpe": {"a": {"psr": 0.7, "dsr": 0.3}, "meta_ridge": {"psr": 0.8, "dsr": 0.4}},
                             "readings": {"pbo": "PBO 0.25: reading"}}}
    table = plots.score_table(report)
    assert list(table["test_accuracy_ci"]) == ["[0.4100, 0.4700]"] * 2
    assert list(table["dsr"]) == [0.3, 0.4] and list(table["psr"]) == [0.7, 0.8]
    lines = plots.statistics_lines(report)
    assert lines[0] == "accuracy gain over the best base a: +0.0200, 90% interval [-0.0100, +0.0500]"
    assert lines[-1] == "PBO 0.25: reading"
    plots.write_score_table_html(table, tmp_path / "t.html", "scores", lines)
    page = (tmp_path / "t.html").read_text()
    assert "<th>sharpe_ci</th>" in page and "<td>[-1.5000, 2.5000]</td>" in page and "<li>PBO 0.25: reading</li>" in page
