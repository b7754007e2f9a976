# Combinatorial purged CV (oof.scheme: cpcv): backtest paths of the train period beside the
# purged K-fold stack. One job per (base, split), like oof_fold; one per meta-learner for all splits.
rule cpcv_splits:
    input:
        labels=run_file("labels.parquet"),
    output:
        table=run_file("cpcv/splits.parquet"),
        summary=run_file("cpcv/splits.json"),
    log:
        "logs/cpcv_splits/{symbol}_h{horizon}{replicate}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        settings=CPCV_SETTINGS,
    script:
        "../workflow_scripts/cpcv_splits.py"


rule cpcv_fold:
    input:
        unpack(adapter_arrays),
        labels=run_file("labels.parquet"),
        splits=run_file("cpcv/splits.parquet"),
    output:
        predictions=run_file("cpcv/{base}/split{split}.parquet"),
    log:
        "logs/cpcv_fold/{symbol}_h{horizon}{replicate}/{base}/split{split}.log",
    benchmark:
        "benchmarks/cpcv_fold/{symbol}_h{horizon}{replicate}/{base}/split{split}.tsv"
    conda:
        "../envs/hetstack.yaml"
    threads: fit_threads
    resources:
        **FIT_RESOURCES,
    params:
        model_params=model_params,
        training=train_params,
    script:
        "../workflow_scripts/cpcv_fold.py"


rule cpcv_meta:
    input:
        shards=cpcv_shards,
        labels=run_file("labels.parquet"),
        splits=run_file("cpcv/splits.parquet"),
        summary=run_file("cpcv/splits.json"),
        bars=symbol_file("bars.parquet"),
    output:
        predictions=run_file("cpcv/meta/{meta}.parquet"),
    log:
        "logs/cpcv_meta/{symbol}_h{horizon}{replicate}/{meta}.log",
    benchmark:
        "benchmarks/cpcv_meta/{symbol}_h{horizon}{replicate}/{meta}.tsv"
    wildcard_constraints:
        meta="|".join(available("meta")),
    conda:
        "../envs/hetstack.yaml"
    threads: 1
    resources:
        mem_mb=2048,
    params:
        bases=BASES,
        model_params=model_params,
        candidate_params=candidate_params,
        seed=fit_seed,
        settings=META_SETTINGS,
    script:
        "../workflow_scripts/cpcv_meta.py"
