"""rule labels: triple-barrier labels, weights, train/test split and purged folds."""
from hetstack.stacking import build_labels
from hetstack.workflow import job

with job(snakemake):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    build_labels(i.bars, i.features_meta, o.labels, o.folds, o.splits, source=p.source,
                 horizon=int(snakemake.wildcards.horizon), **p.settings)
