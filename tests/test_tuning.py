"""Tuning inside the purged folds (hetstack.tuning, hetstack.stages.tuning): the search space, the
span and the rows the meta-learner may read, the trials' clusters in the DSR, workers sharing a study."""

import json

import numpy as np
import optuna
import pandas as pd
import pytest

from hetstack.errors import ConfigError
from hetstack.statistics import sharpe_statistics, trial_clusters
from hetstack.tuning import (DEFAULTS_ATTR, TuningSettings, check_space, decode_positions, encode_positions, meta_rows,
                             suggest, trial_params, tuning_span)

SPACE = {"lr": {"type": "float", "low": 0.01, "high": 0.2, "log": True},
         "leaves": {"type": "int", "low": 4, "high": 64},
         "kind": {"type": "categorical", "choices": ["a", "b"]},
         "C_grid": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True, "as_list": True}}


def settings(**over) -> TuningSettings:
    values = dict(space=check_space(SPACE, "tuning.bases.x.space"), n_trials=4, timeout_s=None, span_fraction=0.3,
                  n_folds=3, purge_bars=5, embargo_bars=10, params={"lr": 0.05, "C_grid": [1e-4, 1e-3]})
    return TuningSettings(**{**values, **over})


@pytest.mark.parametrize("space, says", [
    ({}, "must map parameter names"),
    ({"lr": {"low": 0.1, "high": 1}}, "needs a type"),
    ({"lr": {"type": "float", "low": 0.2, "high": 0.1}}, "low < high"),
    ({"lr": {"type": "float", "low": 0.0, "high": 0.1, "log": True}}, "> 0 with log"),
    ({"n": {"type": "int", "low": 1.5, "high": 4}}, "integer bounds"),
    ({"k": {"type": "categorical", "choices": []}}, "non-empty list"),
    ({"lr": {"type": "float", "low": 0.1, "high": 1, "scale": 2}}, "unknown fields"),
])
def test_a_bad_space_is_one_line_naming_its_key(space, says):
    with pytest.raises(ConfigError, match=says) as error:
        check_space(space, "config key 'tuning.bases.lightgbm.space'")
    assert "tuning.bases.lightgbm.space" in str(error.value) and "\n" not in str(error.value)


def test_a_trial_samples_the_space_and_trial_0_runs_the_configured_params():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({}, user_attrs={DEFAULTS_ATTR: True})
    first, second = study.ask(), study.ask()
    params, changed = trial_params(first, settings())
    assert params == {"lr": 0.05, "C_grid": [1e-4, 1e-3]} and changed == {}
    params, changed = trial_params(second, settings())
    assert set(changed) == set(SPACE) and params == {**settings().params, **changed}
    assert 0.01 <= changed["lr"] <= 0.2 and isinstance(changed["leaves"], int) and changed["kind"] in ("a", "b")
    assert isinstance(changed["C_grid"], list) and len(changed["C_grid"]) == 1  # as_list
    assert suggest(second, check_space(SPACE, "s")) == changed  # a trial's choice is fixed once made


def test_positions_round_trip():
    positions = np.array([-1, 0, 1, 1, -1], dtype=np.int8)
    assert encode_positions(positions) == "-0++-"
    np.testing.assert_array_equal(decode_positions(encode_positions(positions)), positions)


def overlapping_samples(n=1000, horizon=20):
    ids = np.arange(100, 100 + n, dtype=np.int64)
    return ids, ids + horizon


def test_the_span_is_the_earliest_train_samples_and_the_meta_reads_only_what_the_gap_allows():
    ids, t1 = overlapping_samples()
    span = tuning_span(ids, 0.3)
    np.testing.assert_array_equal(span, ids[:300])
    readable = ids[meta_rows(ids, t1, 0.3, purge_bars=5, embargo_bars=10)]
    # no readable label overlaps a span label, and the embargo after the last span label end is kept
    assert readable.min() > t1[:300].max() + 10
    assert np.isin(readable, span).sum() == 0
    # every row past that gap is readable: nothing more is thrown away
    np.testing.assert_array_equal(readable, ids[ids > t1[:300].max() + 10])


def test_a_span_leaving_no_rows_is_one_line():
    ids, t1 = overlapping_samples(100, horizon=50)
    with pytest.raises(ConfigError, match="tuning.span_fraction"):
        meta_rows(ids, t1, 0.8, purge_bars=5, embargo_bars=30)
    with pytest.raises(ConfigError, match="tuning.span_fraction"):
        tuning_span(ids, 0.95)


def correlated_returns(groups=(4, 3, 3), n=800, seed=0):
    """Trials in `groups`: within a group one strategy plus small noise, groups independent."""
    rng = np.random.default_rng(seed)
    columns = {}
    for g, size in enumerate(groups):
        common = rng.normal(0.0002 * (g + 1), 0.01, n)
        for k in range(size):
            columns[f"g{g}t{k}"] = common + rng.normal(0, 0.002, n)
    return pd.DataFrame(columns)


def test_trial_clusters_find_the_strategies_behind_the_trials():
    returns = correlated_returns()
    clusters = trial_clusters(returns, seed=0)
    assert clusters["n_trials"] == 10 and clusters["n_clusters"] == 3
    labels = np.array(clusters["labels"])
    assert len(set(labels[:4])) == 1 and len(set(labels[4:7])) == 1 and len(set(labels[7:])) == 1
    assert len(clusters["cluster_sharpes_per_bar"]) == 3


def test_trial_clusters_read_pruned_trials_over_the_bars_they_hold():
    returns = correlated_returns((3, 3))
    returns.iloc[400:, 0] = np.nan  # a pruned trial: its later folds never scored
    clusters = trial_clusters(returns, seed=0)
    assert clusters["n_clusters"] == 2 and clusters["labels"][0] == clusters["labels"][1]


def test_two_trials_are_two_clusters():
    assert trial_clusters(correlated_returns((1, 1)))["n_clusters"] == 2
    assert trial_clusters(correlated_returns((1,)))["n_clusters"] == 1


def test_tuning_clusters_raise_the_dsr_benchmark():
    rng = np.random.default_rng(3)
    pnl = {"a": rng.normal(0.001, 0.01, 2000), "b": rng.normal(0.0, 0.01, 2000)}
    plain = sharpe_statistics(pnl, 252)
    counted = sharpe_statistics(pnl, 252, extra_trial_sharpes=[0.05, -0.04, 0.02])
    assert "dsr_before_tuning" not in plain["a"]
    assert counted["a"]["dsr_before_tuning"] == pytest.approx(plain["a"]["dsr"])
    assert counted["a"]["n_trials"] == 5 and counted["a"]["n_tuning_trials"] == 3
    assert counted["a"]["expected_max_sharpe_per_bar"] > plain["a"]["expected_max_sharpe_per_bar"]
    assert counted["a"]["dsr"] < plain["a"]["dsr"]


def test_tuning_config_defaults_the_space_and_refuses_an_untuned_base():
    from hetstack.catalogue import get_spec
    from hetstack.config import tuning

    config = {"base_models": ["lightgbm", "ridge"], "oof": {"purge_bars": 5, "embargo_bars": 10},
              "model_params": {"lightgbm": {"num_leaves": 7}}, "tuning": {"bases": {"lightgbm": {"n_trials": 3}}}}
    tuned = tuning(config)["bases"]["lightgbm"]
    assert tuned["space"] == get_spec("lightgbm").cls.search_space and tuned["n_trials"] == 3
    assert tuned["params"] == {"num_leaves": 7} and tuned["timeout_s"] is None
    with pytest.raises(ConfigError, match="tuning.bases.catboost"):
        tuning({**config, "tuning": {"bases": {"catboost": {}}}})
    with pytest.raises(ConfigError, match="ships no search space"):
        tuning({**config, "tuning": {"bases": {"ridge": {}}}})
    with pytest.raises(ConfigError, match="oof.scheme kfold"):
        tuning({**config, "oof": {**config["oof"], "scheme": "cpcv"}})


def test_every_shipped_space_is_valid_and_names_real_params():
    from hetstack.catalogue import available, get_spec

    shipped = [b for b in available("base") if get_spec(b).cls.search_space]
    assert {"catboost", "lightgbm", "lightgbm_multires", "logistic_window"} <= set(shipped)
    for base in shipped:
        cls = get_spec(base).cls
        space = check_space(cls.search_space, base)
        assert set(space) <= set(cls.default_params), f"{base} searches params it does not have"
    study = optuna.create_study()
    trial = study.ask()
    for base in shipped:  # each model accepts what its space samples
        get_spec(base).cls({**get_spec(base).cls.default_params, **suggest(trial, get_spec(base).cls.search_space)})
    assert json.dumps(trial.params)


def test_a_tuned_jobs_settings_take_the_studys_choice_over_the_configured_params(tmp_path):
    from types import SimpleNamespace

    from hetstack.workflow import train_settings

    (tmp_path / "tuned.json").write_text(json.dumps({"params": {"num_leaves": 9}}))
    training = dict(seed=1, val_split=0.15, purge_bars=5, embargo_bars=5, use_sample_weights=True, adapters={},
                    device="cpu")
    params = SimpleNamespace(model_params={"num_leaves": 7, "num_boost_round": 40}, training=training)
    tuned = SimpleNamespace(params=params, threads=1, input=SimpleNamespace(tuned=str(tmp_path / "tuned.json")))
    assert train_settings(tuned).params == {"num_leaves": 9, "num_boost_round": 40}
    untuned = SimpleNamespace(params=params, threads=1, input=SimpleNamespace())
    assert train_settings(untuned).params == {"num_leaves": 7, "num_boost_round": 40}
