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


RUN_SETTINGS = {"symbol": "MES", "symbols": ["MES", "MNQ"]}


@pytest.mark.parametrize("path, named", [
    ("new_bars.parquet", None),  # the README's example: a generic name is no symbol
    ("latest.csv", None),
    ("results/MES/bars.parquet", "MES"),  # the run's own bars: not symbol 'bars'
    ("elsewhere/results/MGC/bars.parquet", "MGC"),  # the results layout names a symbol the project need not know
    ("backup/MNQ/bars.parquet", "MNQ"),  # a known symbol's folder
    ("backup/latest/bars.parquet", None),
    ("data/MES.parquet", "MES"), ("mes.csv", "MES"),  # the run's symbol, any case
    ("MNQ.parquet", "MNQ"), ("mnq.parquet", "MNQ"),  # the config's symbols
    ("ES.parquet", "ES"),  # results/ES_h5 beside the run
    ("MGC.parquet", "MGC"),  # results/MGC beside the run
    ("ZN.parquet", None),  # no trace of ZN in the project
    ("MES.txt", None),
])
def test_the_symbol_is_read_from_a_path_only_where_it_names_one(tmp_path, path, named):
    from hetstack.predict import symbol_of_bars_file

    for folder in ("MES", "MES_h20", "MGC", "ES_h5"):
        (tmp_path / "results" / folder).mkdir(parents=True)
    assert symbol_of_bars_file(path, tmp_path / "results/MES_h20", RUN_SETTINGS) == named


def test_paths_relative_to_a_run_or_symbol_folder_are_read_alike(tmp_path, monkeypatch):
    from hetstack.predict import known_symbols, symbol_of_bars_file

    for folder in ("MES", "MES_h20", "MGC"):
        (tmp_path / "results" / folder / "oof").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "results/MES_h20")  # the run given as ".": its own subfolders are no symbols
    assert known_symbols(".", RUN_SETTINGS) == ["MES", "MGC", "MNQ"]
    assert symbol_of_bars_file("oof.parquet", ".", RUN_SETTINGS) is None
    assert symbol_of_bars_file("../MGC/bars.parquet", ".", RUN_SETTINGS) == "MGC"
    monkeypatch.chdir(tmp_path / "results/MES")
    assert symbol_of_bars_file("bars.parquet", "../MES_h20", RUN_SETTINGS) == "MES"


def run_files(tmp_path, n=400, symbol="SYN"):
    """A run's bars, labels and splits as the workflow writes them (sample ids: positions in the bars)."""
    from hetstack.io import write_json

    frame = bars(n)
    (tmp_path / f"results/{symbol}").mkdir(parents=True)
    run = tmp_path / f"results/{symbol}_h5"
    run.mkdir()
    frame.to_parquet(tmp_path / f"results/{symbol}/bars.parquet")
    ids = np.arange(50, n - 5)
    split = np.where(ids < 250, "train", np.where(ids < 300, "gap", "test"))
    t1 = ids + 5
    t1[ids == 249] = 252  # a train label resolving early
    pd.DataFrame({"sample_id": ids, "t1": t1, "split": split}).to_parquet(run / "labels.parquet")
    write_json(run / "features.json", {"settings": {}, "names": ["a"], "warmup": 10, "n_features": 1})
    write_json(run / "splits.json", {"lookback": 50})
    return frame, run


def write_settings(run, frame, symbol="SYN"):
    from hetstack.predict import write_run_settings

    adapters = {"sequence": {"seq_len": 8}, "multires": {"timeframes": [1, 5], "seq_len": 4}}
    return write_run_settings(str(run / "run_settings.json"), symbol=symbol, horizon=5, bases=["ridge"],
                              metas=["meta_ridge"], adapters=adapters, features_meta_path=str(run / "features.json"),
                              splits_path=str(run / "splits.json"), bars_path=str(run.parent / symbol / "bars.parquet"),
                              labels_path=str(run / "labels.parquet"), vol_window=20, config_digest="x",
                              symbols=["SYN", "MGC"])


def test_run_settings_hold_the_training_period_and_the_runs_bars(tmp_path):
    from hetstack.predict import SETTINGS_VERSION, bars_digest, read_run_settings

    frame, run = run_files(tmp_path)
    settings = write_settings(run, frame)
    assert read_run_settings(run) == settings and settings["settings_version"] == SETTINGS_VERSION
    # the latest end of a train label (248 + 5), not the last train sample's (249 resolves early, at 252)
    assert pd.Timestamp(settings["train_end"]) == frame["timestamp"][253]
    assert pd.Timestamp(settings["test_start"]) == frame["timestamp"][300]
    assert settings["symbols"] == ["MGC", "SYN"]
    assert settings["run_bars"] == {"n_bars": 400, "first": "2024-03-04T00:00:00Z",
                                    "last": "2024-03-04T06:39:00Z", "sha256": bars_digest(frame)}


def test_scored_bars_get_the_runs_sample_ids_by_timestamp(tmp_path):
    from hetstack.predict import run_sample_ids

    frame, run = run_files(tmp_path)
    settings = write_settings(run, frame)
    ids, note = run_sample_ids(run, settings, frame)
    assert ids.dtype == "Int64" and list(ids) == list(range(400)) and note.startswith("matched to")
    tail = frame.iloc[330:].reset_index(drop=True)  # a tail of the run's bars: the run's ids, not positions
    assert list(run_sample_ids(run, settings, tail)[0]) == list(range(330, 400))
    # later bars, and bars of the same times with other prices (another symbol's), are none of the run's
    later = bars(450).iloc[380:].reset_index(drop=True)
    later.loc[later.index >= 20, ["open", "high", "low", "close"]] += 1.0
    assert list(run_sample_ids(run, settings, later)[0].isna()) == [False] * 20 + [True] * 50
    other = tail.assign(close=tail["close"] * 1.5)
    assert run_sample_ids(run, settings, other)[0].isna().all()
    # the run's bars rebuilt since (other data) or gone: positions would lie, so none are given
    bars(401).to_parquet(run.parent / "SYN/bars.parquet")
    ids, note = run_sample_ids(run, settings, tail)
    assert ids.isna().all() and "changed since the run was built" in note
    (run.parent / "SYN/bars.parquet").unlink()
    ids, note = run_sample_ids(run, settings, tail)
    assert ids.isna().all() and "is absent" in note
