"""How the integration tests call the real `snakemake` on this repository's Snakefile."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def snakemake_command(workdir: Path, *args: str, configfile: str = "tiny.yaml") -> list[str]:
    """`snakemake` run in `workdir` with the config file written there, plus `args`."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(Path(workdir) / configfile), *args]
