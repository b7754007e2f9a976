"""iTransformer (Liu et al., ICLR 2024) on multi-resolution windows (B, TF, T, 5).

Each (timeframe, OHLCV channel) series becomes one token; attention runs across the TF * 5
variate tokens. See hetstack.nn.itransformer.
"""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="itransformer", family="transformer", input_kind="multires")
class ITransformerModel(TorchModel):
    architecture_params = {"d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 64, "dropout": 0.1,
                           "pooling": "flatten", "use_norm": False}

    def build_backbone(self, input_shape):
        from hetstack.nn.itransformer import ITransformer

        return ITransformer(n_timeframes=input_shape[0], seq_len=input_shape[1], n_channels=input_shape[2],
                            **{k: self.params[k] for k in self.architecture_params})
