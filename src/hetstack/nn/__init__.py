"""PyTorch networks (one per file) and the shared training loop. Importing this package imports torch."""
