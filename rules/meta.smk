rule fit_meta:
    input:
        matrix=run_file("meta_matrix.parquet"),
        bars=symbol_file("bars.parquet"),
    output:
        model=directory(run_file("models/meta/{meta}")),
    log:
        "logs/fit_meta/{symbol}_h{horizon}/{meta}.log",
    benchmark:
        "benchmarks/fit_meta/{symbol}_h{horizon}/{meta}.tsv"
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
        seed=config["seed"],
        settings=dict(
            val_split=config["training"]["val_split"],
            use_oof_for_val=config["training"]["use_oof_for_val"],
            n_folds=config["oof"]["n_folds"],
            purge_bars=config["oof"]["purge_bars"],
            embargo_bars=config["oof"]["embargo_bars"],
            use_sample_weights=config["oof"]["use_sample_weights"],
            drop_unskilled_bases=config["training"].get("drop_unskilled_bases", True),
            regime_window=REGIME_WINDOW,
        ),
    script:
        "../workflow_scripts/fit_meta.py"
