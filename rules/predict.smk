# What `hetstack predict` needs to rebuild a run's inputs from new bars (src/hetstack/predict.py).
rule run_settings:
    input:
        unpack(walkforward_windows_table),
        models=run_models,
        bars=symbol_file("bars.parquet"),
        features_meta=symbol_file("features.json"),
        splits=run_file("splits.json"),
        labels=run_file("labels.parquet"),
    output:
        settings=run_file("run_settings.json"),
    log:
        "logs/run_settings/{symbol}_h{horizon}{replicate}.log",
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
        symbols=SYMBOLS,
    script:
        "../workflow_scripts/run_settings.py"


# What produced the run: config, versions, commit, input hashes, machine, job times. Every report
# reads it, so asking for a report builds what `hetstack predict`, `runs` and `diff` need.
rule manifest:
    input:
        settings=run_file("run_settings.json"),
        bars=symbol_file("bars.parquet"),
        data=bars_input,
    output:
        manifest=run_file("manifest.json"),
    log:
        "logs/manifest/{symbol}_h{horizon}{replicate}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        metas=METAS,
        config=config,
        digest=CONFIG_DIGEST,
        workflow_dir=HETSTACK_DIR,
        fit_seed=fit_seed,
    script:
        "../workflow_scripts/manifest.py"
