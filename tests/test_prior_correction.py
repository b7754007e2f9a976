"""Sample weights and class balancing change the class frequencies a model learns; its predictions
must come back to the unweighted frequencies that new rows follow."""

import numpy as np
import pytest

from hetstack.catalogue import get_spec, load_model
from hetstack.models.base import fit_class_offset, shift_probabilities

PRIOR = np.array([0.25, 0.5, 0.25])  # p(-1), p(0), p(+1)
# uniqueness weights differ by class (shorter 0-labels overlap more): 0.6 for class 0, 1.4 otherwise
CLASS_WEIGHT = np.array([1.4, 0.6, 1.4])


# enough steps for a network to learn its training class shares (its output bias)
FIT_BIAS = {"epochs": 20, "lr": 1e-2, "batch_size": 128}


def noise_problem(shape, n=1200, seed=0):
    """Inputs that carry nothing about the label: the best prediction is the class frequencies."""
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 0, 1], size=n, p=PRIOR)
    weights = CLASS_WEIGHT[y + 1] * rng.uniform(0.9, 1.1, n)
    return rng.normal(size=(n, *shape)).astype(np.float32), y, weights


def test_the_fitted_class_offset_brings_the_mean_prediction_to_the_frequencies():
    rng = np.random.default_rng(1)
    y_idx = rng.choice(3, 2000, p=PRIOR)
    proba = rng.dirichlet([4, 2, 4], 2000)  # leans away from class 0
    offset = fit_class_offset(proba, y_idx)
    assert offset[1] == 0 and (offset[[0, 2]] < 0).all()
    np.testing.assert_allclose(shift_probabilities(proba, offset).mean(axis=0), np.bincount(y_idx) / 2000, atol=1e-6)
    assert fit_class_offset(proba[y_idx != 0], y_idx[y_idx != 0])[0] == 0  # an absent class is left alone


@pytest.mark.parametrize("name, params, shape", [
    ("tcn", {**FIT_BIAS, "channels": 8, "levels": 2, "balance_classes": True}, (8, 4)),
    ("tcn", {**FIT_BIAS, "channels": 8, "levels": 2, "balance_classes": False}, (8, 4)),
    ("patchtst", {**FIT_BIAS, "d_model": 8, "n_layers": 1, "d_ff": 16, "n_heads": 2, "patch_len": 2, "stride": 2},
     (2, 4, 4)),
    ("logistic", {}, (6,)),
    ("lightgbm", {"num_boost_round": 30}, (6,)),
])
def test_a_model_that_learns_nothing_predicts_the_unweighted_prior(tmp_path, name, params, shape):
    X, y, weights = noise_problem(shape)
    model = get_spec(name).cls(params, seed=0, threads=1)
    model.fit(X, y, sample_weights=weights)
    mean = model.predict(X).probabilities.mean(axis=0)
    weighted = np.bincount(y + 1, weights=weights) / weights.sum()
    plain = np.bincount(y + 1) / len(y)
    np.testing.assert_allclose(mean, plain, atol=1e-4, err_msg=f"weighted shares {weighted}")
    model.save(tmp_path / name)
    np.testing.assert_allclose(load_model(tmp_path / name).predict(X).probabilities, model.predict(X).probabilities,
                               rtol=1e-6, atol=1e-9)


def test_a_plain_vote_is_not_shifted():
    rng = np.random.default_rng(2)
    X = np.hstack([rng.dirichlet([1, 1, 1], 300), rng.dirichlet([1, 1, 1], 300)])
    y = rng.choice([-1, 0, 1], 300, p=PRIOR)
    vote = get_spec("meta_voting").cls(base_names=["a", "b"])
    vote.fit(X, y, sample_weights=CLASS_WEIGHT[y + 1])
    np.testing.assert_allclose(vote.predict(X).probabilities, (X[:, :3] + X[:, 3:]) / 2, rtol=1e-12)
