"""rule tune_select: the study's chosen params and every trial, clustered for the deflated Sharpe."""
from hetstack.stages.tuning import select_params
from hetstack.workflow import job

with job(snakemake):
    i, p, w = snakemake.input, snakemake.params, snakemake.wildcards
    select_params(w.base, i.labels, i.bars, i.study, snakemake.output.tuned, int(w.horizon), p.cost_bps, p.seed,
                  p.storage)
