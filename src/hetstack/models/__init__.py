"""Base models, one per module. Importing the package registers them all; each module keeps its
heavy imports (catboost, lightgbm, torch, ...) inside methods, so this stays cheap. Look models up
through `hetstack.catalogue`."""

import importlib
import pkgutil

_INFRASTRUCTURE = {"base", "registry", "torch_base"}
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module}")
