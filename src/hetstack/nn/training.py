"""Mini-batch training for every neural base: AdamW, weighted cross-entropy, early stopping.

Batches are assembled from lazy sample sets (windows are views over memory-mapped features),
so no (N, T, F) array is ever materialized.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

log = logging.getLogger("hetstack.nn")


def statistics_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the per-channel statistics: the sample shape with its time axis collapsed.

    (F,) -> (F,); (T, F) -> (1, F); (TF, T, 5) -> (TF, 1, 5): every timeframe and OHLCV channel
    of a multi-resolution window gets its own scale (a 60-bar range is far wider than a 1-bar one).
    """
    shape = list(input_shape)
    if len(shape) >= 2:
        shape[-2] = 1
    return tuple(shape)


class Standardize(nn.Module):
    """x -> (x - mean) / std per channel; the statistics travel in the state dict."""

    def __init__(self, shape: int | tuple[int, ...]):
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """Standardize the input, run the family's backbone, return 3 logits."""

    def __init__(self, backbone: nn.Module, n_channels: int | None = None, input_shape: tuple[int, ...] | None = None):
        super().__init__()
        self.standardize = Standardize(statistics_shape(input_shape) if input_shape else n_channels)
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.standardize(x))


def take(X, positions: np.ndarray) -> np.ndarray:
    """Rows of an array, or a batch of a lazy sample set (anything with .batch(positions))."""
    if hasattr(X, "batch"):
        return X.batch(positions)
    return np.asarray(X[positions])


def channel_statistics(X, rng: np.random.Generator, max_samples: int = 2048,
                       chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per channel (see statistics_shape) over a seeded subsample of the training samples.

    Accumulated chunk by chunk (shifted by the first chunk's mean for accuracy), so the job never
    holds more than `chunk` windows in float64.
    """
    n = len(X)
    positions = np.sort(rng.choice(n, size=min(n, max_samples), replace=False))
    count, shift, total, total_sq = 0, None, 0.0, 0.0
    for start in range(0, len(positions), chunk):
        part = take(X, positions[start:start + chunk]).astype(np.float64)
        axes = (0,) if part.ndim == 2 else (0, part.ndim - 2)
        if shift is None:
            shift = part.mean(axis=axes, keepdims=True)
        centred = part - shift
        total = total + centred.sum(axis=axes, keepdims=True)
        total_sq = total_sq + (centred ** 2).sum(axis=axes, keepdims=True)
        count += int(np.prod([part.shape[a] for a in axes]))
    mean_shifted = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean_shifted ** 2, 0.0))[0]
    return (shift + mean_shifted)[0], np.where(std > 1e-8, std, 1.0)


@dataclass
class FitResult:
    best_epoch: int
    epochs_run: int
    best_val_loss: float | None
    # added to the logits at prediction: undoes class balancing (logit adjustment, Menon et al. 2021)
    logit_offset: np.ndarray


def resolve_device(wanted: str, environ=os.environ) -> torch.device:
    """training.device -> where to train: cpu; cuda (an error without a CUDA device); auto (CUDA
    when torch sees one). On CUDA cuBLAS gets the fixed workspace that deterministic algorithms
    need, unless the user set one."""
    from hetstack.errors import ConfigError

    if wanted not in ("cpu", "cuda", "auto"):
        raise ConfigError("training.device", f"unknown device {wanted!r}", "use cpu, cuda or auto")
    if wanted == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if wanted == "auto":
            return torch.device("cpu")
        raise ConfigError("training.device", f"is cuda but torch {torch.__version__} sees no CUDA device "
                          f"(CUDA build: {torch.version.cuda})",
                          "set training.device: auto or cpu, or run on a GPU node with a CUDA build of torch")
    environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.device("cuda")


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A batch as a tensor on `device`; for CUDA from pinned host memory, copied without blocking."""
    tensor = torch.from_numpy(array)
    if device.type != "cuda":
        return tensor
    return tensor.pin_memory().to(device, non_blocking=True)


def class_weights(y: np.ndarray) -> np.ndarray:
    """Balanced class weights n / (3 * count_c); absent classes get 0."""
    counts = np.bincount(y, minlength=3).astype(np.float64)
    return np.divide(len(y), 3.0 * counts, out=np.zeros(3), where=counts > 0)


def class_shares(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.bincount(y, weights=weights, minlength=3) / weights.sum()


def fit_network(model: Classifier, X, y: np.ndarray, sample_weight, X_val, y_val, *, epochs: int, batch_size: int,
                lr: float, weight_decay: float, patience: int, seed: int, device: torch.device,
                balance_classes: bool = True) -> FitResult:
    """Train in place; keeps the weights of the epoch with the lowest validation loss."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    mean, std = channel_statistics(X, rng)
    model.standardize.mean.copy_(torch.as_tensor(mean, dtype=torch.float32).reshape(model.standardize.mean.shape))
    model.standardize.std.copy_(torch.as_tensor(std, dtype=torch.float32).reshape(model.standardize.std.shape))
    model.to(device)
    weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    logit_offset = np.zeros(3)
    if balance_classes:
        # The network learns the class shares of its training weights. Balancing moves them from the
        # sample-weighted shares p_w to W; the offset log p_w - log W moves them back (logit
        # adjustment, Menon et al. 2021). BaseModel then takes p_w to the unweighted frequencies.
        before = class_shares(y, weights)
        weights = weights * class_weights(y)[y]
        after = class_shares(y, weights)
        present = (before > 0) & (after > 0)
        logit_offset = np.where(present, np.log(np.where(present, before, 1.0) / np.where(present, after, 1.0)), 0.0)
    weights = weights / weights.mean()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    best = (math.inf, -1, copy.deepcopy(model.state_dict()))
    epochs_run = 0
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(y))
        total, seen = 0.0, 0
        batch_seconds, step_seconds = 0.0, 0.0  # assembling batches vs forward, backward and step
        for start in range(0, len(order), batch_size):
            started = time.perf_counter()
            # sorted positions keep reads from the memory map sequential
            idx = np.sort(order[start:start + batch_size])
            xb = to_device(np.ascontiguousarray(take(X, idx), dtype=np.float32), device)
            yb = to_device(y[idx].astype(np.int64), device)
            wb = to_device(weights[idx].astype(np.float32), device)
            with torch.no_grad():  # buffers only: normalizing outside the graph changes no gradient
                xb = model.standardize(xb)
            assembled = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = (loss_fn(model.backbone(xb), yb) * wb).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(idx)  # .item() waits for the device: the step is over
            seen += len(idx)
            batch_seconds += assembled - started
            step_seconds += time.perf_counter() - assembled
        epochs_run = epoch + 1
        pace = f"{seen} samples: batches {batch_seconds:.2f} s, forward/backward {step_seconds:.2f} s"
        if X_val is None or not len(y_val):
            best = (math.nan, epoch, copy.deepcopy(model.state_dict()))
            log.info("epoch %d: train loss %.5f; %s", epoch, total / seen, pace)
            continue
        val_loss = evaluate_loss(model, X_val, y_val, batch_size, device, logit_offset)
        log.info("epoch %d: train loss %.5f, val loss %.5f; %s", epoch, total / seen, val_loss, pace)
        if val_loss < best[0] - 1e-6:
            best = (val_loss, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= patience:
            break
    model.load_state_dict(best[2])
    return FitResult(best_epoch=best[1], epochs_run=epochs_run,
                     best_val_loss=None if math.isnan(best[0]) or math.isinf(best[0]) else best[0],
                     logit_offset=logit_offset)


@torch.no_grad()
def predict_logits(model: nn.Module, X, batch_size: int, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for start in range(0, len(X), batch_size):
        idx = np.arange(start, min(start + batch_size, len(X)))
        xb = to_device(np.ascontiguousarray(take(X, idx), dtype=np.float32), device)
        out.append(model(xb).float().cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 3))


def evaluate_loss(model: nn.Module, X, y: np.ndarray, batch_size: int, device: torch.device,
                  logit_offset: np.ndarray | None = None) -> float:
    logits = predict_logits(model, X, batch_size, device)
    logits = torch.from_numpy(logits + (0.0 if logit_offset is None else logit_offset))
    return float(nn.functional.cross_entropy(logits, torch.from_numpy(y.astype(np.int64))))
