"""Stage functions of rules/data.smk: bars (user file or synthetic), feature rows, multi-timeframe bars."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

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
    effects: dict | None = None  # effect name -> its own strength, over the market's (synthetic.market_strengths)
    market: str = "heterogeneous"  # a named set of strengths: hetstack.synthetic.MARKETS (DEFAULT_MARKET)


def prepare_bars(symbol: str, data_file: str | None, out_path: str, synthetic: SyntheticSettings,
                 source_path: str | None = None) -> pd.DataFrame:
    """Validated user bars when a data file exists, else the seeded synthetic market.

    With `source_path`, also writes where the bars came from (bars_source_record) there; a failure
    leaves neither file.
    """
    from hetstack.data import read_bars, write_bars

    if data_file:
        bars = read_bars(data_file)
        log.info("%s: read %d bars from %s", symbol, len(bars), data_file)
    else:
        from hetstack.synthetic import generate_market, market_strengths

        s = synthetic
        strengths = market_strengths(s.market, s.effects)
        bars = generate_market(symbol, s.n_bars, seed=s.seed, effect_strength=s.effect_strength,
                               **{f"{name}_strength": value for name, value in strengths.items()})
        log.info("%s: generated %d synthetic bars (seed %d, %s market, effect strength %g, effects %s)", symbol,
                 len(bars), s.seed, s.market, s.effect_strength, strengths)
    record = bars_source_record(symbol, data_file, synthetic, bars) if source_path else None
    write_bars(out_path, bars)
    if record is not None:
        try:
            write_json(source_path, record)
        except BaseException:
            Path(out_path).unlink(missing_ok=True)  # bars without their source would look complete
            raise
    return bars


def bars_source_record(symbol: str, data_file: str | None, synthetic: SyntheticSettings,
                       bars: pd.DataFrame) -> dict:
    """Where a symbol's bars came from (results/{symbol}/bars_source.json): the data file and its
    SHA-256, or the synthetic market's settings; then the bars' span, interval and unexpected gaps."""
    from hetstack.data import iso_utc, unexpected_gaps
    from hetstack.predict import bar_interval_seconds

    if data_file:
        from hetstack.stages.manifest import file_record

        record = {"kind": "file", **file_record(data_file), "path": str(data_file)}
        record["description"] = f"file {data_file} (sha256 {record['sha256'][:12]})"
    else:
        from hetstack.synthetic import market_strengths

        s = synthetic
        record = {"kind": "synthetic", "seed": int(s.seed), "symbol": symbol, "market": s.market,
                  "effect_strength": float(s.effect_strength), "effects": market_strengths(s.market, s.effects),
                  "description": f"synthetic {s.market} market, seed {s.seed} (symbol {symbol}): not market data"}
    timestamps = bars["timestamp"]
    return {**record, "n_bars": len(bars), "first": iso_utc(timestamps.iloc[0]), "last": iso_utc(timestamps.iloc[-1]),
            "bar_interval_seconds": bar_interval_seconds(timestamps) if len(bars) > 1 else None,
            "gaps": unexpected_gaps(timestamps)}


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
