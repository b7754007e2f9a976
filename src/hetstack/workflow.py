"""Glue for the thin scripts under workflow_scripts/: logging to the rule's log and clean failures."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from contextlib import contextmanager

from hetstack.errors import HetstackError


# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's ceiling on 64-bit
TRIM_THRESHOLD_BYTES = 512 * 2**20


def keep_freed_memory_for_reuse() -> bool:
    """Have glibc keep freed blocks for reuse instead of returning them to the kernel.

    A fresh process gives every freed block above 128 KB back and faults zeroed pages in again on
    the next allocation; a training loop does that thousands of times (2.5 million page faults for
    one TCN fold at 40,000 bars). Fixed thresholds keep them: that fold's fit takes 14 s instead of
    18 s for 20 MB more peak memory. Process-wide, so it is set by the job runner, not by a library
    call. False where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


@contextmanager
def job(snakemake):
    """Log to snakemake.log[0]; a HetstackError becomes one line on stderr and in the log, exit 1."""
    keep_freed_memory_for_reuse()
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
    from hetstack.stages.oof import TrainSettings

    training = snakemake.params.training
    params = dict(snakemake.params.model_params)
    tuned = getattr(getattr(snakemake, "input", None), "tuned", None)
    if tuned:  # a tuned base: the study's choice over the configured params
        from hetstack.io import read_json

        params.update(read_json(tuned)["params"])
    return TrainSettings(params=params, seed=training["seed"],
                         threads=snakemake.threads, val_split=training["val_split"],
                         purge_bars=training["purge_bars"], embargo_bars=training["embargo_bars"],
                         use_sample_weights=training["use_sample_weights"], adapters=dict(training["adapters"]),
                         device=training["device"])


def adapter_arrays(snakemake) -> dict[str, str]:
    """The array files a fold/retrain job was given (features and/or multires)."""
    return {key: snakemake.input[key] for key in ("features", "multires") if key in snakemake.input.keys()}
