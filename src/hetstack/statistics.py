"""Statistics that let a quant trust a backtest.

- Block-bootstrap intervals of mean scores and Sharpe ratios (arch's circular block bootstrap:
  overlapping labels correlate neighbouring samples, so rows are resampled in blocks).
- The probabilistic Sharpe ratio (Bailey & López de Prado 2012) and the deflated Sharpe ratio
  (Bailey & López de Prado 2014): the probability that the true Sharpe exceeds a benchmark given
  the sample's length, skewness and kurtosis, the benchmark being the expected maximum Sharpe of
  the trials compared for the DSR.
- The probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV,
  Bailey, Borwein, López de Prado & Zhu 2015).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
from scipy import stats

from .errors import ConfigError, DataError


def _check_matrix(values, what: str, min_rows: int = 2) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] < min_rows or not np.isfinite(values).all():
        raise DataError(what, f"needs a finite (rows, columns) array with >= {min_rows} rows, got shape "
                        f"{values.shape}", "pass one row per sample or bar")
    return values


def _check_bootstrap(block: int, reps: int, confidence: float) -> None:
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise ConfigError("statistics: block", f"must be an integer >= 1, got {block!r}", "pass a block length in rows")
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 100:
        raise ConfigError("config: statistics.bootstrap_reps", f"must be an integer >= 100, got {reps!r}",
                          "set statistics.bootstrap_reps to e.g. 1000")
    if not 0 < confidence < 1:
        raise ConfigError("config: statistics.confidence", f"must be in (0, 1), got {confidence!r}",
                          "set statistics.confidence to e.g. 0.95")


def _bootstrap(values: np.ndarray, block: int, reps: int, seed: int, statistic) -> np.ndarray:
    """(reps, k) statistics of circular block resamples of the rows of `values` (arch)."""
    from arch.bootstrap import CircularBlockBootstrap

    resampler = CircularBlockBootstrap(int(block), values, seed=np.random.default_rng(seed))
    return np.asarray(resampler.apply(statistic, int(reps)), dtype=np.float64)


def _percentile_intervals(draws: np.ndarray, confidence: float) -> list[list[float]]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    return [[float(lo), float(hi)] for lo, hi in zip(low, high)]


def mean_intervals(values, block: int, reps: int = 1000, confidence: float = 0.95, seed: int = 0) -> list[list[float]]:
    """Percentile intervals of each column's mean, from one circular block bootstrap over rows
    (columns resampled together, so a column of paired differences gets a paired interval)."""
    _check_bootstrap(block, reps, confidence)
    values = _check_matrix(values, "statistics: values")
    draws = _bootstrap(values, min(int(block), len(values)), reps, seed, lambda x: x.mean(axis=0))
    return _percentile_intervals(draws, confidence)


def sharpe_ratios(pnl, periods_per_year: float = 1.0) -> np.ndarray:
    """mean / std (ddof 1) of each column, times sqrt(periods_per_year); 0 for a flat column."""
    pnl = _check_matrix(pnl, "statistics: pnl")
    mean, std = pnl.mean(axis=0), pnl.std(axis=0, ddof=1)
    flat = (std == 0) | (std <= 1e-12 * np.abs(mean))  # rounding noise of a constant series
    return np.where(flat, 0.0, mean / np.where(flat, 1.0, std)) * math.sqrt(periods_per_year)


def sharpe_intervals(pnl, block: int, periods_per_year: float, reps: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> list[list[float]]:
    """Percentile intervals of each column's annualized Sharpe ratio, by circular block bootstrap of bars."""
    _check_bootstrap(block, reps, confidence)
    pnl = _check_matrix(pnl, "statistics: pnl", min_rows=3)
    draws = _bootstrap(pnl, min(int(block), len(pnl)), reps, seed, lambda x: sharpe_ratios(x, periods_per_year))
    return _percentile_intervals(draws, confidence)


def sharpe_gap_interval(pnl_a, pnl_b, block: int, periods_per_year: float, reps: int = 1000,
                        confidence: float = 0.95, seed: int = 0) -> list[float]:
    """Percentile interval of Sharpe(a) - Sharpe(b), both books resampled on the same bars (paired)."""
    _check_bootstrap(block, reps, confidence)
    pnl = _check_matrix(np.column_stack([pnl_a, pnl_b]), "statistics: pnl", min_rows=3)
    draws = _bootstrap(pnl, min(int(block), len(pnl)), reps, seed,
                       lambda x: np.atleast_1d(np.diff(sharpe_ratios(x, periods_per_year)[::-1])))
    return _percentile_intervals(draws, confidence)[0]


def se_group_means(values, groups) -> tuple[float, int]:
    """SE of the mean of `values` from the means of its groups (the folds of a cross-validation) and its
    degrees of freedom (groups - 1). A fold's gap shares one fitted model, so its rows err together;
    short batch means miss that part and make the SE too small."""
    values, groups = np.asarray(values, dtype=np.float64), np.asarray(groups)
    labels = np.unique(groups)
    if labels.size < 2 or values.shape != groups.shape:
        raise DataError("statistics: groups", f"{labels.size} groups for {values.size} values",
                        "pass one group label a value and at least two groups")
    means = np.array([values[groups == g].mean() for g in labels])
    return float(means.std(ddof=1) / math.sqrt(labels.size)), int(labels.size - 1)


def one_se_threshold(margin_se: float, df: int) -> float:
    """The multiple of a t-based SE (df degrees of freedom) that a zero-mean gap exceeds as often as a
    normal one exceeds `margin_se` SEs (32% at 1): few folds make the SE itself noisy."""
    return float(stats.t.ppf(stats.norm.cdf(margin_se), df))


def random_effects_pool(estimates, standard_errors) -> dict:
    """DerSimonian-Laird random-effects pooling of k estimates with their standard errors (one a run):
    fixed-effect weights w = 1/se², Cochran's Q = sum w (y - y_w)², between-run variance
    tau² = max(0, (Q - (k - 1)) / (sum w - sum w² / sum w)), then weights 1/(se² + tau²).
    Returns the pooled estimate, its SE, tau², Q, I² (the share of spread beyond sampling error) and k."""
    y = np.asarray(estimates, dtype=np.float64)
    se = np.asarray(standard_errors, dtype=np.float64)
    if y.ndim != 1 or se.shape != y.shape or y.size == 0:
        raise DataError("statistics: estimates", f"shapes {y.shape} and {se.shape}", "pass one estimate and SE a run")
    if not (np.isfinite(y).all() and np.isfinite(se).all() and (se > 0).all()):
        raise DataError("statistics: standard_errors", "every estimate must be finite and every SE > 0",
                        "drop runs without an SE (a gain that is zero by construction)")
    w = 1.0 / se**2
    fixed = float((w * y).sum() / w.sum())
    q = float((w * (y - fixed) ** 2).sum())
    k = y.size
    tau2 = max(0.0, (q - (k - 1)) / float(w.sum() - (w**2).sum() / w.sum())) if k > 1 else 0.0
    w_star = 1.0 / (se**2 + tau2)
    return {"estimate": float((w_star * y).sum() / w_star.sum()), "se": float(1.0 / math.sqrt(w_star.sum())),
            "tau2": tau2, "q": q, "i2": max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0, "k": int(k),
            "method": "DerSimonian-Laird random effects"}


def probabilistic_sharpe(sharpe: float, n: int, skewness: float, kurtosis: float, benchmark: float = 0.0) -> float:
    """PSR: P(true Sharpe > benchmark) for a per-period Sharpe estimated on n observations with the
    given skewness and (non-excess) kurtosis (Bailey & López de Prado 2012, eq. 9)."""
    if n < 2:
        raise DataError("statistics: n", f"needs at least 2 observations, got {n}", "score a longer period")
    variance = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not variance > 0:  # extreme moments make the estimator's variance formula break down
        return float("nan")
    return float(stats.norm.cdf((sharpe - benchmark) * math.sqrt(n - 1) / math.sqrt(variance)))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """E[max] of n_trials Sharpe ratios of skill-free strategies whose estimates vary with this variance
    (False Strategy theorem, Bailey & López de Prado 2014, eq. 2); 0 for a single trial."""
    if n_trials < 2:
        return 0.0
    gamma = np.euler_gamma
    z = (1 - gamma) * stats.norm.ppf(1 - 1.0 / n_trials) + gamma * stats.norm.ppf(1 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(max(sharpe_variance, 0.0)) * z)


def deflated_sharpe(sharpe: float, n: int, skewness: float, kurtosis: float, trial_sharpes) -> dict:
    """DSR: the PSR against the expected maximum Sharpe of the trials (per-period Sharpes, this one
    among them); their variance across trials sets how much luck the maximum holds."""
    trials = np.asarray(trial_sharpes, dtype=np.float64)
    variance = float(trials.var(ddof=1)) if trials.size > 1 else 0.0
    benchmark = expected_max_sharpe(int(trials.size), variance)
    # per bar, as the Sharpe ratios they are compared with (the report's Sharpe ratios are annualized)
    return {"dsr": probabilistic_sharpe(sharpe, n, skewness, kurtosis, benchmark),
            "expected_max_sharpe_per_bar": benchmark, "n_trials": int(trials.size),
            "trial_sharpe_variance_per_bar": variance}


def sharpe_statistics(pnl: dict[str, np.ndarray], periods_per_year: float, extra_trial_sharpes=()) -> dict:
    """Per model: per-period and annualized Sharpe, moments, PSR(0) and DSR over all the models given.
    Kurtosis is raw (3 for normal returns), as the PSR formula of Bailey & López de Prado takes it.
    `extra_trial_sharpes`: per-period Sharpes of further trials the choice of these models made
    (tuning's trial clusters, trial_clusters), counted in every DSR; `dsr_before_tuning` leaves them out."""
    names = list(pnl)
    matrix = _check_matrix(np.column_stack([pnl[m] for m in names]), "statistics: pnl", min_rows=3)
    per_period = sharpe_ratios(matrix)
    out = {}
    for j, name in enumerate(names):
        column = matrix[:, j]
        constant = per_period[j] == 0.0
        skewness = 0.0 if constant else float(stats.skew(column))
        kurtosis = 3.0 if constant else float(stats.kurtosis(column, fisher=False))
        extra = np.asarray(extra_trial_sharpes, dtype=np.float64)
        deflated = deflated_sharpe(per_period[j], len(column), skewness, kurtosis, np.concatenate([per_period, extra]))
        if extra.size:
            deflated["dsr_before_tuning"] = deflated_sharpe(per_period[j], len(column), skewness, kurtosis,
                                                            per_period)["dsr"]
            deflated["n_tuning_trials"] = int(extra.size)
        out[name] = {"sharpe_per_bar": float(per_period[j]),
                     "sharpe_ratio": float(per_period[j] * math.sqrt(periods_per_year)),
                     "n_bars": int(len(column)), "skewness": skewness, "kurtosis": kurtosis,
                     "psr": probabilistic_sharpe(per_period[j], len(column), skewness, kurtosis), **deflated}
    return out


def cscv_pbo(returns, n_blocks: int = 16, names: list[str] | None = None) -> dict:
    """Probability of backtest overfitting by CSCV over a (periods, models) matrix of returns.

    The rows are cut into n_blocks contiguous blocks; for each of the C(S, S/2) ways to take half of
    them in-sample, the model with the best in-sample Sharpe is ranked out-of-sample. With relative
    rank w in (0, 1) and logit = ln(w / (1 - w)), PBO is the share of splits with logit <= 0: how
    often the in-sample winner is no better than the median model out-of-sample.
    """
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int | np.integer) or n_blocks < 2 or n_blocks % 2:
        raise ConfigError("config: statistics.pbo_blocks", f"must be an even integer >= 2, got {n_blocks!r}",
                          "set statistics.pbo_blocks to e.g. 16")
    returns = _check_matrix(returns, "statistics: returns", min_rows=2 * int(n_blocks))
    n_models = returns.shape[1]
    if n_models < 2:
        raise DataError("statistics: returns", "PBO compares models: got one column", "pass two or more models")
    blocks = np.array_split(returns, int(n_blocks))
    sums = np.array([b.sum(axis=0) for b in blocks])
    squares = np.array([(b**2).sum(axis=0) for b in blocks])
    counts = np.array([len(b) for b in blocks], dtype=np.float64)
    chosen = np.array(list(combinations(range(int(n_blocks)), int(n_blocks) // 2)))
    in_sample = np.zeros((len(chosen), int(n_blocks)))
    np.put_along_axis(in_sample, chosen, 1.0, axis=1)

    def sharpe_of(weights: np.ndarray) -> np.ndarray:  # (splits, models) from per-block sums
        n = weights @ counts
        mean = (weights @ sums) / n[:, None]
        variance = ((weights @ squares) - n[:, None] * mean**2) / (n[:, None] - 1)
        return mean / np.sqrt(np.maximum(variance, 1e-300))

    return _pbo_from(sharpe_of(in_sample), sharpe_of(1.0 - in_sample), names, {"n_blocks": int(n_blocks)})


def _pbo_from(score_in: np.ndarray, score_out: np.ndarray, names: list[str] | None, blocks: dict) -> dict:
    """PBO from (splits, models) in- and out-of-sample scores (higher better): the in-sample winner's
    relative rank w out-of-sample, logit ln(w / (1 - w)), and the share of splits with logit <= 0."""
    n_models = score_in.shape[1]
    best = score_in.argmax(axis=1)
    best_out = score_out[np.arange(len(best)), best]
    below = (score_out < best_out[:, None]).sum(axis=1)
    ties = (score_out == best_out[:, None]).sum(axis=1)
    relative_rank = (below + (ties + 1) / 2.0) / (n_models + 1)
    logits = np.log(relative_rank / (1.0 - relative_rank))
    return {"pbo": float(np.mean(logits <= 0)), "n_splits": int(len(best)), **blocks,
            "n_models": int(n_models), "median_logit": float(np.median(logits)),
            "prob_oos_loss": float(np.mean(best_out < 0)),  # the in-sample winner loses out-of-sample
            "in_sample_winner_share": {(names[j] if names else str(j)): float(np.mean(best == j))
                                       for j in np.unique(best)}}


def pbo_across_runs(scores, names: list[str] | None = None) -> dict:
    """PBO with runs as the blocks: a (runs, models) matrix of one score each (test skill, higher
    better). For every way to take half the runs (the smaller half when their count is odd), the model
    with the best mean score on them is ranked by its mean on the other runs. Is "the best model" of
    some runs the best of the rest of the universe, or a draw?"""
    scores = _check_matrix(scores, "statistics: scores", min_rows=2)
    n_runs, n_models = scores.shape
    if n_models < 2:
        raise DataError("statistics: scores", "PBO compares models: got one column", "pass two or more models")
    chosen = np.array(list(combinations(range(n_runs), n_runs // 2)))
    in_sample = np.zeros((len(chosen), n_runs))
    np.put_along_axis(in_sample, chosen, 1.0, axis=1)
    mean_in = in_sample @ scores / in_sample.sum(axis=1, keepdims=True)
    mean_out = (1.0 - in_sample) @ scores / (1.0 - in_sample).sum(axis=1, keepdims=True)
    return _pbo_from(mean_in, mean_out, names, {"n_runs": int(n_runs)})


def trial_clusters(returns, seed: int = 0, n_init: int = 5) -> dict:
    """The effective number of trials: the trials' return series clustered as López de Prado & Lewis
    (2019) advise for the DSR (ONC's base clustering, *Machine Learning for Asset Managers* snippet 4.1).

    `returns`: a (bars, trials) frame, NaN where a trial holds no position (a pruned trial's unscored
    folds); correlations are pairwise over the bars both hold. Rows of the distance matrix
    sqrt((1 - rho) / 2) are clustered by k-means for k = 2 .. n - 1, keeping the k whose silhouettes
    have the highest mean / std. Each cluster is one strategy: its returns are the mean of its members',
    its Sharpe one draw among the `n_clusters` that the DSR's expected maximum counts. Two trials or
    fewer are each their own cluster (nothing to cluster on)."""
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_samples
    from threadpoolctl import threadpool_limits

    frame = pd.DataFrame(returns)
    n = frame.shape[1]
    if n == 0:
        raise DataError("statistics: trial returns", "no trials to cluster", "pass one column per trial")
    labels = np.arange(n)
    if n > 2:
        corr = frame.corr(min_periods=3).fillna(0.0).to_numpy()
        distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, None))
        best = None
        for init, k in ((i, k) for i in range(n_init) for k in range(2, n)):
            with threadpool_limits(1):  # hundreds of fits of an n x n matrix: threads cost more than they give
                fitted = KMeans(n_clusters=k, n_init=1, random_state=seed + init).fit(distance)
            if len(np.unique(fitted.labels_)) < 2:
                continue
            silhouettes = silhouette_samples(distance, fitted.labels_)
            spread = silhouettes.std()
            quality = silhouettes.mean() / spread if spread > 0 else np.inf
            if best is None or quality > best[0]:
                best = (quality, fitted.labels_)
        if best is not None:
            labels = np.unique(best[1], return_inverse=True)[1]
    cluster_returns = [frame.iloc[:, labels == c].mean(axis=1, skipna=True).dropna().to_numpy()
                       for c in range(labels.max() + 1)]
    sharpes = [float(sharpe_ratios(r)[0]) if r.size >= 2 else 0.0 for r in cluster_returns]
    return {"n_trials": int(n), "n_clusters": int(labels.max() + 1), "labels": labels.tolist(),
            "cluster_sharpes_per_bar": sharpes}
