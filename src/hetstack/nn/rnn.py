"""Recurrent classifiers: LSTM (Hochreiter & Schmidhuber, 1997, "Long Short-Term Memory") and GRU
(Cho et al., 2014, "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
Machine Translation").

A stacked RNN reads the window oldest to newest; the top layer's hidden state at the newest bar
(the sample's own bar) feeds a linear 3-class head.
"""

from __future__ import annotations

import torch
from torch import nn

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class RNNClassifier(nn.Module):
    """(B, T, F) -> (B, 3) logits."""

    def __init__(self, n_features: int, cell: str = "lstm", hidden_size: int = 64, num_layers: int = 1,
                 dropout: float = 0.1, bidirectional: bool = False, n_classes: int = 3):
        super().__init__()
        self.rnn = CELLS[cell](n_features, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)
        width = hidden_size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H * directions)
        # newest step; for a bidirectional net its backward half has read the whole window too
        return self.head(self.dropout(out[:, -1]))
