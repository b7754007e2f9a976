"""Leakage properties of hetstack.cv on random cases (hypothesis), stated independently of tests/test_cv.py.

test_cv.py checks the splitters against a span-based reference checker; here the same rules are
re-stated from first principles, pair by pair, with long, ragged labels (t1 up to 60 bars ahead,
ids with gaps) and with purge_and_embargo and blending_fold called directly:

P1  the test folds partition the samples, are contiguous, in order, and differ in size by <= 1;
P2  no train label [t0, t1] shares a bar with any test label's [t0, t1], end points included (AFML 7.1)
    and none overlaps the test span [first t0, max t1];
P3  minimum purge: no train sample starts within purge_bars bars before the test start;
P4  embargo: no train sample starts in (t_end, t_end + embargo_bars];
P5  nothing is dropped without cause: a sample outside test that breaks none of P2-P4 is kept;
P6  train, test, purged and embargoed are disjoint and cover the candidates.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hetstack.cv import blending_fold, chronological_split, inner_validation_split, purge_and_embargo, purged_kfold
from hetstack.errors import DataError


@st.composite
def labelled_samples(draw, min_n=3, max_n=120):
    n = draw(st.integers(min_n, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gap = draw(st.integers(1, 4))
    ids = np.sort(rng.choice(n * gap + 5, n, replace=False)).astype(np.int64)
    horizon = draw(st.integers(1, 60))
    ends = ids + rng.integers(1, horizon + 1, n)
    purge = draw(st.integers(0, 30))
    embargo = draw(st.integers(0, 30))
    return ids, ends, purge, embargo


def must_drop(t0, t1, test_t0, test_t1, purge, embargo):
    """Why a candidate (t0, t1) may not train against this test set: the rules from first principles."""
    t_start, t_end = test_t0.min(), test_t1.max()
    # P2: shares a bar with some test label's [t0, t1], end points included (AFML 7.1), or with the span
    pairwise = np.any((t0 <= test_t1) & (t1 >= test_t0))
    span = t0 <= t_end and t1 >= t_start
    too_close = t_start - purge <= t0 < t_start  # P3
    embargoed = t_end < t0 <= t_end + embargo  # P4
    return pairwise or span or too_close or embargoed


def check_split(cand_ids, cand_ends, test_ids, test_ends, kept, purged, embargoed, purge, embargo):
    test_set = set(test_ids.tolist())
    outside = [i for i in cand_ids.tolist() if i not in test_set]
    # P6
    roles = np.concatenate([kept, purged, embargoed])
    assert sorted(roles.tolist()) == sorted(outside)
    assert len(set(roles.tolist())) == len(roles)
    end_of = dict(zip(cand_ids.tolist(), cand_ends.tolist()))
    for i in outside:
        drop = must_drop(i, end_of[i], test_ids, test_ends, purge, embargo)
        assert (i not in set(kept.tolist())) == drop, (i, end_of[i], drop)  # P2-P4 and P5
    t_end = test_ends.max()
    assert all(t_end < i <= t_end + embargo for i in embargoed.tolist())


@settings(max_examples=250, deadline=None)
@given(labelled_samples(), st.data())
def test_purge_and_embargo_on_arbitrary_test_sets(case, data):
    ids, ends, purge, embargo = case
    # any non-empty test subset, given in any order
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=ids.size, max_size=ids.size)))
    if not mask.any():
        mask[data.draw(st.integers(0, ids.size - 1))] = True
    order = np.random.default_rng(int(ids.sum())).permutation(int(mask.sum()))
    test_ids, test_ends = ids[mask][order], ends[mask][order]
    kept, purged, embargoed = purge_and_embargo(ids, ends, test_ids, test_ends, purge, embargo)
    check_split(ids, ends, test_ids, test_ends, kept, purged, embargoed, purge, embargo)


@settings(max_examples=250, deadline=None)
@given(labelled_samples(min_n=4), st.integers(2, 8))
def test_purged_kfold_partitions_and_never_leaks(case, n_folds):
    ids, ends, purge, embargo = case
    n_folds = min(n_folds, ids.size)
    try:
        folds = purged_kfold(ids, ends, n_folds, purge, embargo)
    except DataError as err:
        assert "no training samples left" in str(err)
        return
    # P1
    assert [f.index for f in folds] == list(range(n_folds))
    assert np.concatenate([f.test_ids for f in folds]).tolist() == ids.tolist()
    sizes = [f.test_ids.size for f in folds]
    assert max(sizes) - min(sizes) <= 1
    position = {i: p for p, i in enumerate(ids.tolist())}
    for f in folds:
        pos = [position[i] for i in f.test_ids.tolist()]
        assert pos == list(range(pos[0], pos[0] + len(pos)))
        in_fold = np.isin(ids, f.test_ids)
        check_split(ids, ends, f.test_ids, ends[in_fold], f.train_ids, f.purged_ids, f.embargoed_ids, purge, embargo)


@settings(max_examples=200, deadline=None)
@given(labelled_samples(min_n=2), st.sampled_from([0.05, 0.2, 1 / 3, 0.5]))
def test_blending_fold_holds_out_the_tail_without_leaks(case, fraction):
    ids, ends, purge, embargo = case
    try:
        [fold] = blending_fold(ids, ends, fraction, purge, embargo)
    except DataError:
        return
    n_blend = fold.test_ids.size
    assert n_blend == max(1, int(np.ceil(round(fraction * ids.size, 9))))
    assert fold.test_ids.tolist() == ids[-n_blend:].tolist()
    check_split(ids[:-n_blend], ends[:-n_blend], fold.test_ids, ends[-n_blend:], fold.train_ids, fold.purged_ids,
                fold.embargoed_ids, purge, embargo)
    # everything kept lies before the hold-out and resolves by its first bar
    assert ends[np.isin(ids, fold.train_ids)].max() <= fold.test_ids[0]


@settings(max_examples=200, deadline=None)
@given(labelled_samples(min_n=2), st.sampled_from([0.1, 0.15, 0.5]))
def test_inner_validation_split_is_purged_from_its_fit_part(case, fraction):
    ids, ends, purge, embargo = case
    try:
        fit, val = inner_validation_split(ids, ends, fraction, purge, embargo)
    except DataError:
        return
    n_val = val.size
    assert val.tolist() == ids[-n_val:].tolist()
    kept, purged, embargoed = purge_and_embargo(ids[:-n_val], ends[:-n_val], val, ends[-n_val:], purge, embargo)
    assert fit.tolist() == kept.tolist()
    check_split(ids[:-n_val], ends[:-n_val], val, ends[-n_val:], fit, purged, embargoed, purge, embargo)


@settings(max_examples=200, deadline=None)
@given(labelled_samples(min_n=2), st.sampled_from([0.1, 0.2, 0.5]))
def test_chronological_split_leaves_the_gap_and_no_label_reaches_test(case, fraction):
    ids, ends, purge, embargo = case
    try:
        train, test = chronological_split(ids, ends, fraction, purge, embargo)
    except DataError:
        return
    assert test.tolist() == ids[-test.size:].tolist()
    train_ends = ends[np.isin(ids, train)]
    assert train_ends.max() < test.min()  # no train label reaches the test period
    assert train.max() < test.min() - purge - embargo
    assert not set(train.tolist()) & set(test.tolist())
