"""Config checks and derived values shared by the Snakefile (parse time) and the scripts.

Imports nothing heavy: the Snakefile calls these while it parses.
"""

from __future__ import annotations

import hashlib
import json
import os
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


def replicates(config: dict) -> int:
    """How many seed replicates of every run (1: the run alone)."""
    value = config.get("replicates", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(where("replicates"), f"got {value!r}", "give a positive integer: 1 (no replicates) or K")
    return value


def base_models(config: dict) -> list[str]:
    """Bases in stacking order: a flat list as given, or the per-family choice in slot order."""
    from hetstack.catalogue import get_spec

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
        _known(str(name), "base", "base_models")
        spec = get_spec(str(name), where=where("base_models"))
        if spec.input_kind == "meta":
            raise ConfigError(where("base_models"), f"{name!r} is a meta-learner, not a base model",
                              "put meta-learners under 'meta_learner'")
        canonical.append(spec.name)
    duplicates = sorted({n for n in canonical if canonical.count(n) > 1})
    if duplicates:
        raise ConfigError(where("base_models"), f"base {duplicates[0]!r} is listed twice", "list each base once")
    return canonical


def _known(name: str, kind: str, key: str) -> None:
    """An unknown name is refused with the names of its own kind (bases or meta-learners) only."""
    from hetstack.catalogue import aliases, available, canonical_name

    if canonical_name(name) in available("base") + available("meta"):
        return  # known; a base given as meta (or the reverse) gets its own message
    names = available(kind) + (sorted(aliases(kind)) if kind == "meta" else [])
    what = "base models" if kind == "base" else "meta-learners"
    raise ConfigError(where(key), f"unknown model {name!r}", f"use one of the {what}: {', '.join(names)}")


def family_clash(bases: list[str]) -> str | None:
    """A message when two bases of one family read the same input shape: a homogeneous ensemble (allowed,
    it still works). One family on two shapes is not a clash: heterogeneity is in what a base reads."""
    from hetstack.catalogue import get_spec

    seen: dict[tuple[str, str], str] = {}
    for base in bases:
        spec = get_spec(base)
        key = (spec.family, spec.input_kind)
        if key in seen:
            return f"bases {seen[key]!r} and {base!r} are both of family {spec.family!r} on {spec.input_kind} input"
        seen[key] = base
    return None


def meta_learners(config: dict) -> list[str]:
    """Meta-learner names as the user wrote them (aliases kept: they name the report files)."""
    from hetstack.catalogue import get_spec

    chosen = config["meta_learner"]
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    for name in names:
        _known(str(name), "meta", "meta_learner")
        if get_spec(name, where=where("meta_learner")).input_kind != "meta":
            raise ConfigError(where("meta_learner"), f"{name!r} is a base model, not a meta-learner",
                              "use a meta_* name such as meta_ridge, meta_logistic or meta_caruana")
    return names


def model_params(config: dict, name: str) -> dict[str, Any]:
    from hetstack.catalogue import canonical_name

    return dict((config.get("model_params") or {}).get(canonical_name(name)) or {})


def wants_gpu(device: str, environ: dict | None = None, nvidia_device: str = "/dev/nvidia0") -> bool:
    """Whether neural fit jobs ask for the `gpu` resource: on cuda always; on auto when this (planning)
    host shows an NVIDIA GPU. CUDA_VISIBLE_DEVICES decides when set ("", "-1" or SLURM's "NoDevFiles"
    hide every GPU), else /dev/nvidia0; importing torch would slow planning by seconds."""
    if device != "auto":
        return device == "cuda"
    environ = os.environ if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return os.path.exists(nvidia_device)
    first = visible.split(",")[0].strip()  # CUDA stops at the first invalid entry
    return first.isdigit() or first.startswith(("GPU-", "MIG-"))


def meta_sample_weights(config: dict) -> bool:
    """Whether meta-learners are fitted under the samples' uniqueness weights: only when the bases are
    (oof.use_sample_weights) and oof.meta_sample_weights asks for it (absent: as the bases)."""
    oof = config["oof"]
    return bool(oof["use_sample_weights"]) and bool(oof.get("meta_sample_weights", True))


def check_oof(config: dict) -> None:
    oof = config["oof"]
    if oof["n_folds"] < 2:
        raise ConfigError(where("oof.n_folds"), f"n_folds={oof['n_folds']}", "use at least 2 folds")
    for key in ("purge_bars", "embargo_bars"):
        if oof[key] < 0:
            raise ConfigError(where(f"oof.{key}"), f"{key}={oof[key]} is negative", "use 0 or more bars")
    if oof.get("scheme", "kfold") == "cpcv":
        from hetstack.cv import check_cpcv

        check_cpcv(oof.get("n_groups", 6), oof.get("k_test_groups", 2))


OOS_DEFAULTS = {"scheme": "split", "initial_fraction": 0.4, "n_windows": 6, "train_window": "expanding",
                "train_bars": None}


def oos(config: dict) -> dict:
    """The out-of-sample scheme (section `oos`, absent: one split): `split` scores one test period;
    `walkforward` refits every base on all samples before each of n_windows windows of the record
    after the first initial_fraction of samples, and stacks online (hetstack.stages.walkforward)."""
    settings = {**OOS_DEFAULTS, **(config.get("oos") or {})}
    if settings["scheme"] != "walkforward":
        return settings
    if config["oof"].get("scheme", "kfold") == "cpcv":
        raise ConfigError(where("oos.scheme"), "walkforward scores its own record; CPCV paths of the initial span "
                          "are not built with it", "set oof.scheme: kfold, or oos.scheme: split")
    fraction = settings["initial_fraction"]
    if not 0 < fraction < 1:
        raise ConfigError(where("oos.initial_fraction"), f"must be in (0, 1), got {fraction!r}", "set it to e.g. 0.4")
    rolling = settings["train_window"] == "rolling"
    if rolling != (settings["train_bars"] is not None):
        raise ConfigError(where("oos.train_bars"), f"train_window {settings['train_window']} with train_bars "
                          f"{settings['train_bars']!r}", "give train_bars with rolling, and only with rolling")
    return settings


def walkforward(config: dict) -> bool:
    return oos(config)["scheme"] == "walkforward"


def digest(config: dict) -> str:
    """Short hash of the whole resolved config, stored in every report."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_schema(config: dict, schema_path: str) -> None:
    """Check the config against its JSON schema; the first problem becomes one ConfigError line
    naming the key (e.g. config key 'oof.n_folds'), what is wrong and what the schema wants."""
    import jsonschema
    import yaml

    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    config.update(coerce_to_schema(config, schema))
    if isinstance(config.get("symbols"), list) and all(isinstance(s, str) for s in config["symbols"]):
        symbols(config)  # names the rule for symbol names (no '/', '_' or '..') rather than a regex
    validator = jsonschema.Draft7Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        path.append(missing.group(1) if missing else "?")
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        key = ".".join(path + extra[:1]) or "(top level)"
        raise ConfigError(where(key), "unknown key", "remove it or check its spelling against config/config.yaml")
    key = ".".join(path) or "(top level)"
    problem = " ".join(error.message.split())[:200]
    raise ConfigError(where(key), problem, f"give a value that matches {_wants(error.schema)} (see config/config.yaml)")


def _wants(schema: dict) -> str:
    """A short description of what a schema node accepts."""
    parts = []
    for name in ("type", "enum", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "pattern", "minItems"):
        if name in schema:
            parts.append(f"{name} {schema[name]}")
    if "items" in schema and isinstance(schema["items"], dict):
        parts.append(f"items of {_wants(schema['items'])}")
    return "{" + ", ".join(parts) + "}" if parts else "the schema"


_JSON_TYPES = {list: "array", dict: "object", str: "string", bool: "boolean", int: "integer", float: "number"}


def coerce_to_schema(value: Any, schema: dict) -> Any:
    """Give strings the types the schema asks for.

    `snakemake --config horizons='[5,20]'` parses nested values with YAML's BaseLoader, so they
    arrive as strings ('5'); a number in a config file is untouched. Inside free-form blocks
    (model_params) numbers and booleans written as strings are recognised too.
    """
    for branch in schema.get("oneOf", []):
        if _JSON_TYPES.get(type(value)) in _types(branch):
            return coerce_to_schema(value, branch)
    if isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        free = extra if isinstance(extra, dict) else {}
        return {k: coerce_to_schema(v, properties.get(k, free)) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [coerce_to_schema(v, items if isinstance(items, dict) else {}) for v in value]
    if not isinstance(value, str):
        return value
    wanted = _types(schema) or ["integer", "number", "boolean"]  # free-form: guess scalars
    for kind, convert in (("integer", int), ("number", float), ("boolean", _boolean)):
        if kind in wanted and "string" not in _types(schema):
            try:
                return convert(value)
            except ValueError:
                continue
    return value


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _boolean(text: str) -> bool:
    # only YAML's own spelling: a quoted "yes" in a config file stays a (refused) string
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(text)


TUNING_DEFAULTS = {"bases": {}, "span_fraction": 0.3, "n_folds": 3, "workers": 2, "sampler": "tpe",
                   "pruner": "median", "storage": None}


def tuning(config: dict) -> dict:
    """Section `tuning` with its defaults; `bases` maps each tuned base to its study's settings
    (hetstack.tuning.TuningSettings as a dict): its space (the model's own search_space when config
    gives none), n_trials (20), timeout (none) and the inner purged K-fold."""
    from hetstack.catalogue import canonical_name, get_spec
    from hetstack.tuning import check_space

    section = {**TUNING_DEFAULTS, **(config.get("tuning") or {})}
    tuned = {}
    for name, entry in (section["bases"] or {}).items():
        base = canonical_name(name)
        if base not in base_models(config):
            raise ConfigError(where(f"tuning.bases.{name}"), "is not one of the run's base_models",
                              f"tune one of {', '.join(base_models(config))}, or add {name} to base_models")
        entry = entry or {}
        space = entry.get("space") or get_spec(base).cls.search_space
        if not space:
            raise ConfigError(where(f"tuning.bases.{name}.space"), f"{base} ships no search space",
                              "give one: {param: {type: float, low: ..., high: ..., log: true}}")
        timeout = entry.get("timeout_minutes")
        tuned[base] = {"space": check_space(space, where(f"tuning.bases.{name}.space")),
                       "n_trials": int(entry.get("n_trials", 20)),
                       "timeout_s": None if timeout is None else 60.0 * float(timeout),
                       "span_fraction": float(section["span_fraction"]), "n_folds": int(section["n_folds"]),
                       "purge_bars": int(config["oof"]["purge_bars"]),
                       "embargo_bars": int(config["oof"]["embargo_bars"]),
                       "sampler": section["sampler"], "pruner": section["pruner"],
                       "params": model_params(config, base)}
    if tuned:
        scheme = config["oof"].get("scheme", "kfold")
        if scheme != "kfold" or oos(config)["scheme"] != "split":
            raise ConfigError(where("tuning.bases"), "tuning runs with oof.scheme kfold and one test split only",
                              "drop tuning.bases, or set oof.scheme: kfold and oos.scheme: split")
    return {**section, "bases": tuned}
