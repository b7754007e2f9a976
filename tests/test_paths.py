"""hetstack.paths owns the results layout: the rules build their paths with it, and the names that
status, predict and the CLI read are outputs of some rule."""

import re
from pathlib import Path

from hetstack import paths

REPO = Path(__file__).resolve().parents[1]
RULES = "".join(p.read_text() for p in sorted((REPO / "rules").glob("*.smk")))


def rule_run_files() -> set[str]:
    return set(re.findall(r'run_file\(\s*"([^"]*)"', RULES))


def test_no_rule_spells_the_results_folder():
    assert "results/" not in RULES, "build results paths with run_file / symbol_file (hetstack.paths)"
    assert len(rule_run_files()) > 10


def test_every_name_code_reads_is_a_rule_output():
    outputs = rule_run_files()
    for name in (paths.LABELS, paths.FOLDS, paths.SPLITS, paths.META_MATRIX, paths.SETTINGS, paths.MANIFEST):
        assert name in outputs, name
    for folder in (paths.OOF_DIR, paths.BASE_MODELS_DIR, paths.META_MODELS_DIR, paths.BASE_TESTS_DIR, paths.PLOTS_DIR):
        assert any(o.startswith(folder + "/") for o in outputs), folder
    assert any(o.endswith(paths.REPORT_SUFFIX) for o in outputs)


def test_run_dir_fills_the_rules_pattern():
    pattern = paths.run_file(paths.SETTINGS)
    assert paths.run_dir("MES", 20) / paths.SETTINGS == Path(pattern.format(symbol="MES", horizon=20, replicate=""))
    assert str(paths.run_dir("MES", 20, "/w")) == "/w/results/MES_h20"
    assert paths.run_dir("MES", 20, replicate=2) == Path(pattern.format(symbol="MES", horizon=20, replicate="_rep2")).parent
    for r in (0, 1, 12):
        suffix = paths.replicate_suffix(r)
        assert re.fullmatch(paths.REPLICATE_PATTERN, suffix) and paths.replicate_index(suffix) == r
    assert not re.fullmatch(paths.REPLICATE_PATTERN, "_rep0")  # one name per replicate
