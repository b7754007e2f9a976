"""rule report: the stacked ensemble and each base scored on the same hold-out rows."""
from hetstack.paths import replicate_index
from hetstack.stages.report import CpcvInputs, ReportSettings, WalkforwardInputs, build_report
from hetstack.workflow import job

with job(snakemake):
    i, o, p, w = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
    tests = {base: path for base, path in zip(p.bases, i.tests)}
    run = ReportSettings(symbol=w.symbol, horizon=int(w.horizon), cost_bps=p.cost_bps, config_digest=p.digest,
                         settings=dict(p.settings), regime_window=p.regime_window, statistics=dict(p.statistics),
                         seed=p.seed, bet_sizing=p.bet_sizing, replicate=replicate_index(w.replicate),
                         fit_seed=p.fit_seed)
    cpcv = None
    if "cpcv_summary" in i.keys():  # oof.scheme: cpcv
        shards = {base: [s for s in i.cpcv_shards if f"/cpcv/{base}/" in s] for base in p.bases}
        cpcv = CpcvInputs(i.cpcv_summary, shards, dict(zip([w.meta, *p.trial_names], i.cpcv_metas)))
    walkforward = None
    if "windows" in i.keys():  # oos.scheme: walkforward
        metas = [w.meta, *p.trial_names]
        per_meta = len(i.window_metas) // len(metas)
        walkforward = WalkforwardInputs(i.windows, {m: list(i.window_metas[k * per_meta:(k + 1) * per_meta])
                                                    for k, m in enumerate(metas)})
    build_report(w.meta, i.meta_model, tests, i.matrix, i.labels, i.bars, o.report, o.predictions, run,
                 trial_meta_dirs=dict(zip(p.trial_names, i.trials)), cpcv=cpcv, walkforward=walkforward,
                 source_path=i.source, tuned_paths=dict(zip(p.tuned_bases, i.tuned)),
                 meter_paths=dict(zip(p.metered_bases, i.meter)))
