"""rule tune_study: a fresh Optuna study of one base, its first trial the configured params."""
from hetstack.stages.tuning import create_study
from hetstack.tuning import TuningSettings
from hetstack.workflow import job

with job(snakemake):
    p, o = snakemake.params, snakemake.output
    create_study(snakemake.wildcards.base, p.run, snakemake.input.labels, o.study, TuningSettings(**p.settings), p.storage)
