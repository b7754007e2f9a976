"""rule multires: per-timeframe OHLC of the tf-bars ending at every bar (the 4D adapter's source)."""
from hetstack.stages.data import build_multires
from hetstack.workflow import job

with job(snakemake):
    build_multires(snakemake.input.bars, snakemake.output.array, list(snakemake.params.timeframes))
