"""The mock's modules depend on each other in one direction only (ARCHITECTURE.md).

The import graph is read from the source with `ast`: every import counts, at module
level, inside functions and under `if TYPE_CHECKING:` alike, since each of them is a
dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MOCKS = Path(__file__).resolve().parents[2] / "mocks"
PACKAGE = "mocks"


def module_name(path: Path, root: Path = MOCKS) -> str:
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], root: Path = MOCKS) -> set[str]:
    """The modules of the package that `path` imports (a package's submodules by name)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = (node.module or "").removeprefix("xsolla_contract.")
            # `from . import x` names a submodule x when there is one, else something of the package
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
        else:
            continue
        for target in targets:
            target = target.removeprefix("xsolla_contract.")
            if target in modules and target != name:
                found.add(target)
    return found


def import_graph(root: Path = MOCKS) -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    return {module_name(f, root): imports_of(f, modules, root) for f in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_mock_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "mocks.engine" in graph and "mocks.rules.prices" in graph and graph["mocks.hooks"], graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in mocks/: " + " -> ".join(cycle)


def test_rules_and_hooks_do_not_import_the_engine_and_the_control_api_not_the_flask_adapter() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith(("mocks.rules", "mocks.hooks", "mocks.resources", "mocks.context")):
            assert "mocks.engine" not in targets, module
    assert "mocks.app" not in graph["mocks.control"]
    for module, targets in graph.items():  # the pages sit between the adapter and the control API
        if not module.startswith(("mocks.pages", "mocks.app", "mocks.__init__")) and module != "mocks":
            assert not any(t.startswith("mocks.pages") for t in targets), module


@pytest.mark.parametrize(
    "files, cycle",
    [
        pytest.param(
            {"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"},
            ["mocks.a", "mocks.b", "mocks.a"],
            id="function-level import",
        ),
        pytest.param(
            {
                "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.c import C\n",
                "sub/__init__.py": "",
                "sub/c.py": "from .. import a\n",
            },
            ["mocks.a", "mocks.sub.c", "mocks.a"],
            id="type-checking import, nested package",
        ),
        pytest.param({"a.py": "from . import b\n", "b.py": "import json\n"}, None, id="no cycle"),
    ],
)
def test_the_check_finds_cycles_of_every_kind_of_import(tmp_path: Path, files: dict[str, str], cycle) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "__init__.py").write_text("")
    assert find_cycle(import_graph(tmp_path)) == cycle
