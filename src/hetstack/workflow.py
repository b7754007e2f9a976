"""Glue for the thin scripts under workflow_scripts/: logging to the rule's log and clean failures."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager

from hetstack.errors import HetstackError


@contextmanager
def job(snakemake):
    """Log to snakemake.log[0]; a HetstackError becomes one line on stderr and in the log, exit 1."""
    handler = logging.FileHandler(snakemake.log[0], mode="w") if snakemake.log else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("hetstack").info("rule %s, wildcards %s, threads %s", snakemake.rule,
                                       dict(snakemake.wildcards.items()), snakemake.threads)
    try:
        yield
    except HetstackError as err:
        logging.getLogger("hetstack").error("%s", err)
        print(f"hetstack error: {err}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        logging.getLogger("hetstack").exception("job failed")
        raise


def train_settings(snakemake):
    from hetstack.stacking import TrainSettings

    training = snakemake.params.training
    return TrainSettings(params=dict(snakemake.params.model_params), seed=training["seed"],
                         threads=snakemake.threads, val_split=training["val_split"],
                         purge_bars=training["purge_bars"], embargo_bars=training["embargo_bars"],
                         use_sample_weights=training["use_sample_weights"], adapters=dict(training["adapters"]),
                         device=training["device"])


def adapter_arrays(snakemake) -> dict[str, str]:
    """The array files a fold/retrain job was given (features and/or multires)."""
    return {key: snakemake.input[key] for key in ("features", "multires") if key in snakemake.input.keys()}
