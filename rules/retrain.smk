# Hold-out predictions of each base: a full retrain (default), or the mean of the fold models.
if config["retrain_bases_on_full"]:

    rule retrain_base:
        input:
            unpack(adapter_arrays),
            labels="results/{symbol}_h{horizon}/labels.parquet",
        output:
            model=directory("results/{symbol}_h{horizon}/models/bases/{base}"),
            test="results/{symbol}_h{horizon}/test/{base}.parquet",
        log:
            "logs/retrain_base/{symbol}_h{horizon}/{base}.log",
        conda:
            "../envs/hetstack.yaml"
        benchmark:
            "benchmarks/retrain_base/{symbol}_h{horizon}/{base}.tsv"
        threads: fit_threads
        resources:
            **FIT_RESOURCES,
        params:
            model_params=model_params,
            training=TRAIN_PARAMS,
        script:
            "../workflow_scripts/retrain_base.py"

else:

    rule average_fold_tests:
        input:
            shards=fold_test_shards,
        output:
            test="results/{symbol}_h{horizon}/test/{base}.parquet",
        log:
            "logs/average_fold_tests/{symbol}_h{horizon}/{base}.log",
        conda:
            "../envs/hetstack.yaml"
        script:
            "../workflow_scripts/average_fold_tests.py"
