"""Tables every stage shares: probability column names, the sample table of labels, folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.io import read_parquet



PROB_COLUMNS = [f"prob_{c:+d}" if c else "prob_0" for c in CLASSES]  # prob_-1, prob_0, prob_+1


def prob_columns(base: str) -> list[str]:
    """Column names of one base's probabilities in the meta matrix."""
    return [f"{base}__{c}" for c in PROB_COLUMNS]


@dataclass
class SampleTable:
    """Labels of the sample index, with lookups by sample id."""

    frame: pd.DataFrame

    def __post_init__(self):
        self.ids = self.frame["sample_id"].to_numpy(np.int64)

    @classmethod
    def read(cls, labels_path: str) -> "SampleTable":
        return cls(read_parquet(labels_path))

    def positions(self, sample_ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.ids, sample_ids)
        if len(sample_ids) and (pos.max() >= len(self.ids) or not np.array_equal(self.ids[pos], sample_ids)):
            raise ValueError("sample ids not in the label table")
        return pos

    def column(self, name: str, sample_ids: np.ndarray) -> np.ndarray:
        return self.frame[name].to_numpy()[self.positions(sample_ids)]

    def ids_of(self, split: str) -> np.ndarray:
        return self.ids[self.frame["split"].to_numpy() == split]


def load_folds(folds_path: str):
    from hetstack.cv import folds_from_table

    return folds_from_table(read_parquet(folds_path))


def write_npy_checked(path: str, array: np.ndarray) -> None:
    from hetstack.io import write_npy

    write_npy(path, array.astype(np.float32, copy=False))
