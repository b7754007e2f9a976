"""rule cpcv_meta: one meta-learner on every outer CPCV split -> its predictions of the paths' rows."""
from hetstack.stages.cpcv import fit_cpcv_meta
from hetstack.stages.meta import MetaSettings
from hetstack.workflow import job

with job(snakemake):
    i, p = snakemake.input, snakemake.params
    settings = MetaSettings(params=dict(p.model_params), seed=p.seed, threads=snakemake.threads,
                            candidate_params=dict(p.candidate_params), **p.settings)
    shards = {base: [s for s in i.shards if f"/cpcv/{base}/" in s] for base in p.bases}
    fit_cpcv_meta(snakemake.wildcards.meta, shards, i.labels, i.splits, i.summary, i.bars,
                  snakemake.output.predictions, settings)
