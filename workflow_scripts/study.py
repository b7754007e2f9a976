"""rule study: every run's reports pooled into results/study.json."""
from hetstack.stages.study import build_study
from hetstack.workflow import job

with job(snakemake):
    build_study(list(snakemake.input.reports), snakemake.output.study, snakemake.output.page)
