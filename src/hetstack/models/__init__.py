"""Base models. Each module registers one model; heavy libraries are imported inside methods."""

from hetstack.models import catboost_model, lightgbm_model, ridge_model  # noqa: F401
from hetstack.models.base import BaseModel, PredictionOutput, TrainingMetrics, load_model  # noqa: F401
from hetstack.models.registry import available, get_spec, register  # noqa: F401
