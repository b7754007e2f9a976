rule labels:
    input:
        bars="results/{symbol}/bars.parquet",
        features_meta="results/{symbol}/features.json",
    output:
        labels="results/{symbol}_h{horizon}/labels.parquet",
        folds="results/{symbol}_h{horizon}/folds.parquet",
        splits="results/{symbol}_h{horizon}/splits.json",
    log:
        "logs/labels/{symbol}_h{horizon}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        source=lambda wc: data_file(wc) or f"synthetic market for {wc.symbol} (config key 'synthetic.n_bars')",
        settings=dict(
            barrier_k=config["labels"]["barrier_k"],
            vol_window=config["labels"]["vol_window"],
            test_fraction=config["split"]["test_fraction"],
            n_folds=config["oof"]["n_folds"],
            mode=OOF_MODE,
            blend_fraction=config["oof"].get("blend_fraction", 0.2),
            purge_bars=config["oof"]["purge_bars"],
            embargo_bars=config["oof"]["embargo_bars"],
            adapters=ADAPTERS,
        ),
    script:
        "../workflow_scripts/labels.py"
