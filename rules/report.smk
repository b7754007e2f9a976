rule report:
    input:
        unpack(cpcv_report_inputs),
        unpack(walkforward_report_inputs),
        meta_model=meta_model,
        tests=base_tests,
        trials=trial_models,
        tuned=tuned_files,
        meter=meter_files,
        matrix=run_file("meta_matrix.parquet"),
        labels=run_file("labels.parquet"),
        bars=symbol_file("bars.parquet"),
        source=symbol_file("bars_source.json"),
        # Not read: a report follows what `hetstack predict`, `runs` and `diff` need of its run.
        settings=run_file("run_settings.json"),
        manifest=run_file("manifest.json"),
    output:
        report=run_file("{meta}_report.json"),
        predictions=run_file("predictions/{meta}_test.parquet"),
    log:
        "logs/report/{symbol}_h{horizon}{replicate}/{meta}.log",
    benchmark:
        "benchmarks/report/{symbol}_h{horizon}{replicate}/{meta}.tsv"
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        cost_bps=config["trading"]["cost_bps"],
        bet_sizing=config["trading"].get("bet_sizing", False),
        digest=CONFIG_DIGEST,
        regime_window=REGIME_WINDOW,
        statistics=config["statistics"],
        seed=config["seed"],
        fit_seed=fit_seed,
        trial_names=trial_names,
        tuned_bases=list(TUNED),
        metered_bases=METERED,
        settings=lambda wc: dict(
            n_folds=config["oof"]["n_folds"],
            oof_mode=OOF_MODE,
            purge_bars=config["oof"]["purge_bars"],
            embargo_bars=config["oof"]["embargo_bars"],
            barrier_k=config["labels"]["barrier_k"],
            test_fraction=TEST_FRACTION,
            use_sample_weights=config["oof"]["use_sample_weights"],
            meta_sample_weights=hcfg.meta_sample_weights(config),
            retrain_bases_on_full=config["retrain_bases_on_full"],
            regime_window=REGIME_WINDOW,
            scheme="cpcv" if CPCV else "kfold",
            **(
                {k: CPCV_SETTINGS[k] for k in ("n_groups", "k_test_groups")}
                if CPCV
                else {}
            ),
            **({"oos": OOS} if WALKFORWARD else {}),
        ),
    script:
        "../workflow_scripts/report.py"


rule meta_comparison:
    input:
        reports=lambda wc: expand(
            run_file("{meta}_report.json"),
            meta=available("meta"),
            **wc,
        ),
    output:
        comparison=run_file("meta_comparison.json"),
    log:
        "logs/meta_comparison/{symbol}_h{horizon}{replicate}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    script:
        "../workflow_scripts/meta_comparison.py"


# tracking.mlflow_uri set: each report logged to MLflow with its plots (the `mlflow` extra).
rule track_mlflow:
    input:
        report=run_file("{meta}_report.json"),
        manifest=run_file("manifest.json"),
        plots=lambda wc: expand(run_file("plots/{meta}/{name}"), name=PLOT_FILES, **wc),
    output:
        record=run_file("tracking/{meta}_mlflow.json"),
    log:
        "logs/track_mlflow/{symbol}_h{horizon}{replicate}/{meta}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        uri=MLFLOW_URI,
        experiment=MLFLOW_EXPERIMENT,
    script:
        "../workflow_scripts/track_mlflow.py"
