"""iTransformer backbone: Liu, Hu, Zhang, Wu, Wang, Ma & Long, "iTransformer: Inverted
Transformers Are Effective for Time Series Forecasting", ICLR 2024; here as a 3-class classifier.

Input (B, TF, T, C): each (timeframe, OHLCV channel) pair is one variate, and its whole series of
length T is embedded by one shared linear map into a single token (the "inverted" embedding), so
there are TF * C tokens. Self-attention runs across the variate tokens (multivariate
correlations), the feed-forward network acts on each token (series representation), with
post-norm LayerNorm as in the paper and a final LayerNorm. The classification head follows the
authors' Time-Series-Library code: GELU, dropout, then the tokens flattened (`pooling="flatten"`,
default: keeps which variate said what, since tokens carry no identity embedding) or averaged
(`pooling="mean"`), then a linear layer to 3 logits.
The paper's per-series normalization (`use_norm`) is optional and off by default: windows are
already log ratios to the sample's last close and standardized per channel, and normalizing each
series would discard its volatility level.
"""

from __future__ import annotations

import torch
from torch import nn


class ITransformer(nn.Module):
    def __init__(self, n_timeframes: int, seq_len: int, n_channels: int = 4, *, d_model: int = 32, n_heads: int = 4,
                 n_layers: int = 2, d_ff: int = 64, dropout: float = 0.1, pooling: str = "flatten",
                 use_norm: bool = False, n_classes: int = 3):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        if pooling not in ("flatten", "mean"):
            raise ValueError(f"pooling must be 'flatten' or 'mean', got {pooling!r}")
        self.n_variates = int(n_timeframes) * int(n_channels)
        self.seq_len = int(seq_len)
        self.pooling, self.use_norm = pooling, bool(use_norm)
        self.embed = nn.Linear(self.seq_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True)
            for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        width = d_model * (self.n_variates if pooling == "flatten" else 1)
        self.head = nn.Sequential(nn.GELU(), nn.Dropout(dropout), nn.Flatten(1), nn.Linear(width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        series = x.permute(0, 1, 3, 2).reshape(b, self.n_variates, self.seq_len)  # (B, N, T) variates as tokens
        if self.use_norm:
            series = series - series.mean(dim=-1, keepdim=True)
            series = series / torch.sqrt(series.var(dim=-1, keepdim=True, unbiased=False) + 1e-5)
        tokens = self.drop(self.embed(series))  # (B, N, d_model)
        for layer in self.layers:
            tokens = layer(tokens)
        tokens = self.norm(tokens)
        if self.pooling == "mean":
            tokens = tokens.mean(dim=1)
        return self.head(tokens)
