from pathlib import Path

import pytest

from hetstack import config as hcfg
from hetstack.errors import ConfigError


def test_per_family_choice_keeps_slot_order_and_skips_nulls():
    cfg = {"base_models": {"optional_4th": "ridge", "tabular": "catboost", "cnn": None}}
    assert hcfg.base_models(cfg) == ["catboost", "ridge"]


def test_flat_list_replaces_the_family_choice():
    assert hcfg.base_models({"base_models": ["lightgbm", "catboost"]}) == ["lightgbm", "catboost"]


def test_a_family_clashes_only_with_itself_on_the_same_input_shape():
    assert "both of family 'boosting' on tabular input" in hcfg.family_clash(["catboost", "lightgbm"])
    assert hcfg.family_clash(["catboost", "logistic_window", "lightgbm_multires"]) is None  # boosting on 2D and on 4D
    assert "'tcn' and 'resnet1d'" in hcfg.family_clash(["catboost", "tcn", "resnet1d"])


@pytest.mark.parametrize("bases, fragment", [
    (["catboost", "xgbost"], "unknown model 'xgbost'"),
    (["catboost", "catboost"], "listed twice"),
    (["meta_ridge"], "is a meta-learner"),
    ([], "no base model"),
])
def test_bad_base_lists_are_refused_with_one_line(bases, fragment):
    with pytest.raises(ConfigError) as err:
        hcfg.base_models({"base_models": bases})
    assert fragment in str(err.value) and "base_models" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("symbol", ["../x", "a/b", "MES_h20", ""])
def test_symbols_that_could_escape_or_confuse_paths_are_refused(symbol):
    with pytest.raises(ConfigError):
        hcfg.symbols({"symbols": [symbol]})


def test_meta_learner_names_keep_aliases_and_reject_bases():
    assert hcfg.meta_learners({"meta_learner": "ridge_meta"}) == ["ridge_meta"]
    assert hcfg.meta_learners({"meta_learner": ["meta_ridge", "logistic_meta"]}) == ["meta_ridge", "logistic_meta"]
    with pytest.raises(ConfigError):
        hcfg.meta_learners({"meta_learner": "catboost"})


@pytest.mark.parametrize("horizons", [[0], [-5], ["20"], [True]])
def test_horizons_must_be_positive_integers(horizons):
    with pytest.raises(ConfigError):
        hcfg.horizons({"horizons": horizons})


def test_oof_settings_are_checked():
    with pytest.raises(ConfigError, match="n_folds"):
        hcfg.check_oof({"oof": {"n_folds": 1, "purge_bars": 0, "embargo_bars": 0}})
    with pytest.raises(ConfigError, match="embargo_bars"):
        hcfg.check_oof({"oof": {"n_folds": 3, "purge_bars": 0, "embargo_bars": -1}})


def test_command_line_strings_get_the_schema_types():
    """`--config horizons='[5,20]'` hands the workflow ['5', '20']: coerced before validation."""
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "config/config.schema.yaml").read_text())
    raw = {"horizons": ["5", "20"], "symbols": ["MES", "1234"], "base_models": ["catboost", "tcn"],
           "oof": {"n_folds": "3", "purge_bars": "10", "use_sample_weights": "false"},
           "split": {"test_fraction": "0.25"}, "model_params": {"catboost": {"iterations": "50", "depth": "4"},
                                                                  "patchtst": {"pooling": "mean", "lr": "0.0003"}}}
    coerced = hcfg.coerce_to_schema(raw, schema)
    assert coerced["horizons"] == [5, 20]
    assert coerced["symbols"] == ["MES", "1234"]  # strings stay strings where the schema wants them
    assert coerced["oof"] == {"n_folds": 3, "purge_bars": 10, "use_sample_weights": False}
    assert coerced["split"]["test_fraction"] == 0.25
    assert coerced["model_params"]["catboost"] == {"iterations": 50, "depth": 4}
    assert coerced["model_params"]["patchtst"] == {"pooling": "mean", "lr": 0.0003}
    assert hcfg.coerce_to_schema({"horizons": ["five"]}, schema) == {"horizons": ["five"]}  # left for the schema to refuse


@pytest.mark.parametrize("overlay", ["full.yaml", "classic.yaml"])
def test_config_overlays_pass_the_schema_over_the_default(overlay):
    import yaml
    from snakemake.utils import update_config

    from hetstack.config import check_schema

    folder = Path(__file__).resolve().parents[1] / "config"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    update_config(config, yaml.safe_load((folder / overlay).read_text()))
    check_schema(config, str(folder / "config.schema.yaml"))


def test_the_default_reads_each_view_of_the_heterogeneous_market_once_and_classic_is_one_file_away():
    import yaml
    from snakemake.utils import update_config

    from hetstack.catalogue import get_spec
    from hetstack.stages.data import SyntheticSettings
    from hetstack.synthetic import DEFAULT_MARKET

    folder = Path(__file__).resolve().parents[1] / "config"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["synthetic"]["market"] == "heterogeneous" == DEFAULT_MARKET == SyntheticSettings(n_bars=1, seed=0).market
    assert sorted(get_spec(b).input_kind for b in hcfg.base_models(config)) == ["multires", "sequence", "tabular"]
    assert hcfg.family_clash(hcfg.base_models(config)) is None  # no warning on the default run
    update_config(config, yaml.safe_load((folder / "classic.yaml").read_text()))
    assert config["synthetic"]["market"] == "classic"
    assert hcfg.base_models(config) == ["catboost", "tcn", "patchtst"]  # the bases of every earlier figure


def test_meta_learners_are_fitted_unweighted_by_default_and_never_weighted_without_the_bases():
    import yaml
    from snakemake.utils import update_config

    folder = Path(__file__).resolve().parents[1] / "config"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["oof"]["use_sample_weights"] and not hcfg.meta_sample_weights(config)
    update_config(config, yaml.safe_load((folder / "classic.yaml").read_text()))
    assert hcfg.meta_sample_weights(config)  # the classic figures' meta-learners were weighted
    assert not hcfg.meta_sample_weights({"oof": {"use_sample_weights": False, "meta_sample_weights": True}})
    assert hcfg.meta_sample_weights({"oof": {"use_sample_weights": True}})  # absent: as the bases
