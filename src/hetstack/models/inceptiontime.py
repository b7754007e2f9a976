"""InceptionTime base on (N, T, F) sequence windows; see hetstack.nn.inceptiontime."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="inceptiontime", family="cnn", input_kind="sequence")
class InceptionTimeModel(TorchModel):
    # the paper uses 32 filters and bottleneck 32; halved for CPU training
    architecture_params = {"n_filters": 16, "depth": 6, "kernel_size": 40, "bottleneck": 16, "residual": True,
                           "dropout": 0.0}

    def build_backbone(self, input_shape):
        from hetstack.nn.inceptiontime import InceptionTime

        return InceptionTime(n_features=input_shape[-1], **{k: self.params[k] for k in self.architecture_params})
