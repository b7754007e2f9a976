"""Wildcard constraints: a run folder, a path escape, an unknown base or meta-learner, or a
non-canonical number never matches a rule by accident; a dry run refuses it with MissingRuleException."""

import subprocess
from pathlib import Path

import pytest

from test_workflow import TINY
from snakemake_cmd import snakemake_command, write_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("wildcards")
    write_config(path, TINY)
    return path


def dry_run(workdir: Path, target: str) -> subprocess.CompletedProcess:
    cmd = snakemake_command(workdir, "--dry-run", "--cores", "1", target)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("target", [
    "results/../x/bars.parquet",               # escapes results/ (Snakemake normalizes it to x/bars.parquet)
    "results/SYN_h5/bars.parquet",             # a run folder is not a symbol: rule bars must not match
    "results/SYN_h5/features.npy",
    "results/.x/bars.parquet",                 # symbols start with a letter or digit
    "results/SYN_h5/oof/nope/fold0.parquet",   # unknown base
    "results/SYN_h20/oof/nope/fold0.parquet",
    "results/SYN_h5/oof/ridge/fold01.parquet",  # fold numbers are written without leading zeros
    "results/SYN_h05/labels.parquet",          # so are horizons
    "results/SYN_h5/nope_report.json",         # unknown meta-learner
])
def test_target_matches_no_rule(workdir, target):
    result = dry_run(workdir, target)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "MissingRuleException" in text and "No rule to produce" in text, text[-2000:]


def test_valid_fold_target_is_planned(workdir):
    result = dry_run(workdir, "results/SYN_h5/oof/ridge/fold0.parquet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "oof_fold" in result.stdout
