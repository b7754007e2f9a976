"""rule tune_worker: one worker's trials of a base's study, on the tuning span only."""
from hetstack.stages.tuning import run_worker
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    i, w = snakemake.input, snakemake.wildcards
    run_worker(w.base, int(w.worker), adapter_arrays(snakemake), i.labels, i.study, snakemake.output.summary,
               train_settings(snakemake), snakemake.params.storage)
