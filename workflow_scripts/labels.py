"""rule labels: triple-barrier labels, weights, train/test split and purged folds."""
from hetstack.stages.labels import LabelSettings, build_labels
from hetstack.workflow import job

with job(snakemake):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    settings = LabelSettings(horizon=int(snakemake.wildcards.horizon), **p.settings)
    build_labels(i.bars, i.features_meta, o.labels, o.folds, o.splits, settings, source=p.source)
