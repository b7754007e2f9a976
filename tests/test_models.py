import pickle

import numpy as np
import pytest

from hetstack.catalogue import get_spec, load_model

BASES = ["catboost", "lightgbm", "xgboost", "ridge", "logistic", "random_forest", "svm"]
FAST = {"catboost": {"iterations": 150}, "lightgbm": {"num_boost_round": 150}, "xgboost": {"num_boost_round": 150},
        "ridge": {}, "logistic": {}, "random_forest": {"n_estimators": 100}, "svm": {}}


def _chance(y):
    return max(np.mean(y == c) for c in (-1, 0, 1))


@pytest.mark.parametrize("name", BASES)
def test_base_learns_a_planted_rule_and_outputs_valid_probabilities(name, easy_problem):
    X, y, Xv, yv, Xt, yt = easy_problem
    model = get_spec(name).cls(FAST[name], seed=1, threads=1)
    metrics = model.fit(X, y, Xv, yv)
    out = model.predict(Xt)
    assert out.probabilities.shape == (len(Xt), 3)
    assert (out.probabilities >= 0).all()
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-9)
    assert set(np.unique(out.predictions)) <= {-1, 0, 1}
    np.testing.assert_array_equal(out.confidence, out.probabilities.max(axis=1))
    assert np.mean(out.predictions == yt) > _chance(yt) + 0.2
    assert metrics.n_train == len(X) and metrics.n_val == len(Xv)
    assert metrics.val_accuracy is not None and metrics.val_accuracy > _chance(yv)


@pytest.mark.parametrize("name", BASES)
def test_save_load_gives_identical_probabilities_without_pickle(name, easy_problem, tmp_path, monkeypatch):
    X, y, Xv, yv, Xt, _ = easy_problem
    model = get_spec(name).cls(FAST[name], seed=3, threads=1)
    model.fit(X, y, Xv, yv)
    model.save(tmp_path / name)
    files = [p for p in (tmp_path / name).rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".pkl", ".pickle", ".joblib")]
    assert not [p for p in files if p.read_bytes()[:1] == b"\x80"]  # no pickle stream (protocol >= 2)

    def forbidden(*args, **kwargs):
        raise AssertionError("loading a model must never unpickle")

    for fn in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, fn, forbidden)
    loaded = load_model(tmp_path / name)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(Xt).probabilities, model.predict(Xt).probabilities)


@pytest.mark.parametrize("name", BASES)
def test_same_seed_same_saved_bytes(name, easy_problem, tmp_path):
    """Same data and seed, same artifact bytes (CatBoost's random model_guid and finish time included)."""
    import time

    X, y, Xv, yv, _, _ = easy_problem
    saved = []
    for run in range(2):
        model = get_spec(name).cls(FAST[name], seed=7, threads=1)
        model.fit(X, y, Xv, yv)
        if run:
            time.sleep(1.1)  # a finish time with one-second resolution would differ
        model.save(tmp_path / str(run))
        saved.append({p.relative_to(tmp_path / str(run)): p.read_bytes()
                      for p in sorted((tmp_path / str(run)).rglob("*")) if p.is_file()})
    assert saved[0] and saved[0] == saved[1]


@pytest.mark.parametrize("name", BASES)
def test_same_seed_same_probabilities(name, easy_problem):
    X, y, Xv, yv, Xt, _ = easy_problem
    runs = []
    for _ in range(2):
        model = get_spec(name).cls(FAST[name], seed=7, threads=1)
        model.fit(X, y, Xv, yv)
        runs.append(model.predict(Xt).probabilities)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("name", BASES)
def test_a_class_absent_from_training_keeps_three_columns(name, easy_problem):
    X, y, Xv, yv, Xt, _ = easy_problem
    keep, keep_v = y != 0, yv != 0
    model = get_spec(name).cls(FAST[name], seed=0, threads=1)
    model.fit(X[keep], y[keep], Xv[keep_v], yv[keep_v])
    proba = model.predict(Xt).probabilities
    assert proba.shape == (len(Xt), 3)
    assert proba[:, 1].max() < 0.05  # the flat class was never seen
    assert set(np.unique(model.predict(Xt).predictions)) <= {-1, 1}


def test_threads_reach_the_libraries():
    cat = get_spec("catboost").cls({}, threads=2)
    assert cat._classifier().get_params()["thread_count"] == 2
    lgb = get_spec("lightgbm").cls({}, threads=2)
    assert lgb._booster_params()["num_threads"] == 2


def test_a_seed_bag_averages_its_members_and_reloads_without_pickle(easy_problem, tmp_path, monkeypatch):
    from hetstack.models.seed_bag import SEED_STRIDE, SeedBag, fit_bag

    X, y, Xv, yv, Xt, _ = easy_problem
    spec = get_spec("lightgbm")
    params = {"num_boost_round": 30, "num_leaves": 7}
    bag = fit_bag(lambda seed: spec.cls(params, seed=seed), lambda m: m.fit(X, y, Xv, yv), 3, seed=42)
    assert isinstance(bag, SeedBag) and [m.seed for m in bag.members] == [42, 42 + SEED_STRIDE, 42 + 2 * SEED_STRIDE]
    members = [m.predict(Xt).probabilities for m in bag.members]
    assert not np.allclose(members[0], members[1])  # feature_fraction draws columns by seed
    np.testing.assert_allclose(bag.predict(Xt).probabilities, np.mean(members, axis=0), atol=1e-12)
    bag.save(tmp_path / "bag")
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    again = load_model(tmp_path / "bag")
    assert isinstance(again, SeedBag) and again.name == "lightgbm"
    np.testing.assert_array_equal(again.predict(Xt).probabilities, bag.predict(Xt).probabilities)
    single = fit_bag(lambda seed: spec.cls(params, seed=seed), lambda m: m.fit(X, y, Xv, yv), 1, seed=42)
    assert not isinstance(single, SeedBag) and single.seed == 42  # one seed: the plain model
