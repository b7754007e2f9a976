"""Class balancing in training must not distort the probabilities users get."""

import numpy as np

from hetstack.models import get_spec


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
