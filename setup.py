"""Ships the Snakemake workflow inside the package, so that `hetstack train` finds it after a
non-editable install: build_py copies the repository's Snakefile, rules/, workflow_scripts/,
config/, envs/, profiles/ and report/ to hetstack/_workflow/ (hetstack.cli.workflow_dir). The
repository keeps its layout; editable installs use the checkout itself. Metadata: pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Same names as hetstack.cli.WORKFLOW_FILES (tests/test_packaging.py checks the wheel holds them).
WORKFLOW_FILES = ("Snakefile", "rules", "workflow_scripts", "config", "envs", "profiles", "report")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake")


class BuildPyWithWorkflow(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs the checkout's workflow
        target = Path(self.build_lib) / "hetstack" / "_workflow"
        shutil.rmtree(target, ignore_errors=True)
        for name in WORKFLOW_FILES:
            source = HERE / name
            if not source.exists():
                raise FileNotFoundError(f"{source}: part of the workflow is missing; build from a checkout or sdist")
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIP)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithWorkflow})
