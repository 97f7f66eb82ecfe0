"""No import cycles in ``mtrl/`` and ``envs/``: every import, function-local ones included, read with ``ast``.

An edge goes from a module to the module it names: ``import mtrl.x.y`` and ``from mtrl.x import y`` (``y`` a
module) both point at ``mtrl.x.y`` only, not at the packages above it; ``from mtrl.x import name`` (``name`` not a
module) points at ``mtrl.x`` (its ``__init__``). A cycle is a strongly connected component of more than one module,
or a module importing itself.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mtrl", "envs")


def module_name(path: Path) -> str:
    """``mtrl/runs/layout.py`` -> ``mtrl.runs.layout``; ``mtrl/runs/__init__.py`` -> ``mtrl.runs``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file under the packages."""
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (at ``path``) imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = set(files)
    return {module: imported_modules(module, path, known) for module, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph`` (iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycle_through(graph: dict[str, set[str]], members: Iterable[str]) -> list[str]:
    """One cycle inside a strongly connected component, as ``[a, b, ..., a]`` (shortest back to its first)."""
    members = sorted(members)
    inside = set(members)
    start = members[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & inside):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    nxt.append(child)
        frontier = nxt
    return members


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle of ``graph``: one example path per strongly connected component of more than one module,
    and every module importing itself."""
    found = [cycle_through(graph, c) for c in strongly_connected(graph) if len(c) > 1]
    return found + [[m, m] for m in sorted(graph) if m in graph[m]]


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_from_imports_resolve_to_modules(tmp_path):
    """As if ``mtrl/runs/mod.py``: relative imports, ``from package import module``, function-local imports."""
    source = tmp_path / "mod.py"
    source.write_text("from . import layout\nfrom .checkpoint import list_checkpoints\nfrom .. import config\n"
                      "def f():\n    import mtrl.runs.lock\n    from mtrl.evaluate import evaluate\n")
    known = set(source_files())
    assert imported_modules("mtrl.runs.mod", source, known) == {
        "mtrl.runs.layout", "mtrl.runs.checkpoint", "mtrl.config", "mtrl.runs.lock", "mtrl.evaluate"}


def test_no_import_cycles():
    graph = import_graph()
    assert "mtrl.runs.checkpoint" in graph["mtrl.train"], "the graph misses the trainer's imports"
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


# ---------------------------------------------------------------------------------------------- light imports


@pytest.mark.parametrize("module", ["mtrl.config", "mtrl.config_help", "mtrl.cli"])
def test_the_config_imports_without_torch(module):
    """``mtrl config`` (and parsing any command line) reads the config dataclasses without loading torch."""
    code = (f"import sys, {module}; loaded = [m for m in sys.modules if m.split('.')[0] == 'torch']; "
            "assert not loaded, loaded")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr


def test_the_torch_free_names_are_the_registries_keys():
    """The config validates against torch-free tuples of names; each one lists its registry's keys, in order."""
    from mtrl.agents.registry import AGENTS
    from mtrl.names import AGENT_EXTRAS, AGENT_NAMES
    from mtrl.nets.layers import ACTIVATIONS
    from mtrl.nets.net_config import ACTIVATION_NAMES, ENCODER_NAMES
    from mtrl.nets.network import ENCODERS

    assert tuple(AGENTS) == AGENT_NAMES
    assert set(AGENT_EXTRAS) <= set(AGENT_NAMES)
    assert tuple(ENCODERS) == ENCODER_NAMES
    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
