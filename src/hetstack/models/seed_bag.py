"""Seed bagging: one base fitted K times on the same rows with seeds seed, seed + 1000, ... and its
probabilities averaged, as one base (model_params.<base>.seed_bag: K). Seeds move a booster's column
and row sampling and a network's initialization and batch order; their average has less variance.
Not a registered model: it wraps members of one registered class and saves them side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hetstack.models.base import BaseModel, PredictionOutput

BAG_KEY = "seed_bag"  # in model_params (how many seeds) and in a bag's model.json
SEED_STRIDE = 1000  # member i gets seed + 1000 i: clear of the replicates' seed + r


class SeedBag:
    """K fitted members of one base class; predicts their mean probability."""

    def __init__(self, members: list[BaseModel]):
        if not members or len({m.name for m in members}) != 1:
            raise ValueError("a seed bag holds two or more fits of one base")
        self.members = list(members)
        self.name, self.family, self.input_kind = members[0].name, members[0].family, members[0].input_kind

    def predict(self, X) -> PredictionOutput:
        return PredictionOutput.from_probabilities(np.mean([m.predict(X).probabilities for m in self.members], axis=0))

    def save(self, path: str | Path) -> None:
        from hetstack.io import write_json

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for i, member in enumerate(self.members):
            member.save(path / f"member{i}")
        write_json(path / "model.json", {"name": self.name, "family": self.family, "input_kind": self.input_kind,
                                         BAG_KEY: len(self.members), "seeds": [m.seed for m in self.members]})

    @classmethod
    def load(cls, path: str | Path, member_cls: type[BaseModel], threads: int = 1) -> "SeedBag":
        """The bag saved in `path`, whose members are `member_cls` (hetstack.catalogue.load_model finds it)."""
        path = Path(path)
        header = json.loads((path / "model.json").read_text())
        return cls([member_cls.load(path / f"member{i}", threads=threads) for i in range(int(header[BAG_KEY]))])


def fit_bag(make, fit, n_seeds: int, seed: int):
    """`n_seeds` members: make(seed) -> an unfitted model, fit(model) -> its metrics; one model when 1."""
    members = []
    for i in range(n_seeds):
        model = make(seed + SEED_STRIDE * i)
        fit(model)
        members.append(model)
    return members[0] if n_seeds == 1 else SeedBag(members)
