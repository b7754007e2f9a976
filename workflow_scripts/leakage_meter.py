"""rule leakage_meter: a base fitted on shuffled K-fold, its OOF predictions for the report's meter alone."""
from hetstack.stages.meter import shuffled_oof
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    shuffled_oof(snakemake.wildcards.base, adapter_arrays(snakemake), snakemake.input.labels,
                 snakemake.output.shuffled, train_settings(snakemake), snakemake.params.n_folds)
