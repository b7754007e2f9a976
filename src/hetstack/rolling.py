"""Causal rolling statistics for the features: row i reads a bounded past x[i - w + 1 .. i] only, and is
NaN until that window is complete. Exponential averages are truncated (see truncated_ewm)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

EMA_TAIL = 1e-3  # share of an infinite EMA's weight beyond its truncated window
RETURN_EPS = 1e-10
PRICE_EPS = 1e-12


def lag(x: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return x
    out = np.empty_like(x, dtype=np.float64)
    out[:k] = np.nan
    out[k:] = x[:-k]
    return out


def lag_diff(x: np.ndarray, k: int) -> np.ndarray:
    return x - lag(x, k)


def rolling(x: np.ndarray, w: int):
    return pd.Series(x).rolling(w, min_periods=w)


def rmean(x, w):
    return rolling(x, w).mean().to_numpy()


def rsum(x, w):
    return rolling(x, w).sum().to_numpy()


def rstd(x, w):
    return rolling(x, w).std(ddof=0).to_numpy()


def rmax(x, w):
    return rolling(x, w).max().to_numpy()


def rmin(x, w):
    return rolling(x, w).min().to_numpy()


def truncated_window(alpha: float, ema_tail: float = EMA_TAIL) -> int:
    """Bars an EMA of smoothing `alpha` keeps: all but `ema_tail` of its weight."""
    return int(np.ceil(np.log(ema_tail) / np.log1p(-alpha)))


def ema_window(span: int) -> int:
    return truncated_window(2.0 / (span + 1.0))


def wilder_window(period: int) -> int:
    return truncated_window(1.0 / period)


def truncated_ewm(x: np.ndarray, alpha: float) -> np.ndarray:
    """EMA over a fixed window, weights renormalized: row i reads x[i - L + 1 .. i] only, so its
    value is the same whatever came before (a recursive EMA remembers the first bar forever).
    NaN until a window of finite x."""
    window = truncated_window(alpha)
    weights = (1.0 - alpha) ** np.arange(window)  # newest bar first
    weights /= weights.sum()
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        out[window - 1:] = np.convolve(x, weights, mode="valid")  # direct sums, not FFT: exact per row
    return out


def ema(x, span):
    return truncated_ewm(x, 2.0 / (span + 1.0))


def wilder(x, period):
    return truncated_ewm(x, 1.0 / period)


def zscore(x, w):
    return (x - rmean(x, w)) / np.maximum(rstd(x, w), 1e-6)


def stochastic(c, h, l, w):
    highest, lowest = rmax(h, w), rmin(l, w)
    return (c - lowest) / np.maximum(highest - lowest, PRICE_EPS * c)


def window_view(x: np.ndarray, w: int) -> np.ndarray:
    """(N, w) trailing windows; rows before w-1 are NaN-padded."""
    padded = np.concatenate([np.full(w - 1, np.nan), x])
    return sliding_window_view(padded, w)


def rolling_mean_abs_dev(x: np.ndarray, w: int) -> np.ndarray:
    windows = window_view(x, w)
    return np.abs(windows - windows.mean(axis=1, keepdims=True)).mean(axis=1)


def aroon(h: np.ndarray, l: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Aroon over w+1 bars: 1 when the extreme is the current bar, 0 when it is w bars old."""
    n = len(h)
    up, down = np.full(n, np.nan), np.full(n, np.nan)
    if n > w:
        # Reversed windows so argmax/argmin pick the most recent extreme on ties.
        highs = sliding_window_view(h, w + 1)[:, ::-1]
        lows = sliding_window_view(l, w + 1)[:, ::-1]
        up[w:] = 1.0 - np.argmax(highs, axis=1) / w
        down[w:] = 1.0 - np.argmin(lows, axis=1) / w
    return up, down


def rolling_skew_kurt(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Skew and excess kurtosis from trailing raw moments (pandas' skew/kurt are not bitwise causal)."""
    m1, m2, m3, m4 = (rmean(x**p, w) for p in (1, 2, 3, 4))
    var = np.maximum(m2 - m1 * m1, 0.0)
    mu3 = m3 - 3.0 * m1 * m2 + 2.0 * m1**3
    mu4 = m4 - 4.0 * m1 * m3 + 6.0 * m1 * m1 * m2 - 3.0 * m1**4
    var_floor = np.maximum(var, RETURN_EPS**2)
    skew = mu3 / var_floor**1.5
    kurt = np.where(var > RETURN_EPS**2, mu4 / var_floor**2 - 3.0, 0.0)
    kurt[np.isnan(m4)] = np.nan
    return skew, kurt


def rolling_corr(x: np.ndarray, y: np.ndarray, w: int) -> np.ndarray:
    mx, my = rmean(x, w), rmean(y, w)
    cov = rmean(x * y, w) - mx * my
    var_x = np.maximum(rmean(x * x, w) - mx * mx, 0.0)
    var_y = np.maximum(rmean(y * y, w) - my * my, 0.0)
    denom = np.sqrt(var_x * var_y)
    return np.clip(cov / np.maximum(denom, 1e-30), -1.0, 1.0)
