"""rule meta_comparison: every meta-learner's report for one symbol/horizon, side by side."""
from hetstack.stages.report import compare_meta_learners
from hetstack.workflow import job

with job(snakemake):
    compare_meta_learners(list(snakemake.input.reports), snakemake.output.comparison)
