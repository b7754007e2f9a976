"""Temporal Fusion Transformer backbone, compact: Lim, Arik, Loeff & Pfister, "Temporal Fusion
Transformers for interpretable multi-horizon time series forecasting", International Journal of
Forecasting 37(4), 2021; here as a 3-class classifier.

Input (B, TF, T, C): the TF * C values at step t (timeframes are aligned by index, t = T-1 the
newest bar of each) are the observed inputs of step t. Kept from the paper:
- per-variable linear embeddings of the continuous inputs;
- the variable selection network (VSN): a GRN over the flattened embeddings gives softmax weights
  over the variables, a separate GRN per variable processes its embedding, weighted sum (eq. 6-8);
- gated residual networks GRN(a) = LayerNorm(a + GLU(W1 ELU(W2 a))) (eq. 2-5);
- an LSTM encoder over the T steps with a gated skip connection to the VSN output (eq. 17);
- the enrichment GRN (eq. 18), interpretable multi-head attention with shared values and averaged
  heads under a causal mask (eq. 13-15) and its gated skip (eq. 20);
- the position-wise GRN with a gated skip over the whole temporal block (eq. 21-22).
Simplified: there are no static covariates (so no static covariate encoders, no context vectors
for the VSN, the LSTM initial state or the enrichment GRN) and no known future inputs (so no
decoder LSTM and no future VSN); the quantile outputs are replaced by a linear 3-logit head on the
last step's representation. `explain(x)` returns the variable selection weights and the attention.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class GLU(nn.Module):
    """Gated linear unit: sigmoid(W4 g + b4) * (W5 g + b5) (eq. 5)."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.fc = nn.Linear(d_in, 2 * d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.glu(self.fc(x), dim=-1)


class GateAddNorm(nn.Module):
    """LayerNorm(skip + GLU(dropout(x))): the gated skip connections of the paper."""

    def __init__(self, d_model: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.glu = GLU(d_model, d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.norm(skip + self.glu(self.drop(x)))


class GRN(nn.Module):
    """Gated residual network (eq. 2-4), without the optional context vector."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, dropout: float):
        super().__init__()
        self.fc2 = nn.Linear(d_in, d_hidden)
        self.fc1 = nn.Linear(d_hidden, d_hidden)
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.gate = GateAddNorm(d_out, dropout) if d_hidden == d_out else None
        if self.gate is None:
            self.drop, self.glu, self.norm = nn.Dropout(dropout), GLU(d_hidden, d_out), nn.LayerNorm(d_out)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        eta = self.fc1(F.elu(self.fc2(a)))
        if self.gate is not None:
            return self.gate(eta, self.skip(a))
        return self.norm(self.skip(a) + self.glu(self.drop(eta)))


class PerVariableLinear(nn.Module):
    """V independent linear layers applied at once: (..., V, d_in) -> (..., V, d_out)."""

    def __init__(self, n_vars: int, d_in: int, d_out: int):
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(n_vars, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_vars, d_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...vi,vio->...vo", x, self.weight) + self.bias


class PerVariableGRN(nn.Module):
    """One GRN per variable (own weights and LayerNorm affine), batched over the variable axis."""

    def __init__(self, n_vars: int, d_model: int, dropout: float):
        super().__init__()
        self.fc2 = PerVariableLinear(n_vars, d_model, d_model)
        self.fc1 = PerVariableLinear(n_vars, d_model, d_model)
        self.glu = PerVariableLinear(n_vars, d_model, 2 * d_model)
        self.drop = nn.Dropout(dropout)
        self.norm_weight = nn.Parameter(torch.ones(n_vars, d_model))
        self.norm_bias = nn.Parameter(torch.zeros(n_vars, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eta = self.fc1(F.elu(self.fc2(x)))
        y = x + F.glu(self.glu(self.drop(eta)), dim=-1)
        return F.layer_norm(y, y.shape[-1:]) * self.norm_weight + self.norm_bias


class VariableSelection(nn.Module):
    """Embeds V scalar inputs per step, weights them by a softmax from a GRN, sums (eq. 6-8)."""

    def __init__(self, n_vars: int, d_model: int, dropout: float):
        super().__init__()
        self.n_vars = n_vars
        self.embed_weight = nn.Parameter(torch.empty(n_vars, d_model).uniform_(-1.0, 1.0))
        self.embed_bias = nn.Parameter(torch.zeros(n_vars, d_model))
        self.selector = GRN(n_vars * d_model, d_model, n_vars, dropout)
        self.variable_grns = PerVariableGRN(n_vars, d_model, dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # x: (B, T, V)
        xi = x.unsqueeze(-1) * self.embed_weight + self.embed_bias  # (B, T, V, d)
        weights = torch.softmax(self.selector(xi.flatten(-2)), dim=-1)  # (B, T, V)
        processed = self.variable_grns(xi)
        return (weights.unsqueeze(-1) * processed).sum(dim=-2), weights


class InterpretableMultiHeadAttention(nn.Module):
    """Per-head queries and keys, one value projection shared by all heads, heads averaged (eq. 13-15)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, self.d_head)
        self.out = nn.Linear(self.d_head, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # x: (B, T, d)
        b, t, _ = x.shape
        q = self.query(x).view(b, t, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, T, dh)
        k = self.key(x).view(b, t, self.n_heads, self.d_head).transpose(1, 2)
        v = self.value(x).unsqueeze(1)  # (B, 1, T, dh): shared across heads
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        attention = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)  # (B, H, T, T)
        heads = self.drop(attention) @ v  # (B, H, T, dh)
        return self.out(heads.mean(dim=1)), attention.mean(dim=1)


class TemporalFusionTransformer(nn.Module):
    def __init__(self, n_timeframes: int, seq_len: int, n_channels: int = 4, *, d_model: int = 32, n_heads: int = 4,
                 lstm_layers: int = 1, dropout: float = 0.1, n_classes: int = 3):
        super().__init__()
        self.n_vars = int(n_timeframes) * int(n_channels)
        self.seq_len = int(seq_len)
        self.selection = VariableSelection(self.n_vars, d_model, dropout)
        self.lstm = nn.LSTM(d_model, d_model, num_layers=lstm_layers, batch_first=True,
                            dropout=dropout if lstm_layers > 1 else 0.0)
        self.lstm_gate = GateAddNorm(d_model, dropout)
        self.enrichment = GRN(d_model, d_model, d_model, dropout)
        self.attention = InterpretableMultiHeadAttention(d_model, n_heads, dropout)
        self.attention_gate = GateAddNorm(d_model, dropout)
        self.feed_forward = GRN(d_model, d_model, d_model, dropout)
        self.output_gate = GateAddNorm(d_model, dropout)
        self.head = nn.Linear(d_model, n_classes)

    def _forward(self, x: torch.Tensor):
        b = x.shape[0]
        inputs = x.permute(0, 2, 1, 3).reshape(b, self.seq_len, self.n_vars)  # (B, T, TF*C) observed inputs per step
        selected, var_weights = self.selection(inputs)
        encoded, _ = self.lstm(selected)
        temporal = self.lstm_gate(encoded, selected)
        enriched = self.enrichment(temporal)
        attended, attention = self.attention(enriched)
        attended = self.attention_gate(attended, enriched)
        out = self.output_gate(self.feed_forward(attended), temporal)
        return self.head(out[:, -1]), var_weights, attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)[0]

    @torch.no_grad()
    def explain(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Variable selection weights (B, T, V; V ordered timeframe-major, channel-minor) and attention (B, T, T)."""
        _, var_weights, attention = self._forward(x)
        return {"variable_weights": var_weights, "attention": attention}
