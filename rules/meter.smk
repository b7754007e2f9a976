# leakage_meter.enabled: each metered base fitted on shuffled K-fold, one job per base beside the fold jobs;
# only the report reads meter/{base}.parquet (hetstack.stages.meter).
rule leakage_meter:
    input:
        unpack(adapter_arrays),
        unpack(tuned_params),
        labels=run_file("labels.parquet"),
    output:
        shuffled=run_file("meter/{base}.parquet"),
    log:
        "logs/leakage_meter/{symbol}_h{horizon}{replicate}/{base}.log",
    benchmark:
        "benchmarks/leakage_meter/{symbol}_h{horizon}{replicate}/{base}.tsv"
    conda:
        "../envs/hetstack.yaml"
    threads: fit_threads
    resources:
        **FIT_RESOURCES,
    params:
        model_params=model_params,
        training=train_params,
        n_folds=METER.get("n_folds", 5),
    script:
        "../workflow_scripts/leakage_meter.py"
