"""A new user's first hour: the README's commands, as printed and in its order, on a fresh folder —
the main job, then predict, status, the HTML report, runs and diff. The tiny config stands in for
the default one (with the README's symbol, horizon and meta-learner) so that this runs in a minute."""

import json
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from report_browser import chromium_or_skip, open_report
from snakemake_cmd import REPO, tiny_config, write_config

pytestmark = pytest.mark.integration

README = (REPO / "README.md").read_text()
RUN = "results/MES_h20"


def readme_commands(start: str) -> list[str]:
    """Every command line of the README's code blocks that starts with `start`, in order."""
    return [line.strip() for line in README.splitlines() if line.startswith("    " + start)]


def run(command: str, cwd, timeout: int = 900) -> subprocess.CompletedProcess:
    """One README command: `snakemake` on this checkout's Snakefile with the tiny config over the
    default one, `hetstack` from this checkout."""
    args = shlex.split(command)
    if args[0] == "snakemake":
        args = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                "--configfile", "tiny.yaml", *args[1:]]
    elif args[0] == "hetstack":
        args = [sys.executable, "-m", "hetstack.cli", *args[1:]]
    else:
        raise AssertionError(f"not a command this test knows: {command}")
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=timeout,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A folder where a new user ran the README's main job, nothing else."""
    work = tmp_path_factory.mktemp("newuser") / "clone"
    work.mkdir()
    write_config(work, tiny_config(symbols=["MES"], horizons=[20], meta_learner="auto"))
    (main_job,) = readme_commands("pip install -e . && snakemake")
    run(main_job.split("&&")[-1].strip(), work)  # after `pip install -e . &&`
    return work


def test_the_main_job_builds_what_the_next_commands_need(clone):
    report = json.loads((clone / RUN / "auto_report.json").read_text())
    assert (clone / RUN / "run_settings.json").is_file() and (clone / RUN / "manifest.json").is_file()
    assert report["data_source"]["kind"] == "synthetic"
    assert report["data_source"]["description"].startswith("synthetic heterogeneous market, seed 42")
    assert report["performance"]["best_base"] in report["base_models"]


def test_predict_as_printed_on_the_runs_bars_and_on_new_bars(clone):
    commands = readme_commands("hetstack predict")
    assert len(commands) >= 2 and any("new_bars.parquet" in c for c in commands)
    bars = pd.read_parquet(clone / "results/MES/bars.parquet")
    bars.tail(3000).to_parquet(clone / "new_bars.parquet")  # the latest bars, as a user would pass them
    expected = pd.read_parquet(clone / RUN / "predictions/auto_test.parquet")
    for command in commands:
        out = clone / shlex.split(command)[shlex.split(command).index("--out") + 1]
        out.unlink(missing_ok=True)
        run(command, clone)
        signals = pd.read_parquet(out).set_index("timestamp")
        got = signals.loc[expected["timestamp"].to_numpy()]  # the test period, keyed by timestamp
        np.testing.assert_array_equal(got["prediction"].to_numpy(), expected["prediction"].to_numpy())


def test_status_says_complete(clone):
    (command,) = readme_commands("hetstack status")[:1]
    assert "complete" in run(command, clone).stdout.splitlines()[0]


def test_runs_and_diff_as_printed(clone):
    (command,) = readme_commands("hetstack runs && hetstack diff")
    other = clone.parent / "other" / RUN  # the README compares with another clone's run
    shutil.copytree(clone / RUN, other)
    runs, diff = (part.strip() for part in command.split("&&"))
    listed = run(runs, clone).stdout
    report = json.loads((clone / RUN / "auto_report.json").read_text())
    assert RUN in listed and report["performance"]["best_base"] in listed
    assert "config: same" in run(diff, clone).stdout


def test_the_html_report_as_printed_and_its_first_screen(clone):
    (command,) = readme_commands(f"snakemake --cores all {RUN}/plots/")
    run(command, clone)
    first_screen = open_report(chromium_or_skip(), clone / "report.html")["text"]
    report = json.loads((clone / RUN / "auto_report.json").read_text())
    # what data, which model auto chose, its scores with intervals
    assert report["data_source"]["description"] in first_screen
    chosen = report["passes_through"] or report["meta_auto_choice"]["chosen"]
    assert f"auto chose {chosen}" in first_screen
    low, high = report["performance"]["intervals"]["accuracy"]
    assert f"{report['performance']['test_accuracy']:.3f} [{low:.3f}, {high:.3f}]" in first_screen
