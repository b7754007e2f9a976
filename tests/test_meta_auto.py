"""meta_auto: the candidate chosen by purged K-fold over the OOF rows, guarded by a one-SE rule;
meta_shrink: the convex blend of the best stacker and the best base."""

import json

import numpy as np
import pytest

from hetstack.catalogue import get_spec, load_model
from hetstack.io import write_parquet
from hetstack.meta.meta_auto import AutoMeta
from hetstack.stages.meta import MetaSettings, choose_candidate, fit_meta, shrink_toward_base
from hetstack.synthetic import generate_market
from hetstack.tables import prob_columns

from test_fitting_rows import BASES, oof_matrix

SETTINGS = dict(val_split=0.2, n_folds=3, purge_bars=5, embargo_bars=10, use_sample_weights=True, regime_window=50)


def probabilities_with_true_share(y, share, rng):
    """Rows whose probability of the true class is `share` (the rest split evenly)."""
    share = np.broadcast_to(np.asarray(share, dtype=np.float64), (len(y),))
    p = np.repeat(((1 - share) / 2)[:, None], 3, axis=1)
    p[np.arange(len(y)), y + 1] = share
    return p


def test_one_se_rule_keeps_the_simpler_candidate_unless_another_wins_clearly():
    rng = np.random.default_rng(0)
    y = rng.choice([-1, 0, 1], 4000)
    simple = probabilities_with_true_share(y, 0.40, rng)
    # per-row log loss differences of -delta: mean gain 0.002 (within one SE, ~0.005) or 0.05 (far beyond)
    delta = rng.normal(scale=0.3, size=len(y)).clip(-0.8, 0.8)  # keeps every share below 1
    slightly = probabilities_with_true_share(y, 0.40 * np.exp(delta - delta.mean() + 0.002), rng)
    clearly = probabilities_with_true_share(y, 0.40 * np.exp(delta - delta.mean() + 0.05), rng)
    folds = np.repeat(np.arange(5), len(y) // 5)
    near = choose_candidate({"simple": simple, "complex": slightly}, y, folds)
    assert near["lowest_cv_log_loss"] == "complex" and near["chosen"] == "simple"
    gap = near["candidates"]["simple"]
    assert 0 < gap["log_loss_above_best"] <= near["threshold_se"] * gap["log_loss_above_best_se"]
    far = choose_candidate({"simple": simple, "complex": clearly}, y, folds)
    assert far["chosen"] == "complex"
    assert far["candidates"]["simple"]["log_loss_above_best"] > far["threshold_se"] * far["candidates"]["simple"]["log_loss_above_best_se"]
    assert far["candidates"]["complex"]["log_loss_above_best"] == 0
    strict = choose_candidate({"simple": simple, "complex": clearly}, y, folds, margin_se=1e6)
    assert strict["chosen"] == "simple" and "1e+06 paired SE" in strict["rule"]


def autocorrelated_gaps(rng, n, folds, phi=0.95, fold_scale=0.01):
    """Per-row log-loss gaps of zero mean as overlapping labels and per-fold fits make them: AR(1)
    noise, and one shift per fold (that fold's fitted models err together)."""
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -phi], rng.normal(scale=0.1, size=n)) + rng.normal(scale=fold_scale, size=folds.max() + 1)[folds]


def test_one_se_rule_picks_an_equal_complex_candidate_at_its_nominal_rate_on_autocorrelated_gaps():
    """With no true gap, a normal one-SE rule picks the complex candidate when its gain crosses +1 SE:
    16% of the time. Batch means over blocks of twice the label span (the rule before) miss the
    per-fold error and cross far more often; the per-fold SE with its t margin stays nominal."""
    from hetstack.evaluation import se_blocks

    rng = np.random.default_rng(3)
    n, reps = 4000, 400
    y = rng.choice([-1, 0, 1], n)
    folds = np.repeat(np.arange(5), n // 5)
    simple = probabilities_with_true_share(y, 0.4, rng)
    picked_complex = crossed_batch_means = 0
    for _ in range(reps):
        gaps = autocorrelated_gaps(rng, n, folds).clip(-0.8, 0.8)
        complex_ = probabilities_with_true_share(y, 0.4 * np.exp(gaps), rng)
        choice = choose_candidate({"simple": simple, "complex": complex_}, y, folds)
        picked_complex += choice["chosen"] == "complex"
        crossed_batch_means += gaps.mean() > se_blocks(gaps, 40)
    assert 0.11 <= picked_complex / reps <= 0.21, picked_complex / reps
    assert crossed_batch_means / reps > 0.21, crossed_batch_means / reps


def calibrated(matrix):
    """Labels drawn from base 'good''s own probabilities: nothing can beat it but luck."""
    rng = np.random.default_rng(7)
    good = rng.dirichlet([2, 2, 2], len(matrix))
    for k, col in enumerate(prob_columns("good")):
        matrix[col] = good[:, k]
    matrix["label"] = ((rng.random(len(matrix))[:, None] > good.cumsum(axis=1)).sum(axis=1) - 1).astype(np.int8)
    return matrix


def fit_auto(tmp_path, candidates, use_oof_for_val=False, make=None, meta="auto"):
    matrix = oof_matrix(tmp_path / "matrix.parquet")
    if make is not None:
        write_parquet(tmp_path / "matrix.parquet", make(matrix))
    write_parquet(tmp_path / "bars.parquet", generate_market("MES", 1700, seed=0))
    out = tmp_path / meta
    fit_meta(meta, str(tmp_path / "matrix.parquet"), BASES, str(out), MetaSettings(
        params={"candidates": candidates, "n_folds": 3}, seed=0, threads=1, use_oof_for_val=use_oof_for_val,
        drop_unskilled_bases=False, candidate_params={"meta_regime": {"alpha": 0.1}}, **SETTINGS),
        bars_path=str(tmp_path / "bars.parquet"))
    return out


@pytest.mark.parametrize("use_oof_for_val", [False, True])
def test_auto_records_every_candidates_cv_scores_and_predicts_with_its_choice(tmp_path, use_oof_for_val):
    candidates = ["best_base", "meta_ridge", "meta_regime"]
    out = fit_auto(tmp_path, candidates, use_oof_for_val)
    choice = json.loads((out / "validation.json").read_text())["auto_choice"]
    assert choice["order"] == ["meta_best_base", "meta_ridge", "meta_regime"]  # aliases resolved, simplest first
    assert set(choice["candidates"]) == set(choice["order"])
    for scores in choice["candidates"].values():
        assert {"log_loss", "accuracy", "skill", "log_loss_above_best", "log_loss_above_best_se"} <= set(scores)
    assert choice["chosen"] in choice["candidates"] and choice["n_folds"] == 3
    model = load_model(out)
    assert isinstance(model, AutoMeta) and model.chosen_.name == choice["chosen"]
    X = np.random.default_rng(1).dirichlet([1, 1, 1], 50)
    X = np.hstack([X, X[::-1], np.random.default_rng(2).normal(size=(50, 4))])
    chosen_input = X if model.chosen_.reads_regime else X[:, :6]
    np.testing.assert_array_equal(model.predict(X).probabilities, model.chosen_.predict(chosen_input).probabilities)
    assert model.weights_method.startswith(f"those of the chosen candidate, {choice['chosen']}")


def test_auto_picks_the_one_good_base_when_nothing_beats_it(tmp_path):
    """Base 'good' is calibrated and 'noise' is a Dirichlet draw: a stacker can add nothing."""
    out = fit_auto(tmp_path, ["meta_best_base", "meta_ridge", "meta_logistic"], make=calibrated)
    choice = json.loads((out / "validation.json").read_text())["auto_choice"]
    assert choice["chosen"] == "meta_best_base", choice
    assert load_model(out).contributions() == {"good": [1.0, 1.0, 1.0], "noise": [0.0, 0.0, 0.0]}


def test_auto_refuses_a_bad_candidate_list(tmp_path):
    from hetstack.errors import ConfigError

    for bad in ([], ["meta_ridge", "ridge_meta"], ["meta_ridge", "auto"]):
        with pytest.raises(ConfigError, match="meta_auto.candidates"):
            fit_auto(tmp_path, bad)
    assert not (tmp_path / "auto").exists()  # no partial output


def test_auto_is_not_fitted_like_a_plain_meta():
    with pytest.raises(TypeError, match="purged K-fold"):
        get_spec("auto").cls({}, base_names=BASES).fit(np.full((10, 10), 1 / 3), np.zeros(10, int))


def test_shrinkage_weights_the_stacker_by_its_cross_validated_gain():
    rng = np.random.default_rng(5)
    y = rng.choice([-1, 0, 1], 3000)
    folds = np.repeat(np.arange(5), 600)
    base = probabilities_with_true_share(y, 0.40, rng)
    better = probabilities_with_true_share(y, 0.48, rng)
    noise = rng.dirichlet([1, 1, 1], len(y))
    clear = shrink_toward_base({"base": base, "noise": noise, "better": better}, y, folds)
    assert clear["toward"] == "base" and clear["stacker"] == "better" and clear["alpha"] >= 0.8
    assert clear["crossfit_gain_over_toward"] > 3 * clear["crossfit_gain_se"]
    useless = shrink_toward_base({"base": base, "noise": noise}, y, folds)
    assert useless["alpha"] == 0.0 and set(useless["alpha_by_fold"].values()) == {0.0}
    # sharper than the base, right and wrong by turns: a blend beats both ends
    mixed = probabilities_with_true_share(y, np.where(np.arange(len(y)) % 2 == 0, 0.55, 0.30), rng)
    partial = shrink_toward_base({"base": base, "mixed": mixed}, y, folds)
    assert 0.0 < partial["alpha"] < 1.0


def test_meta_shrink_predicts_the_recorded_blend_and_reloads_it(tmp_path):
    out = fit_auto(tmp_path, ["meta_best_base", "meta_ridge", "meta_regime"], meta="shrink")
    choice = json.loads((out / "validation.json").read_text())["auto_choice"]
    shrink = choice["shrinkage"]
    assert shrink["toward"] == "meta_best_base" and shrink["stacker"] in ("meta_ridge", "meta_regime")
    model = load_model(out)
    assert model.name == "meta_shrink"
    X = np.random.default_rng(1).dirichlet([1, 1, 1], 50)
    X = np.hstack([X, X[::-1], np.random.default_rng(2).normal(size=(50, 4))])
    parts = [(model.chosen_, 1.0 - model.partner_weight_), (model.partner_, model.partner_weight_)]
    assert [m.name for m, _ in parts] == [shrink["stacker"], shrink["toward"]]
    assert parts[0][1] == pytest.approx(shrink["alpha"])
    expected = sum(w * m.predict(X if m.reads_regime else X[:, :6]).probabilities for m, w in parts)
    np.testing.assert_allclose(model.predict(X).probabilities, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.predict(X).probabilities.sum(axis=1), 1.0, atol=1e-9)


def test_meta_shrink_with_a_partner_round_trips(tmp_path):
    """A blend saved and loaded predicts the same (the partner and its weight are stored)."""
    rng = np.random.default_rng(0)
    base_names = ["a", "b"]
    X = np.hstack([rng.dirichlet([1, 1, 1], 400), rng.dirichlet([1, 1, 1], 400)])
    y = rng.choice([-1, 0, 1], 400)
    ridge = get_spec("meta_ridge").cls({}, base_names=base_names)
    ridge.fit(X, y)
    best = get_spec("meta_best_base").cls({}, base_names=base_names)
    best.fit(X, y)
    model = get_spec("meta_shrink").cls.wrap(ridge, {"chosen": "meta_ridge", "rule": "test"}, {}, partner=(best, 0.3))
    Xr = np.hstack([X, rng.normal(size=(400, 4))])
    expected = 0.7 * ridge.predict(X).probabilities + 0.3 * best.predict(X).probabilities
    np.testing.assert_allclose(model.predict(Xr).probabilities, expected, atol=1e-12)
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(Xr).probabilities, model.predict(Xr).probabilities)
    assert again.partner_weight_ == 0.3 and "partner_weight" not in again.choice_
    assert set(again.contributions()) == {"a", "b"}
