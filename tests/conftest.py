import numpy as np
import pytest


@pytest.fixture
def easy_problem():
    """A tabular problem with a clear planted rule: label = sign bucket of a noisy linear score."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 8)).astype(np.float32)
    score = X[:, 0] + 0.5 * X[:, 1] * (X[:, 2] > 0) + 0.2 * rng.normal(size=len(X))
    y = np.where(score > 0.5, 1, np.where(score < -0.5, -1, 0)).astype(np.int8)
    return X[:1000], y[:1000], X[1000:1200], y[1000:1200], X[1200:], y[1200:]
