"""About 180 causal, scale-free indicator features per 1-minute bar.

Row i uses only a bounded past: trailing rolling windows, lags, exponential averages truncated
after EMA_TAIL of their weight, and a session clock capped at a day. Never centered windows,
backfills, whole-series normalization or anything counted from the first bar given, so a row's
value does not depend on how much history was passed in (live prediction computes the same
numbers as training). Rows before `warmup` may be NaN; every row from `warmup` on is finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hetstack.rolling import (
    EMA_TAIL,
    PRICE_EPS,
    RETURN_EPS,
    aroon,
    ema,
    ema_window,
    lag,
    lag_diff,
    rmax,
    rmean,
    rmin,
    rolling_corr,
    rolling_mean_abs_dev,
    rolling_skew_kurt,
    rstd,
    rsum,
    stochastic,
    wilder,
    wilder_window,
    zscore,
)

FEATURE_VERSION = "2"

RETURN_LAGS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240)
VOL_WINDOWS = (5, 10, 20, 60, 120, 240)
VOL_RATIOS = ((5, 60), (10, 60), (20, 120), (60, 240))
RETURN_Z_LAGS = (1, 2, 3, 5, 10, 20, 30, 60, 120, 240)
NORM_VOL_WINDOW = 60  # the vol that standardizes returns, candles and distances
RSI_PERIODS = (7, 14, 21, 50)
MACD_SETTINGS = ((12, 26, 9), (5, 35, 5))
BOLLINGER_WINDOWS = (10, 20, 50, 100)
ATR_PERIODS = (5, 14, 50, 100)
STOCHASTIC_SETTINGS = ((14, 3), (50, 3))
WILLIAMS_WINDOWS = (10, 30, 100)
CCI_WINDOWS = (20, 50)
ROC_PERIODS = (12, 25, 50)
MA_WINDOWS = (5, 10, 20, 50, 100, 200)
MA_DISTANCE_WINDOWS = (10, 20, 50)
RETURN_LAGS_SEQUENCE = 20
VOLUME_Z_LAGS = 10
CANDLE_LAGS = 3
MOMENT_WINDOWS = (20, 60, 240)
AROON_WINDOWS = (25, 50)
EFFICIENCY_WINDOWS = (10, 20, 60)
PARKINSON_WINDOWS = (10, 20, 60)
VOLUME_Z_WINDOWS = (10, 20, 60, 240)
VOLUME_RATIO_WINDOWS = (5, 20, 60)
OBV_WINDOWS = (10, 20, 60)
RANGE_WINDOWS = (20, 60, 240)
UP_FRACTION_WINDOWS = (10, 20, 60)
VOLUME_CORR_WINDOWS = (20, 60)
AUTOCORR_WINDOW = 60
SIGNED_VOLUME_LAGS = 4
EXTREME_RETURN_WINDOWS = (10, 30)
SESSION_GAP_MINUTES = 30
SESSION_CAP_MINUTES = 1440  # the session clock saturates after a day: 24/7 feeds read a constant

# Floors that keep ratios finite on flat prices or zero volume. Log-return vol is dimensionless,
# so an absolute floor is relative to scale; price-level floors are multiplied by the price.
VOLUME_EPS = 1e-9


def feature_settings() -> dict:
    """Version and windows, stored beside the feature array so a change invalidates the cache."""
    return {
        "version": FEATURE_VERSION,
        "return_lags": list(RETURN_LAGS),
        "vol_windows": list(VOL_WINDOWS),
        "vol_ratios": [list(p) for p in VOL_RATIOS],
        "return_z_lags": list(RETURN_Z_LAGS),
        "norm_vol_window": NORM_VOL_WINDOW,
        "rsi_periods": list(RSI_PERIODS),
        "macd_settings": [list(s) for s in MACD_SETTINGS],
        "bollinger_windows": list(BOLLINGER_WINDOWS),
        "atr_periods": list(ATR_PERIODS),
        "stochastic_settings": [list(s) for s in STOCHASTIC_SETTINGS],
        "williams_windows": list(WILLIAMS_WINDOWS),
        "cci_windows": list(CCI_WINDOWS),
        "roc_periods": list(ROC_PERIODS),
        "ma_windows": list(MA_WINDOWS),
        "ma_distance_windows": list(MA_DISTANCE_WINDOWS),
        "return_lags_sequence": RETURN_LAGS_SEQUENCE,
        "volume_z_lags": VOLUME_Z_LAGS,
        "candle_lags": CANDLE_LAGS,
        "moment_windows": list(MOMENT_WINDOWS),
        "aroon_windows": list(AROON_WINDOWS),
        "efficiency_windows": list(EFFICIENCY_WINDOWS),
        "parkinson_windows": list(PARKINSON_WINDOWS),
        "volume_z_windows": list(VOLUME_Z_WINDOWS),
        "volume_ratio_windows": list(VOLUME_RATIO_WINDOWS),
        "obv_windows": list(OBV_WINDOWS),
        "range_windows": list(RANGE_WINDOWS),
        "up_fraction_windows": list(UP_FRACTION_WINDOWS),
        "volume_corr_windows": list(VOLUME_CORR_WINDOWS),
        "autocorr_window": AUTOCORR_WINDOW,
        "signed_volume_lags": SIGNED_VOLUME_LAGS,
        "extreme_return_windows": list(EXTREME_RETURN_WINDOWS),
        "session_gap_minutes": SESSION_GAP_MINUTES,
        "session_cap_minutes": SESSION_CAP_MINUTES,
        "ema_tail": EMA_TAIL,
    }


class _Columns:
    """Collects float32 columns with the first row at which each is defined."""

    def __init__(self, n: int):
        self.n = n
        self.names: list[str] = []
        self.values: list[np.ndarray] = []
        self.first_valid: list[int] = []

    def add(self, name: str, values: np.ndarray, first_valid: int) -> None:
        assert values.shape == (self.n,), name
        self.names.append(name)
        self.values.append(np.asarray(values, dtype=np.float32))
        self.first_valid.append(int(first_valid))


def compute_features(bars: pd.DataFrame) -> tuple[np.ndarray, list[str], int]:
    """Return (features float32 C-contiguous (N, F), names, warmup) for normalized bars."""
    missing = [c for c in ("timestamp", "open", "high", "low", "close", "volume") if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack column(s) {', '.join(missing)}; pass bars from hetstack.data.read_bars")
    o = bars["open"].to_numpy(dtype=np.float64)
    h = bars["high"].to_numpy(dtype=np.float64)
    l = bars["low"].to_numpy(dtype=np.float64)
    c = bars["close"].to_numpy(dtype=np.float64)
    v = bars["volume"].to_numpy(dtype=np.float64)
    n = len(c)
    cols = _Columns(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _build(cols, bars["timestamp"], o, h, l, c, v)

    out = np.empty((n, len(cols.names)), dtype=np.float32)
    for j, column in enumerate(cols.values):
        out[:, j] = column
    warmup = min(max(cols.first_valid), n)
    return out, cols.names, warmup


def _build(cols: _Columns, timestamps: pd.Series, o, h, l, c, v) -> None:
    """Every feature column, in a fixed order (the models' column order)."""
    log_c, log_h, log_l, log_o = np.log(c), np.log(h), np.log(l), np.log(o)
    r1 = lag_diff(log_c, 1)  # first valid row 1
    log_v = np.log1p(v)
    volume_z = {w: zscore(log_v, w) for w in VOLUME_Z_WINDOWS}
    x = _Inputs(o=o, h=h, l=l, c=c, v=v, log_c=log_c, log_h=log_h, log_l=log_l, log_o=log_o, r1=r1,
                vol={w: np.maximum(rstd(r1, w), RETURN_EPS) for w in VOL_WINDOWS}, log_v=log_v,
                volume_z=volume_z, vz=volume_z[NORM_VOL_WINDOW], abs_r1=np.abs(r1))
    _add_returns(cols, x)
    _add_oscillators(cols, x)
    _add_averages_and_recent_bars(cols, x)
    _add_shape_and_volume(cols, x)
    _add_calendar_range_and_flow(cols, x, timestamps)


@dataclass
class _Inputs:
    """Arrays every feature group reads (float64, one value per bar)."""

    o: np.ndarray
    h: np.ndarray
    l: np.ndarray
    c: np.ndarray
    v: np.ndarray
    log_c: np.ndarray
    log_h: np.ndarray
    log_l: np.ndarray
    log_o: np.ndarray
    r1: np.ndarray  # 1-bar log return, NaN at row 0
    vol: dict  # window -> rolling sd of r1
    log_v: np.ndarray
    volume_z: dict  # window -> z-score of log volume
    vz: np.ndarray  # volume z-score over NORM_VOL_WINDOW
    abs_r1: np.ndarray

    @property
    def norm_vol(self) -> np.ndarray:
        return self.vol[NORM_VOL_WINDOW]


def _add_returns(cols: _Columns, x: _Inputs) -> None:
    """Returns over many horizons, volatilities and their ratios."""
    log_c, vol, norm_vol = x.log_c, x.vol, x.norm_vol
    nv0 = NORM_VOL_WINDOW  # first valid row of norm_vol
    # Returns over many horizons, raw and in vol units.
    returns = {k: lag_diff(log_c, k) for k in sorted(set(RETURN_LAGS) | set(RETURN_Z_LAGS))}
    for k in RETURN_LAGS:
        cols.add(f"ret_{k}", returns[k], k)
    for w in VOL_WINDOWS:
        cols.add(f"vol_{w}", vol[w], w)
    for short, long in VOL_RATIOS:
        cols.add(f"vol_ratio_{short}_{long}", vol[short] / vol[long], long)
    for k in RETURN_Z_LAGS:
        cols.add(f"ret_z_{k}", returns[k] / (norm_vol * np.sqrt(k)), max(k, nv0))


def _add_oscillators(cols: _Columns, x: _Inputs) -> None:
    """RSI, MACD, Bollinger, ATR, stochastics, Williams %R, CCI, rate of change."""
    h, l, c, r1 = x.h, x.l, x.c, x.r1
    # Oscillators.
    gain, loss = np.where(r1 > 0, r1, 0.0), np.where(r1 < 0, -r1, 0.0)
    gain[0] = loss[0] = np.nan
    for p in RSI_PERIODS:
        up, down = wilder(gain, p), wilder(loss, p)
        cols.add(f"rsi_{p}", 0.5 * (up - down) / np.maximum(up + down, RETURN_EPS), wilder_window(p))
    for fast, slow, signal in MACD_SETTINGS:
        line = (ema(c, fast) - ema(c, slow)) / c
        sig = ema(line, signal)
        first = ema_window(slow) - 1 + ema_window(signal) - 1
        cols.add(f"macd_{fast}_{slow}", line, ema_window(slow) - 1)
        cols.add(f"macd_signal_{fast}_{slow}_{signal}", sig, first)
        cols.add(f"macd_hist_{fast}_{slow}_{signal}", line - sig, first)
    for w in BOLLINGER_WINDOWS:
        mean, std = rmean(c, w), rstd(c, w)
        width = 4.0 * std
        cols.add(f"bb_pctb_{w}", (c - (mean - 2.0 * std)) / np.maximum(width, PRICE_EPS * c), w - 1)
        cols.add(f"bb_width_{w}", width / mean, w - 1)
    prev_c = lag(c, 1)
    true_range = np.maximum(h - l, np.maximum(np.abs(h - prev_c), np.abs(l - prev_c)))  # NaN at row 0
    for p in ATR_PERIODS:
        cols.add(f"atr_{p}", wilder(true_range, p) / c, wilder_window(p))
    for w, smooth in STOCHASTIC_SETTINGS:
        k = stochastic(c, h, l, w)
        cols.add(f"stoch_k_{w}", k, w - 1)
        cols.add(f"stoch_d_{w}_{smooth}", rmean(k, smooth), w - 1 + smooth - 1)
    for w in WILLIAMS_WINDOWS:
        cols.add(f"williams_r_{w}", stochastic(c, h, l, w) - 1.0, w - 1)
    typical = (h + l + c) / 3.0
    for w in CCI_WINDOWS:
        mean = rmean(typical, w)
        mad = rolling_mean_abs_dev(typical, w)
        cols.add(f"cci_{w}", (typical - mean) / np.maximum(0.015 * mad, PRICE_EPS * typical) / 100.0, w - 1)
    for p in ROC_PERIODS:
        cols.add(f"roc_{p}", c / lag(c, p) - 1.0, p)


def _add_averages_and_recent_bars(cols: _Columns, x: _Inputs) -> None:
    """Distances from moving averages, and the last bars one by one (the raw material of motifs)."""
    c, log_c, log_h, log_l, log_o, r1, norm_vol, vz = x.c, x.log_c, x.log_h, x.log_l, x.log_o, x.r1, x.norm_vol, x.vz
    nv0 = NORM_VOL_WINDOW  # first valid row of norm_vol
    # Distance of close from moving averages.
    for w in MA_WINDOWS:
        cols.add(f"close_sma_{w}", log_c - np.log(rmean(c, w)), w - 1)
    for w in MA_WINDOWS:
        cols.add(f"close_ema_{w}", log_c - np.log(ema(c, w)), ema_window(w) - 1)
    for w in MA_DISTANCE_WINDOWS:
        cols.add(f"close_sma_z_{w}", (log_c - rmean(log_c, w)) / (norm_vol * np.sqrt(w)), max(w - 1, nv0))

    # Recent bars one by one, standardized by the current vol (the raw material of motifs).
    for k in range(1, RETURN_LAGS_SEQUENCE + 1):
        cols.add(f"ret_z_lag_{k}", lag(r1, k) / norm_vol, max(k + 1, nv0))
    for k in range(1, VOLUME_Z_LAGS + 1):
        cols.add(f"volume_z_{NORM_VOL_WINDOW}_lag_{k}", lag(vz, k), NORM_VOL_WINDOW - 1 + k)
    body = (log_c - log_o) / norm_vol
    upper = (log_h - np.maximum(log_o, log_c)) / norm_vol
    lower = (np.minimum(log_o, log_c) - log_l) / norm_vol
    for k in range(CANDLE_LAGS + 1):
        cols.add(f"candle_body_lag_{k}", lag(body, k), nv0 + k)
        cols.add(f"candle_upper_lag_{k}", lag(upper, k), nv0 + k)
        cols.add(f"candle_lower_lag_{k}", lag(lower, k), nv0 + k)
    cols.add("candle_range", (log_h - log_l) / norm_vol, nv0)


def _add_shape_and_volume(cols: _Columns, x: _Inputs) -> None:
    """Moments, Aroon, efficiency, Parkinson volatility and volume."""
    h, l, v, log_c, log_h, log_l, r1 = x.h, x.l, x.v, x.log_c, x.log_h, x.log_l, x.r1
    vol, log_v, volume_z, abs_r1 = x.vol, x.log_v, x.volume_z, x.abs_r1
    # Shape of the return distribution and trend quality.
    for w in MOMENT_WINDOWS:
        skew, kurt = rolling_skew_kurt(r1, w)
        cols.add(f"skew_{w}", skew, w)
        cols.add(f"kurt_{w}", kurt, w)
    for w in AROON_WINDOWS:
        up, down = aroon(h, l, w)
        cols.add(f"aroon_up_{w}", up, w)
        cols.add(f"aroon_down_{w}", down, w)
    for w in EFFICIENCY_WINDOWS:
        path = np.maximum(rsum(abs_r1, w), RETURN_EPS)
        cols.add(f"efficiency_{w}", np.abs(lag_diff(log_c, w)) / path, w)
    hl2 = (log_h - log_l) ** 2
    parkinson = {w: np.sqrt(rmean(hl2, w) / (4.0 * np.log(2.0))) for w in PARKINSON_WINDOWS}
    for w in PARKINSON_WINDOWS:
        cols.add(f"parkinson_{w}", parkinson[w], w - 1)
    cols.add("parkinson_vol_ratio_20", parkinson[20] / vol[20], 20)

    # Volume.
    for w in VOLUME_Z_WINDOWS:
        cols.add(f"volume_z_{w}", volume_z[w], w - 1)
    volume_means = {w: rmean(v, w) for w in VOLUME_RATIO_WINDOWS}
    for w in VOLUME_RATIO_WINDOWS:
        cols.add(f"volume_ratio_{w}", log_v - np.log1p(volume_means[w]), w - 1)
    short_w, long_w = VOLUME_RATIO_WINDOWS[0], VOLUME_RATIO_WINDOWS[-1]
    cols.add(f"volume_ratio_{short_w}_{long_w}", np.log1p(volume_means[short_w]) - np.log1p(volume_means[long_w]),
             long_w - 1)
    signed_volume = np.sign(r1) * v  # NaN at row 0
    for w in OBV_WINDOWS:
        cols.add(f"obv_slope_{w}", rsum(signed_volume, w) / np.maximum(rsum(v, w), VOLUME_EPS), w)


def _add_calendar_range_and_flow(cols: _Columns, x: _Inputs, timestamps: pd.Series) -> None:
    """Calendar, position in the recent range, order flow and extreme returns."""
    h, l, log_c, r1, norm_vol, log_v, vz, abs_r1 = x.h, x.l, x.log_c, x.r1, x.norm_vol, x.log_v, x.vz, x.abs_r1
    nv0 = NORM_VOL_WINDOW  # first valid row of norm_vol
    # Time of day, week and session.
    for name, (values, first_valid) in _time_features(timestamps).items():
        cols.add(name, values, first_valid)

    # Where the close sits in its recent range, in vol units.
    for w in RANGE_WINDOWS:
        scale = norm_vol * np.sqrt(w)
        first = max(w - 1, nv0)
        cols.add(f"dist_high_{w}", (log_c - np.log(rmax(h, w))) / scale, first)
        cols.add(f"dist_low_{w}", (log_c - np.log(rmin(l, w))) / scale, first)
    up_bar = np.where(np.isnan(r1), np.nan, (r1 > 0).astype(np.float64))
    for w in UP_FRACTION_WINDOWS:
        cols.add(f"up_fraction_{w}", rmean(up_bar, w), w)
    for w in VOLUME_CORR_WINDOWS:
        cols.add(f"corr_absret_volume_{w}", rolling_corr(abs_r1, log_v, w), w)
    cols.add(f"autocorr_ret_{AUTOCORR_WINDOW}", rolling_corr(r1, lag(r1, 1), AUTOCORR_WINDOW), AUTOCORR_WINDOW + 1)
    signed_vz = np.sign(r1) * vz
    for k in range(SIGNED_VOLUME_LAGS + 1):
        cols.add(f"signed_volume_z_lag_{k}", lag(signed_vz, k), NORM_VOL_WINDOW - 1 + k)
    for w in EXTREME_RETURN_WINDOWS:
        first = max(w, nv0)
        cols.add(f"max_ret_z_{w}", rmax(r1, w) / norm_vol, first)
        cols.add(f"min_ret_z_{w}", rmin(r1, w) / norm_vol, first)


def _time_features(timestamps: pd.Series) -> dict[str, tuple[np.ndarray, int]]:
    """(values, first valid row) of the calendar features."""
    index = pd.DatetimeIndex(timestamps)
    if index.tz is None:
        raise ValueError("bar timestamps must be time-zone aware; pass bars from hetstack.data.read_bars")
    ns = index.tz_convert("UTC").as_unit("ns").asi8
    minute_ns, day_ns = 60 * 10**9, 86400 * 10**9
    minute_of_day = (ns // minute_ns) % 1440
    day_of_week = (ns // day_ns + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    gap = np.diff(ns, prepend=ns[:1]) > SESSION_GAP_MINUTES * minute_ns
    gap[:1] = True
    session_start = np.maximum.accumulate(np.where(gap, np.arange(len(ns)), 0))
    # Minutes since the session opened, capped at a day. Known once a session open has been seen
    # (bar 0 is no evidence of one) or a whole day of bars lies behind: never counted from the
    # first bar passed in, which would make it depend on the length of the history.
    cap_ns = SESSION_CAP_MINUTES * minute_ns
    known = (session_start > 0) | (ns - ns[0] >= cap_ns)
    session = np.where(known, np.minimum(ns - ns[session_start], cap_ns) / cap_ns, np.nan)
    first_session = int(np.argmax(known)) if known.any() else len(ns)
    tau = 2.0 * np.pi
    return {
        "time_of_day_sin": (np.sin(tau * minute_of_day / 1440.0), 0),
        "time_of_day_cos": (np.cos(tau * minute_of_day / 1440.0), 0),
        "day_of_week_sin": (np.sin(tau * day_of_week / 7.0), 0),
        "day_of_week_cos": (np.cos(tau * day_of_week / 7.0), 0),
        "session_minutes": (session, first_session),
    }
