"""GRU base on (N, T, F) sequence windows; see hetstack.nn.rnn."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="gru", family="neural", input_kind="sequence")
class GRUModel(TorchModel):
    architecture_params = {"hidden_size": 64, "num_layers": 1, "dropout": 0.1, "bidirectional": False}

    def build_backbone(self, input_shape):
        from hetstack.nn.rnn import RNNClassifier

        return RNNClassifier(n_features=input_shape[-1], cell="gru", **{k: self.params[k] for k in self.architecture_params})
