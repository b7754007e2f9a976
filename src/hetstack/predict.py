"""Live prediction: score new bars with a finished run's retrained bases and its meta-learner.

A run folder (results/{symbol}_h{h}) stores `run_settings.json` (written by rule run_settings):
the feature version and settings, the adapters' windows, the base list, the horizon, the lookback,
the symbol and the bar interval. Bars of another interval are refused (windows are counted in bars),
and so are another symbol's unless asked for. Prediction rebuilds features and windows from the bars exactly as in training (the same
library functions, the same float32 arrays) and drops bars without the lookback's history.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hetstack.errors import DataError
from hetstack import paths
from hetstack.io import read_json, write_json

log = logging.getLogger("hetstack")

SETTINGS_VERSION = 3  # 2: symbol checked, bar_interval_seconds; 3: regime_window


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


def write_run_settings(out_path: str, *, symbol: str, horizon: int, bases: list[str], metas: list[str],
                       adapters: dict, features_meta_path: str, splits_path: str, bars_path: str,
                       vol_window: int, config_digest: str, regime_window: int = 1440) -> dict:
    """What `predict_bars` needs to rebuild a run's inputs; small JSON beside the run's outputs."""
    from hetstack.io import read_parquet
    from hetstack.catalogue import canonical_name

    features = read_json(features_meta_path)
    splits = read_json(splits_path)
    settings = {
        "settings_version": SETTINGS_VERSION,
        "symbol": symbol,
        "bar_interval_seconds": bar_interval_seconds(read_parquet(bars_path, columns=["timestamp"])["timestamp"]),
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


def predict_bars(run_dir: str | Path, bars: pd.DataFrame, meta: str | None = None, *, threads: int = 1,
                 source: str = "bars", symbol: str | None = None, allow_other_symbol: bool = False) -> pd.DataFrame:
    """Signals for every bar of `bars` that has the run's lookback of history before it.

    `symbol` names the bars' symbol (None: not checked); bars of another interval are always refused.
    Returns one row per scored bar: sample_id (position in `bars`), timestamp, prediction (-1/0/+1),
    prob_-1, prob_0, prob_+1, confidence. `meta` defaults to the run's first meta-learner.
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
    sample_ids = np.arange(lookback, len(bars), dtype=np.int64)
    if not len(sample_ids):
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
            columns.append(model.predict(adapter.rows(sample_ids)).probabilities)
            log.info("predict: %s scored %d bars", base, len(sample_ids))
            del adapter, model
    from hetstack.regime import meta_inputs, regime_rows

    regime = regime_rows(bars, sample_ids, int(settings["regime_window"])) if meta_model.reads_regime else None
    out = meta_model.predict(meta_inputs(meta_model, np.hstack(columns).astype(np.float64), regime))
    frame = pd.DataFrame({"sample_id": sample_ids, "timestamp": bars["timestamp"].to_numpy()[sample_ids]})
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["prediction"] = np.asarray(out.predictions).astype(np.int8)
    for col, values in zip(PROB_COLUMNS, out.probabilities.T):
        frame[col] = values
    frame["confidence"] = out.confidence
    return frame
