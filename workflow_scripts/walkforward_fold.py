"""rule walkforward_fold: one base refitted before one window -> its model and the window's predictions."""
from hetstack.stages.walkforward import run_window
from hetstack.workflow import adapter_arrays, job, train_settings

with job(snakemake):
    i, o, w = snakemake.input, snakemake.output, snakemake.wildcards
    run_window(w.base, int(w.window), adapter_arrays(snakemake), i.labels, i.windows, o.model, o.predictions,
               train_settings(snakemake))
