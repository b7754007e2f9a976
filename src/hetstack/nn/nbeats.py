"""N-BEATS adapted to classification (Oreshkin et al., 2019, "N-BEATS: Neural basis expansion
analysis for interpretable time series forecasting"), generic architecture.

Kept from the paper: stacks of blocks; each block is a stack of fully connected ReLU layers whose
output is mapped by two linear "basis" layers to a backcast (same size as the block's input) and a
forecast; blocks are doubly residual: the next block reads input - backcast, and the network's
output is the sum of all block forecasts.

Adapted (the paper forecasts a univariate series from its own lookback window):
- the input is a multivariate (T, F) window. With `projection` > 0 each bar's F features are first
  mapped to `projection` values by one linear layer shared over time, and the (T, projection)
  result is flattened; with projection = 0 the raw window (T * F values) is flattened. That vector
  is what the blocks backcast.
- the summed "forecast" is a `forecast_size`-dim representation, not future values, and a linear
  head maps it to 3 class logits; training is by cross-entropy on the labels, not on a forecast.
- optional dropout inside the FC layers (the paper has none).
"""

from __future__ import annotations

import torch
from torch import nn


class NBeatsBlock(nn.Module):
    def __init__(self, input_size: int, units: int, layers: int, forecast_size: int, dropout: float):
        super().__init__()
        fc = []
        for i in range(layers):
            fc += [nn.Linear(input_size if i == 0 else units, units), nn.ReLU()]
            if dropout > 0:
                fc.append(nn.Dropout(dropout))
        self.fc = nn.Sequential(*fc)
        self.backcast = nn.Linear(units, input_size)  # generic basis: a learned linear map of theta
        self.forecast = nn.Linear(units, forecast_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.fc(x)
        return self.backcast(h), self.forecast(h)


class NBeats(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, seq_len: int, projection: int = 8, stacks: int = 2, blocks: int = 2,
                 layers: int = 4, units: int = 128, forecast_size: int = 16, share_weights: bool = False,
                 dropout: float = 0.1, n_classes: int = 3):
        super().__init__()
        self.project = nn.Linear(n_features, projection) if projection > 0 else nn.Identity()
        input_size = seq_len * (projection if projection > 0 else n_features)
        self.stacks = nn.ModuleList()
        for _ in range(stacks):
            if share_weights:  # the paper's option: one block's weights reused across the stack
                block = NBeatsBlock(input_size, units, layers, forecast_size, dropout)
                self.stacks.append(nn.ModuleList([block] * blocks))
            else:
                self.stacks.append(nn.ModuleList(
                    NBeatsBlock(input_size, units, layers, forecast_size, dropout) for _ in range(blocks)))
        self.head = nn.Linear(forecast_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.project(x).flatten(1)  # (B, T * width)
        forecast = residual.new_zeros(residual.shape[0], self.head.in_features)
        for stack in self.stacks:
            for block in stack:
                backcast, block_forecast = block(residual)
                residual = residual - backcast
                forecast = forecast + block_forecast
        return self.head(forecast)
