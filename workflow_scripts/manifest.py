"""rule manifest: the record of what produced a run folder."""
from hetstack.paths import replicate_index
from hetstack.stages.manifest import write_manifest
from hetstack.workflow import job

with job(snakemake):
    i, p, w = snakemake.input, snakemake.params, snakemake.wildcards
    write_manifest(snakemake.output.manifest, symbol=w.symbol, horizon=int(w.horizon), config=dict(p.config),
                   config_digest=p.digest, settings_path=i.settings, metas=list(p.metas), data_files=list(i.data),
                   bars_path=i.bars, workflow_dir=p.workflow_dir, replicate=replicate_index(w.replicate),
                   fit_seed=p.fit_seed)
