"""meta_auto: the candidate chosen by purged K-fold over the OOF rows, guarded by a one-SE rule."""

import json

import numpy as np
import pytest

from hetstack.catalogue import get_spec, load_model
from hetstack.io import write_parquet
from hetstack.meta.meta_auto import AutoMeta
from hetstack.stages.meta import MetaSettings, choose_candidate, fit_meta
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
    near = choose_candidate({"simple": simple, "complex": slightly}, y, block=20)
    assert near["lowest_cv_log_loss"] == "complex" and near["chosen"] == "simple"
    gap = near["candidates"]["simple"]
    assert 0 < gap["log_loss_above_best"] <= gap["log_loss_above_best_se"]
    far = choose_candidate({"simple": simple, "complex": clearly}, y, block=20)
    assert far["chosen"] == "complex"
    assert far["candidates"]["simple"]["log_loss_above_best"] > far["candidates"]["simple"]["log_loss_above_best_se"]
    assert far["candidates"]["complex"]["log_loss_above_best"] == 0
    strict = choose_candidate({"simple": simple, "complex": clearly}, y, block=20, margin_se=1e6)
    assert strict["chosen"] == "simple" and "1e+06 paired block SE" in strict["rule"]


def calibrated(matrix):
    """Labels drawn from base 'good''s own probabilities: nothing can beat it but luck."""
    rng = np.random.default_rng(7)
    good = rng.dirichlet([2, 2, 2], len(matrix))
    for k, col in enumerate(prob_columns("good")):
        matrix[col] = good[:, k]
    matrix["label"] = ((rng.random(len(matrix))[:, None] > good.cumsum(axis=1)).sum(axis=1) - 1).astype(np.int8)
    return matrix


def fit_auto(tmp_path, candidates, use_oof_for_val=False, make=None):
    matrix = oof_matrix(tmp_path / "matrix.parquet")
    if make is not None:
        write_parquet(tmp_path / "matrix.parquet", make(matrix))
    write_parquet(tmp_path / "bars.parquet", generate_market("MES", 1700, seed=0))
    out = tmp_path / "auto"
    fit_meta("auto", str(tmp_path / "matrix.parquet"), BASES, str(out), MetaSettings(
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
    assert choice["chosen"] in choice["candidates"] and choice["block_rows"] == 2 * 5  # labels span <= 5 bars
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
