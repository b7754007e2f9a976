"""Base models, one per module. Importing the package registers them all; each module keeps its
heavy imports (catboost, lightgbm, torch, ...) inside methods, so this stays cheap."""

import importlib
import pkgutil

from hetstack.models.base import BaseModel, PredictionOutput, TrainingMetrics, load_model  # noqa: F401
from hetstack.models.registry import available, get_spec, register  # noqa: F401

_INFRASTRUCTURE = {"base", "registry", "torch_base"}
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module}")
