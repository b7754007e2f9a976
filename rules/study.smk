# One answer across the runs the config defines: every report of every symbol x horizon (x seed
# replicate), pooled (random effects). A target of its own: `snakemake --cores all study`.
rule study:
    input:
        reports=expand(
            run_file("{meta}_report.json"),
            symbol=SYMBOLS,
            horizon=HORIZONS,
            replicate=REPLICATES,
            meta=METAS,
        ),
    output:
        study=STUDY,
        page=STUDY_PAGE,
    log:
        "logs/study.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    script:
        "../workflow_scripts/study.py"
