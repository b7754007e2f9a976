"""Name -> model class registry (timm-style). Registering imports no heavy library."""

from __future__ import annotations

from dataclasses import dataclass

from hetstack.errors import ConfigError

FAMILIES = ("boosting", "classical", "neural", "cnn", "transformer", "mlp", "inference")
INPUT_KINDS = ("tabular", "sequence", "multires", "meta")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type
    family: str
    input_kind: str
    aliases: tuple[str, ...] = ()


_REGISTRY: dict[str, ModelSpec] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, family: str, input_kind: str, aliases: tuple[str, ...] = ()):
    """Class decorator: make a model available under `name` (and `aliases`)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {FAMILIES}")
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"unknown input kind {input_kind!r}; known: {INPUT_KINDS}")

    def decorator(cls):
        for key in (name, *aliases):
            if key in _REGISTRY or key in _ALIASES:
                raise ValueError(f"model name {key!r} registered twice")
        spec = ModelSpec(name, cls, family, input_kind, tuple(aliases))
        _REGISTRY[name] = spec
        for alias in aliases:
            _ALIASES[alias] = name
        cls.name, cls.family, cls.input_kind = name, family, input_kind
        return cls

    return decorator


def _ensure_loaded() -> None:
    # Importing the packages runs every @register; both are cheap (heavy imports are lazy).
    import hetstack.meta  # noqa: F401
    import hetstack.models  # noqa: F401


def canonical_name(name: str) -> str:
    _ensure_loaded()
    return _ALIASES.get(name, name)


def get_spec(name: str, where: str = "config") -> ModelSpec:
    _ensure_loaded()
    spec = _REGISTRY.get(_ALIASES.get(name, name))
    if spec is None:
        known = ", ".join(sorted(_REGISTRY) + sorted(_ALIASES))
        raise ConfigError(where, f"unknown model {name!r}", f"use one of: {known}")
    return spec


def available(kind: str = "base") -> list[str]:
    """Canonical names of base models (kind='base') or meta-learners (kind='meta')."""
    _ensure_loaded()
    want_meta = kind == "meta"
    return sorted(n for n, s in _REGISTRY.items() if (s.input_kind == "meta") == want_meta)


def aliases(kind: str = "meta") -> dict[str, str]:
    _ensure_loaded()
    names = set(available(kind))
    return {alias: target for alias, target in sorted(_ALIASES.items()) if target in names}
