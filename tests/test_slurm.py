"""Integration: the tiny config through profiles/slurm on a real SLURM cluster.

Needs sbatch/sinfo on PATH, a controller that answers and snakemake-executor-plugin-slurm; locally
`.ci/slurm/start-slurm.sh` brings up a one-node cluster (Debian 12, root). Skipped with the reason
when any of that is missing, except under CI=true, where a missing cluster is a failure: `.ci/run`
starts one before pytest.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_workflow import TINY
from snakemake_cmd import REPO, snakemake_command

pytestmark = pytest.mark.integration

# 7 sbatch jobs (bars, features, labels, one group of the 2 bases x 2 fold jobs, fit_meta, 2 retrains)
# + the local rules
SLURM_TINY = {**TINY, "oof": {**TINY["oof"], "n_folds": 2}, "meta_learner": ["meta_ridge"]}
TARGET = "results/SYN_h5/meta_ridge_report.json"
SBATCH_RULES = {"bars", "features", "labels", "group_folds_oof_fold", "fit_meta", "retrain_base"}
LOCAL_RULES = {"merge_oof", "report"}  # localrules: run by the submitting snakemake


def slurm_missing() -> str | None:
    """Why SLURM can't be used here, or None."""
    for tool in ("sbatch", "sinfo", "squeue", "scontrol"):
        if shutil.which(tool) is None:
            return f"no `{tool}` on PATH (start a cluster with .ci/slurm/start-slurm.sh)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    try:
        states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the SLURM controller does not answer (sinfo timed out)"
    if states.returncode != 0:
        return f"the SLURM controller does not answer: {states.stderr.strip()[:200]}"
    if not {"idle", "mixed", "allocated", "completing"} & set(states.stdout.split()):
        return f"no SLURM node is up (sinfo states: {states.stdout.split()})"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = slurm_missing()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but SLURM is not usable: {reason}; .ci/run starts it with .ci/slurm/start-slurm.sh")
    if reason:
        pytest.skip(reason)


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return snakemake_command(workdir, *args, TARGET)


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The same tiny config run locally and through SLURM (side by side: SLURM jobs mostly wait)."""
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    local, slurm = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("slurm")
    for workdir in (local, slurm):
        (workdir / "tiny.yaml").write_text(yaml.safe_dump(SLURM_TINY))
    local_run = subprocess.Popen(snakemake_cmd(local, "--cores", "1"), stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env=env)
    # The plugin ignores SIGTERM when it hangs on status checks: timeout -k kills it for sure.
    cmd = ["timeout", "-k", "20", "900", *snakemake_cmd(slurm, "--workflow-profile", str(REPO / "profiles/slurm"))]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    local_out = local_run.communicate(timeout=900)[0]
    assert local_run.returncode == 0, f"local run failed:\n{local_out[-4000:]}"
    assert result.returncode == 0, f"SLURM run failed (rc {result.returncode}):\n{result.stdout[-3000:]}\n" \
                                   f"{result.stderr[-6000:]}"
    return local, slurm, result.stdout + result.stderr


def test_jobs_went_through_sbatch(runs):
    _, slurm, output = runs
    submitted = {int(i) for i in re.findall(r"submitted with SLURM jobid (\d+)", output)}
    # Evidence that outlives the cluster's MinJobAge: the plugin's per-job logs, written by SLURM
    # itself (sbatch --output), named rule_<rule>/<wildcards>/<SLURM job id>.log, or
    # group_<group>_<rules>/<SLURM job id>.log for a group job.
    logs = sorted((slurm / ".snakemake/slurm_logs").rglob("*.log"))
    by_rule = {}
    for log in logs:
        rule = log.relative_to(slurm / ".snakemake/slurm_logs").parts[0].removeprefix("rule_")
        by_rule.setdefault(rule, set()).add(int(log.stem))
    assert SBATCH_RULES <= set(by_rule) and not LOCAL_RULES & set(by_rule), sorted(by_rule)
    # profiles/slurm groups fold jobs 20 to a SLURM job: the 4 of this run went as one
    assert len(by_rule["group_folds_oof_fold"]) == 1 and "oof_fold" not in by_rule
    assert len(by_rule["retrain_base"]) == 2
    log_ids = set().union(*by_rule.values())
    assert log_ids == submitted and len(submitted) == 7
    for job_id in sorted(submitted):
        shown = subprocess.run(["scontrol", "show", "-o", "job", str(job_id)], capture_output=True, text=True,
                               timeout=20)
        if shown.returncode != 0 and "Invalid job id" in shown.stderr:
            continue  # purged after MinJobAge: the log files above are the record
        assert shown.returncode == 0, shown.stderr
        assert "JobState=COMPLETED" in shown.stdout and f"WorkDir={slurm}" in shown.stdout, shown.stdout


def test_slurm_report_equals_the_local_one(runs):
    local, slurm, _ = runs
    local_report = (local / TARGET).read_bytes()
    assert (slurm / TARGET).read_bytes() == local_report
    assert json.loads(local_report)["base_models"] == ["lightgbm", "ridge"]


def test_cluster_benchmark_quick_mode_runs_fold_jobs_three_ways(cluster, tmp_path):
    """bench/cluster.py --quick: the same fold jobs locally, one sbatch each, and grouped as shipped."""
    env = {**os.environ, "HETSTACK_BENCH_OUT": str(tmp_path / "out"),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    result = subprocess.run([sys.executable, str(REPO / "bench" / "cluster.py"), "--quick", "--workdir",
                             str(tmp_path / "work")], capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    modes = {row["mode"]: row for row in json.loads((tmp_path / "out" / "cluster-quick.json").read_text())["modes"]}
    assert list(modes) == ["local", "per-job", "groups"]
    jobs = modes["local"]["jobs"]
    assert jobs >= 12 and all(row["jobs"] == jobs for row in modes.values())
    assert modes["local"]["slurm_jobs"] == 0 and modes["per-job"]["slurm_jobs"] == jobs
    assert modes["groups"]["slurm_jobs"] == -(-jobs // 6)  # --quick groups 6 fold jobs per SLURM job
    for row in modes.values():
        assert row["job_s"] > 0 and row["wall_s"] * row["slots"] > row["job_s"]
