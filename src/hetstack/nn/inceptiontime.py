"""InceptionTime (Ismail Fawaz et al., 2020, "InceptionTime: Finding AlexNet for Time Series
Classification").

Each inception module: a 1x1 bottleneck convolution, three parallel convolutions of decreasing
kernel length (kernel_size // 2**i, made odd for symmetric "same" padding, as the reference code
does with 39/19/9), and a max-pool (3, stride 1) branch followed by a 1x1 convolution; the four
branches are concatenated, batch-normalized and ReLU'd. A residual shortcut (1x1 conv + BN) is
added every 3 modules; global average pooling over time feeds a linear 3-class head. The paper
ensembles 5 such networks; one network is built here (the stack is itself an ensemble).
"""

from __future__ import annotations

import torch
from torch import nn


class InceptionModule(nn.Module):
    def __init__(self, c_in: int, n_filters: int, kernel_size: int, bottleneck: int):
        super().__init__()
        use_bottleneck = bottleneck > 0 and c_in > 1
        self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False) if use_bottleneck else nn.Identity()
        width = bottleneck if use_bottleneck else c_in
        kernels = [max(1, kernel_size // 2 ** i) for i in range(3)]
        kernels = [k - 1 if k % 2 == 0 else k for k in kernels]  # odd: symmetric padding
        self.convs = nn.ModuleList(nn.Conv1d(width, n_filters, k, padding=k // 2, bias=False) for k in kernels)
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(c_in, n_filters, 1, bias=False)
        self.bn = nn.BatchNorm1d(4 * n_filters)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.bottleneck(x)
        branches = [conv(z) for conv in self.convs] + [self.pool_conv(self.pool(x))]
        return self.relu(self.bn(torch.cat(branches, dim=1)))


class Shortcut(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class InceptionTime(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, n_filters: int = 32, depth: int = 6, kernel_size: int = 40,
                 bottleneck: int = 32, residual: bool = True, dropout: float = 0.0, n_classes: int = 3):
        super().__init__()
        width = 4 * n_filters
        self.inception = nn.ModuleList(
            InceptionModule(n_features if d == 0 else width, n_filters, kernel_size, bottleneck)
            for d in range(depth))
        self.residual = residual
        # one shortcut per group of 3 modules, from the group's input to its output
        self.shortcuts = nn.ModuleList(
            Shortcut(n_features if g == 0 else width, width) for g in range(depth // 3)) if residual else None
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)  # (B, F, T)
        group_input = h
        for d, module in enumerate(self.inception):
            h = module(h)
            if self.residual and d % 3 == 2:
                h = self.relu(h + self.shortcuts[d // 3](group_input))
                group_input = h
        return self.head(self.dropout(h.mean(dim=2)))
