"""The architecture's arrows, checked: the forbidden imports of ``shared/design.md`` (as
import-linter contracts in ``pyproject.toml``) and no import cycle between our modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    found = Path(sys.executable).with_name("lint-imports")
    return str(found) if found.exists() else shutil.which("lint-imports") or "lint-imports"


def test_forbidden_imports_are_absent() -> None:
    done = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    modules = sorted(m for m in graph.modules if m.startswith("pingback_cli"))
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith("pingback_cli") or _package_of(imported, module):
                continue
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in modules:
        if module not in state and (found := visit(module)):
            return found
    return None


def _package_of(package: str, module: str) -> bool:
    """``pingback_cli.engine`` is imported by its own modules as their package: not a cycle."""
    return module.startswith(package + ".")


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("pingback_cli", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
