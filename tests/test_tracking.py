"""Optional MLflow tracking: a tiny run logs its report to a local file store, read back with MLflow's
own client; without tracking.mlflow_uri the rule is not planned and mlflow never imported."""

import json
import subprocess
import sys

import pytest

from hetstack.errors import ConfigError
from snakemake_cmd import REPO, tiny_config, write_config


def test_tracking_without_mlflow_says_how_to_install_it(monkeypatch, tmp_path):
    from hetstack import tracking

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"tracking.mlflow_uri.*pip install -e '\.\[mlflow\]'"):
        tracking.log_report(str(tmp_path / "r.json"), [], "mlruns", "x", str(tmp_path / "out.json"))


def test_the_workflow_never_imports_mlflow_without_a_tracking_uri():
    code = "import hetstack.stages.report, hetstack.stages.manifest, hetstack.cli, sys; print('mlflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "src")
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.integration
def test_reports_are_logged_to_mlflow_and_read_back(tmp_path, snakemake_run):
    from mlflow.tracking import MlflowClient

    store = (tmp_path / "mlruns").as_uri()
    write_config(tmp_path, tiny_config(tracking={"mlflow_uri": store, "experiment": "tiny"}))
    plan = snakemake_run(tmp_path, "--dry-run").stdout
    assert "track_mlflow" in plan
    snakemake_run(tmp_path)
    run_dir = tmp_path / "results/SYN_h5"
    for meta in ("meta_ridge", "logistic_meta"):
        record = json.loads((run_dir / f"tracking/{meta}_mlflow.json").read_text())
        report = json.loads((run_dir / f"{meta}_report.json").read_text())
        client = MlflowClient(store)
        run = client.get_run(record["run_id"])
        assert client.get_experiment(run.info.experiment_id).name == "tiny"
        assert run.info.run_name == f"SYN_h5_{meta}"
        assert run.data.params["meta_learner"] == meta and run.data.params["base_models"] == "lightgbm,ridge"
        assert run.data.metrics["test_accuracy"] == pytest.approx(report["performance"]["test_accuracy"])
        assert run.data.metrics["lightgbm.test_skill"] == pytest.approx(
            report["base_model_performance"]["lightgbm"]["test_skill"])
        assert run.data.metrics["dsr"] == pytest.approx(report["statistics"]["sharpe"][meta]["dsr"])
        assert run.data.tags["hetstack.config_digest"] == report["config_digest"]
        logged = {a.path for a in client.list_artifacts(record["run_id"])}
        assert {f"{meta}_report.json", "manifest.json", "scores.svg", "equity.svg"} <= logged


@pytest.mark.integration
def test_no_tracking_rule_without_a_uri(tmp_path, snakemake_run):
    write_config(tmp_path, tiny_config())
    assert "track_mlflow" not in snakemake_run(tmp_path, "--dry-run").stdout
