"""Live prediction: score new bars with a finished run's retrained bases and its meta-learner.

A run folder (results/{symbol}_h{h}) stores `run_settings.json` (written by rule run_settings):
the feature version and settings, the adapters' windows, the base list, the horizon, the lookback,
the symbol and the bar interval, the end of the training period and a digest of the run's bars.
Bars of another interval are refused (windows are counted in bars), and so are another symbol's
unless asked for. Prediction rebuilds features and windows from the bars exactly as in training (the
same library functions, the same float32 arrays) and drops bars without the lookback's history.
Scored bars that are the run's own (same timestamp and values in results/{symbol}/bars.parquet) get
the run's sample id, so predictions join the run's labels and test predictions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hetstack.errors import DataError
from hetstack import paths
from hetstack.io import read_json, write_json

log = logging.getLogger("hetstack")

SETTINGS_VERSION = 4  # 2: symbol checked, bar_interval_seconds; 3: regime_window; 4: symbols, run_bars, train_end
BAR_COLUMNS = ["open", "high", "low", "close", "volume"]


def bar_interval_seconds(timestamps) -> float:
    """Median spacing of consecutive bars in seconds (session breaks and holidays do not move it)."""
    ns = pd.DatetimeIndex(timestamps).as_unit("ns").asi8
    if len(ns) < 2:
        raise DataError("bars [column timestamp]", "one bar has no spacing", "pass at least two bars")
    return float(np.median(np.diff(ns))) / 1e9


def _interval_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def bars_digest(bars: pd.DataFrame) -> str:
    """SHA-256 of the bars' timestamps and values: tells whether a bars file is still the one a run used."""
    digest = hashlib.sha256(pd.DatetimeIndex(bars["timestamp"]).as_unit("ns").asi8.astype("<i8").tobytes())
    digest.update(np.ascontiguousarray(bars[BAR_COLUMNS].to_numpy(np.float64), dtype="<f8").tobytes())
    return digest.hexdigest()


def write_run_settings(out_path: str, *, symbol: str, horizon: int, bases: list[str], metas: list[str],
                       adapters: dict, features_meta_path: str, splits_path: str, bars_path: str, labels_path: str,
                       vol_window: int, config_digest: str, regime_window: int = 1440,
                       symbols: list[str] | None = None, windows_path: str | None = None) -> dict:
    """What `predict_bars` needs to rebuild a run's inputs; small JSON beside the run's outputs.

    `symbols`: the config's symbols, names `hetstack predict` may read from a bars file's name;
    `windows_path`: a walk-forward run's windows table: its deployed models are the last window's.
    """
    from hetstack.catalogue import canonical_name
    from hetstack.data import iso_utc
    from hetstack.io import read_parquet

    features = read_json(features_meta_path)
    splits = read_json(splits_path)
    bars = read_parquet(bars_path)
    labels = read_parquet(labels_path, columns=["sample_id", "t1", "split"])
    timestamps = pd.DatetimeIndex(pd.to_datetime(bars["timestamp"], utc=True))
    train, test = labels[labels["split"] == "train"], labels[labels["split"] == "test"]
    if windows_path is not None:  # the last window's models: trained on its train samples, tested on it
        from hetstack.tables import load_folds

        last = load_folds(windows_path)[-1]
        train, test = (labels[labels["sample_id"].isin(ids)] for ids in (last.train_ids, last.test_ids))
    settings = {
        "settings_version": SETTINGS_VERSION,
        "symbol": symbol,
        "symbols": sorted({symbol, *(symbols or [])}),
        "bar_interval_seconds": bar_interval_seconds(timestamps),
        # sample ids are positions in these bars; predict maps bars back to them only if unchanged
        "run_bars": {"n_bars": len(bars), "first": iso_utc(timestamps[0]), "last": iso_utc(timestamps[-1]),
                     "sha256": bars_digest(bars)},
        # every bar up to the last train label's end was read by a fitted model: in_sample
        "train_end": iso_utc(timestamps[int(train["t1"].max())]),
        "test_start": iso_utc(timestamps[int(test["sample_id"].min())]),
        "horizon": int(horizon),
        "base_models": list(bases),
        "meta_learners": [canonical_name(m) for m in metas],
        "default_meta": canonical_name(metas[0]),
        "adapters": {k: dict(v) for k, v in adapters.items()},
        "timeframes": [int(t) for t in adapters["multires"]["timeframes"]],
        "features": {"settings": features["settings"], "names": features["names"],
                     "warmup": int(features["warmup"]), "n_features": int(features["n_features"])},
        "vol_window": int(vol_window),
        "regime_window": int(regime_window),
        "lookback": int(splits["lookback"]),
        "config_digest": config_digest,
    }
    write_json(out_path, settings)
    return settings


def read_run_settings(run_dir: str | Path) -> dict:
    path = Path(run_dir) / paths.SETTINGS
    if not path.is_file():
        raise DataError(str(path), "no run settings in this run folder",
                        f"build them with `snakemake {path}` (or rerun the workflow), then predict again")
    settings = read_json(path)
    if settings.get("settings_version") != SETTINGS_VERSION:
        raise DataError(str(path), f"written by another hetstack (settings version {settings.get('settings_version')})",
                        f"rebuild them with `snakemake {path}`, then predict again")
    return settings


def _is_symbol_name(name: str) -> bool:
    from hetstack.config import SYMBOL_PATTERN

    return bool(re.fullmatch(SYMBOL_PATTERN, name)) and ".." not in name


def _results_dir(run_dir: str | Path) -> Path:
    """The folder holding the run folder (results/), also for a run given as "." or ".."."""
    run = Path(run_dir)
    return run.parent if run.name not in ("", "..") else run.resolve().parent


def known_symbols(run_dir: str | Path, settings: dict) -> list[str]:
    """Symbols the project knows: the run's, its config's, and those with folders beside the run."""
    names = {settings["symbol"], *settings.get("symbols", [])}
    results = _results_dir(run_dir)
    if results.is_dir():
        for folder in results.iterdir():
            name = re.sub(r"_h\d+(_rep\d+)?$", "", folder.name)  # results/{symbol}, {symbol}_h{h}[_rep{r}]
            if folder.is_dir() and _is_symbol_name(name):
                names.add(name)
    return sorted(names)


def symbol_of_bars_file(path: str | Path, run_dir: str | Path, settings: dict) -> str | None:
    """The symbol a bars file's path names, or None when it names none (then the symbol is not checked).

    results/{SYMBOL}/bars.parquet names SYMBOL; so does a data-style {SYMBOL}.csv|parquet, or a
    {SYMBOL}/bars.parquet elsewhere, when SYMBOL is a symbol the project knows (`known_symbols`, any
    case). A generic name (new_bars.parquet, latest.csv) names none: it must not refuse the bars.
    """
    path = Path(os.path.abspath(path))  # "bars.parquet" given inside results/MES names MES too
    if path.name == "bars.parquet":
        name = path.parent.name
        if path.parent.parent.name == paths.RESULTS and _is_symbol_name(name):
            return name
    elif path.suffix.lower() in (".csv", ".parquet"):
        name = path.stem
    else:
        return None
    known = known_symbols(run_dir, settings)
    if name in known:
        return name
    same = [k for k in known if k.lower() == name.lower()]
    return same[0] if len(same) == 1 else None


def check_bars_fit_run(settings: dict, bars: pd.DataFrame, source: str, symbol: str | None,
                       allow_other_symbol: bool) -> None:
    """Refuse bars the run's windows would misread: another interval, or another symbol unless allowed."""
    trained = settings["symbol"]
    if symbol is not None and symbol != trained and not allow_other_symbol:
        raise DataError(source, f"bars of symbol {symbol!r}, but the run was trained on {trained!r}",
                        f"pass {trained} bars (--symbol {trained} names them), or --allow-other-symbol to score "
                        "another symbol's bars of the same interval")
    want, got = float(settings["bar_interval_seconds"]), bar_interval_seconds(bars["timestamp"])
    if abs(got - want) > 0.01 * want:
        raise DataError(f"{source} [column timestamp]", f"bars are {_interval_text(got)} apart (median spacing) but "
                        f"the run was trained on {_interval_text(want)} bars",
                        f"resample the bars to {_interval_text(want)}, or train a run on bars of this interval")


def run_bars_path(run_dir: str | Path, settings: dict) -> Path:
    """The bars the run was built from: results/{symbol}/bars.parquet beside the run folder."""
    return _results_dir(run_dir) / settings["symbol"] / "bars.parquet"


def run_sample_ids(run_dir: str | Path, settings: dict, bars: pd.DataFrame) -> tuple[pd.arrays.IntegerArray, str]:
    """The run's sample id (position in the run's bars) of each of `bars`, <NA> where it is not one of
    them (no bar of that timestamp, or other prices: another symbol's). Returns the ids (Int64) and a
    note saying what they were matched against."""
    from hetstack.io import read_parquet

    missing = pd.array([pd.NA] * len(bars), dtype="Int64")
    path = run_bars_path(run_dir, settings)
    if not path.is_file():
        return missing, f"{path} is absent: sample_id left empty"
    run_bars = read_parquet(path)
    if bars_digest(run_bars) != settings["run_bars"]["sha256"]:
        return missing, f"{path} changed since the run was built: sample_id left empty"
    run_ns = pd.DatetimeIndex(run_bars["timestamp"]).as_unit("ns").asi8
    ns = pd.DatetimeIndex(bars["timestamp"]).as_unit("ns").asi8
    pos = np.minimum(np.searchsorted(run_ns, ns), len(run_ns) - 1)
    same = (run_ns[pos] == ns) & np.isclose(run_bars[BAR_COLUMNS].to_numpy(np.float64)[pos],
                                            bars[BAR_COLUMNS].to_numpy(np.float64), rtol=1e-9, atol=0).all(axis=1)
    return pd.arrays.IntegerArray(np.where(same, pos, 0).astype(np.int64), ~same), f"matched to {path}"


def predict_bars(run_dir: str | Path, bars: pd.DataFrame, meta: str | None = None, *, threads: int = 1,
                 source: str = "bars", symbol: str | None = None, allow_other_symbol: bool = False) -> pd.DataFrame:
    """Signals for every bar of `bars` that has the run's lookback of history before it.

    `symbol` names the bars' symbol (None: not checked); bars of another interval are always refused.
    Returns one row per scored bar: timestamp; row (position in `bars`); sample_id (the run's sample
    id of that bar, Int64 <NA> when it is not one of the run's bars); in_sample (the bar is at or
    before the end of the run's training period: the models were fitted on it); prediction
    (-1/0/+1), prob_-1, prob_0, prob_+1, confidence. `meta` defaults to the run's first meta-learner.
    frame.attrs["sample_id_note"] says what sample_id was matched against.
    """
    from hetstack.adapters import build_multires_bars, make_adapter
    from hetstack.data import validate_bars
    from hetstack.features import compute_features, feature_settings
    from hetstack.io import write_npy
    from hetstack.catalogue import load_model
    from hetstack.catalogue import canonical_name, get_spec
    from hetstack.tables import PROB_COLUMNS

    run_dir = Path(run_dir)
    settings = read_run_settings(run_dir)
    if feature_settings() != settings["features"]["settings"]:
        raise DataError(str(run_dir / paths.SETTINGS), "the run was trained with other feature settings "
                        f"(version {settings['features']['settings'].get('version')})",
                        "retrain the run with this version of hetstack")
    bars = validate_bars(bars, source=source)
    check_bars_fit_run(settings, bars, source, symbol, allow_other_symbol)
    lookback = int(settings["lookback"])
    rows = np.arange(lookback, len(bars), dtype=np.int64)  # the bars with the lookback's history
    if not len(rows):
        raise DataError(source, f"{len(bars)} bars leave none with the run's {lookback}-bar lookback of history",
                        f"pass at least {lookback + 1} bars, the history before the bars to score included")
    features, names, warmup = compute_features(bars)
    if names != settings["features"]["names"]:
        raise DataError(source, "features differ from those the run was trained on", "retrain the run")
    if warmup > lookback:  # e.g. a session clock not yet known: the first scored rows would be NaN
        raise DataError(source, f"features need {warmup} bars of history here, more than the run's {lookback}",
                        f"pass {warmup - lookback} more bars of history before the bars to score")

    meta_name = canonical_name(meta or settings["default_meta"])
    meta_dir = run_dir / paths.META_MODELS_DIR / meta_name
    if not (meta_dir / "model.json").is_file():
        raise DataError(str(meta_dir), f"no fitted meta-learner {meta_name!r} in this run",
                        f"pick one of {settings['meta_learners']} or build it with the workflow")
    meta_model = load_model(meta_dir, threads=threads)
    with tempfile.TemporaryDirectory(prefix="hetstack-predict-") as tmp:
        arrays = {"features": str(Path(tmp) / "features.npy")}
        write_npy(arrays["features"], features.astype(np.float32, copy=False))  # as rule features stores it
        kinds = {b: get_spec(b).input_kind for b in meta_model.base_names}
        if "multires" in kinds.values():
            arrays["multires"] = str(Path(tmp) / "multires.npy")
            write_npy(arrays["multires"], build_multires_bars(bars, settings["timeframes"]).astype(np.float32))
        columns = []
        for base in meta_model.base_names:
            model_dir = run_dir / paths.BASE_MODELS_DIR / base
            if not (model_dir / "model.json").is_file():
                raise DataError(str(model_dir), f"no retrained base {base!r} in this run",
                                "run the workflow with retrain_bases_on_full: true")
            model = load_model(model_dir, threads=threads)
            adapter = make_adapter(kinds[base], features_path=arrays["features"],
                                   multires_path=arrays.get("multires"), **settings["adapters"])
            columns.append(model.predict(adapter.rows(rows)).probabilities)
            log.info("predict: %s scored %d bars", base, len(rows))
            del adapter, model
    from hetstack.regime import meta_inputs, regime_rows

    regime = regime_rows(bars, rows, int(settings["regime_window"])) if meta_model.reads_regime else None
    out = meta_model.predict(meta_inputs(meta_model, np.hstack(columns).astype(np.float64), regime))
    timestamps = pd.to_datetime(bars["timestamp"].to_numpy()[rows], utc=True)
    run_ids, note = run_sample_ids(run_dir, settings, bars.iloc[rows].reset_index(drop=True))
    frame = pd.DataFrame({"timestamp": timestamps, "row": rows, "sample_id": run_ids,
                          "in_sample": np.asarray(timestamps <= pd.Timestamp(settings["train_end"]))})
    frame.attrs["sample_id_note"] = note
    frame["prediction"] = np.asarray(out.predictions).astype(np.int8)
    for col, values in zip(PROB_COLUMNS, out.probabilities.T):
        frame[col] = values
    frame["confidence"] = out.confidence
    return frame
