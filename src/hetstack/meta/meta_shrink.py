"""Shrinkage stacking: a convex blend of the stacker with the lowest purged-CV log loss and the best
single base, alpha * stacker + (1 - alpha) * best base. A discrete choice (meta_auto) keeps either the
stacker's gain or the base's safety; the blend keeps a share of each. alpha is the weight, on a grid
of 0.05, with the lowest log loss over the candidates' purged K-fold probabilities of the meta's own
fit rows (hetstack.stages.meta.shrink_toward_base), as the Super Learner chooses its convex weights
(van der Laan, Polley & Hubbard 2007); alpha = 0 keeps the base alone and alpha = 1 the stacker."""

from __future__ import annotations

from hetstack.meta.meta_auto import AutoMeta
from hetstack.models.registry import register


@register(name="meta_shrink", family="inference", input_kind="meta", aliases=("shrink",))
class ShrinkMeta(AutoMeta):
    default_params = {**AutoMeta.default_params, "shrink": True}
