"""Known answers for hetstack.statistics: the papers' worked examples, coverage and PBO extremes."""

import math

import numpy as np
import pytest
from scipy import stats

from hetstack.errors import ConfigError, DataError
from hetstack.statistics import (
    cscv_pbo,
    pbo_across_runs,
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
    assert out["n_trials"] == 5 and out["trial_sharpe_variance_per_bar"] == pytest.approx(trials.var(ddof=1))
    assert out["expected_max_sharpe_per_bar"] == pytest.approx(expected_max_sharpe(5, trials.var(ddof=1)))
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


def test_sharpe_statistics_use_raw_kurtosis_as_the_psr_formula_does():
    rng = np.random.default_rng(3)
    normal = rng.normal(0.001, 0.01, 20000)
    fat = rng.standard_t(5, 20000) * 0.01 + 0.001  # raw kurtosis 3 + 6 / (5 - 4) = 9
    out = sharpe_statistics({"normal": normal, "fat": fat}, 252)
    assert out["normal"]["kurtosis"] == pytest.approx(3.0, abs=0.15)  # excess kurtosis would be near 0
    assert 6.0 < out["fat"]["kurtosis"] < 12.0
    for name, pnl in (("normal", normal), ("fat", fat)):
        sharpe = pnl.mean() / pnl.std(ddof=1)
        assert out[name]["psr"] == pytest.approx(
            probabilistic_sharpe(sharpe, len(pnl), stats.skew(pnl), stats.kurtosis(pnl, fisher=False)))
    # fat tails widen the Sharpe's error: the same Sharpe is less certain
    assert probabilistic_sharpe(0.05, 500, 0.0, 9.0) < probabilistic_sharpe(0.05, 500, 0.0, 3.0)
    assert set(out["normal"]) >= {"expected_max_sharpe_per_bar", "trial_sharpe_variance_per_bar", "sharpe_per_bar"}


def test_report_gain_intervals_hold_the_paired_gain_of_a_meta_that_differs(trading_problem):
    from hetstack.evaluation import per_sample_scores
    from hetstack.stages.meta import block_rows
    from hetstack.stages.report import ReportSettings, score_statistics

    y, ids, close, good, noise = trading_problem
    run = ReportSettings(symbol="SYN", horizon=5, cost_bps=0.0, config_digest="", settings={})
    prior = np.full(3, 1 / 3)
    base_probabilities = 0.4 * good + 0.6 * noise
    for meta, sign in ((good, 1), (0.45 * good + 0.55 * noise, 0), (noise, -1)):
        out = score_statistics(y, ids, ids + 5, {"base": base_probabilities, "meta": meta}, prior,
                               ("meta", "base"), close, 252 * 390, run)
        base, mine = (per_sample_scores(y, p, prior) for p in (base_probabilities, meta))
        for key, gain in (("improvement_over_best_base", mine["accuracy"] - base["accuracy"]),
                          ("log_loss_improvement_over_best_base", base["log_loss"] - mine["log_loss"])):
            low, high = out["gain_intervals"][key]
            assert low <= gain.mean() <= high and low < high
            if sign:  # clearly better or clearly worse: the interval says so
                assert (low > 0) if sign > 0 else (high < 0), key
    assert out["bootstrap"]["block"] == block_rows(ids, ids + 5) == 10
    from hetstack.evaluation import se_blocks

    gain = base["log_loss"] - mine["log_loss"]
    assert out["standard_errors"]["gains"]["log_loss_improvement_over_best_base"] == pytest.approx(se_blocks(gain, 10))
    assert out["standard_errors"]["meta"]["skill"] == pytest.approx(se_blocks(mine["skill"], 10))
    assert out["standard_errors"]["meta"]["skill"] > 0


def test_sharpe_intervals_resample_blocks_of_at_least_twice_the_horizon(trading_problem):
    from hetstack.stages.report import ReportSettings, score_statistics

    y, ids, close, good, noise = trading_problem
    for horizon in (5, 20):
        run = ReportSettings(symbol="SYN", horizon=horizon, cost_bps=0.0, config_digest="", settings={})
        out = score_statistics(y, ids, ids + 2, {"a": good, "meta": noise}, np.full(3, 1 / 3), ("meta", "a"),
                               close, 252 * 390, run)
        assert out["bootstrap"]["block"] == 4  # twice the longest label span: the score intervals
        assert out["bootstrap"]["sharpe_block"] == 2 * horizon  # the book holds each bet h bars


def test_random_effects_pool_matches_a_hand_computed_dersimonian_laird_example():
    from hetstack.statistics import random_effects_pool

    # y = (0.1, 0.3, 0.5), se = (0.1, 0.1, 0.2): w = (100, 100, 25), sum 225; fixed mean
    # (10 + 30 + 12.5) / 225 = 0.23333; Q = 100 * 0.13333² + 100 * 0.06667² + 25 * 0.26667² = 4.0;
    # C = 225 - (100² + 100² + 25²) / 225 = 133.33; tau² = (4 - 2) / 133.33 = 0.015;
    # w* = 1 / (se² + 0.015) = (40, 40, 18.182), sum 98.182; pooled = (4 + 12 + 9.0909) / 98.182 = 0.25556;
    # SE = 1 / sqrt(98.182) = 0.10092; I² = (4 - 2) / 4 = 0.5.
    out = random_effects_pool([0.1, 0.3, 0.5], [0.1, 0.1, 0.2])
    assert out["q"] == pytest.approx(4.0) and out["tau2"] == pytest.approx(0.015)
    assert out["estimate"] == pytest.approx(0.25556, abs=1e-5) and out["se"] == pytest.approx(0.10092, abs=1e-5)
    assert out["i2"] == pytest.approx(0.5) and out["k"] == 3
    # runs that agree within their errors: no between-run variance, the fixed-effect answer
    agree = random_effects_pool([0.2, 0.21, 0.19], [0.05, 0.05, 0.05])
    assert agree["tau2"] == 0.0 and agree["estimate"] == pytest.approx(0.2)
    assert agree["se"] == pytest.approx(0.05 / math.sqrt(3))
    assert random_effects_pool([0.3], [0.1])["estimate"] == 0.3
    with pytest.raises(DataError, match="SE > 0"):
        random_effects_pool([0.1, 0.2], [0.1, 0.0])


def test_pbo_across_runs_tells_a_model_best_everywhere_from_a_draw():
    rng = np.random.default_rng(0)
    skills = rng.normal(scale=0.01, size=(8, 5))
    skills[:, 2] += 0.05  # model 2 best in every run
    steady = pbo_across_runs(skills, names=list("abcde"))
    assert steady["pbo"] == 0.0 and steady["in_sample_winner_share"] == {"c": 1.0}
    assert steady["n_runs"] == 8 and steady["n_splits"] == 70  # C(8, 4)
    draws = [pbo_across_runs(rng.normal(size=(8, 6)))["pbo"] for _ in range(30)]
    assert np.mean(draws) > 0.35  # noise: the winner of half the runs is no better than the median elsewhere
    with pytest.raises(DataError):
        pbo_across_runs(np.zeros((1, 3)))
