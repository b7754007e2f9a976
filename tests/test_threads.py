"""A job given k CPUs runs its model with k threads: the rule's threads reach TrainSettings.threads,
every library is told exactly that number, and torch uses it during the fit (no oversubscription)."""

import json
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from hetstack.catalogue import get_spec
from snakemake_cmd import snakemake_command

THREADS = 2


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 8)).astype(np.float32)
    y = np.where(X[:, 0] > 0.5, 1, np.where(X[:, 0] < -0.5, -1, 0))
    return X[:450], y[:450], X[450:], y[450:]


def fit(name, params, data):
    X, y, Xv, yv = data
    model = get_spec(name).cls(params, seed=0, threads=THREADS)
    model.fit(X, y, Xv, yv)
    return model


def test_catboost_is_told_the_job_threads(tabular):
    model = fit("catboost", {"iterations": 20, "depth": 3}, tabular)
    assert model.model.get_params()["thread_count"] == THREADS


def test_lightgbm_is_told_the_job_threads(tabular):
    model = fit("lightgbm", {"num_boost_round": 20, "num_leaves": 7, "min_data_in_leaf": 5}, tabular)
    assert model.booster.params["num_threads"] == THREADS


def test_xgboost_is_told_the_job_threads(tabular):
    model = fit("xgboost", {"num_boost_round": 20, "max_depth": 3}, tabular)
    config = json.loads(model.booster.save_config())
    assert int(config["learner"]["generic_param"]["nthread"]) == THREADS


@pytest.mark.parametrize("name", ["tcn", "patchtst"])
def test_torch_runs_the_fit_with_the_job_threads(name, monkeypatch):
    import torch

    import hetstack.nn.training as training

    seen = []
    real_fit = training.fit_network

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        result = real_fit(*args, **kwargs)
        seen.append(torch.get_num_threads())
        return result

    monkeypatch.setattr(training, "fit_network", spy)
    spec = get_spec(name)
    rng = np.random.default_rng(0)
    shape = (120, 16, 6) if spec.input_kind != "multires" else (120, 2, 16, 4)
    X = rng.normal(size=shape).astype(np.float32)
    y = rng.integers(-1, 2, size=120)
    before = torch.get_num_threads()
    try:
        model = spec.cls({"epochs": 1, "batch_size": 64}, seed=0, threads=THREADS)
        model.fit(X[:90], y[:90], X[90:], y[90:])
        assert seen == [THREADS, THREADS]
        torch.set_num_threads(7)  # prediction sets it again
        model.predict(X[90:])
        assert torch.get_num_threads() == THREADS
    finally:
        torch.set_num_threads(before)


def test_rule_threads_become_train_settings_threads():
    from hetstack.workflow import train_settings

    training = dict(seed=1, val_split=0.15, purge_bars=5, embargo_bars=5, use_sample_weights=True, adapters={},
                    device="cpu")
    params = SimpleNamespace(model_params={}, training=training)
    settings = train_settings(SimpleNamespace(params=params, threads=3))
    assert settings.threads == 3


@pytest.mark.integration
def test_fold_job_gets_threads_fit_from_the_rule(tmp_path):
    """threads.fit: 2 with --cores 2: the lightgbm and logistic_window (a wide linear model) fold jobs run
    with 2 threads, the ridge one with 1."""
    from test_workflow import TINY

    config = {**TINY, "threads": {"fit": THREADS}, "base_models": [*TINY["base_models"], "logistic_window"],
              "model_params": {**TINY["model_params"], "logistic_window": {"C_grid": [1.0e-3], "max_iter": 20}}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    cmd = snakemake_command(tmp_path, "--cores", str(THREADS), *(f"results/SYN_h5/oof/{base}/fold0.parquet"
                                                                 for base in ("lightgbm", "ridge", "logistic_window")))
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    for base in ("lightgbm", "logistic_window"):
        assert f"threads {THREADS}" in (tmp_path / f"logs/oof_fold/SYN_h5/{base}/fold0.log").read_text()
    assert "threads 1" in (tmp_path / "logs/oof_fold/SYN_h5/ridge/fold0.log").read_text()


@pytest.mark.parametrize("device, expected", [("cuda", {"tcn": "gpu=1", "ridge": "gpu=0"}), ("cpu", {})])
def test_neural_fold_jobs_ask_a_gpu_only_when_training_on_cuda(tmp_path, device, expected):
    config = {"symbols": ["SYN"], "horizons": [5], "base_models": ["tcn", "ridge"], "training": {"device": device},
              "data_dir": str(tmp_path / "data")}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    cmd = snakemake_command(tmp_path, "--dry-run", "--cores", "2", "results/SYN_h5/oof/tcn/fold0.parquet",
                            "results/SYN_h5/oof/ridge/fold0.parquet")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    resources = {}
    for block in result.stdout.split("rule oof_fold:")[1:]:
        base = block.split("base=")[1].split(",")[0]
        resources[base] = block.split("resources:")[1].splitlines()[0]
    assert set(resources) == {"tcn", "ridge"}
    for base, line in resources.items():
        assert (expected.get(base) in line) if expected else ("gpu" not in line), (base, line)
        # minutes a SLURM fold job asks for (a group of them asks for the sum): neural 60, else 15
        assert f"runtime={60 if base == 'tcn' else 15}" in line, (base, line)
