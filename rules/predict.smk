# What `hetstack predict` needs to rebuild a run's inputs from new bars (src/hetstack/predict.py).
rule run_settings:
    localrule: True
    input:
        models=run_models,
        bars="results/{symbol}/bars.parquet",
        features_meta="results/{symbol}/features.json",
        splits="results/{symbol}_h{horizon}/splits.json",
    output:
        settings="results/{symbol}_h{horizon}/run_settings.json",
    log:
        "logs/run_settings/{symbol}_h{horizon}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        metas=METAS,
        adapters=ADAPTERS,
        vol_window=config["labels"]["vol_window"],
        digest=CONFIG_DIGEST,
    script:
        "../workflow_scripts/run_settings.py"
