"""Temporal convolutional network base on (N, T, F) sequence windows; see hetstack.nn.tcn."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="tcn", family="cnn", input_kind="sequence")
class TCNModel(TorchModel):
    # receptive field 1 + 2 * (3 - 1) * (2**5 - 1) = 125 bars: covers seq_len up to 120
    architecture_params = {"channels": 32, "levels": 5, "kernel_size": 3, "dropout": 0.1, "weight_norm": True}

    def build_backbone(self, input_shape):
        from hetstack.nn.tcn import TCN

        return TCN(n_features=input_shape[-1], **{k: self.params[k] for k in self.architecture_params})
