"""The regime-aware meta-learner, its causal regime features and the synthetic market's regime effect."""

import numpy as np
import pandas as pd
import pytest

from hetstack.catalogue import get_spec, load_model
from hetstack.models.base import softmax
from hetstack.regime import REGIME_FEATURES, meta_inputs, regime_features, regime_rows
from hetstack.synthetic import _generate, generate_market, volatile_regime


def log_loss(y, proba):
    return float(-np.mean(np.log(proba[np.arange(len(y)), np.asarray(y) + 1])))


def regime_toy(n: int, seed: int, regime_matters: bool = True):
    """Base `a` knows the signal at half strength everywhere; the signal is real only in the volatile
    state (blocks of 500 rows), which the first regime feature shows. Base `b` is noise."""
    rng = np.random.default_rng(seed)
    volatile = (np.arange(n) // 500) % 2 == 1
    signal = rng.normal(size=n)
    scores = 1.5 * np.column_stack([-signal, np.zeros(n), signal])
    truth = softmax(np.where(volatile[:, None], scores, 0.0) if regime_matters else 0.5 * scores)
    y = (rng.random(n)[:, None] > truth.cumsum(axis=1)).sum(axis=1) - 1
    a = softmax(0.5 * scores + rng.normal(scale=0.1, size=(n, 3)))
    b = softmax(rng.normal(scale=0.3, size=(n, 3)))
    regime = np.column_stack([np.where(volatile, -7.5, -8.0) + rng.normal(scale=0.1, size=n), rng.uniform(size=n),
                              np.zeros(n), np.ones(n)])
    return np.hstack([a, b]), regime, y


def fitted(name, X, regime, y):
    spec = get_spec(name)
    model = spec.cls({}, seed=0, base_names=["a", "b"])
    model.fit(meta_inputs(model, X, regime), y)
    return model


def test_meta_regime_finds_a_base_that_is_right_in_one_regime_only():
    X, regime, y = regime_toy(9000, 0)
    fit, test = slice(0, 6000), slice(6000, None)
    losses = {}
    for name in ("meta_logistic", "meta_ridge", "meta_regime"):
        model = fitted(name, X[fit], regime[fit], y[fit])
        losses[name] = log_loss(y[test], model.predict(meta_inputs(model, X[test], regime[test])).probabilities)
    assert losses["meta_regime"] < min(losses["meta_logistic"], losses["meta_ridge"]) - 0.03, losses
    model = fitted("meta_regime", X[fit], regime[fit], y[fit])
    weights = model.regime_weights()
    # base a's weight is large where its signal is real and small where it is not
    a = {t: weights[t]["weights"]["a"] for t in weights}
    assert a["volatile"] > 1.5 and abs(a["calm"]) < 0.5 * a["volatile"], a
    assert weights["volatile"]["shares"]["a"][2] > weights["calm"]["shares"]["a"][2]
    assert weights["volatile"]["log_realized_vol_range"][0] == pytest.approx(weights["middle"]["log_realized_vol_range"][1])


def test_meta_regime_costs_little_where_the_regime_does_not_matter():
    X, regime, y = regime_toy(9000, 1, regime_matters=False)
    fit, test = slice(0, 6000), slice(6000, None)
    static = fitted("meta_logistic", X[fit], regime[fit], y[fit])
    aware = fitted("meta_regime", X[fit], regime[fit], y[fit])
    gap = (log_loss(y[test], aware.predict(meta_inputs(aware, X[test], regime[test])).probabilities)
           - log_loss(y[test], static.predict(X[test]).probabilities))
    assert gap < 0.005


def test_meta_regime_saves_and_loads_without_pickle(tmp_path):
    X, regime, y = regime_toy(3000, 2)
    model = fitted("meta_regime", X, regime, y)
    model.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(np.hstack([X, regime])).probabilities,
                                  model.predict(np.hstack([X, regime])).probabilities)
    assert loaded.regime_weights() == model.regime_weights()


def test_meta_regime_refuses_inputs_without_the_regime_columns():
    X, regime, y = regime_toy(1000, 3)
    model = fitted("meta_regime", X, regime, y)
    with pytest.raises(ValueError, match="regime features"):
        model.predict(X)
    with pytest.raises(ValueError, match="none were given"):
        meta_inputs(model, X, None)


def _bars(n=4000, seed=5):
    return generate_market("MES", n, seed=seed, regime_strength=1.0)


def test_regime_features_are_causal_and_bounded():
    bars, window = _bars(), 300
    full = regime_features(bars, window)
    assert full.shape == (len(bars), len(REGIME_FEATURES))
    assert np.isnan(full[:window]).all() and np.isfinite(full[window:]).all()
    # a row does not move when later bars change, nor when earlier history beyond the window is cut
    changed = bars.copy()
    changed.loc[3000:, "close"] *= 1.5
    np.testing.assert_array_equal(regime_features(changed, window)[:3000], full[:3000])
    start = 1000
    np.testing.assert_array_equal(regime_features(bars.iloc[start:].reset_index(drop=True), window)[window:],
                                  full[start + window:])
    # and the window's own bars do move it
    assert not np.array_equal(regime_features(changed, window)[3000:3300, 0], full[3000:3300, 0])
    with pytest.raises(ValueError, match="regime window"):
        regime_rows(bars, np.array([window - 1, window]), window)


def test_regime_features_read_the_volatile_state():
    bars = generate_market("MES", 40_000, seed=3, regime_strength=1.0)
    volatile = volatile_regime("MES", 40_000, seed=3)
    vol = regime_features(bars, 1440)[1440:, 0]
    state = volatile[1440:]
    assert vol[state].mean() > vol[~state].mean() + 0.25  # log vol: the volatile state has 1.6x the sd


def test_regime_effect_drifts_only_in_the_volatile_state_and_is_off_by_default():
    _, drifts = _generate("MES", 20_000, 1, 1.0, 0.0, 0.0, 0.0, 1.0)
    volatile = volatile_regime("MES", 20_000, seed=1)
    assert 0.2 < volatile.mean() < 0.8
    assert (drifts["regime"][~volatile] == 0).all() and (drifts["regime"][volatile] != 0).mean() > 0.99
    _, off = _generate("MES", 20_000, 1, 1.0, 1.0, 1.0, 1.0)
    assert not off["regime"].any()
    # without the regime the market is the one built before the regime effect existed: no vol states
    plain = generate_market("MES", 5000, seed=1)
    pd.testing.assert_frame_equal(plain, generate_market("MES", 5000, seed=1, regime_strength=0.0))
    assert not plain.equals(generate_market("MES", 5000, seed=1, regime_strength=1e-9))


def test_regime_market_is_a_prefix_of_a_longer_one():
    short = generate_market("MGC", 3000, seed=2, regime_strength=1.0)
    long = generate_market("MGC", 6000, seed=2, regime_strength=1.0)
    pd.testing.assert_frame_equal(short, long.iloc[:3000])
    np.testing.assert_array_equal(volatile_regime("MGC", 3000, 2), volatile_regime("MGC", 6000, 2)[:3000])
