"""rule bars: validated user bars or the embedded synthetic market."""
from hetstack.stacking import prepare_bars
from hetstack.workflow import job

with job(snakemake):  # `snakemake` is injected by Snakemake (a ruff builtin here)
    p = snakemake.params
    prepare_bars(snakemake.wildcards.symbol, p.data_file, snakemake.output.bars,
                 n_bars=p.n_bars, seed=p.seed, effect_strength=p.effect_strength, effects=dict(p.effects))
