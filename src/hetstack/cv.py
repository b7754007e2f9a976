"""Leakage-free splits: chronological holdout, purged k-fold with embargo (AFML ch. 7).

A sample id is a bar position t0; its label spans [t0, t1]. Every splitter here removes from
training any sample whose label span touches the bars that decide a held-out label, so a model
never trains on information that overlaps what it is scored on.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError

TRAIN, TEST, PURGED, EMBARGOED, UNUSED = 1, 0, -1, -2, -3  # fold_table codes
_FOLD_COLUMN = re.compile(r"^fold(\d+)$")


@dataclass
class Fold:
    index: int
    train_ids: np.ndarray
    test_ids: np.ndarray
    purged_ids: np.ndarray
    embargoed_ids: np.ndarray


def _check_nonneg_int(value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"config: {key}", f"must be an integer >= 0, got {value!r}", f"set {key} to 0 or more bars")
    return int(value)


def _check_fraction(value, key: str, upper: float, upper_inclusive: bool) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and 0 < value
        and (value <= upper if upper_inclusive else value < upper)
    )
    if not ok:
        bracket = "]" if upper_inclusive else ")"
        raise ConfigError(
            f"config: {key}", f"must be in (0, {upper}{bracket}, got {value!r}", f"set {key} to e.g. 0.2"
        )
    return float(value)


def _ceil_share(fraction: float, n: int) -> int:
    # Rounding first keeps 0.2 * 10 at 2 rather than ceil(2.0000000000000004) = 3.
    return math.ceil(round(fraction * n, 9))


def _check_samples(sample_ids, t1, what: str) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(sample_ids)
    ends = np.asarray(t1)
    if ids.ndim != 1 or ends.shape != ids.shape:
        raise DataError(what, f"ids and t1 must be 1-D of equal length, got {ids.shape} and {ends.shape}", "pass matching arrays")
    if ids.size and not (np.issubdtype(ids.dtype, np.integer) and np.issubdtype(ends.dtype, np.integer)):
        raise DataError(what, f"ids and t1 must be integers, got {ids.dtype} and {ends.dtype}", "pass bar positions")
    ids = ids.astype(np.int64, copy=False)
    ends = ends.astype(np.int64, copy=False)
    if ids.size > 1 and not (np.diff(ids) > 0).all():
        raise DataError(what, "sample ids are not strictly ascending", "sort samples by bar and drop duplicates")
    if (ends <= ids).any():
        bad = int(np.flatnonzero(ends <= ids)[0])
        raise DataError(what, f"t1 must be > t0, but sample {int(ids[bad])} has t1 = {int(ends[bad])}", "pass only valid labels")
    return ids, ends


def chronological_split(sample_ids, t1, test_fraction, purge_bars, embargo_bars) -> tuple[np.ndarray, np.ndarray]:
    """Hold out the last `test_fraction` of samples (at least one) as the test set.

    Train keeps samples with id < first_test_id - (purge_bars + embargo_bars) whose label also
    resolves before the test set begins (t1 < first_test_id), so no train label sees test bars.
    """
    test_fraction = _check_fraction(test_fraction, "split.test_fraction", 1.0, upper_inclusive=False)
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    ids, ends = _check_samples(sample_ids, t1, "samples")
    n_test = max(1, _ceil_share(test_fraction, ids.size))
    if ids.size < 2 or n_test >= ids.size:
        raise DataError("samples", f"{ids.size} samples cannot give both a test and a train set", "use more bars")
    test_ids = ids[-n_test:]
    first_test = test_ids[0]
    gap = purge_bars + embargo_bars
    train_ids = ids[(ids < first_test - gap) & (ends < first_test)]
    if train_ids.size == 0:
        raise DataError(
            "samples",
            f"no training samples left before the test set (first test bar {int(first_test)}, gap {gap})",
            "use more bars, or lower split.test_fraction / oof.purge_bars / oof.embargo_bars",
        )
    return train_ids, test_ids


def purge_and_embargo(
    candidate_ids, candidate_t1, test_ids, test_t1, purge_bars, embargo_bars
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split candidates (test ids excluded) into (kept, purged, embargoed).

    Test span = [t_start, t_end], t_start = min test t0, t_end = max test t1.
    Purged: label span [t0, t1] overlaps the test span, end points included (t0 <= t_end and
    t1 >= t_start: a label resolving at the first test bar shares that bar's price, as AFML 7.1's
    getTrainTimes drops it), or t_start - purge_bars <= t0 < t_start (never purge fewer than
    purge_bars bars before the test set, whatever the label lengths).
    Embargoed: t_end < t0 <= t_end + embargo_bars (AFML 7.3, after the last test label ends).
    Purge wins, so the two sets are disjoint.
    """
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    ids, ends = _check_samples(candidate_ids, candidate_t1, "candidate samples")
    held_ids, held_ends = _check_samples(np.sort(np.asarray(test_ids)), np.asarray(test_t1)[np.argsort(test_ids)], "test samples")
    if held_ids.size == 0:
        raise DataError("test samples", "the test set is empty", "pass at least one test sample")
    t_start = held_ids[0]
    t_end = held_ends.max()

    outside_test = ~np.isin(ids, held_ids)
    overlaps = (ids <= t_end) & (ends >= t_start)
    too_close_before = (ids >= t_start - purge_bars) & (ids < t_start)
    purged = outside_test & (overlaps | too_close_before)
    embargoed = outside_test & ~purged & (ids > t_end) & (ids <= t_end + embargo_bars)
    kept = outside_test & ~purged & ~embargoed
    return ids[kept], ids[purged], ids[embargoed]


def purged_kfold(sample_ids, t1, n_folds, purge_bars, embargo_bars) -> list[Fold]:
    """Contiguous k-fold over the (sorted) samples; each fold trains on the rest after purge/embargo."""
    if isinstance(n_folds, bool) or not isinstance(n_folds, numbers.Integral) or n_folds < 2:
        raise ConfigError("config: oof.n_folds", f"must be an integer >= 2, got {n_folds!r}", "set oof.n_folds to e.g. 5")
    n_folds = int(n_folds)
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    ids, ends = _check_samples(sample_ids, t1, "training samples")
    if ids.size < n_folds:
        raise DataError("training samples", f"{ids.size} samples for {n_folds} folds", "use more bars or fewer oof.n_folds")

    folds = []
    for index, positions in enumerate(np.array_split(np.arange(ids.size), n_folds)):
        test_ids = ids[positions]
        kept, purged, embargoed = purge_and_embargo(ids, ends, test_ids, ends[positions], purge_bars, embargo_bars)
        if kept.size == 0:
            raise DataError(
                "training samples",
                f"fold {index} has no training samples left after purge/embargo ({ids.size} samples, {n_folds} folds)",
                "use more bars, fewer oof.n_folds, or smaller oof.purge_bars / oof.embargo_bars / horizons",
            )
        folds.append(Fold(index, kept, test_ids, purged, embargoed))
    return folds


def blending_fold(sample_ids, t1, blend_fraction, purge_bars, embargo_bars) -> list[Fold]:
    """Blending: one fold whose test part is the last `blend_fraction` of the train samples.

    Bases fit on the purged earlier part and predict the hold-out; the meta-learner is then fitted
    on those hold-out predictions only (the rest of the train samples get no OOF prediction).
    """
    blend_fraction = _check_fraction(blend_fraction, "oof.blend_fraction", 0.5, upper_inclusive=True)
    ids, ends = _check_samples(sample_ids, t1, "training samples")
    n_blend = max(1, _ceil_share(blend_fraction, ids.size))
    if n_blend >= ids.size:
        raise DataError("training samples", f"{ids.size} samples cannot give a blending hold-out", "use more bars")
    kept, purged, embargoed = purge_and_embargo(ids[:-n_blend], ends[:-n_blend], ids[-n_blend:], ends[-n_blend:],
                                                purge_bars, embargo_bars)
    if kept.size == 0:
        raise DataError("training samples", "no samples left to fit the bases before the blending hold-out",
                        "use more bars, or lower oof.blend_fraction / oof.purge_bars")
    return [Fold(0, kept, ids[-n_blend:], purged, embargoed)]


def inner_validation_split(train_ids, train_t1, val_fraction, purge_bars, embargo_bars) -> tuple[np.ndarray, np.ndarray]:
    """Carve an early-stopping set from a fold's own training ids (never from its test fold).

    val = the chronologically last ceil(val_fraction * n) training ids; fit = the rest, purged and
    embargoed against val. Works when the training ids are two blocks around the test fold.
    """
    val_fraction = _check_fraction(val_fraction, "training.val_split", 0.5, upper_inclusive=True)
    ids, ends = _check_samples(train_ids, train_t1, "fold training samples")
    n_val = max(1, _ceil_share(val_fraction, ids.size))
    if ids.size < 2 or n_val >= ids.size:
        raise DataError("fold training samples", f"{ids.size} samples cannot give a fit and a validation set", "use more bars")
    fit_ids, _, _ = purge_and_embargo(ids[:-n_val], ends[:-n_val], ids[-n_val:], ends[-n_val:], purge_bars, embargo_bars)
    if fit_ids.size == 0:
        raise DataError(
            "fold training samples",
            f"no fit samples left after purging against the last {n_val} validation samples",
            "use more bars, or lower training.val_split / oof.purge_bars / horizons",
        )
    return fit_ids, ids[-n_val:]


def _smallest_satisfying(predicate, low: int) -> int:
    """Smallest integer >= low where a monotone (False..False, True..True) predicate holds."""
    high = max(low, 1)
    while not predicate(high):
        low, high = high + 1, high * 2
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


def required_bars(
    n_folds, horizon, purge_bars, embargo_bars, warmup, test_fraction, min_samples_per_fold=50
) -> int:
    """Fewest bars a symbol needs so every split below has enough samples, in the worst case.

    Assumes samples are bars warmup .. N-1-horizon and every label runs the full horizon. Needs:
    a holdout test set (last test_fraction) of >= min_samples_per_fold samples; a train pool,
    after chronological_split drops max(purge+embargo, horizon) samples before the test set,
    whose every purged k-fold test fold has >= min_samples_per_fold samples and keeps
    >= min_samples_per_fold training samples after a middle fold's worst-case purge/embargo.
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, numbers.Integral) or n_folds < 2:
        raise ConfigError("config: oof.n_folds", f"must be an integer >= 2, got {n_folds!r}", "set oof.n_folds to e.g. 5")
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ConfigError("config: horizons", f"each must be an integer >= 1, got {horizon!r}", "list horizons as integers >= 1")
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    warmup = _check_nonneg_int(warmup, "warmup")
    min_samples = max(1, _check_nonneg_int(min_samples_per_fold, "min_samples_per_fold"))
    test_fraction = _check_fraction(test_fraction, "split.test_fraction", 1.0, upper_inclusive=False)
    n_folds, horizon = int(n_folds), int(horizon)

    # Middle fold: purge reaches back max(purge, horizon) samples (a label ending at the fold start
    # is dropped too), forward horizon samples, then embargo_bars more are embargoed.
    dropped_around_fold = max(purge_bars, horizon) + horizon + embargo_bars
    pool = _smallest_satisfying(
        lambda p: p // n_folds >= min_samples and p - math.ceil(p / n_folds) - dropped_around_fold >= min_samples,
        n_folds * min_samples,
    )
    dropped_before_test = max(purge_bars + embargo_bars, horizon)
    samples = _smallest_satisfying(
        lambda s: _ceil_share(test_fraction, s) >= min_samples
        and s - max(1, _ceil_share(test_fraction, s)) - dropped_before_test >= pool,
        pool + min_samples,
    )
    return warmup + samples + horizon


def fold_table(sample_ids, folds) -> pd.DataFrame:
    """One row per sample: its test fold (-1 if none) and, per fold k, a `fold{k}` role code.

    Codes: 1 train, 0 test, -1 purged, -2 embargoed, -3 not used by that fold.
    """
    ids = np.asarray(sample_ids).astype(np.int64, copy=False)
    if ids.size > 1 and not (np.diff(ids) > 0).all():
        raise DataError("samples", "sample ids are not strictly ascending", "sort samples by bar and drop duplicates")
    table = {"sample_id": ids, "test_fold": np.full(ids.size, -1, dtype=np.int16)}
    for fold in folds:
        roles = np.full(ids.size, UNUSED, dtype=np.int8)
        for members, code in (
            (fold.train_ids, TRAIN),
            (fold.test_ids, TEST),
            (fold.purged_ids, PURGED),
            (fold.embargoed_ids, EMBARGOED),
        ):
            positions = np.searchsorted(ids, members)
            if members.size and ((positions >= ids.size).any() or (ids[np.minimum(positions, ids.size - 1)] != members).any()):
                raise DataError(f"fold {fold.index}", "holds ids that are not in sample_ids", "build the table from the ids the folds were made from")
            roles[positions] = code
        table["test_fold"][np.searchsorted(ids, fold.test_ids)] = fold.index
        table[f"fold{fold.index}"] = roles
    return pd.DataFrame(table)


def folds_from_table(df: pd.DataFrame) -> list[Fold]:
    """Inverse of fold_table."""
    ids = df["sample_id"].to_numpy(dtype=np.int64)
    folds = []
    numbered = sorted((int(m.group(1)), column) for column in df.columns if (m := _FOLD_COLUMN.match(str(column))))
    for index, column in numbered:
        roles = df[column].to_numpy()
        folds.append(
            Fold(
                index=index,
                train_ids=ids[roles == TRAIN],
                test_ids=ids[roles == TEST],
                purged_ids=ids[roles == PURGED],
                embargoed_ids=ids[roles == EMBARGOED],
            )
        )
    return folds


@dataclass
class CpcvSplit(Fold):
    test_groups: tuple[int, ...] = ()


def check_cpcv(n_groups, k_test_groups) -> tuple[int, int]:
    """N >= 3 groups and 1 <= k <= N - 2: the meta-learner of a split reads predictions of the
    (k+1)-group splits, which must leave a group to train on."""
    if isinstance(n_groups, bool) or not isinstance(n_groups, numbers.Integral) or n_groups < 3:
        raise ConfigError("config: oof.n_groups", f"must be an integer >= 3, got {n_groups!r}", "set oof.n_groups to e.g. 6")
    if (isinstance(k_test_groups, bool) or not isinstance(k_test_groups, numbers.Integral)
            or not 1 <= k_test_groups <= n_groups - 2):
        raise ConfigError("config: oof.k_test_groups", f"must be an integer in [1, n_groups - 2 = {n_groups - 2}], "
                          f"got {k_test_groups!r}", "set oof.k_test_groups to e.g. 2")
    return int(n_groups), int(k_test_groups)


def cpcv_groups(n_samples: int, n_groups: int) -> list[np.ndarray]:
    """Positions of the N contiguous groups the samples are cut into (sizes differ by at most one)."""
    return np.array_split(np.arange(n_samples), n_groups)


def cpcv_splits(sample_ids, t1, n_groups, k_test_groups, purge_bars, embargo_bars) -> list[CpcvSplit]:
    """Combinatorial purged CV (AFML 12.4): every choice of k of the N groups is tested once, in
    lexicographic order; the rest train, purged and embargoed around each contiguous run of test groups."""
    n_groups, k = int(n_groups), int(k_test_groups)
    if not 1 <= k < n_groups:
        raise ConfigError("config: oof.k_test_groups", f"must be in [1, {n_groups - 1}], got {k}", "lower it")
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    ids, ends = _check_samples(sample_ids, t1, "training samples")
    if ids.size < n_groups:
        raise DataError("training samples", f"{ids.size} samples for {n_groups} groups", "use more bars or fewer oof.n_groups")
    groups = cpcv_groups(ids.size, n_groups)
    splits = []
    for index, chosen in enumerate(combinations(range(n_groups), k)):
        test = np.concatenate([groups[g] for g in chosen])
        test_mask = np.zeros(ids.size, dtype=bool)
        test_mask[test] = True
        purged = np.zeros(ids.size, dtype=bool)
        embargoed = np.zeros(ids.size, dtype=bool)
        for run in _contiguous_runs(chosen):
            block = np.concatenate([groups[g] for g in run])
            _, p, e = purge_and_embargo(ids, ends, ids[block], ends[block], purge_bars, embargo_bars)
            purged |= np.isin(ids, p)
            embargoed |= np.isin(ids, e)
        purged &= ~test_mask
        embargoed &= ~test_mask & ~purged
        train = ~test_mask & ~purged & ~embargoed
        if not train.any():
            raise DataError("training samples", f"CPCV split {index} (test groups {chosen}) has no training samples "
                            "left after purge/embargo", "use more bars, or fewer oof.k_test_groups / smaller embargo")
        splits.append(CpcvSplit(index, ids[train], ids[test], ids[purged], ids[embargoed], tuple(chosen)))
    return splits


def _contiguous_runs(groups: tuple[int, ...]) -> list[tuple[int, ...]]:
    runs: list[list[int]] = []
    for g in groups:
        if runs and runs[-1][-1] == g - 1:
            runs[-1].append(g)
        else:
            runs.append([g])
    return [tuple(r) for r in runs]


def cpcv_paths(n_groups: int, k_test_groups: int) -> list[list[int]]:
    """The phi = k/N * C(N, k) = C(N-1, k-1) backtest paths: path[j][g] is the split (index into
    cpcv_splits' order) whose predictions cover group g on path j, the j-th split that tests g."""
    tested_by = [[s for s, chosen in enumerate(combinations(range(n_groups), k_test_groups)) if g in chosen]
                 for g in range(n_groups)]
    return [[tested_by[g][j] for g in range(n_groups)] for j in range(math.comb(n_groups - 1, k_test_groups - 1))]


def known_before(sample_ids, t1, start: int, purge_bars: int, embargo_bars: int) -> np.ndarray:
    """Mask of the samples a model deployed at bar `start` may have been fitted on: as the test
    period's train set (chronological_split), id < start - (purge + embargo) and label resolved (t1 < start)."""
    ids, ends = np.asarray(sample_ids, dtype=np.int64), np.asarray(t1, dtype=np.int64)
    return (ids < start - (purge_bars + embargo_bars)) & (ends < start)


def walkforward_windows(sample_ids, t1, record_ids, n_windows, purge_bars, embargo_bars,
                        train_bars: int | None = None) -> list[Fold]:
    """Walk-forward: the record (the samples after the initial span) cut into `n_windows` consecutive
    windows; window w trains on every sample known before its first bar (known_before), or on those
    of them whose id is within the last `train_bars` bars before that cut (rolling).

    Fold codes: the window's samples test, its train samples train, the earlier samples left out by
    the gap or an unresolved label purged, samples older than a rolling span and later ones unused."""
    if isinstance(n_windows, bool) or not isinstance(n_windows, numbers.Integral) or n_windows < 1:
        raise ConfigError("config: oos.n_windows", f"must be an integer >= 1, got {n_windows!r}", "set it to e.g. 6")
    purge_bars = _check_nonneg_int(purge_bars, "oof.purge_bars")
    embargo_bars = _check_nonneg_int(embargo_bars, "oof.embargo_bars")
    ids, ends = _check_samples(sample_ids, t1, "samples")
    record = np.asarray(record_ids, dtype=np.int64)
    if record.size < n_windows or not np.isin(record, ids).all():
        raise DataError("walk-forward record", f"{record.size} record samples for {n_windows} windows",
                        "use more bars, a smaller oos.initial_fraction or fewer oos.n_windows")
    windows = []
    for index, test_ids in enumerate(np.array_split(record, int(n_windows))):
        start = int(test_ids[0])
        before = ids < start
        train = known_before(ids, ends, start, purge_bars, embargo_bars)
        if train_bars is not None:
            train &= ids >= start - (purge_bars + embargo_bars) - int(train_bars)
        purged = before & ~train & (ids >= (ids[train][0] if train.any() else 0))
        if not train.any():
            raise DataError("walk-forward record", f"window {index} has no training samples before bar {start}",
                            "use more bars, a larger oos.initial_fraction or oos.train_bars")
        windows.append(Fold(index, ids[train], test_ids, ids[purged], np.zeros(0, dtype=np.int64)))
    return windows
