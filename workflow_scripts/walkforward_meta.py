"""rule walkforward_meta: one window's meta-learner, fitted on the honest rows known before the window."""
from hetstack.stages.meta import MetaSettings
from hetstack.stages.walkforward import fit_window_meta
from hetstack.workflow import job

with job(snakemake):
    i, p, w = snakemake.input, snakemake.params, snakemake.wildcards
    settings = MetaSettings(params=dict(p.model_params), seed=p.seed, threads=snakemake.threads,
                            candidate_params=dict(p.candidate_params), **p.settings)
    shards = {base: [s for s in i.shards if f"/walkforward/bases/{base}/" in s] for base in p.bases}
    fit_window_meta(w.meta, i.matrix, shards, i.labels, i.folds, i.windows, i.bars, int(w.window),
                    snakemake.output.model, settings)
