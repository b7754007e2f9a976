# tuning.bases: one Optuna study per run and base on the tuning span (hetstack.tuning), its trials run
# by tuning.workers jobs sharing one storage; the fold and retrain jobs of a tuned base read tuned.json.
rule tune_study:
    input:
        labels=run_file("labels.parquet"),
    output:
        study=run_file("tuning/{base}/study.json"),
    log:
        "logs/tune_study/{symbol}_h{horizon}{replicate}/{base}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        settings=lambda wc: TUNED[wc.base],
        run=lambda wc: f"{wc.symbol}_h{wc.horizon}{wc.replicate}",
        storage=TUNING["storage"],
    script:
        "../workflow_scripts/tune_study.py"


rule tune_worker:
    input:
        unpack(adapter_arrays),
        labels=run_file("labels.parquet"),
        study=run_file("tuning/{base}/study.json"),
    output:
        summary=run_file("tuning/{base}/worker{worker}.json"),
    log:
        "logs/tune_worker/{symbol}_h{horizon}{replicate}/{base}/worker{worker}.log",
    benchmark:
        "benchmarks/tune_worker/{symbol}_h{horizon}{replicate}/{base}/worker{worker}.tsv"
    conda:
        "../envs/hetstack.yaml"
    threads: fit_threads
    resources:
        mem_mb=fit_mem_mb,
        runtime=tune_runtime,
    params:
        model_params=model_params,
        training=train_params,
        storage=TUNING["storage"],
    script:
        "../workflow_scripts/tune_worker.py"


rule tune_select:
    input:
        study=run_file("tuning/{base}/study.json"),
        workers=tune_workers,
        labels=run_file("labels.parquet"),
        bars=symbol_file("bars.parquet"),
    output:
        tuned=run_file("tuning/{base}/tuned.json"),
    log:
        "logs/tune_select/{symbol}_h{horizon}{replicate}/{base}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        cost_bps=config["trading"]["cost_bps"],
        seed=fit_seed,
        storage=TUNING["storage"],
    script:
        "../workflow_scripts/tune_select.py"
