"""Known answers for hetstack.statistics: the papers' worked examples, coverage and PBO extremes."""

import math

import numpy as np
import pytest
from scipy import stats

from hetstack.errors import ConfigError, DataError
from hetstack.statistics import (
    cscv_pbo,
    deflated_sharpe,
    expected_max_sharpe,
    mean_intervals,
    probabilistic_sharpe,
    sharpe_intervals,
    sharpe_ratios,
    sharpe_statistics,
)


def test_deflated_sharpe_matches_the_papers_numerical_example():
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", section 4: 100 trials whose annualized
    # Sharpe ratios vary with variance 0.5, a 2.5 annualized Sharpe over 1,250 daily returns with
    # skewness -3 and kurtosis 10: SR0 = 0.1132 (daily) and DSR = 0.9004.
    days = 250
    sharpe = 2.5 / math.sqrt(days)
    assert expected_max_sharpe(100, 0.5 / days) == pytest.approx(0.1132, abs=5e-5)
    benchmark = expected_max_sharpe(100, 0.5 / days)
    assert probabilistic_sharpe(sharpe, 1250, -3.0, 10.0, benchmark) == pytest.approx(0.9004, abs=5e-5)


def test_deflated_sharpe_uses_the_trials_variance():
    trials = np.array([0.02, -0.01, 0.05, 0.0, 0.03])
    out = deflated_sharpe(0.05, 1000, 0.0, 3.0, trials)
    assert out["n_trials"] == 5 and out["trial_sharpe_variance"] == pytest.approx(trials.var(ddof=1))
    assert out["expected_max_sharpe"] == pytest.approx(expected_max_sharpe(5, trials.var(ddof=1)))
    # more trials of the same spread raise the bar, so the same Sharpe is less credible
    wide = deflated_sharpe(0.05, 1000, 0.0, 3.0, np.tile(trials, 20))
    assert wide["dsr"] < out["dsr"] < probabilistic_sharpe(0.05, 1000, 0.0, 3.0)


def test_expected_max_sharpe_matches_simulated_maxima():
    rng = np.random.default_rng(0)
    for n_trials in (10, 100, 1000):
        simulated = rng.standard_normal((2000, n_trials)).max(axis=1).mean()
        assert expected_max_sharpe(n_trials, 1.0) == pytest.approx(simulated, rel=0.03)
    assert expected_max_sharpe(1, 1.0) == 0.0


def test_psr_reduces_to_the_normal_formula_and_penalizes_negative_skew():
    sharpe, n = 0.1, 500
    normal = stats.norm.cdf(sharpe * math.sqrt(n - 1) / math.sqrt(1 + sharpe**2 / 2))
    assert probabilistic_sharpe(sharpe, n, 0.0, 3.0) == pytest.approx(normal)
    assert probabilistic_sharpe(sharpe, n, -2.0, 9.0) < probabilistic_sharpe(sharpe, n, 0.0, 3.0)
    assert probabilistic_sharpe(0.0, n, 0.0, 3.0) == pytest.approx(0.5)


def test_psr_is_calibrated_on_normal_returns_at_the_true_sharpe():
    # returns with true per-period Sharpe 0.05: PSR against 0.05 is uniform, so 5% exceed 0.95
    rng = np.random.default_rng(1)
    returns = 0.05 + rng.standard_normal((4000, 400))
    estimated = returns.mean(axis=1) / returns.std(axis=1, ddof=1)
    psr = np.array([probabilistic_sharpe(s, 400, 0.0, 3.0, 0.05) for s in estimated])
    assert np.mean(psr > 0.95) == pytest.approx(0.05, abs=0.015)
    assert np.mean(psr < 0.5) == pytest.approx(0.5, abs=0.03)


def test_sharpe_statistics_per_model():
    rng = np.random.default_rng(2)
    pnl = {"good": 0.002 + 0.01 * rng.standard_normal(3000), "noise": 0.01 * rng.standard_normal(3000),
           "flat": np.zeros(3000)}
    out = sharpe_statistics(pnl, periods_per_year=252)
    assert out["good"]["psr"] > 0.99 and out["good"]["dsr"] > 0.9
    assert out["flat"]["sharpe_ratio"] == 0.0 and out["flat"]["psr"] == pytest.approx(0.5)
    assert out["good"]["n_trials"] == 3
    assert out["good"]["sharpe_ratio"] == pytest.approx(out["good"]["sharpe_per_bar"] * math.sqrt(252))
    assert out["good"]["skewness"] == pytest.approx(stats.skew(pnl["good"]))


def _overlapping_means(rng, n, span):
    """Moving averages of `span` iid shocks: neighbours share shocks the way overlapping labels share bars."""
    shocks = rng.standard_normal(n + span)
    return np.convolve(shocks, np.ones(span) / span, mode="valid")[:n]


def test_block_intervals_cover_the_true_mean_where_iid_ones_would_not():
    rng = np.random.default_rng(3)
    span, n = 20, 2000
    covered, iid_covered = 0, 0
    for i in range(100):
        x = _overlapping_means(rng, n, span)
        (low, high), = mean_intervals(x, block=2 * span, reps=200, seed=i)
        covered += low <= 0.0 <= high
        (iid_low, iid_high), = mean_intervals(x, block=1, reps=200, seed=i)
        iid_covered += iid_low <= 0.0 <= iid_high
    assert covered >= 85  # nominal 95; blocks of 2x the overlap
    assert iid_covered <= 60  # iid resampling ignores the overlap: intervals ~sqrt(20) too narrow


def test_mean_intervals_are_paired_and_deterministic():
    rng = np.random.default_rng(4)
    common = _overlapping_means(rng, 3000, 20)
    a, b = common + 0.05, common + 0.01 * rng.standard_normal(3000)
    intervals = mean_intervals(np.column_stack([a, b, a - b]), block=40, seed=7)
    assert intervals == mean_intervals(np.column_stack([a, b, a - b]), block=40, seed=7)
    (a_low, a_high), (b_low, b_high), (d_low, d_high) = intervals
    assert a_low < a.mean() < a_high
    assert a_low < b_high  # the single intervals overlap, yet the paired difference is clearly > 0
    assert 0.04 < d_low < 0.05 < d_high < 0.06


def test_sharpe_intervals_contain_the_estimate():
    rng = np.random.default_rng(5)
    pnl = np.column_stack([0.001 + 0.01 * rng.standard_normal(5000), 0.01 * rng.standard_normal(5000)])
    estimate = sharpe_ratios(pnl, 252)
    for (low, high), value in zip(sharpe_intervals(pnl, 40, 252, seed=1), estimate):
        assert low < value < high
        assert high - low == pytest.approx(2 * 1.96 * math.sqrt(252 / 5000), rel=0.3)  # SE of a Sharpe ~ 1/sqrt(n)


def test_pbo_is_near_one_when_no_model_is_better_than_another_over_the_whole_period():
    # skill-free models with equal full-period performance: the in-sample winner is the out-of-sample loser
    rng = np.random.default_rng(6)
    returns = rng.standard_normal((1600, 10))
    returns -= returns.mean(axis=0)
    assert cscv_pbo(returns, 16)["pbo"] > 0.9


def test_pbo_of_iid_noise_models_is_about_one_half_or_more():
    rng = np.random.default_rng(7)
    values = [cscv_pbo(rng.standard_normal((1600, 10)), 8)["pbo"] for _ in range(20)]
    assert 0.35 < np.mean(values) < 0.9


def test_pbo_is_near_zero_when_one_model_is_truly_better():
    rng = np.random.default_rng(8)
    returns = rng.standard_normal((1600, 10))
    returns[:, 3] += 0.5
    out = cscv_pbo(returns, 16, names=[f"m{j}" for j in range(10)])
    assert out["pbo"] < 0.05
    assert out["in_sample_winner_share"]["m3"] > 0.95
    assert out["n_splits"] == math.comb(16, 8) and out["prob_oos_loss"] < 0.05


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match="pbo_blocks"):
        cscv_pbo(np.zeros((100, 3)), 5)
    with pytest.raises(DataError, match="one column"):
        cscv_pbo(np.zeros((100, 1)), 4)
    with pytest.raises(ConfigError, match="bootstrap_reps"):
        mean_intervals(np.zeros(100), 10, reps=10)
    with pytest.raises(DataError, match="finite"):
        mean_intervals(np.array([1.0, np.nan, 2.0]), 1)


def test_report_statistics_count_a_model_trading_as_another_once(trading_problem):
    from hetstack.stages.report import ReportSettings, score_statistics

    y, ids, close, good, noise = trading_problem
    run = ReportSettings(symbol="SYN", horizon=5, cost_bps=0.0, config_digest="", settings={})
    out = score_statistics(y, ids, ids + 5, {"a": good, "b": noise, "meta": good.copy()}, np.full(3, 1 / 3),
                           ("meta", "a"), close, 252 * 390, run)
    assert out["trials"] == ["a", "b"] and out["pbo"]["n_models"] == 2
    assert out["sharpe"]["meta"]["same_trades_as"] == "a" and out["sharpe"]["a"]["n_trials"] == 2
    assert out["gain_intervals"]["improvement_over_best_base"] == [0.0, 0.0]  # the same predictions
    low, high = out["intervals"]["a"]["accuracy"]
    assert low < float(np.mean(good.argmax(axis=1) - 1 == y)) < high
