"""Transformer encoder classifier (Vaswani et al., 2017, "Attention Is All You Need").

Each bar's feature row is projected to d_model, a positional encoding (fixed sinusoidal as in the
paper, or learned) is added, and a stack of self-attention encoder layers runs over the window.
The tokens are pooled (mean over the window, or the newest token) into a linear 3-class head.
Pre-LayerNorm layers (norm_first) are the default because they train more stably on small data;
set norm_first=False for the paper's post-norm layers.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """(length, d_model): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq)[:, : d_model // 2]
    return pe


class TransformerClassifier(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, seq_len: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 dim_feedforward: int = 128, dropout: float = 0.1, positional: str = "sinusoidal",
                 pooling: str = "mean", norm_first: bool = True, n_classes: int = 3):
        super().__init__()
        if positional not in ("sinusoidal", "learned"):
            raise ValueError(f"positional must be 'sinusoidal' or 'learned', not {positional!r}")
        if pooling not in ("mean", "last"):
            raise ValueError(f"pooling must be 'mean' or 'last', not {pooling!r}")
        self.pooling = pooling
        self.embed = nn.Linear(n_features, d_model)
        if positional == "learned":
            self.positions = nn.Parameter(torch.randn(seq_len, d_model) * 0.02)
        else:
            self.register_buffer("positions", sinusoidal_positions(seq_len, d_model), persistent=False)
        self.input_dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model) if norm_first else None,
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        h = self.input_dropout(self.embed(x) + self.positions[-T:])
        h = self.encoder(h)
        return self.head(h.mean(dim=1) if self.pooling == "mean" else h[:, -1])
