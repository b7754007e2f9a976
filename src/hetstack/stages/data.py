"""Stage functions of rules/data.smk: bars (user file or synthetic), feature rows, multi-timeframe bars."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from hetstack.io import read_parquet, write_json
from hetstack.tables import write_npy_checked

log = logging.getLogger("hetstack")


@dataclass(frozen=True)
class SyntheticSettings:
    """The embedded market's settings (config key `synthetic`, and `seed`)."""

    n_bars: int
    seed: int
    effect_strength: float = 1.0
    effects: dict | None = None  # interaction / motif / trend / regime -> its own strength (1 when absent; regime 0)


def prepare_bars(symbol: str, data_file: str | None, out_path: str, synthetic: SyntheticSettings) -> pd.DataFrame:
    """Validated user bars when a data file exists, else the seeded synthetic market."""
    from hetstack.data import read_bars, write_bars

    if data_file:
        bars = read_bars(data_file)
        log.info("%s: read %d bars from %s", symbol, len(bars), data_file)
    else:
        from hetstack.synthetic import generate_market

        s = synthetic
        strengths = {f"{name}_strength": float(value) for name, value in (s.effects or {}).items()}
        bars = generate_market(symbol, s.n_bars, seed=s.seed, effect_strength=s.effect_strength, **strengths)
        log.info("%s: generated %d synthetic bars (seed %d, effect strength %g, effects %s)", symbol, len(bars),
                 s.seed, s.effect_strength, s.effects or "all at 1")
    write_bars(out_path, bars)
    return bars


def build_features(bars_path: str, out_array: str, out_meta: str) -> None:
    from hetstack.features import compute_features, feature_settings

    bars = read_parquet(bars_path)
    features, names, warmup = compute_features(bars)
    write_npy_checked(out_array, features)
    write_json(out_meta, {"names": names, "warmup": int(warmup), "n_bars": len(bars),
                          "n_features": len(names), "dtype": str(features.dtype), "settings": feature_settings()})
    log.info("features: %d bars x %d features, warmup %d", len(bars), len(names), warmup)


def build_multires(bars_path: str, out_array: str, timeframes: list[int]) -> None:
    from hetstack.adapters import build_multires_bars

    bars = read_parquet(bars_path)
    write_npy_checked(out_array, build_multires_bars(bars, timeframes))
    log.info("multires: %d bars x timeframes %s", len(bars), timeframes)
