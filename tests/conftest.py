import subprocess

import numpy as np
import pytest
from snakemake_cmd import snakemake_command


@pytest.fixture
def easy_problem():
    """A tabular problem with a clear planted rule: label = sign bucket of a noisy linear score."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 8)).astype(np.float32)
    score = X[:, 0] + 0.5 * X[:, 1] * (X[:, 2] > 0) + 0.2 * rng.normal(size=len(X))
    y = np.where(score > 0.5, 1, np.where(score < -0.5, -1, 0)).astype(np.int8)
    return X[:1000], y[:1000], X[1000:1200], y[1000:1200], X[1200:], y[1200:]


@pytest.fixture
def trading_problem():
    """Test rows for report statistics: labels, sample ids, closes, a 60%-accurate model and a noise one."""
    rng = np.random.default_rng(9)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n + 50)))
    ids = np.arange(20, 20 + n)
    y = rng.choice([-1, 0, 1], n)
    good = np.eye(3)[np.where(rng.random(n) < 0.6, y + 1, rng.integers(0, 3, n))] * 0.6 + 0.4 / 3
    noise = rng.dirichlet([1, 1, 1], n)
    return y, ids, close, good, noise


@pytest.fixture(scope="session")
def snakemake_run():
    """run(workdir, *args, cores=2, check=True, timeout=900): the real `snakemake` on workdir/tiny.yaml
    (write it with snakemake_cmd.write_config); with check, a failure raises with the output's tail."""
    def run(workdir, *args: str, cores: int = 2, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        cmd = snakemake_command(workdir, "--cores", str(cores), *args)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
        return result

    return run
