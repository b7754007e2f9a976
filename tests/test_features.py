import json

import numpy as np
import pandas as pd
import pytest

from hetstack.features import FEATURE_VERSION, compute_features, feature_settings
from hetstack.synthetic import generate_market

N = 4000


@pytest.fixture(scope="module")
def bars():
    return generate_market("MES", N, seed=11)


@pytest.fixture(scope="module")
def computed(bars):
    return compute_features(bars)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality, with NaN equal to NaN."""
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(((a.view(np.uint32) == b.view(np.uint32)) | both_nan).all())


def test_shape_dtype_and_names(computed):
    features, names, warmup = computed
    assert features.dtype == np.float32 and features.flags.c_contiguous
    assert features.shape == (N, len(names))
    assert 170 <= len(names) <= 200
    assert len(set(names)) == len(names) and all(isinstance(n, str) and n for n in names)
    assert 0 < warmup < N


def test_finite_from_warmup_and_nan_only_before(computed):
    features, _, warmup = computed
    assert np.isfinite(features[warmup:]).all()
    rows_with_nan = np.flatnonzero(~np.isfinite(features).all(axis=1))
    assert rows_with_nan.max() == warmup - 1  # warmup is tight: the row before it is incomplete
    assert not np.isinf(features).any()


@pytest.mark.parametrize("j", [0, 150, 239, 240, 1000, 2777, N - 2])
def test_causal_future_prices_and_volume_do_not_change_the_past(bars, computed, j):
    features, _, _ = computed
    changed = bars.copy()
    later = changed.index > j
    rng = np.random.default_rng(j)
    for column in ("open", "high", "low", "close"):
        changed.loc[later, column] *= 1.37
    changed.loc[later, "volume"] = rng.integers(0, 10_000, later.sum()).astype(float)
    if j + 1 < N:
        changed.loc[j + 1, ["high", "close"]] = changed.loc[j + 1, "high"] * 1.5, changed.loc[j + 1, "high"] * 1.5
    changed.loc[later, "timestamp"] = changed.loc[later, "timestamp"] + pd.Timedelta(days=3)
    new_features, _, _ = compute_features(changed)
    assert same_bits(new_features[: j + 1], features[: j + 1])
    assert not same_bits(new_features[j + 1 :], features[j + 1 :])


def test_causal_when_the_series_is_truncated(bars, computed):
    features, _, _ = computed
    shorter, _, _ = compute_features(bars.iloc[:2500].reset_index(drop=True))
    assert same_bits(shorter, features[:2500])


def test_scale_free_in_price(bars, computed):
    features, names, warmup = computed
    scaled = bars.copy()
    for column in ("open", "high", "low", "close"):
        scaled[column] *= 1000.0
    scaled_features, _, _ = compute_features(scaled)
    assert np.allclose(scaled_features[warmup:], features[warmup:], rtol=2e-3, atol=2e-3)


def test_flat_prices_and_zero_volume_stay_finite():
    stamps = pd.date_range("2024-01-08 00:00", periods=600, freq="min", tz="UTC")
    flat = pd.DataFrame({"timestamp": stamps, "open": 100.0, "high": 100.0, "low": 100.0, "close": 100.0, "volume": 0.0})
    features, _, warmup = compute_features(flat)
    assert np.isfinite(features[warmup:]).all()


def test_session_minutes_restart_after_a_gap():
    stamps = pd.date_range("2024-01-08 00:00", periods=400, freq="min", tz="UTC")
    stamps = stamps.append(pd.date_range("2024-01-08 08:00", periods=400, freq="min", tz="UTC"))
    bars = generate_market("MES", 800).assign(timestamp=stamps)
    features, names, warmup = compute_features(bars)
    session = features[:, names.index("session_minutes")]
    # before the first gap nothing tells when the session opened (the first bar passed in is no open)
    assert np.isnan(session[:400]).all() and warmup >= 400
    assert session[400] == 0 and session[450] == pytest.approx(50 / 1440)


def continuous_bars(n, seed=0):
    """24/7 1-minute bars (crypto, FX): no session break anywhere."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 5e-4, n)) * close
    return pd.DataFrame({"timestamp": pd.date_range("2024-03-01", periods=n, freq="min", tz="UTC"),
                         "open": open_, "high": np.maximum(open_, close) + spread,
                         "low": np.minimum(open_, close) - spread, "close": close,
                         "volume": rng.lognormal(3, 1, n)})


@pytest.mark.parametrize("start", [1, 977, 2500])
def test_features_do_not_depend_on_the_length_of_the_history(start):
    """Every feature reads a bounded past: on a suffix of the bars, each row from the warm-up on equals
    the same bar's row computed on the whole series (what live prediction relies on)."""
    bars = continuous_bars(6000)
    full, names, _ = compute_features(bars)
    suffix, _, warmup = compute_features(bars.iloc[start:].reset_index(drop=True))
    assert warmup < len(suffix) - 1000
    tail_full, tail_suffix = full[start + warmup:], suffix[warmup:]
    for j, name in enumerate(names):
        np.testing.assert_allclose(tail_suffix[:, j], tail_full[:, j], rtol=2e-5, atol=2e-6, err_msg=name)
    session = tail_suffix[:, names.index("session_minutes")]
    assert (session == 1.0).all()  # 24/7: the session clock saturates, it is no "time since the file began"


def test_short_input_has_no_valid_rows():
    features, names, warmup = compute_features(generate_market("MES", 100))
    assert features.shape == (100, len(names)) and warmup == 100


def test_settings_describe_the_version():
    settings = feature_settings()
    assert settings["version"] == FEATURE_VERSION == "2"
    json.dumps(settings)


