# Walk-forward (oos.scheme: walkforward): the record after the initial span cut into windows; every
# base refitted before each window (one job per base and window, like oof_fold), a meta-learner per
# window fitted online on the honest rows known before it, and the last window's models deployed.
if WALKFORWARD:

    rule walkforward_windows:
        input:
            labels=run_file("labels.parquet"),
        output:
            table=run_file("walkforward/windows.parquet"),
            summary=run_file("walkforward/windows.json"),
        log:
            "logs/walkforward_windows/{symbol}_h{horizon}{replicate}.log",
        localrule: True
        conda:
            "../envs/hetstack.yaml"
        params:
            settings=WALKFORWARD_SETTINGS,
        script:
            "../workflow_scripts/walkforward_windows.py"

    rule walkforward_fold:
        input:
            unpack(adapter_arrays),
            labels=run_file("labels.parquet"),
            windows=run_file("walkforward/windows.parquet"),
        output:
            model=directory(run_file("walkforward/bases/{base}/window{window}")),
            predictions=run_file("walkforward/bases/{base}/window{window}.parquet"),
        log:
            "logs/walkforward_fold/{symbol}_h{horizon}{replicate}/{base}/window{window}.log",
        benchmark:
            "benchmarks/walkforward_fold/{symbol}_h{horizon}{replicate}/{base}/window{window}.tsv"
        conda:
            "../envs/hetstack.yaml"
        threads: fit_threads
        resources:
            **FIT_RESOURCES,
        params:
            model_params=model_params,
            training=train_params,
        script:
            "../workflow_scripts/walkforward_fold.py"

    rule walkforward_meta:
        input:
            shards=earlier_window_shards,
            matrix=run_file("meta_matrix.parquet"),
            labels=run_file("labels.parquet"),
            folds=run_file("folds.parquet"),
            windows=run_file("walkforward/windows.parquet"),
            bars=symbol_file("bars.parquet"),
        output:
            model=directory(run_file("walkforward/meta/{meta}/window{window}")),
        log:
            "logs/walkforward_meta/{symbol}_h{horizon}{replicate}/{meta}/window{window}.log",
        benchmark:
            "benchmarks/walkforward_meta/{symbol}_h{horizon}{replicate}/{meta}/window{window}.tsv"
        wildcard_constraints:
            meta="|".join(available("meta")),
        conda:
            "../envs/hetstack.yaml"
        threads: 1
        resources:
            mem_mb=2048,
            runtime=30,
        params:
            bases=BASES,
            model_params=model_params,
            candidate_params=candidate_params,
            seed=fit_seed,
            settings=META_SETTINGS,
        script:
            "../workflow_scripts/walkforward_meta.py"

    # The record a base predicted, window by window: the test file the report scores, as under one split.
    rule walkforward_record:
        input:
            shards=lambda wc: window_shards(wc, wc.base, N_WINDOWS),
        output:
            test=run_file("test/{base}.parquet"),
        log:
            "logs/walkforward_record/{symbol}_h{horizon}{replicate}/{base}.log",
        localrule: True
        conda:
            "../envs/hetstack.yaml"
        script:
            "../workflow_scripts/walkforward_record.py"

    # The last window's models, where `hetstack predict` and the report find a run's models.
    rule walkforward_deploy_base:
        input:
            model=run_file(f"walkforward/bases/{{base}}/window{LAST_WINDOW}"),
        output:
            model=directory(run_file("models/bases/{base}")),
        log:
            "logs/walkforward_deploy/{symbol}_h{horizon}{replicate}/{base}.log",
        localrule: True
        conda:
            "../envs/hetstack.yaml"
        script:
            "../workflow_scripts/walkforward_deploy.py"

    rule walkforward_deploy_meta:
        input:
            model=run_file(f"walkforward/meta/{{meta}}/window{LAST_WINDOW}"),
        output:
            model=directory(run_file("models/meta/{meta}")),
        log:
            "logs/walkforward_deploy/{symbol}_h{horizon}{replicate}/{meta}.log",
        wildcard_constraints:
            meta="|".join(available("meta")),
        localrule: True
        conda:
            "../envs/hetstack.yaml"
        script:
            "../workflow_scripts/walkforward_deploy.py"
