"""PatchTST backbone: Nie, Nguyen, Sinthong & Kalagnanam, "A Time Series is Worth 64 Words:
Long-term Forecasting with Transformers", ICLR 2023; here as a 3-class classifier.

Input (B, TF, T, C): every (timeframe, OHLCV channel) pair is one univariate series of length T,
so there are TF * C channels. As in the paper:
- channel independence: all channels are processed separately by the same weights (they are
  folded into the batch axis);
- patching: each series is padded at its end by repeating its last value `stride` times and cut
  into patches of `patch_len` with step `stride`, so any T works and the newest bar is always
  inside the last patch (n_patches = (max(T + stride, patch_len) - patch_len) // stride + 1);
- a linear patch embedding plus a learnable positional embedding, then a Transformer encoder
  (post-norm, BatchNorm over the d_model features as in the paper; `norm="layer"` for LayerNorm);
- the classification head reads the representations of all channels: flattened (`pooling=
  "flatten"`, the paper's head) or averaged over patches first (`pooling="mean"`).
- RevIN instance normalization (`revin=True`, the paper's default for forecasting) is optional
  and off by default: the windows are already log ratios to the sample's last close and globally
  standardized per channel, and instance normalization would discard the volatility level, which
  matters for a trading signal.
Not reproduced: the residual attention of the authors' code and the self-supervised pre-training.
"""

from __future__ import annotations

import torch
from torch import nn


def n_patches(seq_len: int, patch_len: int, stride: int) -> int:
    padded = max(seq_len + stride, patch_len)
    return (padded - patch_len) // stride + 1


class RevIN(nn.Module):
    """Reversible instance normalization (Kim et al., 2022) over the time axis, with per-channel affine."""

    def __init__(self, n_series: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n_series, 1))
        self.bias = nn.Parameter(torch.zeros(n_series, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, T)
        mean = x.mean(dim=-1, keepdim=True)
        std = torch.sqrt(x.var(dim=-1, keepdim=True, unbiased=False) + self.eps)
        return (x - mean) / std * self.weight + self.bias


class TokenBatchNorm(nn.Module):
    """BatchNorm1d over the feature axis of (B, L, D) tokens."""

    def __init__(self, d_model: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


def _norm(kind: str, d_model: int) -> nn.Module:
    if kind == "batch":
        return TokenBatchNorm(d_model)
    if kind == "layer":
        return nn.LayerNorm(d_model)
    raise ValueError(f"norm must be 'batch' or 'layer', got {kind!r}")


class EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer: x = norm(x + attn(x)); x = norm(x + ffn(x))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float, norm: str):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))
        self.norm_attn, self.norm_ff = _norm(norm, d_model), _norm(norm, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm_attn(x + self.drop(self.attn(x, x, x, need_weights=False)[0]))
        return self.norm_ff(x + self.drop(self.ff(x)))


class PatchTST(nn.Module):
    def __init__(self, n_timeframes: int, seq_len: int, n_channels: int = 4, *, patch_len: int = 8, stride: int = 4,
                 d_model: int = 32, n_heads: int = 4, n_layers: int = 2, d_ff: int = 64, dropout: float = 0.1,
                 head_dropout: float = 0.0, pooling: str = "flatten", norm: str = "batch", revin: bool = False,
                 n_classes: int = 3):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        if patch_len < 1 or stride < 1:
            raise ValueError("patch_len and stride must be >= 1")
        if pooling not in ("flatten", "mean"):
            raise ValueError(f"pooling must be 'flatten' or 'mean', got {pooling!r}")
        self.n_series = int(n_timeframes) * int(n_channels)
        self.seq_len, self.patch_len, self.stride = int(seq_len), int(patch_len), int(stride)
        self.n_patches = n_patches(self.seq_len, self.patch_len, self.stride)
        self.pad_to = max(self.seq_len + self.stride, self.patch_len)
        self.pooling = pooling
        self.revin = RevIN(self.n_series) if revin else None
        self.embed = nn.Linear(self.patch_len, d_model)
        self.position = nn.Parameter(torch.empty(self.n_patches, d_model).uniform_(-0.02, 0.02))
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, dropout, norm) for _ in range(n_layers))
        per_series = d_model * (self.n_patches if pooling == "flatten" else 1)
        self.head = nn.Sequential(nn.Flatten(1), nn.Dropout(head_dropout),
                                  nn.Linear(self.n_series * per_series, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        series = x.permute(0, 1, 3, 2).reshape(b, self.n_series, self.seq_len)  # (B, N, T), N = TF * C
        if self.revin is not None:
            series = self.revin(series)
        pad = self.pad_to - self.seq_len
        series = torch.cat([series, series[..., -1:].expand(b, self.n_series, pad)], dim=-1)
        patches = series.unfold(-1, self.patch_len, self.stride)  # (B, N, P, patch_len)
        z = self.embed(patches).reshape(b * self.n_series, self.n_patches, -1) + self.position
        z = self.drop(z)
        for layer in self.layers:
            z = layer(z)
        z = z.reshape(b, self.n_series, self.n_patches, -1)
        if self.pooling == "mean":
            z = z.mean(dim=2)
        return self.head(z)
