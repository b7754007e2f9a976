"""Combinatorial purged CV in the workflow: the splits it writes, the rows its meta-learners are fitted
on, and a tiny run of `oof.scheme: cpcv` end to end."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from hetstack.cv import folds_from_table
from hetstack.stages.cpcv import CpcvSettings, meta_row_sources, write_cpcv_splits
from snakemake_cmd import tiny_config, write_config


def labels_file(path, n=600, horizon=5, n_gap=20, n_test=100):
    ids = np.arange(100, 100 + n, dtype=np.int64)
    split = np.array(["train"] * (n - n_gap - n_test) + ["gap"] * n_gap + ["test"] * n_test)
    rng = np.random.default_rng(0)
    pd.DataFrame({"sample_id": ids, "timestamp": pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC"),
                  "t1": ids + rng.integers(1, horizon + 1, n), "label": rng.choice([-1, 0, 1], n).astype(np.int8),
                  "weight": np.ones(n), "split": pd.array(split, dtype="string")}).to_parquet(path)
    return ids[split == "train"]


def test_written_splits_are_the_outer_then_the_inner_combinations(tmp_path):
    train_ids = labels_file(tmp_path / "labels.parquet")
    summary = write_cpcv_splits(str(tmp_path / "labels.parquet"), str(tmp_path / "splits.parquet"),
                                str(tmp_path / "splits.json"), CpcvSettings(6, 2, 3, 10))
    assert summary == json.loads((tmp_path / "splits.json").read_text())
    assert (summary["n_outer"], summary["n_inner"]) == (math.comb(6, 2), math.comb(6, 3))
    assert len(summary["paths"]) == 5 and summary["groups"][0][0] == train_ids[0]
    assert summary["groups"][-1][1] == train_ids[-1]
    splits = folds_from_table(pd.read_parquet(tmp_path / "splits.parquet"))
    assert len(splits) == 15 + 20
    assert [len(s["test_groups"]) for s in summary["splits"]] == [2] * 15 + [3] * 20
    for split in splits:
        assert np.isin(split.test_ids, train_ids).all() and not np.isin(split.train_ids, split.test_ids).any()


def test_meta_rows_come_from_models_that_never_trained_near_them_or_the_test_groups(tmp_path):
    labels_file(tmp_path / "labels.parquet")
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("sample_id")
    summary = write_cpcv_splits(str(tmp_path / "labels.parquet"), str(tmp_path / "splits.parquet"),
                                str(tmp_path / "splits.json"), CpcvSettings(6, 2, 3, 10))
    splits = folds_from_table(pd.read_parquet(tmp_path / "splits.parquet"))
    for outer in splits[:summary["n_outer"]]:
        sources = meta_row_sources(summary, outer.index, outer.train_ids)
        assert (sources >= summary["n_outer"]).all()  # inner splits only, never the outer one itself
        test_span = [(labels.index[labels.index >= first][0], labels.loc[first:last, "t1"].max())
                     for g, (first, last) in enumerate(summary["groups"])
                     if g in summary["splits"][outer.index]["test_groups"]]
        for source in np.unique(sources):
            rows = outer.train_ids[sources == source]
            inner = splits[source]
            assert np.isin(rows, inner.test_ids).all()  # each row out of sample for its base models
            # ...and those models never trained on a label touching the outer split's test groups
            t0, t1 = inner.train_ids, labels.loc[inner.train_ids, "t1"].to_numpy()
            for start, end in test_span:
                assert not ((t0 <= end) & (t1 >= start)).any()


CPCV = {"scheme": "cpcv", "n_groups": 4, "k_test_groups": 2}


@pytest.fixture(scope="module")
def run(tmp_path_factory, snakemake_run):
    path = tmp_path_factory.mktemp("cpcv")
    write_config(path, tiny_config(oof=CPCV))
    plan = snakemake_run(path, "--dry-run", "results/SYN_h5/meta_ridge_report.json").stdout
    snakemake_run(path, "results/SYN_h5/plots/meta_ridge/scores.svg")
    return path, plan


@pytest.mark.integration
def test_cpcv_plans_one_job_per_base_and_split(run):
    _, plan = run
    counts = dict(line.split()[:2] for line in plan.splitlines() if line.split()[:1] in (["cpcv_fold"], ["cpcv_meta"]))
    assert counts == {"cpcv_fold": str(2 * (math.comb(4, 2) + math.comb(4, 3))), "cpcv_meta": "2"}


@pytest.mark.integration
def test_cpcv_report_has_every_models_paths(run):
    path, _ = run
    results = path / "results/SYN_h5"
    report = json.loads((results / "meta_ridge_report.json").read_text())
    cpcv = report["cpcv"]
    labels = pd.read_parquet(results / "labels.parquet")
    assert (cpcv["n_splits"], cpcv["n_inner_splits"], cpcv["n_paths"]) == (6, 4, 3)
    assert cpcv["n_rows_per_path"] == int((labels["split"] == "train").sum())
    assert set(cpcv["paths"]) == {"lightgbm", "ridge", "meta_ridge", "logistic_meta"}
    for model, paths in cpcv["paths"].items():
        assert len(paths) == 3
        assert cpcv["summary"][model]["accuracy"]["mean"] == pytest.approx(np.mean([p["accuracy"] for p in paths]))
        assert all(p["max_drawdown"] <= 0 for p in paths)
    assert report["settings"]["scheme"] == "cpcv" and report["settings"]["n_groups"] == 4
    # the meta-learner's predictions: each outer split's test groups, once
    meta = pd.read_parquet(results / "cpcv/meta/meta_ridge.parquet")
    splits = folds_from_table(pd.read_parquet(results / "cpcv/splits.parquet"))
    for split in splits[:6]:
        np.testing.assert_array_equal(meta.loc[meta["fold"] == split.index, "sample_id"], split.test_ids)
        base = pd.read_parquet(results / f"cpcv/lightgbm/split{split.index}.parquet")
        np.testing.assert_array_equal(base["sample_id"], split.test_ids)
    page = (results / "plots/meta_ridge/scores.html").read_text()
    assert "CPCV backtest paths" in page and "sharpe_ratio" in page
    assert (results / "plots/meta_ridge/cpcv.svg").read_text().count("<path") > 10
