"""Optional experiment tracking: a run's report logged to MLflow (rule track_mlflow).

Only with `tracking.mlflow_uri` set and the `mlflow` extra installed (`pip install -e '.[mlflow]'`,
mlflow-skinny); otherwise the workflow never imports mlflow.
"""

from __future__ import annotations

import os
from pathlib import Path

from hetstack.errors import ConfigError
from hetstack.io import read_json, write_json


def _mlflow():
    try:
        import mlflow
    except ImportError as err:
        raise ConfigError("config: tracking.mlflow_uri", f"is set but MLflow is not installed ({err})",
                          "pip install -e '.[mlflow]', or set tracking.mlflow_uri to null") from err
    return mlflow


def report_params(report: dict) -> dict[str, str]:
    """What the run was: its identity and settings (MLflow keeps parameters as strings)."""
    params = {"symbol": report["symbol"], "horizon": report["horizon"], "meta_learner": report["meta_learner"],
              "base_models": ",".join(report["base_models"]), "meta_inputs": ",".join(report["meta_inputs"]),
              "config_digest": report["config_digest"], **report.get("settings", {})}
    return {k: str(v) for k, v in params.items()}


def report_metrics(report: dict) -> dict[str, float]:
    """The meta-learner's test scores, its gains and statistics, and every base's test scores."""
    perf = report["performance"]
    metrics = {k: perf[k] for k in ("test_accuracy", "test_log_loss", "test_skill", "val_accuracy", "val_log_loss",
                                    "sharpe_ratio", "max_drawdown", "improvement_over_best_base",
                                    "log_loss_improvement_over_best_base")}
    statistics = report.get("statistics") or {}
    mine = (statistics.get("sharpe") or {}).get(report["meta_learner"])
    if mine:
        metrics.update(psr=mine["psr"], dsr=mine["dsr"])
    if statistics.get("pbo"):
        metrics["pbo"] = statistics["pbo"]["pbo"]
    for base, p in report["base_model_performance"].items():
        metrics.update({f"{base}.test_accuracy": p["test_acc"], f"{base}.test_log_loss": p["test_log_loss"],
                        f"{base}.test_skill": p["test_skill"], f"{base}.oof_skill": p["oof_skill"],
                        f"{base}.sharpe_ratio": p["trading"]["sharpe_ratio"]})
    return {k: float(v) for k, v in metrics.items() if v is not None}


def log_report(report_path: str, artifacts: list[str], uri: str, experiment: str, out: str) -> dict:
    """One MLflow run per report: parameters, metrics, tags (commit, digest) and the files as artifacts;
    `out` records where it went."""
    if uri.startswith("file:") or "://" not in uri:
        # a local folder store: MLflow 3 wants an explicit yes to the file backend
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow = _mlflow()
    report = read_json(report_path)
    manifest_path = Path(report_path).parent / "manifest.json"
    code = read_json(manifest_path)["code"] if manifest_path.is_file() else {}
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.set_experiment(experiment).experiment_id
    name = f"{report['symbol']}_h{report['horizon']}_{report['meta_learner']}"
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params(report_params(report))
        mlflow.log_metrics(report_metrics(report))
        mlflow.set_tags({"hetstack.config_digest": report["config_digest"],
                         "hetstack.git_commit": str(code.get("git_commit")),
                         "hetstack.version": str(code.get("version"))})
        for path in artifacts:
            mlflow.log_artifact(path)
    record = {"tracking_uri": uri, "experiment": experiment, "experiment_id": experiment_id,
              "run_id": run.info.run_id, "run_name": name, "artifacts": [Path(p).name for p in artifacts]}
    write_json(out, record)
    return record
