"""Small MLP meta-learner: n_bases*3 -> 32 -> 16 -> 3 (ReLU, dropout 0.3 / 0.2) on the OOF probabilities.

Trained with hetstack.nn.training.fit_network (AdamW, sample-weighted cross-entropy, early stopping on the
validation rows when given, else a fixed number of epochs). The inputs pass through the Classifier's
Standardize layer, whose statistics come from the training rows and travel in the state dict.
Contributions: permutation importance of each base's three columns (see PermutationImportanceMeta).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack.io import read_json, write_json
from hetstack.meta.base import PermutationImportanceMeta
from hetstack.models.base import softmax
from hetstack.models.registry import register


@register(name="meta_mlp", family="inference", input_kind="meta", aliases=("mlp_meta",))
class MLPMeta(PermutationImportanceMeta):
    fits_on_holdout = True  # early stopping
    default_params = {
        "hidden": [32, 16],
        "dropout": [0.3, 0.2],
        "epochs": 100,  # the maximum with a validation slice (early stopping), the exact count without
        "patience": 10,
        "batch_size": 256,
        "lr": 1e-3,
        "weight_decay": 1e-2,
        "balance_classes": False,  # keep the meta's probabilities on the label frequencies
        "importance_repeats": 5,
    }

    def _network(self, n_inputs: int):
        from torch import nn

        from hetstack.nn.training import Classifier

        hidden, dropout = list(self.params["hidden"]), list(self.params["dropout"])
        if len(hidden) != len(dropout):
            raise ValueError(f"{self.name}: 'hidden' {hidden} and 'dropout' {dropout} must have the same length")
        layers, width = [], n_inputs
        for units, rate in zip(hidden, dropout):
            layers += [nn.Linear(width, int(units)), nn.ReLU(), nn.Dropout(float(rate))]
            width = int(units)
        layers.append(nn.Linear(width, 3))
        return Classifier(nn.Sequential(*layers), n_channels=n_inputs)

    def _fit_model(self, X, y, X_val, y_val, sample_weight):
        import torch

        from hetstack.nn.training import fit_network

        torch.set_num_threads(self.threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
        X = np.asarray(X, dtype=np.float32)
        if X_val is not None:
            X_val = np.asarray(X_val, dtype=np.float32)
        self.n_inputs_ = int(X.shape[1])
        torch.manual_seed(self.seed)
        self.network_ = self._network(self.n_inputs_)
        p = self.params
        result = fit_network(self.network_, X, y, sample_weight, X_val, y_val, epochs=int(p["epochs"]),
                             batch_size=int(p["batch_size"]), lr=float(p["lr"]),
                             weight_decay=float(p["weight_decay"]), patience=int(p["patience"]), seed=self.seed,
                             device=torch.device("cpu"), balance_classes=bool(p["balance_classes"]))
        self.network_.eval()
        return result.best_epoch

    def _predict_proba(self, X):
        import torch

        from hetstack.nn.training import predict_logits

        torch.set_num_threads(self.threads)
        X = np.asarray(X, dtype=np.float32)
        return softmax(predict_logits(self.network_, X, 4096, torch.device("cpu")))

    def _save(self, path: Path) -> None:
        import torch

        write_json(path / "network.json", {"n_inputs": self.n_inputs_})
        torch.save(self.network_.state_dict(), path / "weights.pt")

    def _load(self, path: Path) -> None:
        import torch

        self.n_inputs_ = int(read_json(path / "network.json")["n_inputs"])
        self.network_ = self._network(self.n_inputs_)
        state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)  # never unpickles code
        self.network_.load_state_dict(state)
        self.network_.eval()
