"""Temporal Convolutional Network (Bai, Kolter & Koltun, 2018, "An Empirical Evaluation of Generic
Convolutional and Recurrent Networks for Sequence Modeling").

Residual blocks of two dilated causal convolutions (weight-normalized, ReLU, dropout), dilation
doubling per level, 1x1 convolution on the skip path when the width changes. Causal padding means
the output at the newest step sees only the past; that step feeds a linear 3-class head. Receptive
field: 1 + 2 * (kernel_size - 1) * (2**levels - 1) bars.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm as _weight_norm


def _conv(c_in: int, c_out: int, kernel_size: int, dilation: int, weight_norm: bool) -> nn.Conv1d:
    conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)
    nn.init.normal_(conv.weight, 0.0, 0.01)  # as in the reference implementation
    return _weight_norm(conv) if weight_norm else conv


class TemporalBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float, weight_norm: bool):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation  # pad the past only: causal
        self.conv1 = _conv(c_in, c_out, kernel_size, dilation, weight_norm)
        self.conv2 = _conv(c_out, c_out, kernel_size, dilation, weight_norm)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.downsample = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(self.relu(self.conv1(nn.functional.pad(x, (self.left_pad, 0)))))
        out = self.dropout(self.relu(self.conv2(nn.functional.pad(out, (self.left_pad, 0)))))
        return self.relu(out + self.downsample(x))


class TCN(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, channels: int = 32, levels: int = 4, kernel_size: int = 3,
                 dropout: float = 0.1, weight_norm: bool = True, n_classes: int = 3):
        super().__init__()
        widths = [n_features] + [channels] * levels
        self.blocks = nn.Sequential(*[
            TemporalBlock(widths[i], widths[i + 1], kernel_size, 2 ** i, dropout, weight_norm)
            for i in range(levels)])
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(x.transpose(1, 2))  # convolutions read (B, F, T)
        return self.head(h[:, :, -1])
