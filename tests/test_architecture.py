"""The architecture's arrows, checked: the forbidden imports of ``shared/design.md`` (as
import-linter contracts in ``pyproject.toml``) and no import cycle between our modules."""

from __future__ import annotations

import ast
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


# --- size -------------------------------------------------------------------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
OVERSIZE: dict[str, str] = {
    # {qualified name: why it may stay over the limit}. A module is "pingback_cli.a.b", a
    # function "pingback_cli.a.b:Class.method". An entry that is no longer over the limit
    # fails the test too, so this list only shrinks to what has a reason.
}


def _sizes() -> dict[str, int]:
    """Every module (lines) and function (lines from ``def`` to its last line) of the package."""
    sizes: dict[str, int] = {}
    package = ROOT / "pingback_cli"
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        sizes[module] = len(text.splitlines())
        _function_sizes(ast.parse(text), f"{module}:", sizes)
    return sizes


def _function_sizes(node: ast.AST, prefix: str, sizes: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            sizes[name] = (child.end_lineno or child.lineno) - child.lineno + 1
            _function_sizes(child, name + ".", sizes)
        elif isinstance(child, ast.ClassDef):
            _function_sizes(child, prefix + child.name + ".", sizes)


def _oversize() -> dict[str, int]:
    return {
        name: lines
        for name, lines in _sizes().items()
        if lines > (MAX_FUNCTION_LINES if ":" in name else MAX_MODULE_LINES)
    }


def test_no_module_over_400_lines_and_no_function_over_60() -> None:
    unexplained = {name: lines for name, lines in _oversize().items() if name not in OVERSIZE}
    assert not unexplained, (
        f"over {MAX_MODULE_LINES} lines (module) or {MAX_FUNCTION_LINES} (function): {unexplained}; "
        "split it by concept, or add it to OVERSIZE with the reason it must stay"
    )


def test_every_size_exception_is_still_needed() -> None:
    oversize = _oversize()
    stale = [name for name in OVERSIZE if name not in oversize]
    assert not stale, f"no longer over the limit, remove from OVERSIZE: {stale}"


def test_the_size_check_sees_a_long_method() -> None:
    body = "\n".join(f"        x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    sizes: dict[str, int] = {}
    _function_sizes(ast.parse(f"class A:\n    def f(self):\n{body}\n"), "m:", sizes)
    assert sizes == {"m:A.f": MAX_FUNCTION_LINES + 1}
