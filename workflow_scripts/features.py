"""rule features: causal indicators, float32, memory-mappable; shared by every horizon."""
from hetstack.stages.data import build_features
from hetstack.workflow import job

with job(snakemake):
    build_features(snakemake.input.bars, snakemake.output.array, snakemake.output.meta)
