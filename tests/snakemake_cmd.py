"""How the integration tests call the real `snakemake` on this repository's Snakefile, and the tiny
config they share (tests/tiny.yaml). The runner is the `snakemake_run` fixture of conftest.py."""

import copy
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TINY_FILE = Path(__file__).with_name("tiny.yaml")


def tiny_config(**overrides) -> dict:
    """tests/tiny.yaml with `overrides` merged in: nested mappings key by key, anything else replaced."""
    def merge(into: dict, over: dict) -> dict:
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = copy.deepcopy(value)
        return into

    return merge(yaml.safe_load(TINY_FILE.read_text()), overrides)


def write_config(workdir: Path, config: dict, name: str = "tiny.yaml") -> Path:
    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(config))
    return path


def snakemake_command(workdir: Path, *args: str, configfile: str = "tiny.yaml") -> list[str]:
    """`snakemake` run in `workdir` with the config file written there, plus `args`."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(Path(workdir) / configfile), *args]


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    lines = text[text.index("Job stats:"):].splitlines()[3:]
    jobs = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs
