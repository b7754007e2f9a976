"""Booster fits log about ten `iteration i/n` progress lines to the job's log."""

import logging

import pytest

from hetstack.catalogue import get_spec


@pytest.mark.parametrize("name, params", [
    ("lightgbm", {"num_boost_round": 20, "num_leaves": 4, "early_stopping_rounds": 100}),
    ("xgboost", {"num_boost_round": 20, "max_depth": 2, "early_stopping_rounds": 100}),
    ("catboost", {"iterations": 20, "depth": 2, "early_stopping_rounds": 100}),
])
def test_booster_logs_iteration_progress(name, params, easy_problem, caplog):
    X, y, Xv, yv, _, _ = easy_problem
    model = get_spec(name).cls(params, seed=0, threads=1)
    with caplog.at_level(logging.INFO, logger="hetstack"):
        model.fit(X[:300], y[:300], Xv, yv)
    lines = [r.getMessage() for r in caplog.records if "iteration" in r.getMessage()]
    assert len(lines) >= 5, lines
    assert lines[0].startswith(f"{name}: iteration 2/20") and lines[-1].startswith(f"{name}: iteration 20/20")
    assert any(ch.isdigit() for ch in lines[-1].split("20/20", 1)[1])  # the validation score is in the line
