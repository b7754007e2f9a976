"""Kill and resume: SIGKILL the whole snakemake process group at several moments, resume with
--rerun-incomplete, and check that (a) shards whose jobs had finished are not recomputed (mtimes
unchanged), (b) the final report equals an uninterrupted run's report exactly, (c) no temporary
file is left behind."""

import json
import os
import signal
import subprocess
import time
from base64 import urlsafe_b64decode
from pathlib import Path

import pytest
from snakemake_cmd import snakemake_command, tiny_config, write_config

pytestmark = pytest.mark.integration

CONFIG = tiny_config(synthetic={"n_bars": 4000}, meta_learner="meta_ridge",
                     model_params={"lightgbm": {"num_boost_round": 30}})
TARGET = "results/SYN_h5/meta_ridge_report.json"
RUN = "results/SYN_h5"
STEP_TIMEOUT = 600  # seconds a run may take before the test gives up (never asserted on)


def command(workdir: Path) -> list[str]:
    return snakemake_command(workdir, "--cores", "2", "--rerun-incomplete", TARGET)


def setup(workdir: Path) -> None:
    workdir.mkdir()
    write_config(workdir, CONFIG)


def incomplete(workdir: Path) -> set[str]:
    """Outputs Snakemake has marked incomplete (jobs started but not finished), read from its metadata."""
    root = workdir / ".snakemake/incomplete"
    marked = set()
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file() and path.name != "migration_underway":
            parts = path.relative_to(root).parts
            marked.add(urlsafe_b64decode("".join(p.lstrip("@") for p in parts)).decode())
    return marked


def finished_shards(workdir: Path) -> dict[str, int]:
    """OOF shards of finished oof_fold jobs (both outputs there, none marked incomplete) -> mtime."""
    marked = incomplete(workdir)
    done = {}
    for shard in sorted((workdir / RUN / "oof").glob("*/fold[0-9].parquet")):
        partner = shard.with_name(shard.name.replace(".parquet", ".test.parquet"))
        rel = [str(p.relative_to(workdir)) for p in (shard, partner)]
        if partner.exists() and not set(rel) & marked:
            done[rel[0]] = shard.stat().st_mtime_ns
    return done


def run_until(workdir: Path, moment, what: str) -> bool:
    """Start the workflow in its own process group; SIGKILL the group once moment(workdir) holds.

    Returns True if it was killed, False if the run finished first."""
    proc = subprocess.Popen(command(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + STEP_TIMEOUT
    try:
        while proc.poll() is None:
            if moment(workdir):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                # a SIGKILLed snakemake cannot release its lock: the documented step before resuming
                subprocess.run(command(workdir) + ["--unlock"], check=True, capture_output=True, timeout=STEP_TIMEOUT)
                return True
            if time.monotonic() > deadline:
                raise AssertionError(f"no '{what}' within {STEP_TIMEOUT}s")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read().decode()[-4000:]
    return False


def temporaries(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.tmp"))


def test_killed_runs_resume_to_the_uninterrupted_report(tmp_path):
    reference = tmp_path / "reference"
    setup(reference)
    subprocess.run(command(reference), check=True, capture_output=True, timeout=STEP_TIMEOUT)
    expected = json.loads((reference / TARGET).read_text())

    work = tmp_path / "killed"
    setup(work)
    moments = [
        ("some OOF shards finished", lambda w: len(finished_shards(w)) >= 2),
        ("meta matrix written (fit_meta / retrain running)", lambda w: (w / RUN / "meta_matrix.parquet").exists()),
        ("a model directory being saved or written",
         lambda w: any((w / RUN / "models").rglob("model.json")) if (w / RUN / "models").exists() else False),
    ]
    kept: dict[str, int] = {}
    kills = 0
    for what, moment in moments:
        before = finished_shards(work)
        killed = run_until(work, moment, what)
        kills += killed
        # shards finished before this run started were not recomputed by it
        after = finished_shards(work)
        assert {k: after.get(k) for k in before} == before, what
        kept.update(finished_shards(work))
        if not killed:
            break
    print(f"kill/resume: {kills} kills survived, {len(kept)} finished shards kept untouched")
    assert kills >= 2, "the workflow finished before the kills: make the config slower"
    assert kept, "no shard had finished before a kill"
    assert not run_until(work, lambda w: False, "completion")
    now = {k: (work / k).stat().st_mtime_ns for k in kept}
    assert now == kept  # finished shards survived every kill and resume untouched
    assert json.loads((work / TARGET).read_text()) == expected
    assert (work / TARGET).read_bytes() == (reference / TARGET).read_bytes()
    assert temporaries(work) == []
    # and nothing is left to do
    dry = subprocess.run(command(work) + ["-n"], capture_output=True, text=True, timeout=STEP_TIMEOUT)
    assert "Nothing to be done" in dry.stdout + dry.stderr
