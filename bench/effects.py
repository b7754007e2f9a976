"""Which view finds which planted effect: an ablation of the heterogeneous synthetic market.

Markets (MES, seed 42, h = 20, `synthetic.market: heterogeneous`): no effect, each of its effects
alone and all three. Each effect needs information that only one view holds
(docs/synthetic-market.md):

    interaction  row     two current indicator values together
    absorption   window  the wick side of a heavy-volume bar 10-40 bars back (the row keeps candles for 3 bars)
    echo         long    after a heavy-volume bar, the way the same hour went a session (1,380 bars) back

On each market every base of the three views is fitted once on the train period (the workflow's
retrained base, test/{base}.parquet) and scored on the test rows: row (catboost, lightgbm,
logistic on the 180 indicators), window (tcn, and logistic_window on the same 3D windows of rows
flattened), long (patchtst, and lightgbm_multires on the same 4D multi-timeframe windows flattened).
Per effect, an oracle: a logistic regression on the effect's true drift over the next h bars,
fitted on the train rows and scored on the same test rows.
Skill = class-prior log loss minus the model's; SEs are batch means over blocks of 2h test rows.

Criteria, fixed before any stack was measured (issue 29):
  1. own view: the effect's view (its best base) gains >= 3 SE of skill over the no-effect market
     (paired over the same test rows: the markets share every random stream but the effect's);
  2. the row must not find absorption or echo, the window must not find echo: each gains at most a
     third of the own view's gain (how much the window and long views find of the row effect is shown);
  3. the oracle's skill is >= +0.03.

    python bench/effects.py --quick     # 12,000 bars a market, shorter training: a smoke test
    python bench/effects.py             # 40,000 bars a market, the default training
    python bench/effects.py --markets --stack MES:42 MGC:7      # the default job on the heterogeneous market
    python bench/effects.py --markets --stack MES:42 --stack-bases catboost tcn patchtst lightgbm_multires
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import se_blocks
from common import drop_scratch, print_table, run_timed, run_workflow, scratch_root, write_result

from hetstack import CLASSES, synthetic
from hetstack.evaluation import class_prior, per_sample_scores
from hetstack.tables import PROB_COLUMNS

HORIZON = 20
MARKET = "heterogeneous"
EFFECT_VIEW = {"interaction": "row", "absorption": "window", "echo": "long"}
VIEWS = {"row": ["catboost", "lightgbm", "logistic"], "window": ["tcn", "logistic_window"],
         "long": ["patchtst", "lightgbm_multires"]}
BASES = [base for bases in VIEWS.values() for base in bases]
STRENGTH = {name: synthetic.MARKETS[MARKET][name] for name in EFFECT_VIEW}  # each effect as the market plants it
MARKETS = {"none": {}, **{name: {name: STRENGTH[name]} for name in EFFECT_VIEW}, "all": STRENGTH}
QUICK_PARAMS = {"catboost": {"iterations": 150}, "tcn": {"epochs": 3}, "patchtst": {"epochs": 3},
                "lightgbm_multires": {"num_boost_round": 150}}
MIN_SE, MAX_SHARE, MIN_ORACLE = 3.0, 1.0 / 3.0, 0.03


def market_config(market: str, data_dir: Path, quick: bool, symbol: str = "MES", seed: int = 42) -> dict:
    """The workflow config of one ablation market: every effect of the heterogeneous market off but its own."""
    effects = {name: MARKETS[market].get(name, 0.0) for name in EFFECT_VIEW}
    config = {"symbols": [symbol], "horizons": [HORIZON], "seed": seed, "data_dir": str(data_dir),
              "base_models": BASES, "synthetic": {"n_bars": 12000 if quick else 40000, "market": MARKET,
                                                  "effects": effects}}
    if quick:
        config["model_params"] = QUICK_PARAMS
    return config


def train_prior(run: Path) -> np.ndarray:
    """Class shares of the run's train labels: the forecast that skill is measured against."""
    labels = pd.read_parquet(run / "labels.parquet", columns=["label", "split"])
    return class_prior(labels["label"].to_numpy()[labels["split"].to_numpy() == "train"])


def skill_terms(prior: np.ndarray, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per test row: skill (class-prior log loss minus the model's) and correct (0/1)."""
    terms = per_sample_scores(frame["label"].to_numpy(), frame[PROB_COLUMNS].to_numpy(np.float64), prior)
    return terms["skill"], terms["accuracy"]


def oracle_frame(run: Path, drift: np.ndarray, horizon: int = HORIZON) -> pd.DataFrame:
    """Test-row probabilities of a logistic regression on the true planted drift of the next
    `horizon` bars (and its size), fitted on the run's train rows: what the effect is worth."""
    from sklearn.linear_model import LogisticRegression

    labels = pd.read_parquet(run / "labels.parquet", columns=["sample_id", "label", "split"])
    cumulative = np.concatenate([[0.0], np.cumsum(drift)])
    ids = labels["sample_id"].to_numpy()
    ahead = cumulative[np.minimum(ids + horizon + 1, len(drift))] - cumulative[ids + 1]
    X = np.column_stack([ahead, np.abs(ahead)])
    train, test = labels["split"].to_numpy() == "train", labels["split"].to_numpy() == "test"
    model = LogisticRegression(C=10.0, max_iter=1000).fit(X[train], labels["label"].to_numpy()[train])
    proba = model.predict_proba(X[test])[:, np.searchsorted(model.classes_, CLASSES)]
    return pd.DataFrame(proba, columns=PROB_COLUMNS).assign(label=labels["label"].to_numpy()[test])


def planted(symbol: str, n_bars: int, seed: int, market_effects: dict) -> dict[str, np.ndarray]:
    from hetstack.synthetic import market_strengths, planted_drifts

    strengths = market_strengths(MARKET, market_effects)
    return planted_drifts(symbol, n_bars, seed, **{f"{k}_strength": v for k, v in strengths.items()})[1]


def market_scores(run: Path, drifts: dict[str, np.ndarray], effects: list[str]) -> tuple[dict, dict]:
    """Skill (block SE) of every base and of each effect's oracle on one market's test rows, and each
    base's per-sample skill (indexed by sample id) for paired comparisons across markets."""
    out, samples, prior = {}, {}, train_prior(run)
    frames = {b: pd.read_parquet(run / "test" / f"{b}.parquet") for b in BASES}
    frames.update({f"oracle:{e}": oracle_frame(run, drifts[e]) for e in effects})
    for name, frame in frames.items():
        skill, correct = skill_terms(prior, frame)
        out[name] = {"skill": float(skill.mean()), "skill_se_block": se_blocks(skill, 2 * HORIZON),
                     "test_acc": float(correct.mean())}
        if name in BASES:
            samples[name] = pd.Series(skill, index=frame["sample_id"].to_numpy())
    return out, samples


def view_best(scores: dict, view: str) -> str:
    """The view's best base on this market."""
    return max(VIEWS[view], key=lambda b: scores[b]["skill"])


def paired_gain(skill: pd.Series, skill0: pd.Series) -> tuple[float, float]:
    """Mean per-sample skill gain over the same test rows of two markets, and its block SE. The markets
    share every random stream but the effect's (common random numbers), so pairing removes the noise
    they share: which stretches of the test period are easy."""
    if not skill.index.equals(skill0.index):
        raise AssertionError("the two markets were scored on different test rows")
    gain = skill.to_numpy() - skill0.to_numpy()
    return float(gain.mean()), se_blocks(gain, 2 * HORIZON)


def criteria(results: dict, samples: dict) -> list[dict]:
    """Each effect against the no-effect market, per view: the best base's gain over the no-effect
    market's best base of that view, paired over the same test rows, and the issue's verdicts."""
    rows = []
    for effect, own in EFFECT_VIEW.items():
        if effect not in results:
            continue
        scores = results[effect]
        gains = {}
        for view in VIEWS:
            base, base0 = view_best(scores, view), view_best(results["none"], view)
            gains[view] = (base, *paired_gain(samples[effect][base], samples["none"][base0]))
        own_gain, own_se = gains[own][1], gains[own][2]
        oracle = scores[f"oracle:{effect}"]
        row = {"effect": effect, "own view": own, "oracle": f"{oracle['skill']:+.4f} ({oracle['skill_se_block']:.4f})",
               "oracle_ok": oracle["skill"] >= MIN_ORACLE,
               "own_ok": own_gain >= MIN_SE * own_se, "own_gain_in_se": own_gain / own_se if own_se else float("nan")}
        for view, (base, gain, se) in gains.items():
            row[view] = f"{gain:+.4f} ({se:.4f}) {base}"
        must_not = {"absorption": ["row"], "echo": ["row", "window"]}.get(effect, [])
        shares = {view: gains[view][1] / own_gain if own_gain > 0 else float("inf") for view in must_not}
        row["others_ok"] = all(share <= MAX_SHARE for share in shares.values())
        row["other_shares"] = {view: round(share, 3) for view, share in shares.items()}
        rows.append(row)
    return rows


def run_ablation(args, root: Path) -> dict:
    results, samples, walls = {}, {}, {}
    n_bars = 12000 if args.quick else 40000
    for market in args.markets:
        work = root / market
        (work / "data").mkdir(parents=True, exist_ok=True)  # empty: every symbol is synthetic
        config = market_config(market, work / "data", args.quick)
        walls[market] = run_workflow(work, config, [f"results/MES_h{HORIZON}/test/{b}.parquet" for b in BASES],
                                     args.cores)
        drifts = planted("MES", n_bars, 42, config["synthetic"]["effects"])
        own = [e for e, on in config["synthetic"]["effects"].items() if on > 0]
        results[market], samples[market] = market_scores(work / f"results/MES_h{HORIZON}", drifts, own)
        print_table([{"model": m, **r} for m, r in results[market].items()], ["model", "skill", "skill_se_block", "test_acc"],
                    f"market '{market}' (effects {config['synthetic']['effects']}), workflow {walls[market]:.0f} s")
    table = [{"model": m, **{market: f"{res[m]['skill']:+.4f} ({res[m]['skill_se_block']:.4f})" for market, res in results.items()
                             if m in res}} for m in BASES + [f"oracle:{e}" for e in EFFECT_VIEW]]
    print_table(table, ["model", *results], "test skill (block SE) by market")
    verdicts = criteria(results, samples) if "none" in results else []
    if verdicts:
        print_table(verdicts, ["effect", "own view", *VIEWS, "oracle", "own_gain_in_se", "own_ok", "others_ok",
                               "other_shares", "oracle_ok"],
                    "gain over the no-effect market by view (best base of the view; paired block SE over the same test rows)")
    return {"markets": results, "walls_s": walls, "criteria": verdicts}


def run_stacks(args, root: Path) -> list[dict]:
    """The default job (auto over the default bases) on the heterogeneous market, per symbol:seed."""
    rows = []
    for spec in args.stack:
        symbol, seed = spec.split(":")
        work = root / f"stack-{symbol}-{seed}"
        (work / "data").mkdir(parents=True, exist_ok=True)
        config = {"symbols": [symbol], "seed": int(seed), "data_dir": str(work / "data"),
                  "synthetic": {"n_bars": 12000 if args.quick else 40000, "market": MARKET, "effects": args.effects}}
        if args.stack_bases:
            config["base_models"] = args.stack_bases
        if args.quick:
            config["model_params"] = QUICK_PARAMS
        wall = run_workflow(work, config, [f"results/{symbol}_h{HORIZON}/auto_report.json"], args.cores)
        rows.append({"symbol": symbol, "seed": int(seed), "wall_s": wall,
                     **stack_gain(work / f"results/{symbol}_h{HORIZON}")})
        print_table(rows[-1:], list(rows[-1]), f"stack on {symbol} seed {seed}")
    return rows


def stack_gain(run: Path) -> dict:
    """auto against the report's best base (lowest OOF log loss) and against the base with the best
    test log loss (picked on the test rows: favours the base, so that gain is if anything understated);
    paired test gains with block SEs; and the share of the oracle pool's gain over the report's best
    base that auto reaches."""
    report = json.loads((run / "auto_report.json").read_text())
    meta = pd.read_parquet(run / "predictions" / "auto_test.parquet")
    prior = train_prior(run)
    meta_skill, meta_correct = skill_terms(prior, meta)
    bases, frames = {}, {}
    for name in report["base_model_performance"]:
        frame = pd.read_parquet(run / "test" / f"{name}.parquet")
        if not np.array_equal(meta["label"].to_numpy(), frame["label"].to_numpy()):
            raise AssertionError(f"the meta-learner and {name} were scored on different rows")
        bases[name], frames[name] = skill_terms(prior, frame), frame
    out = {"chose": (report.get("meta_auto_choice") or {}).get("chosen"), "meta_skill": float(meta_skill.mean())}
    block = 2 * HORIZON
    pool_skill, _ = skill_terms(prior, oracle_pool(meta["label"].to_numpy(), frames))
    oof_best = report["performance"]["best_base"]
    test_best = max(bases, key=lambda b: bases[b][0].mean())
    for label, best in (("", oof_best), ("test_best_", test_best)):
        base_skill, base_correct = bases[best]
        loss_gain, acc_gain = meta_skill - base_skill, meta_correct - base_correct
        out.update({f"{label}base": best, f"{label}base_skill": float(base_skill.mean()),
                    f"{label}gain_log_loss": float(loss_gain.mean()), f"{label}gain_log_loss_se": se_blocks(loss_gain, block),
                    f"{label}gain_acc": float(acc_gain.mean()), f"{label}gain_acc_se": se_blocks(acc_gain, block)})
    pool_gain = pool_skill - bases[oof_best][0]
    out.update({"pool_gain_log_loss": float(pool_gain.mean()), "pool_gain_log_loss_se": se_blocks(pool_gain, block),
                "share_of_pool": out["gain_log_loss"] / float(pool_gain.mean()) if pool_gain.mean() > 0 else float("nan")})
    return out


def oracle_pool(labels: np.ndarray, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A multinomial logistic regression on every base's log probabilities, fitted on the test rows
    themselves and scored on them: an upper bound on what any stacker of these bases reaches there
    (softmax of one base's log probabilities is that base, so it is never worse than the best)."""
    from sklearn.linear_model import LogisticRegression

    X = np.hstack([np.log(np.clip(frame[PROB_COLUMNS].to_numpy(), 1e-9, 1.0)) for frame in frames.values()])
    model = LogisticRegression(C=100.0, max_iter=5000).fit(X, labels)
    proba = model.predict_proba(X)[:, np.searchsorted(model.classes_, CLASSES)]
    return pd.DataFrame(proba, columns=PROB_COLUMNS).assign(label=labels)


def effect_strength(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if name not in EFFECT_VIEW or not value:
        raise argparse.ArgumentTypeError(f"'{text}': expected EFFECT=STRENGTH with EFFECT one of {', '.join(EFFECT_VIEW)}")
    return name, float(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="12,000 bars a market, fewer iterations/epochs")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markets", nargs="*", choices=list(MARKETS), default=list(MARKETS))
    ap.add_argument("--stack", nargs="*", default=[], metavar="SYMBOL:SEED",
                    help="also run the default job on the heterogeneous market for these")
    ap.add_argument("--stack-bases", nargs="+", help="base_models of the stack runs (default: the config's)")
    ap.add_argument("--effects", nargs="*", default=[], metavar="EFFECT=STRENGTH", type=effect_strength,
                    help="the stack runs' effect strengths over the heterogeneous market's (synthetic.effects)")
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default: a temporary one")
    args = ap.parse_args()
    args.effects = dict(args.effects)

    root = scratch_root(args.workdir, "effects")
    mode = "quick" if args.quick else "full"
    print(f"effects benchmark ({mode}), views {VIEWS}, {args.cores} cores, scratch {root}", flush=True)
    try:
        result = run_ablation(args, root) if args.markets else {}
        stacks = run_stacks(args, root)
    finally:
        drop_scratch(root, args.workdir)
    if stacks:
        print_table(stacks, list(stacks[0]), "auto against the best base on the heterogeneous market (paired, block SE)")
    write_result("effects-quick" if args.quick else "effects", {
        "mode": mode, "views": VIEWS, "effect_view": EFFECT_VIEW, "cores": args.cores, **result, "stacks": stacks,
        "se_note": "batch means over blocks of 2*horizon consecutive test rows; skill = train class-prior log loss - model's",
    })


if __name__ == "__main__":
    run_timed(main)
