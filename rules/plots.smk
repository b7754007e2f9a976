# Pictures for Snakemake's HTML report: `snakemake --cores all plots && snakemake plots --report report.html`.
# Both run where snakemake runs: plot_run is seconds of matplotlib, a cluster job would wait longer
# in the queue than it runs. `localrule:` (not `localrules:`) also holds under `use rule ... as`.
rule plots:
    localrule: True
    input:
        plot_targets(),


rule plot_run:
    localrule: True
    input:
        report="results/{symbol}_h{horizon}/{meta}_report.json",
        predictions="results/{symbol}_h{horizon}/predictions/{meta}_test.parquet",
        tests=base_tests,
        matrix="results/{symbol}_h{horizon}/meta_matrix.parquet",
        bars="results/{symbol}/bars.parquet",
    output:
        table=report("results/{symbol}_h{horizon}/plots/{meta}/scores.html", caption="../report/table.rst",
                     category="{symbol} h{horizon}", subcategory="{meta}", labels={"plot": "score table"}),
        scores=report("results/{symbol}_h{horizon}/plots/{meta}/scores.svg", caption="../report/scores.rst",
                      category="{symbol} h{horizon}", subcategory="{meta}", labels={"plot": "test scores"}),
        reliability=report("results/{symbol}_h{horizon}/plots/{meta}/reliability.svg",
                           caption="../report/reliability.rst", category="{symbol} h{horizon}", subcategory="{meta}",
                           labels={"plot": "reliability"}),
        equity=report("results/{symbol}_h{horizon}/plots/{meta}/equity.svg", caption="../report/equity.rst",
                      category="{symbol} h{horizon}", subcategory="{meta}", labels={"plot": "equity and drawdown"}),
        weights=report("results/{symbol}_h{horizon}/plots/{meta}/weights.svg", caption="../report/weights.rst",
                       category="{symbol} h{horizon}", subcategory="{meta}", labels={"plot": "meta weights"}),
        oof_folds=report("results/{symbol}_h{horizon}/plots/{meta}/oof_folds.svg", caption="../report/oof_folds.rst",
                         category="{symbol} h{horizon}", subcategory="{meta}", labels={"plot": "OOF per fold"}),
    log:
        "logs/plot_run/{symbol}_h{horizon}/{meta}.log",
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        cost_bps=config["trading"]["cost_bps"],
    script:
        "../workflow_scripts/plot_run.py"
