"""Pictures of one run for Snakemake's HTML report (rule plot_run): SVG files drawn with matplotlib.

- scores: test accuracy and log-loss of every base and the meta-learner (bar chart + HTML table);
- reliability: calibration diagram (predicted probability vs observed frequency, one-vs-rest);
- equity: test equity curve and drawdown of the staggered-book trading rule;
- weights: heatmap of the meta-learner's weight per base and class;
- oof_folds: OOF accuracy and log-loss of every base per purged fold;
- cpcv (oof.scheme cpcv): each model's Sharpe and accuracy over the CPCV backtest paths.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from hetstack import CLASSES
from hetstack.io import atomic_path, read_json, read_parquet

PLOTS = ("scores", "reliability", "equity", "weights", "oof_folds")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "figure.dpi": 100, "font.size": 9})
    return plt


def _save(fig, path: str | Path) -> None:
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "svg", bbox_inches="tight",
                    metadata={"Date": None} if str(path).endswith(".svg") else None)
    plt.close(fig)


def score_table(report: dict) -> pd.DataFrame:
    """Rows: every base then the meta-learner; test/val accuracy, log-loss and skill (over the class
    prior), OOF skill of the bases and whether the meta-learner reads them; each test score with its
    block-bootstrap interval, and the test Sharpe's PSR and DSR."""
    sharpe = (report.get("statistics") or {}).get("sharpe", {})
    rows = []
    for base, perf in report["base_model_performance"].items():
        rows.append({"model": base, "kind": "base", "test_accuracy": perf["test_acc"],
                     "test_log_loss": perf["test_log_loss"], "test_skill": perf["test_skill"],
                     "val_accuracy": perf["val_acc"], "val_log_loss": perf["val_log_loss"],
                     "val_skill": perf["val_skill"], "oof_skill": perf["oof_skill"],
                     "sharpe_ratio": perf["trading"]["sharpe_ratio"],
                     **_interval_columns(perf.get("intervals")), **_sharpe_columns(sharpe.get(base)),
                     "meta_input": "yes" if perf["in_meta"] else "no (no OOF skill)"})
    perf = report["performance"]
    meta = report["meta_learner"]
    rows.append({"model": meta, "kind": "meta", "test_accuracy": perf["test_accuracy"],
                 "test_log_loss": perf["test_log_loss"], "test_skill": perf["test_skill"],
                 "val_accuracy": perf["val_accuracy"], "val_log_loss": perf["val_log_loss"],
                 "val_skill": perf["val_skill"], "oof_skill": float("nan"), "sharpe_ratio": perf["sharpe_ratio"],
                 **_interval_columns(perf.get("intervals")), **_sharpe_columns(sharpe.get(meta)),
                 "meta_input": ""})
    return pd.DataFrame(rows)


def _interval_columns(intervals: dict | None) -> dict:
    keys = {"accuracy": "test_accuracy_ci", "log_loss": "test_log_loss_ci", "skill": "test_skill_ci",
            "sharpe_ratio": "sharpe_ci"}
    return {column: (f"[{intervals[k][0]:.4f}, {intervals[k][1]:.4f}]" if intervals else "")
            for k, column in keys.items()}


def _sharpe_columns(stats: dict | None) -> dict:
    return {"psr": stats["psr"] if stats else float("nan"), "dsr": stats["dsr"] if stats else float("nan")}


def statistics_lines(report: dict) -> list[str]:
    """The report's one-line readings (PSR, DSR, PBO, CPCV) and the meta-learner's gain intervals."""
    statistics = report.get("statistics") or {}
    perf = report["performance"]
    lines = list((statistics.get("readings") or {}).values())
    gains = perf.get("gain_intervals")
    if gains:
        level = statistics.get("bootstrap", {}).get("confidence", 0.95)
        low, high = gains["improvement_over_best_base"]
        lines.insert(0, f"accuracy gain over the best base {perf['best_base']}: "
                        f"{perf['improvement_over_best_base']:+.4f}, {level:.0%} interval [{low:+.4f}, {high:+.4f}]")
        low, high = gains["log_loss_improvement_over_best_base"]
        lines.insert(1, f"log-loss gain over the best base: {perf['log_loss_improvement_over_best_base']:+.4f}, "
                        f"{level:.0%} interval [{low:+.4f}, {high:+.4f}]")
    return lines


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{v:.4f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
                                    for v in row) + "</tr>" for row in table.itertuples(index=False))
    return f"<table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"


def write_score_table_html(table: pd.DataFrame, path: str | Path, title: str, notes: list[str] = (),
                           extra: tuple[str, pd.DataFrame] | None = None) -> None:
    """The score table, the readings below it, and an optional titled second table (CPCV paths)."""
    listed = "".join(f"<li>{html.escape(line)}</li>" for line in notes)
    second = f"<h4>{html.escape(extra[0])}</h4>{_html_table(extra[1])}" if extra else ""
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<h3>{html.escape(title)}</h3>{_html_table(table)}"
            f"{f'<ul>{listed}</ul>' if listed else ''}{second}</body></html>")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def plot_scores(table: pd.DataFrame, path: str | Path, title: str) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    colors = ["tab:orange" if k == "meta" else "tab:blue" for k in table["kind"]]
    for ax, col, label in ((axes[0], "test_accuracy", "test accuracy"), (axes[1], "test_log_loss", "test log-loss")):
        ax.bar(table["model"], table[col], color=colors)
        ax.set_title(label)
        ax.tick_params(axis="x", rotation=30)
        lo, hi = table[col].min(), table[col].max()
        pad = max((hi - lo) * 0.5, 0.01)
        ax.set_ylim(max(lo - pad, 0), hi + pad)
    axes[0].axhline(1 / 3, color="grey", lw=0.8, ls="--")
    fig.suptitle(title, y=1.04)
    _save(fig, path)


def reliability_curve(y: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """One-vs-rest over the three classes, pooled: mean predicted probability vs observed frequency per bin."""
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    hits = (y[:, None] == np.asarray(CLASSES)[None, :]).astype(np.float64).ravel()
    p = proba.ravel()
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    rows = [{"bin": b, "predicted": p[bins == b].mean(), "observed": hits[bins == b].mean(), "count": int((bins == b).sum())}
            for b in range(n_bins) if (bins == b).any()]
    return pd.DataFrame(rows)


def plot_reliability(y: np.ndarray, probabilities: dict[str, np.ndarray], path: str | Path, title: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect")
    for k, (name, proba) in enumerate(probabilities.items()):
        curve = reliability_curve(y, proba)
        meta = k == len(probabilities) - 1
        ax.plot(curve["predicted"], curve["observed"], marker="o", ms=3, lw=2.2 if meta else 1, label=name)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title(title)
    _save(fig, path)


def equity_curve(positions, sample_ids, close, horizon: int, cost_bps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bars, equity, drawdown) of the staggered book that report.json's Sharpe and drawdown come from."""
    from hetstack.evaluation import staggered_book

    book = staggered_book(positions, sample_ids, close, horizon, cost_bps)
    equity = np.cumprod(1.0 + book.pnl)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    return book.bars, equity, drawdown


def plot_equity(timestamps, equity: np.ndarray, drawdown: np.ndarray, path: str | Path, title: str) -> None:
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True, height_ratios=[2, 1])
    top.plot(timestamps, equity, color="tab:blue", lw=1)
    top.axhline(1.0, color="grey", lw=0.8, ls="--")
    top.set_ylabel("equity")
    top.set_title(title)
    bottom.fill_between(timestamps, drawdown, 0, color="tab:red", alpha=0.5, lw=0)
    bottom.set_ylabel("drawdown")
    fig.autofmt_xdate()
    _save(fig, path)


def plot_weights(weights: dict[str, list[float]], method: str, path: str | Path, title: str,
                 regime_weights: dict | None = None) -> None:
    """Heatmap of each base's weight per class; a regime-aware meta gets one more per volatility tercile."""
    plt = _pyplot()
    bases = list(weights)
    panels = [("all rows", weights)]
    if regime_weights:
        panels += [(f"{name} third of vol", regime_weights[name]["shares"]) for name in regime_weights]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 0.6 * len(bases) + 1.8), squeeze=False)
    for ax, (label, panel) in zip(axes[0], panels):
        values = np.array([panel[b] for b in bases], dtype=np.float64)
        limit = max(np.abs(values).max(), 1e-12)
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(3), ["-1", "0", "+1"])
        ax.set_yticks(range(len(bases)), bases)
        ax.set_xlabel("class")
        for i in range(len(bases)):
            for j in range(3):
                ax.text(j, i, f"{values[i, j]:.3f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(values[i, j]) > 0.6 * limit else "black")
        fig.colorbar(image, ax=ax)
        ax.set_title(label, fontsize=8)
    fig.suptitle(f"{title}\n({method})", fontsize=8)
    _save(fig, path)


def oof_fold_scores(matrix: pd.DataFrame, bases: list[str]) -> pd.DataFrame:
    """Accuracy and log-loss of every base on each fold's OOF rows."""
    from hetstack.evaluation import classification_metrics
    from hetstack.tables import prob_columns

    rows = []
    for fold, part in matrix.groupby("fold", sort=True):
        for base in bases:
            m = classification_metrics(part["label"].to_numpy(), part[prob_columns(base)].to_numpy(np.float64))
            rows.append({"fold": int(fold), "base": base, "accuracy": m["accuracy"], "log_loss": m["log_loss"]})
    return pd.DataFrame(rows)


def plot_oof_folds(scores: pd.DataFrame, path: str | Path, title: str) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    bases = list(dict.fromkeys(scores["base"]))
    folds = sorted(scores["fold"].unique())
    width = 0.8 / len(bases)
    for ax, col in zip(axes, ("accuracy", "log_loss")):
        for k, base in enumerate(bases):
            part = scores[scores["base"] == base].set_index("fold").reindex(folds)
            ax.bar(np.arange(len(folds)) + k * width, part[col], width, label=base)
        ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2, [str(f) for f in folds])
        ax.set_xlabel("fold")
        ax.set_title(f"OOF {col.replace('_', '-')}")
        lo, hi = scores[col].min(), scores[col].max()
        pad = max((hi - lo) * 0.5, 0.01)
        ax.set_ylim(max(lo - pad, 0), hi + pad)
    axes[1].legend(fontsize=7)
    fig.suptitle(title, y=1.04)
    _save(fig, path)


def cpcv_table(report: dict) -> pd.DataFrame:
    """One row per model: each path score as mean +/- std [min, max] over the CPCV paths."""
    rows = []
    for model, scores in report["cpcv"]["summary"].items():
        rows.append({"model": model, **{metric: f"{v['mean']:.4f} ± {v['std']:.4f} [{v['min']:.4f}, {v['max']:.4f}]"
                                        for metric, v in scores.items()}})
    return pd.DataFrame(rows)


def plot_cpcv(report: dict, path: str | Path, title: str) -> None:
    """The distribution over the CPCV backtest paths of each model's Sharpe ratio and accuracy."""
    plt = _pyplot()
    paths = report["cpcv"]["paths"]
    models = list(paths)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric, label in ((axes[0], "sharpe_ratio", "Sharpe ratio"), (axes[1], "accuracy", "accuracy")):
        values = [[p[metric] for p in paths[m]] for m in models]
        ax.boxplot(values, showmeans=True)
        for i, v in enumerate(values, start=1):
            ax.scatter(np.full(len(v), i), v, s=10, color="tab:orange", zorder=3)
        ax.set_xticks(range(1, len(models) + 1), models, rotation=30)
        ax.set_title(f"{label} over {len(values[0])} paths")
    axes[0].axhline(0.0, color="grey", lw=0.8, ls="--")
    fig.suptitle(title, y=1.04)
    _save(fig, path)


def make_plots(report_path: str, predictions_path: str, base_tests: dict[str, str], matrix_path: str,
               bars_path: str, out: dict[str, str], *, cost_bps: float) -> None:
    """Every picture of one run; `out` maps each of PLOTS (and 'table') to its output path."""
    report = read_json(report_path)
    name = f"{report['symbol']} h{report['horizon']} {report['meta_learner']}"
    table = score_table(report)
    extra = None
    if report.get("cpcv"):
        extra = (f"CPCV backtest paths of the train period: {report['cpcv']['reading']}", cpcv_table(report))
        plot_cpcv(report, out["cpcv"], f"{name}: CPCV paths ({report['cpcv']['n_paths']})")
    write_score_table_html(table, out["table"], f"{name}: test and validation scores", statistics_lines(report), extra)
    plot_scores(table, out["scores"], f"{name}: test scores (orange: meta-learner)")

    predictions = read_parquet(predictions_path)
    test_ids = predictions["sample_id"].to_numpy(np.int64)
    from hetstack.tables import PROB_COLUMNS

    probabilities = {}
    for base in report["base_models"]:
        frame = read_parquet(base_tests[base])
        if not np.array_equal(frame["sample_id"].to_numpy(np.int64), test_ids):
            raise ValueError(f"{base_tests[base]}: test sample ids differ from {predictions_path}")
        probabilities[base] = frame[PROB_COLUMNS].to_numpy(np.float64)
    probabilities[report["meta_learner"]] = predictions[PROB_COLUMNS].to_numpy(np.float64)
    plot_reliability(predictions["label"].to_numpy(), probabilities, out["reliability"], f"{name}: reliability (test)")

    bars = read_parquet(bars_path, columns=["timestamp", "close"])
    positions = predictions["prediction"].to_numpy(np.float64)
    bar_ids, equity, drawdown = equity_curve(positions, test_ids, bars["close"].to_numpy(np.float64),
                                             int(report["horizon"]), cost_bps)
    plot_equity(bars["timestamp"].to_numpy()[bar_ids], equity, drawdown, out["equity"],
                f"{name}: test equity (staggered book, {cost_bps} bp cost)")

    plot_weights(report["meta_learner_weights"], report.get("meta_learner_weights_method") or "",
                 out["weights"], f"{name}: meta-learner weights", report.get("meta_learner_regime_weights"))
    matrix = read_parquet(matrix_path)
    plot_oof_folds(oof_fold_scores(matrix, report["base_models"]), out["oof_folds"], f"{name}: OOF scores per fold")
