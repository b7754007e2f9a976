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


@pytest.mark.parametrize("name", [m for m in __import__("hetstack.catalogue", fromlist=["available"]).available("meta")
                                  if m not in ("meta_auto", "meta_shrink")])
def test_every_meta_predicts_the_same_after_loading_with_bases_out_of_alphabetical_order(name, tmp_path):
    """Saved state is canonical JSON (sorted keys): nothing may index bases by the order of its keys."""
    from hetstack.regime import REGIME_FEATURES

    X, y = oof_matrix()
    rng = np.random.default_rng(3)
    X = np.hstack([X[:, 3:], X[:, :3], rng.dirichlet([1, 1, 1], len(y))])  # noise, good, noise2
    names = ["zeta", "alpha", "mid"]  # "alpha" carries the label
    meta = get_spec(name).cls({}, seed=0, threads=1, base_names=names)
    if meta.reads_regime:
        X = np.hstack([X, rng.normal(size=(len(y), len(REGIME_FEATURES)))])
    meta.fit(X[:2000], y[:2000], X[2000:2500], y[2000:2500])
    meta.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.base_names == names
    np.testing.assert_allclose(loaded.predict(X[2500:]).probabilities, meta.predict(X[2500:]).probabilities,
                               rtol=0, atol=1e-12)
