# oos.scheme walkforward: one meta-learner per window instead (rules/walkforward.smk).
if not WALKFORWARD:

    rule fit_meta:
        input:
            matrix=run_file("meta_matrix.parquet"),
            bars=symbol_file("bars.parquet"),
        output:
            model=directory(run_file("models/meta/{meta}")),
        log:
            "logs/fit_meta/{symbol}_h{horizon}{replicate}/{meta}.log",
        benchmark:
            "benchmarks/fit_meta/{symbol}_h{horizon}{replicate}/{meta}.tsv"
        wildcard_constraints:
            meta="|".join(available("meta")),  # canonical names only; aliases reuse these models
        conda:
            "../envs/hetstack.yaml"
        threads: 1
        resources:
            mem_mb=2048,
            runtime=30,
        params:
            bases=BASES,
            model_params=model_params,
            candidate_params=candidate_params,
            seed=fit_seed,
            settings=META_SETTINGS,
        script:
            "../workflow_scripts/fit_meta.py"
