"""The static pass of ``pingback check``: read every project file with :mod:`ast` for
declarations (``@pb.cron("name", ...)``) and references (``ctx.task("name", ...)``,
``pb.trigger("name", ...)``) with literal names, without running any of it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pingback_cli.check.report import Finding
from pingback_cli.record import FrozenRecord, Record


class Declaration(FrozenRecord):
    __slots__ = _fields = ("name", "kind", "file", "line", "schedule")

    name: str
    kind: str
    file: str
    line: int
    schedule: str | None
    """A cron's schedule when it is written as a literal string."""

    def __init__(self, name: str, kind: str, file: str, line: int, schedule: str | None = None) -> None:
        self._set(name, kind, file, line, schedule)


class Reference(FrozenRecord):
    """``ctx.task("name", payload)`` or ``pb.trigger("name", payload)`` with a literal name."""

    __slots__ = _fields = ("name", "via", "receiver", "file", "line", "keys", "within", "in_loop")

    name: str
    via: Literal["task", "trigger"]
    receiver: str
    file: str
    line: int
    keys: frozenset[str] | None
    """The payload's keys when it is a dict literal with literal string keys."""
    within: str | None
    """The function (by its platform name) whose handler makes the call, when known."""
    in_loop: bool
    """Whether the call sits inside a loop or comprehension of that handler."""

    def __init__(
        self, name: str, via: Literal["task", "trigger"], receiver: str, file: str, line: int,
        keys: frozenset[str] | None = None, within: str | None = None, in_loop: bool = False,
    ) -> None:  # fmt: skip
        self._set(name, via, receiver, file, line, keys, within, in_loop)


class StaticScan(Record):
    __slots__ = _fields = ("declarations", "references")

    declarations: list[Declaration]
    references: list[Reference]

    def __init__(
        self, declarations: list[Declaration] | None = None, references: list[Reference] | None = None
    ) -> None:
        self.declarations = [] if declarations is None else declarations
        self.references = [] if references is None else references

    def fan_out_sites(self, function: str) -> tuple[int, bool]:
        """(ctx.task call sites in ``function``'s handler, whether any sits in a loop)."""
        sites = [r for r in self.references if r.via == "task" and r.within == function]
        return len(sites), any(r.in_loop for r in sites)


def _final_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal_name(call: ast.Call) -> str | None:
    first: ast.expr | None = call.args[0] if call.args else None
    if first is None:
        first = next((k.value for k in call.keywords if k.arg in ("name", "task_name")), None)
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _literal_schedule(call: ast.Call) -> str | None:
    """The literal schedule of ``@x.cron("name", "* * * * *")`` (or ``schedule=``), else None."""
    second: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    if second is None:
        second = next((k.value for k in call.keywords if k.arg == "schedule"), None)
    if isinstance(second, ast.Constant) and isinstance(second.value, str):
        return second.value
    return None


def _literal_keys(call: ast.Call) -> frozenset[str] | None:
    payload: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    if payload is None:
        payload = next((k.value for k in call.keywords if k.arg == "payload"), None)
    if not isinstance(payload, ast.Dict):
        return None
    keys: set[str] = set()
    for key in payload.keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None  # a **spread or a computed key: unknown
        keys.add(key.value)
    return frozenset(keys)


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None  # the runtime pass reports what stops the project from loading


def _declared_name(decorator: ast.expr) -> str | None:
    """The literal name of ``@x.cron("name", ...)`` / ``@x.task("name")``, else None."""
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ("cron", "task")
    ):
        return _literal_name(decorator)
    return None


def _receivers(trees: Iterable[ast.Module]) -> set[str]:
    """Names bound to Pingback instances: ``x = Pingback(...)`` and ``@x.cron("name")`` receivers."""
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                if _final_name(node.value.func) == "Pingback":
                    found.update(name for target in node.targets if (name := _final_name(target)))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    if _declared_name(decorator) is not None and (
                        name := _final_name(decorator.func.value)  # type: ignore[attr-defined]
                    ):
                        found.add(name)
    return found


_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _Scanner(ast.NodeVisitor):
    """Collects one file's declarations and references, knowing each handler's ctx name."""

    def __init__(self, file: str, receivers: set[str], scan: StaticScan) -> None:
        self.file = file
        self.receivers = receivers
        self.scan = scan
        self.contexts: list[str] = ["ctx"]
        self.handlers: list[str | None] = [None]
        self.loops = 0

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        declared = next((n for d in node.decorator_list if (n := _declared_name(d))), None)
        positional = [*node.args.posonlyargs, *node.args.args]
        self.contexts.append(positional[0].arg if positional else "ctx")
        self.handlers.append(declared or self.handlers[-1])
        loops, self.loops = self.loops, 0
        try:
            for statement in node.body:
                self.visit(statement)
        finally:
            self.contexts.pop()
            self.handlers.pop()
            self.loops = loops

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def generic_visit(self, node: ast.AST) -> None:
        looping = isinstance(node, _LOOPS)
        self.loops += looping
        try:
            super().generic_visit(node)
        finally:
            self.loops -= looping

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        method, receiver = node.func.attr, _final_name(node.func.value)
        name = _literal_name(node)
        if name is None or receiver is None:
            return
        if receiver in self.receivers and method in ("cron", "task"):
            schedule = _literal_schedule(node) if method == "cron" else None
            self.scan.declarations.append(Declaration(name, method, self.file, node.lineno, schedule))
        elif (method == "task" and receiver in ("ctx", self.contexts[-1])) or (
            method == "trigger" and receiver in self.receivers
        ):
            self.scan.references.append(
                Reference(
                    name,
                    method,  # type: ignore[arg-type]
                    receiver,
                    self.file,
                    node.lineno,
                    _literal_keys(node),
                    within=self.handlers[-1],
                    in_loop=self.loops > 0,
                )
            )


def scan_files(files: Iterable[Path], root: Path) -> StaticScan:
    """Declarations and literal-name references across ``files``."""
    trees = [(path, tree) for path in files if (tree := _parse(path)) is not None]
    receivers = _receivers(tree for _, tree in trees)
    scan = StaticScan()
    for path, tree in trees:
        _Scanner(_relative(path, root), receivers, scan).visit(tree)
    return scan


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def duplicate_findings(scan: StaticScan) -> list[Finding]:
    """``duplicate-name``: a second declaration of a name, pointing at the first."""
    first: dict[str, Declaration] = {}
    findings: list[Finding] = []
    for declaration in sorted(scan.declarations, key=lambda d: (d.file, d.line)):
        earlier = first.setdefault(declaration.name, declaration)
        if earlier is declaration:
            continue
        findings.append(
            Finding(
                "duplicate-name",
                "error",
                declaration.file,
                declaration.line,
                f'function "{declaration.name}" is defined again here; it is already defined at '
                f"{earlier.file}:{earlier.line}",
                "give each cron and task a unique name: rename one of them (and its ctx.task calls)",
                declaration.name,
            )
        )
    return findings
