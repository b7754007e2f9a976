"""rule oof_fold: one base on one purged fold -> its OOF shard (and its hold-out predictions)."""
from hetstack.stages.oof import run_fold
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    i, o, w = snakemake.input, snakemake.output, snakemake.wildcards
    run_fold(w.base, int(w.fold), adapter_arrays(snakemake), i.labels, i.folds, o.oof, o.test, train_settings(snakemake))
