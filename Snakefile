# hetstack: leakage-free heterogeneous stacking of trading-signal models.
# Data flow and invariants: README.md; rules live in rules/, logic in src/hetstack.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# This file's folder: workflow.basedir is the importing workflow's when this one is used as a `module`.
HETSTACK_DIR = str(workflow.current_basedir)
# The library, installed or not: parse time and every job import it from src/ of a checkout
# (a built package ships this workflow without src/: the library is installed there).
HETSTACK_SRC = os.path.join(HETSTACK_DIR, "src")
if os.path.isdir(HETSTACK_SRC):
    sys.path.insert(0, HETSTACK_SRC)
from hetstack.config import check_schema


configfile: os.path.join(HETSTACK_DIR, "config", "config.yaml")


SCHEMA = os.path.join(HETSTACK_DIR, "config", "config.schema.yaml")
check_schema(
    config, SCHEMA
)  # command-line strings typed; the first problem as one line naming its key
validate(config, SCHEMA)


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/labels.smk"
include: "rules/tuning.smk"
include: "rules/oof.smk"
include: "rules/meter.smk"
include: "rules/cpcv.smk"
include: "rules/meta.smk"
include: "rules/retrain.smk"
include: "rules/walkforward.smk"
include: "rules/report.smk"
include: "rules/predict.smk"
include: "rules/plots.smk"
include: "rules/study.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets(),
