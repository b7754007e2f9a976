"""PatchTST (Nie et al., ICLR 2023) on multi-resolution windows (B, TF, T, 5).

Each (timeframe, OHLCV channel) series is patched and encoded on its own by a shared Transformer
(channel independence); the head reads all channels. See hetstack.nn.patchtst.
"""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="patchtst", family="transformer", input_kind="multires")
class PatchTSTModel(TorchModel):
    architecture_params = {"patch_len": 8, "stride": 4, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 64,
                           "dropout": 0.1, "head_dropout": 0.0, "pooling": "flatten", "norm": "batch",
                           "revin": False}

    def build_backbone(self, input_shape):
        from hetstack.nn.patchtst import PatchTST

        return PatchTST(n_timeframes=input_shape[0], seq_len=input_shape[1], n_channels=input_shape[2],
                        **{k: self.params[k] for k in self.architecture_params})
