"""Shared fit/predict/save for the PyTorch bases; each subclass only builds its backbone.

torch is imported inside methods so that registering the models stays cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


from hetstack.io import read_json, write_json
from hetstack.models.base import BaseModel, softmax


class TorchModel(BaseModel):
    training_params = {
        "epochs": 30,
        "batch_size": 256,
        "lr": 1e-3,
        "weight_decay": 1e-2,
        "patience": 5,
        "balance_classes": True,
        "device": "cpu",  # "cuda" or "auto" to use a GPU when one is present
    }
    architecture_params: dict = {}

    def __init__(self, params=None, *, seed: int = 0, threads: int = 1):
        self.default_params = {**self.training_params, **self.architecture_params}
        super().__init__(params, seed=seed, threads=threads)

    def build_backbone(self, input_shape: tuple[int, ...]):
        """Return an nn.Module mapping a batch of shape (B, *input_shape) to (B, 3) logits."""
        raise NotImplementedError

    def _network(self, input_shape):
        from hetstack.nn.training import Classifier

        return Classifier(self.build_backbone(tuple(input_shape)), input_shape=tuple(input_shape))

    def _setup_torch(self):
        import torch

        from hetstack.nn.training import resolve_device

        torch.set_num_threads(self.threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
        return resolve_device(self.params["device"])

    def _fit(self, X, y, X_val, y_val, sample_weight):
        import torch

        from hetstack.nn.training import fit_network

        device = self._setup_torch()
        torch.manual_seed(self.seed)
        self.network_ = self._network(self.input_shape_)
        p = self.params
        result = fit_network(self.network_, X, y, sample_weight, X_val, y_val, epochs=p["epochs"],
                             batch_size=p["batch_size"], lr=p["lr"], weight_decay=p["weight_decay"],
                             patience=p["patience"], seed=self.seed, device=device,
                             balance_classes=p["balance_classes"])
        self.network_.to("cpu")
        self.logit_offset_ = np.asarray(result.logit_offset, dtype=np.float64)
        return result.best_epoch

    def _predict_proba(self, X):
        import torch

        from hetstack.nn.training import predict_logits

        torch.set_num_threads(self.threads)
        logits = predict_logits(self.network_, X, int(self.params["batch_size"]), torch.device("cpu"))
        return softmax(logits + self.logit_offset_)

    def _save(self, path: Path) -> None:
        import torch

        write_json(path / "network.json", {"logit_offset": self.logit_offset_})  # the input shape is in model.json
        torch.save(self.network_.state_dict(), path / "weights.pt")

    def _load(self, path: Path) -> None:
        import torch

        header = read_json(path / "network.json")
        self.logit_offset_ = np.asarray(header["logit_offset"], dtype=np.float64)
        self.network_ = self._network(self.input_shape_)
        state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)  # never unpickles code
        self.network_.load_state_dict(state)
        self.network_.eval()
