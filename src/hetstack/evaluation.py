"""Scoring: classification metrics on probabilities, and a staggered-book trading backtest."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss

from . import CLASSES
from .errors import ConfigError, DataError

_DAYS_PER_YEAR = 365.25


def class_prior(y) -> np.ndarray:
    """Share of each class -1, 0, +1 among labels: the constant forecast that skill is measured against."""
    y = np.asarray(y)
    return np.array([np.mean(y == c) for c in CLASSES], dtype=np.float64)


def classification_metrics(y_true, proba, sample_weight=None, prior=None) -> dict:
    """Accuracy and log loss of (N, 3) probabilities ordered (-1, 0, +1) against labels in {-1, 0, 1}.

    The predicted class is the argmax column mapped back to -1/0/+1. class_balance is the
    unweighted share of each true class, keyed '-1', '0', '1'. With `prior` (class shares of the
    training labels), `skill` is the log loss of always forecasting the prior minus the model's:
    > 0 means the model knows more than the class frequencies.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if y_true.ndim != 1 or y_true.size == 0:
        raise DataError("evaluation: y_true", f"must be a non-empty 1-D array, got shape {y_true.shape}", "pass the labels")
    if proba.shape != (y_true.size, len(CLASSES)):
        raise DataError(
            "evaluation: proba", f"must have shape ({y_true.size}, 3), got {proba.shape}", "pass columns ordered -1, 0, +1"
        )
    if not np.isin(y_true, CLASSES).all():
        raise DataError("evaluation: y_true", "labels must be -1, 0 or 1", "pass triple-barrier labels")
    if not np.isfinite(proba).all():
        raise DataError("evaluation: proba", "contains NaN or inf", "check the model's predictions")
    y_true = y_true.astype(np.int64)
    classes = np.asarray(CLASSES)
    predicted = classes[proba.argmax(axis=1)]
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    counts = {str(c): float(np.mean(y_true == c)) for c in CLASSES}
    metrics = {
        "accuracy": float(accuracy_score(y_true, predicted, sample_weight=weights)),
        "log_loss": float(log_loss(y_true, proba, labels=list(CLASSES), sample_weight=weights)),
        "n": int(y_true.size),
        "class_balance": counts,
    }
    if prior is not None:
        constant = np.broadcast_to(np.asarray(prior, dtype=np.float64), proba.shape)
        metrics["skill"] = float(log_loss(y_true, constant, labels=list(CLASSES), sample_weight=weights)
                                 - metrics["log_loss"])
    return metrics


def row_log_loss(y_true, proba) -> np.ndarray:
    """Each row's log loss, clipped as sklearn clips it."""
    column = np.searchsorted(np.asarray(CLASSES), np.asarray(y_true).astype(np.int64))
    return -np.log(np.clip(np.asarray(proba, dtype=np.float64)[np.arange(column.size), column],
                           np.finfo(np.float64).eps, 1.0))


def per_sample_scores(y_true, proba, prior) -> dict[str, np.ndarray]:
    """Per-sample terms whose means are the accuracy, the log loss and the skill of
    classification_metrics (log loss clipped as sklearn clips it): what intervals resample."""
    y_true = np.asarray(y_true).astype(np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    classes = np.asarray(CLASSES)
    column = np.searchsorted(classes, y_true)
    loss = row_log_loss(y_true, proba)
    prior_loss = -np.log(np.clip(np.asarray(prior, dtype=np.float64)[column], np.finfo(np.float64).eps, 1.0))
    return {"accuracy": (classes[proba.argmax(axis=1)] == y_true).astype(np.float64), "log_loss": loss,
            "skill": prior_loss - loss}


@dataclass
class Book:
    """Per-bar record of the staggered book over bars first_sample+1 .. last_sample+horizon."""

    bars: np.ndarray  # int64 bar positions t
    position: np.ndarray  # float64 book position held over bar t, in [-1, 1]
    bar_return: np.ndarray  # float64 close[t] / close[t-1] - 1
    traded: np.ndarray  # float64 |position change| charged to bar t (last bar includes the unwind)
    pnl: np.ndarray  # float64 position * bar_return - cost_bps * 1e-4 * traded


def staggered_book(positions, sample_ids, close, horizon, cost_bps) -> Book:
    """Run the staggered book of `trading_metrics` and return its per-bar record."""
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ConfigError("config: horizons", f"each must be an integer >= 1, got {horizon!r}", "list horizons as integers >= 1")
    if isinstance(cost_bps, bool) or not isinstance(cost_bps, numbers.Real) or not math.isfinite(cost_bps) or cost_bps < 0:
        raise ConfigError("config: trading.cost_bps", f"must be a finite number >= 0, got {cost_bps!r}", "set it to e.g. 1.0")
    horizon = int(horizon)
    positions = np.asarray(positions, dtype=np.float64)
    ids = np.asarray(sample_ids)
    close = np.asarray(close, dtype=np.float64)
    if positions.ndim != 1 or positions.shape != ids.shape or positions.size == 0:
        raise DataError("evaluation: positions", f"need equal non-empty 1-D positions and sample_ids, got {positions.shape} and {ids.shape}", "pass one position per sample")
    if not np.issubdtype(ids.dtype, np.integer) or (ids.size > 1 and not (np.diff(ids) > 0).all()):
        raise DataError("evaluation: sample_ids", "must be strictly ascending integer bar positions", "sort samples by bar")
    if not np.isfinite(positions).all() or (np.abs(positions) > 1).any():
        raise DataError("evaluation: positions", "must be finite and within [-1, 1]", "pass signals in {-1, 0, 1}")
    ids = ids.astype(np.int64)
    first, last = int(ids[0]), int(ids[-1])
    if first < 0 or last + horizon > close.size - 1:
        raise DataError(
            "evaluation: sample_ids",
            f"bars {first}..{last + horizon} are needed but close has {close.size} bars",
            "score only samples whose horizon lies inside the data (LabelResult.valid)",
        )
    if not (np.isfinite(close[first : last + horizon + 1]).all() and (close[first : last + horizon + 1] > 0).all()):
        raise DataError("evaluation: close", "non-finite or non-positive closes in the scored span", "repair the bars")

    # sleeve[k] = position taken at bar first + k (0 where that bar has no sample: a flat sleeve)
    sleeve = np.zeros(last - first + 1)
    sleeve[ids - first] = positions
    sleeve_prefix = np.concatenate([[0.0], np.cumsum(sleeve)])
    steps = np.arange(1, last + horizon - first + 1)  # bar t = first + step
    # Bar t is held by the sleeves opened at bars t-horizon .. t-1.
    held = sleeve_prefix[np.minimum(steps, sleeve.size)] - sleeve_prefix[np.maximum(steps - horizon, 0)]
    book_position = held / horizon

    bars = first + steps
    bar_return = close[bars] / close[bars - 1] - 1.0
    traded = np.abs(np.diff(book_position, prepend=0.0))
    traded[-1] += abs(book_position[-1])  # unwind the last sleeve at the close of the final bar
    pnl = book_position * bar_return - float(cost_bps) * 1e-4 * traded
    return Book(bars=bars, position=book_position, bar_return=bar_return, traded=traded, pnl=pnl)


def trading_metrics(positions, sample_ids, close, timestamps, horizon, cost_bps) -> dict:
    """Backtest signals with a staggered book and summarize it.

    Trading rule: at the close of each sample bar i a sleeve holding 1/horizon of capital takes
    position p_i (in [-1, 1]) for the next `horizon` bars, i + 1 .. i + horizon. The book position
    over bar t is position_t = (sum of p_i for sample bars i in [t - horizon, t - 1]) / horizon;
    a bar without a sample contributes a flat sleeve. The scored span is bars first_id + 1 ..
    last_id + horizon, the book is flat before it and is closed at the end of its last bar.
    Per-bar P&L: pnl_t = position_t * r_t - cost_bps * 1e-4 * |position_t - position_{t-1}|, with
    r_t = close[t] / close[t-1] - 1 and position before the span = 0; the final unwind
    |position_last| is charged to the last bar. Equity = cumprod(1 + pnl).

    Returns:
      sharpe_ratio: mean(pnl) / std(pnl, ddof=1) * sqrt(bars_per_year); 0.0 when the std is
        (numerically) zero or there is a single bar.
      bars_per_year: span bars / years between timestamps[first_id] and timestamps[last_id + horizon]
        (365.25-day years).
      max_drawdown: min(equity / cummax(equity) - 1) with equity starting at 1 (<= 0).
      total_return: equity_end - 1; annualized_return: equity_end ** (1 / years) - 1 (-1 if ruined).
      annualized_volatility: std(pnl, ddof=1) * sqrt(bars_per_year).
      years: the scored span's length in years.
      turnover: total sum of |position change| over the span including the final unwind, in units
        of capital (so total costs = turnover * cost_bps * 1e-4).
      n_signals: samples with p_i != 0; hit_rate: share of those with
        sign(p_i) * (close[i + horizon] / close[i] - 1) > 0 (NaN if no signals).
    """
    book = staggered_book(positions, sample_ids, close, horizon, cost_bps)
    stamps = pd.DatetimeIndex(pd.to_datetime(np.asarray(timestamps)[[book.bars[0] - 1, book.bars[-1]]], utc=True))
    years = (stamps[1] - stamps[0]) / pd.Timedelta(days=_DAYS_PER_YEAR)
    if not years > 0:
        raise DataError("evaluation: timestamps", "the scored span has zero or negative duration", "pass increasing bar timestamps")
    bars_per_year = book.bars.size / years

    pnl = book.pnl
    mean = float(pnl.mean())
    std = float(pnl.std(ddof=1)) if pnl.size > 1 else 0.0
    # Rounding noise in a constant series must not pass for a huge Sharpe.
    flat = std == 0.0 or std <= 1e-12 * abs(mean)
    sharpe = 0.0 if flat else mean / std * math.sqrt(bars_per_year)

    equity = np.cumprod(1.0 + pnl)
    with_start = np.concatenate([[1.0], equity])
    drawdown = with_start / np.maximum.accumulate(with_start) - 1.0
    final = float(equity[-1])
    annualized_return = final ** (1.0 / years) - 1.0 if final > 0 else -1.0

    positions = np.asarray(positions, dtype=np.float64)
    ids = np.asarray(sample_ids).astype(np.int64)
    close = np.asarray(close, dtype=np.float64)
    signalled = positions != 0
    forward = close[ids[signalled] + int(horizon)] / close[ids[signalled]] - 1.0
    hits = np.sign(positions[signalled]) * forward > 0
    return {
        "sharpe_ratio": float(sharpe),
        "max_drawdown": float(drawdown.min()),
        "total_return": final - 1.0,
        "annualized_return": float(annualized_return),
        "annualized_volatility": float(std * math.sqrt(bars_per_year)),
        "bars_per_year": float(bars_per_year),
        "years": float(years),  # the span scored: what the annual figures extrapolate
        "turnover": float(book.traded.sum()),
        "n_signals": int(signalled.sum()),
        "hit_rate": float(hits.mean()) if hits.size else float("nan"),
    }



def bet_sizes(probabilities, eps: float = 1e-9) -> np.ndarray:
    """AFML 10.1: a bet's size from the probability p of the predicted class among K: the one-vs-rest
    test statistic z = (p - 1/K) / sqrt(p (1 - p)), size = side * (2 Phi(z) - 1), side the predicted
    class (-1, 0, +1; a flat prediction sizes 0). A coin-flip forecast (p = 1/K) bets nothing, a sure
    one everything. The staggered book averages each bar over the bets still open (AFML 10.3)."""
    from scipy.stats import norm

    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(CLASSES):
        raise DataError("evaluation: probabilities", f"shape {probabilities.shape}", f"pass (n, {len(CLASSES)})")
    side = np.asarray(CLASSES, dtype=np.float64)[probabilities.argmax(axis=1)]
    p = np.clip(probabilities.max(axis=1), eps, 1.0 - eps)
    z = (p - 1.0 / probabilities.shape[1]) / np.sqrt(p * (1.0 - p))
    return side * (2.0 * norm.cdf(z) - 1.0)


def book_positions(probabilities, sized: bool = False) -> np.ndarray:
    """Each sample's bet: the predicted class at unit size, or sized by its probability (bet_sizes)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return bet_sizes(probabilities) if sized else np.asarray(CLASSES, dtype=np.float64)[probabilities.argmax(axis=1)]


def passes_through(meta_probabilities: np.ndarray, bases: dict[str, np.ndarray]) -> str | None:
    """The base whose probabilities a meta-learner returns unchanged (auto keeping one base), else None.
    Unchanged up to the rounding of the meta-learner's renormalization."""
    meta_probabilities = np.asarray(meta_probabilities)
    for name, probabilities in bases.items():
        if np.shape(probabilities) == meta_probabilities.shape and np.allclose(
                meta_probabilities, probabilities, rtol=0.0, atol=1e-9):
            return name
    return None


def se_blocks(values: np.ndarray, block: int) -> float:
    """Batch-means SE of the mean: the means of consecutive blocks of `block` samples, their SE.
    Overlapping labels correlate neighbouring samples; blocks longer than the overlap make the
    block means nearly independent (iid errors would be 2-3x too small)."""
    values = np.asarray(values, dtype=np.float64)
    n_blocks = len(values) // int(block)
    if n_blocks < 2:
        return float("nan")
    means = values[: n_blocks * block].reshape(n_blocks, block).mean(axis=1)
    return float(np.std(means, ddof=1) / np.sqrt(n_blocks))
