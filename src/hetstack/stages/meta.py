"""Stage function of rules/meta.smk: the meta-learner fitted on the OOF matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hetstack.io import atomic_dir, read_parquet, write_json
from hetstack.tables import prob_columns
from hetstack.stages.oof import fit_weights

log = logging.getLogger("hetstack")


def skilled_bases(X: np.ndarray, y: np.ndarray, base_names: list[str]) -> tuple[list[str], dict[str, float]]:
    """Bases whose OOF probabilities beat the class prior of these rows in log loss (skill > 0), and
    every base's skill. With none skilled, the least bad one, so the meta keeps an input."""
    from hetstack.evaluation import class_prior, classification_metrics

    prior = class_prior(y)
    skill = {b: classification_metrics(y, X[:, 3 * i:3 * i + 3], prior=prior)["skill"] for i, b in enumerate(base_names)}
    kept = [b for b in base_names if skill[b] > 0] or [max(base_names, key=skill.get)]
    return kept, skill


@dataclass(frozen=True)
class MetaSettings:
    params: dict
    seed: int
    threads: int
    val_split: float  # purged last share of OOF rows that validates the meta (use_oof_for_val: false)
    use_oof_for_val: bool  # validate by purged K-fold over all OOF rows instead
    n_folds: int
    purge_bars: int
    embargo_bars: int
    use_sample_weights: bool
    drop_unskilled_bases: bool = True


def fit_meta(meta: str, matrix_path: str, base_names: list[str], out_dir: str, settings: MetaSettings) -> None:
    """Fit a meta-learner on the OOF matrix; validate it on a purged tail slice (or by purged K-fold).

    With `drop_unskilled_bases`, a base without OOF skill on the meta's own training rows is left
    out of its inputs: it can only add noise. Chosen per fit, so no validation row takes part."""
    from hetstack.cv import inner_validation_split, purged_kfold
    from hetstack.evaluation import class_prior, classification_metrics
    from hetstack.catalogue import get_spec

    cfg = settings
    params, seed, threads, val_split, n_folds = cfg.params, cfg.seed, cfg.threads, cfg.val_split, cfg.n_folds
    purge_bars, embargo_bars = cfg.purge_bars, cfg.embargo_bars
    matrix = read_parquet(matrix_path)
    spec = get_spec(meta)
    columns = [c for b in base_names for c in prob_columns(b)]
    X = matrix[columns].to_numpy(np.float64)
    y = matrix["label"].to_numpy()
    w = matrix["weight"].to_numpy() if cfg.use_sample_weights else np.ones(len(matrix))
    ids, t1 = matrix["sample_id"].to_numpy(np.int64), matrix["t1"].to_numpy(np.int64)

    def inputs(bases: list[str]) -> list[int]:
        return [3 * base_names.index(b) + k for b in bases for k in range(3)]

    def fit_on(rows: np.ndarray):
        """A meta fitted on `rows` alone. One that early-stops or calibrates gets a purged slice
        carved from those rows, so no row a validation score is measured on is fitted on."""
        bases = skilled_bases(X[rows], y[rows], base_names)[0] if cfg.drop_unskilled_bases else list(base_names)
        Xb = X[:, inputs(bases)]
        model = spec.cls(params, seed=seed, threads=threads, base_names=bases)
        if model.fits_on_holdout:
            fit_ids, hold_ids = inner_validation_split(ids[rows], t1[rows], val_split, purge_bars, embargo_bars)
            fit, hold = np.isin(ids, fit_ids), np.isin(ids, hold_ids)
            model.fit(Xb[fit], y[fit], Xb[hold], y[hold], sample_weights=fit_weights(w[fit]))
        else:
            model.fit(Xb[rows], y[rows], sample_weights=fit_weights(w[rows]))
        return model

    def predict(model, rows: np.ndarray) -> np.ndarray:
        return model.predict(X[rows][:, inputs(model.base_names)]).probabilities

    if cfg.use_oof_for_val:
        # every OOF row validates once, predicted by a meta fitted on the purged rest
        val_mask = np.ones(len(ids), dtype=bool)
        val_proba = np.zeros((len(ids), 3))
        for fold in purged_kfold(ids, t1, n_folds, purge_bars, embargo_bars):
            te = np.isin(ids, fold.test_ids)
            val_proba[te] = predict(fit_on(np.isin(ids, fold.train_ids)), te)
        model = fit_on(val_mask)
        fit_mask = val_mask
        mode = f"purged {n_folds}-fold cross-validation over all OOF rows; final fit on all rows"
    else:
        fit_ids, val_ids = inner_validation_split(ids, t1, val_split, purge_bars, embargo_bars)
        fit_mask, val_mask = np.isin(ids, fit_ids), np.isin(ids, val_ids)
        model = fit_on(fit_mask)
        val_proba = predict(model, val_mask)
        mode = f"fit on the first {1 - val_split:.0%} of OOF rows, validated on the purged last {val_split:.0%}"
    y_val, prior = y[val_mask], class_prior(y)  # skill against the class shares of the OOF (train) rows
    fit_skill = skilled_bases(X[fit_mask], y[fit_mask], base_names)[1]
    dropped = [b for b in base_names if b not in model.base_names]
    validation = {
        "mode": mode,
        "n_fit": int(fit_mask.sum()), "n_val": int(val_mask.sum()),
        "val_sample_range": [int(ids[val_mask][0]), int(ids[val_mask][-1])],
        "meta": classification_metrics(y_val, val_proba, prior=prior),
        "bases": {b: classification_metrics(y_val, X[val_mask][:, 3 * i:3 * i + 3], prior=prior)
                  for i, b in enumerate(base_names)},
        "base_skill_on_fit_rows": fit_skill,
        "dropped_bases": dropped,
    }
    for b in dropped:
        log.warning("%s: base %s has no OOF skill on the meta's fit rows (%+.4f): left out of the meta's inputs",
                    meta, b, fit_skill[b])
    with atomic_dir(out_dir) as tmp_dir:  # the model directory appears complete or not at all
        model.save(tmp_dir)
        write_json(tmp_dir / "validation.json", validation)
    log.info("%s: validation %s", meta, validation["meta"])
