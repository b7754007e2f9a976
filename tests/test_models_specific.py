"""Model-specific checks of the xgboost, random forest, logistic and SVM bases (the checks every
base shares are in test_models.py)."""

import json
import tracemalloc

import numpy as np
import pytest

from hetstack.catalogue import get_spec, load_model
from hetstack.models.base import softmax


def _chance(y):
    return max(np.mean(y == c) for c in (-1, 0, 1))


def test_threads_reach_the_libraries(easy_problem, tmp_path):
    X, y, Xv, yv, _, _ = easy_problem
    xgb = get_spec("xgboost").cls({"num_boost_round": 5}, threads=2)
    assert xgb._booster_params()["nthread"] == 2
    xgb.fit(X, y, Xv, yv)
    xgb.save(tmp_path / "xgb")
    loaded = load_model(tmp_path / "xgb", threads=2)
    assert json.loads(loaded.booster.save_config())["learner"]["generic_param"]["nthread"] == "2"
    assert get_spec("random_forest").cls({}, threads=2)._classifier().get_params()["n_jobs"] == 2


def test_xgboost_stops_early_on_the_validation_slice_and_keeps_every_round_without_one(easy_problem):
    X, y, Xv, yv, Xt, _ = easy_problem
    params = {"num_boost_round": 400, "early_stopping_rounds": 10, "eta": 0.3}
    with_val = get_spec("xgboost").cls(params, seed=0).fit(X, y, Xv, yv)
    assert with_val.best_iteration < 399
    model = get_spec("xgboost").cls({"num_boost_round": 20}, seed=0)
    assert model.fit(X, y).best_iteration == 19
    assert model.predict(Xt).probabilities.shape == (len(Xt), 3)


def test_random_forest_numpy_walk_equals_the_sklearn_forest(easy_problem):
    """The exported arrays reproduce sklearn's predict_proba bit for bit (weights, NaN, absent class)."""
    X, y, Xv, yv, Xt, _ = easy_problem
    Xt = Xt.copy()
    Xt[:5, 0] = np.nan
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(X))
    for keep in (np.ones(len(y), dtype=bool), y != 0):
        model = get_spec("random_forest").cls({"n_estimators": 50}, seed=5, threads=1)
        model.fit(X[keep], y[keep], Xv, yv, sample_weights=weights[keep])
        forest = model._classifier().set_params(n_jobs=1).fit(X[keep], y[keep] + 1, sample_weight=weights[keep])
        expected = forest.predict_proba(Xt)
        if expected.shape[1] == 2:
            expected = np.insert(expected, 1, 0.0, axis=1)
        np.testing.assert_array_equal(model._predict_proba(Xt), expected)


def test_logistic_matches_sklearn_predict_proba(easy_problem):
    X, y, Xv, yv, Xt, _ = easy_problem
    model = get_spec("logistic").cls({"C": 0.5}, seed=0)
    model.fit(X, y, Xv, yv)
    clf = model._classifier().fit((np.asarray(X, np.float64) - model.mean_) / model.scale_, y + 1)
    expected = clf.predict_proba((np.asarray(Xt, np.float64) - model.mean_) / model.scale_)
    np.testing.assert_allclose(model.predict(Xt).probabilities, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel", ["linear", "rbf_approx"])
def test_svm_probabilities_are_calibrated_on_the_validation_slice(kernel, easy_problem):
    from sklearn.metrics import log_loss

    X, y, Xv, yv, Xt, yt = easy_problem
    model = get_spec("svm").cls({"kernel": kernel}, seed=0)
    model.fit(X, y, Xv, yv)
    assert model.calibrated_on_ == "val"
    out = model.predict(Xt)
    accuracy = np.mean(out.predictions == yt)
    assert accuracy > _chance(yt) + 0.2
    assert abs(out.confidence.mean() - accuracy) < 0.1  # reliability on held-out rows
    raw = softmax(model._decision(Xt))  # uncalibrated: softmax of the one-vs-rest margins
    assert log_loss(yt + 1, out.probabilities, labels=[0, 1, 2]) < log_loss(yt + 1, raw, labels=[0, 1, 2])


def test_svm_rbf_approx_saves_its_landmarks_and_matches_sklearn_nystroem(easy_problem, tmp_path):
    from sklearn.kernel_approximation import Nystroem

    X, y, Xv, yv, Xt, _ = easy_problem
    model = get_spec("svm").cls({"kernel": "rbf_approx", "n_components": 100}, seed=4)
    model.fit(X, y, Xv, yv)
    assert model.normalization_.shape == (100, 100)
    Z = (np.asarray(X, np.float64) - model.mean_) / model.scale_
    Zt = (np.asarray(Xt, np.float64) - model.mean_) / model.scale_
    nystroem = Nystroem(kernel="rbf", gamma=model.gamma_, n_components=100, random_state=4).fit(Z)
    np.testing.assert_allclose(model._features(Xt), nystroem.transform(Zt), rtol=0, atol=1e-10)
    model.save(tmp_path / "svm")
    assert (tmp_path / "svm" / "svm_components.npy").exists()
    loaded = load_model(tmp_path / "svm")
    np.testing.assert_array_equal(loaded.predict(Xt).probabilities, model.predict(Xt).probabilities)


def test_svm_without_a_validation_slice_calibrates_on_train(easy_problem):
    X, y, _, _, Xt, yt = easy_problem
    model = get_spec("svm").cls({}, seed=0)
    metrics = model.fit(X, y)
    assert model.calibrated_on_ == "train" and metrics.n_val == 0
    assert np.mean(model.predict(Xt).predictions == yt) > _chance(yt) + 0.2


def test_svm_rejects_an_unknown_kernel(easy_problem):
    X, y, Xv, yv, _, _ = easy_problem
    with pytest.raises(ValueError, match="kernel"):
        get_spec("svm").cls({"kernel": "rbf"}).fit(X, y, Xv, yv)


def test_svm_fits_100k_rows_in_bounded_memory():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 50)).astype(np.float32)
    y = np.sign(X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.normal(size=len(X))).astype(np.int8)
    model = get_spec("svm").cls({}, seed=0, threads=2)
    tracemalloc.start()
    try:
        metrics = model.fit(X[:90_000], y[:90_000], X[90_000:], y[90_000:])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400e6  # the float64 copy of X is 36 MB; no n x n kernel matrix
    assert metrics.val_accuracy > 0.75


def test_lightgbm_multires_finds_an_interaction_of_two_far_apart_window_values(tmp_path):
    """Label: the sign of one old hourly bar, but only where a recent 1-bar volume is high (the echo's
    shape). Trees on the flattened window find it; the same booster saved and loaded predicts alike."""
    from hetstack.adapters import MultiResSet
    from hetstack.adapters import flat_windows

    rng = np.random.default_rng(0)
    n, tfs, seq_len = 3000, [1, 5], 12
    ohlc = np.exp(rng.normal(0, 0.01, (len(tfs), n + 200, 5)).cumsum(axis=1)).astype(np.float32) * 100
    ohlc[..., 4] = np.exp(rng.normal(0, 1, (len(tfs), n + 200))) * 100  # volume: independent bar to bar
    windows = MultiResSet(ohlc, tfs, np.arange(200, n + 200), seq_len)
    X = windows.batch(np.arange(n))
    old_move, recent_volume = X[:, 1, 0, 3], X[:, 0, -1, 4]
    y = np.where(recent_volume > 0.5, np.sign(old_move), 0).astype(int)
    assert 0.2 < np.mean(y != 0) < 0.5  # neither label alone is a good guess
    model = get_spec("lightgbm_multires").cls({"num_boost_round": 200}, seed=1)
    model.fit(MultiResSet(ohlc, tfs, np.arange(200, 2200), seq_len), y[:2000])
    test = MultiResSet(ohlc, tfs, np.arange(2200, n + 200), seq_len)
    assert flat_windows(test).shape == (1000, len(tfs) * seq_len * 5)
    proba = model.predict(test).probabilities
    assert np.mean(np.array([-1, 0, 1])[proba.argmax(axis=1)] == y[2000:]) > 0.9
    model.save(tmp_path / "model")
    again = load_model(tmp_path / "model")
    np.testing.assert_allclose(again.predict(test).probabilities, proba)


def test_lightgbm_multires_streams_its_windows_into_the_same_booster_as_the_flattened_matrix(monkeypatch):
    """The lgb.Sequence path (no (N, TF x T x 5) matrix) bins and boosts exactly like the in-memory one
    while the bin sample covers every row; with a smaller sample it still learns, and prediction a
    chunk at a time equals prediction at once."""
    import hetstack.adapters as adapters
    import hetstack.models.lightgbm_multires as multires
    from hetstack.adapters import MultiResSet, flat_windows

    rng = np.random.default_rng(1)
    n, tfs, seq_len = 2400, [1, 5], 8
    ohlc = np.exp(rng.normal(0, 0.01, (len(tfs), n + 100, 5)).cumsum(axis=1)).astype(np.float32) * 100
    windows = MultiResSet(ohlc, tfs, np.arange(100, n + 100), seq_len)
    flat = flat_windows(windows)
    y = np.sign(flat[:, 3] + 0.5 * rng.normal(size=n)).astype(int)
    params = {"num_boost_round": 40, "early_stopping_rounds": 10}
    fit, val = np.arange(1600), np.arange(1700, 2000)
    test = adapters.subset(windows, np.arange(2000, n))
    weights = rng.uniform(0.5, 1.5, len(fit))  # with weights on the train set, the validation metric too
    streamed = get_spec("lightgbm_multires").cls(params, seed=3)
    metrics = streamed.fit(adapters.subset(windows, fit), y[fit], adapters.subset(windows, val), y[val],
                           sample_weights=weights)
    assert metrics.best_iteration > 1 and np.isfinite(streamed.booster.best_score["valid_0"]["multi_logloss"])
    in_memory = get_spec("lightgbm").cls(params, seed=3)
    in_memory.fit(flat[fit], y[fit], flat[val], y[val], sample_weights=weights)
    proba = streamed.predict(test).probabilities
    np.testing.assert_array_equal(proba, in_memory.predict(flat[2000:]).probabilities)
    monkeypatch.setattr(adapters, "CHUNK_VALUES", 7 * flat.shape[1])  # 7-row prediction chunks
    monkeypatch.setattr(multires, "SAMPLE_VALUES", 300 * flat.shape[1])  # bins from 300 sampled rows
    np.testing.assert_array_equal(streamed.predict(test).probabilities, proba)
    sampled = get_spec("lightgbm_multires").cls(params, seed=3)
    sampled.fit(adapters.subset(windows, fit), y[fit], adapters.subset(windows, val), y[val], sample_weights=weights)
    assert np.mean(np.array([-1, 0, 1])[sampled.predict(test).probabilities.argmax(1)] == y[2000:]) > 0.6


def test_logistic_window_caps_its_fit_matrix_and_predicts_a_chunk_at_a_time(monkeypatch):
    """max_fit_mb keeps evenly spaced samples (the rest never flattened); chunked prediction equals
    prediction at once."""
    import hetstack.adapters as adapters
    from hetstack.adapters import WindowSet
    from hetstack.models.logistic_window import capped_positions

    np.testing.assert_array_equal(capped_positions(10, 2**18, 4.0), [0, 3, 6, 9])  # 1 MB rows: 4 of 10
    np.testing.assert_array_equal(capped_positions(3, 2**18, 4.0), [0, 1, 2])
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3000, 6)).astype(np.float32)
    ids = np.arange(40, 3000)
    y = np.sign(rows[ids - 20, 2] + 0.3 * rng.normal(size=len(ids))).astype(int)
    width = 32 * 6 * 4 / 2**20  # MB a sample
    capped = get_spec("logistic_window").cls({"C_grid": [1e-3], "max_fit_mb": 500 * width}, seed=0)
    seen = []
    real_flat = adapters.flat_windows
    monkeypatch.setattr("hetstack.models.logistic_window.flat_windows", lambda w: seen.append(len(w)) or real_flat(w))
    capped.fit(WindowSet(rows, ids[:2000], 32), y[:2000])
    assert seen[0] == 500
    test = WindowSet(rows, ids[2000:], 32)
    proba = capped.predict(test).probabilities
    assert np.mean(np.array([-1, 0, 1])[proba.argmax(axis=1)] == y[2000:]) > 0.7  # 500 evenly spaced rows suffice
    monkeypatch.setattr(adapters, "CHUNK_VALUES", 64 * 32 * 6)
    np.testing.assert_allclose(capped.predict(test).probabilities, proba, rtol=1e-12)


def test_logistic_window_reads_a_value_far_back_in_the_window_and_picks_C_on_the_validation_slice(tmp_path):
    from hetstack.adapters import WindowSet

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3000, 6)).astype(np.float32)
    ids = np.arange(40, 3000)
    y = np.sign(rows[ids - 20, 2] + 0.3 * rng.normal(size=len(ids))).astype(int)  # one indicator 20 rows back
    model = get_spec("logistic_window").cls({"C_grid": [1e-6, 1e-3]}, seed=0)
    model.fit(WindowSet(rows, ids[:2000], 32), y[:2000], WindowSet(rows, ids[2000:2500], 32), y[2000:2500])
    assert model.C_ == 1e-3  # 1e-6 shrinks every weight to nothing: worse on the validation slice
    test = WindowSet(rows, ids[2500:], 32)
    proba = model.predict(test).probabilities
    assert np.mean(np.array([-1, 0, 1])[proba.argmax(axis=1)] == y[2500:]) > 0.8
    model.save(tmp_path / "model")
    np.testing.assert_array_equal(load_model(tmp_path / "model").predict(test).probabilities, proba)
    without_validation = get_spec("logistic_window").cls({"C_grid": [1e-6, 1e-4, 1e-3]}, seed=0)
    without_validation.fit(WindowSet(rows, ids[:2000], 32), y[:2000])
    assert without_validation.C_ == 1e-4
