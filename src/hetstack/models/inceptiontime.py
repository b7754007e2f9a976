"""InceptionTime base on (N, T, F) sequence windows; see hetstack.nn.inceptiontime."""

from __future__ import annotations

from hetstack.models.registry import register
from hetstack.models.torch_base import TorchModel


@register(name="inceptiontime", family="cnn", input_kind="sequence")
class InceptionTimeModel(TorchModel):
    # the paper: 32 filters, bottleneck 32, kernel_size 40 (kernels 39/19/9, sized for UCR series of
    # hundreds of steps); halved here for CPU training and windows of 32-120 bars (kernels 19/9/5)
    architecture_params = {"n_filters": 16, "depth": 6, "kernel_size": 20, "bottleneck": 16, "residual": True,
                           "dropout": 0.0}

    def build_backbone(self, input_shape):
        from hetstack.nn.inceptiontime import InceptionTime

        return InceptionTime(n_features=input_shape[-1], **{k: self.params[k] for k in self.architecture_params})
