rule bars:
    input:
        bars_input,
    output:
        bars="results/{symbol}/bars.parquet",
    log:
        "logs/bars/{symbol}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        data_file=data_file,
        n_bars=config["synthetic"]["n_bars"],
        seed=config["seed"],
        effect_strength=config["synthetic"].get("effect_strength", 1.0),
        effects=config["synthetic"].get("effects", {}),
    script:
        "../workflow_scripts/bars.py"


rule features:
    input:
        bars="results/{symbol}/bars.parquet",
    output:
        array="results/{symbol}/features.npy",
        meta="results/{symbol}/features.json",
    log:
        "logs/features/{symbol}.log",
    conda:
        "../envs/hetstack.yaml"
    benchmark:
        "benchmarks/features/{symbol}.tsv"
    resources:
        mem_mb=2048,
        runtime=30,
    script:
        "../workflow_scripts/features.py"


rule multires:
    input:
        bars="results/{symbol}/bars.parquet",
    output:
        array="results/{symbol}/multires.npy",
    log:
        "logs/multires/{symbol}.log",
    conda:
        "../envs/hetstack.yaml"
    benchmark:
        "benchmarks/multires/{symbol}.tsv"
    params:
        timeframes=config["adapters"]["multires"]["timeframes"],
    resources:
        mem_mb=2048,
        runtime=30,
    script:
        "../workflow_scripts/multires.py"
