"""Config checks and derived values shared by the Snakefile (parse time) and the scripts.

Imports nothing heavy: the Snakefile calls these while it parses.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from hetstack.errors import ConfigError

FAMILY_SLOTS = ("tabular", "cnn", "transformer", "optional_4th")
# No underscore: `{symbol}_h{horizon}` must split one way only.
SYMBOL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]*"


def where(key: str) -> str:
    return f"config key '{key}'"


def symbols(config: dict) -> list[str]:
    names = [str(s) for s in config["symbols"]]
    for name in names:
        if not re.fullmatch(SYMBOL_PATTERN, name) or ".." in name:
            raise ConfigError(where("symbols"), f"symbol {name!r} is not a plain name",
                              "use letters, digits, '.' or '-' only (no '/', '_' or '..')")
    if len(set(names)) != len(names):
        raise ConfigError(where("symbols"), "a symbol is listed twice", "list each symbol once")
    return names


def horizons(config: dict) -> list[int]:
    values = list(config["horizons"])
    for h in values:
        if isinstance(h, bool) or not isinstance(h, int) or h <= 0:
            raise ConfigError(where("horizons"), f"horizon {h!r} is not a positive integer",
                              "give horizons in bars, e.g. [5, 20]")
    return values


def base_models(config: dict) -> list[str]:
    """Bases in stacking order: a flat list as given, or the per-family choice in slot order."""
    from hetstack.models.registry import get_spec

    chosen = config["base_models"]
    if isinstance(chosen, dict):
        slots = [s for s in FAMILY_SLOTS if s in chosen] + sorted(set(chosen) - set(FAMILY_SLOTS))
        names = [chosen[s] for s in slots if chosen[s]]
    else:
        names = list(chosen)
    if not names:
        raise ConfigError(where("base_models"), "no base model chosen", "name at least one, e.g. [catboost]")
    canonical = []
    for name in names:
        spec = get_spec(str(name), where=where("base_models"))
        if spec.input_kind == "meta":
            raise ConfigError(where("base_models"), f"{name!r} is a meta-learner, not a base model",
                              "put meta-learners under 'meta_learner'")
        canonical.append(spec.name)
    duplicates = sorted({n for n in canonical if canonical.count(n) > 1})
    if duplicates:
        raise ConfigError(where("base_models"), f"base {duplicates[0]!r} is listed twice", "list each base once")
    return canonical


def family_clash(bases: list[str]) -> str | None:
    """A message when two bases share a family (allowed: homogeneous ensembles still work)."""
    from hetstack.models.registry import get_spec

    seen: dict[str, str] = {}
    for base in bases:
        family = get_spec(base).family
        if family in seen:
            return f"bases {seen[family]!r} and {base!r} are both of family {family!r}"
        seen[family] = base
    return None


def meta_learners(config: dict) -> list[str]:
    """Meta-learner names as the user wrote them (aliases kept: they name the report files)."""
    from hetstack.models.registry import get_spec

    chosen = config["meta_learner"]
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    for name in names:
        if get_spec(name, where=where("meta_learner")).input_kind != "meta":
            raise ConfigError(where("meta_learner"), f"{name!r} is a base model, not a meta-learner",
                              "use a meta_* name such as meta_ridge, meta_logistic or meta_caruana")
    return names


def model_params(config: dict, name: str) -> dict[str, Any]:
    from hetstack.models.registry import canonical_name

    return dict((config.get("model_params") or {}).get(canonical_name(name)) or {})


def check_oof(config: dict) -> None:
    oof = config["oof"]
    if oof["n_folds"] < 2:
        raise ConfigError(where("oof.n_folds"), f"n_folds={oof['n_folds']}", "use at least 2 folds")
    for key in ("purge_bars", "embargo_bars"):
        if oof[key] < 0:
            raise ConfigError(where(f"oof.{key}"), f"{key}={oof[key]} is negative", "use 0 or more bars")


def digest(config: dict) -> str:
    """Short hash of the whole resolved config, stored in every report."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
