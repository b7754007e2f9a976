# What `hetstack predict` needs to rebuild a run's inputs from new bars (src/hetstack/predict.py).
rule run_settings:
    input:
        models=run_models,
        bars=symbol_file("bars.parquet"),
        features_meta=symbol_file("features.json"),
        splits=run_file("splits.json"),
    output:
        settings=run_file("run_settings.json"),
    log:
        "logs/run_settings/{symbol}_h{horizon}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        metas=METAS,
        adapters=ADAPTERS,
        vol_window=config["labels"]["vol_window"],
        regime_window=REGIME_WINDOW,
        digest=CONFIG_DIGEST,
    script:
        "../workflow_scripts/run_settings.py"
