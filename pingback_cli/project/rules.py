"""The one rule table for function options, read by spec building (``project.specs``) and by
``pingback check`` (``check.options``).

A rule names the option it reads, how bad a breach is, whether the function still loads, a
check that returns the problem (message and fix) or None, and one line for ``check``'s list.
No range or shape is written anywhere else.

What the platform accepts comes from ``runpingback/pingback``
``apps/platform/src/modules/projects/dto/register.dto.ts`` (retries ``@IsInt @Min(0)``, timeout
``@IsString``, concurrency ``@IsInt @Min(1)``) and ``registration.service.ts`` (timeouts, cron
expressions); see ``docs/parity.md#options``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pingback_cli.project.durations import DurationError, read_timeout
from pingback_cli.record import FrozenRecord

Severity = Literal["error", "warning"]

RETRIES_RANGE = range(0, 11)
"""The documented range; the platform takes any whole number from 0 and every plan caps it at
10 or less, so pingback refuses more (a departure, ``docs/parity.md#options``)."""
CONCURRENCY_RANGE = range(1, 11)
"""The documented range; the platform stores any whole number from 1 and never reads it."""


class Problem(FrozenRecord):
    """One breach of a rule: what is wrong, and what to write instead."""

    __slots__ = _fields = ("message", "fix")
    message: str
    fix: str

    def __init__(self, message: str, fix: str) -> None:
        self._set(message, fix)


class OptionRule(FrozenRecord):
    """One check of one option of a function, as the SDK registered it."""

    __slots__ = _fields = ("id", "field", "severity", "loads", "summary", "check")
    id: str
    field: str
    """The option the rule reads: "schedule", "retries", "timeout" or "concurrency"."""
    severity: Severity
    loads: bool
    """Whether the function still loads when this rule finds a problem (False: spec building
    refuses it, as the platform's registration does)."""
    summary: str
    check: Callable[[Any, Mapping[str, Any], float], Problem | None]
    """(the option's value, the whole raw definition, now in unix seconds) -> the problem, or None."""

    def __init__(
        self, id: str, field: str, severity: Severity, loads: bool, summary: str,
        check: Callable[[Any, Mapping[str, Any], float], Problem | None],
    ) -> None:  # fmt: skip
        self._set(id, field, severity, loads, summary, check)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(
    field: str, allowed: range, fix: str
) -> Callable[[Any, Mapping[str, Any], float], Problem | None]:
    def check(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
        if _whole(value) and value in allowed:
            return None
        return Problem(
            f"{field} is {value!r}; the platform accepts a whole number from {allowed[0]} to {allowed[-1]}",
            fix,
        )

    return check


def _invalid_schedule(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
    """A cron schedule the platform's ``cron-parser`` refuses (registration answers 400)."""
    if raw.get("type") != "cron":
        return None
    from pingback_cli.project.cron import GENERIC_FIX, ScheduleError, validate_schedule

    try:
        validate_schedule(value)
    except ScheduleError as exc:
        return Problem(str(exc), exc.fix or GENERIC_FIX)
    return None


def _never_fires(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
    """A schedule the platform accepts, but whose next fire its scheduler never finds."""
    if raw.get("type") != "cron":
        return None
    from pingback_cli.project.cron import GENERIC_FIX, NeverFires, next_fire

    try:
        next_fire(value, now)
    except NeverFires as exc:
        return Problem(str(exc), exc.fix or GENERIC_FIX)
    return None


def _reads_differently(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
    """A schedule the platform accepts but reads unlike standard cron (``project.cron.schedule_notes``)."""
    if raw.get("type") != "cron":
        return None
    from pingback_cli.project.cron import ScheduleError, schedule_notes

    try:
        notes = schedule_notes(value)
    except ScheduleError:
        return None
    if not notes:
        return None
    return Problem("; ".join(message for message, _ in notes), "; ".join(fix for _, fix in notes))


def _timeout_format(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
    try:
        read_timeout(value)
    except DurationError as exc:
        return Problem(str(exc), 'write a whole number of seconds: "30s", "300s" or "3600s"')
    return None


def _timeout_misread(value: Any, raw: Mapping[str, Any], now: float) -> Problem | None:
    """A timeout the platform applies differently from what it says (docs/parity.md#timeouts)."""
    try:
        reading = read_timeout(value)
    except DurationError:
        return None  # timeout-format
    if reading.misread:
        return Problem(
            f"{reading.advice()} (it keeps the number before the first letter: see docs/parity.md#timeouts)",
            f'write it in seconds: timeout="{reading.suggestion}"',
        )
    if reading.seconds <= 0:
        return Problem(
            f'the platform reads "{value}" as {reading.seconds} seconds, so every attempt times out '
            "at once (see docs/parity.md#timeouts)",
            'write a positive number of seconds, e.g. timeout="30s"',
        )
    return None


OPTION_RULES: tuple[OptionRule, ...] = (
    OptionRule(
        "invalid-schedule",
        "schedule",
        "error",
        False,
        "a cron schedule the platform rejects",
        _invalid_schedule,
    ),
    OptionRule(
        "never-fires",
        "schedule",
        "error",
        True,
        "a cron schedule the platform accepts but never fires",
        _never_fires,
    ),
    OptionRule(
        "schedule-reads-differently",
        "schedule",
        "warning",
        True,
        "a cron schedule the platform reads unlike standard cron (4 fields, */61, day-of-month 5L)",
        _reads_differently,
    ),
    OptionRule(
        "retries-range",
        "retries",
        "error",
        False,
        "retries outside 0-10",
        _in_range("retries", RETRIES_RANGE, "set retries=0 (no retry) up to retries=10"),
    ),
    OptionRule(
        "concurrency-range",
        "concurrency",
        "error",
        False,
        "concurrency outside 1-10",
        _in_range("concurrency", CONCURRENCY_RANGE, "set concurrency=1 (one at a time) up to concurrency=10"),
    ),
    OptionRule(
        "timeout-format",
        "timeout",
        "error",
        False,
        "a timeout the platform refuses to register (not a string, or no number where it reads one)",
        _timeout_format,
    ),
    OptionRule(
        "timeout-misread",
        "timeout",
        "error",
        True,
        'a timeout the platform reads as another number of seconds ("5m" is 5 s, "1h" is 1 s)',
        _timeout_misread,
    ),
)
"""Every option rule, in the order spec building and ``check`` apply them."""


def option_problems(
    raw: Mapping[str, Any], now: float | None = None, *, refusals_only: bool = False
) -> list[tuple[OptionRule, Problem]]:
    """Every rule that ``raw`` (``RawFunction.to_json()``'s shape) breaks at ``now`` (unix
    seconds, default the wall clock), with its problem.

    A field is checked by its later rules only while its earlier ones pass, so one bad value
    yields one problem. ``refusals_only`` skips the rules under which a function still loads.
    """
    found: list[tuple[OptionRule, Problem]] = []
    broken: set[str] = set()
    for rule in OPTION_RULES:
        if rule.field in broken or (refusals_only and rule.loads):
            continue
        problem = rule.check(raw.get(rule.field), raw, time.time() if now is None else now)
        if problem is not None:
            found.append((rule, problem))
            broken.add(rule.field)
    return found
