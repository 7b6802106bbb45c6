"""``pingback check``: find what would go wrong on the platform before deploying.

Two passes. A static one reads every project file with :mod:`ast` for declarations
(``@pb.cron("name", ...)``) and references (``ctx.task("name", ...)``,
``pb.trigger("name", ...)``) with literal names. A runtime one imports the project as
``pingback ls`` does and checks each function's raw definition (before validation, so
invalid options become findings instead of a load error) and its handler against the
way the SDK calls it (``pingback/client.py``: ``Pingback.task`` and ``_resolve_payload``).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import time
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pingback_cli.errors import ExitCode, ProjectError
from pingback_cli.project.config import ProjectConfig, load_env
from pingback_cli.project.discovery import quiet_sdk_log
from pingback_cli.project.files import project_files
from pingback_cli.project.loader import RawFunction, load_project

Severity = Literal["error", "warning"]

RULES: dict[str, str] = {
    "invalid-schedule": "a cron schedule the platform rejects",
    "never-fires": "a cron schedule that matches no date",
    "timeout-over-interval": "a timeout longer than the time between two fires (concurrency 1)",
    "runs-outpace-concurrency": "a cron fires more often than its runs can finish under its concurrency",
    "retries-range": "retries outside 0-10",
    "concurrency-range": "concurrency outside 1-10",
    "timeout-format": 'a timeout that is not like "30s", "5m" or "1h"',
    "timeout-unit": 'a timeout in minutes or hours, which the hosted platform reads as seconds ("5m" is 5 s)',
    "unknown-task": "ctx.task() or pb.trigger() with a literal name that no function defines",
    "duplicate-name": "two functions with the same name",
    "handler-signature": "a handler the SDK cannot call the way it calls handlers",
    "payload-keys": "a literal payload whose keys do not fit the task's parameters",
}
"""Every rule, by id."""

_SDK_WRAPPER = "Pingback.task.<locals>.decorator.<locals>.handler"
"""The qualname of the wrapper ``Pingback.task`` puts around handlers it unpacks payloads for."""
_CONTEXT_NAMES = frozenset({"context", "_ctx", "c", "pctx"})
_EMPTY = inspect.Parameter.empty
_P = inspect.Parameter


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    file: str | None
    line: int | None
    message: str
    fix: str
    function: str | None = None

    @property
    def location(self) -> str:
        if self.file is None:
            return "?"
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "location": self.location,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class CheckReport:
    root: Path
    findings: list[Finding]
    functions: int
    files: int
    skipped: str | None = None
    """Why the runtime rules did not run, when they did not."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def exit_code(self) -> ExitCode:
        """1 with any error; warnings alone pass."""
        return ExitCode.EXECUTION_FAILED if self.errors else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "functions": self.functions,
            "files": self.files,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "skipped": self.skipped,
            "findings": [finding.to_json() for finding in self.findings],
        }


# --- the static pass ----------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    name: str
    kind: str
    file: str
    line: int


@dataclass(frozen=True)
class Reference:
    """``ctx.task("name", payload)`` or ``pb.trigger("name", payload)`` with a literal name."""

    name: str
    via: Literal["task", "trigger"]
    receiver: str
    file: str
    line: int
    keys: frozenset[str] | None = None
    """The payload's keys when it is a dict literal with literal string keys."""


@dataclass
class StaticScan:
    declarations: list[Declaration] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


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
                    if (
                        isinstance(decorator, ast.Call)
                        and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr in ("cron", "task")
                        and _literal_name(decorator) is not None
                        and (name := _final_name(decorator.func.value))
                    ):
                        found.add(name)
    return found


class _Scanner(ast.NodeVisitor):
    """Collects one file's declarations and references, knowing each handler's ctx name."""

    def __init__(self, file: str, receivers: set[str], scan: StaticScan) -> None:
        self.file = file
        self.receivers = receivers
        self.scan = scan
        self.contexts: list[str] = ["ctx"]

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        positional = [*node.args.posonlyargs, *node.args.args]
        self.contexts.append(positional[0].arg if positional else "ctx")
        try:
            for statement in node.body:
                self.visit(statement)
        finally:
            self.contexts.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        method, receiver = node.func.attr, _final_name(node.func.value)
        name = _literal_name(node)
        if name is None or receiver is None:
            return
        if receiver in self.receivers and method in ("cron", "task"):
            self.scan.declarations.append(Declaration(name, method, self.file, node.lineno))
        elif method == "task" and receiver in ("ctx", self.contexts[-1]):
            self.scan.references.append(
                Reference(name, "task", receiver, self.file, node.lineno, _literal_keys(node))
            )
        elif method == "trigger" and receiver in self.receivers:
            self.scan.references.append(
                Reference(name, "trigger", receiver, self.file, node.lineno, _literal_keys(node))
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


def _split_source(source: str | None) -> tuple[str | None, int | None]:
    if not source:
        return None, None
    file, _, line = source.rpartition(":")
    return (file, int(line)) if line.isdigit() and file else (source, None)


def duplicate_findings(scan: StaticScan) -> list[Finding]:
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


# --- the runtime pass ---------------------------------------------------------------------


def check_project(config: ProjectConfig, *, now: float | None = None) -> CheckReport:
    """Every finding for the project at ``config``; ProjectError when it cannot load at all."""
    now = time.time() if now is None else now
    files = project_files(config.root)
    scan = scan_files(files, config.root)
    duplicates = duplicate_findings(scan)
    load_env(config.root)
    try:
        with quiet_sdk_log():
            raws = load_project(config)
    except ProjectError as exc:
        if not duplicates:
            raise
        # Duplicates alone stop the project from loading; report them as findings.
        return CheckReport(
            config.root,
            _sorted(duplicates),
            functions=len({d.name for d in scan.declarations}),
            files=len(files),
            skipped=f"the other rules need the project to load, and it does not: {exc.message}",
        )
    findings: list[Finding] = []
    for raw in raws:
        findings.extend(check_function(raw, now))
    findings.extend(reference_findings(scan, raws))
    return CheckReport(config.root, _sorted(findings), functions=len(raws), files=len(files))


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file or "", f.line or 0, f.rule, f.message))


def check_function(raw: RawFunction, now: float) -> list[Finding]:
    """Options and handler signature of one function, as the SDK registered it."""
    data = raw.to_json()
    file, line = _split_source(raw.source)
    name = raw.name
    found: list[Finding] = []

    def add(rule: str, severity: Severity, message: str, fix: str) -> None:
        found.append(Finding(rule, severity, file, line, f'{data["type"]} "{name}": {message}', fix, name))

    schedule_ok = data["type"] == "cron" and _check_schedule(data["schedule"], now, add)
    retries = data["retries"]
    if not _whole(retries) or not 0 <= retries <= 10:
        add(
            "retries-range",
            "error",
            f"retries is {retries!r}; the platform accepts a whole number from 0 to 10",
            "set retries=0 (no retry) up to retries=10",
        )
    concurrency = data["concurrency"]
    concurrency_ok = _whole(concurrency) and 1 <= concurrency <= 10
    if not concurrency_ok:
        add(
            "concurrency-range",
            "error",
            f"concurrency is {concurrency!r}; the platform accepts a whole number from 1 to 10",
            "set concurrency=1 (one at a time) up to concurrency=10",
        )
    seconds = _check_timeout(data["timeout"], add)
    if schedule_ok and seconds is not None and concurrency_ok:
        _check_overlap(data["schedule"], seconds, concurrency, now, add)
    found.extend(_signature_findings(raw, file, line))
    return found


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Add = Callable[[str, Severity, str, str], None]


def _check_schedule(schedule: Any, now: float, add: Add) -> bool:
    """The platform refuses it (invalid-schedule), or accepts it and never fires it (never-fires)."""
    from pingback_cli.project.cron import GENERIC_FIX, NeverFires, ScheduleError, next_fire, validate_schedule

    try:
        validate_schedule(schedule)
        next_fire(schedule, now)
    except NeverFires as exc:
        add("never-fires", "error", str(exc), exc.fix or GENERIC_FIX)
        return False
    except ScheduleError as exc:
        add("invalid-schedule", "error", str(exc), exc.fix or GENERIC_FIX)
        return False
    return True


def _check_timeout(timeout: Any, add: Add) -> float | None:
    """The timeout in seconds (the default when unset), or None when it is invalid."""
    from pingback_cli.project.durations import DEFAULT_TIMEOUT_SECONDS, DurationError, parse_timeout

    if timeout is None:
        return float(DEFAULT_TIMEOUT_SECONDS)
    try:
        seconds = parse_timeout(timeout)
    except DurationError as exc:
        add("timeout-format", "error", str(exc), 'write a whole number and a unit: "30s", "5m" or "1h"')
        return None
    if not timeout.strip().endswith("s"):
        add(
            "timeout-unit",
            "warning",
            f'timeout "{timeout}" is {seconds} seconds here, but the hosted platform reads '
            f'"{timeout.strip()}" as {_seconds(int(timeout.strip()[:-1]))}',
            f'write it in seconds: timeout="{seconds}s"',
        )
    return float(seconds)


def _seconds(count: int) -> str:
    return f"{count} second{'' if count == 1 else 's'}"


def _check_overlap(schedule: str, seconds: float, concurrency: int, now: float, add: Add) -> None:
    """Compares the timeout with the shortest real gap between fires (``project.cron.intervals``)."""
    from pingback_cli.project.cron import ScheduleError, intervals
    from pingback_cli.project.durations import format_duration

    try:
        cadence = intervals(schedule, now)
    except ScheduleError:
        return
    gap = cadence.shortest
    if seconds <= gap * concurrency:
        return
    limit = format_duration(seconds)
    needed = -(-int(seconds) // int(gap))
    more = f"raise concurrency to {needed}" if needed <= 10 else "split the work into tasks"
    if concurrency == 1:
        add(
            "timeout-over-interval",
            "warning",
            f"it fires {cadence.phrase()}, but its timeout is {limit}: while a slow run is still going, "
            "the next fire is skipped (concurrency 1)",
            f'lower the timeout to at most "{int(gap)}s", fire less often, or {more} to let runs overlap',
        )
    else:
        add(
            "runs-outpace-concurrency",
            "warning",
            f"it fires {cadence.phrase()}, and each run may take up to {limit}, so more than "
            f"{concurrency} runs (its concurrency) can be due at once and the extra fires are skipped",
            f'{more}, lower the timeout to "{int(gap * concurrency)}s", or fire less often',
        )


# --- handlers, as the SDK calls them --------------------------------------------------------


def _declared_handler(handler: Any) -> tuple[Any, bool]:
    """(the user's function, whether the SDK passes the payload's keys as keyword arguments).

    ``Pingback.task`` wraps a handler whose parameters besides ``ctx`` are not exactly one
    named ``payload`` in ``handler(ctx)`` that calls ``fn(ctx, **payload)``.
    """
    code = getattr(handler, "__code__", None)
    closure = getattr(handler, "__closure__", None)
    if getattr(handler, "__qualname__", "") == _SDK_WRAPPER and code is not None and closure:
        cells = dict(zip(code.co_freevars, closure, strict=False))
        if "fn" in cells:
            try:
                return cells["fn"].cell_contents, True
            except ValueError:
                pass
    return handler, False


def _model_fields(annotation: Any) -> tuple[str, list[str], set[str]] | None:
    """(type name, required fields, all fields) for a dataclass or pydantic model annotation."""
    if not isinstance(annotation, type):
        return None
    if dataclasses.is_dataclass(annotation):
        fields = [f for f in dataclasses.fields(annotation) if f.init]
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        return annotation.__name__, required, {f.name for f in fields}
    model_fields = getattr(annotation, "model_fields", None)
    if isinstance(model_fields, dict) and any(
        base.__module__.startswith("pydantic") for base in annotation.__mro__[1:]
    ):
        required = [n for n, info in model_fields.items() if getattr(info, "is_required", lambda: False)()]
        return annotation.__name__, required, set(model_fields)
    return None


def _hints(fn: Any) -> dict[str, Any]:
    """``fn``'s resolved annotations; {} when they cannot be resolved."""
    try:
        return typing.get_type_hints(fn)
    except Exception:
        return {}


def _signature_findings(raw: RawFunction, file: str | None, line: int | None) -> list[Finding]:
    kind = raw.definition.get("type")
    handler = raw.definition.get("handler")
    found: list[Finding] = []

    def add(message: str, fix: str, severity: Severity = "error") -> None:
        found.append(
            Finding(
                "handler-signature", severity, file, line, f'{kind} "{raw.name}": {message}', fix, raw.name
            )
        )

    if not callable(handler):
        add(f"the handler is {type(handler).__name__}, not a function", "decorate a function")
        return found
    fn, unpacked = _declared_handler(handler)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return found
    shown = f"{getattr(fn, '__name__', 'handler')}{signature}"
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        add(
            f"{shown} is async, but the SDK calls handlers without awaiting them: the run "
            "returns an un-awaited coroutine and its body never executes",
            "make it a plain def (call async code with asyncio.run inside it)",
        )
    elif inspect.isgeneratorfunction(fn):
        add(
            f"{shown} is a generator (it yields), so the SDK gets a generator object back "
            "and the body never runs",
            "return the result instead of yielding it",
        )
    if unpacked:
        _check_unpacked(fn, signature, shown, add)
    else:
        _check_direct(kind, handler, signature, shown, add)
    return found


def _check_direct(
    kind: Any, handler: Any, signature: inspect.Signature, shown: str, add: Callable[..., None]
) -> None:
    """The SDK calls ``handler(ctx, payload)`` with 2+ parameters, else ``handler(ctx)``."""
    params = list(signature.parameters.values())
    name = getattr(handler, "__name__", "handler")
    if not params:
        add(
            f"{shown} takes no parameters, but the SDK calls it with the execution context",
            f"def {name}(ctx): ..."
            + (" (a task reads its payload as ctx.payload)" if kind == "task" else ""),
        )
        return
    passes_payload = len(params) >= 2
    call = "ctx, payload" if passes_payload else "ctx"
    try:
        signature.bind(*(object() for _ in range(2 if passes_payload else 1)))
    except TypeError as exc:
        fix = (
            f"a cron gets no payload: def {name}(ctx): ..."
            if kind == "cron"
            else f"take (ctx) or (ctx, payload), or name the payload's keys: def {name}(ctx, id, to)"
        )
        add(f"the SDK calls {name}({call}), which {shown} cannot take: {exc}", fix)
        return
    if not passes_payload:
        if kind == "task" and params[0].name == "payload":
            add(
                f"{shown} has one parameter named payload, but the SDK passes the execution "
                "context to it, not the payload",
                f"def {name}(ctx, payload): ... or def {name}(ctx) and read ctx.payload",
                "warning",
            )
        return
    try:
        hints = typing.get_type_hints(handler)
    except Exception as exc:
        add(
            f"the SDK reads {shown}'s type hints on every call, and that raises {type(exc).__name__}: {exc}",
            "import the annotated types at module level (not only under TYPE_CHECKING), "
            "or remove the annotation",
        )
        return
    second = params[1]
    model = _model_fields(hints.get(second.name))
    if kind != "cron":
        return
    if model is not None and model[1]:
        type_name, required, _ = model
        add(
            f"a cron has no payload when its schedule fires, so the SDK calls {type_name}() "
            f"for {second.name}, which fails: {', '.join(required)} "
            f"{'is' if len(required) == 1 else 'are'} required",
            f"def {name}(ctx): ..., or give {', '.join(required)} default values",
        )
    elif model is None and second.default is _EMPTY and second.kind is not _P.VAR_POSITIONAL:
        add(
            f"{shown} takes a second parameter, but a cron has no payload when its schedule "
            f"fires: {second.name} is None then",
            f"def {name}(ctx): ..., or make it optional: {second.name}=None",
            "warning",
        )


def _check_unpacked(fn: Any, signature: inspect.Signature, shown: str, add: Callable[..., None]) -> None:
    """The SDK calls ``fn(ctx, **payload)`` when a parameter is named ctx, else ``fn(**payload)``."""
    params = list(signature.parameters.values())
    name = getattr(fn, "__name__", "handler")
    has_ctx = any(p.name == "ctx" for p in params)
    if has_ctx and params[0].name != "ctx":
        add(
            f"the SDK passes the execution context as the first argument, but {shown} "
            f"has ctx in another place",
            f"put ctx first: def {name}(ctx, ...)",
        )
        return
    hints = _hints(fn)
    first = params[0]
    if not has_ctx and (
        first.name in _CONTEXT_NAMES or getattr(hints.get(first.name), "__name__", "") == "Context"
    ):
        add(
            f"the SDK passes the execution context only to a parameter named ctx, so in {shown} "
            f"{first.name} is taken from the payload's keys (and is missing)",
            f"rename {first.name} to ctx",
        )
        return
    extras = [p for p in params if p.name != "ctx"]
    for parameter in extras:
        if parameter.kind is _P.POSITIONAL_ONLY:
            add(
                f"{parameter.name} is positional-only, but the SDK passes the payload's keys "
                "as keyword arguments",
                "remove the / from the parameter list",
            )
        elif parameter.kind in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
            continue
        elif parameter.name == "payload":
            others = ", ".join(p.name for p in extras if p is not parameter)
            add(
                f"because {shown} has parameters besides ctx and payload ({others}), the SDK "
                f'passes the payload\'s keys as keyword arguments: payload gets payload["payload"], '
                "not the whole payload",
                f"take only (ctx, payload), or drop payload and name each key: def {name}(ctx, {others})",
            )
        elif (model := _model_fields(hints.get(parameter.name))) is not None:
            add(
                f"the SDK builds a {model[0]} only for a parameter named payload; {parameter.name} is "
                f"not, so the payload's keys are passed as keyword arguments and {parameter.name} gets "
                f'payload["{parameter.name}"] (a dict, if present), not a {model[0]}',
                f"rename it: def {name}(ctx, payload: {model[0]})",
            )


# --- references ----------------------------------------------------------------------------


def reference_findings(scan: StaticScan, raws: list[RawFunction]) -> list[Finding]:
    """Literal names that no function defines, and literal payloads that do not fit."""
    from pingback_cli.project.specs import suggest

    by_name = {raw.name: raw for raw in raws}
    defined = set(by_name) | {d.name for d in scan.declarations}
    findings: list[Finding] = []
    for ref in scan.references:
        call = f'{ref.receiver}.{ref.via}("{ref.name}", ...)'
        if ref.name not in defined:
            close = suggest(ref.name, defined)
            consequence = (
                "the platform skips it with only a warning"
                if ref.via == "task"
                else "the platform answers 404 and pb.trigger() raises"
            )
            findings.append(
                Finding(
                    "unknown-task",
                    "error",
                    ref.file,
                    ref.line,
                    f"{call} names no function defined in this project; {consequence}",
                    f"did you mean {' or '.join(repr(c) for c in close)}?"
                    if close
                    else f'define it with @pb.task("{ref.name}"), or fix the name',
                )
            )
            continue
        raw = by_name.get(ref.name)
        if raw is not None and ref.keys is not None:
            problem = _payload_problem(raw, ref.keys)
            if problem:
                findings.append(
                    Finding("payload-keys", "error", ref.file, ref.line, f"{call}: {problem[0]}", problem[1])
                )
    return findings


def _payload_problem(raw: RawFunction, keys: frozenset[str]) -> tuple[str, str] | None:
    """(message, fix) when a dict literal's keys cannot fill the handler's parameters."""
    handler = raw.definition.get("handler")
    if not callable(handler):
        return None
    fn, unpacked = _declared_handler(handler)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    shown = getattr(fn, "__name__", "handler")
    if unpacked:
        extras = [p for p in params if p.name != "ctx"]
        if any(p.kind is _P.POSITIONAL_ONLY for p in extras):
            return None  # reported as handler-signature
        accepted = {p.name for p in extras if p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY)}
        required = [p.name for p in extras if p.name in accepted and p.default is _EMPTY]
        open_ended = any(p.kind is _P.VAR_KEYWORD for p in extras)
        what = f"{shown}() takes the payload's keys as keyword arguments"
    else:
        if len(params) < 2:
            return None
        try:
            hints = typing.get_type_hints(handler)
        except Exception:
            return None
        model = _model_fields(hints.get(params[1].name))
        if model is None:
            return None
        type_name, required, fields = model
        accepted, open_ended = fields, False
        what = f"{shown}() builds a {type_name} from the payload"
    missing = [key for key in required if key not in keys]
    unexpected = [] if open_ended else sorted(keys - accepted)
    if not missing and not unexpected:
        return None
    parts = []
    if missing:
        parts.append(f"lacks {', '.join(repr(k) for k in missing)}")
    if unexpected:
        parts.append(f"has {', '.join(repr(k) for k in unexpected)}, which it does not accept")
    return (
        f"{what}, and this payload {' and '.join(parts)}",
        f"send exactly the keys {shown}() takes: {', '.join(sorted(accepted)) or 'none'}",
    )
