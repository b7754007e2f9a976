"""The study: every run's reports pooled across symbols and horizons (rule study)."""

import json

import numpy as np
import pandas as pd
import pytest

from hetstack.stages.study import build_study, pool_runs
from hetstack.tables import PROB_COLUMNS
from hetstack.statistics import random_effects_pool
from snakemake_cmd import tiny_config, write_config


def report(tmp_path, symbol, meta, skills, gain, gain_se, chosen=None, replicate=0):
    """A report with what the study reads: skills and their SEs, the meta's gains and their SEs."""
    bases = {b: {"test_skill": v} for b, v in skills.items() if b != meta}
    body = {"symbol": symbol, "horizon": 20, "meta_learner": meta, "base_model_performance": bases,
            "performance": {"best_base": "a", "test_skill": skills[meta], "log_loss_improvement_over_best_base": gain,
                            "improvement_over_best_base": gain / 2},
            "statistics": {"standard_errors": {**{m: {"skill": 0.01} for m in skills},
                                               "gains": {"log_loss_improvement_over_best_base": gain_se,
                                                         "improvement_over_best_base": gain_se / 2}}},
            "meta_auto_choice": {"chosen": chosen} if chosen else None, **({"replicate": replicate} if replicate else {})}
    path = tmp_path / f"{symbol}_{meta}_{replicate}.json"
    path.write_text(json.dumps(body))
    return str(path)


def test_the_study_pools_each_models_skill_and_each_metas_gain_across_runs(tmp_path):
    gains = {"X": (0.03, 0.01), "Y": (-0.025, 0.01), "Z": (0.0, 2e-18)}  # Z: auto passed the best base through
    paths = [report(tmp_path, s, "auto", {"a": 0.05 + k / 100, "b": 0.02, "auto": 0.06}, g, se,
                    chosen="meta_best_base" if s == "Z" else "meta_ridge")
             for k, (s, (g, se)) in enumerate(gains.items())]
    study = build_study(paths, str(tmp_path / "study.json"), str(tmp_path / "study.html"))
    assert study == json.loads((tmp_path / "study.json").read_text())
    page = (tmp_path / "study.html").read_text()
    assert "Forest plot" in page and "<svg" in page and "auto  pooled (k=3)" in page
    assert "X_h20" in page and "Z_h20: meta_best_base" in page and "PBO across runs" in page
    assert study["n_runs"] == 3 and study["auto_choices"]["Z_h20"] == "meta_best_base"
    skill = study["pooled_skill"]["a"]
    assert skill["estimate"] == pytest.approx(random_effects_pool([0.05, 0.06, 0.07], [0.01] * 3)["estimate"])
    gain = study["pooled_gain_log_loss"]["auto"]
    # the exact zero enters with the smallest SE of the others
    expected = random_effects_pool([0.03, -0.025, 0.0], [0.01, 0.01, 0.01])
    assert gain["estimate"] == pytest.approx(expected["estimate"]) and gain["se"] == pytest.approx(expected["se"])
    assert gain["wins"] == ["X_h20"] and gain["losses"] == ["Y_h20"] and gain["tau2"] > 0
    pbo = study["pbo_across_runs"]
    # auto's skill (0.06) beats a (0.05, 0.06, 0.07) and b on most halves of the three runs
    assert pbo["n_runs"] == 3 and pbo["n_models"] == 3 and pbo["n_splits"] == 3 and 0 <= pbo["pbo"] <= 1


def test_shrinkage_choices_are_kept_per_meta(tmp_path):
    paths = []
    for meta in ("auto", "meta_shrink"):
        body = json.loads(open(report(tmp_path, "X", meta, {"a": 0.05, meta: 0.06}, 0.01, 0.01, chosen="meta_ridge")).read())
        if meta == "meta_shrink":
            body["meta_auto_choice"]["shrinkage"] = {"stacker": "meta_ridge", "toward": "meta_best_base", "alpha": 0.4}
        (tmp_path / f"{meta}.json").write_text(json.dumps(body))
        paths.append(str(tmp_path / f"{meta}.json"))
    study = build_study(paths, str(tmp_path / "study.json"), str(tmp_path / "study.html"))
    assert "X_h20 meta_shrink: 0.40 × meta_ridge + 0.60 × meta_best_base" in (tmp_path / "study.html").read_text()
    run = study["runs"]["X_h20"]
    assert run["auto_choice"] == "meta_ridge" and run["shrinkage"]["meta_shrink"]["alpha"] == 0.4
    assert study["pbo_across_runs"] is None  # one run: nothing to split


def test_pooling_runs_that_are_all_exact_says_so():
    out = pool_runs({"a": 0.0, "b": 0.0}, {"a": 0.0, "b": 0.0})
    assert out["se"] == 0.0 and "nothing to pool" in out["note"]


def test_seed_replicates_are_averaged_into_one_cell_and_give_the_seed_spread(tmp_path):
    """Replicates share their test rows: one cell each symbol, SE^2 = mean SE^2 + seed variance / K."""
    paths = [report(tmp_path, s, "auto", {"a": 0.05 + d, "auto": 0.06 + 2 * d}, g + d, 0.01, replicate=r)
             for s, g in (("X", 0.03), ("Y", -0.01)) for r, d in enumerate((0.0, 0.002, 0.004))]
    study = build_study(paths, str(tmp_path / "study.json"), str(tmp_path / "study.html"))
    assert study["n_runs"] == 6 and study["n_cells"] == 2 and set(study["runs"]) >= {"X_h20", "X_h20_rep2"}
    cell = study["cells"]["X_h20"]["gain"]["auto"]["log_loss"]
    seed_var = np.var([0.03, 0.032, 0.034], ddof=1)
    assert cell["value"] == pytest.approx(0.032) and cell["seed_sd"] == pytest.approx(np.sqrt(seed_var))
    assert cell["se"] == pytest.approx(np.sqrt(0.01**2 + seed_var / 3))
    spread = study["seed_spread"]["skill"]["auto"]
    assert spread["seed_sd"] == pytest.approx(0.004) and spread["sampling_se"] == pytest.approx(0.01)
    pooled = study["pooled_gain_log_loss"]["auto"]
    assert pooled["k"] == 2  # cells, not runs
    assert pooled["estimate"] == pytest.approx(random_effects_pool([0.032, -0.008], [cell["se"]] * 2)["estimate"])
    assert "Seed spread" in (tmp_path / "study.html").read_text()


@pytest.mark.integration
def test_replicates_refit_every_model_with_its_own_seed_on_the_same_labels(tmp_path, snakemake_run):
    write_config(tmp_path, tiny_config(replicates=2))
    plan = snakemake_run(tmp_path, "--dry-run", "study").stdout
    counts = dict(line.split()[:2] for line in plan.splitlines() if line.split()[:1] in (["report"], ["oof_fold"]))
    assert counts == {"report": str(2 * 2), "oof_fold": str(2 * 2 * 3)}  # replicates x metas; x bases x folds
    shards = ["results/SYN_h5/oof/lightgbm/fold0.parquet", "results/SYN_h5_rep1/oof/lightgbm/fold0.parquet"]
    snakemake_run(tmp_path, "--cores", "2", *shards)
    first, second = (pd.read_parquet(tmp_path / s) for s in shards)
    assert (tmp_path / "results/SYN_h5/labels.parquet").read_bytes() == (
        tmp_path / "results/SYN_h5_rep1/labels.parquet").read_bytes()
    assert first["sample_id"].equals(second["sample_id"])
    assert not np.allclose(first[PROB_COLUMNS].to_numpy(), second[PROB_COLUMNS].to_numpy())  # another seed


@pytest.mark.integration
def test_a_seed_bagged_base_is_one_base_of_averaged_seeds_in_its_jobs(tmp_path, snakemake_run):
    from hetstack.catalogue import load_model
    from hetstack.models.seed_bag import SeedBag

    write_config(tmp_path, tiny_config(model_params={"lightgbm": {"seed_bag": 2}}))
    run = tmp_path / "results/SYN_h5"
    snakemake_run(tmp_path, "--cores", "2", "results/SYN_h5/models/bases/lightgbm", "results/SYN_h5/test/ridge.parquet")
    bag = load_model(run / "models/bases/lightgbm")
    assert isinstance(bag, SeedBag) and len(bag.members) == 2
    assert (run / "models/bases/lightgbm/member1/model.json").is_file()
    assert not (run / "models/bases/ridge/member0").exists()  # only the base that asks for it


@pytest.mark.integration
def test_the_study_target_plans_every_runs_reports(tmp_path, snakemake_run):
    write_config(tmp_path, tiny_config(symbols=["SYN", "ALT"], horizons=[5, 10]))
    plan = snakemake_run(tmp_path, "--dry-run", "study").stdout
    counts = dict(line.split()[:2] for line in plan.splitlines() if line.split()[:1] in (["report"], ["study"]))
    assert counts == {"report": str(2 * 2 * 2), "study": "1"}  # symbols x horizons x meta-learners
