"""rule average_fold_tests: hold-out predictions as the mean of the fold models (no full retrain)."""
from hetstack.stages.retrain import average_fold_tests
from hetstack.workflow import job

with job(snakemake):
    average_fold_tests(list(snakemake.input.shards), snakemake.output.test)
