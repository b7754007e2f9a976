"""The 3D sequence bases (N, T, F): learning, save/load, determinism, the lazy window path, registry."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from hetstack.adapters import WindowSet
from hetstack.catalogue import get_spec, load_model

NAMES = ["lstm", "gru", "tcn", "transformer", "inceptiontime", "resnet1d", "nbeats"]
FAMILY = {"lstm": "neural", "gru": "neural", "tcn": "cnn", "transformer": "transformer",
          "inceptiontime": "cnn", "resnet1d": "cnn", "nbeats": "mlp"}
# tiny architectures so that the whole file trains in seconds on 2 cores
TINY = {
    "lstm": {"hidden_size": 16},
    "gru": {"hidden_size": 16},
    "tcn": {"channels": 16, "levels": 3},
    "transformer": {"d_model": 16, "n_heads": 2, "n_layers": 1, "dim_feedforward": 32},
    "inceptiontime": {"n_filters": 8, "depth": 3, "kernel_size": 8, "bottleneck": 8},
    "resnet1d": {"channels": [8, 16, 16]},
    "nbeats": {"projection": 2, "stacks": 1, "blocks": 2, "layers": 2, "units": 32, "forecast_size": 8},
}
TRAIN = {"epochs": 15, "batch_size": 64, "lr": 3e-3}


def planted_label(last_bars_of_feature0: np.ndarray) -> np.ndarray:
    """Sign of the sum of feature 0 over the newest 4 bars, with a dead zone -> class 0 (~38%)."""
    s = last_bars_of_feature0.sum(axis=1)
    return np.where(s > 1.0, 1, np.where(s < -1.0, -1, 0)).astype(np.int8)


@pytest.fixture(scope="module")
def problem():
    """(1200, T=16, F=6) windows of noise; only a temporal pattern of feature 0 carries the label."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 16, 6)).astype(np.float32)
    y = planted_label(X[:, -4:, 0])
    return X[:800], y[:800], X[800:1000], y[800:1000], X[1000:], y[1000:]


def make(name, seed=0, **overrides):
    return get_spec(name).cls({**TRAIN, **TINY[name], **overrides}, seed=seed, threads=1)


@pytest.fixture(scope="module")
def fitted(problem):
    """One model per name, fitted once and shared by the tests that only read it."""
    X, y, Xv, yv, _, _ = problem
    cache = {}

    def get(name):
        if name not in cache:
            model = make(name)
            cache[name] = (model, model.fit(X, y, Xv, yv))
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_learns_a_planted_temporal_pattern(name, problem, fitted):
    *_, Xt, yt = problem
    model, metrics = fitted(name)
    out = model.predict(Xt)
    assert out.probabilities.shape == (len(Xt), 3)
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-9)
    # a constant predictor scores at most `chance`; every base clears it by 20 points (they reach 0.7-0.9)
    chance = max(np.mean(yt == c) for c in (-1, 0, 1))
    assert np.mean(out.predictions == yt) > chance + 0.2
    assert metrics.val_accuracy is not None and metrics.val_accuracy > chance + 0.2
    assert metrics.n_train == 800 and metrics.n_val == 200


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_probabilities(name, problem, fitted, tmp_path):
    *_, Xt, _ = problem
    model, _ = fitted(name)
    model.save(tmp_path / name)
    files = {p.name for p in (tmp_path / name).iterdir()}
    assert {"weights.pt", "model.json"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))]
    torch.load(tmp_path / name / "weights.pt", weights_only=True)  # a plain state dict, no pickled objects
    loaded = load_model(tmp_path / name)
    assert type(loaded) is type(model)
    assert loaded.params == model.params
    np.testing.assert_array_equal(loaded.predict(Xt).probabilities, model.predict(Xt).probabilities)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_probabilities(name, problem):
    X, y, Xv, yv, Xt, _ = problem
    runs = []
    for _ in range(2):
        model = make(name, seed=5, epochs=3)
        model.fit(X[:400], y[:400], Xv, yv)
        runs.append(model.predict(Xt).probabilities)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("name", ["gru", "tcn", "resnet1d"])
def test_trains_through_a_lazy_window_set(name):
    """Windows over a 2D feature array train exactly like the same windows materialized."""
    rng = np.random.default_rng(1)
    T = 16
    features = rng.normal(size=(1300, 6)).astype(np.float32)
    ids = np.arange(T - 1, len(features))
    y = planted_label(np.stack([features[ids - k, 0] for k in range(4)], axis=1))
    lazy_train, lazy_test = WindowSet(features, ids[:900], T), WindowSet(features, ids[900:], T)
    assert lazy_train.shape == (900, T, 6)

    lazy = make(name, epochs=8)
    lazy.fit(lazy_train, y[:900])
    out = lazy.predict(lazy_test)
    chance = max(np.mean(y[900:] == c) for c in (-1, 0, 1))
    assert np.mean(out.predictions == y[900:]) > chance + 0.2

    dense_train = lazy_train.batch(np.arange(900))
    dense_test = lazy_test.batch(np.arange(len(lazy_test)))
    np.testing.assert_array_equal(dense_train[5], features[ids[5] - T + 1: ids[5] + 1])
    dense = make(name, epochs=8)
    dense.fit(dense_train, y[:900])
    np.testing.assert_array_equal(dense.predict(dense_test).probabilities, out.probabilities)


@pytest.mark.parametrize("name", NAMES)
def test_registered_as_sequence_bases(name):
    spec = get_spec(name)
    assert spec.family == FAMILY[name]
    assert spec.input_kind == "sequence"
    assert spec.cls.name == name


@pytest.mark.parametrize("name", NAMES)
def test_default_architecture_maps_real_sized_windows_to_three_logits(name):
    """The shipped defaults build for T=120, F=180 windows and every size is a parameter."""
    model = get_spec(name).cls()
    assert set(model.architecture_params) <= set(model.params)
    torch.manual_seed(0)
    backbone = model.build_backbone((120, 180)).eval()
    with torch.no_grad():
        assert backbone(torch.randn(2, 120, 180)).shape == (2, 3)


@pytest.mark.parametrize("name, variant", [
    ("lstm", {"num_layers": 2, "bidirectional": True}),
    ("gru", {"num_layers": 2, "bidirectional": True}),
    ("tcn", {"weight_norm": False, "kernel_size": 2}),
    ("transformer", {"positional": "learned", "pooling": "last", "norm_first": False}),
    ("inceptiontime", {"residual": False, "depth": 4, "bottleneck": 0}),
    ("resnet1d", {"channels": [8, 8], "kernel_sizes": [7, 4, 3]}),
    ("nbeats", {"projection": 0, "share_weights": True}),
])
def test_architecture_variants_build(name, variant):
    model = get_spec(name).cls({**TINY[name], **variant})
    backbone = model.build_backbone((24, 5)).eval()
    with torch.no_grad():
        assert backbone(torch.randn(3, 24, 5)).shape == (3, 3)


def test_importing_the_models_does_not_import_torch():
    code = "import sys, hetstack.models; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
