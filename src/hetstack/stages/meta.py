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
    regime_window: int = 1440  # bars behind the regime features (hetstack.regime) a meta may read
    candidate_params: dict | None = None  # meta_auto: each candidate's model_params
    # after validating on the split, refit on every OOF row: the deployed meta (and meta_best_base's
    # pick) then sees the latest OOF rows, the ones nearest the test period
    refit_all_rows: bool = True


class MetaFitter:
    """Fits one meta-learner on chosen rows of an OOF matrix and predicts others: the rules shared by
    fit_meta and the CPCV meta-learners. With `drop_unskilled_bases`, a base without OOF skill on the
    fit rows is left out of the inputs; meta_auto picks its candidate per fit (fit_auto)."""

    def __init__(self, meta: str, matrix, base_names: list[str], settings: MetaSettings, regime=None):
        from hetstack.catalogue import get_spec

        self.spec, self.cfg, self.base_names, self.regime = get_spec(meta), settings, list(base_names), regime
        self.X = matrix[[c for b in base_names for c in prob_columns(b)]].to_numpy(np.float64)
        self.y = matrix["label"].to_numpy()
        self.w = matrix["weight"].to_numpy() if settings.use_sample_weights else np.ones(len(matrix))
        self.ids, self.t1 = matrix["sample_id"].to_numpy(np.int64), matrix["t1"].to_numpy(np.int64)

    def inputs(self, model, rows: np.ndarray) -> np.ndarray:
        from hetstack.regime import meta_inputs

        columns = [3 * self.base_names.index(b) + k for b in model.base_names for k in range(3)]
        return meta_inputs(model, self.X[rows][:, columns], None if self.regime is None else self.regime[rows])

    def fit_candidate(self, name: str, params: dict, rows: np.ndarray):
        """Meta `name` fitted on `rows` alone. One that early-stops or calibrates gets a purged slice
        carved from those rows, so no row a validation score is measured on is fitted on."""
        from hetstack.catalogue import get_spec
        from hetstack.cv import inner_validation_split

        cfg, X, y, w, ids = self.cfg, self.X, self.y, self.w, self.ids
        bases = skilled_bases(X[rows], y[rows], self.base_names)[0] if cfg.drop_unskilled_bases else self.base_names
        model = get_spec(name).cls(params, seed=cfg.seed, threads=cfg.threads, base_names=list(bases))
        if model.fits_on_holdout:
            fit_ids, hold_ids = inner_validation_split(ids[rows], self.t1[rows], cfg.val_split, cfg.purge_bars,
                                                       cfg.embargo_bars)
            fit, hold = np.isin(ids, fit_ids), np.isin(ids, hold_ids)
            model.fit(self.inputs(model, fit), y[fit], self.inputs(model, hold), y[hold],
                      sample_weights=fit_weights(w[fit]))
        else:
            model.fit(self.inputs(model, rows), y[rows], sample_weights=fit_weights(w[rows]))
        return model

    def predict(self, model, rows: np.ndarray) -> np.ndarray:
        return model.predict(self.inputs(model, rows)).probabilities

    def fit(self, rows: np.ndarray):
        from hetstack.meta.meta_auto import AutoMeta

        if AutoMeta.is_auto(self.spec.name):
            return fit_auto(self.spec.cls, self.cfg, rows, self.ids, self.t1, self.y, self.fit_candidate, self.predict)
        return self.fit_candidate(self.spec.name, self.cfg.params, rows)


def fit_meta(meta: str, matrix_path: str, base_names: list[str], out_dir: str, settings: MetaSettings,
             bars_path: str | None = None) -> None:
    """Fit a meta-learner on the OOF matrix; validate it on a purged tail slice (or by purged K-fold)."""
    model, validation = fit_meta_rows(meta, read_parquet(matrix_path), base_names, settings, bars_path)
    save_meta(meta, model, validation, out_dir)


def fit_meta_rows(meta: str, matrix, base_names: list[str], settings: MetaSettings, bars_path: str | None = None):
    """The meta-learner fitted on the rows of an OOF matrix (a frame as merge_oof writes) and its
    validation record: fit_meta's work, shared with the walk-forward windows' meta-learners."""
    from hetstack.cv import inner_validation_split, purged_kfold
    from hetstack.catalogue import get_spec

    cfg = settings
    ids, t1 = matrix["sample_id"].to_numpy(np.int64), matrix["t1"].to_numpy(np.int64)
    regime = sample_regime(meta, bars_path, ids, cfg.regime_window) if get_spec(meta).cls.reads_regime else None
    fitter = MetaFitter(meta, matrix, base_names, cfg, regime)
    if cfg.use_oof_for_val:
        # every OOF row validates once, predicted by a meta fitted on the purged rest
        val_mask = np.ones(len(ids), dtype=bool)
        val_proba = np.zeros((len(ids), 3))
        for fold in purged_kfold(ids, t1, cfg.n_folds, cfg.purge_bars, cfg.embargo_bars):
            te = np.isin(ids, fold.test_ids)
            val_proba[te] = fitter.predict(fitter.fit(np.isin(ids, fold.train_ids)), te)
        model = fitter.fit(val_mask)
        fit_mask = val_mask
        mode = f"purged {cfg.n_folds}-fold cross-validation over all OOF rows; final fit on all rows"
    else:
        fit_ids, val_ids = inner_validation_split(ids, t1, cfg.val_split, cfg.purge_bars, cfg.embargo_bars)
        fit_mask, val_mask = np.isin(ids, fit_ids), np.isin(ids, val_ids)
        model = fitter.fit(fit_mask)
        val_proba = fitter.predict(model, val_mask)
        mode = f"fit on the first {1 - cfg.val_split:.0%} of OOF rows, validated on the purged last {cfg.val_split:.0%}"
        if cfg.refit_all_rows:
            model = fitter.fit(np.ones(len(ids), dtype=bool))
            mode += "; the model kept is refitted on all OOF rows"
    return model, validation_record(mode, fitter.X, fitter.y, ids, fit_mask, val_mask, val_proba, base_names,
                                    model.base_names)


def sample_regime(meta: str, bars_path: str | None, ids: np.ndarray, window: int) -> np.ndarray:
    """The regime features (hetstack.regime) of the samples `ids`, for a meta that reads them."""
    from hetstack.regime import regime_rows

    if bars_path is None:
        raise ValueError(f"{meta} reads regime features: pass the bars they are computed from")
    return regime_rows(read_parquet(bars_path, columns=["timestamp", "close"]), ids, window)


def save_meta(meta: str, model, validation: dict, out_dir: str) -> None:
    """The fitted meta and its validation.json, logged; meta_auto's choice goes into validation.json."""
    for b in validation["dropped_bases"]:
        log.warning("%s: base %s has no OOF skill on the meta's fit rows (%+.4f): left out of the meta's inputs",
                    meta, b, validation["base_skill_on_fit_rows"][b])
    if hasattr(model, "choice_"):
        validation["auto_choice"] = model.choice_
        log.info("%s: chose %s (%s)", meta, model.choice_["chosen"], model.choice_["rule"])
    with atomic_dir(out_dir) as tmp_dir:  # the model directory appears complete or not at all
        model.save(tmp_dir)
        write_json(tmp_dir / "validation.json", validation)
    log.info("%s: validation %s", meta, validation["meta"])


def validation_record(mode: str, X: np.ndarray, y: np.ndarray, ids: np.ndarray, fit_mask: np.ndarray,
                      val_mask: np.ndarray, val_proba: np.ndarray, base_names: list[str], meta_bases: list[str]) -> dict:
    """validation.json: the meta's and every base's scores on the validation rows, skill against the
    class shares of all OOF (train) rows, and which bases the meta left out."""
    from hetstack.evaluation import class_prior, classification_metrics

    y_val, prior = y[val_mask], class_prior(y)
    return {
        "mode": mode,
        "n_fit": int(fit_mask.sum()), "n_val": int(val_mask.sum()),
        "val_sample_range": [int(ids[val_mask][0]), int(ids[val_mask][-1])],
        "meta": classification_metrics(y_val, val_proba, prior=prior),
        "bases": {b: classification_metrics(y_val, X[val_mask][:, 3 * i:3 * i + 3], prior=prior)
                  for i, b in enumerate(base_names)},
        "base_skill_on_fit_rows": skilled_bases(X[fit_mask], y[fit_mask], base_names)[1],
        "dropped_bases": [b for b in base_names if b not in meta_bases],
    }


def fit_auto(auto_cls, cfg: MetaSettings, rows: np.ndarray, ids: np.ndarray, t1: np.ndarray, y: np.ndarray,
             fit_candidate, predict):
    """meta_auto (or meta_shrink) fitted on `rows`: each candidate scored by purged K-fold over those
    rows alone, the choice by choose_candidate (and the shrinkage by shrink_toward_base), the chosen
    ones refitted on all of them.
    fit_candidate(name, params, rows) -> model and predict(model, rows) -> probabilities come from fit_meta."""
    from hetstack.catalogue import canonical_name
    from hetstack.cv import purged_kfold

    params = {**auto_cls.default_params, **cfg.params}
    names = [canonical_name(c) for c in params["candidates"]]
    if not names or any(auto_cls.is_auto(n) for n in names) or len(set(names)) < len(names):
        from hetstack.errors import ConfigError

        raise ConfigError(f"config: model_params.{auto_cls.name}.candidates", f"got {params['candidates']!r}",
                          "list distinct meta-learners other than meta_auto and meta_shrink, simplest first")
    candidate_params = {n: (cfg.candidate_params or {}).get(n, {}) for n in names}
    folds = purged_kfold(ids[rows], t1[rows], int(params["n_folds"]), cfg.purge_bars, cfg.embargo_bars)
    fold_of_row = np.full(int(rows.sum()), -1)
    for k, fold in enumerate(folds):
        fold_of_row[np.isin(ids[rows], fold.test_ids)] = k

    def cv_probabilities(name: str) -> np.ndarray:
        """Each of `rows` predicted by the candidate fitted on the purged other folds of `rows`."""
        out = np.zeros((int(rows.sum()), 3))
        for fold in folds:
            model = fit_candidate(name, candidate_params[name], np.isin(ids, fold.train_ids))
            out[np.isin(ids[rows], fold.test_ids)] = predict(model, np.isin(ids, fold.test_ids))
        return out

    cv = {n: cv_probabilities(n) for n in names}
    choice = choose_candidate(cv, y[rows], fold_of_row, margin_se=float(params["margin_se"]))
    if not params.get("shrink"):
        chosen = fit_candidate(choice["chosen"], candidate_params[choice["chosen"]], rows)
        return auto_cls.wrap(chosen, choice, params, seed=cfg.seed)
    choice["shrinkage"] = shrink = shrink_toward_base(cv, y[rows], fold_of_row)
    stacker, toward, alpha = shrink["stacker"], shrink["toward"], shrink["alpha"]
    choice["chosen"] = stacker if alpha >= 0.5 else toward  # the larger part
    model = fit_candidate(stacker, candidate_params[stacker], rows)
    # both parts are kept even at alpha 0 or 1, so a blend always holds the same two fits
    partner = None if stacker == toward else (fit_candidate(toward, candidate_params[toward], rows), 1.0 - alpha)
    return auto_cls.wrap(model, choice, params, seed=cfg.seed, partner=partner)


SHRINK_GRID = np.linspace(0.0, 1.0, 21)  # the stacker's weight in steps of 0.05


def shrink_toward_base(cv_probabilities: dict[str, np.ndarray], y: np.ndarray, fold_of_row: np.ndarray) -> dict:
    """A convex blend alpha * stacker + (1 - alpha) * base of the lowest-CV-loss stacker and the first
    (simplest) candidate, the best single base. alpha is the grid weight with the lowest log loss over
    the candidates' cross-validated probabilities. Its own honest score is cross-fitted: each fold is
    blended with the alpha chosen on the other folds, and that loss is recorded beside the base's."""
    from hetstack.evaluation import class_prior, per_sample_scores
    from hetstack.statistics import se_group_means

    names = list(cv_probabilities)
    toward = names[0]
    prior = class_prior(y)

    def loss(p):
        return per_sample_scores(y, p, prior)["log_loss"]

    stacker = min(names[1:], key=lambda n: loss(cv_probabilities[n]).mean()) if len(names) > 1 else toward
    p_s, p_b = cv_probabilities[stacker], cv_probabilities[toward]
    losses = np.stack([loss(a * p_s + (1 - a) * p_b) for a in SHRINK_GRID])  # (grid, rows)
    alpha = float(SHRINK_GRID[int(np.argmin(losses.mean(axis=1)))])
    crossfit = np.empty(len(y))
    per_fold = {}
    for k in np.unique(fold_of_row):
        inside = fold_of_row == k
        a = int(np.argmin(losses[:, ~inside].mean(axis=1)))
        crossfit[inside] = losses[a, inside]
        per_fold[int(k)] = float(SHRINK_GRID[a])
    gain = loss(p_b) - crossfit
    se = se_group_means(gain, fold_of_row)[0]
    return {"toward": toward, "stacker": stacker, "alpha": alpha, "alpha_by_fold": per_fold,
            "crossfit_log_loss": float(crossfit.mean()), "crossfit_gain_over_toward": float(gain.mean()),
            "crossfit_gain_se": se,
            "rule": f"alpha * {stacker} + (1 - alpha) * {toward}, alpha on a grid of "
                    f"{len(SHRINK_GRID)} by the lowest log loss of the purged K-fold probabilities"}


def block_rows(ids: np.ndarray, t1: np.ndarray) -> int:
    """Rows per block for batch-means errors: twice the longest label span (labels overlap within it)."""
    return max(2, 2 * int(np.max(np.asarray(t1) - np.asarray(ids))))


def choose_candidate(cv_probabilities: dict[str, np.ndarray], y: np.ndarray, fold_of_row: np.ndarray,
                     margin_se: float = 1.0) -> dict:
    """The one-SE rule over candidates in order (simplest first): the first whose cross-validated log
    loss exceeds the lowest by at most `margin_se` SEs of their paired per-row difference. The SE comes
    from the per-fold means of that difference (each fold's candidates are fitted once, so its rows err
    together) and the margin is widened to the t quantile of as many degrees of freedom as folds - 1,
    so that a gap of zero mean crosses it as often as a normal one crosses `margin_se` SEs."""
    from hetstack.evaluation import class_prior, classification_metrics, per_sample_scores
    from hetstack.statistics import one_se_threshold, se_group_means

    prior = class_prior(y)
    losses = {n: per_sample_scores(y, p, prior)["log_loss"] for n, p in cv_probabilities.items()}
    best = min(losses, key=lambda n: losses[n].mean())
    scores, df = {}, len(np.unique(fold_of_row)) - 1
    for name, proba in cv_probabilities.items():
        gap = losses[name] - losses[best]
        se = se_group_means(gap, fold_of_row)[0]
        scores[name] = {**{k: classification_metrics(y, proba, prior=prior)[k] for k in ("log_loss", "accuracy", "skill")},
                        "log_loss_above_best": float(gap.mean()), "log_loss_above_best_se": se}
    threshold = one_se_threshold(margin_se, df)
    chosen = next(n for n in cv_probabilities
                  if n == best or scores[n]["log_loss_above_best"] <= threshold * scores[n]["log_loss_above_best_se"])
    return {"chosen": chosen, "lowest_cv_log_loss": best, "order": list(cv_probabilities), "candidates": scores,
            "n_rows": int(len(y)), "n_folds": int(df + 1), "threshold_se": threshold,
            "rule": "first candidate (simplest first) whose purged K-fold log loss over the meta's fit rows "
                    f"is within {margin_se:g} paired SE of the lowest (SE of the {df + 1} per-fold means, "
                    f"widened to {threshold:.3g} SE by the t quantile of {df} degrees of freedom)"}
