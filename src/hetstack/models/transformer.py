"""Transformer-encoder base on (N, T, F) sequence windows; see hetstack.nn.transformer."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="transformer", family="transformer", input_kind="sequence")
class TransformerModel(TorchModel):
    # on CPU the cost is dominated by the (T, T) attention maps, i.e. by n_heads: 2 keeps it near the CNNs
    architecture_params = {"d_model": 64, "n_heads": 2, "n_layers": 2, "dim_feedforward": 128, "dropout": 0.1,
                           "positional": "sinusoidal", "pooling": "mean", "norm_first": True}

    def build_backbone(self, input_shape):
        from hetstack.nn.transformer import TransformerClassifier

        return TransformerClassifier(n_features=input_shape[-1], seq_len=input_shape[0],
                                     **{k: self.params[k] for k in self.architecture_params})
