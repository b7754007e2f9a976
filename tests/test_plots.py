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
    # skill over the class shares of all the OOF labels (a third each): their log loss minus the base's
    np.testing.assert_allclose(scores["skill"], np.log(3) - scores["log_loss"])
    assert scores.loc[(0, "a"), "skill"] > 0 > scores.loc[(0, "b"), "skill"]


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
    plots.write_score_page(report, tmp_path / "t.html", "scores")
    page = (tmp_path / "t.html").read_text()
    assert "<td>meta_ridge</td>" in page and "<th>test skill</th>" in page and "base, left out*" in page
    assert "nan" not in page.lower()
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
                           "log_loss": [1.0, 1.1, 1.05, 1.02], "skill": [0.02, -0.08, -0.03, 0.0]})
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
    assert list(table["test_accuracy_ci"]) == [(0.41, 0.47)] * 2
    assert list(table["dsr"]) == [0.3, 0.4] and list(table["psr"]) == [0.7, 0.8]
    lines = plots.statistics_lines(report)
    assert lines[0] == "accuracy gain over the best base a: +0.0200, 90% interval [-0.0100, +0.0500]"
    assert lines[-1] == "PBO 0.25: reading"
    plots.write_score_page(report, tmp_path / "t.html", "scores")
    page = (tmp_path / "t.html").read_text()
    # value and interval share a cell; the Sharpe's too
    assert "<td class='num'>0.460 [0.410, 0.470]</td>" in page and "<td class='num'>+0.90 [-1.50, +2.50]</td>" in page
    assert "<li>PBO 0.25: reading</li>" in page and "90% block-bootstrap interval" in page
    assert "accuracy gain over the best base a: +0.0200, 90% interval [-0.0100, +0.0500]" in page


def _report(**fields) -> dict:
    """A hand-made report of two bases (b left out for no OOF skill) and a meta-learner, with intervals."""
    def intervals(acc, ll, skill):
        return {"accuracy": [acc - 0.03, acc + 0.03], "log_loss": [ll - 0.04, ll + 0.04],
                "skill": [skill - 0.02, skill + 0.02], "sharpe_ratio": [-1.0, 2.0]}

    bases = {b: {"test_acc": acc, "test_log_loss": 1.08 - skill, "test_skill": skill, "val_acc": acc, "val_log_loss": 1.07,
                 "val_skill": 0.01, "oof_skill": oof, "in_meta": oof > 0, "trading": {"sharpe_ratio": 0.4},
                 "intervals": intervals(acc, 1.08 - skill, skill)}
             for b, acc, skill, oof in (("catboost", 0.509, 0.02, 0.015), ("tcn", 0.47, -0.01, -0.004))}
    report = {"symbol": "MES", "horizon": 20, "meta_learner": "auto", "base_models": ["catboost", "tcn"],
              "meta_inputs": ["catboost"], "base_model_performance": bases,
              "performance": {"test_accuracy": 0.509, "test_log_loss": 1.06, "test_skill": 0.02, "val_accuracy": 0.5,
                              "val_log_loss": 1.07, "val_skill": 0.01, "sharpe_ratio": 0.4, "best_base": "catboost",
                              "improvement_over_best_base": 0.0, "log_loss_improvement_over_best_base": 0.0,
                              "intervals": intervals(0.509, 1.06, 0.02),
                              "gain_intervals": {"improvement_over_best_base": [-0.01, 0.01],
                                                 "log_loss_improvement_over_best_base": [-0.002, 0.002]}},
              "statistics": {"bootstrap": {"confidence": 0.95, "block": 20},
                             "sharpe": {m: {"psr": 0.6, "dsr": 0.2} for m in ("catboost", "tcn", "auto")},
                             "readings": {"pbo": "PBO 0.40: reading", "psr": "PSR 0.60: reading",
                                          "dsr": "DSR 0.20: reading"}},
              "samples": {"n_test": 7697, "test_period": ["2024-03-01 14:30:00+00:00", "2024-04-02 21:00:00+00:00"]},
              "meta_learner_weights": {"catboost": [1.0, 1.0, 1.0]}}
    report.update(fields)
    return report


def _table_headers(page: str, caption: str) -> list[str]:
    table = page.split(f"<h4>{caption}</h4>", 1)[1].split("</table>", 1)[0]
    return table.split("</tr>", 1)[0].split("<th>")[1:]


def test_score_page_is_compact_and_never_shows_nan(tmp_path):
    plots.write_score_page(_report(), tmp_path / "t.html", "MES h20 auto: scores")
    page = (tmp_path / "t.html").read_text()
    assert "nan" not in page.lower()
    assert len(_table_headers(page, "Test scores")) <= 9  # was 17 columns: one cell holds value and interval
    assert "<td class='num'>0.509 [0.479, 0.539]</td>" in page
    # the meta-learner's OOF skill does not apply: a dash and the footnote saying why
    assert "\u2014**" in page and "** the meta-learner has no OOF predictions of its own" in page
    assert "* left out of the meta-learner: no OOF skill" in page
    # validation scores are a second, small table
    assert [h.split("<")[0] for h in _table_headers(page, "Test scores")][:2] == ["model", "role"]
    assert "val accuracy" in page.split("<h4>Test scores</h4>", 1)[1].split("<h4>Validation", 1)[1]
    assert "val accuracy" not in page.split("<h4>Test scores</h4>", 1)[1].split("<h4>Validation", 1)[0]


def test_score_page_header_reads_data_meta_choice_and_caveats_first(tmp_path):
    report = _report(data_source={"description": "synthetic market, seed 42 (symbol MES): not market data"},
                     passes_through="catboost",
                     meta_auto_choice={"chosen": "meta_best_base", "rule": "one-SE"},
                     trading_caveats=["costs are a flat 0.5 bp", "no slippage model"])
    report["performance"]["gain_intervals"] = None
    plots.write_score_page(report, tmp_path / "t.html", "MES h20 auto: scores")
    page = (tmp_path / "t.html").read_text()
    order = ["synthetic market, seed 42 (symbol MES): not market data",
             "auto chose catboost (the best base by OOF log loss) and passes it through unchanged",
             "7697 rows, 2024-03-01 14:30 to 2024-04-02 21:00 UTC: accuracy 0.509 [0.479, 0.539] (chance 0.333)",
             "passes catboost through: no gain over it by construction",
             "<h4>Test scores</h4>", "<h4>Readings</h4>", "<li>PSR 0.60: reading</li>", "<li>DSR 0.20: reading</li>",
             "<li>PBO 0.40: reading</li>", "<h4>Caveats</h4>", "<li>costs are a flat 0.5 bp</li>"]
    positions = [page.find(text) for text in order]
    assert -1 not in positions and positions == sorted(positions), dict(zip(order, positions))
    assert "log loss 1.060 [1.020, 1.100] (class prior 1.080)" in page
    assert "meta-learner (= catboost)" in page
    head = page.split("<h4>Test scores</h4>", 1)[0]
    assert "interval [" not in head  # no gain interval: zero by construction
    assert "nan" not in page.lower()


def test_score_page_without_the_new_report_fields(tmp_path):
    """Reports written before data_source, passes_through and trading_caveats: no such lines, no error."""
    plots.write_score_page(_report(), tmp_path / "t.html", "scores")
    page = (tmp_path / "t.html").read_text()
    assert "<b>Data:</b>" not in page and "Caveats" not in page and "no gain over it by construction" not in page
    assert "<b>Meta-learner:</b> auto stacks the OOF probabilities of catboost (left out, no OOF skill: tcn)" in page
    assert "accuracy gain over the best base catboost: +0.0000, 95% interval [-0.0100, +0.0100]" in page


def test_score_bars_show_the_reference_lines_and_the_intervals():
    from matplotlib.container import ErrorbarContainer

    table = plots.score_table(_report())
    fig = plots.scores_figure(table, "scores", passes_through="catboost")
    accuracy, skill = fig.axes[:2]
    assert accuracy.get_ylim()[0] < 1 / 3 < accuracy.get_ylim()[1]  # the chance line shows
    assert skill.get_ylim()[0] < 0 < skill.get_ylim()[1]  # so does zero skill
    assert any(np.allclose(line.get_ydata(), 1 / 3) for line in accuracy.get_lines())
    assert any(np.allclose(line.get_ydata(), 0) for line in skill.get_lines())
    for ax, column in ((accuracy, "test_accuracy"), (skill, "test_skill")):
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 1
        segments = bars[0].lines[2][0].get_segments()
        np.testing.assert_allclose([s[:, 1] for s in segments], list(table[f"{column}_ci"]))
    assert [t.get_text() for t in accuracy.get_xticklabels()][-1] == "auto\n(= catboost)"
    # the right axis of the skill panel reads log loss: the class prior's at zero skill
    assert "class prior 1.080" in skill.child_axes[0].get_ylabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_weights_titles_do_not_overlap():
    import matplotlib.pyplot as plt

    regime = {name: {"shares": {"catboost": [0.7, 0.5, 0.6], "tcn": [0.3, 0.5, 0.4]}}
              for name in ("calm", "middle", "volatile")}
    method = ("share of |w_b| over bases, where w_b is the base's weight on its log probabilities at the regime "
              "features' mean (the same for every class); per volatility tercile of the fit rows")
    fig = plots.weights_figure({"catboost": [0.6, 0.5, 0.55], "tcn": [0.4, 0.5, 0.45]}, method, "MES h20 weights", regime)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    texts = [ax.title for ax in fig.axes if ax.get_title()]
    assert [t.get_text() for t in texts] == ["all rows", "calm third of volatility", "middle third of volatility",
                                             "volatile third of volatility"]
    for text in texts:
        assert not title.overlaps(text.get_window_extent(renderer)), text.get_text()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]  # panels and the colour bar side by side
    for k, box in enumerate(boxes):
        for other in boxes[k + 1:]:
            assert not box.overlaps(other)
    plt.close(fig)


def test_reliability_tells_apart_a_base_the_meta_learner_repeats():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    y = rng.choice([-1, 0, 1], size=400)
    a, b = rng.dirichlet([2, 2, 2], 400), rng.dirichlet([1, 1, 1], 400)
    fig = plots.reliability_figure(y, {"a": a, "b": b, "auto": a.copy()}, "reliability", meta="auto")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "auto (meta-learner; = a: same forecasts)"
    lines = {line.get_label(): line for line in ax.get_lines()}
    base, meta = lines["a"], lines[labels[-1]]
    np.testing.assert_array_equal(base.get_ydata(), meta.get_ydata())  # the same curve ...
    assert base.get_linestyle() == "-" and meta.get_linestyle() == "--"  # ... drawn solid under dashed
    assert meta.get_zorder() > base.get_zorder() and meta.get_markerfacecolor() == "none"
    assert len({line.get_marker() for line in (lines["a"], lines["b"], meta)}) == 3
    plt.close(fig)
    fig = plots.reliability_figure(y, {"a": a, "b": b, "auto": (a + b) / 2}, "reliability", meta="auto")
    assert fig.axes[0].get_legend().get_texts()[-1].get_text() == "auto (meta-learner)"
    plt.close(fig)


def test_gain_lines_follow_the_reports_best_base():
    report = _report()
    perf = report["performance"]
    perf.update(best_base="tcn", best_base_rule="the base with the lowest OOF log loss (train rows only)",
                improvement_over_best_base=0.039, log_loss_improvement_over_best_base=0.03)
    assert plots.gain_lines(report) == [
        "accuracy gain over the best base tcn: +0.0390, 95% interval [-0.0100, +0.0100]",
        "log-loss gain over the best base tcn: +0.0300, 95% interval [-0.0020, +0.0020]"]
    # passing a base other than the best one through: that gain is zero, the other still has its interval
    report["passes_through"] = "catboost"
    assert plots.gain_lines(report)[0] == "passes catboost through: no gain over it by construction"
    assert len(plots.gain_lines(report)) == 3
    report["passes_through"], perf["best_base"], perf["gain_intervals"] = "tcn", "tcn", None
    assert plots.gain_lines(report) == ["passes tcn through: no gain over it by construction"]
