"""Walk-forward (oos.scheme: walkforward): the windows, the honest rows each window's meta-learner reads
(and a seeded leak the guard catches), and a tiny run end to end: plan, record, report, predict."""

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from hetstack.cv import chronological_split, folds_from_table, purged_kfold, walkforward_windows
from hetstack.errors import ConfigError, DataError
from hetstack.stages import walkforward as wf
from hetstack.stages.oof import prediction_frame
from hetstack.tables import PROB_COLUMNS, SampleTable, prob_columns
from snakemake_cmd import snakemake_command, tiny_config, write_config

PURGE, EMBARGO, HORIZON = 3, 7, 6


def samples_and_record(n=900, initial_fraction=0.4, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.arange(50, 50 + n, dtype=np.int64)
    t1 = ids + rng.integers(1, HORIZON + 1, n)
    train, record = chronological_split(ids, t1, 1 - initial_fraction, PURGE, EMBARGO)
    return ids, t1, train, record


def test_windows_are_consecutive_and_train_only_on_samples_known_before_them():
    ids, t1, train, record = samples_and_record()
    windows = walkforward_windows(ids, t1, record, 4, PURGE, EMBARGO)
    np.testing.assert_array_equal(np.concatenate([w.test_ids for w in windows]), record)
    np.testing.assert_array_equal(windows[0].train_ids, train)  # as the single split's train set
    for w in windows:
        start = w.test_ids[0]
        ends = t1[np.searchsorted(ids, w.train_ids)]
        assert (w.train_ids < start - PURGE - EMBARGO).all() and (ends < start).all()
        # expanding: every earlier sample trains unless the gap or an open label keeps it out
        assert len(w.train_ids) + len(w.purged_ids) == (ids < start).sum()
    assert [len(w.train_ids) for w in windows] == sorted(len(w.train_ids) for w in windows)


def test_rolling_windows_keep_only_the_last_train_bars():
    ids, t1, _, record = samples_and_record()
    for w in walkforward_windows(ids, t1, record, 4, PURGE, EMBARGO, train_bars=200):
        assert w.train_ids[0] >= w.test_ids[0] - PURGE - EMBARGO - 200
        assert len(w.train_ids) <= 200


def test_too_few_record_samples_and_bad_settings_are_one_line_errors():
    ids, t1, _, record = samples_and_record()
    with pytest.raises(DataError, match="oos.n_windows"):
        walkforward_windows(ids, t1, record[:3], 4, PURGE, EMBARGO)
    with pytest.raises(ConfigError, match="oos.n_windows"):
        walkforward_windows(ids, t1, record, 0, PURGE, EMBARGO)


def run_files(tmp_path, n_windows=3, seed=0):
    """A labels table (initial span `train`, the record `test`), its purged folds, the windows and a
    meta matrix plus two bases' window predictions (random probabilities: the rows are what is tested)."""
    from hetstack.cv import fold_table
    from hetstack.labels import average_uniqueness

    ids, t1, train, record = samples_and_record(seed=seed)
    rng = np.random.default_rng(seed)
    split = np.where(np.isin(ids, train), "train", np.where(np.isin(ids, record), "test", "gap"))
    labels = pd.DataFrame({"sample_id": ids, "timestamp": pd.date_range("2024-01-01", periods=len(ids), freq="1min",
                                                                        tz="UTC"),
                           "t1": t1, "label": rng.choice([-1, 0, 1], len(ids)).astype(np.int8),
                           "weight": np.nan, "split": pd.array(split, dtype="string")})
    labels.loc[np.isin(ids, train), "weight"] = average_uniqueness(train, t1[np.isin(ids, train)], int(t1.max()) + 1)
    labels.to_parquet(tmp_path / "labels.parquet")
    folds = purged_kfold(train, t1[np.isin(ids, train)], 3, PURGE, EMBARGO)
    fold_table(train, folds).to_parquet(tmp_path / "folds.parquet")
    settings = wf.WalkforwardSettings(n_windows, PURGE, EMBARGO)
    wf.write_windows(str(tmp_path / "labels.parquet"), str(tmp_path / "windows.parquet"),
                     str(tmp_path / "windows.json"), settings)
    samples = SampleTable.read(str(tmp_path / "labels.parquet"))
    matrix = pd.DataFrame({"sample_id": train, "timestamp": samples.column("timestamp", train),
                           "t1": samples.column("t1", train),
                           "fold": np.concatenate([np.full(len(f.test_ids), f.index) for f in folds]).astype(np.int16),
                           "label": samples.column("label", train), "weight": samples.column("weight", train)})
    bases = ["a", "b"]
    for base in bases:
        matrix[prob_columns(base)] = rng.dirichlet(np.ones(3), len(train))
    windows = folds_from_table(pd.read_parquet(tmp_path / "windows.parquet"))
    shards = {b: [] for b in bases}
    for base in bases:
        for w in windows:
            path = tmp_path / f"{base}_window{w.index}.parquet"
            prediction_frame(samples, w.test_ids, rng.dirichlet(np.ones(3), len(w.test_ids)), w.index).to_parquet(path)
            shards[base].append(str(path))
    return samples, matrix, folds, windows, shards


def test_each_windows_meta_rows_are_out_of_sample_and_known_before_it(tmp_path):
    samples, matrix, folds, windows, shards = run_files(tmp_path)
    for window in windows:
        w = window.index
        fit = wf.window_meta_rows(matrix, samples, {b: p[:w] for b, p in shards.items()}, windows, w, PURGE, EMBARGO)
        wf.check_meta_rows(fit, samples, folds, windows, w, PURGE, EMBARGO)
        start = window.test_ids[0]
        # checked here without the guard: labels resolved and ids clear of the gap before the window...
        assert (fit["t1"] < start).all() and (fit["sample_id"] < start - PURGE - EMBARGO).all()
        # ...and each row's base predictions from a model that held it out
        for _, row in fit.iterrows():
            source = folds[row["fold"]] if row["window"] == wf.OOF_ROWS else windows[row["window"]]
            assert row["sample_id"] in source.test_ids and row["sample_id"] not in source.train_ids
            assert row["window"] < w
        # every honest row is used: the OOF rows and the earlier windows' rows known before w
        earlier = np.concatenate([matrix["sample_id"].to_numpy()] + [v.test_ids for v in windows[:w]])
        known = earlier[(samples.column("t1", earlier) < start) & (earlier < start - PURGE - EMBARGO)]
        np.testing.assert_array_equal(fit["sample_id"], known)
        for base in ("a", "b"):  # the probabilities are the source's, row for row
            if w:
                source = pd.concat([pd.read_parquet(p) for p in shards[base][:w]]).set_index("sample_id")
                mine = fit[fit["window"] >= 0].set_index("sample_id")
                np.testing.assert_array_equal(mine[prob_columns(base)].to_numpy(),
                                              source.loc[mine.index, PROB_COLUMNS].to_numpy())


def test_a_seeded_leak_is_caught(tmp_path, monkeypatch):
    samples, matrix, folds, windows, shards = run_files(tmp_path)
    w = 2
    honest = wf.window_meta_rows(matrix, samples, {b: p[:w] for b, p in shards.items()}, windows, w, PURGE, EMBARGO)
    # 1. the gap forgotten: rows of window 1 whose labels end inside window 2
    monkeypatch.setattr("hetstack.cv.known_before", lambda ids, t1, start, purge, embargo: np.asarray(ids) < start)
    leaky = wf.window_meta_rows(matrix, samples, {b: p[:w] for b, p in shards.items()}, windows, w, PURGE, EMBARGO)
    assert len(leaky) > len(honest)
    with pytest.raises(wf.LeakError, match="not known before"):
        wf.check_meta_rows(leaky, samples, folds, windows, w, PURGE, EMBARGO)
    monkeypatch.undo()
    # 2. a row whose predictions came from a model that trained on it (an in-sample fit of window 0)
    in_sample = honest.copy()
    first = windows[0].train_ids[-1]
    in_sample.loc[in_sample["sample_id"] == first, ["window", "fold"]] = (0, wf.OOF_ROWS)
    with pytest.raises(wf.LeakError, match="did not hold it out"):
        wf.check_meta_rows(in_sample, samples, folds, windows, w, PURGE, EMBARGO)
    # 3. OOF rows labelled with the wrong fold (the fold that trained on them)
    wrong_fold = honest.copy()
    oof = wrong_fold["window"] == wf.OOF_ROWS
    wrong_fold.loc[oof, "fold"] = (wrong_fold.loc[oof, "fold"] + 1) % len(folds)
    with pytest.raises(wf.LeakError, match="fold"):
        wf.check_meta_rows(wrong_fold, samples, folds, windows, w, PURGE, EMBARGO)
    # 4. the window's own predictions among its meta's rows
    own = pd.concat([honest, honest.iloc[-1:].assign(window=np.int16(w))])
    with pytest.raises(wf.LeakError, match=f"window {w}"):
        wf.check_meta_rows(own, samples, folds, windows, w, PURGE, EMBARGO)


def test_window_weights_are_uniqueness_among_the_windows_train_samples(tmp_path):
    samples, _, _, windows, _ = run_files(tmp_path)
    first = wf.window_samples(samples, windows[0].train_ids)
    initial = samples.ids_of("train")
    np.testing.assert_allclose(first.column("weight", initial), samples.column("weight", initial))  # as the labels'
    last = wf.window_samples(samples, windows[-1].train_ids)
    weights = last.column("weight", windows[-1].train_ids)
    assert np.isfinite(weights).all() and weights.mean() == pytest.approx(1.0)
    assert np.isnan(last.column("weight", windows[-1].test_ids)).all()


def test_walkforward_config_errors_name_the_key():
    from hetstack import config as hcfg

    base = tiny_config()
    with pytest.raises(ConfigError, match="oos.scheme"):
        hcfg.oos({**base, "oos": {"scheme": "walkforward"}, "oof": {**base["oof"], "scheme": "cpcv"}})
    with pytest.raises(ConfigError, match="oos.train_bars"):
        hcfg.oos({**base, "oos": {"scheme": "walkforward", "train_window": "rolling"}})
    assert hcfg.oos(base)["scheme"] == "split" and not hcfg.walkforward(base)


WALKFORWARD = {"scheme": "walkforward", "n_windows": 3}


@pytest.fixture(scope="module")
def run(tmp_path_factory, snakemake_run):
    """A tiny walk-forward run, SIGKILLed once two window jobs have finished and resumed to its plots:
    (folder, dry-run plan, the window predictions finished before the kill and their mtimes)."""
    path = tmp_path_factory.mktemp("walkforward")
    write_config(path, tiny_config(oos=WALKFORWARD, meta_learner=["auto", "meta_ridge"],
                                   trading={"cost_bps": 0.5, "bet_sizing": True}))
    plan = snakemake_run(path, "--dry-run", "results/SYN_h5/auto_report.json").stdout
    command = snakemake_command(path, "--cores", "2", "--rerun-incomplete", "results/SYN_h5/auto_report.json")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    shards = path / "results/SYN_h5/walkforward/bases"
    deadline = time.monotonic() + 600
    while proc.poll() is None and len(list(shards.rglob("window*.parquet")) if shards.exists() else []) < 2:
        assert time.monotonic() < deadline, "no walk-forward window finished in 600 s"
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before the kill: make the config slower"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    finished = {p: p.stat().st_mtime_ns for p in shards.rglob("window*.parquet")}
    snakemake_run(path, "--unlock")
    snakemake_run(path, "--rerun-incomplete", "results/SYN_h5/plots/auto/scores.svg")
    return path, plan, finished


@pytest.mark.integration
def test_walkforward_plans_one_job_per_base_and_window(run):
    _, plan, _ = run
    counts = dict(line.split()[:2] for line in plan.splitlines()
                  if line.split()[:1] in (["walkforward_fold"], ["walkforward_meta"], ["oof_fold"]))
    assert counts == {"walkforward_fold": "6", "walkforward_meta": "6", "oof_fold": "6"}
    assert "fit_meta" not in plan and "retrain_base" not in plan


@pytest.mark.integration
def test_walkforward_report_scores_the_whole_record_window_by_window(run):
    path, _, _ = run
    results = path / "results/SYN_h5"
    report = json.loads((results / "auto_report.json").read_text())
    labels = pd.read_parquet(results / "labels.parquet")
    record = labels.loc[labels["split"] == "test", "sample_id"].to_numpy()
    predictions = pd.read_parquet(results / "predictions/auto_test.parquet")
    np.testing.assert_array_equal(predictions["sample_id"], record)
    assert report["samples"]["n_test"] == len(record) > 0.5 * len(labels)
    table = report["walkforward"]
    assert [w["window"] for w in table["windows"]] == [0, 1, 2]
    assert sum(w["n_test"] for w in table["windows"]) == len(record)
    for w in table["windows"]:
        assert w["auto_choice"] in ("meta_best_base", "meta_ridge", "meta_logistic", "meta_regime")
        assert set(w["scores"]) == {"lightgbm", "ridge", "auto"} and w["log_loss_gain_se"] > 0
    # the fit rows grow window by window: the OOF rows, then each earlier window's (less the gap)
    fit = [w["meta_fit_rows"] for w in table["windows"]]
    assert fit[0] == {"oof": int((labels["split"] == "train").sum())} and set(fit[2]) == {"oof", "window0", "window1"}
    # each window's base predictions come from the models refitted before it, joined into the record
    for base in ("lightgbm", "ridge"):
        test = pd.read_parquet(results / f"test/{base}.parquet")
        parts = [pd.read_parquet(results / f"walkforward/bases/{base}/window{w}.parquet") for w in range(3)]
        np.testing.assert_array_equal(test[PROB_COLUMNS], pd.concat(parts)[PROB_COLUMNS])
    assert report["settings"]["oos"]["scheme"] == "walkforward"


@pytest.mark.integration
def test_predict_on_a_walkforward_run_uses_the_last_windows_models(run):
    from hetstack.predict import predict_bars

    path, _, _ = run
    results = path / "results/SYN_h5"
    bars = pd.read_parquet(path / "results/SYN/bars.parquet")
    out = predict_bars(results, bars, "auto").dropna(subset=["sample_id"]).set_index("sample_id")
    windows = json.loads((results / "walkforward/windows.json").read_text())["windows"]
    first, last = windows[-1]["test"]
    recorded = pd.read_parquet(results / "predictions/auto_test.parquet").set_index("sample_id")
    mine = recorded.loc[first:last]
    np.testing.assert_array_equal(out.loc[mine.index, PROB_COLUMNS].to_numpy(), mine[PROB_COLUMNS].to_numpy())
    # bars up to the last window's training labels are in sample; the last window's are not
    assert not out.loc[mine.index, "in_sample"].any() and out.loc[:windows[-1]["train"][1], "in_sample"].all()
    settings = json.loads((results / "run_settings.json").read_text())
    assert pd.Timestamp(settings["test_start"]) == pd.Timestamp(windows[-1]["period"][0])


@pytest.mark.integration
def test_walkforward_html_report_shows_the_windows_and_both_books(run):
    path, _, _ = run
    results = path / "results/SYN_h5"
    report = json.loads((results / "auto_report.json").read_text())
    sizing = report["bet_sizing"]
    best = report["performance"]["best_base"]
    assert set(sizing["books"]) == {"auto", best} and sizing["best_base"] == best
    for book in sizing["books"].values():
        # sized bets are fractions of the unit bets: smaller positions, less turnover
        assert 0 < book["sized"]["mean_abs_position"] < book["unit"]["mean_abs_position"]
        assert book["sized"]["turnover"] < book["unit"]["turnover"]
    for gain in sizing["meta_over_best_base"].values():
        low, high = gain["interval"]
        assert low <= gain["sharpe_gain"] <= high or low == high
    assert report["performance"]["trading_sized"]["turnover"] == pytest.approx(sizing["books"]["auto"]["sized"]["turnover"])
    plots = results / "plots/auto"
    page = (plots / "scores.html").read_text()
    assert "Walk-forward windows" in page and page.count("<tr") >= 3 + 3
    assert "sized book: Sharpe" in (plots / "headline.html").read_text()
    svg = (plots / "walkforward.svg").read_text()
    assert "cumulative skill" in svg and "w2" in svg


@pytest.mark.integration
def test_a_killed_walkforward_run_resumes_where_it_stopped(run):
    path, _, finished = run
    # window predictions finished before the kill were kept, not recomputed (Snakemake may mark the
    # one being written incomplete and redo it)
    assert sum(p.stat().st_mtime_ns == t for p, t in finished.items()) >= len(finished) - 1 >= 1
    assert not list((path / "results").rglob("*.tmp"))
    dry = subprocess.run(snakemake_command(path, "-n", "results/SYN_h5/plots/auto/scores.svg"), capture_output=True,
                         text=True, timeout=600)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_status_counts_each_bases_walkforward_windows(tmp_path):
    from hetstack.status import format_status, run_status

    run = tmp_path / "results/SYN_h5"
    (run / "walkforward").mkdir(parents=True)
    (run / "walkforward/windows.json").write_text(json.dumps({"n_windows": 3}))
    (run / "labels.parquet").write_bytes(b"")
    for base, windows in (("lightgbm", [0, 1, 2]), ("ridge", [0, 2])):
        (run / f"walkforward/bases/{base}").mkdir(parents=True)
        (run / "oof" / base).mkdir(parents=True)
        for w in windows:
            (run / f"walkforward/bases/{base}/window{w}.parquet").write_bytes(b"")
    status = run_status(run)
    assert status["n_windows"] == 3
    assert status["bases"]["lightgbm"]["windows_missing"] == [] and status["bases"]["ridge"]["windows_missing"] == [1]
    assert "walk-forward windows of ridge" in status["missing"]
    assert "walk-forward windows 2/3 (missing 1)" in format_status(status)


@pytest.mark.integration
def test_a_rolling_walkforward_plans_its_windows(tmp_path, snakemake_run):
    write_config(tmp_path, tiny_config(oos={"scheme": "walkforward", "n_windows": 2, "train_window": "rolling",
                                            "train_bars": 1500}))
    plan = snakemake_run(tmp_path, "--dry-run", "results/SYN_h5/meta_ridge_report.json").stdout
    counts = dict(line.split()[:2] for line in plan.splitlines() if line.split()[:1] == ["walkforward_fold"])
    assert counts == {"walkforward_fold": "4"}
    write_config(tmp_path, tiny_config(oos={"scheme": "walkforward", "train_window": "rolling"}))
    refused = snakemake_run(tmp_path, "--dry-run", "results/SYN_h5/meta_ridge_report.json", check=False)
    assert refused.returncode != 0 and "oos.train_bars" in refused.stderr + refused.stdout
