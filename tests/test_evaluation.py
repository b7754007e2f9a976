import math

import numpy as np
import pandas as pd
import pytest

from hetstack.errors import DataError
from hetstack.evaluation import classification_metrics, staggered_book, trading_metrics

HOURS_PER_YEAR = 365.25 * 24


def hourly(n):
    return pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC").to_numpy()


# --- classification ------------------------------------------------------------------------

Y = np.array([-1, 0, 1, 1])
PROBA = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2]])


def test_classification_metrics_hand_computed():
    got = classification_metrics(Y, PROBA)
    assert got["accuracy"] == pytest.approx(0.75)  # last row predicts -1 for a +1
    expected_loss = -(math.log(0.7) + math.log(0.5) + math.log(0.6) + math.log(0.2)) / 4
    assert got["log_loss"] == pytest.approx(expected_loss, rel=1e-12)
    assert got["n"] == 4
    assert got["class_balance"] == {"-1": 0.25, "0": 0.25, "1": 0.5}


def test_skill_is_the_log_loss_gained_over_the_class_prior():
    from hetstack.evaluation import class_prior

    y = np.array([-1, 0, 0, 1, 0, 1])
    prior = class_prior(y)
    np.testing.assert_allclose(prior, [1 / 6, 1 / 2, 1 / 3])
    assert classification_metrics(y, np.tile(prior, (6, 1)), prior=prior)["skill"] == pytest.approx(0.0, abs=1e-12)
    sharp = np.full((6, 3), 0.1)
    sharp[np.arange(6), y + 1] = 0.8
    expected = -np.mean(np.log(prior[y + 1])) + np.log(0.8)
    assert classification_metrics(y, sharp, prior=prior)["skill"] == pytest.approx(expected)
    assert classification_metrics(y, sharp[:, ::-1], prior=prior)["skill"] < 0  # worse than the frequencies
    assert "skill" not in classification_metrics(y, sharp)


def test_classification_metrics_weighted():
    got = classification_metrics(Y, PROBA, sample_weight=[1, 1, 1, 3])
    assert got["accuracy"] == pytest.approx(3 / 6)
    expected_loss = -(math.log(0.7) + math.log(0.5) + math.log(0.6) + 3 * math.log(0.2)) / 6
    assert got["log_loss"] == pytest.approx(expected_loss, rel=1e-12)
    assert got["class_balance"] == {"-1": 0.25, "0": 0.25, "1": 0.5}  # unweighted shares


def test_classification_metrics_missing_class_still_uses_three_columns():
    got = classification_metrics(np.array([1, 1]), np.array([[0.1, 0.1, 0.8], [0.2, 0.2, 0.6]]))
    assert got["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert got["class_balance"]["-1"] == 0.0


def test_classification_metrics_rejects_bad_input():
    with pytest.raises(DataError):
        classification_metrics(np.array([2, 0]), PROBA[:2])
    with pytest.raises(DataError):
        classification_metrics(Y, PROBA[:, :2])


# --- staggered book --------------------------------------------------------------------------


def test_book_positions_and_turnover_hand_computed():
    close = np.array([100.0, 101, 102, 101, 103, 104])
    book = staggered_book(np.array([1, 1, -1]), np.array([0, 1, 2]), close, horizon=2, cost_bps=0)
    assert book.bars.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(book.position, [0.5, 1.0, 0.0, -0.5])
    np.testing.assert_allclose(book.traded, [0.5, 0.5, 1.0, 0.5 + 0.5])  # last includes the unwind
    np.testing.assert_allclose(book.bar_return, close[1:5] / close[0:4] - 1)


def test_book_gaps_between_samples_are_flat_sleeves():
    close = np.linspace(100, 110, 8)
    book = staggered_book(np.array([1, 1]), np.array([0, 3]), close, horizon=2, cost_bps=0)
    assert book.bars.tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(book.position, [0.5, 0.5, 0.0, 0.5, 0.5])


def test_position_never_earns_its_own_bar():
    # bar 5 jumps +50%; the only signal is taken AT bar 5, so it must not see that jump
    close = np.full(12, 100.0)
    close[5:] = 150.0
    positions = np.zeros(6)
    positions[5] = 1.0
    book = staggered_book(positions, np.arange(6), close, horizon=3, cost_bps=0)
    assert np.all(book.pnl == 0.0)
    # one bar earlier it does earn it, so the check above is not vacuous
    earlier = np.zeros(6)
    earlier[4] = 1.0
    assert staggered_book(earlier, np.arange(6), close, horizon=3, cost_bps=0).pnl.sum() == pytest.approx(0.5 / 3)


def test_perfect_foresight_on_monotone_path():
    close = 100 * 1.001 ** np.arange(300)
    ids = np.arange(290)
    got = trading_metrics(np.ones(ids.size), ids, close, hourly(300), horizon=10, cost_bps=0)
    assert got["sharpe_ratio"] > 0
    assert got["max_drawdown"] == 0.0
    assert got["total_return"] > 0
    assert got["hit_rate"] == 1.0
    assert got["n_signals"] == 290


def random_walk(n, seed):
    rng = np.random.default_rng(seed)
    return 100 * np.cumprod(1 + rng.normal(0, 0.01, n))


def test_foresight_wins_and_inverted_loses():
    close = random_walk(500, 1)
    horizon = 5
    ids = np.arange(0, 500 - horizon)
    simple = close[1:] / close[:-1] - 1
    # sign of each sleeve's own summed bar returns: every sleeve then earns >= 0
    sleeve_sum = np.array([simple[i : i + horizon].sum() for i in ids])
    foresight = np.sign(sleeve_sum)
    good = trading_metrics(foresight, ids, close, hourly(500), horizon, cost_bps=0)
    bad = trading_metrics(-foresight, ids, close, hourly(500), horizon, cost_bps=0)
    assert good["sharpe_ratio"] > 0 > bad["sharpe_ratio"]
    assert good["sharpe_ratio"] == pytest.approx(-bad["sharpe_ratio"])
    assert good["total_return"] > 0 > bad["total_return"]
    assert bad["max_drawdown"] < good["max_drawdown"] <= 0


def test_costs_reduce_pnl_by_turnover_times_cost():
    close = random_walk(200, 2)
    ids = np.arange(0, 190, 2)
    positions = np.random.default_rng(3).choice([-1, 0, 1], ids.size)
    free = staggered_book(positions, ids, close, 4, 0)
    costly = staggered_book(positions, ids, close, 4, 7.5)
    np.testing.assert_allclose(free.pnl - costly.pnl, 7.5e-4 * free.traded, rtol=0, atol=1e-15)
    metrics = trading_metrics(positions, ids, close, hourly(200), 4, 7.5)
    assert (free.pnl.sum() - costly.pnl.sum()) == pytest.approx(metrics["turnover"] * 7.5e-4, rel=1e-12)
    # on a flat price every bar's P&L is the cost alone
    flat = np.full(200, 50.0)
    on_flat = trading_metrics(positions, ids, flat, hourly(200), 4, 7.5)
    assert on_flat["total_return"] == pytest.approx(np.prod(1 - 7.5e-4 * free.traded) - 1, rel=1e-12)
    assert on_flat["turnover"] == pytest.approx(free.traded.sum())


def test_drawdown_and_returns_on_hand_made_equity():
    # horizon 1, always long: equity tracks close / 100 = 1.1, 0.99, 1.089, 1.2
    close = np.array([100.0, 110.0, 99.0, 108.9, 120.0])
    got = trading_metrics(np.ones(4), np.arange(4), close, hourly(5), horizon=1, cost_bps=0)
    assert got["max_drawdown"] == pytest.approx(0.99 / 1.1 - 1)
    assert got["total_return"] == pytest.approx(0.2)
    assert got["bars_per_year"] == pytest.approx(HOURS_PER_YEAR)
    years = 4 / HOURS_PER_YEAR
    assert got["annualized_return"] == pytest.approx(1.2 ** (1 / years) - 1, rel=1e-9)
    pnl = close[1:] / close[:-1] - 1
    expected_sharpe = pnl.mean() / pnl.std(ddof=1) * math.sqrt(HOURS_PER_YEAR)
    assert got["sharpe_ratio"] == pytest.approx(expected_sharpe, rel=1e-12)
    assert got["annualized_volatility"] == pytest.approx(pnl.std(ddof=1) * math.sqrt(HOURS_PER_YEAR), rel=1e-12)
    assert got["turnover"] == pytest.approx(2.0)  # enter at the start, unwind at the end


def test_bars_per_year_from_daily_timestamps():
    close = random_walk(40, 4)
    stamps = pd.date_range("2023-01-02", periods=40, freq="D", tz="UTC")
    got = trading_metrics(np.ones(30), np.arange(30), close, stamps, 3, 0)
    assert got["bars_per_year"] == pytest.approx(365.25)
    naive = trading_metrics(np.ones(30), np.arange(30), close, stamps.tz_localize(None).to_numpy(), 3, 0)
    assert naive["bars_per_year"] == pytest.approx(365.25)


def test_zero_variance_gives_zero_sharpe():
    close = random_walk(50, 5)
    got = trading_metrics(np.zeros(40), np.arange(40), close, hourly(50), 5, 1.0)
    assert got["sharpe_ratio"] == 0.0
    assert got["max_drawdown"] == 0.0
    assert got["total_return"] == 0.0
    assert got["turnover"] == 0.0
    assert got["n_signals"] == 0
    assert math.isnan(got["hit_rate"])


def test_hit_rate_hand_computed():
    close = np.array([100.0, 101, 99, 102, 98, 97])
    # forward 1-bar returns at ids 0..3: +, -, +, -
    got = trading_metrics(np.array([1, 1, -1, 0]), np.arange(4), close, hourly(6), 1, 0)
    assert got["n_signals"] == 3
    assert got["hit_rate"] == pytest.approx(1 / 3)  # id 0 hits, id 1 misses, id 2 (short before a rise) misses


def test_rejects_samples_without_a_full_horizon():
    with pytest.raises(DataError):
        trading_metrics(np.ones(10), np.arange(10), np.linspace(1, 2, 12), hourly(12), 3, 0)


def test_bet_sizes_follow_the_predicted_sides_probability():
    from hetstack.evaluation import bet_sizes

    probabilities = np.array([[1 / 3, 1 / 3 + 1e-12, 1 / 3 - 1e-12],  # a coin flip among three: no bet
                              [0.1, 0.2, 0.7], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1],
                              [0.2, 0.7, 0.1],  # flat predicted: no bet whatever its probability
                              [0.0, 0.0, 1.0]])
    sizes = bet_sizes(probabilities)
    assert sizes[0] == pytest.approx(0, abs=1e-6) and sizes[4] == 0
    assert 0 < sizes[1] < sizes[2] < 1 and sizes[3] == pytest.approx(-sizes[2])
    assert sizes[5] == pytest.approx(1.0)
    # AFML 10.1 by hand for p = 0.7 of three classes
    z = (0.7 - 1 / 3) / np.sqrt(0.7 * 0.3)
    from scipy.stats import norm
    assert sizes[1] == pytest.approx(2 * norm.cdf(z) - 1)


def test_sharpe_gap_interval_is_paired():
    from hetstack.statistics import sharpe_gap_interval

    rng = np.random.default_rng(0)
    common = rng.normal(0.001, 0.01, 2000)
    a, b = common + rng.normal(0.0005, 0.001, 2000), common
    low, high = sharpe_gap_interval(a, b, 20, 252, reps=300)
    assert 0 < low < high  # a small edge on a shared noisy book: paired, the gap is resolved
    assert sharpe_gap_interval(b, b, 20, 252, reps=100) == [0.0, 0.0]
