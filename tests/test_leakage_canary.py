"""Leakage canary: on a pure random walk nothing is predictable, so purged OOF accuracy must stay at
chance, while a shuffled K-fold on the same data (overlapping labels, features encoding the recent
path) lets a model memorize neighbours and scores far above chance. Both halves together show that
the purge is what keeps the OOF honest."""

import numpy as np
import pytest
from sklearn.model_selection import KFold

from hetstack.cv import purged_kfold
from hetstack.features import compute_features
from hetstack.labels import triple_barrier
from hetstack.catalogue import get_spec
from hetstack.synthetic import generate_market

HORIZON = 30
N_FOLDS = 3
BASES = {
    "lightgbm": {"num_boost_round": 30, "num_leaves": 15, "min_data_in_leaf": 5, "learning_rate": 0.2},
    "catboost": {"iterations": 30, "depth": 4, "learning_rate": 0.3},
    "ridge": {},
}
TREES = ("lightgbm", "catboost")


@pytest.fixture(scope="module")
def random_walk():
    bars = generate_market("canary", 5000, seed=7, effect_strength=0.0)  # no planted effect: a random walk
    features, _, warmup = compute_features(bars)
    labels = triple_barrier(bars["close"].to_numpy(np.float64), HORIZON, 1.0, 60)
    ids = np.flatnonzero(labels.valid & (np.arange(len(bars)) >= warmup))
    X, y, t1 = np.asarray(features)[ids], labels.label[ids], labels.t1[ids]
    assert np.mean(t1[:-1] > ids[1:]) > 0.9  # labels overlap their neighbours
    purged = [(np.searchsorted(ids, f.train_ids), np.searchsorted(ids, f.test_ids))
              for f in purged_kfold(ids, t1, N_FOLDS, purge_bars=HORIZON, embargo_bars=2 * HORIZON)]
    shuffled = list(KFold(N_FOLDS, shuffle=True, random_state=0).split(X))
    return X, y, purged, shuffled


def oof_accuracy(name, X, y, splits):
    scored = np.concatenate([test for _, test in splits])
    predicted = np.zeros(len(y), dtype=np.int8)
    for train, test in splits:
        model = get_spec(name).cls(BASES[name], seed=0, threads=1)
        model.fit(X[train], y[train])
        predicted[test] = model.predict(X[test]).predictions
    chance = max(np.mean(y[scored] == c) for c in (-1, 0, 1))  # always predicting the majority class
    se = np.sqrt(chance * (1 - chance) / scored.size)
    return float(np.mean(predicted[scored] == y[scored])), chance, se


@pytest.mark.parametrize("name", list(BASES))
def test_purged_oof_is_at_chance_and_shuffled_kfold_is_not(random_walk, name):
    X, y, purged, shuffled = random_walk
    purged_acc, chance, se = oof_accuracy(name, X, y, purged)
    assert purged_acc <= chance + 3 * se, (name, purged_acc, chance)
    shuffled_acc, chance_all, _ = oof_accuracy(name, X, y, shuffled)
    if name in TREES:  # memorizing overlapping neighbours inflates the score clearly
        assert shuffled_acc > chance_all + 0.15, (name, shuffled_acc, chance_all)
        assert shuffled_acc > purged_acc + 0.2, (name, shuffled_acc, purged_acc)
    else:  # linear: may or may not inflate; it must not do worse than its purged self by much
        assert shuffled_acc > purged_acc - 3 * se
