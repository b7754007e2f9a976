"""Class balancing in training must not distort the probabilities users get."""

import numpy as np

from hetstack.catalogue import get_spec


def test_balanced_training_keeps_the_base_rates_in_the_probabilities():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 8, 4)).astype(np.float32)  # no signal at all
    y = rng.choice([-1, 0, 1], size=3000, p=[0.15, 0.7, 0.15]).astype(np.int8)
    params = {"epochs": 3, "batch_size": 128, "hidden_size": 8}
    balanced = get_spec("gru").cls({**params, "balance_classes": True}, seed=0)
    balanced.fit(X[:2500], y[:2500], X[2500:2700], y[2500:2700])
    mean_proba = balanced.predict(X[2700:]).probabilities.mean(axis=0)
    # without the logit adjustment a balanced loss pulls every class towards 1/3
    np.testing.assert_allclose(mean_proba, [0.15, 0.7, 0.15], atol=0.08)
    assert (balanced.predict(X[2700:]).predictions == 0).mean() > 0.8


def test_channel_statistics_in_chunks_equal_those_of_the_whole_subsample():
    from hetstack.nn.training import channel_statistics

    rng = np.random.default_rng(1)
    X = (rng.normal(size=(1000, 6, 5)) * [1, 10, 100, 1e-3, 5] + [0, -3, 1e4, 2, 7]).astype(np.float32)
    X[:, :, 4] = 7.0  # a constant channel gets scale 1, not 0
    mean, std = channel_statistics(X, np.random.default_rng(3), max_samples=700, chunk=64)
    positions = np.sort(np.random.default_rng(3).choice(1000, size=700, replace=False))
    sample = X[positions].astype(np.float64)
    np.testing.assert_allclose(mean, sample.mean(axis=(0, 1), keepdims=True)[0], rtol=1e-10, atol=1e-10)
    expected_std = sample.std(axis=(0, 1), keepdims=True)[0]
    np.testing.assert_allclose(std[..., :4], expected_std[..., :4], rtol=1e-8)
    assert std.shape == (1, 5) and std[0, 4] == 1.0
