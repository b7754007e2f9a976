"""rule merge_oof: OOF shards -> meta matrix, every train sample exactly once."""
from hetstack.stages.oof import merge_oof
from hetstack.workflow import job

with job(snakemake):
    i, p = snakemake.input, snakemake.params
    shards = {base: [s for s in i.shards if f"/oof/{base}/" in s] for base in p.bases}
    tuning = None if p.tuning_span is None else (p.tuning_span, p.purge_bars, p.embargo_bars)
    merge_oof(shards, i.labels, i.folds, snakemake.output.matrix, tuning)
