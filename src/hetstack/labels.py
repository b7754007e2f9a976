"""Triple-barrier labels and sample-uniqueness weights (Lopez de Prado, AFML ch. 3-4).

Conventions: a sample id is a bar position in the symbol's bar array; t0 = sample id and
t1 = the bar at which the label resolves, t0 < t1 <= t0 + horizon.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import ConfigError, DataError

# Rows per vectorized chunk are chosen so one chunk holds about this many path cells.
_CELLS_PER_CHUNK = 1 << 20


@dataclass
class LabelResult:
    """Per-bar label outputs, all of length N (one entry per bar, i.e. per sample id)."""

    label: np.ndarray  # int8 in {-1, 0, +1}; 0 where invalid
    t1: np.ndarray  # int64 bar where the label resolves; t0 + horizon where invalid
    valid: np.ndarray  # bool
    forward_return: np.ndarray  # float64 log(close[t0+horizon]/close[t0]); NaN where invalid
    barrier: np.ndarray  # float64 half-width in log-return units; NaN where sigma undefined


def _check_int(value, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(
            f"config: {key}",
            f"must be an integer >= {minimum}, got {value!r}",
            f"set {key} to an integer >= {minimum}",
        )
    return int(value)


def _check_close(close) -> np.ndarray:
    close = np.asarray(close, dtype=np.float64)
    if close.ndim != 1:
        raise DataError("bars: close", f"must be 1-D, got shape {close.shape}", "pass one symbol's close column")
    bad = ~np.isfinite(close) | (close <= 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            "bars: close",
            f"{int(bad.sum())} non-finite or non-positive closes (first at bar {first})",
            "drop or repair those bars before labelling",
        )
    return close


def rolling_sigma(log_close: np.ndarray, vol_window: int) -> np.ndarray:
    """Causal std (ddof=1) of the last `vol_window` 1-bar log returns ending at each bar.

    Bar i uses returns r_{i-vol_window+1..i} with r_k = log_close[k] - log_close[k-1], so it needs
    i >= vol_window; earlier bars get NaN. Two-pass std per window (exact, no running-sum drift).
    """
    n = log_close.shape[0]
    sigma = np.full(n, np.nan)
    if n <= vol_window:
        return sigma
    returns = np.diff(log_close)  # returns[k-1] is the return of bar k
    windows = sliding_window_view(returns, vol_window)  # windows[w] ends at return of bar w + vol_window
    rows = max(1, _CELLS_PER_CHUNK // vol_window)
    for start in range(0, windows.shape[0], rows):
        block = windows[start : start + rows]
        sigma[vol_window + start : vol_window + start + block.shape[0]] = block.std(axis=1, ddof=1)
    return sigma


def triple_barrier(close: np.ndarray, horizon: int, barrier_k: float, vol_window: int) -> LabelResult:
    """Label every bar with the triple-barrier method on the close-to-close path.

    Only closes are used: the path after bar i is close[i+1..i+horizon], so an intrabar high/low
    that touches a barrier but closes back inside does not count (no look at unknown intrabar order).

    sigma_i = std (ddof=1) of the last `vol_window` 1-bar log returns ending at bar i (causal:
    uses closes[i-vol_window..i] only); barrier_i = barrier_k * sigma_i * sqrt(horizon) in
    log-return units. For j = 1..horizon, c_ij = log(close[i+j] / close[i]); the label is +1 if
    c_ij >= barrier_i happens first, -1 if c_ij <= -barrier_i happens first, else 0 (vertical
    barrier). t1 = i + j of the first touch, else i + horizon.

    valid is False where i + horizon > N - 1 (path incomplete) or sigma_i is undefined or zero;
    there label = 0, t1 = i + horizon (may exceed N - 1) and forward_return = NaN.
    """
    horizon = _check_int(horizon, "horizons", 1)  # a top-level list in the config
    vol_window = _check_int(vol_window, "labels.vol_window", 2)
    if (
        isinstance(barrier_k, bool)
        or not isinstance(barrier_k, numbers.Real)
        or not np.isfinite(barrier_k)
        or barrier_k <= 0
    ):
        raise ConfigError(
            "config: labels.barrier_k",
            f"must be a finite number > 0, got {barrier_k!r}",
            "set labels.barrier_k to a positive number such as 1.0",
        )
    close = _check_close(close)
    n = close.shape[0]
    log_close = np.log(close)

    sigma = rolling_sigma(log_close, vol_window)
    sigma_ok = np.isfinite(sigma) & (sigma > 0)
    barrier = np.where(sigma_ok, float(barrier_k) * sigma * np.sqrt(horizon), np.nan)

    ids = np.arange(n, dtype=np.int64)
    label = np.zeros(n, dtype=np.int8)
    t1 = ids + horizon
    forward_return = np.full(n, np.nan)
    valid = sigma_ok & (ids + horizon <= n - 1)

    n_complete = max(0, n - horizon)  # bars i with a full path i..i+horizon
    if n_complete:
        paths = sliding_window_view(log_close, horizon + 1)  # paths[i] = log_close[i..i+horizon]
        rows = max(1, _CELLS_PER_CHUNK // (horizon + 1))
        for start in range(0, n_complete, rows):
            stop = min(start + rows, n_complete)
            block_valid = valid[start:stop]
            if not block_valid.any():
                continue
            block = paths[start:stop]
            cum = block[:, 1:] - block[:, :1]  # c_ij for j = 1..horizon
            width = barrier[start:stop, None]
            # NaN widths compare False, so rows without sigma touch nothing; they are masked below.
            hit_up = cum >= width
            hit_down = cum <= -width
            first_up = np.where(hit_up.any(axis=1), hit_up.argmax(axis=1), horizon)
            first_down = np.where(hit_down.any(axis=1), hit_down.argmax(axis=1), horizon)
            # A barrier > 0 cannot be hit both ways at the same j, so ties only mean "no touch".
            block_label = np.where(first_up < first_down, 1, np.where(first_down < first_up, -1, 0))
            first_touch = np.minimum(first_up, first_down)  # index j-1, or horizon when none
            block_t1 = ids[start:stop] + np.minimum(first_touch + 1, horizon)
            label[start:stop] = np.where(block_valid, block_label, 0)
            t1[start:stop] = np.where(block_valid, block_t1, ids[start:stop] + horizon)
            forward_return[start:stop] = np.where(block_valid, cum[:, -1], np.nan)

    return LabelResult(label=label, t1=t1, valid=valid, forward_return=forward_return, barrier=barrier)


def average_uniqueness(t0: np.ndarray, t1: np.ndarray, n_bars: int) -> np.ndarray:
    """AFML 4.4 average uniqueness of each label, normalized to mean 1.

    Label i spans bars (t0_i, t1_i]. Concurrency c_t = number of labels whose span contains bar t;
    uniqueness_i = mean over t in (t0_i, t1_i] of 1 / c_t. Computed with a difference array for
    c_t and a prefix sum of 1/c_t, so the cost is O(N + n_bars).
    """
    t0 = np.asarray(t0, dtype=np.int64)
    t1 = np.asarray(t1, dtype=np.int64)
    if t0.shape != t1.shape or t0.ndim != 1:
        raise DataError("labels: t0/t1", f"shapes differ or are not 1-D: {t0.shape} vs {t1.shape}", "pass matching 1-D arrays")
    if t0.size == 0:
        return np.zeros(0, dtype=np.float64)
    if (t1 <= t0).any() or (t0 < 0).any() or (t1 > n_bars - 1).any():
        raise DataError(
            "labels: t0/t1",
            f"every span needs 0 <= t0 < t1 <= n_bars-1 = {n_bars - 1}",
            "pass only valid labels (LabelResult.valid) and the symbol's bar count",
        )
    starts = np.zeros(n_bars + 1, dtype=np.int64)
    np.add.at(starts, t0 + 1, 1)
    np.add.at(starts, t1 + 1, -1)
    concurrency = np.cumsum(starts[:n_bars])
    inverse = np.zeros(n_bars, dtype=np.float64)
    covered = concurrency > 0
    inverse[covered] = 1.0 / concurrency[covered]
    prefix = np.cumsum(inverse)  # prefix[k] = sum_{t <= k} 1/c_t
    uniqueness = (prefix[t1] - prefix[t0]) / (t1 - t0)
    return uniqueness / uniqueness.mean()
