"""Handlers as the SDK calls them (``pingback/client.py``: ``Pingback.task`` and
``_resolve_payload``): ``handler-signature`` findings, and the payload shape a handler takes.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

from pingback_cli.check.report import Finding, Severity, split_source
from pingback_cli.project.loader import RawFunction

_SDK_WRAPPER = "Pingback.task.<locals>.decorator.<locals>.handler"
"""The qualname of the wrapper ``Pingback.task`` puts around handlers it unpacks payloads for."""
_CONTEXT_NAMES = frozenset({"context", "_ctx", "c", "pctx"})
_EMPTY = inspect.Parameter.empty
_P = inspect.Parameter


def declared_handler(handler: Any) -> tuple[Any, bool]:
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


def model_fields(annotation: Any) -> tuple[str, list[str], set[str]] | None:
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


def signature_findings(raw: RawFunction) -> list[Finding]:
    """``handler-signature``: a handler the SDK cannot call the way it calls handlers."""
    file, line = split_source(raw.source)
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
    fn, unpacked = declared_handler(handler)
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
    if kind == "cron":
        _check_cron_payload(params[1], model_fields(hints.get(params[1].name)), shown, name, add)


def _check_cron_payload(
    second: inspect.Parameter, model: Any, shown: str, name: str, add: Callable[..., None]
) -> None:
    """A cron's second parameter gets no payload when its schedule fires."""
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
        elif (model := model_fields(hints.get(parameter.name))) is not None:
            add(
                f"the SDK builds a {model[0]} only for a parameter named payload; {parameter.name} is "
                f"not, so the payload's keys are passed as keyword arguments and {parameter.name} gets "
                f'payload["{parameter.name}"] (a dict, if present), not a {model[0]}',
                f"rename it: def {name}(ctx, payload: {model[0]})",
            )
