"""rule cpcv_fold: one base on one CPCV split -> its test groups' predictions."""
from hetstack.stages.cpcv import run_cpcv_split
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    i, w = snakemake.input, snakemake.wildcards
    run_cpcv_split(w.base, int(w.split), adapter_arrays(snakemake), i.labels, i.splits, snakemake.output.predictions,
                   train_settings(snakemake))
