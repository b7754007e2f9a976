rule labels:
    input:
        bars=symbol_file("bars.parquet"),
        features_meta=symbol_file("features.json"),
    output:
        labels=run_file("labels.parquet"),
        folds=run_file("folds.parquet"),
        splits=run_file("splits.json"),
    log:
        "logs/labels/{symbol}_h{horizon}{replicate}.log",
    benchmark:
        "benchmarks/labels/{symbol}_h{horizon}{replicate}.tsv"
    conda:
        "../envs/hetstack.yaml"
    params:
        source=lambda wc: data_file(wc)
        or f"synthetic market for {wc.symbol} (config key 'synthetic.n_bars')",
        settings=dict(
            barrier_k=config["labels"]["barrier_k"],
            vol_window=config["labels"]["vol_window"],
            test_fraction=TEST_FRACTION,
            n_folds=config["oof"]["n_folds"],
            mode=OOF_MODE,
            blend_fraction=config["oof"].get("blend_fraction", 0.2),
            purge_bars=config["oof"]["purge_bars"],
            embargo_bars=config["oof"]["embargo_bars"],
            adapters=ADAPTERS,
            regime_window=REGIME_WINDOW,
        ),
    script:
        "../workflow_scripts/labels.py"
