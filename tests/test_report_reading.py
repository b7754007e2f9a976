"""What a report tells a reader first: which base the meta-learner passes through, the one best
base, the DSR of the model the report is about, and the caveats beside its trading figures."""

import numpy as np
import pytest

from hetstack.evaluation import passes_through
from hetstack.stages.report import ReportSettings, score_statistics, trading_caveats

RUN = ReportSettings(symbol="SYN", horizon=5, cost_bps=1.0, config_digest="", settings={})


def test_passes_through_names_the_base_returned_unchanged():
    rng = np.random.default_rng(0)
    bases = rng.dirichlet([1, 1, 1], size=(50, 2)).reshape(50, 6)
    columns = {"a": bases[:, :3], "b": bases[:, 3:6]}
    assert passes_through(bases[:, 3:6].copy(), columns) == "b"
    renormalized = bases[:, 3:6] / bases[:, 3:6].sum(axis=1, keepdims=True)  # rounding of a meta's output
    assert passes_through(renormalized, columns) == "b"
    blend = 0.5 * bases[:, :3] + 0.5 * bases[:, 3:]
    assert passes_through(blend, columns) is None


@pytest.fixture
def statistics(trading_problem):
    y, ids, close, good, noise = trading_problem
    # "a" trades best by far; the report is about "meta", a noisy model
    return score_statistics(y, ids, ids + 5, {"a": good, "b": noise, "meta": noise[::-1].copy()},
                            np.full(3, 1 / 3), ("meta", "b"), close, 252 * 390, RUN)


def test_the_dsr_reading_is_about_the_reports_model_not_the_top_sharpe(statistics):
    reading = statistics["readings"]["dsr"]
    assert "meta's test Sharpe" in reading and "(a," not in reading
    assert f"DSR {statistics['sharpe']['meta']['dsr']:.2f}" in reading


def test_trading_caveats_say_the_data_the_span_the_bets_the_interval_and_the_cost(statistics):
    trading = {"sharpe_ratio": 58.0, "years": 7 / 365.25, "annualized_return": 10.35, "turnover": 168.0}
    synthetic = trading_caveats(trading, statistics, "meta", {"kind": "synthetic"}, RUN, 3000)
    assert "synthetic bars" in synthetic[0]
    text = " ".join(synthetic)
    assert "7.0 days" in text and "mean little" in text and "1035%" in text
    low, high = statistics["intervals"]["meta"]["sharpe_ratio"]
    assert f"[{low:.2f}, {high:.2f}]" in text
    assert "about 600 independent bets" in text and "1 bp per unit of turnover" in text
    real = trading_caveats({**trading, "years": 2.0}, statistics, "meta", {"kind": "file"}, RUN, 3000)
    assert not any("synthetic" in line for line in real) and not any("mean little" in line for line in real)
