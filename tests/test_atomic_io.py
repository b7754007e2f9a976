"""Atomic outputs: a write that fails midway leaves neither the target nor a temporary file."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hetstack import io


class Boom(RuntimeError):
    pass


def test_failing_block_leaves_no_target_and_no_temp(tmp_path):
    target = tmp_path / "out" / "shard.parquet"
    with pytest.raises(Boom):
        with io.atomic_path(target) as tmp:
            tmp.write_bytes(b"half a file")
            raise Boom()
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_failing_write_keeps_the_previous_complete_file(tmp_path):
    target = tmp_path / "report.json"
    io.write_json(target, {"a": 1})
    with pytest.raises(TypeError):
        io.write_json(target, {"a": 2, "b": object()})  # not JSON-serializable
    assert io.read_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failing_parquet_and_npy_writes_leave_nothing(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    def broken_write_table(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 partial")
        raise Boom()

    monkeypatch.setattr(pq, "write_table", broken_write_table)
    with pytest.raises(Boom):
        io.write_parquet(tmp_path / "x.parquet", pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(ValueError):
        io.write_npy(tmp_path / "x.npy", np.array([object()], dtype=object))  # allow_pickle=False refuses
    assert list(tmp_path.iterdir()) == []


def test_model_directory_appears_complete_or_not_at_all(tmp_path):
    target = tmp_path / "models" / "bases" / "lightgbm"
    with pytest.raises(Boom):
        with io.atomic_dir(target) as tmp:
            (tmp / "model.txt").write_text("tree")
            raise Boom()  # killed before model.json was written
    assert not target.exists() and list(target.parent.iterdir()) == []
    with io.atomic_dir(target) as tmp:
        (tmp / "model.txt").write_text("tree")
        (tmp / "model.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["model.json", "model.txt"]
    assert [p.name for p in target.parent.iterdir()] == ["lightgbm"]


def test_every_write_in_the_library_goes_through_hetstack_io():
    """Audit: no direct file writes outside io.py except a model's native saver, which must run inside
    an atomic_dir (the stages save every model into one)."""
    src = Path(__file__).resolve().parents[1] / "src" / "hetstack"
    direct = re.compile(r"\.to_parquet\(|\.to_csv\(|\.write_text\(|\.write_bytes\(|np\.save\(|open\([^)]*['\"]w")
    # writes into a `tmp` path yielded by io.atomic_path are atomic
    offenders = [f"{p.relative_to(src)}:{i}" for p in src.rglob("*.py") if p.name != "io.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if direct.search(line) and "tmp" not in line]
    assert offenders == []
    stages = "".join(p.read_text() for p in sorted((src / "stages").glob("*.py")))
    saves = re.findall(r"^(\s*)(\w+)\.save\(", stages, flags=re.M)
    assert len(saves) >= 2, "the oof/retrain and meta stages save models"
    assert stages.count("model.save(tmp_dir)") == len(saves)


def test_temporaries_of_a_killed_writer_are_cleared_by_the_next_write(tmp_path):
    target = tmp_path / "fold0.parquet"
    (tmp_path / ".fold0.parquet.abc123.tmp").write_bytes(b"left by SIGKILL")
    (tmp_path / ".model.x1.tmp").mkdir()
    (tmp_path / ".fold0.parquet.other.tmp.keep").write_text("not ours")
    io.write_parquet(target, pd.DataFrame({"a": [1]}))
    with io.atomic_dir(tmp_path / "model") as tmp:
        (tmp / "model.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fold0.parquet.other.tmp.keep", "fold0.parquet", "model"]
