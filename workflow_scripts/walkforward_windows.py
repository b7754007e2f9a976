"""rule walkforward_windows: the walk-forward windows of the record and their purged train samples."""
from hetstack.stages.walkforward import WalkforwardSettings, write_windows
from hetstack.workflow import job

with job(snakemake):
    o = snakemake.output
    write_windows(snakemake.input.labels, o.table, o.summary, WalkforwardSettings(**snakemake.params.settings))
