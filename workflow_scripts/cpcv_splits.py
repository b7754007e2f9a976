"""rule cpcv_splits: the CPCV splits of the train samples and their backtest paths."""
from hetstack.stages.cpcv import CpcvSettings, write_cpcv_splits
from hetstack.workflow import job

with job(snakemake):
    o = snakemake.output
    write_cpcv_splits(snakemake.input.labels, o.table, o.summary, CpcvSettings(**snakemake.params.settings))
