"""One owner of the workflow's output layout (as PyPSA-Eur's path provider). The rules build every
results path with `symbol_file` and `run_file`; `hetstack status`, `predict` and the CLI find a run's
files with `run_dir` and the names below, which tests/test_paths.py checks against the rules."""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"
SYMBOL_DIR = f"{RESULTS}/{{symbol}}"  # one symbol's bars, feature rows and multi-timeframe bars
RUN_DIR = f"{RESULTS}/{{symbol}}_h{{horizon}}"  # one symbol x horizon: labels, folds, models, reports
STUDY = f"{RESULTS}/study.json"  # every run's reports pooled (rule study)
STUDY_PAGE = f"{RESULTS}/study.html"  # the same with a forest plot

BARS_SOURCE = "bars_source.json"  # in the symbol folder: where its bars came from (rule bars)

# Files of a run folder that code outside the rules reads, relative to the run folder.
LABELS = "labels.parquet"
FOLDS = "folds.parquet"
SPLITS = "splits.json"
META_MATRIX = "meta_matrix.parquet"
SETTINGS = "run_settings.json"
MANIFEST = "manifest.json"  # what produced the run: hetstack runs / diff
OOF_DIR = "oof"  # oof/{base}/fold{fold}.parquet
BASE_MODELS_DIR = "models/bases"  # models/bases/{base}/model.json
META_MODELS_DIR = "models/meta"  # models/meta/{meta}/model.json
BASE_TESTS_DIR = "test"  # test/{base}.parquet
WALKFORWARD_DIR = "walkforward"  # windows.json; bases/{base}/window{w}.parquet, meta/{meta}/window{w}/
PLOTS_DIR = "plots"  # plots/{meta}/...
REPORT_SUFFIX = "_report.json"  # {meta}_report.json


def symbol_file(relative: str) -> str:
    """A per-symbol output pattern (wildcard {symbol}) for the rules."""
    return f"{SYMBOL_DIR}/{relative}"


def run_file(relative: str) -> str:
    """A run-folder output pattern (wildcards {symbol}, {horizon}) for the rules."""
    return f"{RUN_DIR}/{relative}"


def run_dir(symbol: str, horizon: int, workdir: str | Path = ".") -> Path:
    """The run folder of one symbol and horizon under a working directory."""
    return Path(workdir) / RUN_DIR.format(symbol=symbol, horizon=horizon)
