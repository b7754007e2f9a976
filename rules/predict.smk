localrules:
    run_settings,


def run_models(wildcards):
    """The models the settings describe: settings rebuilt alone must not pair new windows with old weights."""
    bases = "models/bases/{base}" if config["retrain_bases_on_full"] else "test/{base}.parquet"
    return expand("results/{symbol}_h{horizon}/" + bases, base=BASES, **wildcards) + [
        f"results/{wildcards.symbol}_h{wildcards.horizon}/models/meta/{canonical_name(m)}" for m in METAS
    ]


# What `hetstack predict` needs to rebuild a run's inputs from new bars (src/hetstack/predict.py).
rule run_settings:
    input:
        models=run_models,
        bars="results/{symbol}/bars.parquet",
        features_meta="results/{symbol}/features.json",
        splits="results/{symbol}_h{horizon}/splits.json",
    output:
        settings="results/{symbol}_h{horizon}/run_settings.json",
    log:
        "logs/run_settings/{symbol}_h{horizon}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        metas=METAS,
        adapters=ADAPTERS,
        vol_window=config["labels"]["vol_window"],
        digest=CONFIG_DIGEST,
    script:
        "../workflow_scripts/run_settings.py"
