rule bars:
    input:
        bars_input,
    output:
        bars=symbol_file("bars.parquet"),
        source=symbol_file("bars_source.json"),
    log:
        "logs/bars/{symbol}.log",
    benchmark:
        "benchmarks/bars/{symbol}.tsv"
    conda:
        "../envs/hetstack.yaml"
    params:
        data_file=data_file,
        n_bars=config["synthetic"]["n_bars"],
        seed=config["seed"],
        effect_strength=config["synthetic"].get("effect_strength", 1.0),
        market=config["synthetic"].get("market", "classic"),
        effects=config["synthetic"].get("effects", {}),
    script:
        "../workflow_scripts/bars.py"


rule features:
    input:
        bars=symbol_file("bars.parquet"),
    output:
        array=symbol_file("features.npy"),
        meta=symbol_file("features.json"),
    log:
        "logs/features/{symbol}.log",
    benchmark:
        "benchmarks/features/{symbol}.tsv"
    conda:
        "../envs/hetstack.yaml"
    resources:
        mem_mb=2048,
        runtime=30,
    script:
        "../workflow_scripts/features.py"


rule multires:
    input:
        bars=symbol_file("bars.parquet"),
    output:
        array=symbol_file("multires.npy"),
    log:
        "logs/multires/{symbol}.log",
    benchmark:
        "benchmarks/multires/{symbol}.tsv"
    conda:
        "../envs/hetstack.yaml"
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        timeframes=config["adapters"]["multires"]["timeframes"],
    script:
        "../workflow_scripts/multires.py"
