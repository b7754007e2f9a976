"""rule plot_run: the report's pictures of one symbol x horizon x meta-learner."""
from hetstack.plots import make_plots
from hetstack.workflow import job

PICTURES = ("headline", "table", "scores", "reliability", "equity", "weights", "oof_folds", "cpcv", "walkforward", "meter")

with job(snakemake):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    make_plots(i.report, i.predictions, dict(zip(p.bases, i.tests)), i.matrix, i.bars,
               {k: o[k] for k in PICTURES if k in o.keys()}, cost_bps=p.cost_bps)
