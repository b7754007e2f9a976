"""rules walkforward_deploy_*: the last window's model, deployed where predict and the report look."""
from hetstack.stages.walkforward import deploy_model
from hetstack.workflow import job

with job(snakemake):
    deploy_model(snakemake.input.model, snakemake.output.model)
