"""Meta-learners (family 'inference'), one per file."""

from hetstack.meta import logistic_meta, ridge_meta  # noqa: F401
from hetstack.meta.base import MetaLearner, MetaLearnerOutput  # noqa: F401
