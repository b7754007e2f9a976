"""A tuned run end to end: studies planned and run by workers sharing one storage, their choice in every
fold and retrain job, and the leak test of the nesting: no OOF row the meta-learner reads, and no test
row, was ever fitted or scored inside a tuning objective."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from snakemake_cmd import REPO, planned_jobs, snakemake_command, tiny_config, write_config

from hetstack import tuning as tuning_lib
from hetstack.stages import tuning as stages
from hetstack.stages.oof import TrainSettings, merge_oof
from hetstack.tables import SampleTable
from hetstack.tuning import WORKER_ATTR, TuningSettings

pytestmark = pytest.mark.integration

RUN = "results/SYN_h5"
TUNING = {"bases": {"lightgbm": {"n_trials": 5}}, "workers": 2}
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, snakemake_run):
    path = tmp_path_factory.mktemp("tuned")
    write_config(path, tiny_config(tuning=TUNING, meta_learner="meta_ridge"))
    plan = planned_jobs(snakemake_run(path, "--dry-run"))
    snakemake_run(path)
    return path, plan


def study_trials(study_json: Path) -> list:
    return stages.open_study(study_json, None)[1].get_trials(deepcopy=False)


def train_settings(params: dict) -> TrainSettings:
    return TrainSettings(params=params, seed=42, threads=1, val_split=0.15, purge_bars=10, embargo_bars=30,
                         use_sample_weights=True, adapters={"sequence": {"seq_len": 32}, "multires": {}})


def test_a_tuned_run_plans_its_studies_and_every_fold_uses_the_choice(tuned):
    path, plan = tuned
    # one study of lightgbm, its two workers and the selection; ridge is not tuned
    assert {r: plan[r] for r in ("tune_study", "tune_worker", "tune_select", "oof_fold")} == {
        "tune_study": 1, "tune_worker": 2, "tune_select": 1, "oof_fold": 6}
    run = path / RUN
    chosen = json.loads((run / "tuning/lightgbm/tuned.json").read_text())
    assert chosen["n_trials"] >= 5 and chosen["trials"][0]["configured"]
    assert {t["worker"] for t in chosen["trials"]} <= {0, 1}
    model = json.loads((run / "models/bases/lightgbm/model.json").read_text())
    assert {k: model["params"][k] for k in chosen["params"]} == chosen["params"]  # the retrain fitted the choice
    assert model["params"]["num_boost_round"] == 40  # over the configured params
    logs = "".join((path / f"logs/oof_fold/SYN_h5/lightgbm/fold{k}.log").read_text() for k in range(3))
    assert "rule oof_fold" in logs
    report = json.loads((run / "meta_ridge_report.json").read_text())
    section = report["tuning"]["bases"]["lightgbm"]
    assert section["n_trials"] == chosen["n_trials"] and len(section["trials"]) >= 5
    sharpe = report["statistics"]["sharpe"]["meta_ridge"]
    assert sharpe["n_tuning_trials"] == chosen["effective_trials"] - 1
    assert "clusters of tuning trials" in report["statistics"]["readings"]["dsr"]
    from hetstack.status import format_status, run_status

    status = run_status(run)
    assert status["bases"]["lightgbm"]["tuning"] == {"finished": chosen["n_trials"], "n_trials": 5,
                                                     "chosen_trial": chosen["chosen_trial"]}
    assert "tuning" not in status["bases"]["ridge"] and "trials finished, chosen trial" in format_status(status)
    # a finished run plans nothing
    assert planned_jobs(subprocess.run(snakemake_command(path, "--dry-run"), capture_output=True, text=True)) == {}


def objective_rows(path: Path, monkeypatch) -> tuple[set, int]:
    """Every sample id a tuning objective of the run fits on or scores (recorded where the objective
    fits: stages.tuning.fit_and_predict), and the latest label end among them."""
    run = path / RUN
    info = json.loads((run / "tuning/lightgbm/study.json").read_text())
    settings = TuningSettings(**info["settings"])
    samples = SampleTable.read(str(run / "labels.parquet"))
    seen = set()
    real = stages.fit_and_predict

    def spy(base, arrays, samples_, fit_ids, predict_ids, train):
        seen.update(fit_ids.tolist())
        seen.update(predict_ids.tolist())
        return real(base, arrays, samples_, fit_ids, predict_ids, train)

    monkeypatch.setattr(stages, "fit_and_predict", spy)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.enqueue_trial({}, user_attrs={tuning_lib.DEFAULTS_ATTR: True})
    objective = stages.SpanObjective("lightgbm", {"features": str(path / "results/SYN/features.npy")}, samples,
                                     settings, train_settings(settings.params), worker=0)
    study.optimize(objective, n_trials=2)
    ids = np.array(sorted(seen))
    return set(seen), int(samples.column("t1", ids).max())


def assert_no_leak(objective: set, last_t1: int, meta_ids: np.ndarray, test_ids: np.ndarray, embargo: int) -> None:
    assert not objective & set(meta_ids.tolist()), "the meta-learner reads a row a tuning objective read"
    assert not objective & set(test_ids.tolist()), "a test row was in a tuning objective"
    # no label the meta reads starts before a tuning label's end plus the embargo
    assert meta_ids.min() > last_t1 + embargo, "a meta row's label overlaps a tuning row's label or its embargo"


def test_no_row_the_meta_reads_nor_a_test_row_was_in_a_tuning_objective(tuned, monkeypatch):
    path, _ = tuned
    run = path / RUN
    objective, last_t1 = objective_rows(path, monkeypatch)
    samples = SampleTable.read(str(run / "labels.parquet"))
    meta_ids = pd.read_parquet(run / "meta_matrix.parquet", columns=["sample_id"])["sample_id"].to_numpy()
    assert len(objective) > 500 and len(meta_ids) > 1000  # both sides are real
    assert_no_leak(objective, last_t1, meta_ids, samples.ids_of("test"), embargo=30)


def test_the_leak_test_catches_a_seeded_leak(tuned, monkeypatch, tmp_path):
    """The merge forgetting the span: its matrix holds every train row, and the check says so."""
    path, _ = tuned
    run = path / RUN
    objective, last_t1 = objective_rows(path, monkeypatch)
    monkeypatch.setattr(tuning_lib, "meta_rows", lambda ids, t1, *a: np.ones(len(ids), dtype=bool))
    shards = {b: sorted(str(p) for p in (run / "oof" / b).glob("fold[0-9].parquet")) for b in ("lightgbm", "ridge")}
    leaky = merge_oof(shards, str(run / "labels.parquet"), str(run / "folds.parquet"), str(tmp_path / "m.parquet"),
                      (0.3, 10, 30))
    with pytest.raises(AssertionError, match="reads a row a tuning objective read"):
        assert_no_leak(objective, last_t1, leaky["sample_id"].to_numpy(),
                       SampleTable.read(str(run / "labels.parquet")).ids_of("test"), embargo=30)


def test_changing_one_search_replans_exactly_its_jobs(tuned):
    path, _ = tuned
    changed = tiny_config(tuning={**TUNING, "bases": {"lightgbm": {"n_trials": 6}}}, meta_learner="meta_ridge")
    write_config(path, changed, "changed.yaml")
    result = subprocess.run(snakemake_command(path, "--dry-run", configfile="changed.yaml"), capture_output=True,
                            text=True, check=True)
    # lightgbm's study, its workers, its folds and retrain, and what reads them; nothing of ridge
    assert planned_jobs(result) == {"tune_study": 1, "tune_worker": 2, "tune_select": 1, "oof_fold": 3,
                                    "retrain_base": 1, "merge_oof": 1, "fit_meta": 1, "run_settings": 1,
                                    "manifest": 1, "report": 1, "all": 1}
    assert "base=ridge" not in result.stdout


def new_study(path: Path, where: Path, n_trials: int) -> Path:
    """A fresh study of lightgbm on the run's labels, in `where`."""
    info = json.loads((path / RUN / "tuning/lightgbm/study.json").read_text())
    settings = TuningSettings(**{**info["settings"], "n_trials": n_trials})
    study_json = where / "study.json"
    stages.create_study("lightgbm", "SYN_h5", str(path / RUN / "labels.parquet"), str(study_json), settings)
    return study_json


def test_a_killed_workers_abandoned_trial_is_failed_and_the_study_goes_on(tuned, tmp_path):
    path, _ = tuned
    study_json = new_study(path, tmp_path, n_trials=3)
    _, study = stages.open_study(study_json, None)
    abandoned = study.ask()  # what a SIGKILL leaves: a RUNNING trial of worker 0 in the journal
    abandoned.set_user_attr(WORKER_ATTR, 0)
    other = study.ask()  # a live trial of worker 1: not worker 0's to touch
    other.set_user_attr(WORKER_ATTR, 1)
    stages.run_worker("lightgbm", 0, {"features": str(path / "results/SYN/features.npy")},
                      str(path / RUN / "labels.parquet"), str(study_json), str(tmp_path / "w0.json"),
                      train_settings({}))
    trials = study_trials(study_json)
    assert trials[abandoned.number].state == TrialState.FAIL
    assert trials[other.number].state == TrialState.RUNNING
    assert sum(t.state in FINISHED for t in trials) == 3


WORKER = """
import sys
sys.path.insert(0, {tests!r})
from test_tuning_workflow import train_settings
from hetstack.stages.tuning import run_worker
run_worker("lightgbm", {worker}, {{"features": {features!r}}}, {labels!r}, {study!r}, {out!r}, train_settings({{}}))
"""


def test_two_workers_share_one_study(tuned, tmp_path):
    """Two processes on one journal file at once: every trial recorded once, the budget shared."""
    path, _ = tuned
    study_json = new_study(path, tmp_path, n_trials=8)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER.format(
        tests=str(REPO / "tests"), worker=w, features=str(path / "results/SYN/features.npy"),
        labels=str(path / RUN / "labels.parquet"), study=str(study_json), out=str(tmp_path / f"w{w}.json"))],
        stderr=subprocess.PIPE, text=True) for w in (0, 1)]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()[-3000:]
    trials = study_trials(study_json)
    finished = [t for t in trials if t.state in FINISHED]
    # MaxTrialsCallback stops each worker after the trial that fills the budget: at most one more each
    assert 8 <= len(finished) <= 9 and len({t.number for t in trials}) == len(trials)
    summaries = [json.loads((tmp_path / f"w{w}.json").read_text()) for w in (0, 1)]
    ran = [t["number"] for s in summaries for t in s["trials"]]
    assert sorted(ran) == sorted(t.number for t in trials)  # each trial run by exactly one worker
    assert all(s["trials"] for s in summaries), "one worker ran no trial: the study was not shared"


def test_a_killed_tuning_run_resumes_and_keeps_its_finished_trials(tmp_path):
    write_config(tmp_path, tiny_config(synthetic={"n_bars": 4000}, meta_learner="meta_ridge",
                                       tuning={"bases": {"lightgbm": {"n_trials": 8}}, "workers": 1}))
    target = f"{RUN}/tuning/lightgbm/tuned.json"
    study_json = tmp_path / RUN / "tuning/lightgbm/study.json"
    cmd = snakemake_command(tmp_path, "--cores", "1", "--rerun-incomplete", target)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    before = None
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        if study_json.exists():
            done = [t for t in study_trials(study_json) if t.state in FINISHED]
            if len(done) >= 2:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                before = {t.number: t.value for t in done}
                break
        time.sleep(0.2)
    assert before is not None, "the study finished before it could be killed"
    subprocess.run(cmd + ["--unlock"], check=True, capture_output=True, timeout=600)
    # a kill while a worker held the journal's lock leaves it behind: the resumed worker breaks it after
    # Optuna's grace period (30 s) instead of waiting forever
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    trials = study_trials(study_json)
    assert sum(t.state in FINISHED for t in trials) == 8
    assert all(trials[n].value == value for n, value in before.items())  # nothing finished was lost or rerun
    assert sum(t.state == TrialState.FAIL for t in trials) <= 1  # at most the trial running at the kill


def test_a_stale_journal_lock_of_a_killed_worker_is_broken(tuned, tmp_path):
    """The lock Optuna's journal leaves when its holder is SIGKILLed points at the journal by an absolute
    path, so waiters see it age and break it after the grace period."""
    path, _ = tuned
    study_json = new_study(path, tmp_path, n_trials=1)
    lock = Path(str(stages.journal_of(study_json).resolve()) + ".lock")
    assert not lock.exists()
    os.symlink(str(stages.journal_of(study_json).resolve()), lock)  # what a kill inside acquire() leaves
    os.utime(stages.journal_of(study_json), (time.time() - 60, time.time() - 60))  # held for a minute
    start = time.monotonic()
    stages.run_worker("lightgbm", 0, {"features": str(path / "results/SYN/features.npy")},
                      str(path / RUN / "labels.parquet"), str(study_json), str(tmp_path / "w0.json"),
                      train_settings({}))  # its first write waits for the lock
    assert time.monotonic() - start < 120 and not lock.exists()
    assert [t.state for t in study_trials(study_json)] == [TrialState.COMPLETE]


def test_the_default_config_with_its_bases_tuned_plans(tmp_path):
    bases = {"catboost": {}, "logistic_window": {}, "lightgbm_multires": {}}
    write_config(tmp_path, {"tuning": {"bases": bases}}, "tuned.yaml")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(REPO / "config/config.yaml"), str(tmp_path / "tuned.yaml"), "--dry-run", "--cores", "2"]
    plan = planned_jobs(subprocess.run(cmd, capture_output=True, text=True, check=True))
    # two symbols, three bases: a study, two workers and a selection each
    assert (plan["tune_study"], plan["tune_worker"], plan["tune_select"]) == (6, 12, 6)


def test_an_rdb_storage_holds_the_study_and_a_new_study_replaces_the_old(tuned, tmp_path):
    path, _ = tuned
    run = path / RUN
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    info = json.loads((run / "tuning/lightgbm/study.json").read_text())
    settings = TuningSettings(**{**info["settings"], "n_trials": 2})
    study_json = tmp_path / "study.json"
    for _ in range(2):  # a rerun of tune_study replaces the study of its run and base
        stages.create_study("lightgbm", "SYN_h5", str(run / "labels.parquet"), str(study_json), settings, url)
    stages.run_worker("lightgbm", 0, {"features": str(path / "results/SYN/features.npy")}, str(run / "labels.parquet"),
                      str(study_json), str(tmp_path / "w0.json"), train_settings({}), url)
    chosen = stages.select_params("lightgbm", str(run / "labels.parquet"), str(path / "results/SYN/bars.parquet"),
                                  str(study_json), str(tmp_path / "tuned.json"), 5, 0.5, 42, url)
    assert chosen["n_trials"] == 2 and len(chosen["trials"]) == 2  # the first study's trial 0 is gone
    assert not (tmp_path / "journal.log").exists()
