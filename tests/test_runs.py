"""Run manifests and `hetstack runs` / `hetstack diff` on two runs with different base sets."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hetstack.runs import _changes, flatten
from snakemake_cmd import REPO, tiny_config, write_config


def test_flatten_and_changes():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": 1, "a.c": [1, 2], "d": None}
    assert _changes({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "e": 4}}) == {"a.c": [2, 3], "a.e": [None, 4]}


def hetstack(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hetstack.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO / "src")})


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, snakemake_run):
    """Run A (lightgbm + ridge), kept aside; then run B (ridge + logistic) in the same folder."""
    path = tmp_path_factory.mktemp("runs")
    write_config(path, tiny_config(base_models=["lightgbm", "ridge"], meta_learner="meta_ridge"))
    snakemake_run(path, "all")
    first = path / "kept" / "results" / "SYN_h5"
    shutil.copytree(path / "results" / "SYN_h5", first)
    write_config(path, tiny_config(base_models=["ridge", "logistic"], meta_learner="meta_ridge"))
    snakemake_run(path, "all")
    return path, first, path / "results" / "SYN_h5"


@pytest.mark.integration
def test_manifest_records_config_versions_inputs_and_jobs(two_runs):
    path, first, second = two_runs
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["config"]["base_models"] == ["ridge", "logistic"] and manifest["run"]["meta_learners"] == ["meta_ridge"]
    assert manifest["packages"]["numpy"] == np.__version__ and manifest["packages"]["snakemake"]
    bars = path / "results" / "SYN" / "bars.parquet"
    assert manifest["inputs"]["bars"]["sha256"] == hashlib.sha256(bars.read_bytes()).hexdigest()
    assert manifest["inputs"]["data"] == [] and manifest["inputs"]["synthetic"]["n_bars"] == 6000
    folds = sorted(j["job"] for j in manifest["jobs"] if j["rule"] == "oof_fold")
    # run A's lightgbm fold jobs left benchmark files behind: they are not this run's
    assert folds == [f"{b}/fold{k}" for b in ("logistic", "ridge") for k in range(3)]
    assert all(j["s"] > 0 for j in manifest["jobs"]) and {"fit_meta", "retrain_base", "features"} <= {
        j["rule"] for j in manifest["jobs"]}
    assert manifest["run"]["base_models"] == ["ridge", "logistic"] and "scores" not in manifest  # the reports hold them
    assert manifest["code"]["version"] and manifest["machine"]["cores"] >= 1


@pytest.mark.integration
def test_runs_lists_and_diff_compares_two_runs(two_runs):
    path, first, second = two_runs
    listed = hetstack("runs", "--json", str(path), cwd=path)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["bases"] == "ridge,logistic" and row["metas"] == "meta_ridge" and row["meta"] == "meta_ridge"
    report = json.loads((second / "meta_ridge_report.json").read_text())
    # one best base everywhere: the report's, chosen by OOF log loss, never by a test score
    assert row["best_base"] == report["performance"]["best_base"]
    assert row["base_test_skill"] == report["base_model_performance"][row["best_base"]]["test_skill"]
    assert "lightgbm,ridge" in hetstack("runs", str(path / "kept"), cwd=path).stdout
    diff = hetstack("diff", "--json", str(first), str(second), cwd=path)
    assert diff.returncode == 0, diff.stderr
    changes = json.loads(diff.stdout)
    assert changes["config"]["base_models"] == [["lightgbm", "ridge"], ["ridge", "logistic"]]
    assert changes["packages"] == {} and changes["inputs"] == {}
    assert changes["scores"]["lightgbm"] == {"only_in": str(first)}
    assert changes["scores"]["logistic"] == {"only_in": str(second)}
    shared = changes["scores"]["ridge"]["test_accuracy"]  # the same base on the same rows: unchanged
    assert shared["change"] == pytest.approx(0.0) and "meta_ridge" in changes["scores"]
    text = hetstack("diff", str(first), str(second), cwd=path).stdout
    assert 'base_models: ["lightgbm", "ridge"] -> ["ridge", "logistic"]' in text and "lightgbm: only in" in text
    missing = hetstack("diff", str(first), str(path / "nowhere"), cwd=path)
    assert missing.returncode == 1 and "no manifest" in missing.stderr
