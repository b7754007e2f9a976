"""Adapters turn sample ids into the input shape a base model reads.

Every adapter indexes by sample id (= bar position), so all bases see the same samples:
- tabular   2D (N, F): the feature row of each sample;
- sequence  3D (N, T, F): the last T feature rows up to and including the sample's bar;
- multires  4D (N, TF, T, 4): for each timeframe tf, the last T tf-bars (OHLC) that have closed
  at or before the sample's bar, as log ratios to the sample's close.

Sequence and multires sets are lazy: they hold the memory-mapped array and the sample ids, and only
a batch of windows is ever copied out (`batch(positions)`), never the whole (N, T, F) tensor.
"""

from __future__ import annotations

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


class SequenceAdapter:
    input_kind = "sequence"

    def __init__(self, features_path: str | Path, seq_len: int, **_):
        self.features = load_npy(features_path, mmap=True)
        self.seq_len = int(seq_len)

    def rows(self, sample_ids: np.ndarray) -> WindowSet:
        return WindowSet(self.features, sample_ids, self.seq_len)


def build_multires_bars(bars, timeframes: list[int]) -> np.ndarray:
    """(TF, n_bars, 4) float32: the OHLC of the tf-bar made of bars j - tf + 1 .. j, for every j.

    A tf-bar ending at bar j has closed at j, so gathering those ending at or before a sample's bar
    is causal by construction. Rows j < tf - 1 (not enough bars yet) are NaN.
    """
    import pandas as pd

    out = np.full((len(timeframes), len(bars), 4), np.nan, dtype=np.float32)
    high, low = pd.Series(bars["high"].to_numpy(np.float64)), pd.Series(bars["low"].to_numpy(np.float64))
    open_, close = bars["open"].to_numpy(np.float64), bars["close"].to_numpy(np.float64)
    for k, tf in enumerate(timeframes):
        out[k, tf - 1:, 0] = open_[: len(bars) - tf + 1]
        out[k, :, 1] = high.rolling(tf, min_periods=tf).max().to_numpy()
        out[k, :, 2] = low.rolling(tf, min_periods=tf).min().to_numpy()
        out[k, :, 3] = close
        out[k, : tf - 1, 3] = np.nan
    return out


def multires_lookback(timeframes: list[int], seq_len: int) -> int:
    """First sample id whose every timeframe has seq_len complete tf-bars."""
    return int(max(timeframes)) * int(seq_len) - 1


class MultiResSet:
    """Lazy (N, TF, T, 4): for timeframe tf, tf-bar t (t = T-1 newest) ends at bar id - (T-1-t) * tf."""

    def __init__(self, ohlc: np.ndarray, timeframes: list[int], sample_ids: np.ndarray, seq_len: int):
        self.sample_ids = np.asarray(sample_ids, dtype=np.int64)
        lookback = multires_lookback(timeframes, seq_len)
        if len(self.sample_ids) and self.sample_ids.min() < lookback:
            raise ValueError(f"sample {self.sample_ids.min()} has fewer than {lookback} bars of history")
        self.ohlc = ohlc
        self.seq_len = int(seq_len)
        steps = np.arange(self.seq_len - 1, -1, -1, dtype=np.int64)
        self._offsets = np.asarray(timeframes, dtype=np.int64)[:, None] * steps[None, :]  # (TF, T)
        self._tf_index = np.arange(len(timeframes))[:, None]
        self.shape = (len(self.sample_ids), len(timeframes), self.seq_len, 4)

    def __len__(self) -> int:
        return len(self.sample_ids)

    def batch(self, positions: np.ndarray) -> np.ndarray:
        ids = self.sample_ids[np.asarray(positions, dtype=np.int64)]
        ends = ids[:, None, None] - self._offsets[None]  # (B, TF, T) bar where each tf-bar closes
        windows = self.ohlc[self._tf_index[None], ends]  # (B, TF, T, 4)
        last_close = self.ohlc[0, ids, 3].astype(np.float64)[:, None, None, None]
        return np.log(windows / last_close).astype(np.float32)


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
