# Pictures for Snakemake's HTML report: `snakemake --cores all plots && snakemake plots --report report.html`.
# Both run where snakemake runs: plot_run is seconds of matplotlib, a cluster job would wait longer
# in the queue than it runs. `localrule:` (not `localrules:`) also holds under `use rule ... as`.
rule plots:
    input:
        plot_targets(),
    localrule: True


rule plot_run:
    input:
        report=run_file("{meta}_report.json"),
        predictions=run_file("predictions/{meta}_test.parquet"),
        tests=base_tests,
        matrix=run_file("meta_matrix.parquet"),
        bars=symbol_file("bars.parquet"),
    output:
        **(
            dict(
                cpcv=report(
                    run_file("plots/{meta}/cpcv.svg"),
                    caption="../report/cpcv.rst",
                    category="{symbol} h{horizon}",
                    subcategory="{meta}",
                    labels={"plot": "CPCV paths"},
                )
            )
            if CPCV
            else {}
        ),
        **(
            dict(
                walkforward=report(
                    run_file("plots/{meta}/walkforward.svg"),
                    caption="../report/walkforward.rst",
                    category="{symbol} h{horizon}",
                    subcategory="{meta}",
                    labels={"plot": "walk-forward record"},
                )
            )
            if WALKFORWARD
            else {}
        ),
        **(
            dict(
                meter=report(
                    run_file("plots/{meta}/meter.svg"),
                    caption="../report/meter.rst",
                    category="{symbol} h{horizon}",
                    subcategory="{meta}",
                    labels={"plot": "leakage meter"},
                )
            )
            if METERED
            else {}
        ),
        # the HTML report's first screen shows every run's headline (report/workflow.rst)
        headline=report(
            run_file("plots/{meta}/headline.html"),
            caption="../report/headline.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "headline"},
        ),
        table=report(
            run_file("plots/{meta}/scores.html"),
            caption="../report/table.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "score table"},
        ),
        scores=report(
            run_file("plots/{meta}/scores.svg"),
            caption="../report/scores.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "test scores"},
        ),
        reliability=report(
            run_file("plots/{meta}/reliability.svg"),
            caption="../report/reliability.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "reliability"},
        ),
        equity=report(
            run_file("plots/{meta}/equity.svg"),
            caption="../report/equity.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "equity and drawdown"},
        ),
        weights=report(
            run_file("plots/{meta}/weights.svg"),
            caption="../report/weights.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "meta weights"},
        ),
        oof_folds=report(
            run_file("plots/{meta}/oof_folds.svg"),
            caption="../report/oof_folds.rst",
            category="{symbol} h{horizon}",
            subcategory="{meta}",
            labels={"plot": "OOF per fold"},
        ),
    log:
        "logs/plot_run/{symbol}_h{horizon}{replicate}/{meta}.log",
    localrule: True
    conda:
        "../envs/hetstack.yaml"
    params:
        bases=BASES,
        cost_bps=config["trading"]["cost_bps"],
    script:
        "../workflow_scripts/plot_run.py"
