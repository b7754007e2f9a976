"""rule run_settings: the settings `hetstack predict` needs, stored with the run."""
from hetstack.predict import write_run_settings
from hetstack.workflow import job

with job(snakemake):
    i, p, w = snakemake.input, snakemake.params, snakemake.wildcards
    write_run_settings(snakemake.output.settings, symbol=w.symbol, horizon=int(w.horizon), bases=list(p.bases),
                       metas=list(p.metas), adapters={k: dict(v) for k, v in p.adapters.items()},
                       features_meta_path=i.features_meta, splits_path=i.splits, bars_path=i.bars,
                       labels_path=i.labels, vol_window=p.vol_window, regime_window=p.regime_window,
                       config_digest=p.digest, symbols=list(p.symbols),
                       windows_path=i.get("windows"))
