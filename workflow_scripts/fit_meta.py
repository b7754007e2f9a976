"""rule fit_meta: meta-learner on the OOF matrix, validated on a purged slice."""
from hetstack.stages.meta import MetaSettings, fit_meta
from hetstack.workflow import job

with job(snakemake):
    p = snakemake.params
    settings = MetaSettings(params=dict(p.model_params), seed=p.seed, threads=snakemake.threads,
                            candidate_params=dict(p.candidate_params), **p.settings)
    fit_meta(snakemake.wildcards.meta, snakemake.input.matrix, list(p.bases), snakemake.output.model, settings,
             bars_path=snakemake.input.bars)
