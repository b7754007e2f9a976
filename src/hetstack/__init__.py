"""hetstack: leakage-free heterogeneous stacking of trading-signal models."""

import os

# MKL (inside torch's CPU build) picks kernels by CPU and thread count, so on Intel CPUs a GRU's
# gradients differed between 1 and 2 threads. Strict conditional numerical reproducibility makes
# them the same: same config and seed, same bytes, at any --cores. Set before MKL loads (the
# workflow's jobs import hetstack before torch); a user's own setting wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"

CLASSES = (-1, 0, 1)  # probability columns are always ordered like this
