"""The bad-input table (docs/bad-inputs.md), end to end through the real `snakemake` command.

Every case must: exit non-zero, print ONE line naming the file or config key, the problem and the
fix, and leave no output of the failed job (nor a temporary file) behind. Each case targets the
cheapest output that exercises it: `results/USR/bars.parquet` for bar files, the labels of a run for
problems found at labelling time, and a dry run (`-n`) for config errors and misnamed data files
(refused at parse time). The line each case prints must match its row of docs/bad-inputs.md.
"""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from snakemake_cmd import REPO, tiny_config, write_config

pytestmark = pytest.mark.integration

BASE_CONFIG = tiny_config(symbols=["USR"], synthetic={"n_bars": 3000}, meta_learner="meta_ridge")


def _bars(n=400):
    from hetstack.synthetic import generate_market

    bars = generate_market("bad", n, seed=3)
    bars["timestamp"] = pd.to_datetime(bars["timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return bars


def _set(row, column, value):
    def edit(bars):
        bars[column] = bars[column].astype(object) if isinstance(value, str) else bars[column]
        bars.loc[row, column] = value
        return bars
    return edit


def _high_below_low(bars):
    bars.loc[7, "high"] = bars.loc[7, "low"] * 0.99
    return bars


def _open_above_high(bars):
    bars.loc[9, "open"] = bars.loc[9, "high"] * 1.01
    return bars


def _duplicate(bars):
    bars.loc[20, "timestamp"] = bars.loc[19, "timestamp"]
    return bars


def _unsorted(bars):
    bars.loc[[30, 31], "timestamp"] = bars.loc[[31, 30], "timestamp"].to_numpy()
    return bars


def _naive(bars):
    bars["timestamp"] = bars["timestamp"].str.rstrip("Z")
    return bars


def _mixed_zones(bars):
    bars.loc[50:, "timestamp"] = bars.loc[50:, "timestamp"].str.rstrip("Z")
    return bars


def _five_minute_bars_from_row_200(bars):
    start = pd.Timestamp(bars.loc[199, "timestamp"])
    later = start + pd.to_timedelta(np.arange(1, len(bars) - 199) * 5, unit="min")
    bars.loc[200:, "timestamp"] = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    return bars


# (case id, how to make data/USR.<ext>, expected words in the one line)
DATA_CASES = [
    ("missing-column", lambda b: b.drop(columns=["volume"]), "csv", ["volume"]),
    ("nan-price", _set(12, "close", np.nan), "csv", ["close"]),
    ("inf-price", _set(12, "high", np.inf), "csv", ["high"]),
    ("zero-price", _set(12, "open", 0.0), "csv", ["open", "non-positive"]),
    ("negative-price", _set(12, "low", -1.0), "csv", ["low"]),
    ("high-below-low", _high_below_low, "csv", ["[column high]", "< low"]),
    ("open-above-high", _open_above_high, "csv", ["[column open]", "outside [low"]),
    ("negative-volume", _set(12, "volume", -5.0), "csv", ["volume", "negative"]),
    ("duplicate-timestamps", _duplicate, "csv", ["duplicate", "timestamp"]),
    ("unsorted-timestamps", _unsorted, "csv", ["timestamp"]),
    ("naive-timestamps", _naive, "csv", ["time zone"]),
    ("mixed-time-zones", _mixed_zones, "csv", ["mixed"]),
    ("string-in-price", _set(12, "close", "12,5 USD"), "csv", ["close", "non-numeric"]),
    ("empty-file", "empty", "csv", ["empty"]),
    ("header-only-csv", "header", "csv", ["no rows"]),
    ("corrupt-parquet", "truncated", "parquet", ["corrupt"]),
    ("interval-change", _five_minute_bars_from_row_200, "csv",
     ["[column timestamp]", "1 min bars, then 5 min bars from row 200", "resample"]),
    ("semicolon-separated", "semicolons", "csv", ["separated by ';', not commas", "comma-separated"]),
    ("tab-separated", "tabs", "csv", ["separated by tabs, not commas", "comma-separated"]),
]

# (case id, files put in data/, words in the one line); refused before any job (dry run)
DATA_NAME_CASES = [
    ("data-file-extension", ["USR.txt"], ["data/USR.txt", "not a .parquet or .csv file", "data/USR.parquet or"]),
    ("data-file-compressed", ["USR.csv.gz"], ["data/USR.csv.gz", "not a .parquet or .csv file"]),
    ("data-files-several", ["usr.csv", "USR.parquet"], ["data/USR.parquet, data/usr.csv", "2 files", "keep one"]),
]

# (case id, config override, target, words in the one line)
JOB_CONFIG_CASES = [
    ("too-few-bars", {"symbols": ["SYN"], "synthetic": {"n_bars": 1000},
                      "oof": {**BASE_CONFIG["oof"], "embargo_bars": 300}}, "results/SYN_h5/labels.parquet",
     ["too few", "synthetic.n_bars"]),
    ("one-class-labels", {"symbols": ["SYN"], "labels": {"barrier_k": 1000.0, "vol_window": 60}},
     "results/SYN_h5/labels.parquet", ["every train label is 0"]),
]

# (case id, config override, words in the one line); refused before any job (dry run)
PARSE_CASES = [
    ("unknown-base", {"base_models": ["lightgbm", "nope"]}, ["'base_models'", "unknown model 'nope'",
                                                            "base models: catboost, gru,", "xgboost"]),
    ("unknown-meta", {"meta_learner": "meta_nope"}, ["'meta_learner'", "unknown model 'meta_nope'",
                                                     "meta-learners: meta_auto, meta_best_base,", "meta_ridge", "ridge_meta"]),
    ("meta-as-base", {"base_models": ["meta_ridge"]}, ["'base_models'", "meta-learner"]),
    ("horizon-zero", {"horizons": [0]}, ["'horizons.0'", "minimum"]),
    ("horizon-negative", {"horizons": [5, -3]}, ["'horizons.1'", "minimum"]),
    ("one-fold", {"oof": {**BASE_CONFIG["oof"], "n_folds": 1}}, ["'oof.n_folds'", "minimum of 2"]),
    ("negative-purge", {"oof": {**BASE_CONFIG["oof"], "purge_bars": -1}}, ["'oof.purge_bars'"]),
    ("negative-embargo", {"oof": {**BASE_CONFIG["oof"], "embargo_bars": -5}}, ["'oof.embargo_bars'"]),
    ("symbol-with-slash", {"symbols": ["../etc"]}, ["'symbols'", "'../etc' is not a plain name", "'/'"]),
    ("symbol-with-dotdot", {"symbols": ["A..B"]}, ["'symbols'", "'..'"]),
    ("symbol-with-backslash", {"symbols": ["A\\B"]}, ["'symbols'", "not a plain name"]),
    ("wrong-type-folds", {"oof": {**BASE_CONFIG["oof"], "n_folds": "five"}}, ["'oof.n_folds'", "integer"]),
    ("wrong-type-seed", {"seed": 1.5}, ["'seed'", "integer"]),
    ("wrong-type-weights", {"oof": {**BASE_CONFIG["oof"], "use_sample_weights": "yes"}},
     ["'oof.use_sample_weights'", "boolean"]),
    ("unknown-key", {"n_fold": 5}, ["'n_fold'", "unknown key"]),
    ("base-listed-twice", {"base_models": ["lightgbm", "ridge", "lightgbm"]}, ["'base_models'", "twice"]),
    ("symbol-listed-twice", {"symbols": ["USR", "USR"]}, ["'symbols'", "twice"]),
]

DOC = REPO / "docs/bad-inputs.md"


def one_line(result: subprocess.CompletedProcess) -> str:
    """The error line: 'hetstack error: ...' for a failed job, the line after 'ConfigError in' (or
    'DataError in') at parse time."""
    lines = (result.stderr + result.stdout).splitlines()
    job = [ln for ln in lines if ln.startswith("hetstack error: ")]
    if job:
        return job[0]
    for i, line in enumerate(lines):
        if re.match(r"(Config|Data)Error in file", line):
            return lines[i + 1]
    raise AssertionError("no one-line error found:\n" + result.stderr[-4000:])


def check_one_line(line: str, words: list[str], case: str) -> None:
    assert "; fix: " in line, line
    for word in words:
        assert word in line, (word, line)
    check_doc_row(case, line)


def doc_row(case: str) -> str:
    """The line docs/bad-inputs.md shows for `case` (its table row's last cell)."""
    rows = [m.group(1) for m in re.finditer(rf"^\| `{re.escape(case)}` \|.*\| `(.*)` \|$", DOC.read_text(), re.M)]
    assert len(rows) == 1, f"docs/bad-inputs.md: no single row for {case}"
    return rows[0]


def check_doc_row(case: str, line: str) -> None:
    """The doc's line, where '…' or '...' stand for left-out text, is the printed line."""
    at = 0
    for part in (p.strip() for p in re.split(r"…|\.\.\.", doc_row(case))):
        found = line.find(part, at)
        assert found >= 0, f"docs/bad-inputs.md row {case}: {part!r} is not in the printed line {line!r}"
        at = found + len(part)


def leftovers(workdir: Path) -> list[str]:
    results = workdir / "results"
    return sorted(str(p.relative_to(workdir)) for p in results.rglob("*")) if results.exists() else []


@pytest.mark.parametrize("case, make, ext, words", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_bar_file(tmp_path, snakemake_run, case, make, ext, words):
    data = tmp_path / "data"
    data.mkdir()
    path = data / f"USR.{ext}"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "header":
        path.write_text("timestamp,open,high,low,close,volume\n")
    elif make == "truncated":
        _bars().to_parquet(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif make in ("semicolons", "tabs"):  # as spreadsheets export in many locales
        _bars().to_csv(path, index=False, sep=";" if make == "semicolons" else "\t", decimal=",")
    else:
        make(_bars()).to_csv(path, index=False)
    write_config(tmp_path, BASE_CONFIG)
    result = snakemake_run(tmp_path, "results/USR/bars.parquet", cores=1, check=False, timeout=600)
    assert result.returncode != 0
    line = one_line(result)
    check_one_line(line, [f"data/USR.{ext}", *words], case)
    assert leftovers(tmp_path) == []  # neither bars.parquet, bars_source.json nor a temporary file


@pytest.mark.parametrize("case, names, words", DATA_NAME_CASES, ids=[c[0] for c in DATA_NAME_CASES])
def test_misnamed_data_file_is_one_line_before_any_job(tmp_path, snakemake_run, case, names, words):
    data = tmp_path / "data"
    data.mkdir()
    for name in names:
        _bars().to_csv(data / name, index=False)
    if len(list(data.iterdir())) < len(names):
        pytest.skip("case-insensitive file system")
    write_config(tmp_path, BASE_CONFIG)
    result = snakemake_run(tmp_path, "-n", cores=1, check=False, timeout=600)
    assert result.returncode != 0
    check_one_line(one_line(result), words, case)
    assert leftovers(tmp_path) == []


def test_a_data_file_named_in_another_case_is_used(tmp_path, snakemake_run):
    """data/usr.csv holds symbol USR's bars: used and said so, not replaced by the synthetic market."""
    (tmp_path / "data").mkdir()
    _bars(3000).to_csv(tmp_path / "data/usr.csv", index=False)
    write_config(tmp_path, BASE_CONFIG)
    result = snakemake_run(tmp_path, "results/USR/bars.parquet", cores=1, timeout=600)
    assert "bars of symbol USR come from data/usr.csv" in result.stderr
    source = json.loads((tmp_path / "results/USR/bars_source.json").read_text())
    assert source["kind"] == "file" and source["path"] == "data/usr.csv" and source["n_bars"] == 3000


@pytest.mark.parametrize("case, override, target, words", JOB_CONFIG_CASES, ids=[c[0] for c in JOB_CONFIG_CASES])
def test_bad_run_settings_fail_in_the_job(tmp_path, snakemake_run, case, override, target, words):
    write_config(tmp_path, {**BASE_CONFIG, **override})
    result = snakemake_run(tmp_path, target, cores=1, check=False, timeout=600)
    assert result.returncode != 0
    check_one_line(one_line(result), words, case)
    run_dir = Path(target).parent
    assert not (tmp_path / target).exists()
    assert not [p for p in (tmp_path / run_dir).glob("*")]  # labels, folds, splits: none left


@pytest.mark.parametrize("case, override, words", PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_bad_config_is_one_line_before_any_job(tmp_path, snakemake_run, case, override, words):
    write_config(tmp_path, {**BASE_CONFIG, **override})
    result = snakemake_run(tmp_path, "-n", cores=1, check=False, timeout=600)
    assert result.returncode != 0
    check_one_line(one_line(result), ["config key", *words], case)
    assert leftovers(tmp_path) == []


def test_the_table_in_the_docs_lists_every_case():
    for case in DATA_CASES + DATA_NAME_CASES + JOB_CONFIG_CASES + PARSE_CASES:
        doc_row(case[0])
