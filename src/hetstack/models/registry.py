"""Name -> model class registry (timm-style): a leaf that model modules import to `@register`.

Lookups live in `hetstack.catalogue`, which imports every model package first; the registry
imports none of them, so no model module and the registry import each other in a circle."""

from __future__ import annotations

from dataclasses import dataclass


FAMILIES = ("boosting", "classical", "neural", "cnn", "transformer", "mlp", "inference")
INPUT_KINDS = ("tabular", "sequence", "multires", "meta")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type
    family: str
    input_kind: str
    aliases: tuple[str, ...] = ()


REGISTRY: dict[str, ModelSpec] = {}
ALIASES: dict[str, str] = {}  # alias -> registered name


def register(name: str, family: str, input_kind: str, aliases: tuple[str, ...] = ()):
    """Class decorator: make a model available under `name` (and `aliases`)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {FAMILIES}")
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {input_kind!r}; known: {INPUT_KINDS}")

    def decorator(cls):
        for key in (name, *aliases):
            if key in REGISTRY or key in ALIASES:
                raise ValueError(f"model name {key!r} registered twice")
        spec = ModelSpec(name, cls, family, input_kind, tuple(aliases))
        REGISTRY[name] = spec
        for alias in aliases:
            ALIASES[alias] = name
        cls.name, cls.family, cls.input_kind = name, family, input_kind
        return cls

    return decorator
