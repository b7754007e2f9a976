"""Adapters turn sample ids into the input shape a base model reads.

All adapters index the same memory-mapped feature array by sample id (bar position), so every
base sees the same samples. Tabular: one feature row per sample, 2D (N, F).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import load_npy


class TabularAdapter:
    input_kind = "tabular"

    def __init__(self, features_path: str | Path):
        self.features = load_npy(features_path, mmap=True)

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    def rows(self, sample_ids: np.ndarray) -> np.ndarray:
        """(len(sample_ids), F) float32; reads only the requested rows from the map."""
        return np.asarray(self.features[np.asarray(sample_ids, dtype=np.int64)])


ADAPTERS = {"tabular": TabularAdapter}


def make_adapter(input_kind: str, features_path: str | Path):
    try:
        return ADAPTERS[input_kind](features_path)
    except KeyError:
        raise ValueError(f"no adapter for input kind {input_kind!r}; have {sorted(ADAPTERS)}") from None
