"""Every registered model, looked up by name: importing this module imports the model packages,
whose `@register` decorators fill `hetstack.models.registry`. It sits above both, so neither the
registry nor any model imports it (tests/test_import_graph.py holds that)."""

from __future__ import annotations

import json
from pathlib import Path

import hetstack.meta  # (registers the meta-learners)
import hetstack.models  # noqa: F401  (registers the base models)
from hetstack.errors import ConfigError
from hetstack.models.base import BaseModel
from hetstack.models.registry import ALIASES, REGISTRY, ModelSpec


def canonical_name(name: str) -> str:
    return ALIASES.get(name, name)


def get_spec(name: str, where: str = "config") -> ModelSpec:
    spec = REGISTRY.get(canonical_name(name))
    if spec is None:
        known = ", ".join(sorted(REGISTRY) + sorted(ALIASES))
        raise ConfigError(where, f"unknown model {name!r}", f"use one of: {known}")
    return spec


def available(kind: str = "base") -> list[str]:
    """Canonical names of base models (kind='base') or meta-learners (kind='meta')."""
    want_meta = kind == "meta"
    return sorted(n for n, s in REGISTRY.items() if (s.input_kind == "meta") == want_meta)


def aliases(kind: str = "meta") -> dict[str, str]:
    names = set(available(kind))
    return {alias: target for alias, target in sorted(ALIASES.items()) if target in names}


def load_model(path: str | Path, threads: int = 1) -> BaseModel:
    """Load any saved model by the name stored in its model.json (never unpickles)."""
    header = json.loads((Path(path) / "model.json").read_text())
    cls = get_spec(header["name"], where=str(path)).cls
    if "seed_bag" in header:  # a base fitted with several seeds (hetstack.models.seed_bag)
        from hetstack.models.seed_bag import SeedBag

        return SeedBag.load(path, cls, threads=threads)
    return cls.load(path, threads=threads)
