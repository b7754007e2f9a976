"""Time-series ResNet base on (N, T, F) sequence windows; see hetstack.nn.resnet1d."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="resnet1d", family="cnn", input_kind="sequence")
class ResNet1DModel(TorchModel):
    # the paper's widths are 64/128/128; narrower by default for CPU training
    architecture_params = {"channels": [32, 64, 64], "kernel_sizes": [8, 5, 3], "dropout": 0.0}

    def build_backbone(self, input_shape):
        from hetstack.nn.resnet1d import ResNet1D

        return ResNet1D(n_features=input_shape[-1], **{k: self.params[k] for k in self.architecture_params})
