"""Cron schedules: validation, next fire times and human descriptions.

Schedules are standard 5-field cron expressions evaluated in UTC; times are float
unix seconds. croniter and cron-descriptor are imported on first use, so importing
this module stays cheap.
"""

from __future__ import annotations

import json
import threading
import time
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from croniter import croniter

FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_ALLOWED = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
_SPANS = (60, 24, 31, 12, 7)
"""How many distinct values each field has; a larger step can only ever hit one."""

_FIRES_WITHIN_YEARS = 5
_INTERVAL_SAMPLE = 50

# A cached croniter keeps its current time as state; the lock makes
# "set the start, then step forward" atomic across threads.
_lock = threading.Lock()


class ScheduleError(ValueError):
    """A cron schedule Pingback would not accept, in one readable sentence."""


def validate_schedule(expr: str) -> None:
    """Raise ScheduleError unless ``expr`` is a 5-field cron that fires within ~5 years."""
    _compile(expr)


def next_fire(expr: str, after: float) -> float:
    """The first fire time strictly after ``after``."""
    return next_fires(expr, after, 1)[0]


def next_fires(expr: str, after: float, count: int) -> list[float]:
    """The next ``count`` fire times strictly after ``after``, in order."""
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    from croniter import CroniterBadDateError

    cron = _compile(expr)
    with _lock:
        cron.set_current(after, force=True)
        try:
            return [cron.get_next(float) for _ in range(count)]
        except CroniterBadDateError as exc:
            raise ScheduleError(f"cron expression {_quoted(expr)} does not fire again") from exc


def typical_interval(expr: str, after: float) -> float:
    """The smallest gap in seconds between consecutive fires among the next ~50."""
    fires = next_fires(expr, after, _INTERVAL_SAMPLE)
    return min(later - earlier for earlier, later in pairwise(fires))


def describe(expr: str) -> str:
    """A human description ("Every 15 minutes"); the expression itself if that fails."""
    if not isinstance(expr, str):
        return str(expr)
    return _describe(expr)


@lru_cache(maxsize=256)
def _describe(expr: str) -> str:
    try:
        from cron_descriptor import ExpressionDescriptor, Options

        # An explicit locale keeps the text stable and avoids cron-descriptor's
        # "no system locale" warning.
        options = Options(locale_code="en_US", use_24hour_time_format=True)
        return str(ExpressionDescriptor(expr, options).get_description())
    except Exception:
        return str(expr)


def _compile(expr: str) -> croniter:
    """A validated croniter for ``expr``, shared between calls."""
    if not isinstance(expr, str):
        raise ScheduleError(
            f'a cron schedule must be a string like "*/15 * * * *", not {type(expr).__name__}'
        )
    return _compile_str(expr)


@lru_cache(maxsize=256)
def _compile_str(expr: str) -> croniter:
    # Invalid expressions raise, and lru_cache does not keep exceptions.
    from croniter import CroniterBadDateError, CroniterError, croniter

    fields = expr.split()
    if len(fields) != len(FIELD_NAMES):
        noun = "field" if len(fields) == 1 else "fields"
        raise ScheduleError(
            f"{_quoted(expr)} has {len(fields)} {noun}; Pingback schedules have 5 ({' '.join(FIELD_NAMES)})"
        )
    for index, field in enumerate(fields):
        _check_steps(expr, index, field)
    normalized = " ".join(fields)
    try:
        cron = croniter(normalized, 0.0)
    except CroniterError as exc:
        raise ScheduleError(_explain(expr, fields, exc)) from exc
    try:
        croniter(normalized, time.time(), max_years_between_matches=_FIRES_WITHIN_YEARS).get_next(float)
    except CroniterBadDateError as exc:
        raise ScheduleError(
            f"cron expression {_quoted(expr)} never fires: no date matches it in the next "
            f"{_FIRES_WITHIN_YEARS} years"
        ) from exc
    return cron


def _check_steps(expr: str, index: int, field: str) -> None:
    # croniter quietly reads "*/61" in the minute field as "minute 0"; reject it.
    for part in field.split(","):
        _, slash, step = part.partition("/")
        if slash and step.isdecimal() and int(step) > _SPANS[index]:
            raise ScheduleError(
                f"invalid cron expression {_quoted(expr)}: {FIELD_NAMES[index]} field {_quoted(field)} "
                f"has step {int(step)}, more than its {_SPANS[index]} possible values"
            )


def _explain(expr: str, fields: list[str], error: Exception) -> str:
    """Name the first field croniter rejects on its own, else repeat croniter's reason."""
    from croniter import CroniterError, croniter

    for index, field in enumerate(fields):
        probe = ["*"] * len(fields)
        probe[index] = field
        try:
            croniter.expand(" ".join(probe))
        except CroniterError:
            return (
                f"invalid cron expression {_quoted(expr)}: {FIELD_NAMES[index]} field {_quoted(field)} "
                f"is not valid (allowed values {_ALLOWED[index]})"
            )
    return f"invalid cron expression {_quoted(expr)}: {error}"


def _quoted(text: str) -> str:
    """Quoted for a one-line message: a newline or tab in a schedule shows as an escape."""
    return json.dumps(text, ensure_ascii=False)
