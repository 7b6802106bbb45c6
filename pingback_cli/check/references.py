"""References between functions: ``unknown-task`` (a literal name no function defines) and
``payload-keys`` (a literal payload whose keys do not fit the handler)."""

from __future__ import annotations

import inspect
import typing

from pingback_cli.check.report import Finding
from pingback_cli.check.scan import StaticScan
from pingback_cli.check.signatures import declared_handler, model_fields
from pingback_cli.project.loader import RawFunction

_EMPTY = inspect.Parameter.empty
_P = inspect.Parameter


def reference_findings(scan: StaticScan, raws: list[RawFunction]) -> list[Finding]:
    """Literal names that no function defines, and literal payloads that do not fit."""
    from pingback_cli.project.specs import did_you_mean

    by_name = {raw.name: raw for raw in raws}
    defined = set(by_name) | {d.name for d in scan.declarations}
    findings: list[Finding] = []
    for ref in scan.references:
        call = f'{ref.receiver}.{ref.via}("{ref.name}", ...)'
        if ref.name not in defined:
            close = did_you_mean(ref.name, defined)
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
                    close or f'define it with @pb.task("{ref.name}"), or fix the name',
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
    fn, unpacked = declared_handler(handler)
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
        model = model_fields(hints.get(params[1].name))
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
