"""Progress lines for long booster fits: about ten `iteration i/n` log lines per fit, with the
current evaluation scores, written to the job's log (neural bases log every epoch themselves)."""

from __future__ import annotations

import logging

log = logging.getLogger("hetstack")


def _step(total: int) -> int:
    return max(1, int(total) // 10)


def _due(iteration: int, total: int) -> bool:
    return iteration % _step(total) == 0 or iteration >= total


def lightgbm_callback(name: str, total: int):
    def callback(env):
        i = env.iteration + 1
        if _due(i, total):
            scores = ", ".join(f"{r[0]} {r[1]} {r[2]:.5f}" for r in env.evaluation_result_list or [])
            log.info("%s: iteration %d/%d %s", name, i, total, scores)

    callback.order = 5  # before early stopping, which may end training at this iteration
    return callback


def xgboost_callback(name: str, total: int):
    import xgboost as xgb

    class Progress(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            i = epoch + 1
            if _due(i, total):
                scores = ", ".join(f"{d} {m} {v[-1]:.5f}" for d, ms in evals_log.items() for m, v in ms.items())
                log.info("%s: iteration %d/%d %s", name, i, total, scores)
            return False

    return Progress()


class CatBoostProgress:
    """CatBoost `callbacks=[...]` object: after_iteration returns True to keep training."""

    def __init__(self, name: str, total: int):
        self.name, self.total = name, int(total)

    def after_iteration(self, info) -> bool:
        i = info.iteration
        if _due(i, self.total):
            scores = ", ".join(f"{d} {m} {v[-1]:.5f}" for d, ms in (info.metrics or {}).items() for m, v in ms.items())
            log.info("%s: iteration %d/%d %s", self.name, i, self.total, scores)
        return True
