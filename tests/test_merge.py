"""The meta matrix: every train sample exactly once, rows aligned by sample id across bases."""

import numpy as np
import pandas as pd
import pytest

from hetstack.cv import fold_table, purged_kfold
from hetstack.io import read_parquet, write_parquet
from hetstack.stages.oof import merge_oof
from hetstack.tables import PROB_COLUMNS, prob_columns


@pytest.fixture
def run_dir(tmp_path):
    n = 300
    ids = np.arange(100, 100 + n, dtype=np.int64)
    t1 = ids + 3
    rng = np.random.default_rng(0)
    labels = pd.DataFrame({
        "sample_id": ids, "timestamp": pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"),
        "t1": t1, "label": rng.choice([-1, 0, 1], n).astype(np.int8), "weight": np.ones(n),
        "split": pd.array(["train"] * 240 + ["gap"] * 10 + ["test"] * 50, dtype="string"),
    })
    train = ids[:240]
    folds = purged_kfold(train, t1[:240], 3, 2, 2)
    write_parquet(tmp_path / "labels.parquet", labels)
    write_parquet(tmp_path / "folds.parquet", fold_table(train, folds))
    return tmp_path, labels, folds


def write_shards(run_dir, labels, folds, base, seed, shuffle=True):
    rng = np.random.default_rng(seed)
    paths = []
    for fold in folds:
        rows = labels.set_index("sample_id").loc[fold.test_ids].reset_index()
        proba = rng.dirichlet([1, 1, 1], len(rows))
        shard = pd.DataFrame({"sample_id": rows["sample_id"], "timestamp": rows["timestamp"],
                              "fold": np.int16(fold.index)})
        shard[PROB_COLUMNS] = proba
        shard["label"] = rows["label"].to_numpy()
        if shuffle:
            shard = shard.sample(frac=1.0, random_state=seed)
        path = run_dir / f"{base}_fold{fold.index}.parquet"
        write_parquet(path, shard)
        paths.append(str(path))
    return paths


def test_merge_aligns_rows_by_sample_id_whatever_the_shard_order(run_dir):
    d, labels, folds = run_dir
    shards = {"a": write_shards(d, labels, folds, "a", 1), "b": write_shards(d, labels, folds, "b", 2)[::-1]}
    merge_oof(shards, str(d / "labels.parquet"), str(d / "folds.parquet"), str(d / "matrix.parquet"))
    matrix = read_parquet(d / "matrix.parquet")
    assert matrix["sample_id"].tolist() == labels["sample_id"][:240].tolist()
    for base in ("a", "b"):
        raw = pd.concat([read_parquet(p) for p in shards[base]]).set_index("sample_id").sort_index()
        np.testing.assert_array_equal(matrix[prob_columns(base)].to_numpy(), raw[PROB_COLUMNS].to_numpy())
    np.testing.assert_array_equal(matrix["label"].to_numpy(), labels["label"][:240].to_numpy())
    assert list(matrix.columns[-6:]) == prob_columns("a") + prob_columns("b")


def test_merge_refuses_a_missing_sample(run_dir):
    d, labels, folds = run_dir
    paths = write_shards(d, labels, folds, "a", 1, shuffle=False)
    shard = read_parquet(paths[1]).iloc[1:]
    write_parquet(paths[1], shard)
    with pytest.raises(ValueError, match="miss 1 train samples"):
        merge_oof({"a": paths}, str(d / "labels.parquet"), str(d / "folds.parquet"), str(d / "m.parquet"))
    assert not (d / "m.parquet").exists()


def test_merge_refuses_a_sample_predicted_twice(run_dir):
    d, labels, folds = run_dir
    paths = write_shards(d, labels, folds, "a", 1, shuffle=False)
    with pytest.raises(ValueError, match="more than one OOF shard"):
        merge_oof({"a": paths + paths[:1]}, str(d / "labels.parquet"), str(d / "folds.parquet"), str(d / "m.parquet"))


def test_merge_refuses_a_prediction_from_the_wrong_fold(run_dir):
    d, labels, folds = run_dir
    paths = write_shards(d, labels, folds, "a", 1, shuffle=False)
    shard = read_parquet(paths[0])
    shard["fold"] = np.int16(2)
    write_parquet(paths[0], shard)
    with pytest.raises(ValueError, match="fold other than its test fold"):
        merge_oof({"a": paths}, str(d / "labels.parquet"), str(d / "folds.parquet"), str(d / "m.parquet"))
