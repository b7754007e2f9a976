"""Fold jobs keep freed memory for reuse instead of faulting fresh pages in on every allocation."""

import platform
import subprocess
import sys

import pytest

CHURN = """
import resource, sys
import numpy as np
if sys.argv[1] == "tuned":
    from hetstack.workflow import keep_freed_memory_for_reuse
    assert keep_freed_memory_for_reuse()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(300):  # what a training loop does: allocate, fill and free several MB per batch
    batch = [np.ones(4 * 2**20 // 8) for _ in range(4)]
    del batch
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_freed_batches_are_reused_instead_of_faulted_in_again():
    faults = {mode: int(subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "tuned")}
    # default: the freed 16 MB go back to the kernel and fault in again every round; tuned: reused
    assert faults["default"] > 100_000
    assert faults["tuned"] < faults["default"] / 20
