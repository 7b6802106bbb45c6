"""Turn what the SDK registered into validated ``FunctionSpec``s (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.models import FunctionSpec
from pingback_cli.project.durations import read_timeout
from pingback_cli.project.rules import option_problems


class InvalidFunction(ValueError):
    """An option the platform would refuse; the message names the function, ``fix`` (when
    known) says what to write instead."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def _label(name: str, source: str | None) -> str:
    return f'function "{name}"' + (f" ({source})" if source else "")


def build_spec(raw: dict[str, Any]) -> FunctionSpec:
    """Validate one function as ``RawFunction.to_json()`` describes it, by the rule table
    (``project.rules``); raises InvalidFunction for the first rule that refuses it.

    The timeout is the one the platform applies ("5m" is 5 seconds); ``timeout_written`` keeps
    what the text says when that differs.
    """
    name = raw.get("name")
    source = raw.get("source")
    if not isinstance(name, str) or not name.strip():
        raise InvalidFunction(f"a function at {source or '?'} has no usable name: {name!r}")
    label = _label(name, source)
    kind = raw.get("type")
    if kind not in ("cron", "task"):
        raise InvalidFunction(f'{label}: type must be "cron" or "task", got {kind!r}')
    options = {"retries": 0, "concurrency": 1, **raw}
    for _, problem in option_problems(options, refusals_only=True):
        raise InvalidFunction(f"{label}: {problem.message}", problem.fix)
    timeout = read_timeout(raw.get("timeout"))
    return FunctionSpec(
        name=name,
        type=kind,
        schedule=raw.get("schedule") if kind == "cron" else None,
        retries=options["retries"],
        timeout=raw.get("timeout"),
        timeout_seconds=max(0, timeout.seconds),
        concurrency=options["concurrency"],
        source=source,
        timeout_written=timeout.written if timeout.misread else None,
    )


def build_specs(raws: Iterable[dict[str, Any]]) -> list[FunctionSpec]:
    """All specs, or a ProjectError listing every invalid function at once."""
    specs: list[FunctionSpec] = []
    problems: list[str] = []
    fixes: list[str | None] = []
    for raw in raws:
        try:
            specs.append(build_spec(raw))
        except InvalidFunction as exc:
            problems.append(str(exc))
            fixes.append(exc.fix)
    if problems:
        first, rest = problems[0], problems[1:]
        fix = fixes[0] if not rest and fixes[0] else "fix the options to match the platform's ranges"
        raise ProjectError(
            first if not rest else f"{len(problems)} functions have invalid options",
            hint=f"{fix}, then run again",
            details="\n".join(problems) if rest else None,
        )
    return specs


def suggest(name: str, known: Iterable[str]) -> list[str]:
    """Close matches for a mistyped function name, best first, at most 3: the same name in
    another case, then names alike (difflib's ratio of at least 0.7, ignoring case), then
    names it starts. Every command and the pytest fixture suggest through this one rule."""
    import difflib

    candidates = list(known)
    by_lower: dict[str, list[str]] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), []).append(candidate)
    lowered = name.lower()
    alike = difflib.get_close_matches(lowered, list(by_lower), n=3, cutoff=0.7)
    found = [original for match in alike for original in by_lower[match]]
    found += [c for c in candidates if c.lower().startswith(lowered) and c not in found]
    return [c for c in found if c != name][:3]


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """``did you mean 'a' or 'b'?`` from ``suggest``; None when nothing is close."""
    close = suggest(name, known)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
