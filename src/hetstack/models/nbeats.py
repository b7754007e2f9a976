"""N-BEATS (generic blocks, adapted to classification) base on (N, T, F) sequence windows; see
hetstack.nn.nbeats for what is kept from the paper and what is adapted."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="nbeats", family="mlp", input_kind="sequence")
class NBeatsModel(TorchModel):
    # the paper uses 512 units, 4 layers and up to 30 stacks; smaller by default for CPU training
    architecture_params = {"projection": 8, "stacks": 2, "blocks": 2, "layers": 4, "units": 128,
                           "forecast_size": 16, "share_weights": False, "dropout": 0.1}

    def build_backbone(self, input_shape):
        from hetstack.nn.nbeats import NBeats

        return NBeats(n_features=input_shape[-1], seq_len=input_shape[0],
                      **{k: self.params[k] for k in self.architecture_params})
