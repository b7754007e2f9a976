"""Packaging: pyproject's dependencies, the conda env that mirrors them, and the wheel that ships the workflow."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from hetstack import cli

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

# pyproject name -> conda-forge name in envs/hetstack.yaml (None: not needed inside the jobs)
CONDA_NAMES = {
    "snakemake": None,  # runs the jobs; the env only has to run their scripts
    "torch": "pytorch",
    "xgboost-cpu": "py-xgboost",  # conda-forge picks the CPU or CUDA build by itself
    "xgboost": "py-xgboost",
    "matplotlib": "matplotlib-base",  # no Qt/Tk: the plots are written to files
    "arch": "arch-py",
}


def requirements() -> list[Requirement]:
    return [Requirement(text) for text in PYPROJECT["dependencies"]]


def conda_env() -> dict[str, str]:
    """envs/hetstack.yaml's dependencies as {name: version spec}."""
    env = yaml.safe_load((REPO / "envs/hetstack.yaml").read_text())
    specs = {}
    for entry in env["dependencies"]:
        name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry.strip()).groups()
        assert name not in specs, f"envs/hetstack.yaml lists {name} twice"
        specs[name] = spec
    return specs


def test_conda_env_has_every_dependency_of_pyproject_with_the_same_versions():
    env = conda_env()
    wanted = {}
    for req in requirements():
        conda = CONDA_NAMES.get(req.name, req.name)
        if conda is not None:
            assert wanted.setdefault(conda, req.specifier) == req.specifier, f"{conda}: two version ranges"
    python = env.pop("python")
    assert set(env) == set(wanted), f"missing in envs/hetstack.yaml: {sorted(set(wanted) - set(env))}, " \
                                    f"not in pyproject: {sorted(set(env) - set(wanted))}"
    for name, spec in env.items():
        assert SpecifierSet(spec) == wanted[name], (name, spec, str(wanted[name]))
    assert SpecifierSet(PYPROJECT["requires-python"]).contains(python.removeprefix("="))


def test_the_readmes_html_report_needs_nothing_beyond_pip_install():
    """`snakemake --report` imports pygments, which only snakemake's `reports` extra installs."""
    (snakemake,) = [req for req in requirements() if req.name == "snakemake"]
    assert "reports" in snakemake.extras


def test_python_3_11_or_newer_and_the_torch_pin():
    supported = SpecifierSet(PYPROJECT["requires-python"])
    assert not supported.contains("3.10") and supported.contains("3.11") and supported.contains("3.13")
    assert "torch>=2.3,<2.14" in PYPROJECT["dependencies"]


# xgboost-cpu has wheels for manylinux x86_64/aarch64 and Windows only (checked with pip download --no-deps)
@pytest.mark.parametrize("platform, machine, cpu_build", [
    ("linux", "x86_64", True), ("linux", "aarch64", True), ("win32", "AMD64", True), ("win32", "ARM64", True),
    ("darwin", "arm64", False), ("darwin", "x86_64", False), ("linux", "ppc64le", False),
    ("freebsd14", "amd64", False)])
def test_one_xgboost_per_platform(platform, machine, cpu_build):
    env = {**default_environment(), "sys_platform": platform, "platform_machine": machine}
    chosen = [req.name for req in requirements()
              if req.name.startswith("xgboost") and (req.marker is None or req.marker.evaluate(env))]
    assert chosen == (["xgboost-cpu"] if cpu_build else ["xgboost"])


def test_readme_says_how_to_get_cpu_or_cuda_torch():
    install = (REPO / "README.md").read_text().split("## What the workflow does")[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in install and "CUDA" in install


def test_workflow_dir_is_the_checkout_when_running_from_one():
    assert cli.workflow_dir() == REPO


def source_tree(dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) copied to `dest`: builds leave the tree alone."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the checkout's files")
def test_built_wheel_ships_the_workflow_and_train_finds_it(tmp_path):
    src = source_tree(tmp_path / "src")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(tmp_path / "dist")],
                           cwd=src, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("hetstack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = f"hetstack/{cli.SHIPPED}"
    for name in cli.WORKFLOW_FILES:
        for path in [REPO / name] if (REPO / name).is_file() else (REPO / name).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"{shipped}/{path.relative_to(REPO).as_posix()}" in names, path
    # Installed = unpacked into site-packages; run from elsewhere, with no checkout on the path.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    run = tmp_path / "run"
    run.mkdir()
    (run / "tiny.yaml").write_text(yaml.safe_dump({"symbols": ["SYN"], "horizons": [5], "base_models": ["ridge"],
                                                   "meta_learner": "meta_ridge", "oof": {"n_folds": 2}}))
    env = {**os.environ, "PYTHONPATH": str(site)}
    locate = "import hetstack.cli as c; print(c.__file__); print(c.workflow_dir())"
    where = subprocess.run([sys.executable, "-c", locate],
                           cwd=run, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert where == [str(site / "hetstack/cli.py"), str(site / shipped)]
    train = subprocess.run([sys.executable, "-m", "hetstack.cli", "train", "--symbol", "SYN", "--horizon", "5",
                            "--configfile", "tiny.yaml", "--dry-run", "--cores", "1"],
                           cwd=run, env=env, capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stdout[-2000:] + train.stderr[-3000:]
    assert str(site / shipped / "Snakefile") in train.stdout and "oof_fold" in train.stdout
