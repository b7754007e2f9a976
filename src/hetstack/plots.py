"""Pictures of one run for Snakemake's HTML report (rule plot_run): SVG files drawn with matplotlib.

- scores: test accuracy and log-loss of every base and the meta-learner (bar chart + HTML table);
- reliability: calibration diagram (predicted probability vs observed frequency, one-vs-rest);
- equity: test equity curve and drawdown of the staggered-book trading rule;
- weights: heatmap of the meta-learner's weight per base and class;
- oof_folds: OOF accuracy and log-loss of every base per purged fold;
- cpcv (oof.scheme cpcv): each model's Sharpe and accuracy over the CPCV backtest paths;
- walkforward (oos.scheme walkforward): cumulative skill and equity across the record's windows.
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


CHANCE = 1 / len(CLASSES)  # accuracy of guessing a class at random
DASH = "\u2014"  # a cell where the value does not apply
META_COLOR = "tab:orange"
_BASE_COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:red",
                "tab:gray")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
_INTERVAL_KEYS = {"accuracy": "test_accuracy_ci", "log_loss": "test_log_loss_ci", "skill": "test_skill_ci",
                  "sharpe_ratio": "sharpe_ci"}


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def _interval(value) -> tuple[float, float] | None:
    """[low, high] of a report as a tuple, or None where it is missing or not finite."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_finite(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def format_score(value, interval=None, digits: int = 3, signed: bool = False) -> str:
    """'0.509 [0.478, 0.540]': a score and its interval in one cell; DASH where there is no score."""
    if not _finite(value):
        return DASH
    spec = f"{'+' if signed else ''}.{digits}f"
    text = format(float(value), spec)
    interval = _interval(interval)
    return text if interval is None else f"{text} [{format(interval[0], spec)}, {format(interval[1], spec)}]"


def score_table(report: dict) -> pd.DataFrame:
    """Rows: every base then the meta-learner; the numbers of the score pictures. Test and validation
    accuracy, log-loss and skill (over the class prior), OOF skill (NaN for the meta-learner, which has no
    OOF predictions of its own), Sharpe, PSR and DSR; each `_ci` column holds a test score's block-bootstrap
    interval (low, high), or None where the report has none."""
    sharpe = (report.get("statistics") or {}).get("sharpe") or {}
    rows = []
    for base, perf in report["base_model_performance"].items():
        rows.append({"model": base, "kind": "base", "meta_input": bool(perf.get("in_meta", True)),
                     "test_accuracy": perf["test_acc"], "test_log_loss": perf["test_log_loss"],
                     "test_skill": perf.get("test_skill"), "val_accuracy": perf.get("val_acc"),
                     "val_log_loss": perf.get("val_log_loss"), "val_skill": perf.get("val_skill"),
                     "oof_skill": perf.get("oof_skill"), "sharpe_ratio": (perf.get("trading") or {}).get("sharpe_ratio"),
                     **_interval_columns(perf.get("intervals")), **_sharpe_columns(sharpe.get(base))})
    perf = report["performance"]
    meta = report["meta_learner"]
    rows.append({"model": meta, "kind": "meta", "meta_input": None, "test_accuracy": perf["test_accuracy"],
                 "test_log_loss": perf["test_log_loss"], "test_skill": perf.get("test_skill"),
                 "val_accuracy": perf.get("val_accuracy"), "val_log_loss": perf.get("val_log_loss"),
                 "val_skill": perf.get("val_skill"), "oof_skill": None, "sharpe_ratio": perf.get("sharpe_ratio"),
                 **_interval_columns(perf.get("intervals")), **_sharpe_columns(sharpe.get(meta))})
    table = pd.DataFrame(rows)
    numeric = ["test_accuracy", "test_log_loss", "test_skill", "val_accuracy", "val_log_loss", "val_skill",
               "oof_skill", "sharpe_ratio", "psr", "dsr"]
    table[numeric] = table[numeric].astype(np.float64)
    return table


def _interval_columns(intervals: dict | None) -> dict:
    return {column: _interval((intervals or {}).get(k)) for k, column in _INTERVAL_KEYS.items()}


def _sharpe_columns(stats: dict | None) -> dict:
    return {"psr": (stats or {}).get("psr"), "dsr": (stats or {}).get("dsr")}


def prior_log_loss(table: pd.DataFrame) -> float | None:
    """Log loss of always forecasting the train class shares: every model's test log loss plus its skill."""
    values = (table["test_log_loss"] + table["test_skill"]).dropna()
    return float(values.median()) if len(values) else None


def _passes_through(report: dict) -> str | None:
    base = report.get("passes_through")
    return base if isinstance(base, str) and base else None


def score_cells(table: pd.DataFrame, passes_through: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The score page's two tables as text cells, and the footnotes their marks refer to: the test
    table (value and interval in one cell) and the validation table. Never 'nan': DASH and a footnote."""
    notes = {}

    def mark(key: str, text: str) -> str:
        number = notes.setdefault(key, (len(notes) + 1, text))[0]
        return "*" * number

    def cell(row, column: str, digits: int = 3, signed: bool = False, interval: str | None = None) -> str:
        text = format_score(row[column], row[interval] if interval else None, digits, signed)
        if text == DASH:
            if column == "oof_skill" and row["kind"] == "meta":
                return DASH + mark("oof", "the meta-learner has no OOF predictions of its own: it is fitted on the "
                                          "bases' OOF rows")
            return DASH + mark("missing", "not in this report")
        return text

    main, val = [], []
    for row in table.to_dict("records"):
        if row["kind"] == "meta":
            role = "meta-learner" + (f" (= {passes_through})" if passes_through else "")
        elif row["meta_input"]:
            role = "base"
        else:
            role = "base, left out" + mark("left_out", "left out of the meta-learner: no OOF skill (its OOF log loss "
                                                       "is no better than the class prior's)")
        main.append({"model": row["model"], "role": role,
                     "test accuracy": cell(row, "test_accuracy", interval="test_accuracy_ci"),
                     "test log loss": cell(row, "test_log_loss", interval="test_log_loss_ci"),
                     "test skill": cell(row, "test_skill", signed=True, interval="test_skill_ci"),
                     "OOF skill": cell(row, "oof_skill", signed=True),
                     "Sharpe": cell(row, "sharpe_ratio", digits=2, signed=True, interval="sharpe_ci"),
                     "PSR": cell(row, "psr", digits=2), "DSR": cell(row, "dsr", digits=2)})
        val.append({"model": row["model"], "val accuracy": cell(row, "val_accuracy"),
                    "val log loss": cell(row, "val_log_loss"), "val skill": cell(row, "val_skill", signed=True)})
    footnotes = [f"{'*' * number} {text}" for number, text in sorted(notes.values())]
    return pd.DataFrame(main), pd.DataFrame(val), footnotes


def meta_description(report: dict) -> str:
    """Which model the meta-learner is: what auto chose, or the base it passes through unchanged."""
    meta = report["meta_learner"]
    through = _passes_through(report)
    chosen = (report.get("meta_auto_choice") or {}).get("chosen")
    inputs = report.get("meta_inputs") or report.get("base_models") or []
    left_out = [b for b in report.get("base_models", []) if inputs and b not in inputs]
    stacks = f"stacks the OOF probabilities of {', '.join(inputs)}" if inputs else "stacks the bases"
    if left_out:
        stacks += f" (left out, no OOF skill: {', '.join(left_out)})"
    if chosen and through:
        if chosen in (through, "meta_best_base"):
            return f"{meta} chose {through} (the best base by OOF log loss) and passes it through unchanged"
        return f"{meta} chose {chosen}, which passes {through} through unchanged"
    if through:
        return f"{meta} passes {through} through unchanged"
    if chosen:
        return f"{meta} chose {chosen} by purged K-fold log loss on the OOF rows; it {stacks}"
    return f"{meta} {stacks}"


def gain_lines(report: dict) -> list[str]:
    """The meta-learner's gains in accuracy and log loss over the best base, with their paired intervals where
    the report has them. A gain over the base the meta-learner passes through unchanged is
    zero by construction: one line says so instead."""
    perf = report["performance"]
    statistics = report.get("statistics") or {}
    level = (statistics.get("bootstrap") or {}).get("confidence", 0.95)
    gains = perf.get("gain_intervals") or {}
    through = _passes_through(report)
    best = perf.get("best_base")
    lines = [f"passes {through} through: no gain over it by construction"] if through else []
    for name, base, key, interval in (("accuracy gain over the best base", best, "improvement_over_best_base",
                                       "improvement_over_best_base"),
                                      ("log-loss gain over the best base", best,
                                       "log_loss_improvement_over_best_base", "log_loss_improvement_over_best_base")):
        value = perf.get(key)
        if base is None or base == through or not _finite(value):
            continue
        low_high = _interval(gains.get(interval))
        lines.append(f"{name} {base}: {value:+.4f}, " + (f"{level:.0%} interval [{low_high[0]:+.4f}, {low_high[1]:+.4f}]"
                                                       if low_high else "no interval in this report"))
    return lines


def readings(report: dict) -> list[str]:
    """The report's one-line readings: PSR, DSR, PBO first, then any other in the report's order."""
    lines = (report.get("statistics") or {}).get("readings") or {}
    order = {key: k for k, key in enumerate(("psr", "dsr", "pbo"))}
    return [str(lines[key]) for key in sorted(lines, key=lambda key: order.get(key, len(order)))]


def statistics_lines(report: dict) -> list[str]:
    """The meta-learner's gains over the best base, then the report's one-line readings (PSR, DSR, PBO)."""
    return gain_lines(report) + readings(report)


def header_lines(report: dict, table: pd.DataFrame | None = None) -> list[tuple[str, str]]:
    """(label, text) lines a reader sees first: the data, the meta-learner, its test scores and its gains (one
    a line)."""
    table = score_table(report) if table is None else table
    meta = table.iloc[-1]
    lines = []
    description = (report.get("data_source") or {}).get("description")
    if description:
        lines.append(("Data", str(description)))
    lines.append(("Meta-learner", meta_description(report)))
    samples = report.get("samples") or {}
    where = ", ".join(part for part in (f"{samples['n_test']} rows" if "n_test" in samples else "",
                                        _period(samples.get("test_period"))) if part)
    prior = prior_log_loss(table)
    scores = (("accuracy", format_score(meta["test_accuracy"], meta["test_accuracy_ci"]), f" (chance {CHANCE:.3f})"),
              ("log loss", format_score(meta["test_log_loss"], meta["test_log_loss_ci"]),
               f" (class prior {prior:.3f})" if prior is not None else ""),
              ("skill", format_score(meta["test_skill"], meta["test_skill_ci"], signed=True), ""),
              ("Sharpe", format_score(meta["sharpe_ratio"], meta["sharpe_ci"], digits=2, signed=True), ""))
    text = "; ".join(f"{name} {value}{reference}" for name, value, reference in scores if value != DASH)
    scored = "Walk-forward record scores" if report.get("walkforward") else "Test scores"
    lines.append((f"{scored} of {report['meta_learner']}", f"{where}: {text}" if where else text))
    gains = gain_lines(report)
    rule = report["performance"].get("best_base_rule")
    if gains:
        lines.append(("Gain", "\n".join(gains + ([f"best base: {rule}"] if rule else []))))
    leakage = (report.get("leakage_meter") or {}).get("reading")
    if leakage:
        lines.append(("Leakage meter", leakage))
    trading = walkforward_lines(report)
    if trading:
        lines.append(("Walk-forward and books" if report.get("walkforward") else "Books", "\n".join(trading)))
    return lines


def _period(period) -> str:
    """'2024-01-11 14:55 to 2024-01-12 06:54 UTC' from the report's [first, last] test timestamps."""
    if not period or len(period) != 2:
        return ""
    try:
        first, last = (pd.Timestamp(t) for t in period)
    except ValueError:
        return f"{period[0]} to {period[1]}"
    if first.tzinfo is not None:
        first, last = first.tz_convert("UTC"), last.tz_convert("UTC")
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}{' UTC' if first.tzinfo is not None else ''}"


_STYLE = ("body{font-family:sans-serif;font-size:13px;margin:8px;max-width:1100px}"
          "h3{margin:4px 0 8px}h4{margin:12px 0 4px}"
          "table{border-collapse:collapse;margin:4px 0}"
          "td,th{border:1px solid #bbb;padding:2px 6px;white-space:nowrap}"
          "th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}"
          "tr.meta td{font-weight:bold;background:#fff3e0}"
          "p.head{margin:2px 0}p.note{margin:2px 0;color:#555;font-size:12px}ul{margin:2px 0;padding-left:20px}")


def _html_table(table: pd.DataFrame, highlight: int | None = None) -> str:
    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            value = format_score(value, digits=4)
        text = html.escape(str(value))
        numeric = text[:1].isdigit() or text[:1] in "+-" or text.startswith(DASH)
        return f"<td class='num'>{text}</td>" if numeric else f"<td>{text}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(f"<tr{' class=meta' if k == highlight else ''}>" + "".join(cell(v) for v in row) + "</tr>"
                   for k, row in enumerate(table.itertuples(index=False)))
    return f"<table><tr>{head}</tr>{body}</table>"


def _html_list(title: str, lines) -> str:
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    return f"<h4>{html.escape(title)}</h4><ul>{items}</ul>" if items else ""


def _header_html(report: dict, table: pd.DataFrame) -> str:
    return "".join(f"<p class='head'><b>{html.escape(label)}:</b> {html.escape(text).replace(chr(10), '<br>')}</p>"
                   for label, text in header_lines(report, table))


def write_headline(report: dict, path: str | Path) -> None:
    """headline.html: the score page's header and the trading caveats as an HTML fragment, which the
    HTML report's first screen shows for every run (report/workflow.rst)."""
    title = f"{report['symbol']} h{report['horizon']} {report['meta_learner']}"
    text = (f"<div class='hetstack-headline'><h4>{html.escape(title)}</h4>{_header_html(report, score_table(report))}"
            f"{_html_list('Caveats', report.get('trading_caveats') or [])}</div>\n")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_score_page(report: dict, path: str | Path, title: str,
                     extra: tuple[str, pd.DataFrame] | None = None) -> None:
    """scores.html: a short header (data, meta-learner, its test scores and gain), the test score table
    with its footnotes, the validation scores, the readings, the caveats, and an optional titled table
    (CPCV paths)."""
    table = score_table(report)
    main, val, footnotes = score_cells(table, _passes_through(report))
    bootstrap = (report.get("statistics") or {}).get("bootstrap") or {}
    level = bootstrap.get("confidence", 0.95)
    block = f", blocks of {bootstrap['block']} rows" if bootstrap.get("block") else ""
    if any(table[c].notna().any() for c in _INTERVAL_KEYS.values()):
        footnotes.insert(0, f"[low, high]: {level:.0%} block-bootstrap interval of the test score{block}; "
                            "skill: log loss of the train class shares minus the model's (0: no skill)")
    head = _header_html(report, table)
    notes = "".join(f"<p class='note'>{html.escape(line)}</p>" for line in footnotes)
    caveats = report.get("trading_caveats") or []
    second = f"<h4>{html.escape(extra[0])}</h4>{_html_table(extra[1])}" if extra else ""
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h3>{html.escape(title)}</h3>{head}"
            f"<h4>Test scores</h4>{_html_table(main, highlight=len(main) - 1)}{notes}"
            "<h4>Validation scores (the meta-learner's purged validation rows; a base's are its OOF predictions "
            f"there)</h4>{_html_table(val, highlight=len(val) - 1)}"
            f"{_html_list('Readings', readings(report))}{_html_list('Caveats', caveats)}{second}</body></html>")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def _base_colors(names) -> dict[str, str]:
    return {name: _BASE_COLORS[k % len(_BASE_COLORS)] for k, name in enumerate(names)}


def scores_figure(table: pd.DataFrame, title: str, passes_through: str | None = None, level: float = 0.95):
    """Test accuracy (bars from the chance line, 1/3) and test skill (bars from 0, the class prior; right
    axis: the log loss it stands for), each with its block-bootstrap interval as an error bar. Pale bars:
    bases the meta-learner leaves out (no OOF skill)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    kinds = table["kind"].tolist()
    colors = [META_COLOR if k == "meta" else "tab:blue" for k in kinds]
    pale = [k == "base" and not used for k, used in zip(kinds, table["meta_input"])]
    labels = [f"{m}\n(= {passes_through})" if k == "meta" and passes_through else m
              for m, k in zip(table["model"], kinds)]
    prior = prior_log_loss(table)
    panels = ((axes[0], "test_accuracy", "test accuracy (dashed: chance, 1/3)", CHANCE, ".3f"),
              (axes[1], "test_skill", "test skill: log-loss gain over the class prior", 0.0, "+.3f"))
    x = np.arange(len(table))
    many = len(table) > 4
    for ax, column, label, reference, spec in panels:
        values = table[column].to_numpy(np.float64)
        intervals = table[f"{column}_ci"].tolist()
        low = np.array([i[0] if i else v for i, v in zip(intervals, values)])
        high = np.array([i[1] if i else v for i, v in zip(intervals, values)])
        bars = ax.bar(x, values - reference, bottom=reference, color=colors, width=0.6, zorder=2)
        for bar, faint in zip(bars, pale):
            if faint:
                bar.set_alpha(0.4)
        ax.errorbar(x, values, yerr=[np.clip(values - low, 0, None), np.clip(high - values, 0, None)],
                    fmt="none", ecolor="black", elinewidth=1, capsize=4 if not many else 2.5, zorder=3)
        ax.axhline(reference, color="0.25", lw=1, ls="--", zorder=2.5)
        if len(table) <= 10:  # beyond, the score table has the numbers
            for i, (v, lo_i, hi_i) in enumerate(zip(values, low, high)):
                if not np.isfinite(v):
                    continue
                below = v < reference  # a bar hanging below the line: its number under the interval
                ax.annotate(format(v, spec), (i, min(lo_i, v) if below else max(hi_i, v)),
                            xytext=(0, -2 if below else 2), textcoords="offset points", ha="center",
                            va="top" if below else "bottom", fontsize=6.5 if many else 7)
        ax.set_xticks(x, labels, rotation=30 if many else 0, ha="right" if many else "center",
                      rotation_mode="anchor")
        finite = np.concatenate([low, high, values, [reference]])
        finite = finite[np.isfinite(finite)]
        lo, hi = finite.min(), finite.max()
        pad = max(hi - lo, 0.01) * 0.14
        ax.set_ylim(lo - (1.8 if (values < reference).any() else 1) * pad, hi + 1.8 * pad)
        ax.set_title(label)
        ax.grid(axis="y", color="#ddd", lw=0.6, zorder=0)
    axes[1].set_ylabel("skill (> 0: better than the class prior)")
    if prior is not None:
        right = axes[1].secondary_yaxis("right", functions=(lambda s: prior - s, lambda ll: prior - ll))
        right.set_ylabel(f"log loss (class prior {prior:.3f})")
    legend = "orange: meta-learner" + ("; pale: left out of it (no OOF skill)" if any(pale) else "")
    fig.suptitle(f"{title}\n{legend}; error bars: {level:.0%} block-bootstrap interval", fontsize=9)
    return fig


def plot_scores(table: pd.DataFrame, path: str | Path, title: str, passes_through: str | None = None,
                level: float = 0.95) -> None:
    _save(scores_figure(table, title, passes_through, level), path)


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


def reliability_figure(y: np.ndarray, probabilities: dict[str, np.ndarray], title: str, meta: str | None = None):
    """Each base a thin solid line with its own marker; the meta-learner (`meta`, else the last entry) a thick
    dashed orange line with hollow stars drawn over them, so a base it coincides with still shows between
    the dashes and inside the stars; the legend names every base whose forecasts the meta-learner repeats."""
    plt = _pyplot()
    names = list(probabilities)
    meta = names[-1] if meta is None else meta
    bases = [n for n in names if n != meta]
    colors = _base_colors(bases)
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="perfect calibration")
    for k, name in enumerate(bases):
        curve = reliability_curve(y, probabilities[name])
        ax.plot(curve["predicted"], curve["observed"], color=colors[name], lw=1.2, marker=_MARKERS[k % len(_MARKERS)],
                ms=5, label=name, zorder=2)
    from hetstack.evaluation import passes_through

    same = passes_through(probabilities[meta], {b: p for b, p in probabilities.items() if b != meta})
    label = f"{meta} (meta-learner" + (f"; = {same}: same forecasts)" if same else ")")
    curve = reliability_curve(y, probabilities[meta])
    ax.plot(curve["predicted"], curve["observed"], color=META_COLOR, lw=2.6, ls=(0, (3, 2.5)), marker="*", ms=11,
            mfc="none", mew=1.3, alpha=0.9, label=label, zorder=3)
    ax.set_xlabel("predicted probability (bins of 0.1, one-vs-rest)")
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.grid(color="#eee", lw=0.6)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title)
    return fig


def plot_reliability(y: np.ndarray, probabilities: dict[str, np.ndarray], path: str | Path, title: str,
                     meta: str | None = None) -> None:
    _save(reliability_figure(y, probabilities, title, meta), path)


def equity_curve(positions, sample_ids, close, horizon: int, cost_bps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bars, equity, drawdown) of the staggered book that report.json's Sharpe and drawdown come from."""
    from hetstack.evaluation import staggered_book

    book = staggered_book(positions, sample_ids, close, horizon, cost_bps)
    equity = np.cumprod(1.0 + book.pnl)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    return book.bars, equity, drawdown


def plot_equity(timestamps, equity: np.ndarray, drawdown: np.ndarray, path: str | Path, title: str) -> None:
    """Cumulative return (equity - 1) and drawdown, both in percent: a plain axis without matplotlib's offset."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True, height_ratios=[2, 1], layout="constrained")
    top.plot(timestamps, 100 * (np.asarray(equity) - 1.0), color="tab:blue", lw=1)
    top.axhline(0.0, color="grey", lw=0.8, ls="--")
    top.set_ylabel("cumulative return (%)")
    top.set_title(title)
    bottom.fill_between(timestamps, 100 * np.asarray(drawdown), 0, color="tab:red", alpha=0.5, lw=0)
    bottom.set_ylabel("drawdown (%)")
    for ax in (top, bottom):
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.set_axisbelow(True)
        ax.grid(color="#eee", lw=0.6)
    if np.allclose(equity, 1.0):
        top.text(0.5, 0.5, "no position taken on the test period", transform=top.transAxes, ha="center", color="grey")
    fig.autofmt_xdate()
    _save(fig, path)


def weights_figure(weights: dict[str, list[float]], method: str, title: str, regime_weights: dict | None = None):
    """Heatmap of each base's weight per class, one shared colour scale; a regime-aware meta gets one more
    panel per volatility tercile. Titles sit in a constrained layout, so none overlaps another."""
    import textwrap

    plt = _pyplot()
    bases = list(weights)
    panels = [("all rows", weights)]
    if regime_weights:
        panels += [(f"{name} third of volatility", regime_weights[name]["shares"]) for name in regime_weights]
    values = [np.array([panel.get(b, [np.nan] * 3) for b in bases], dtype=np.float64) for _, panel in panels]
    limit = max(max(np.nanmax(np.abs(v)) if np.isfinite(v).any() else 0.0 for v in values), 1e-12)
    width = min(2.6 * len(panels) + 2.2, 14)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 0.45 * len(bases) + 2.2), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (label, _), panel in zip(axes[0], panels, values):
        image = ax.imshow(panel, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(3), ["-1", "0", "+1"])
        ax.set_yticks(range(len(bases)), bases)
        ax.set_xlabel("class")
        for i in range(len(bases)):
            for j in range(3):
                text = DASH if not np.isfinite(panel[i, j]) else f"{panel[i, j]:.3f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if abs(np.nan_to_num(panel[i, j])) > 0.6 * limit else "black")
        ax.set_title(label, fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9, label="weight")
    wrapped = textwrap.fill(f"({method})", width=int(width * 14)) if method else ""
    fig.suptitle(f"{title}\n{wrapped}" if wrapped else title, fontsize=8)
    return fig


def plot_weights(weights: dict[str, list[float]], method: str, path: str | Path, title: str,
                 regime_weights: dict | None = None) -> None:
    _save(weights_figure(weights, method, title, regime_weights), path)


def oof_fold_scores(matrix: pd.DataFrame, bases: list[str]) -> pd.DataFrame:
    """Accuracy, log-loss and skill (over the class shares of all the OOF labels, as in the report) of every
    base on each fold's OOF rows."""
    from hetstack.evaluation import class_prior, classification_metrics
    from hetstack.tables import prob_columns

    prior = class_prior(matrix["label"].to_numpy())
    rows = []
    for fold, part in matrix.groupby("fold", sort=True):
        for base in bases:
            m = classification_metrics(part["label"].to_numpy(), part[prob_columns(base)].to_numpy(np.float64),
                                       prior=prior)
            rows.append({"fold": int(fold), "base": base, "accuracy": m["accuracy"], "log_loss": m["log_loss"],
                         "skill": m["skill"]})
    return pd.DataFrame(rows)


def plot_oof_folds(scores: pd.DataFrame, path: str | Path, title: str) -> None:
    """OOF accuracy (bars from the chance line) and skill (bars from 0) of every base per fold."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    bases = list(dict.fromkeys(scores["base"]))
    colors = _base_colors(bases)
    folds = sorted(scores["fold"].unique())
    width = 0.8 / len(bases)
    panels = ((axes[0], "accuracy", "OOF accuracy (dashed: chance, 1/3)", CHANCE),
              (axes[1], "skill", "OOF skill: log-loss gain over the class prior", 0.0))
    for ax, col, label, reference in panels:
        for k, base in enumerate(bases):
            part = scores[scores["base"] == base].set_index("fold").reindex(folds)
            ax.bar(np.arange(len(folds)) + k * width, part[col] - reference, width, bottom=reference, label=base,
                   color=colors[base], zorder=2)
        ax.axhline(reference, color="0.25", lw=1, ls="--", zorder=2.5)
        ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2, [str(f) for f in folds])
        ax.set_xlabel("fold")
        ax.set_title(label)
        lo, hi = min(scores[col].min(), reference), max(scores[col].max(), reference)
        pad = max(hi - lo, 0.01) * 0.12
        ax.set_ylim(lo - pad, hi + pad)
        ax.grid(axis="y", color="#ddd", lw=0.6, zorder=0)
    axes[1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def cpcv_table(report: dict) -> pd.DataFrame:
    """One row per model: each path score as mean +/- std [min, max] over the CPCV paths."""
    def cell(v: dict) -> str:
        if not all(_finite(v.get(k)) for k in ("mean", "std", "min", "max")):
            return DASH
        return f"{v['mean']:.4f} ± {v['std']:.4f} [{v['min']:.4f}, {v['max']:.4f}]"

    return pd.DataFrame([{"model": model, **{metric: cell(v) for metric, v in scores.items()}}
                         for model, scores in report["cpcv"]["summary"].items()])


def plot_meter(report: dict, path: str | Path, title: str) -> None:
    """The leakage meter: per metered base, the log loss shuffled folds claim, the purged OOF one and the
    test's (dashed: forecasting the class shares); the shuffled bar's whisker is the gap's block SE."""
    plt = _pyplot()
    meters = report["leakage_meter"]["bases"]
    bases = list(meters)
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(bases), 3.4), layout="constrained")
    x = np.arange(len(bases))
    for k, (key, label, color) in enumerate((("shuffled_oof_log_loss", "shuffled folds (OOF)", "#d62728"),
                                             ("purged_oof_log_loss", "purged folds (OOF)", "#1f77b4"),
                                             ("test_log_loss", "test", "#2ca02c"))):
        values = [meters[b][key] for b in bases]
        errors = [meters[b]["optimism_se"] for b in bases] if k == 0 else None
        ax.bar(x + (k - 1) * 0.27, values, 0.27, yerr=errors, label=label, color=color, capsize=3)
    prior = prior_log_loss(score_table(report))
    if prior is not None:
        ax.axhline(prior, ls="--", color="0.4", lw=1, label="class shares")
    ax.set_xticks(x, bases)
    ax.set_ylabel("log loss (lower is better)")
    shown = [meters[b][k] for b in bases for k in ("shuffled_oof_log_loss", "purged_oof_log_loss", "test_log_loss")]
    ax.set_ylim(0.9 * min(shown), 1.05 * max(shown + ([prior] if prior is not None else [])))  # the gaps, not 0
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, frameon=False)
    ax.set_title(title)
    _save(fig, path)


def plot_cpcv(report: dict, path: str | Path, title: str) -> None:
    """The distribution over the CPCV backtest paths of each model's Sharpe ratio and accuracy."""
    plt = _pyplot()
    paths = report["cpcv"]["paths"]
    models = list(paths)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for ax, metric, label in ((axes[0], "sharpe_ratio", "Sharpe ratio (dashed: 0)"),
                              (axes[1], "accuracy", "accuracy (dashed: chance, 1/3)")):
        values = [[p[metric] for p in paths[m]] for m in models]
        ax.boxplot(values, showmeans=True)
        for i, v in enumerate(values, start=1):
            ax.scatter(np.full(len(v), i), v, s=10, color="0.3", zorder=3)
        ax.set_xticks(range(1, len(models) + 1), models, rotation=30 if len(models) > 3 else 0,
                      ha="right" if len(models) > 3 else "center")
        ax.set_title(f"{label} over {len(values[0])} paths")
        ax.grid(axis="y", color="#eee", lw=0.6)
    axes[0].axhline(0.0, color="grey", lw=0.8, ls="--")
    axes[1].axhline(CHANCE, color="grey", lw=0.8, ls="--")
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def walkforward_table(report: dict) -> pd.DataFrame:
    """One row per walk-forward window: its period and rows, what its meta-learner was fitted on and chose,
    each model's skill there, and the meta-learner's log-loss gain over the best base with its block SE."""
    table = report["walkforward"]
    meta = report["meta_learner"]
    rows = []
    for w in table["windows"]:
        fit = w["meta_fit_rows"]
        rows.append({"window": w["window"], "period": _period(w["period"]), "rows": w["n_test"],
                     "bases fitted on": w["n_train"], "meta fitted on": sum(fit.values()),
                     **({"auto chose": w["auto_choice"]} if w["auto_choice"] else {}),
                     **{f"skill {m}": format_score(s["skill"], digits=4, signed=True) for m, s in w["scores"].items()},
                     f"{meta} - {table['best_base']} (log loss)":
                         f"{w['log_loss_gain_over_best_base']:+.4f} ± {w['log_loss_gain_se']:.4f}"})
    return pd.DataFrame(rows)


def walkforward_lines(report: dict) -> list[str]:
    """The record in one line, and the sized book beside the unit book where the report has one."""
    lines = []
    table = report.get("walkforward")
    if table:
        record, initial = table["record"], table["initial"]
        chosen = [w["auto_choice"] for w in table["windows"] if w["auto_choice"]]
        lines.append(f"walk-forward record: {record['n']} rows in {table['n_windows']} windows after an initial span of "
                     f"{initial['n']} ({table['train_window']} training), each window traded by bases and a "
                     "meta-learner fitted before it" + (f"; auto chose {', '.join(chosen)}" if chosen else ""))
    sizing = report.get("bet_sizing")
    if sizing:
        meta = report["meta_learner"]
        books, gains = sizing["books"][meta], sizing["meta_over_best_base"]
        for kind in ("unit", "sized"):
            low, high = gains[kind]["interval"]
            lines.append(f"{kind} book: Sharpe {books[kind]['sharpe_ratio']:+.2f}, turnover "
                         f"{books[kind]['turnover']:.0f}; gain over {sizing['best_base']} "
                         f"{gains[kind]['sharpe_gain']:+.2f} [{low:+.2f}, {high:+.2f}]")
    return lines


def plot_walkforward(report: dict, y: np.ndarray, probabilities: dict[str, np.ndarray], prior: np.ndarray,
                     stamps: np.ndarray, equity: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path,
                     title: str) -> None:
    """Cumulative skill of every model row by row over the record (top) and the equity of the books
    (bottom), with the windows' starts marked and each window's auto choice written at its start."""
    from hetstack.evaluation import per_sample_scores

    plt = _pyplot()
    meta = report["meta_learner"]
    colors = {**_base_colors([m for m in probabilities if m != meta]), meta: META_COLOR}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, height_ratios=[3, 2], layout="constrained")
    for name, proba in probabilities.items():
        skill = np.cumsum(per_sample_scores(y, proba, prior)["skill"])
        top.plot(stamps, skill, lw=1.6 if name == meta else 1, color=colors[name], label=name)
    top.axhline(0.0, color="grey", lw=0.8, ls="--")
    top.set_ylabel("cumulative skill (nats)")
    for name, (times, curve) in equity.items():
        bottom.plot(times, 100 * (curve - 1.0), lw=1, label=name,
                    color=colors.get(name.split(" ")[0], "0.3"), ls="--" if "sized" in name else "-")
    bottom.axhline(0.0, color="grey", lw=0.8, ls="--")
    bottom.set_ylabel("cumulative return (%)")
    for w in report["walkforward"]["windows"]:
        start = pd.Timestamp(w["period"][0])
        for ax in (top, bottom):
            ax.axvline(start, color="0.6", lw=0.7, ls=":")
        top.text(start, 1.0, f" w{w['window']}" + (f" {w['auto_choice'].removeprefix('meta_')}" if w["auto_choice"]
                                                  else ""), transform=top.get_xaxis_transform(), fontsize=7,
                 va="top", color="0.3")
    for ax in (top, bottom):
        ax.grid(color="#eee", lw=0.6)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, 0.93))
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    top.set_title(title)
    fig.autofmt_xdate()
    _save(fig, path)


def make_plots(report_path: str, predictions_path: str, base_tests: dict[str, str], matrix_path: str,
               bars_path: str, out: dict[str, str], *, cost_bps: float) -> None:
    """Every picture of one run; `out` maps each of PLOTS (and 'table', 'headline') to its output path."""
    report = read_json(report_path)
    meta = report["meta_learner"]
    name = f"{report['symbol']} h{report['horizon']} {meta}"
    table = score_table(report)
    extra = None
    if report.get("cpcv"):
        extra = (f"CPCV backtest paths of the train period: {report['cpcv']['reading']}", cpcv_table(report))
        plot_cpcv(report, out["cpcv"], f"{name}: CPCV paths ({report['cpcv']['n_paths']})")
    if report.get("leakage_meter") and "meter" in out:
        plot_meter(report, out["meter"], f"{name}: leakage meter")
    if report.get("walkforward"):
        extra = ("Walk-forward windows (skill against the initial span's class shares; gain ± block SE)",
                 walkforward_table(report))
    predictions = read_parquet(predictions_path)
    test_ids = predictions["sample_id"].to_numpy(np.int64)
    from hetstack.tables import PROB_COLUMNS

    probabilities = {}
    for base in report["base_models"]:
        frame = read_parquet(base_tests[base])
        if not np.array_equal(frame["sample_id"].to_numpy(np.int64), test_ids):
            raise ValueError(f"{base_tests[base]}: test sample ids differ from {predictions_path}")
        probabilities[base] = frame[PROB_COLUMNS].to_numpy(np.float64)
    probabilities[meta] = predictions[PROB_COLUMNS].to_numpy(np.float64)
    write_score_page(report, out["table"], f"{name}: test and validation scores", extra)
    write_headline(report, out["headline"])
    level = ((report.get("statistics") or {}).get("bootstrap") or {}).get("confidence", 0.95)
    plot_scores(table, out["scores"], f"{name}: test scores", _passes_through(report), level)
    plot_reliability(predictions["label"].to_numpy(), probabilities, out["reliability"], f"{name}: reliability (test)",
                     meta=meta)

    bars = read_parquet(bars_path, columns=["timestamp", "close"])
    positions = predictions["prediction"].to_numpy(np.float64)
    bar_ids, equity, drawdown = equity_curve(positions, test_ids, bars["close"].to_numpy(np.float64),
                                             int(report["horizon"]), cost_bps)
    plot_equity(bars["timestamp"].to_numpy()[bar_ids], equity, drawdown, out["equity"],
                f"{name}: test equity (staggered book, {cost_bps:g} bp cost)")
    if report.get("walkforward"):
        from hetstack.evaluation import book_positions, class_prior

        close, times = bars["close"].to_numpy(np.float64), bars["timestamp"].to_numpy()
        best = report["walkforward"]["best_base"]
        books = {meta: positions, best: book_positions(probabilities[best])}
        if report.get("bet_sizing"):
            books[f"{meta} sized"] = book_positions(probabilities[meta], sized=True)
        curves = {}
        for label, book in books.items():
            ids, curve, _ = equity_curve(book, test_ids, close, int(report["horizon"]), cost_bps)
            curves[label] = (times[ids], curve)
        prior = class_prior(read_parquet(matrix_path, columns=["label"])["label"].to_numpy())
        plot_walkforward(report, predictions["label"].to_numpy(), probabilities, prior,
                         times[test_ids], curves, out["walkforward"],
                         f"{name}: walk-forward record ({report['walkforward']['n_windows']} windows)")

    plot_weights(report["meta_learner_weights"], report.get("meta_learner_weights_method") or "",
                 out["weights"], f"{name}: meta-learner weights", report.get("meta_learner_regime_weights"))
    matrix = read_parquet(matrix_path)
    plot_oof_folds(oof_fold_scores(matrix, report["base_models"]), out["oof_folds"], f"{name}: OOF scores per fold")


def forest_figure(study: dict, kind: str = "log_loss"):
    """Forest plot of each meta-learner's gain over its run's best base: every run's point (the mean
    over its seed replicates, when it has them) with its ±2 SE bar, and the random-effects pool
    (diamond) with ±2 pooled SE."""
    plt = _pyplot()
    pooled = study[f"pooled_gain_{kind}"]
    metas = sorted(pooled)
    cells = study.get("cells") or study["runs"]
    runs = sorted(cells)
    rows = [(m, r) for m in metas for r in runs if m in cells[r]["gain"]]
    fig, ax = plt.subplots(figsize=(7, 0.28 * (len(rows) + 2 * len(metas)) + 1.2), layout="constrained")
    y, labels, ticks = 0, [], []
    for meta in metas:
        for run in runs:
            gain = cells[run]["gain"].get(meta)
            if gain is None:
                continue
            value, se = gain[kind]["value"], gain[kind]["se"]
            ax.errorbar(value, y, xerr=2 * se, fmt="o", ms=4, color="0.35", capsize=2, lw=1)
            ticks.append(y)
            labels.append(f"{meta}  {run}")
            y -= 1
        p = pooled[meta]
        ax.errorbar(p["estimate"], y, xerr=2 * p["se"], fmt="D", ms=7, color=META_COLOR, capsize=3, lw=1.5)
        ticks.append(y)
        labels.append(f"{meta}  pooled (k={p['k']})")
        y -= 1.5
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(ticks, labels, fontsize=7)
    unit = "log loss" if kind == "log_loss" else "accuracy"
    ax.set_xlabel(f"{unit} gain over the run's best base (bars: ±2 SE; diamond: random-effects pool)")
    ax.grid(axis="x", color="#eee", lw=0.6)
    return fig


def write_study_page(study: dict, path: str | Path) -> None:
    """study.html: the pooled skill of every model, each meta-learner's pooled gains with their
    wins and losses, auto's choices, and the forest plot inline."""
    import io

    def pooled_table(section: str, digits: int = 4) -> pd.DataFrame:
        return pd.DataFrame([{"model": name, "pooled": f"{p['estimate']:+.{digits}f} ± {p['se']:.{digits}f}",
                              "z": format_score(p.get("z"), digits=2, signed=True), "runs": p["k"],
                              "between-run variance τ²": format_score(p.get("tau2"), digits=6),
                              "wins > 2 SE": ", ".join(p["wins"]) or DASH,
                              "losses > 2 SE": ", ".join(p["losses"]) or DASH}
                             for name, p in sorted(study[section].items())])

    buffer = io.StringIO()
    figure = forest_figure(study)
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    choices = [f"{run}: {chosen}" for run, chosen in sorted(study["auto_choices"].items())]
    blends = [f"{run} {meta}: {b['alpha']:.2f} × {b['stacker']} + {1 - b['alpha']:.2f} × {b['toward']}"
              for run, r in sorted(study["runs"].items()) for meta, b in sorted((r.get("shrinkage") or {}).items())]
    pbo = study.get("pbo_across_runs")
    pbo_line = ("" if pbo is None else
                f"<h4>Is the best model stable across runs?</h4><p>PBO across runs {pbo['pbo']:.2f} over "
                f"{pbo['n_splits']} splits of the {pbo['n_runs']} runs into halves ({pbo['n_models']} models, "
                f"{html.escape(pbo['score'])}): how often the model best on one half ranks at or below the "
                f"median on the other. In-sample winners: "
                + html.escape(", ".join(f"{m} {share:.0%}" for m, share in sorted(
                    pbo["in_sample_winner_share"].items(), key=lambda kv: -kv[1]))) + ".</p>")
    spread = study.get("seed_spread")
    spread_table = "" if not spread else "<h4>Seed spread: test skill over seeds beside its sampling SE</h4>" + _html_table(
        pd.DataFrame([{"model": m, "seed SD": format_score(v["seed_sd"], digits=4),
                       "sampling SE": format_score(v["sampling_se"], digits=4),
                       "SD / SE": format_score(v["ratio"], digits=2), "cells": v["cells"]}
                      for m, v in sorted(spread["skill"].items()) if v]))
    title = f"Study of {study['n_runs']} runs" + (f" in {study['n_cells']} cells" if "n_cells" in study else "")
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h3>{html.escape(title)}</h3>"
            f"<p class='note'>{html.escape(study['method'])}</p>"
            f"<h4>Test skill, pooled across runs</h4>{_html_table(pooled_table('pooled_skill'))}"
            f"<h4>Log-loss gain over each run's best base</h4>{_html_table(pooled_table('pooled_gain_log_loss'))}"
            f"<h4>Accuracy gain over each run's best base</h4>{_html_table(pooled_table('pooled_gain_accuracy'))}"
            f"{_html_list('What auto chose', choices)}{_html_list('How meta_shrink blended', blends)}{spread_table}{pbo_line}"
            f"<h4>Forest plot (log loss)</h4>{svg}</body></html>")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
