import numpy as np
import pytest

from hetstack.meta.base import MetaLearnerOutput
from hetstack.catalogue import get_spec, load_model


def oof_matrix(n=3000, seed=0):
    """Base 'good' carries the label, base 'noise' is random: the meta must prefer 'good'."""
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 0, 1], size=n)
    good = np.full((n, 3), 0.2)
    good[np.arange(n), y + 1] = 0.6
    good = np.where(rng.random((n, 1)) < 0.3, rng.dirichlet([1, 1, 1], n), good)
    noise = rng.dirichlet([1, 1, 1], n)
    return np.hstack([good, noise]), y


@pytest.mark.parametrize("name", ["meta_ridge", "meta_logistic", "ridge_meta", "logistic_meta"])
def test_meta_learner_weights_the_informative_base(name, tmp_path):
    X, y = oof_matrix()
    meta = get_spec(name).cls({}, seed=0, threads=1, base_names=["good", "noise"])
    metrics = meta.fit(X[:2000], y[:2000], X[2000:], y[2000:])
    out = meta.predict(X[2000:])
    assert isinstance(out, MetaLearnerOutput)
    assert out.probabilities.shape == (1000, 3)
    np.testing.assert_allclose(out.probabilities.sum(1), 1.0)
    assert metrics.val_accuracy > 0.6
    assert all(g > n for g, n in zip(out.base_weights["good"], out.base_weights["noise"]))
    np.testing.assert_allclose(np.add(out.base_weights["good"], out.base_weights["noise"]), 1.0)
    np.testing.assert_array_equal(out.base_predictions["noise"], X[2000:, 3:])
    meta.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.base_names == ["good", "noise"]
    np.testing.assert_array_equal(loaded.predict(X[2000:]).probabilities, out.probabilities)


def test_meta_rejects_a_matrix_of_the_wrong_width():
    X, y = oof_matrix(300)
    meta = get_spec("meta_ridge").cls({}, base_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="9 columns"):
        meta.fit(X, y)
