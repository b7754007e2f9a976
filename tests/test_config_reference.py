"""config/config.yaml is the one source of defaults: every default config/README.md states is read
back from it, and every top-level key of the file is in the reference."""

import re
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parents[1] / "config"


def documented_defaults() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", (CONFIG / "README.md").read_text(), re.M)
    return {key: default.strip() for key, default in rows}


def lookup(config: dict, dotted: str):
    for part in dotted.split("."):
        config = config[part]
    return config


def test_every_stated_default_is_the_config_files():
    config = yaml.safe_load((CONFIG / "config.yaml").read_text())
    checked = 0
    for key, default in documented_defaults().items():
        value = re.fullmatch(r"`([^`]*)`( each)?", default)
        if not value:  # prose ("per family", "see file")
            continue
        stated = yaml.safe_load(value.group(1))
        brace = re.fullmatch(r"(.*)\.\{([\w,]+)\}", key)
        for dotted in ([f"{brace.group(1)}.{k}" for k in brace.group(2).split(",")] if brace else [key]):
            assert lookup(config, dotted) == stated, f"config/README.md says {dotted}: {stated}"
            checked += 1
    assert checked >= 25


def test_every_top_level_key_is_documented():
    config = yaml.safe_load((CONFIG / "config.yaml").read_text())
    documented = {key.split(".")[0] for key in documented_defaults()}
    assert set(config) <= documented, set(config) - documented
