"""The non-linear, voting and ensemble-selection meta-learners: skill, contributions, save/load, determinism."""

import pickle

import numpy as np
import pytest

from hetstack.meta.base import MetaLearnerOutput
from hetstack.meta.base import permutation_importance
from hetstack.meta.meta_caruana import ensemble_selection
from hetstack.catalogue import get_spec, load_model

NAMES = ["meta_mlp", "mlp_meta", "meta_calibrated", "calibrated_meta", "meta_xgboost", "xgboost_meta",
         "meta_caruana", "caruana_meta", "ensemble_selection", "meta_voting", "voting_meta"]
UNIFORM = {"meta_voting", "meta_calibrated"}  # soft votes: every base weighs 1/n_bases by construction
BASES = ["good", "noise"]


def oof_matrix(n=3000, seed=0, noise_concentration=3.0):
    """Base 'good' carries the label, base 'noise' is random (adapted from tests/test_meta.py: the noise is
    Dirichlet(3, 3, 3) rather than Dirichlet(1, 1, 1) so that even a uniform vote stays above 0.6)."""
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 0, 1], size=n)
    good = np.full((n, 3), 0.2)
    good[np.arange(n), y + 1] = 0.6
    good = np.where(rng.random((n, 1)) < 0.3, rng.dirichlet([1, 1, 1], n), good)
    noise = rng.dirichlet([noise_concentration] * 3, n)
    return np.hstack([good, noise]), y


X, Y = oof_matrix()
_FITTED: dict = {}


def fit(name, seed=0, **params):
    meta = get_spec(name).cls(params, seed=seed, threads=1, base_names=BASES)
    meta.fit(X[:2000], Y[:2000], X[2000:], Y[2000:])
    return meta


def fitted(name):
    if name not in _FITTED:
        _FITTED[name] = fit(name)
    return _FITTED[name]


@pytest.mark.parametrize("name", NAMES)
def test_meta_is_skilled_and_credits_the_informative_base(name):
    meta = fitted(name)
    out = meta.predict(X[2000:])
    assert (out.predictions == Y[2000:]).mean() > 0.6
    weights = meta.contributions()
    assert out.base_weights == weights and set(weights) == set(BASES)
    if get_spec(name).name in UNIFORM:
        assert weights == {"good": [0.5, 0.5, 0.5], "noise": [0.5, 0.5, 0.5]}
    else:
        assert all(g > n for g, n in zip(weights["good"], weights["noise"]))
        np.testing.assert_allclose(np.add(weights["good"], weights["noise"]), 1.0)
    assert meta.weights_method


@pytest.mark.parametrize("name", NAMES)
def test_predict_returns_normalized_meta_output(name):
    out = fitted(name).predict(X[2000:])
    assert isinstance(out, MetaLearnerOutput)
    assert out.probabilities.shape == (1000, 3)
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0)
    assert set(np.unique(out.predictions)) <= {-1, 0, 1}
    np.testing.assert_array_equal(out.confidence, out.probabilities.max(axis=1))
    np.testing.assert_array_equal(out.base_predictions["noise"], X[2000:, 3:])


@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_without_pickle_reproduce_the_meta(name, tmp_path, monkeypatch):
    meta = fitted(name)
    meta.save(tmp_path / "m")

    def forbidden(*args, **kwargs):
        raise AssertionError("a saved meta-learner must load without pickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(meta) and loaded.base_names == BASES
    np.testing.assert_array_equal(loaded.predict(X[2000:]).probabilities, meta.predict(X[2000:]).probabilities)
    assert loaded.contributions() == meta.contributions()
    assert loaded.weights_method == meta.weights_method


@pytest.mark.parametrize("name", [n for n in NAMES if get_spec(n).name == n])
def test_same_seed_gives_the_same_probabilities(name):
    again = fit(name)
    np.testing.assert_array_equal(again.predict(X[2000:]).probabilities, fitted(name).predict(X[2000:]).probabilities)
    assert again.contributions() == fitted(name).contributions()


# ----------------------------------------------------------------------------- permutation importance

@pytest.mark.parametrize("name", ["meta_mlp", "meta_xgboost"])
def test_permutation_importance_uses_the_validation_slice_when_given(name):
    assert fitted(name).importance_info_["computed_on"] == "validation"
    assert fitted(name).importance_info_["n_rows"] == 1000
    assert "permutation importance" in fitted(name).weights_method
    no_val = get_spec(name).cls({}, seed=0, threads=1, base_names=BASES)
    no_val.fit(X[:2000], Y[:2000])
    assert no_val.importance_info_ == {"computed_on": "training", "n_rows": 2000, "n_repeats": 5}
    assert all(g > n for g, n in zip(no_val.contributions()["good"], no_val.contributions()["noise"]))


def test_permutation_importance_credits_only_the_columns_the_model_reads():
    def reads_base_1(X):
        return X[:, 3:6]

    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])  # class 2 (+1) never occurs
    Xm = np.zeros((8, 6))
    Xm[np.arange(8), 3 + y] = 1.0
    Xm[:, :3] = np.random.default_rng(0).dirichlet([1, 1, 1], 8)
    shares = permutation_importance(reads_base_1, Xm, y, 2, seed=0, n_repeats=3)
    np.testing.assert_array_equal(shares[:, :2], [[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(shares[:, 2], [0.5, 0.5])  # no row of the class: uniform


# ----------------------------------------------------------------------------- ensemble selection

def caruana(X_, y_, base_names, **params):
    meta = get_spec("meta_caruana").cls(params, seed=0, threads=1, base_names=base_names)
    meta.fit(X_, y_)
    return meta


def prefix_loss(meta, X_, y_, k):
    blocks = X_.reshape(len(X_), len(meta.base_names), 3)
    p_true = blocks[np.arange(len(X_)), :, y_ + 1]
    return -np.mean(np.log(np.clip(p_true[:, meta.selection_order_[:k]].mean(axis=1), 1e-15, None)))


def test_caruana_weights_sum_to_one_from_at_most_25_selections():
    meta = caruana(X[:2000], Y[:2000], BASES)
    assert len(meta.selection_order_) == 25 and 1 <= meta.n_selected_ <= 25
    assert meta.weights_.sum() == pytest.approx(1.0)
    counts = meta.weights_ * meta.n_selected_
    np.testing.assert_allclose(counts, np.round(counts))
    assert all(len(set(w)) == 1 for w in meta.contributions().values())  # same weight for every class
    assert "ensemble selection weights" in meta.weights_method


def test_caruana_keeps_the_prefix_with_the_lowest_loss():
    meta = caruana(X[:2000], Y[:2000], BASES)
    losses = [prefix_loss(meta, X[:2000], Y[:2000], k) for k in range(1, 26)]
    np.testing.assert_allclose(losses, meta.trajectory_, rtol=1e-12)
    assert losses[meta.n_selected_ - 1] <= min(losses) + 1e-12
    expected = np.bincount(meta.selection_order_[:meta.n_selected_], minlength=2) / meta.n_selected_
    np.testing.assert_array_equal(meta.weights_, expected)


def test_caruana_an_exact_copy_of_the_best_base_never_wins_a_tie():
    good, noise = X[:2000, :3], X[:2000, 3:]
    first = caruana(np.hstack([good, good, noise]), Y[:2000], ["good", "copy", "noise"])
    assert first.weights_[1] == 0.0 and first.weights_[0] > first.weights_[2]
    again = caruana(np.hstack([good, good, noise]), Y[:2000], ["good", "copy", "noise"])
    assert again.selection_order_ == first.selection_order_
    swapped = caruana(np.hstack([good, good, noise]), Y[:2000], ["copy", "good", "noise"])
    assert swapped.contributions()["copy"] == first.contributions()["good"]  # the lowest index takes it
    assert swapped.contributions()["good"] == [0.0, 0.0, 0.0]


def test_caruana_hand_computed_two_base_case():
    # Probabilities of the true class: A = (.8, .8, .2), B = (.2, .2, .8). A weight w on A gives the log-loss
    # -(2 ln(.2 + .6w) + ln(.8 - .6w)) / 3, minimal at w = 7/9. Greedy steps (loss): A (.6852); A A (.6852)
    # beats A B (.6931); then B (w=2/3, .6460); A (3/4, .6371); A (4/5, .6369); A (5/6, .6392) beats B (2/3,
    # .6460); B (5/7, .6397) beats A (6/7, .6419); A (6/8, .6371); A (7/9, .6365) -- the optimum, reached at 9.
    X_ = np.array([[0.8, 0.1, 0.1, 0.2, 0.4, 0.4],
                   [0.1, 0.8, 0.1, 0.4, 0.2, 0.4],
                   [0.4, 0.4, 0.2, 0.1, 0.1, 0.8]])
    y_ = np.array([-1, 0, 1])
    meta = caruana(X_, y_, ["A", "B"], ensemble_size=10)
    assert meta.selection_order_[:9] == [0, 0, 1, 0, 0, 0, 1, 0, 0]
    assert meta.n_selected_ == 9
    np.testing.assert_allclose(meta.weights_, [7 / 9, 2 / 9])
    assert meta.trajectory_[8] == pytest.approx(-(2 * np.log(2 / 3) + np.log(1 / 3)) / 3)
    np.testing.assert_allclose(meta.predict(X_).probabilities, 7 / 9 * X_[:, :3] + 2 / 9 * X_[:, 3:])
    np.testing.assert_allclose(caruana(X_, y_, ["A", "B"]).weights_, [7 / 9, 2 / 9])  # ensemble_size 25


def test_caruana_symmetric_tie_goes_to_the_lowest_index():
    order, trajectory, kept = ensemble_selection(np.array([[0.9, 0.1], [0.1, 0.9]]), 6)
    assert order == [0, 1, 0, 1, 0, 1] and kept == 2  # 50/50 at step 2 (ln 2), the shortest such prefix
    assert trajectory[1] == pytest.approx(np.log(2))


# ----------------------------------------------------------------------------- calibration

def test_calibration_only_improves_the_vote_on_its_training_rows():
    calibrated, voting = fitted("meta_calibrated"), fitted("meta_voting")
    assert calibrated._score(X[:2000], Y[:2000] + 1)[1] <= voting._score(X[:2000], Y[:2000] + 1)[1]
    plain = fit("meta_calibrated", calibration="none")
    np.testing.assert_allclose(plain.predict(X[2000:]).probabilities, voting.predict(X[2000:]).probabilities)


def test_calibration_sharpens_underconfident_bases_and_fixes_their_prior():
    rng = np.random.default_rng(1)
    n = 3000
    y = rng.choice([-1, 0, 1], size=n, p=[0.25, 0.5, 0.25])
    blocks = []
    for _ in range(2):  # two bases, right 80% of the time, but they only ever say 0.4 vs 0.3 / 0.3
        hit = np.where(rng.random(n) < 0.8, y + 1, rng.integers(0, 3, n))
        p = np.full((n, 3), 0.3)
        p[np.arange(n), hit] = 0.4
        blocks.append(p)
    X_ = np.hstack(blocks)
    meta = get_spec("meta_calibrated").cls({}, seed=0, base_names=["a", "b"])
    meta.fit(X_[:2000], y[:2000])
    vote = get_spec("meta_voting").cls({}, base_names=["a", "b"])
    vote.fit(X_[:2000], y[:2000])
    assert meta.temperature_ < 1.0  # the vote is underconfident: calibration sharpens it
    assert meta.bias_[1] == 0.0 and meta.bias_[0] < 0 and meta.bias_[2] < 0  # 0 is the most frequent class
    assert meta._score(X_[2000:], y[2000:] + 1)[1] < vote._score(X_[2000:], y[2000:] + 1)[1] - 0.05


def test_learned_metas_beat_the_uniform_vote_when_a_base_is_pure_noise():
    X1, y1 = oof_matrix(noise_concentration=1.0)
    vote = get_spec("meta_voting").cls({}, base_names=BASES)
    vote.fit(X1[:2000], y1[:2000])
    acc_vote = (vote.predict(X1[2000:]).predictions == y1[2000:]).mean()
    meta = get_spec("meta_caruana").cls({}, base_names=BASES)
    meta.fit(X1[:2000], y1[:2000])
    assert (meta.predict(X1[2000:]).predictions == y1[2000:]).mean() > acc_vote + 0.15
