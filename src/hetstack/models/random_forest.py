"""Random forest (Breiman, 2001) on tabular indicator rows, stored without pickle.

sklearn grows the trees; every tree's arrays (children, split feature, threshold, missing-value
direction, leaf class fractions) are then concatenated into one flat node table and saved as
.npy files. Prediction walks that table in numpy exactly as sklearn does (X cast to float32,
`x <= threshold` goes left, NaN follows `missing_go_to_left`, leaf fractions summed tree by tree
in order and divided by the tree count), so fitted and loaded models share one code path and
give the same probabilities as the sklearn forest they came from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hetstack import CLASSES
from hetstack.io import load_npy, read_json, write_json, write_npy
from hetstack.models.base import BaseModel, expand_probabilities
from hetstack.models.registry import register

_ARRAYS = ("left", "right", "feature", "threshold", "missing_left", "value", "roots")
_LEAF = -1  # sklearn's TREE_LEAF


@register(name="random_forest", family="classical", input_kind="tabular")
class RandomForestModel(BaseModel):
    default_params = {
        "n_estimators": 200,
        "min_samples_leaf": 50,
        "max_features": "sqrt",
        "max_depth": None,
        "max_samples": None,
        "criterion": "gini",
        "class_weight": None,
        "predict_chunk": 2_000_000,  # rows x trees walked at once: bounds prediction memory
    }

    def _classifier(self):
        from sklearn.ensemble import RandomForestClassifier

        params = {k: v for k, v in self.params.items() if k != "predict_chunk"}
        return RandomForestClassifier(bootstrap=True, n_jobs=self.threads, random_state=self.seed, **params)

    def _fit(self, X, y, X_val, y_val, sample_weight):
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float32)
        with threadpool_limits(limits=self.threads):
            forest = self._classifier().fit(X, y, sample_weight=sample_weight)
        self._export(forest)
        return None

    def _export(self, forest) -> None:
        """Flatten all trees into one node table with global child indices."""
        present = [CLASSES[int(c)] for c in forest.classes_]
        parts = {k: [] for k in _ARRAYS if k != "roots"}
        roots, offset = [], 0
        for est in forest.estimators_:
            tree = est.tree_
            leaf = tree.children_left == _LEAF
            roots.append(offset)
            parts["left"].append(np.where(leaf, _LEAF, tree.children_left + offset))
            parts["right"].append(np.where(leaf, _LEAF, tree.children_right + offset))
            parts["feature"].append(np.where(leaf, 0, tree.feature))  # leaves never read it
            parts["threshold"].append(tree.threshold)
            parts["missing_left"].append(np.asarray(tree.missing_go_to_left, dtype=bool))
            # sklearn >= 1.4 stores class fractions per node and predicts them as-is
            parts["value"].append(expand_probabilities(tree.value[:, 0, :], present))
            offset += tree.node_count
        self.left_ = np.concatenate(parts["left"]).astype(np.int64)
        self.right_ = np.concatenate(parts["right"]).astype(np.int64)
        self.feature_ = np.concatenate(parts["feature"]).astype(np.int64)
        self.threshold_ = np.concatenate(parts["threshold"]).astype(np.float64)
        self.missing_left_ = np.concatenate(parts["missing_left"])
        self.value_ = np.ascontiguousarray(np.concatenate(parts["value"]), dtype=np.float64)
        self.roots_ = np.asarray(roots, dtype=np.int64)
        self.n_features_ = int(forest.n_features_in_)

    def _predict_proba(self, X):
        X = np.asarray(X, dtype=np.float32)  # sklearn trees split on float32 inputs
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ValueError(f"random_forest: expected (N, {self.n_features_}) rows, got {X.shape}")
        n_trees = len(self.roots_)
        step = max(1, int(self.params["predict_chunk"]) // n_trees)
        out = np.empty((len(X), len(CLASSES)))
        for start in range(0, len(X), step):
            out[start:start + step] = self._predict_chunk(X[start:start + step])
        return out

    def _predict_chunk(self, X: np.ndarray) -> np.ndarray:
        n, n_trees = len(X), len(self.roots_)
        node = np.tile(self.roots_, n)  # row-major (row, tree) pairs
        row = np.repeat(np.arange(n), n_trees)
        active = np.flatnonzero(self.left_[node] != _LEAF)
        while active.size:
            nd = node[active]
            x = X[row[active], self.feature_[nd]].astype(np.float64)
            go_left = (x <= self.threshold_[nd]) | (np.isnan(x) & self.missing_left_[nd])
            nd = np.where(go_left, self.left_[nd], self.right_[nd])
            node[active] = nd
            active = active[self.left_[nd] != _LEAF]
        leaf_values = self.value_[node].reshape(n, n_trees, len(CLASSES))
        proba = np.zeros((n, len(CLASSES)))
        for t in range(n_trees):  # same order and arithmetic as sklearn's accumulation
            proba += leaf_values[:, t]
        proba /= n_trees
        return proba

    def _save(self, path: Path) -> None:
        for key in _ARRAYS:
            write_npy(path / f"forest_{key}.npy", getattr(self, f"{key}_"))
        write_json(path / "forest.json", {"n_features": self.n_features_, "n_trees": len(self.roots_),
                                           "n_nodes": len(self.left_)})

    def _load(self, path: Path) -> None:
        for key in _ARRAYS:
            setattr(self, f"{key}_", load_npy(path / f"forest_{key}.npy", mmap=False))
        meta = read_json(path / "forest.json")
        self.n_features_ = int(meta["n_features"])
        if len(self.roots_) != meta["n_trees"] or len(self.left_) != meta["n_nodes"]:
            raise ValueError(f"{path}: forest arrays do not match forest.json")
