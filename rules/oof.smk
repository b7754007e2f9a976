# One job per (symbol, horizon, base, fold): the unit of parallelism and of resumption.
rule oof_fold:
    input:
        unpack(adapter_arrays),
        unpack(tuned_params),
        labels=run_file("labels.parquet"),
        folds=run_file("folds.parquet"),
    output:
        oof=run_file("oof/{base}/fold{fold}.parquet"),
        test=run_file("oof/{base}/fold{fold}.test.parquet"),
    log:
        "logs/oof_fold/{symbol}_h{horizon}{replicate}/{base}/fold{fold}.log",
    benchmark:
        "benchmarks/oof_fold/{symbol}_h{horizon}{replicate}/{base}/fold{fold}.tsv"
    conda:
        "../envs/hetstack.yaml"
    threads: fit_threads
    resources:
        **FIT_RESOURCES,
    params:
        model_params=model_params,
        training=train_params,
    script:
        "../workflow_scripts/oof_fold.py"


rule merge_oof:
    input:
        shards=oof_shards,
        labels=run_file("labels.parquet"),
        folds=run_file("folds.parquet"),
    output:
        matrix=run_file("meta_matrix.parquet"),
    log:
        "logs/merge_oof/{symbol}_h{horizon}{replicate}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        # with a tuned base, the meta-learner never reads the tuning span's rows (hetstack.tuning.meta_rows)
        tuning_span=TUNING["span_fraction"] if TUNED else None,
        purge_bars=config["oof"]["purge_bars"],
        embargo_bars=config["oof"]["embargo_bars"],
    script:
        "../workflow_scripts/merge_oof.py"
