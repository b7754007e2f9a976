"""Time-series ResNet (Wang, Yan & Oates, 2017, "Time Series Classification from Scratch with Deep
Neural Networks: A Strong Baseline").

Three residual blocks; each block is three convolutions of kernel length 8, 5 and 3 ("same"
padding), each followed by batch norm (and ReLU, the last one after the residual sum). The
shortcut is a 1x1 convolution + BN where the width changes, else BN alone. Global average pooling
over time feeds a linear 3-class head. The paper's widths 64/128/128 are this class's defaults; the
registered base (hetstack.models.resnet1d) defaults to narrower ones for CPU training.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel_sizes: Sequence[int]):
        super().__init__()
        layers = []
        for i, k in enumerate(kernel_sizes):
            k = int(k)  # "same" padding, the extra zero on the right for even kernels (as Keras does)
            layers += [nn.ConstantPad1d(((k - 1) // 2, k // 2), 0.0), nn.Conv1d(c_in if i == 0 else c_out, c_out, k),
                       nn.BatchNorm1d(c_out)]
            if i < len(kernel_sizes) - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.Conv1d(c_in, c_out, 1), nn.BatchNorm1d(c_out)) if c_in != c_out \
            else nn.BatchNorm1d(c_out)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet1D(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, channels: Sequence[int] = (64, 128, 128),
                 kernel_sizes: Sequence[int] = (8, 5, 3), dropout: float = 0.0, n_classes: int = 3):
        super().__init__()
        widths = [n_features, *[int(c) for c in channels]]
        self.blocks = nn.Sequential(*[ResidualBlock(widths[i], widths[i + 1], kernel_sizes)
                                      for i in range(len(channels))])
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(widths[-1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(x.transpose(1, 2))  # (B, C, T)
        return self.head(self.dropout(h.mean(dim=2)))
