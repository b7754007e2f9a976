"""rule track_mlflow: one report, its manifest and plots logged to MLflow."""
from hetstack.tracking import log_report
from hetstack.workflow import job

with job(snakemake):
    i, p = snakemake.input, snakemake.params
    log_report(i.report, [i.report, i.manifest, *i.plots], p.uri, p.experiment, snakemake.output.record)
