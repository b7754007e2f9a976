import subprocess
import sys

import pytest

from hetstack.errors import ConfigError
from hetstack.catalogue import aliases, available, canonical_name, get_spec
from hetstack.models.registry import register


def test_base_and_meta_models_are_registered_with_family_and_input_kind():
    assert {"catboost", "lightgbm", "ridge"} <= set(available("base"))
    assert {"meta_ridge", "meta_logistic"} <= set(available("meta"))
    assert get_spec("catboost").family == "boosting"
    assert get_spec("catboost").input_kind == "tabular"
    assert get_spec("meta_ridge").family == "inference"
    assert not set(available("base")) & set(available("meta"))


def test_aliases_resolve_to_canonical_meta_learners():
    assert aliases("meta")["ridge_meta"] == "meta_ridge"
    assert canonical_name("logistic_meta") == "meta_logistic"
    assert get_spec("ridge_meta").cls is get_spec("meta_ridge").cls


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        get_spec("catbost", where="config key 'base_models'")
    message = str(err.value)
    assert "catbost" in message and "catboost" in message and "base_models" in message
    assert "\n" not in message


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError):
        @register(name="catboost", family="boosting", input_kind="tabular")
        class Again:
            pass


def test_importing_the_registry_imports_no_heavy_library():
    code = ("import sys; import hetstack.catalogue, hetstack.config; "
            "heavy = [m for m in ('catboost', 'lightgbm', 'xgboost', 'sklearn', 'torch', 'pandas', 'pyarrow') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_model_lives_in_a_file_named_after_it():
    for name in available("base") + available("meta"):
        module = get_spec(name).cls.__module__
        assert module.rsplit(".", 1)[1] == name, f"{name} is registered in {module}"
