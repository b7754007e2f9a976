"""The CUDA path is optional: its choice is tested here on CPU (CI has no GPU); bench/gpu.py times
and compares it where a GPU is present."""

import numpy as np
import pytest
import torch

from hetstack.errors import ConfigError
from hetstack.nn.training import resolve_device, to_device


def test_without_cuda_auto_is_cpu_and_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    environ = {}
    assert resolve_device("cpu", environ).type == "cpu"
    assert resolve_device("auto", environ).type == "cpu"
    with pytest.raises(ConfigError, match=r"^training\.device: is cuda but torch .* sees no CUDA device.*; fix: "):
        resolve_device("cuda", environ)
    assert environ == {}


def test_with_cuda_auto_and_cuda_train_there_with_deterministic_cublas(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    environ = {}
    assert resolve_device("auto", environ).type == "cuda"
    # cuBLAS is deterministic only with a fixed workspace (torch.use_deterministic_algorithms)
    assert environ == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    mine = {"CUBLAS_WORKSPACE_CONFIG": ":16:8"}
    assert resolve_device("cuda", mine).type == "cuda" and mine == {"CUBLAS_WORKSPACE_CONFIG": ":16:8"}
    untouched = {}
    assert resolve_device("cpu", untouched).type == "cpu" and untouched == {}


def test_unknown_device_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match=r"training\.device.*'gpu'.*cpu, cuda or auto"):
        resolve_device("gpu", {})


def test_cpu_batches_are_the_arrays_unpinned():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    batch = to_device(array, torch.device("cpu"))
    assert batch.device.type == "cpu" and not batch.is_pinned()
    np.testing.assert_array_equal(batch.numpy(), array)


def test_cuda_batches_are_pinned_and_copied_without_blocking(monkeypatch):
    """No GPU here: pin_memory and to() are recorded, not run."""
    calls = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: calls.append("pin") or self)
    monkeypatch.setattr(torch.Tensor, "to", lambda self, device, non_blocking=False: calls.append(
        (device.type, non_blocking)) or self)
    to_device(np.zeros((2, 2), dtype=np.float32), torch.device("cuda"))
    assert calls == ["pin", ("cuda", True)]
