"""Which rows each fit sees: no row a reported score is measured on is used for fitting (weights,
early stopping, temperature), and no test label scales a training weight."""

import json

import numpy as np
import pandas as pd
import pytest

from hetstack.cv import purged_kfold
from hetstack.io import write_parquet
from hetstack.meta.base import MetaLearner
from hetstack.models.base import fit_temperature, labels_to_index
from hetstack.catalogue import available, get_spec
from hetstack.stages.labels import LabelSettings, build_labels
from hetstack.stages.meta import MetaSettings, fit_meta
from hetstack.stages.oof import fit_weights
from hetstack.tables import PROB_COLUMNS, prob_columns
from hetstack.synthetic import generate_market

BASES = ["good", "noise"]
ADAPTERS = {"sequence": {"seq_len": 4}, "multires": {"timeframes": [1, 2], "seq_len": 3}}
SETTINGS = dict(val_split=0.2, n_folds=3, purge_bars=5, embargo_bars=10, use_sample_weights=True, regime_window=50)
FAST = {"meta_mlp": {"epochs": 5, "patience": 2}, "meta_xgboost": {"num_boost_round": 20},
        "meta_auto": {"n_folds": 3}, "meta_shrink": {"n_folds": 3}}


def oof_matrix(path, n=1500, seed=0):
    """A meta matrix whose every row is unique, so a row handed to fit() can be traced to its sample."""
    rng = np.random.default_rng(seed)
    y = rng.choice([-1, 0, 1], size=n)
    good = rng.dirichlet([1, 1, 1], n) * 0.5
    good[np.arange(n), y + 1] += 0.5
    ids = np.arange(100, 100 + n, dtype=np.int64)
    matrix = pd.DataFrame({"sample_id": ids, "t1": ids + rng.integers(1, 6, n), "fold": np.zeros(n, np.int16),
                           "label": y.astype(np.int8), "weight": rng.uniform(0.5, 1.5, n)})
    for base, proba in zip(BASES, (good, rng.dirichlet([2, 2, 2], n))):
        for src, dst in zip(PROB_COLUMNS, prob_columns(base)):
            matrix[dst] = proba[:, PROB_COLUMNS.index(src)]
    write_parquet(path, matrix)
    return matrix


@pytest.fixture
def recorded_fits(monkeypatch):
    """Every MetaLearner.fit call as (sample ids fitted, sample ids of X_val, sample weights)."""
    calls, original = [], MetaLearner.fit
    lookup = {}

    def spy(self, X_train, y_train, X_val=None, y_val=None, sample_weights=None, config=None):
        def ids(X):  # by the probability columns: a regime-reading meta has more after them
            return set() if X is None else {lookup[tuple(row[:2 * 3])] for row in np.asarray(X).tolist()}
        calls.append((ids(X_train), ids(X_val), None if sample_weights is None else np.asarray(sample_weights)))
        return original(self, X_train, y_train, X_val, y_val, sample_weights, config)

    monkeypatch.setattr(MetaLearner, "fit", spy)
    return calls, lookup


@pytest.mark.parametrize("meta", available("meta"))
@pytest.mark.parametrize("use_oof_for_val", [False, True])
def test_no_meta_fit_touches_its_validation_rows(tmp_path, recorded_fits, meta, use_oof_for_val):
    calls, lookup = recorded_fits
    matrix = oof_matrix(tmp_path / "matrix.parquet")
    columns = [c for b in BASES for c in prob_columns(b)]
    lookup.update({tuple(row): int(i) for row, i in zip(matrix[columns].to_numpy(np.float64).tolist(),
                                                        matrix["sample_id"])})
    write_parquet(tmp_path / "bars.parquet", generate_market("MES", 1700, seed=0))  # behind the regime features
    fit_meta(meta, str(tmp_path / "matrix.parquet"), BASES, str(tmp_path / "model"), MetaSettings(
        params=FAST.get(meta, {}), seed=0, threads=1, use_oof_for_val=use_oof_for_val, drop_unskilled_bases=False,
        candidate_params=FAST, **SETTINGS), bars_path=str(tmp_path / "bars.parquet"))
    validation = json.loads((tmp_path / "model/validation.json").read_text())
    ids, t1 = matrix["sample_id"].to_numpy(), matrix["t1"].to_numpy()
    if use_oof_for_val:  # one meta per fold, validated on that fold's test rows, then the final fit
        scored = [set(f.test_ids.tolist()) for f in purged_kfold(ids, t1, SETTINGS["n_folds"], 5, 10)]
        scored.append(set())
    else:  # the validated fit, then the refit on all rows that is kept
        low, high = validation["val_sample_range"]
        scored = [set(range(low, high + 1)), set()]
    # meta_auto: per fit, every candidate on each of its purged folds, then the chosen one on all its rows;
    # meta_shrink: then the two parts of its blend
    choosing = meta in ("meta_auto", "meta_shrink")
    candidates = get_spec(meta).cls.default_params.get("candidates", [])
    per_fit = len(candidates) * FAST[meta]["n_folds"] + 1 + (meta == "meta_shrink") if choosing else 1
    assert len(calls) == len(scored) * per_fit
    for i, (fitted, held_out, weights) in enumerate(calls):
        rows = scored[i // per_fit]
        assert fitted and not fitted & rows and not held_out & rows
        assert not fitted & held_out
        np.testing.assert_allclose(weights.mean(), 1.0)  # rescaled over the rows fitted
        if not choosing:
            assert get_spec(meta).cls.fits_on_holdout == bool(held_out)
    if choosing:
        assert validation["auto_choice"]["chosen"] in candidates


@pytest.mark.parametrize("use_oof_for_val", [False, True])
def test_a_base_without_oof_skill_is_left_out_of_the_meta(tmp_path, use_oof_for_val):
    from hetstack.catalogue import load_model

    oof_matrix(tmp_path / "matrix.parquet")  # base "noise" is a random Dirichlet draw: no skill
    for drop in (True, False):
        out = tmp_path / f"model_{drop}"
        fit_meta("meta_ridge", str(tmp_path / "matrix.parquet"), BASES, str(out), MetaSettings(
            params={}, seed=0, threads=1, use_oof_for_val=use_oof_for_val, drop_unskilled_bases=drop, **SETTINGS))
        validation = json.loads((out / "validation.json").read_text())
        skill = validation["base_skill_on_fit_rows"]
        assert skill["good"] > 0.1 and skill["noise"] < 0
        assert validation["bases"]["noise"]["skill"] < 0 < validation["meta"]["skill"]
        assert validation["dropped_bases"] == (["noise"] if drop else [])
        assert load_model(out).base_names == (["good"] if drop else BASES)


def test_ridge_temperature_is_fitted_on_the_held_out_rows():
    rng = np.random.default_rng(1)
    X = rng.dirichlet([1, 1, 1, 1, 1, 1], 800)
    y = rng.choice([-1, 0, 1], 800)
    meta = get_spec("meta_ridge").cls({"alpha": 1.0}, base_names=BASES)
    meta.fit(X[:600], y[:600], X[600:], y[600:])
    scores = X[600:] @ meta.coef_.T + meta.intercept_
    assert meta.temperature_ == pytest.approx(fit_temperature(scores, labels_to_index(y[600:])))
    in_sample = fit_temperature(X[:600] @ meta.coef_.T + meta.intercept_, labels_to_index(y[:600]))
    assert meta.temperature_ != pytest.approx(in_sample)


def labels_of(tmp_path, bars, name):
    folder = tmp_path / name
    folder.mkdir()
    write_parquet(folder / "bars.parquet", bars)
    (folder / "features.json").write_text(json.dumps({"warmup": 0}))
    build_labels(str(folder / "bars.parquet"), str(folder / "features.json"), str(folder / "labels.parquet"),
                 str(folder / "folds.parquet"), str(folder / "splits.json"),
                 LabelSettings(horizon=5, barrier_k=1.0, vol_window=20, test_fraction=0.25, n_folds=3, purge_bars=5,
                               embargo_bars=10, adapters=ADAPTERS), source="test bars")
    return pd.read_parquet(folder / "labels.parquet")


def test_test_labels_do_not_scale_train_weights(tmp_path):
    bars = generate_market("SYN", 3000, seed=3)
    before = labels_of(tmp_path, bars, "before")
    first_test = int(before.loc[before["split"] == "test", "sample_id"].iloc[0])
    # Another future after the test period starts: other test labels and spans, the same train samples.
    changed = bars.copy()
    later = changed.index >= first_test + 1
    moves = np.random.default_rng(9).normal(0, 0.004, later.sum()).cumsum()
    for col in ("open", "high", "low", "close"):
        changed.loc[later, col] = changed.loc[later, col] * np.exp(moves)
    after = labels_of(tmp_path, changed, "after")
    test_before, test_after = (f[f["split"] == "test"] for f in (before, after))
    assert not np.array_equal(test_before["t1"], test_after["t1"])  # the test labels did change
    train_before, train_after = (f[f["split"] == "train"] for f in (before, after))
    np.testing.assert_array_equal(train_before["sample_id"], train_after["sample_id"])
    np.testing.assert_array_equal(train_before["weight"], train_after["weight"])
    assert train_before["weight"].mean() == pytest.approx(1.0)
    assert before.loc[before["split"] != "train", "weight"].isna().all()  # weights train nothing else


def test_fit_weights_are_rescaled_over_the_fitted_rows():
    np.testing.assert_allclose(fit_weights(np.array([1.0, 2.0, 3.0])), [0.5, 1.0, 1.5])
    with pytest.raises(ValueError, match="finite"):
        fit_weights(np.array([1.0, np.nan]))


@pytest.mark.parametrize("refit", [True, False])
def test_the_kept_meta_is_refitted_on_all_oof_rows_after_its_validation(tmp_path, refit):
    """meta_best_base on a matrix whose better base changes in the last OOF rows: the refit on all rows
    picks the base that is best over all of them; the validated fit alone, the one best before."""
    from hetstack.catalogue import load_model

    matrix = oof_matrix(tmp_path / "matrix.parquet")
    y = matrix["label"].to_numpy()
    n = len(matrix)
    sharp, flat = np.full((n, 3), 0.05), np.full((n, 3), 1 / 3)
    sharp[np.arange(n), y + 1] = 0.9
    late = np.arange(n) >= int(0.45 * n)  # "noise" is sharp on the last 55%, "good" flat there
    for base, proba in (("good", np.where(late[:, None], flat, sharp)),
                        ("noise", np.where(late[:, None], sharp, flat))):
        for k, col in enumerate(prob_columns(base)):
            matrix[col] = proba[:, k]
    write_parquet(tmp_path / "matrix.parquet", matrix)
    out = tmp_path / "model"
    fit_meta("meta_best_base", str(tmp_path / "matrix.parquet"), BASES, str(out), MetaSettings(
        params={}, seed=0, threads=1, use_oof_for_val=False, drop_unskilled_bases=False, refit_all_rows=refit,
        **SETTINGS))
    validation = json.loads((out / "validation.json").read_text())
    assert ("refitted on all OOF rows" in validation["mode"]) == refit
    assert load_model(out).contributions()["noise" if refit else "good"] == [1.0, 1.0, 1.0]
