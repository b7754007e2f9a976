"""The workflow's stages as library functions, one module per rule file (rules/<stage>.smk ->
hetstack.stages.<stage>); each script in workflow_scripts/ calls one of them.

Data flow (one sample id = one bar position, shared by every adapter, shard and matrix):
bars -> features -> labels + purged folds -> one OOF shard per (base, fold) -> meta matrix
-> meta-learner fit; bases retrained on the full train set -> test predictions -> report.
Plots and live prediction (rules/plots.smk, rules/predict.smk) are hetstack.plots and hetstack.predict.
"""
