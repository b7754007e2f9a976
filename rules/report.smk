rule report:
    localrule: True
    input:
        meta_model=meta_model,
        tests=base_tests,
        matrix="results/{symbol}_h{horizon}/meta_matrix.parquet",
        labels="results/{symbol}_h{horizon}/labels.parquet",
        bars="results/{symbol}/bars.parquet",
    output:
        report="results/{symbol}_h{horizon}/{meta}_report.json",
        predictions="results/{symbol}_h{horizon}/predictions/{meta}_test.parquet",
    log:
        "logs/report/{symbol}_h{horizon}/{meta}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        cost_bps=config["trading"]["cost_bps"],
        digest=CONFIG_DIGEST,
        settings=lambda wc: dict(
            n_folds=config["oof"]["n_folds"],
            oof_mode=OOF_MODE,
            purge_bars=config["oof"]["purge_bars"],
            embargo_bars=config["oof"]["embargo_bars"],
            barrier_k=config["labels"]["barrier_k"],
            test_fraction=config["split"]["test_fraction"],
            use_sample_weights=config["oof"]["use_sample_weights"],
            retrain_bases_on_full=config["retrain_bases_on_full"],
        ),
    script:
        "../workflow_scripts/report.py"


rule meta_comparison:
    localrule: True
    input:
        reports=lambda wc: expand(
            "results/{symbol}_h{horizon}/{meta}_report.json", meta=available("meta"), **wc
        ),
    output:
        comparison="results/{symbol}_h{horizon}/meta_comparison.json",
    log:
        "logs/meta_comparison/{symbol}_h{horizon}.log",
    conda:
        "../envs/hetstack.yaml"
    script:
        "../workflow_scripts/meta_comparison.py"
