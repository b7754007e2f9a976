import numpy as np
import pytest

from hetstack import labels as labels_module
from hetstack.errors import ConfigError, DataError
from hetstack.labels import average_uniqueness, triple_barrier

HORIZON = 5
VOL_WINDOW = 4
# Bars 0..4: log returns +1%, -1%, +1%, -1% -> sigma_4 = std(ddof=1) = sqrt(4e-4 / 3).
PREFIX_LOG = np.array([0.0, 0.01, 0.0, 0.01, 0.0])
SIGMA_4 = np.sqrt(4e-4 / 3)
BARRIER_4 = 1.0 * SIGMA_4 * np.sqrt(HORIZON)  # ~0.02582
I = 4  # the bar whose label each hand-made path decides


def path(future_moves):
    """Close prices: the fixed prefix, then log moves c_j = log(close[I+j]/close[I])."""
    log_close = np.concatenate([PREFIX_LOG, PREFIX_LOG[-1] + np.asarray(future_moves, dtype=float)])
    return 100.0 * np.exp(log_close)


def label_at_i(future_moves):
    result = triple_barrier(path(future_moves), HORIZON, 1.0, VOL_WINDOW)
    assert result.barrier[I] == pytest.approx(BARRIER_4, rel=1e-12)
    return result


def test_rise_past_upper_barrier_at_third_bar():
    result = label_at_i([0.01, 0.015, 0.03, 0.01, 0.0])
    assert result.valid[I]
    assert result.label[I] == 1
    assert result.t1[I] == I + 3


def test_fall_past_lower_barrier_first():
    result = label_at_i([-0.005, -0.03, 0.05, 0.05, 0.05])
    assert result.label[I] == -1
    assert result.t1[I] == I + 2


def test_flat_path_hits_vertical_barrier():
    result = label_at_i([0.001, -0.001, 0.002, 0.0, 0.001])
    assert result.label[I] == 0
    assert result.t1[I] == I + HORIZON
    assert result.forward_return[I] == pytest.approx(0.001, abs=1e-12)


def test_both_barriers_crossed_upper_first_wins():
    result = label_at_i([0.03, -0.05, 0.0, 0.0, 0.0])
    assert result.label[I] == 1
    assert result.t1[I] == I + 1


def test_both_barriers_crossed_lower_first_wins():
    result = label_at_i([0.0, -0.03, 0.05, 0.0, 0.0])
    assert result.label[I] == -1
    assert result.t1[I] == I + 2


def test_barrier_just_inside_is_not_a_touch():
    just_below = BARRIER_4 * (1 - 1e-6)
    result = label_at_i([just_below, -just_below, 0.0, 0.0, 0.0])
    assert result.label[I] == 0
    assert result.t1[I] == I + HORIZON


def test_warmup_and_tail_bars_are_invalid():
    result = label_at_i([0.01, 0.015, 0.03, 0.01, 0.0])
    n = len(result.label)
    assert n == 10
    # bars 0..3: not enough returns for sigma; bars 5..9: path incomplete (i + 5 > 9)
    assert result.valid.tolist() == [False] * 4 + [True] + [False] * 5
    assert np.isnan(result.barrier[:VOL_WINDOW]).all()
    assert np.isnan(result.forward_return[~result.valid]).all()
    assert (result.label[~result.valid] == 0).all()
    assert (result.t1[~result.valid] == np.flatnonzero(~result.valid) + HORIZON).all()


def test_output_dtypes():
    result = label_at_i([0.01, 0.015, 0.03, 0.01, 0.0])
    assert result.label.dtype == np.int8
    assert result.t1.dtype == np.int64
    assert result.valid.dtype == bool
    assert result.forward_return.dtype == np.float64
    assert result.barrier.dtype == np.float64


def test_forward_return_is_log_return_over_horizon():
    rng = np.random.default_rng(0)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    result = triple_barrier(close, 7, 1.5, 10)
    idx = np.flatnonzero(result.valid)
    np.testing.assert_allclose(result.forward_return[idx], np.log(close[idx + 7] / close[idx]), rtol=0, atol=1e-14)


def test_zero_volatility_is_invalid():
    close = np.full(20, 10.0)
    result = triple_barrier(close, 3, 1.0, 4)
    assert not result.valid.any()


def test_sigma_is_causal():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 200)))
    base = triple_barrier(close, 10, 1.0, 20)
    for cut in (25, 80, 150):
        changed = close.copy()
        changed[cut + 1 :] *= np.exp(rng.normal(0, 0.2, len(close) - cut - 1))
        other = triple_barrier(changed, 10, 1.0, 20)
        # barrier_i only sees closes up to i
        np.testing.assert_array_equal(base.barrier[: cut + 1], other.barrier[: cut + 1])
        # labels only see closes up to i + horizon
        keep = slice(0, cut + 1 - 10)
        np.testing.assert_array_equal(base.label[keep], other.label[keep])
        np.testing.assert_array_equal(base.t1[keep], other.t1[keep])
        np.testing.assert_array_equal(base.valid[keep], other.valid[keep])
        # the check is not vacuous: later barriers do move
        assert not np.allclose(base.barrier[cut + 25 :], other.barrier[cut + 25 :], equal_nan=True)


def reference_triple_barrier(close, horizon, barrier_k, vol_window):
    """Plain per-bar loop, used only to check the vectorized version."""
    n = len(close)
    log_close = np.log(close)
    returns = np.diff(log_close)
    label = np.zeros(n, dtype=int)
    t1 = np.arange(n) + horizon
    valid = np.zeros(n, dtype=bool)
    for i in range(n):
        if i < vol_window or i + horizon > n - 1:
            continue
        sigma = np.std(returns[i - vol_window : i], ddof=1)
        if sigma <= 0:
            continue
        width = barrier_k * sigma * np.sqrt(horizon)
        valid[i] = True
        for j in range(1, horizon + 1):
            c = log_close[i + j] - log_close[i]
            if c >= width:
                label[i], t1[i] = 1, i + j
                break
            if c <= -width:
                label[i], t1[i] = -1, i + j
                break
    return label, t1, valid


@pytest.mark.parametrize("cells", [7, 64, 1 << 20])
def test_vectorized_matches_loop_across_chunk_sizes(monkeypatch, cells):
    monkeypatch.setattr(labels_module, "_CELLS_PER_CHUNK", cells)
    rng = np.random.default_rng(2)
    close = 20 * np.exp(np.cumsum(rng.standard_t(4, 400) * 0.01))
    for horizon, k, window in [(1, 0.5, 2), (6, 1.0, 5), (15, 2.0, 30)]:
        got = triple_barrier(close, horizon, k, window)
        label, t1, valid = reference_triple_barrier(close, horizon, k, window)
        np.testing.assert_array_equal(got.valid, valid)
        np.testing.assert_array_equal(got.label, label)
        np.testing.assert_array_equal(got.t1, t1)
        assert set(np.unique(got.label[valid])) == {-1, 0, 1}


def test_t1_bounds():
    rng = np.random.default_rng(3)
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.01, 500)))
    result = triple_barrier(close, 12, 0.8, 15)
    ids = np.flatnonzero(result.valid)
    assert (result.t1[ids] > ids).all()
    assert (result.t1[ids] <= ids + 12).all()
    assert (result.t1[ids] <= len(close) - 1).all()


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(horizon=0), "horizons"),
        (dict(horizon=2.5), "horizons"),
        (dict(barrier_k=0.0), "labels.barrier_k"),
        (dict(barrier_k=float("nan")), "labels.barrier_k"),
        (dict(vol_window=1), "labels.vol_window"),
    ],
)
def test_bad_config_raises(kwargs, key):
    args = dict(horizon=3, barrier_k=1.0, vol_window=5) | kwargs
    with pytest.raises(ConfigError, match=f"config: {key}"):
        triple_barrier(np.linspace(1, 2, 50), **args)


def test_bad_close_raises():
    close = np.linspace(1, 2, 50)
    close[10] = np.nan
    with pytest.raises(DataError):
        triple_barrier(close, 3, 1.0, 5)


def test_uniqueness_hand_computed():
    # spans (0,3], (2,5], (4,6] over 8 bars; concurrency bars 1..6 = 1,1,2,1,2,1
    # raw: (1+1+1/2)/3 = 5/6, (1/2+1+1/2)/3 = 2/3, (1/2+1)/2 = 3/4; mean 3/4
    weights = average_uniqueness(np.array([0, 2, 4]), np.array([3, 5, 6]), 8)
    np.testing.assert_allclose(weights, [10 / 9, 8 / 9, 1.0], rtol=1e-12)


def test_uniqueness_of_disjoint_and_identical_spans():
    disjoint = average_uniqueness(np.array([0, 3, 6]), np.array([2, 5, 9]), 10)
    np.testing.assert_allclose(disjoint, 1.0)
    # two identical spans each get 1/2 and a lone span 1 -> normalized 0.75, 0.75, 1.5
    mixed = average_uniqueness(np.array([0, 0, 5]), np.array([4, 4, 7]), 8)
    np.testing.assert_allclose(mixed, [0.75, 0.75, 1.5], rtol=1e-12)


def test_uniqueness_matches_brute_force():
    rng = np.random.default_rng(4)
    n_bars = 300
    t0 = np.sort(rng.choice(n_bars - 20, 120, replace=False))
    t1 = t0 + rng.integers(1, 20, t0.size)
    concurrency = np.zeros(n_bars)
    for a, b in zip(t0, t1):
        concurrency[a + 1 : b + 1] += 1
    raw = np.array([np.mean(1 / concurrency[a + 1 : b + 1]) for a, b in zip(t0, t1)])
    np.testing.assert_allclose(average_uniqueness(t0, t1, n_bars), raw / raw.mean(), rtol=1e-10)


def test_uniqueness_rejects_bad_spans():
    with pytest.raises(DataError):
        average_uniqueness(np.array([3]), np.array([3]), 10)
    with pytest.raises(DataError):
        average_uniqueness(np.array([3]), np.array([10]), 10)
    assert average_uniqueness(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 10).size == 0
