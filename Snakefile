# hetstack: leakage-free heterogeneous stacking of trading-signal models.
# Data flow and invariants: README.md; rules live in rules/, logic in src/hetstack.
import os

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


validate(config, os.path.join(workflow.basedir, "config", "config.schema.yaml"))


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/labels.smk"
include: "rules/oof.smk"
include: "rules/meta.smk"
include: "rules/retrain.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
