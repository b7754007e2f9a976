# One job per (symbol, horizon, base, fold): the unit of parallelism and of resumption.
rule oof_fold:
    input:
        unpack(adapter_arrays),
        labels="results/{symbol}_h{horizon}/labels.parquet",
        folds="results/{symbol}_h{horizon}/folds.parquet",
    output:
        oof="results/{symbol}_h{horizon}/oof/{base}/fold{fold}.parquet",
        test="results/{symbol}_h{horizon}/oof/{base}/fold{fold}.test.parquet",
    log:
        "logs/oof_fold/{symbol}_h{horizon}/{base}/fold{fold}.log",
    conda:
        "../envs/hetstack.yaml"
    benchmark:
        "benchmarks/oof_fold/{symbol}_h{horizon}/{base}/fold{fold}.tsv"
    threads: fit_threads
    resources:
        **FIT_RESOURCES,
    params:
        model_params=model_params,
        training=TRAIN_PARAMS,
    script:
        "../workflow_scripts/oof_fold.py"


rule merge_oof:
    localrule: True
    input:
        shards=oof_shards,
        labels="results/{symbol}_h{horizon}/labels.parquet",
        folds="results/{symbol}_h{horizon}/folds.parquet",
    output:
        matrix="results/{symbol}_h{horizon}/meta_matrix.parquet",
    log:
        "logs/merge_oof/{symbol}_h{horizon}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
    script:
        "../workflow_scripts/merge_oof.py"
