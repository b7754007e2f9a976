# Hold-out predictions of each base: a full retrain (default), or the mean of the fold models
# (oos.scheme walkforward: rules/walkforward.smk makes them window by window).
if WALKFORWARD:
    pass
elif config["retrain_bases_on_full"]:

    rule retrain_base:
        input:
            unpack(adapter_arrays),
            unpack(tuned_params),
            labels=run_file("labels.parquet"),
        output:
            model=directory(run_file("models/bases/{base}")),
            test=run_file("test/{base}.parquet"),
        log:
            "logs/retrain_base/{symbol}_h{horizon}{replicate}/{base}.log",
        benchmark:
            "benchmarks/retrain_base/{symbol}_h{horizon}{replicate}/{base}.tsv"
        conda:
            "../envs/hetstack.yaml"
        threads: fit_threads
        resources:
            **FIT_RESOURCES,
        params:
            model_params=model_params,
            training=train_params,
        script:
            "../workflow_scripts/retrain_base.py"

else:

    rule average_fold_tests:
        input:
            shards=fold_test_shards,
        output:
            test=run_file("test/{base}.parquet"),
        log:
            "logs/average_fold_tests/{symbol}_h{horizon}{replicate}/{base}.log",
        conda:
            "../envs/hetstack.yaml"
        script:
            "../workflow_scripts/average_fold_tests.py"
