"""Multi-resolution neural bases (PatchTST, iTransformer, TFT) and the causality of their adapter."""

import numpy as np
import pytest

from hetstack.adapters import MultiResSet, build_multires_bars, multires_lookback
from hetstack.catalogue import get_spec, load_model
from hetstack.synthetic import generate_market

NAMES = ["patchtst", "itransformer", "tft"]
TRAIN = {"epochs": 12, "batch_size": 64, "lr": 3e-3, "patience": 4}
TINY = {
    "patchtst": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32},
    "itransformer": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32},
    "tft": {"d_model": 16, "n_heads": 2},
}


def params(name, **overrides):
    return {**TRAIN, **TINY[name], **overrides}


def planted_windows(n=1200, n_tf=3, seq_len=16, seed=0):
    """(n, TF, T, 4) OHLC log ratios to the last close; label = dead-zoned trend of timeframe 2's close."""
    rng = np.random.default_rng(seed)
    close = np.cumsum(rng.normal(size=(n, n_tf, seq_len)), axis=2)
    close -= close[:, :, -1:]  # the newest close of every timeframe is the reference: log ratio 0
    open_ = np.concatenate([close[:, :, :1] - rng.normal(size=(n, n_tf, 1)), close[:, :, :-1]], axis=2)
    high = np.maximum(open_, close) + np.abs(rng.normal(scale=0.3, size=close.shape))
    low = np.minimum(open_, close) - np.abs(rng.normal(scale=0.3, size=close.shape))
    X = np.stack([open_, high, low, close], axis=-1).astype(np.float32)
    trend = close[:, 2, -1] - close[:, 2, -5]  # move of timeframe 2 over its last 4 bars
    cut = np.quantile(np.abs(trend), 1 / 3)
    y = np.where(trend > cut, 1, np.where(trend < -cut, -1, 0)).astype(np.int8)
    return X, y


@pytest.fixture(scope="module")
def planted():
    X, y = planted_windows()
    return X[:900], y[:900], X[900:1000], y[900:1000], X[1000:], y[1000:]


@pytest.fixture(scope="module")
def fitted(planted):
    """One fitted model per name, shared by the tests that only read it."""
    X, y, Xv, yv, _, _ = planted
    cache = {}

    def get(name):
        if name not in cache:
            model = get_spec(name).cls(params(name), seed=1, threads=1)
            cache[name] = (model, model.fit(X, y, Xv, yv))
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_learns_a_planted_multires_signal(name, planted, fitted):
    *_, Xt, yt = planted
    model, metrics = fitted(name)
    out = model.predict(Xt)
    assert out.probabilities.shape == (len(Xt), 3)
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-9)
    chance = max(np.mean(yt == c) for c in (-1, 0, 1))
    assert np.mean(out.predictions == yt) > chance + 0.2
    assert metrics.val_accuracy is not None and metrics.val_accuracy > chance


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_probabilities(name, planted, fitted, tmp_path):
    *_, Xt, _ = planted
    model, _ = fitted(name)
    model.save(tmp_path / name)
    assert (tmp_path / name / "weights.pt").is_file() and (tmp_path / name / "model.json").is_file()
    loaded = load_model(tmp_path / name)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(Xt).probabilities, model.predict(Xt).probabilities)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_probabilities(name, planted):
    X, y, Xv, yv, Xt, _ = planted
    runs = []
    for _ in range(2):
        model = get_spec(name).cls(params(name, epochs=2), seed=5, threads=1)
        model.fit(X[:300], y[:300], Xv, yv)
        runs.append(model.predict(Xt).probabilities)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.fixture(scope="module")
def market():
    bars = generate_market("TST", 3000, seed=1)
    return bars, build_multires_bars(bars, [1, 5, 15])


@pytest.mark.parametrize("name", NAMES)
def test_trains_through_a_lazy_multires_set(name, market):
    _, ohlc = market
    timeframes, seq_len = [1, 5, 15], 8
    ids = np.arange(multires_lookback(timeframes, seq_len), ohlc.shape[1], 4)
    train, val = MultiResSet(ohlc, timeframes, ids[:500], seq_len), MultiResSet(ohlc, timeframes, ids[500:], seq_len)
    assert train.shape == (500, 3, 8, 5)
    rng = np.random.default_rng(0)
    y, yv = rng.integers(-1, 2, size=len(train)), rng.integers(-1, 2, size=len(val))
    model = get_spec(name).cls(params(name, epochs=2), seed=0, threads=1)
    metrics = model.fit(train, y, val, yv)
    assert model.input_shape_ == (3, 8, 5)
    proba = model.predict(val).probabilities
    assert proba.shape == (len(val), 3) and np.isfinite(proba).all()
    assert np.isfinite(metrics.train_log_loss) and np.isfinite(metrics.val_log_loss)


@pytest.mark.parametrize("name", NAMES)
def test_registered_as_multires(name):
    spec = get_spec(name)
    assert spec.input_kind == "multires" and spec.cls.input_kind == "multires"
    assert spec.family == "transformer"


def test_multires_windows_are_causal(market):
    bars, ohlc = market
    timeframes, seq_len, i = [1, 5, 15], 8, 1500
    changed = bars.copy()
    for col in ("open", "high", "low", "close"):  # same factor on every price keeps OHLC consistent
        changed.loc[changed.index > i, col] *= 1.5
    ohlc_changed = build_multires_bars(changed, timeframes)
    ids = np.array([i, i + 1])
    before = MultiResSet(ohlc, timeframes, ids, seq_len).batch(np.arange(2))
    after = MultiResSet(ohlc_changed, timeframes, ids, seq_len).batch(np.arange(2))
    assert before[0].tobytes() == after[0].tobytes()  # bitwise: sample i sees nothing after bar i
    assert not np.array_equal(before[1], after[1])  # the change is visible one bar later


def test_multires_window_shape_and_content(market):
    bars, ohlc = market
    timeframes, seq_len = [1, 5, 15], 8
    ids = np.array([multires_lookback(timeframes, seq_len), 1500, 2999])
    with pytest.raises(ValueError, match="bars of history"):
        MultiResSet(ohlc, timeframes, ids - 1, seq_len)
    batch = MultiResSet(ohlc, timeframes, ids, seq_len).batch(np.arange(len(ids)))
    assert batch.shape == (3, len(timeframes), seq_len, 5) and batch.dtype == np.float32
    assert np.isfinite(batch).all()
    # timeframe 5 of sample i: closes at i, i - 5, ..., i - 35 and the one before them at i - 40
    i = ids[1]
    tf5 = ohlc[1].astype(np.float64)  # the stored float32 5-bars: open, high, low, close, volume
    close = tf5[:, 3]
    np.testing.assert_allclose(tf5[i, :2], [bars["open"].iloc[i - 4], bars["high"].iloc[i - 4:i + 1].max()], rtol=1e-6)
    closes = close[i - 5 * np.arange(seq_len, -1, -1)]
    returns = np.diff(np.log(closes))
    sigma = np.sqrt(np.mean(returns ** 2))
    np.testing.assert_allclose(batch[1, 1, :, 3], returns / sigma, atol=1e-4)  # close channel in vol units
    assert np.mean(batch[1, 1, :, 3] ** 2) == pytest.approx(1.0, abs=1e-4)
    # the newest 5-bar opens at open[i - 4] and spans high[i - 4 .. i], against the close at i - 5
    np.testing.assert_allclose(batch[1, 1, -1, 0], np.log(tf5[i, 0] / close[i - 5]) / sigma, atol=1e-4)
    np.testing.assert_allclose(batch[1, 1, -1, 1], np.log(tf5[i, 1] / close[i - 5]) / sigma, atol=1e-4)
    # volume: log(1 + the 5-bar's summed volume), relative to its window's mean
    volume = [bars["volume"].to_numpy()[e - 4:e + 1].sum() for e in i - 5 * np.arange(seq_len - 1, -1, -1)]
    np.testing.assert_allclose(tf5[i - 5 * np.arange(seq_len - 1, -1, -1), 4], volume, rtol=1e-6)
    np.testing.assert_allclose(batch[1, 1, :, 4], np.log1p(volume) - np.log1p(volume).mean(), atol=1e-4)
