"""The import graph of the tree: dependencies point one way between apps, and no module cycle hides anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each app may import only the apps before it; config (settings, urls, the home page) may import them all.
LAYERS = ["core", "casework", "places", "referrals", "meetings", "indicators", "config"]


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Return the project modules a file imports (function-level imports too unless top_level_only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif top_level_only and isinstance(node, ast.If):
            continue  # TYPE_CHECKING blocks: not imported at run time
    return {name for name in names if name in MODULES}


def test_every_import_points_down_the_layers():
    upward = []
    for module, path in MODULES.items():
        own = LAYERS.index(module.split(".")[0])
        for imported in _imports(path, top_level_only=False):
            if LAYERS.index(imported.split(".")[0]) > own:
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_no_module_cycle_not_even_through_a_function_level_import():
    graph = {module: _imports(path, top_level_only=False) - {module} for module, path in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_apps_are_importable_on_their_own(app):
    """Every app module imports cleanly (no module relies on another being imported first)."""
    import importlib

    for module in sorted(m for m in MODULES if m.split(".")[0] == app):
        importlib.import_module(module)
