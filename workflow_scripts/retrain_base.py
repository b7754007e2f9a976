"""rule retrain_base: a base refitted on the whole train set; predictions on the hold-out."""
from hetstack.stages.retrain import retrain_base
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    i, o = snakemake.input, snakemake.output
    retrain_base(snakemake.wildcards.base, adapter_arrays(snakemake), i.labels, o.model, o.test, train_settings(snakemake))
