"""hetstack: leakage-free heterogeneous stacking of trading-signal models."""

__version__ = "0.1.0"

CLASSES = (-1, 0, 1)  # probability columns are always ordered like this
