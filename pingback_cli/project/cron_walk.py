"""Next fire times exactly as ``cron-parser`` 4.9.0 computes them in UTC.

Our own walk after ``CronExpression.prototype._findSchedule`` (``lib/expression.js``) and the
``CronDate`` steps it takes (``lib/date.js``): test the day, then the month, hour, minute and
second, and on a mismatch step that unit forward to the start of the next one. It gives up
after 10,000 steps (``LOOP_LIMIT``), which is how the platform fails on a schedule that never
fires; we count the same steps so we fail on the same ones. Times are integer UTC
milliseconds. Pure: standard library only.
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from pingback_cli.project.cron_grammar import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    DAYS_IN_MONTH,
    HOUR,
    MINUTE,
    MONTH,
    SECOND,
    CronFields,
)
from pingback_cli.record import FrozenRecord

LOOP_LIMIT = 10_000
SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class WalkError(ValueError):
    """``cron-parser`` throws while looking for the next fire; ``kind`` is "limit" or "last-weekday"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class _Plan(FrozenRecord):
    """What the walk tests, precomputed from :class:`CronFields`."""

    __slots__ = _fields = (
        "seconds", "minutes", "hours", "second_list", "minute_list", "hour_list", "days", "months",
        "weekdays", "day_count", "last_day", "last_weekdays", "any_weekday", "nth",
    )  # fmt: skip

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    second_list: tuple[int, ...]
    minute_list: tuple[int, ...]
    hour_list: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_count: int
    last_day: bool
    last_weekdays: tuple[str, ...]
    any_weekday: bool
    nth: float

    def __init__(
        self, seconds: frozenset[int], minutes: frozenset[int], hours: frozenset[int],
        second_list: tuple[int, ...], minute_list: tuple[int, ...], hour_list: tuple[int, ...],
        days: frozenset[int], months: frozenset[int], weekdays: frozenset[int], day_count: int,
        last_day: bool, last_weekdays: tuple[str, ...], any_weekday: bool, nth: float,
    ) -> None:  # fmt: skip
        self._set(
            seconds, minutes, hours, second_list, minute_list, hour_list, days, months, weekdays, day_count,
            last_day, last_weekdays, any_weekday, nth,
        )  # fmt: skip


def _plan(fields: CronFields) -> _Plan:
    def numbers(index: int) -> frozenset[int]:
        return frozenset(value for value in fields.values[index] if isinstance(value, int))

    def in_order(index: int, end: int) -> tuple[int, ...]:
        return tuple(sorted(value for value in numbers(index) if 0 <= value < end))

    days, weekdays = fields.values[DAY_OF_MONTH], fields.values[DAY_OF_WEEK]
    return _Plan(
        seconds=numbers(SECOND),
        minutes=numbers(MINUTE),
        hours=numbers(HOUR),
        second_list=in_order(SECOND, 60),
        minute_list=in_order(MINUTE, 60),
        hour_list=in_order(HOUR, 24),
        days=numbers(DAY_OF_MONTH),
        months=numbers(MONTH),
        weekdays=numbers(DAY_OF_WEEK),
        day_count=len(days),
        last_day=any(isinstance(day, str) for day in days),
        last_weekdays=tuple(day for day in weekdays if isinstance(day, str)),
        any_weekday=len(weekdays) == 8,
        nth=fields.nth,
    )


def fires(fields: CronFields, after_ms: int) -> Iterator[int]:
    """Fire times strictly after ``after_ms``, each found from the one before (``next()``).

    Raises WalkError where ``cron-parser``'s ``next()`` throws: on the 10,000th step of one
    search, or on a day-of-week L text that does not start with a digit.
    """
    plan = _plan(fields)
    current = after_ms
    while True:
        current = _find(plan, current)
        yield current


def _find(plan: _Plan, start: int) -> int:
    """``_findSchedule``: the first instant after ``start`` that matches, counting its steps.

    A step that stays inside one minute, hour or day moves only the second, minute or hour, and
    the walk's tests of the larger units give the same answers until it leaves them: such a run
    of failing steps is taken at once (counted one by one), and a day's tests are done once."""
    now, step = start, 1
    known_day, day_move = -1, None
    while True:
        days = now // DAY_MS
        if days != known_day:
            known_day, day_move = days, _day_step(plan, days)
        moved, steps = (day_move, 1) if day_move is not None else _time_step(plan, now)
        if moved is None:
            if now != start:
                if step >= LOOP_LIMIT:
                    break
                return now
            moved, steps = (now // SECOND_MS + 1) * SECOND_MS, 1
        now, step = moved, step + steps
        if step > LOOP_LIMIT:
            break
    raise WalkError("limit", "no fire time found within cron-parser's 10,000-step search")


def _day_step(plan: _Plan, days: int) -> int | None:
    """The next instant to test when day ``days`` (since the epoch) fails the day or month
    test, or None when it passes both."""
    date = dt.date.fromordinal(_EPOCH_ORDINAL + days)
    if not _day_matches(plan, date, (days + 4) % 7):
        return (days + 1) * DAY_MS
    if date.month not in plan.months:
        following = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
        return (following.toordinal() - _EPOCH_ORDINAL) * DAY_MS
    return None


def _time_step(plan: _Plan, now: int) -> tuple[int | None, int]:
    """On a day that passes: (None, 0) when ``now``'s hour, minute and second match, else (the
    next instant the walk tests outside a run of failing steps, how many steps it takes)."""
    for unit, size, allowed, in_order in (
        (HOUR_MS, DAY_MS, plan.hours, plan.hour_list),
        (MINUTE_MS, HOUR_MS, plan.minutes, plan.minute_list),
        (SECOND_MS, MINUTE_MS, plan.seconds, plan.second_list),
    ):
        value = now % size // unit
        if value not in allowed:
            index = bisect_right(in_order, value)
            target = in_order[index] if index < len(in_order) else size // unit
            return now - now % unit + (target - value) * unit, target - value
    return None, 0


def _day_matches(plan: _Plan, date: dt.date, weekday: int) -> bool:
    """The day tests of ``_findSchedule``: day-of-month OR day-of-week when both are
    restricted, where "restricted" counts values: a day-of-month list as long as the month
    (``1-30`` in April) is unrestricted, and a day-of-week list is unless it has 8 entries."""
    month_length = DAYS_IN_MONTH[date.month - 1] if date.month != 2 else 28 + calendar.isleap(date.year)
    day_match = date.day in plan.days or (plan.last_day and date.day == month_length)
    weekday_match = weekday in plan.weekdays or (
        bool(plan.last_weekdays) and _last_weekday(plan, date, weekday, month_length)
    )
    any_day = plan.day_count >= DAYS_IN_MONTH[date.month - 1]
    if not day_match and (not weekday_match or plan.any_weekday):
        return False
    if any_day and not plan.any_weekday and not weekday_match:
        return False
    return not plan.nth or _nth_matches(date.day, plan.nth)


def _last_weekday(plan: _Plan, date: dt.date, weekday: int, month_length: int) -> bool:
    """``isLastWeekdayOfMonthMatch``: ``5L`` is the last Friday; only the first character
    names the weekday (modulo 7), and one that is not a digit throws."""
    for text in plan.last_weekdays:
        if not text[0].isdigit() or not text[0].isascii():
            raise WalkError("last-weekday", f"the platform cannot read the last-weekday value {text!r}")
        if weekday == int(text[0]) % 7 and date.day + 7 > month_length:
            return True
    return False


def _nth_matches(day: int, nth: float) -> bool:
    """``isNthDayMatch``: the ``#n`` occurrence is the n-th block of 7 days of the month."""
    if day < 8 and nth == 1:
        return True
    occurrence = (day - day % 7) // 7 + (1 if day % 7 else 0)
    return occurrence == nth


WALKED_FIRST = 60
"""Fires :func:`count_between` and :func:`fires_between` walk one by one before they take the
rest day by day."""


def count_between(fields: CronFields, after_ms: int, before_ms: int) -> int:
    """How many fire times :func:`fires` yields from ``after_ms`` before ``before_ms`` (whole
    seconds strictly after the one, strictly before the other), without walking them all.

    The first :data:`WALKED_FIRST` are walked (so a sparse schedule, and one that never fires,
    behave exactly as ``next()`` does, WalkError included); past them the walk's own tests
    take whole days at once: a day that passes the day and month tests fires at every
    (hour, minute, second) of the fields. That is the walk's answer unless one search between
    two fires took 10,000 steps, which only a gap of decades between fires can. A year of an
    every-minute cron: 365 day tests instead of 525,600 searches.
    """
    walked, more = _walk_first(fields, after_ms, before_ms)
    if not more:
        return len(walked)
    plan = _plan(fields)
    times = _times_of_day(plan)
    whole = (0, _DAY_SECONDS - 1)
    return len(walked) + sum(
        len(times) if (low, high) == whole else bisect_right(times, high) - bisect_left(times, low)
        for _, low, high in _days(plan, walked[-1] // SECOND_MS + 1, _last_second(before_ms))
    )


def fires_between(fields: CronFields, after_ms: int, before_ms: int) -> Iterator[int]:
    """:func:`fires` from ``after_ms`` up to ``before_ms`` (excluded), as :func:`count_between`
    finds them: walked at first, then day by day."""
    walked, more = _walk_first(fields, after_ms, before_ms)
    yield from walked
    if not more:
        return
    plan = _plan(fields)
    times = _times_of_day(plan)
    for day, low, high in _days(plan, walked[-1] // SECOND_MS + 1, _last_second(before_ms)):
        start = day * _DAY_SECONDS
        for offset in times[bisect_left(times, low) : bisect_right(times, high)]:
            yield (start + offset) * SECOND_MS


def _walk_first(fields: CronFields, after_ms: int, before_ms: int) -> tuple[list[int], bool]:
    """The first :data:`WALKED_FIRST` fires before ``before_ms``, and whether more may follow."""
    walked: list[int] = []
    for at in fires(fields, after_ms):
        if at >= before_ms:
            return walked, False
        walked.append(at)
        if len(walked) == WALKED_FIRST:
            return walked, True
    return walked, False  # pragma: no cover - fires() never ends


_DAY_SECONDS = DAY_MS // SECOND_MS


def _last_second(before_ms: int) -> int:
    """The last whole second strictly before ``before_ms``."""
    return -(-before_ms // SECOND_MS) - 1


def _times_of_day(plan: _Plan) -> list[int]:
    """Every second of a day (from midnight) the hour, minute and second fields allow, sorted."""
    return sorted(
        h * 3600 + m * 60 + s
        for h in plan.hours
        if 0 <= h < 24
        for m in plan.minutes
        if 0 <= m < 60
        for s in plan.seconds
        if 0 <= s < 60
    )


def _days(plan: _Plan, first: int, last: int) -> Iterator[tuple[int, int, int]]:
    """(day since the epoch, first second, last second of it in range) for each day from the
    one holding unix second ``first`` to the one holding ``last`` that passes the walk's day
    and month tests."""
    for days in range(first // _DAY_SECONDS, last // _DAY_SECONDS + 1) if last >= first else ():
        date = dt.date.fromordinal(_EPOCH_ORDINAL + days)
        if _day_matches(plan, date, (days + 4) % 7) and date.month in plan.months:
            low = max(first - days * _DAY_SECONDS, 0)
            yield days, low, min(last - days * _DAY_SECONDS, _DAY_SECONDS - 1)
