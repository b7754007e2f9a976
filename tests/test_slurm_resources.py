"""What jobs ask a scheduler for: runtime growing with the attempt, local rules, the gpu resource and
the local GPU limit. Planning only (no cluster): Snakemake's own parsers and dry runs."""

import json
import os
import subprocess
import sys

import pytest
import yaml
from snakemake.cli import parse_set_resources
from snakemake.profiles import ProfileConfigFileParser
from snakemake.resources import Resources

from snakemake_cmd import REPO, snakemake_command


def profile(name: str) -> dict:
    """A profile as Snakemake reads it: {option: value or list of CLI-style assignments}."""
    path = REPO / "profiles" / name / "config.yaml"
    with open(path) as stream:
        return ProfileConfigFileParser().parse(stream)


def runtimes(resource, rule: str) -> list[int]:
    return [resource.evaluate(wildcards={}, input=[], attempt=attempt, threads=1, rulename=rule, async_run=None).value
            for attempt in (1, 2, 3)]


def test_slurm_runtime_grows_with_the_attempt():
    slurm = profile("slurm")
    assert int(slurm["retries"]) >= 1
    per_rule = parse_set_resources(slurm["set-resources"])
    for rule, minutes in {"retrain_base": 240, "fit_meta": 60, "cpcv_meta": 60}.items():
        assert runtimes(per_rule[rule]["runtime"], rule) == [minutes, 2 * minutes, 3 * minutes], rule
    assert not {"oof_fold", "cpcv_fold"} & set(per_rule)  # their runtime is the rule's, by family
    default = Resources.parse(slurm["default-resources"], allow_expressions=True)
    assert runtimes(default["runtime"], "bars") == [30, 60, 90]


def test_slurm_profile_groups_fold_jobs_on_the_cpus_of_one():
    """A group asks for min(summed threads, cores) CPUs and runs its jobs one at a time: cores 1
    matches threads.fit's default, so a group of 1-thread fold jobs holds no idle CPU."""
    from snakemake.cli import parse_groups, parse_group_components

    slurm = profile("slurm")
    assert parse_groups(slurm["groups"]) == {"oof_fold": "folds", "cpcv_fold": "folds"}
    assert parse_group_components(slurm["group-components"]) == {"folds": 20}
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert int(slurm["cores"]) == config["threads"]["fit"]


def test_default_profile_runs_one_gpu_job_at_a_time():
    from snakemake.cli import parse_args

    # the profile Snakemake picks up next to the Snakefile when none is given
    _, args = parse_args(["--snakefile", str(REPO / "Snakefile"), "--dry-run"])
    assert args.resources["gpu"].value == 1
    assert profile("default")["resources"] == ["gpu=1"]


LOCAL_RULES = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings
from snakemake.workflow import Workflow
Workflow.local_exec = property(lambda self: False)  # as under a cluster executor
snakefile, workdir, configfile = map(Path, sys.argv[1:4])
with SnakemakeApi(OutputSettings()) as api:
    wf = api.workflow(resource_settings=ResourceSettings(), config_settings=ConfigSettings(configfiles=[configfile]),
                      snakefile=snakefile, workdir=workdir)._workflow
    print(json.dumps(sorted(r.name for r in wf.rules if wf.is_local(r))))
"""


def test_plot_run_is_not_a_cluster_job(tmp_path):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump({"symbols": ["SYN"], "horizons": [5], "base_models": ["ridge"]}))
    result = subprocess.run([sys.executable, "-c", LOCAL_RULES, str(REPO / "Snakefile"), str(tmp_path),
                             str(tmp_path / "tiny.yaml")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    local = set(json.loads(result.stdout.splitlines()[-1]))
    assert {"plot_run", "plots", "merge_oof", "report", "meta_comparison", "run_settings", "cpcv_splits"} <= local
    assert not {"oof_fold", "fit_meta", "bars", "cpcv_fold", "cpcv_meta"} & local


@pytest.mark.parametrize("device, environ, nvidia, expected", [
    ("cuda", {}, False, True), ("cpu", {"CUDA_VISIBLE_DEVICES": "0"}, True, False),
    ("auto", {}, True, True), ("auto", {}, False, False),
    ("auto", {"CUDA_VISIBLE_DEVICES": "0,1"}, False, True), ("auto", {"CUDA_VISIBLE_DEVICES": "GPU-5e1f"}, False, True),
    ("auto", {"CUDA_VISIBLE_DEVICES": ""}, True, False), ("auto", {"CUDA_VISIBLE_DEVICES": "-1"}, True, False),
    ("auto", {"CUDA_VISIBLE_DEVICES": "NoDevFiles"}, True, False)])
def test_wants_gpu(tmp_path, device, environ, nvidia, expected):
    from hetstack.config import wants_gpu

    device_file = tmp_path / "nvidia0"
    if nvidia:
        device_file.touch()
    assert wants_gpu(device, environ, str(device_file)) is expected


@pytest.mark.parametrize("visible, expected", [("0", {"tcn": "gpu=1", "ridge": "gpu=0"}), ("", {})])
def test_auto_device_asks_a_gpu_when_the_host_shows_one(tmp_path, visible, expected):
    config = {"symbols": ["SYN"], "horizons": [5], "base_models": ["tcn", "ridge"], "training": {"device": "auto"}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    cmd = snakemake_command(tmp_path, "--dry-run", "--cores", "2", "results/SYN_h5/oof/tcn/fold0.parquet",
                            "results/SYN_h5/oof/ridge/fold0.parquet")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": visible})
    assert result.returncode == 0, result.stderr[-3000:]
    resources = {}
    for block in result.stdout.split("rule oof_fold:")[1:]:
        resources[block.split("base=")[1].split(",")[0]] = block.split("resources:")[1].splitlines()[0]
    assert set(resources) == {"tcn", "ridge"}
    for base, line in resources.items():
        assert (expected[base] in line) if expected else ("gpu" not in line), (base, line)
