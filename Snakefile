# hetstack: leakage-free heterogeneous stacking of trading-signal models.
# Data flow and invariants: README.md; rules live in rules/, logic in src/hetstack.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The library, installed or not: parse time and every job import it from here.
sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from hetstack.config import check_schema


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


SCHEMA = os.path.join(workflow.basedir, "config", "config.schema.yaml")
check_schema(config, SCHEMA)  # command-line strings typed; the first problem as one line naming its key
validate(config, SCHEMA)


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/labels.smk"
include: "rules/oof.smk"
include: "rules/meta.smk"
include: "rules/retrain.smk"
include: "rules/report.smk"
include: "rules/predict.smk"
include: "rules/plots.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets(),
