"""No import circles in src/hetstack: every import, also those inside functions, is an edge."""

import ast
import graphlib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the hetstack modules it imports."""
    modules = {module_name(p): p for p in (SRC / "hetstack").rglob("*.py")}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from a import b` imports the module a.b when there is one, else a name of a
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def test_the_graph_sees_the_registry_and_the_models():
    graph = import_graph()
    assert "hetstack.models.registry" in graph["hetstack.models.catboost"]
    assert {"hetstack.models", "hetstack.meta"} <= graph["hetstack.catalogue"]
    assert "hetstack.catalogue" in graph["hetstack.stages.meta"]  # imports inside functions count too
    assert sum(map(len, graph.values())) > 100


def test_a_circle_is_found():
    graph = import_graph()
    graph["hetstack.models.registry"].add("hetstack.catalogue")  # what the registry once did
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        assert "hetstack.models.registry" in error.args[1]
    else:
        raise AssertionError("the circle registry -> catalogue -> registry was not found")


def test_no_import_circles():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None


def test_each_rule_file_has_its_stage_module():
    """A newcomer goes from rules/<stage>.smk to hetstack.stages.<stage> (plots and predict have
    their own modules, common.smk holds no stage)."""
    rules = {p.stem for p in (SRC.parent / "rules").glob("*.smk")} - {"common"}
    homes = set(import_graph())
    for stage in rules:
        assert f"hetstack.stages.{stage}" in homes or f"hetstack.{stage}" in homes, stage
