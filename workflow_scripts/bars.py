"""rule bars: validated user bars or the embedded synthetic market."""
from hetstack.stages.data import SyntheticSettings, prepare_bars
from hetstack.workflow import job

with job(snakemake):  # `snakemake` is injected by Snakemake (a ruff builtin here)
    p = snakemake.params
    synthetic = SyntheticSettings(n_bars=p.n_bars, seed=p.seed, effect_strength=p.effect_strength,
                                  market=p.market, effects=dict(p.effects))
    prepare_bars(snakemake.wildcards.symbol, p.data_file, snakemake.output.bars, synthetic,
                 source_path=snakemake.output.source)
