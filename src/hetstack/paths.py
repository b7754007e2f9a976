"""One owner of the workflow's output layout (as PyPSA-Eur's path provider). The rules build every
results path with `symbol_file` and `run_file`; `hetstack status`, `predict` and the CLI find a run's
files with `run_dir` and the names below, which tests/test_paths.py checks against the rules."""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"
SYMBOL_DIR = f"{RESULTS}/{{symbol}}"  # one symbol's bars, feature rows and multi-timeframe bars
# one symbol x horizon (x seed replicate): labels, folds, models, reports
RUN_DIR = f"{RESULTS}/{{symbol}}_h{{horizon}}{{replicate}}"
REPLICATE_PATTERN = r"(_rep[1-9][0-9]*)?"  # {replicate}: empty for the first, _rep1 .. _rep{K-1} for the others
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
TUNING_DIR = "tuning"  # tuning/{base}/: study.json, journal.log, worker{w}.json, tuned.json
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
    """A run-folder output pattern (wildcards {symbol}, {horizon}, {replicate}) for the rules."""
    return f"{RUN_DIR}/{relative}"


def replicate_suffix(replicate: int) -> str:
    """The {replicate} wildcard of seed replicate `replicate` (0: the run itself, folder unchanged)."""
    return f"_rep{int(replicate)}" if int(replicate) else ""


def replicate_index(suffix: str) -> int:
    """replicate_suffix's inverse: 0 for "", r for "_rep{r}"."""
    return int(suffix[len("_rep"):]) if suffix else 0


def run_name(symbol: str, horizon: int, replicate: int = 0) -> str:
    """A run folder's name: {symbol}_h{horizon}, with _rep{r} for seed replicate r."""
    return f"{symbol}_h{horizon}{replicate_suffix(replicate)}"


def run_dir(symbol: str, horizon: int, workdir: str | Path = ".", replicate: int = 0) -> Path:
    """The run folder of one symbol, horizon (and seed replicate) under a working directory."""
    return Path(workdir) / RESULTS / run_name(symbol, horizon, replicate)
