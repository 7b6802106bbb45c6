"""Turn what the SDK registered into validated ``FunctionSpec``s (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.models import FunctionSpec
from pingback_cli.project.cron import ScheduleError, validate_schedule
from pingback_cli.project.durations import DEFAULT_TIMEOUT_SECONDS, DurationError, parse_timeout

RETRIES_RANGE = range(0, 11)
CONCURRENCY_RANGE = range(1, 11)


class InvalidFunction(ValueError):
    """An option outside what the platform accepts; the message names the function."""


def _label(name: str, source: str | None) -> str:
    return f'function "{name}"' + (f" ({source})" if source else "")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def build_spec(raw: dict[str, Any]) -> FunctionSpec:
    """Validate one function as ``RawFunction.to_json()`` describes it."""
    name = raw.get("name")
    source = raw.get("source")
    if not isinstance(name, str) or not name.strip():
        raise InvalidFunction(f"a function at {source or '?'} has no usable name: {name!r}")
    label = _label(name, source)
    kind = raw.get("type")
    if kind not in ("cron", "task"):
        raise InvalidFunction(f'{label}: type must be "cron" or "task", got {kind!r}')
    schedule = raw.get("schedule")
    if kind == "cron":
        try:
            validate_schedule(schedule)  # type: ignore[arg-type]
        except ScheduleError as exc:
            raise InvalidFunction(f"{label}: {exc}") from None
    else:
        schedule = None
    retries = raw.get("retries", 0)
    if not _whole(retries) or retries not in RETRIES_RANGE:
        raise InvalidFunction(f"{label}: retries must be a whole number from 0 to 10, got {retries!r}")
    concurrency = raw.get("concurrency", 1)
    if not _whole(concurrency) or concurrency not in CONCURRENCY_RANGE:
        raise InvalidFunction(
            f"{label}: concurrency must be a whole number from 1 to 10, got {concurrency!r}"
        )
    timeout = raw.get("timeout")
    if timeout is None:
        seconds: float = DEFAULT_TIMEOUT_SECONDS
    else:
        try:
            seconds = parse_timeout(timeout)
        except DurationError as exc:
            raise InvalidFunction(f"{label}: {exc}") from None
    return FunctionSpec(
        name=name,
        type=kind,
        schedule=schedule,
        retries=retries,
        timeout=timeout,
        timeout_seconds=seconds,
        concurrency=concurrency,
        source=source,
    )


def build_specs(raws: Iterable[dict[str, Any]]) -> list[FunctionSpec]:
    """All specs, or a ProjectError listing every invalid function at once."""
    specs: list[FunctionSpec] = []
    problems: list[str] = []
    for raw in raws:
        try:
            specs.append(build_spec(raw))
        except InvalidFunction as exc:
            problems.append(str(exc))
    if problems:
        first, rest = problems[0], problems[1:]
        raise ProjectError(
            first if not rest else f"{len(problems)} functions have invalid options",
            hint="fix the options to match the platform's ranges, then run again",
            details="\n".join(problems) if rest else None,
        )
    return specs


def suggest(name: str, known: Iterable[str]) -> list[str]:
    """Close matches for a mistyped function name, best first."""
    import difflib

    candidates = list(known)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    prefixed = [c for c in candidates if c.startswith(name) and c not in close]
    return close + prefixed[: 3 - len(close)]
