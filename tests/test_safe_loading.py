"""No artifact is ever unpickled: a malicious pickle planted where a model file should be is refused.

The planted payload, when unpickled, creates a marker file. Each test first proves the payload is
live (plain pickle.loads does create the marker), then that loading the model refuses the file and
the marker never appears.
"""

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from hetstack.io import load_npy
from hetstack.catalogue import get_spec, load_model


class Payload:
    """Unpickling this object touches `marker` (stands in for arbitrary code execution)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def evil_bytes(marker: Path) -> bytes:
    return pickle.dumps({"weight": Payload(marker)})


def assert_payload_is_live(marker: Path) -> None:
    pickle.loads(evil_bytes(marker))
    assert marker.exists(), "the payload must really run code when unpickled"
    marker.unlink()


def fit_and_save(name: str, params: dict, X, y, path: Path):
    model = get_spec(name).cls(params, seed=0, threads=1)
    model.fit(X, y, X[-40:], y[-40:])
    model.save(path)
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 4, 3)).astype(np.float32)
    y = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=len(X))
    return X, y


# (base, params, file to replace, 3D input?)
CASES = [
    ("gru", {"hidden_size": 4, "epochs": 1, "batch_size": 64}, "weights.pt", True),
    ("lightgbm", {"num_boost_round": 5, "num_leaves": 3}, "model.txt", False),
    ("catboost", {"iterations": 5, "depth": 2}, "model.cbm", False),
    ("ridge", {}, "model.json", False),
]


@pytest.mark.parametrize("name, params, native, sequence", CASES, ids=[c[0] for c in CASES])
def test_planted_pickle_in_a_model_file_is_refused(tmp_path, data, name, params, native, sequence):
    X, y = data
    X = X if sequence else X.reshape(len(X), -1)
    model_dir = tmp_path / "model"
    model = fit_and_save(name, params, X, y, model_dir)
    np.testing.assert_array_equal(load_model(model_dir).predict(X).probabilities, model.predict(X).probabilities)

    marker = tmp_path / "pwned"
    assert_payload_is_live(marker)
    target = model_dir / native
    assert target.exists(), sorted(p.name for p in model_dir.iterdir())
    if native == "weights.pt":
        import torch

        torch.save({"weight": Payload(marker)}, target)  # a real torch checkpoint carrying the payload
    else:
        target.write_bytes(evil_bytes(marker))
    with pytest.raises(Exception):  # noqa: B017 (each loader has its own error type; it must refuse)
        load_model(model_dir)
    assert not marker.exists()


def test_every_weights_file_of_a_torch_model_is_loaded_weights_only(tmp_path, data):
    """The meta MLP too: its weights.pt is a state dict, so a pickled object in it is refused."""
    import torch

    from hetstack.meta.meta_mlp import __file__ as mlp_file

    assert "weights_only=True" in Path(mlp_file).read_text()
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"weight": Payload(marker)}, buffer)
    buffer.seek(0)
    with pytest.raises(Exception):  # noqa: B017 (each loader has its own error type; it must refuse)
        torch.load(buffer, map_location="cpu", weights_only=True)
    assert not marker.exists()


def test_npy_arrays_are_loaded_without_pickle(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "features.npy"
    np.save(path, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        load_npy(path)
    with pytest.raises(ValueError):
        load_npy(path, mmap=False)
    assert not marker.exists()


def test_no_source_file_unpickles():
    """A guard against regressions: nothing in the library calls pickle/joblib loaders."""
    src = Path(__file__).resolve().parents[1] / "src" / "hetstack"
    offenders = []
    for path in src.rglob("*.py"):
        text = path.read_text()
        for needle in ("pickle.load", "joblib.load", "allow_pickle=True", "weights_only=False", "cloudpickle"):
            if needle in text:
                offenders.append(f"{path.relative_to(src)}: {needle}")
        if "torch.load(" in text:
            calls = text.count("torch.load(")
            assert text.count("weights_only=True") >= calls, path
    assert offenders == []
