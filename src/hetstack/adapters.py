"""Adapters turn sample ids into the input shape a base model reads.

Every adapter indexes by sample id (= bar position), so all bases see the same samples:
- tabular   2D (N, F): the feature row of each sample;
- sequence  3D (N, T, F): the last T feature rows up to and including the sample's bar;
- multires  4D (N, TF, T, 5): for each timeframe tf, the last T tf-bars that have closed at or
  before the sample's bar: OHLC as log returns in units of the window's volatility, and volume.

Sequence and multires sets are lazy: they hold the memory-mapped array and the sample ids, and only
a batch of windows is ever copied out (`batch(positions)`), never the whole (N, T, F) tensor.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from hetstack.io import load_npy


class TabularAdapter:
    input_kind = "tabular"

    def __init__(self, features_path: str | Path, **_):
        self.features = load_npy(features_path, mmap=True)

    def rows(self, sample_ids: np.ndarray) -> np.ndarray:
        """(len(sample_ids), F) float32; reads only the requested rows from the map."""
        return np.asarray(self.features[np.asarray(sample_ids, dtype=np.int64)])


class WindowSet:
    """Lazy (N, T, F): window k is features[ids[k] - T + 1 : ids[k] + 1]."""

    def __init__(self, features: np.ndarray, sample_ids: np.ndarray, seq_len: int):
        self.sample_ids = np.asarray(sample_ids, dtype=np.int64)
        if len(self.sample_ids) and self.sample_ids.min() < seq_len - 1:
            raise ValueError(f"sample {self.sample_ids.min()} has fewer than seq_len={seq_len} bars of history")
        self.features = features
        self.seq_len = seq_len
        self._steps = np.arange(-seq_len + 1, 1, dtype=np.int64)  # offsets of a window's rows, oldest first
        self.shape = (len(self.sample_ids), seq_len, features.shape[1])

    def __len__(self) -> int:
        return len(self.sample_ids)

    def batch(self, positions: np.ndarray) -> np.ndarray:
        """(B, T, F) float32, gathered from the map in one copy."""
        ends = self.sample_ids[np.asarray(positions, dtype=np.int64)]
        return self.features[ends[:, None] + self._steps[None, :]]


ROWS_PER_CHUNK = 4096  # flat_windows builds lazy windows a chunk at a time


def flat_windows(windows) -> np.ndarray:
    """(N, prod(window shape)) float32 of a lazy window set (WindowSet, MultiResSet) or an array of
    windows: one column per value, for learners that read a window as one long row."""
    if isinstance(windows, np.ndarray):
        return windows.reshape(len(windows), -1).astype(np.float32, copy=False)
    n = len(windows)
    width = int(np.prod(windows.shape[1:]))
    out = np.empty((n, width), dtype=np.float32)
    for start in range(0, n, ROWS_PER_CHUNK):
        stop = min(start + ROWS_PER_CHUNK, n)
        out[start:stop] = windows.batch(np.arange(start, stop)).reshape(stop - start, width)
    return out


def subset(windows, positions: np.ndarray):
    """The samples at `positions` of an array or of a lazy window set, which stays lazy."""
    positions = np.asarray(positions, dtype=np.int64)
    if isinstance(windows, np.ndarray):
        return windows[positions]
    part = copy.copy(windows)
    part.sample_ids = windows.sample_ids[positions]
    part.shape = (len(positions), *windows.shape[1:])
    return part


CHUNK_VALUES = 50_000_000  # values in one flattened chunk: about 200 MB of float32


def chunk_rows(windows, max_values: int = CHUNK_VALUES) -> int:
    """Samples per flattened chunk of at most `max_values` values (at least 1)."""
    return max(1, int(max_values) // max(1, int(np.prod(windows.shape[1:]))))


def map_flat(fn, windows, max_values: int = CHUNK_VALUES) -> np.ndarray:
    """fn over the flattened samples of `windows`, a chunk at a time, results stacked by row: a full-size
    window set flattened at once would be (N, T x F), tens of GB."""
    n, rows = len(windows), chunk_rows(windows, max_values)
    if n <= rows:
        return fn(flat_windows(windows))
    return np.concatenate([fn(flat_windows(subset(windows, np.arange(start, min(n, start + rows)))))
                           for start in range(0, n, rows)])


class SequenceAdapter:
    input_kind = "sequence"

    def __init__(self, features_path: str | Path, seq_len: int, **_):
        self.features = load_npy(features_path, mmap=True)
        self.seq_len = int(seq_len)

    def rows(self, sample_ids: np.ndarray) -> WindowSet:
        return WindowSet(self.features, sample_ids, self.seq_len)


MULTIRES_CHANNELS = ("open", "high", "low", "close", "volume")
WINDOW_CLIP = 10.0  # vol units: a window of near-flat prices cannot blow a batch up


def build_multires_bars(bars, timeframes: list[int]) -> np.ndarray:
    """(TF, n_bars, 5) float32: OHLC and summed volume of the tf-bar made of bars j - tf + 1 .. j.

    A tf-bar ending at bar j has closed at j, so gathering those ending at or before a sample's bar
    is causal by construction. Rows j < tf - 1 (not enough bars yet) are NaN.
    """
    import pandas as pd

    out = np.full((len(timeframes), len(bars), len(MULTIRES_CHANNELS)), np.nan, dtype=np.float32)
    high, low = pd.Series(bars["high"].to_numpy(np.float64)), pd.Series(bars["low"].to_numpy(np.float64))
    volume = pd.Series(bars["volume"].to_numpy(np.float64))
    open_, close = bars["open"].to_numpy(np.float64), bars["close"].to_numpy(np.float64)
    for k, tf in enumerate(timeframes):
        out[k, tf - 1:, 0] = open_[: len(bars) - tf + 1]
        out[k, :, 1] = high.rolling(tf, min_periods=tf).max().to_numpy()
        out[k, :, 2] = low.rolling(tf, min_periods=tf).min().to_numpy()
        out[k, :, 3] = close
        out[k, : tf - 1, 3] = np.nan
        out[k, :, 4] = volume.rolling(tf, min_periods=tf).sum().to_numpy()
    return out


def multires_lookback(timeframes: list[int], seq_len: int) -> int:
    """First sample id whose every timeframe has seq_len complete tf-bars and the close before them."""
    return int(max(timeframes)) * (int(seq_len) + 1) - 1


class MultiResSet:
    """Lazy (N, TF, T, 5): for timeframe tf, tf-bar t (t = T-1 newest) ends at bar id - (T-1-t) * tf.

    Channels, per timeframe and in units of that timeframe's volatility within the window (the RMS
    of its T close-to-close log returns): open, high, low and close as log ratios to the previous
    tf-bar's close; then log(1 + volume) minus its window mean. Returns, not price levels relative
    to the last close: levels put the newest bars near 0 and shrink them after standardization,
    although they carry most of a short-horizon signal; and effects scale with volatility.
    """

    def __init__(self, ohlc: np.ndarray, timeframes: list[int], sample_ids: np.ndarray, seq_len: int):
        self.sample_ids = np.asarray(sample_ids, dtype=np.int64)
        lookback = multires_lookback(timeframes, seq_len)
        if len(self.sample_ids) and self.sample_ids.min() < lookback:
            raise ValueError(f"sample {self.sample_ids.min()} has fewer than {lookback} bars of history")
        self.ohlc = ohlc
        self.seq_len = int(seq_len)
        steps = np.arange(self.seq_len, -1, -1, dtype=np.int64)  # T tf-bars and the one before them
        self._offsets = np.asarray(timeframes, dtype=np.int64)[:, None] * steps[None, :]  # (TF, T + 1)
        self._tf_index = np.arange(len(timeframes))[:, None]
        self.shape = (len(self.sample_ids), len(timeframes), self.seq_len, ohlc.shape[-1])

    def __len__(self) -> int:
        return len(self.sample_ids)

    def batch(self, positions: np.ndarray) -> np.ndarray:
        ids = self.sample_ids[np.asarray(positions, dtype=np.int64)]
        ends = ids[:, None, None] - self._offsets[None]  # (B, TF, T + 1) bar where each tf-bar closes
        windows = self.ohlc[self._tf_index[None], ends].astype(np.float64)  # (B, TF, T + 1, 5)
        log_price = np.log(windows[..., :4])
        moves = log_price[:, :, 1:] - log_price[:, :, :-1, 3:4]  # against the previous tf-bar's close
        sigma = np.sqrt(np.mean(moves[..., 3] ** 2, axis=2, keepdims=True))[..., None]
        moves = np.clip(moves / np.maximum(sigma, 1e-12), -WINDOW_CLIP, WINDOW_CLIP)
        log_volume = np.log1p(windows[:, :, 1:, 4:5])
        out = np.concatenate([moves, log_volume - log_volume.mean(axis=2, keepdims=True)], axis=-1)
        return out.astype(np.float32)


class MultiResAdapter:
    input_kind = "multires"

    def __init__(self, multires_path: str | Path, timeframes: list[int], seq_len: int, **_):
        self.ohlc = load_npy(multires_path, mmap=True)
        self.timeframes = [int(t) for t in timeframes]
        self.seq_len = int(seq_len)

    def rows(self, sample_ids: np.ndarray) -> MultiResSet:
        return MultiResSet(self.ohlc, self.timeframes, sample_ids, self.seq_len)


ADAPTERS = {"tabular": TabularAdapter, "sequence": SequenceAdapter, "multires": MultiResAdapter}


def make_adapter(input_kind: str, **settings):
    """settings: features_path, multires_path, seq_len, timeframes (each adapter takes what it needs)."""
    if input_kind not in ADAPTERS:
        raise ValueError(f"no adapter for input kind {input_kind!r}; have {sorted(ADAPTERS)}")
    kind_settings = dict(settings.get(input_kind) or {})
    return ADAPTERS[input_kind](**{k: v for k, v in settings.items() if k not in ADAPTERS}, **kind_settings)
