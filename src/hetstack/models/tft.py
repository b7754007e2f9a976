"""Temporal Fusion Transformer (Lim et al., 2021), compact, on multi-resolution windows (B, TF, T, 5).

The TF * 4 values of step t are the observed inputs of step t (timeframes aligned by index);
variable selection, LSTM encoder, gated skips, interpretable attention, GRN and a 3-logit head on
the last step. No static or known-future inputs. See hetstack.nn.tft.
"""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="tft", family="transformer", input_kind="multires")
class TFTModel(TorchModel):
    architecture_params = {"d_model": 32, "n_heads": 4, "lstm_layers": 1, "dropout": 0.1}

    def build_backbone(self, input_shape):
        from hetstack.nn.tft import TemporalFusionTransformer

        return TemporalFusionTransformer(n_timeframes=input_shape[0], seq_len=input_shape[1],
                                         n_channels=input_shape[2],
                                         **{k: self.params[k] for k in self.architecture_params})
