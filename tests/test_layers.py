"""The package's layers (README, "Layout"): no import cycles between modules, the IR imports
nothing above it, nothing below cli.py knows click, and the layers that `derive` runs
through import no NumPy at module level."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "matgrad_cli"


def _modules() -> dict:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        if is_init:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_init)
    return found


def _module_level_imports(modules: dict) -> dict:
    graph = {}
    for name, (path, is_init) in modules.items():
        deps, external = set(), set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = name.split(".") if is_init else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    deps.add(candidate if candidate in modules else target)
            elif isinstance(node, ast.Import):
                external.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                external.add(node.module.split(".")[0])
        graph[name] = ({d for d in deps if d in modules and d != name}, external)
    return graph


GRAPH = _module_level_imports(_modules())


def test_no_import_cycles():
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(GRAPH[node][0]):
            if state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_ir_imports_nothing_above_it():
    assert GRAPH["matgrad_cli.ir"][0] <= {"matgrad_cli.errors"}


def test_only_the_command_line_knows_click():
    users = {name for name, (_, external) in GRAPH.items() if "click" in external}
    assert users == {"matgrad_cli.cli"}


def test_the_symbolic_layers_import_no_numpy_at_module_level():
    symbolic = ("matgrad_cli.language", "matgrad_cli.ops", "matgrad_cli.diff",
                "matgrad_cli.simplify", "matgrad_cli.ir", "matgrad_cli.algebra")
    heavy = {name for name, (_, external) in GRAPH.items()
             if name.startswith(symbolic) and external & {"numpy", "sympy", "rich"}}
    assert heavy == set()
