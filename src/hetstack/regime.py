"""Causal regime features of each bar: the market state a regime-aware meta-learner conditions on.

They read a longer window than any base's inputs (the bases' widest is 240 bars), so the meta sees
the slow state (calm or volatile, trending or not) that the bases average over. Row t uses bars
t - window .. t only; rows before `window` are NaN. The same function serves the workflow
(rule fit_meta and the report) and `hetstack predict` (the window is stored in run_settings.json).
"""

from __future__ import annotations

import numpy as np

# pandas is imported where used: the meta-learners import this module, and planning imports them

REGIME_FEATURES = ("log_realized_vol", "efficiency_ratio", "time_of_day_sin", "time_of_day_cos")
DEFAULT_WINDOW = 1440  # one day of 1-minute bars


def regime_features(bars, window: int = DEFAULT_WINDOW) -> np.ndarray:
    """(n_bars, 4) float64 in REGIME_FEATURES order.

    log_realized_vol: log of the RMS 1-bar log return over the last `window` bars.
    efficiency_ratio: |sum of those returns| / sum of their absolute values, in [0, 1]
    (1: a straight trend, 0: all noise; Kaufman's efficiency ratio).
    time_of_day: the bar's UTC time of day on the circle (constant on daily bars).
    """
    import pandas as pd

    from hetstack.rolling import RETURN_EPS

    window = int(window)
    if window < 2:
        raise ValueError("regime window must be >= 2 bars")
    log_close = np.log(bars["close"].to_numpy(np.float64))
    returns = np.diff(log_close, prepend=np.nan)
    sum_sq = _window_sum(returns**2, window)
    realized = np.sqrt(sum_sq / window)
    log_vol = np.log(np.maximum(realized, RETURN_EPS))
    efficiency = np.abs(_window_sum(returns, window)) / np.maximum(_window_sum(np.abs(returns), window), RETURN_EPS)
    ns = pd.DatetimeIndex(bars["timestamp"]).as_unit("ns").asi8
    angle = 2.0 * np.pi * ((ns // (60 * 10**9)) % 1440) / 1440.0
    out = np.column_stack([log_vol, efficiency, np.sin(angle), np.cos(angle)])
    out[:window] = np.nan  # the first window's returns include the undefined return of bar 0
    return out


def _window_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing sums, each summed afresh over its own window: no running total, so a row's value
    is the same however much history comes before it (live prediction passes less)."""
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        out[window - 1:] = np.lib.stride_tricks.sliding_window_view(x, window).sum(axis=1)
    return out


def regime_rows(bars, sample_ids: np.ndarray, window: int) -> np.ndarray:
    """Regime features of the given sample ids (bar positions); refuses ids without the window."""
    sample_ids = np.asarray(sample_ids, dtype=np.int64)
    if len(sample_ids) and sample_ids.min() < window:
        raise ValueError(f"sample {int(sample_ids.min())} has less than the regime window of {window} bars behind it")
    return regime_features(bars, window)[sample_ids]


def meta_inputs(model, probabilities: np.ndarray, regime: np.ndarray | None) -> np.ndarray:
    """The meta-learner's input: its bases' probabilities, plus the regime columns when it reads them."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not getattr(model, "reads_regime", False):
        return probabilities
    if regime is None:
        raise ValueError(f"{model.name} reads regime features, but none were given")
    return np.hstack([probabilities, np.asarray(regime, dtype=np.float64)])
