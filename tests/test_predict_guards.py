"""Live prediction refuses inputs a run's models would misread: other input shapes, bar intervals, symbols."""

import numpy as np
import pandas as pd
import pytest

from hetstack.errors import DataError
from hetstack.catalogue import get_spec, load_model
from hetstack.predict import bar_interval_seconds, check_bars_fit_run


def windows(n, seq_len, n_features=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, seq_len, n_features)).astype(np.float32), rng.choice([-1, 0, 1], n)


@pytest.mark.parametrize("name, params", [("tcn", {"epochs": 1, "channels": 8, "levels": 2}), ("ridge", {})])
def test_a_loaded_model_refuses_inputs_of_another_shape(tmp_path, name, params):
    X, y = windows(300, 8)
    if get_spec(name).input_kind == "tabular":
        X = X[:, -1]
    model = get_spec(name).cls(params, seed=0, threads=1)
    model.fit(X, y)
    model.save(tmp_path / name)
    loaded = load_model(tmp_path / name)
    assert loaded.input_shape_ == X.shape[1:]
    np.testing.assert_allclose(loaded.predict(X).probabilities, model.predict(X).probabilities, rtol=1e-6)
    # A TCN pools over time and would run on 6-bar windows without complaint: the model must refuse.
    other = windows(20, 6)[0] if X.ndim == 3 else windows(20, 8, n_features=4)[0][:, -1]
    with pytest.raises(DataError, match=r"trained on inputs of shape \(N, .*\), given \(N, "):
        loaded.predict(other)


def bars(n, freq="1min", start="2024-03-04 00:00"):
    close = 100 + np.cumsum(np.random.default_rng(0).normal(0, 0.05, n))
    return pd.DataFrame({"timestamp": pd.date_range(start, periods=n, freq=freq, tz="UTC"), "open": close,
                         "high": close + 0.1, "low": close - 0.1, "close": close, "volume": 1.0})


SETTINGS = {"symbol": "MES", "bar_interval_seconds": 60.0}


def test_bar_interval_is_the_median_spacing():
    one_minute = bars(500)
    with_break = pd.concat([one_minute, bars(300, start="2024-03-05 00:00")], ignore_index=True)
    assert bar_interval_seconds(one_minute["timestamp"]) == bar_interval_seconds(with_break["timestamp"]) == 60.0


def test_bars_of_another_interval_are_refused_whatever_the_symbol():
    check_bars_fit_run(SETTINGS, bars(100), "new.parquet", "MES", False)
    with pytest.raises(DataError, match=r"new.parquet \[column timestamp\]: bars are 5 min apart .* trained on 1 min"):
        check_bars_fit_run(SETTINGS, bars(100, "5min"), "new.parquet", "MES", False)
    with pytest.raises(DataError, match="5 min apart"):
        check_bars_fit_run(SETTINGS, bars(100, "5min"), "new.parquet", "MGC", True)


def test_another_symbol_is_refused_unless_allowed():
    with pytest.raises(DataError, match="bars of symbol 'MGC', but the run was trained on 'MES'.*--allow-other-symbol"):
        check_bars_fit_run(SETTINGS, bars(100), "MGC.parquet", "MGC", False)
    check_bars_fit_run(SETTINGS, bars(100), "MGC.parquet", "MGC", True)
    check_bars_fit_run(SETTINGS, bars(100), "frame", None, False)  # a library caller that names no symbol
