import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hetstack.cv import (
    check_cpcv,
    cpcv_groups,
    cpcv_paths,
    cpcv_splits,
    Fold,
    chronological_split,
    fold_table,
    folds_from_table,
    inner_validation_split,
    purge_and_embargo,
    purged_kfold,
    required_bars,
)
from hetstack.errors import ConfigError, DataError


def leak_violations(train_ids, t0, t1, test_ids, purge_bars, embargo_bars):
    """Train ids that break the leakage rules against this test set (empty = clean).

    t0/t1 are indexed by sample id. A train id leaks when its label span [t0, t1] overlaps the test
    span (a shared end point counts, as in AFML 7.1), sits within purge_bars before the test start,
    or starts within embargo_bars after the last test label ends.
    """
    t_start = test_ids.min()
    t_end = t1[test_ids].max()
    bad = []
    for i in train_ids:
        overlaps = t0[i] <= t_end and t1[i] >= t_start
        too_close = t_start - purge_bars <= t0[i] < t_start
        embargoed = t_end < t0[i] <= t_end + embargo_bars
        if overlaps or too_close or embargoed or i in set(test_ids.tolist()):
            bad.append(int(i))
    return bad


def as_lookup(ids, ends):
    """Arrays indexed by sample id (ids are bar positions)."""
    size = int(ends.max()) + 1
    t0 = np.arange(size)
    t1 = np.zeros(size, dtype=np.int64)
    t1[ids] = ends
    return t0, t1


# --- hand-made cases ----------------------------------------------------------------------


def test_kfold_exact_train_ids():
    ids = np.arange(20)
    folds = purged_kfold(ids, ids + 3, n_folds=4, purge_bars=1, embargo_bars=2)
    assert [f.test_ids.tolist() for f in folds] == [
        list(range(0, 5)),
        list(range(5, 10)),
        list(range(10, 15)),
        list(range(15, 20)),
    ]
    # fold 0: span [0, 7]; 5,6,7 overlap; 8,9 embargoed (7 < t0 <= 9)
    assert folds[0].train_ids.tolist() == list(range(10, 20))
    assert folds[0].purged_ids.tolist() == [5, 6, 7]
    assert folds[0].embargoed_ids.tolist() == [8, 9]
    # fold 1: span [5, 12]; 3,4 end after 5; 2 ends exactly at 5 (purged too); 10-12 overlap; 13,14 embargoed
    assert folds[1].train_ids.tolist() == [0, 1, 15, 16, 17, 18, 19]
    assert folds[1].purged_ids.tolist() == [2, 3, 4, 10, 11, 12]
    assert folds[1].embargoed_ids.tolist() == [13, 14]
    # fold 2: span [10, 17]
    assert folds[2].train_ids.tolist() == list(range(0, 7))
    assert folds[2].purged_ids.tolist() == [7, 8, 9, 15, 16, 17]
    assert folds[2].embargoed_ids.tolist() == [18, 19]
    # fold 3: span [15, 22]; nothing after it to embargo
    assert folds[3].train_ids.tolist() == list(range(0, 12))
    assert folds[3].purged_ids.tolist() == [12, 13, 14]
    assert folds[3].embargoed_ids.tolist() == []
    for fold in folds:
        for arr in (fold.train_ids, fold.test_ids, fold.purged_ids, fold.embargoed_ids):
            assert arr.dtype == np.int64


def test_label_ending_exactly_at_test_start_is_purged():
    # AFML 7.1 (getTrainTimes): a train label whose t1 is the test's first bar shares that bar's
    # price with the test label starting there, so it is dropped.
    ids = np.array([0, 1, 2, 5, 6])
    ends = np.array([4, 5, 6, 7, 8])  # id 0 ends one bar before the test start 5, id 1 at it, id 2 after
    kept, purged, embargoed = purge_and_embargo(ids, ends, np.array([5, 6]), np.array([7, 8]), 0, 0)
    assert kept.tolist() == [0]
    assert purged.tolist() == [1, 2]
    assert embargoed.tolist() == []


def test_minimum_purge_when_labels_are_short():
    ids = np.arange(20)
    # t1 = t0 + 1: overlap alone would purge only id 9 before bar 10 (it ends exactly at 10)
    kept, purged, embargoed = purge_and_embargo(ids, ids + 1, np.arange(10, 15), np.arange(11, 16), 3, 0)
    assert purged.tolist() == [7, 8, 9, 15]  # 7..9 by minimum purge, 15 overlaps (t0 <= t_end = 15)
    assert embargoed.tolist() == []
    assert kept.tolist() == [0, 1, 2, 3, 4, 5, 6, 16, 17, 18, 19]


def test_embargo_is_exact_and_disjoint_from_purge():
    ids = np.arange(30)
    test = np.arange(10, 15)
    kept, purged, embargoed = purge_and_embargo(ids, ids + 2, test, test + 2, 0, 4)
    # span [10, 16]: 7 ends at 9 (kept), 8 ends exactly at 10 and 9 at 11 (purged), 15, 16 start
    # inside (purged); 17..20 embargoed (16 < t0 <= 20); 21 kept
    assert purged.tolist() == [8, 9, 15, 16]
    assert embargoed.tolist() == [17, 18, 19, 20]
    assert 21 in kept and 7 in kept
    assert not set(purged) & set(embargoed)


def test_purge_excludes_test_ids_from_every_output():
    ids = np.arange(10)
    kept, purged, embargoed = purge_and_embargo(ids, ids + 1, np.array([4, 5]), np.array([5, 6]), 1, 1)
    assert not {4, 5} & (set(kept) | set(purged) | set(embargoed))


def test_every_sample_in_exactly_one_test_fold():
    ids = np.array([3, 4, 7, 9, 10, 15, 16, 17, 30, 31, 40])
    folds = purged_kfold(ids, ids + 2, 3, 0, 0)
    test_all = np.concatenate([f.test_ids for f in folds])
    assert sorted(test_all.tolist()) == ids.tolist()
    assert len(test_all) == len(ids)


def test_chronological_split_gap():
    ids = np.arange(20)
    train, test = chronological_split(ids, ids + 3, 0.25, purge_bars=2, embargo_bars=2)
    assert test.tolist() == list(range(15, 20))
    assert train.tolist() == list(range(0, 11))  # id < 15 - 4
    # a long horizon binds instead: id + 6 < 15
    train, test = chronological_split(ids, ids + 6, 0.25, purge_bars=1, embargo_bars=2)
    assert train.tolist() == list(range(0, 9))


def test_chronological_split_never_reaches_into_test():
    rng = np.random.default_rng(0)
    ids = np.sort(rng.choice(1000, 300, replace=False))
    ends = ids + rng.integers(1, 30, ids.size)
    train, test = chronological_split(ids, ends, 0.3, 5, 7)
    assert len(test) == 90
    lookup = dict(zip(ids.tolist(), ends.tolist()))
    assert max(lookup[i] for i in train) < test[0]
    assert train.max() < test[0] - 12


def test_fold_table_round_trip():
    ids = np.arange(20)
    folds = purged_kfold(ids, ids + 3, 4, 1, 2)
    table = fold_table(ids, folds)
    assert list(table.columns) == ["sample_id", "test_fold", "fold0", "fold1", "fold2", "fold3"]
    assert table["sample_id"].dtype == np.int64
    assert table["test_fold"].dtype == np.int16
    assert table["fold1"].dtype == np.int8
    assert table["test_fold"].tolist() == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 5
    assert table["fold1"].tolist() == [1, 1, -1, -1, -1, 0, 0, 0, 0, 0, -1, -1, -1, -2, -2, 1, 1, 1, 1, 1]
    back = folds_from_table(table)
    assert len(back) == len(folds)
    for a, b in zip(folds, back):
        assert a.index == b.index
        for name in ("train_ids", "test_ids", "purged_ids", "embargoed_ids"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_fold_table_marks_unused_samples():
    ids = np.arange(12)
    folds = purged_kfold(ids[:8], ids[:8] + 1, 2, 0, 0)
    table = fold_table(ids, folds)
    assert (table.loc[8:, ["fold0", "fold1"]] == -3).all().all()
    assert (table.loc[8:, "test_fold"] == -1).all()


def test_inner_validation_split_hand_case():
    # a fold's training ids: two blocks around a test fold 10..14
    train = np.array([0, 1, 2, 3, 4, 5, 6, 17, 18, 19, 20, 21, 22, 23])
    fit, val = inner_validation_split(train, train + 2, 0.25, purge_bars=1, embargo_bars=0)
    assert val.tolist() == [20, 21, 22, 23]  # ceil(0.25 * 14) = 4
    # val span starts at 20: 19 ends at 21 (purged, also within purge_bars); 18 ends exactly at 20
    # (purged); 17 ends at 19 (kept)
    assert fit.tolist() == [0, 1, 2, 3, 4, 5, 6, 17]


def test_required_bars_is_tight():
    params = dict(n_folds=4, horizon=6, purge_bars=3, embargo_bars=2, warmup=20, test_fraction=0.2, min_samples_per_fold=30)

    def enough(n_bars):
        h, m = params["horizon"], params["min_samples_per_fold"]
        ids = np.arange(params["warmup"], n_bars - h)
        try:
            train, test = chronological_split(ids, ids + h, params["test_fraction"], params["purge_bars"], params["embargo_bars"])
            folds = purged_kfold(train, train + h, params["n_folds"], params["purge_bars"], params["embargo_bars"])
        except DataError:
            return False
        return len(test) >= m and all(len(f.test_ids) >= m and len(f.train_ids) >= m for f in folds)

    needed = required_bars(**params)
    assert enough(needed)
    assert not enough(needed - 1)


def test_config_errors():
    ids = np.arange(20)
    with pytest.raises(ConfigError, match="config: oof.n_folds"):
        purged_kfold(ids, ids + 1, 1, 0, 0)
    with pytest.raises(ConfigError, match="config: oof.purge_bars"):
        purged_kfold(ids, ids + 1, 2, -1, 0)
    with pytest.raises(ConfigError, match="config: oof.embargo_bars"):
        purged_kfold(ids, ids + 1, 2, 0, -1)
    with pytest.raises(ConfigError, match="config: split.test_fraction"):
        chronological_split(ids, ids + 1, 1.0, 0, 0)
    with pytest.raises(ConfigError, match="config: training.val_split"):
        inner_validation_split(ids, ids + 1, 0.6, 0, 0)


def test_data_errors():
    ids = np.arange(10)
    with pytest.raises(DataError, match="no training samples"):
        purged_kfold(ids, ids + 9, 2, 0, 0)  # every label spans every other fold
    with pytest.raises(DataError, match="ascending"):
        purged_kfold(ids[::-1], ids[::-1] + 1, 2, 0, 0)
    with pytest.raises(DataError, match="t1 must be > t0"):
        purged_kfold(ids, ids, 2, 0, 0)


# --- properties on random cases -----------------------------------------------------------


@st.composite
def sample_sets(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(4, 150))
    horizon = draw(st.integers(1, 15))
    ids = np.sort(rng.choice(n * 3 + 10, n, replace=False)).astype(np.int64)
    ends = ids + rng.integers(1, horizon + 1, n)
    n_folds = draw(st.integers(2, min(8, n)))
    purge = draw(st.integers(0, 10))
    embargo = draw(st.integers(0, 10))
    return ids, ends, n_folds, purge, embargo


@settings(max_examples=300, deadline=None)
@given(sample_sets())
def test_kfold_never_leaks(case):
    ids, ends, n_folds, purge, embargo = case
    t0, t1 = as_lookup(ids, ends)
    try:
        folds = purged_kfold(ids, ends, n_folds, purge, embargo)
    except DataError:
        # only allowed when some fold really has nothing left to train on
        chunks = np.array_split(np.arange(ids.size), n_folds)
        assert any(purge_and_embargo(ids, ends, ids[c], ends[c], purge, embargo)[0].size == 0 for c in chunks)
        return
    assert sorted(np.concatenate([f.test_ids for f in folds]).tolist()) == ids.tolist()
    for fold in folds:
        assert fold.train_ids.size > 0
        assert leak_violations(fold.train_ids, t0, t1, fold.test_ids, purge, embargo) == []
        roles = [fold.train_ids, fold.test_ids, fold.purged_ids, fold.embargoed_ids]
        together = np.concatenate(roles)
        assert sorted(together.tolist()) == ids.tolist()  # a partition of all samples
        # nothing removed without cause: every purged/embargoed id would leak if trained on
        removed = np.concatenate([fold.purged_ids, fold.embargoed_ids])
        assert len(leak_violations(removed, t0, t1, fold.test_ids, purge, embargo)) == removed.size
        for arr in roles:
            assert (np.diff(arr) > 0).all()


@settings(max_examples=200, deadline=None)
@given(sample_sets(), st.sampled_from([0.1, 0.2, 1 / 3, 0.5]))
def test_inner_validation_never_leaks(case, val_fraction):
    ids, ends, n_folds, purge, embargo = case
    t0, t1 = as_lookup(ids, ends)
    try:
        fit, val = inner_validation_split(ids, ends, val_fraction, purge, embargo)
    except DataError:
        return
    assert val.tolist() == ids[-len(val):].tolist()
    assert len(val) == int(np.ceil(round(val_fraction * ids.size, 9)))
    assert not set(fit.tolist()) & set(val.tolist())
    assert leak_violations(fit, t0, t1, val, purge, embargo) == []
    assert t1[fit].max() <= val.min()


@settings(max_examples=200, deadline=None)
@given(sample_sets(), st.sampled_from([0.1, 0.25, 0.5]))
def test_chronological_split_never_leaks(case, test_fraction):
    ids, ends, _, purge, embargo = case
    try:
        train, test = chronological_split(ids, ends, test_fraction, purge, embargo)
    except DataError:
        return
    t0, t1 = as_lookup(ids, ends)
    assert t1[train].max() < test.min()
    assert train.max() < test.min() - purge - embargo
    assert test.tolist() == ids[-len(test):].tolist()


def naive_kfold(ids, n_folds):
    """Plain k-fold with no purge or embargo: the leak the checker must catch."""
    folds = []
    for index, positions in enumerate(np.array_split(np.arange(ids.size), n_folds)):
        test = ids[positions]
        train = np.setdiff1d(ids, test)
        empty = np.zeros(0, dtype=np.int64)
        folds.append(Fold(index, train, test, empty, empty))
    return folds


def test_negative_control_naive_split_is_caught():
    ids = np.arange(40)
    ends = ids + 5
    t0, t1 = as_lookup(ids, ends)
    naive = naive_kfold(ids, 4)
    assert any(leak_violations(f.train_ids, t0, t1, f.test_ids, 0, 0) for f in naive)
    # the purged version of the same split is clean
    for fold in purged_kfold(ids, ends, 4, 0, 0):
        assert leak_violations(fold.train_ids, t0, t1, fold.test_ids, 0, 0) == []
    # and dropping the embargo alone is caught too
    purged_only = purged_kfold(ids, ends, 4, 2, 0)
    assert any(leak_violations(f.train_ids, t0, t1, f.test_ids, 2, 3) for f in purged_only)


def test_blending_fold_holds_out_the_tail_and_purges_before_it():
    from hetstack.cv import blending_fold

    ids = np.arange(100, 300, dtype=np.int64)
    t1 = ids + 5
    (fold,) = blending_fold(ids, t1, 0.25, purge_bars=3, embargo_bars=10)
    np.testing.assert_array_equal(fold.test_ids, ids[-50:])
    start = fold.test_ids[0]
    assert fold.train_ids.max() < start
    assert (t1[np.isin(ids, fold.train_ids)] <= start).all()  # no train label reaches into the hold-out
    assert start - fold.train_ids.max() >= 5  # labels of 5 bars: the last 5 starts overlap and are purged
    assert len(fold.train_ids) + len(fold.purged_ids) + len(fold.test_ids) == len(ids)


# --- combinatorial purged CV -----------------------------------------------------------------


@pytest.mark.parametrize("n_groups, k", [(3, 1), (4, 2), (5, 2), (6, 2), (6, 3), (8, 4)])
def test_cpcv_split_and_path_counts(n_groups, k):
    import math

    ids = np.arange(0, 400, dtype=np.int64)
    splits = cpcv_splits(ids, ids + 3, n_groups, k, 2, 4)
    paths = cpcv_paths(n_groups, k)
    assert len(splits) == math.comb(n_groups, k)
    assert len(paths) == k * math.comb(n_groups, k) // n_groups == math.comb(n_groups - 1, k - 1)
    groups = cpcv_groups(len(ids), n_groups)
    slots = [(s, g) for path in paths for g, s in enumerate(path)]
    assert len(set(slots)) == len(slots) == len(splits) * k  # every (split, test group) on exactly one path
    for path in paths:
        covered = np.concatenate([np.intersect1d(splits[s].test_ids, ids[groups[g]]) for g, s in enumerate(path)])
        assert covered.tolist() == ids.tolist()  # each period row exactly once, in order
        for g, s in enumerate(path):
            assert g in splits[s].test_groups


def test_cpcv_hand_case_purges_and_embargoes_at_every_boundary():
    ids = np.arange(60, dtype=np.int64)
    splits = cpcv_splits(ids, ids + 2, 6, 2, 3, 4)  # groups of 10; labels span 2 bars
    split = next(s for s in splits if s.test_groups == (1, 3))
    assert split.test_ids.tolist() == list(range(10, 20)) + list(range(30, 40))
    # purged: 3 bars before each test group, and the 2 after it whose labels start before its last label
    # ends (bar 21, 41); embargoed: the 4 bars after that
    assert split.purged_ids.tolist() == [7, 8, 9, 20, 21, 27, 28, 29, 40, 41]
    assert split.embargoed_ids.tolist() == [22, 23, 24, 25, 42, 43, 44, 45]
    adjacent = next(s for s in splits if s.test_groups == (1, 2))  # one run: no purge between the two groups
    assert adjacent.purged_ids.tolist() == [7, 8, 9, 30, 31] and adjacent.embargoed_ids.tolist() == [32, 33, 34, 35]


@settings(max_examples=150, deadline=None)
@given(sample_sets(), st.integers(3, 6), st.integers(1, 4))
def test_cpcv_never_leaks(case, n_groups, k):
    ids, ends, _, purge, embargo = case
    k = min(k, n_groups - 1)
    t0, t1 = as_lookup(ids, ends)
    try:
        splits = cpcv_splits(ids, ends, n_groups, k, purge, embargo)
    except DataError:
        return
    groups = cpcv_groups(ids.size, n_groups)
    for split in splits:
        assert sorted(np.concatenate([split.train_ids, split.test_ids, split.purged_ids,
                                      split.embargoed_ids]).tolist()) == ids.tolist()
        for g in split.test_groups:  # against each test group, wherever it sits
            assert leak_violations(split.train_ids, t0, t1, ids[groups[g]], purge, embargo) == []
        removed = np.concatenate([split.purged_ids, split.embargoed_ids])
        leaks = set()
        for g in split.test_groups:
            leaks |= set(leak_violations(removed, t0, t1, ids[groups[g]], purge, embargo))
        assert len(leaks) == removed.size  # nothing removed without cause


def test_cpcv_config_errors():
    with pytest.raises(ConfigError, match="oof.n_groups"):
        check_cpcv(2, 1)
    with pytest.raises(ConfigError, match="oof.k_test_groups"):
        check_cpcv(6, 5)  # the meta-learners' (k+1)-group splits would train on nothing
    assert check_cpcv(6, 2) == (6, 2)
