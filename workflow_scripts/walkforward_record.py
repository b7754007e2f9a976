"""rule walkforward_record: a base's window predictions joined into its record (its test file)."""
from hetstack.stages.walkforward import concat_record
from hetstack.workflow import job

with job(snakemake):
    concat_record(list(snakemake.input.shards), snakemake.output.test)
