"""The workflow imported with Snakemake's `module` directive from another folder plans like the original:
its paths (src/, the schema, the config, scripts) come from its own folder, not the importing workflow's."""

import json
import subprocess
import sys
from pathlib import Path

import yaml
from snakemake.utils import update_config

from test_slurm_resources import LOCAL_RULES
from test_workflow import TINY

REPO = Path(__file__).resolve().parents[1]


def test_plans_as_a_module_of_another_workflow(tmp_path):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())  # the module skips its own configfile
    update_config(config, {**TINY, "oof": {**TINY["oof"], "n_folds": 2}, "meta_learner": ["meta_ridge"]})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "Snakefile").write_text(f'''configfile: "config.yaml"


module hetstack:
    snakefile: "{REPO / "Snakefile"}"
    config: config


use rule * from hetstack as hetstack_*
''')
    result = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    counts = dict(line.split() for line in out[out.index("Job stats:"):].splitlines()[3:] if len(line.split()) == 2)
    assert counts["hetstack_oof_fold"] == "4" and counts["hetstack_report"] == "1", counts  # 2 bases x 2 folds
    assert "results/SYN_h5/oof/lightgbm/fold1.parquet" in out
    assert not (tmp_path / "src").exists() and not (tmp_path / "config/config.schema.yaml").exists()
    # the cheap rules stay local under their new names (a `localrules:` list would not follow them)
    local = subprocess.run([sys.executable, "-c", LOCAL_RULES, str(tmp_path / "Snakefile"), str(tmp_path),
                            str(tmp_path / "config.yaml")], capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr[-3000:]
    names = {f"hetstack_{r}" for r in ("merge_oof", "report", "meta_comparison", "run_settings", "plot_run", "plots")}
    assert names <= set(json.loads(local.stdout.splitlines()[-1]))
