"""Adapters: shapes, one sample index for all of them, and windows that are views, not copies."""

import tracemalloc

import numpy as np
import pytest

from hetstack.adapters import (MultiResAdapter, SequenceAdapter, TabularAdapter, WindowSet, build_multires_bars,
                               make_adapter, multires_lookback)
from hetstack.features import compute_features
from hetstack.io import write_npy
from hetstack.stages.labels import sample_lookback
from hetstack.synthetic import generate_market

ADAPTERS = {"sequence": {"seq_len": 16}, "multires": {"timeframes": [1, 5, 15], "seq_len": 12}}


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    path = tmp_path_factory.mktemp("arrays")
    bars = generate_market("ADP", 3000, seed=3)
    features, _, warmup = compute_features(bars)
    write_npy(path / "features.npy", features)
    write_npy(path / "multires.npy", build_multires_bars(bars, ADAPTERS["multires"]["timeframes"]))
    return path, bars, features, warmup


def adapters_for(path):
    return {kind: make_adapter(kind, features_path=path / "features.npy", multires_path=path / "multires.npy",
                               **ADAPTERS) for kind in ("tabular", "sequence", "multires")}


def test_each_adapter_gives_its_shape(arrays):
    path, _, features, warmup = arrays
    ids = np.arange(500, 700)
    adapters = adapters_for(path)
    assert isinstance(adapters["tabular"], TabularAdapter)
    assert adapters["tabular"].rows(ids).shape == (200, features.shape[1])
    windows = adapters["sequence"].rows(ids)
    assert windows.shape == (200, 16, features.shape[1])
    assert windows.batch(np.arange(10)).shape == (10, 16, features.shape[1])
    multires = adapters["multires"].rows(ids)
    assert multires.shape == (200, 3, 12, 5)  # OHLC and volume
    assert multires.batch(np.arange(7)).shape == (7, 3, 12, 5)


def test_a_window_ends_at_its_sample_and_holds_the_last_t_rows(arrays):
    path, _, features, _ = arrays
    windows = SequenceAdapter(path / "features.npy", seq_len=16).rows(np.array([400, 1234]))
    batch = windows.batch(np.array([0, 1]))
    np.testing.assert_array_equal(batch[0], features[385:401])
    np.testing.assert_array_equal(batch[1, -1], features[1234])


def test_one_sample_index_serves_every_adapter(arrays):
    """From the common lookback on, every adapter gives finite inputs; one bar earlier, one does not."""
    path, _, _, warmup = arrays
    lookback = sample_lookback(warmup, 60, ADAPTERS)
    assert lookback == max(warmup + 16 - 1, multires_lookback([1, 5, 15], 12), 60)
    ids = np.arange(lookback, 2900)
    for kind, adapter in adapters_for(path).items():
        rows = adapter.rows(ids)
        data = rows if isinstance(rows, np.ndarray) else rows.batch(np.arange(len(ids)))
        assert np.isfinite(data).all(), kind
    early = np.array([lookback - 1])
    broken = 0
    for adapter in adapters_for(path).values():
        try:
            rows = adapter.rows(early)
            data = rows if isinstance(rows, np.ndarray) else rows.batch(np.arange(1))
            broken += not np.isfinite(data).all()
        except ValueError:
            broken += 1
    assert broken >= 1


def test_multires_refuses_samples_without_full_history(arrays):
    path = arrays[0]
    adapter = MultiResAdapter(path / "multires.npy", timeframes=[1, 5, 15], seq_len=12)
    with pytest.raises(ValueError, match="history"):
        adapter.rows(np.array([multires_lookback([1, 5, 15], 12) - 1]))


def test_iterating_all_windows_never_materializes_them(tmp_path):
    n, t, f = 20_000, 120, 180
    features = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n, f))
    features[:] = np.random.default_rng(0).normal(size=(n, f)).astype(np.float32)
    features.flush()
    del features
    adapter = SequenceAdapter(tmp_path / "big.npy", seq_len=t)
    ids = np.arange(t - 1, n)
    full_bytes = len(ids) * t * f * 4  # what materialized (N, T, F) windows would take: ~1.7 GB
    tracemalloc.start()
    windows: WindowSet = adapter.rows(ids)
    checksum = 0.0
    for start in range(0, len(windows), 256):
        checksum += float(windows.batch(np.arange(start, min(start + 256, len(windows))))[:, -1, 0].sum())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.05 * full_bytes, f"peak {peak / 1e6:.0f} MB vs {full_bytes / 1e6:.0f} MB materialized"
    reference = np.load(tmp_path / "big.npy", mmap_mode="r")[ids, 0].sum(dtype=np.float64)
    assert checksum == pytest.approx(reference, rel=1e-4)
