"""Cron schedules as the platform reads them: validation, next fire times, cadence, descriptions.

The grammar and the walk are the platform's (``cron-parser`` 4.9.0 in UTC, see
:mod:`cron_grammar` and :mod:`cron_walk`); this module is the API the rest of Pingback uses.
Times are float unix seconds. cron-descriptor is imported on first use, so importing this
module stays cheap. Pure: imports nothing of the emulator.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice, pairwise

from pingback_cli.models import utc_datetime
from pingback_cli.project.cron_grammar import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    DAYS_IN_MONTH,
    MONTH,
    MONTH_NAMES,
    CronFields,
    GrammarError,
    parse,
    quoted,
)
from pingback_cli.project.cron_walk import WalkError, count_between, fires, fires_between
from pingback_cli.record import FrozenRecord

FIELD_NAMES = ("second", "minute", "hour", "day-of-month", "month", "day-of-week")
GENERIC_FIX = (
    "write 5 fields (minute hour day-of-month month day-of-week), 6 with a leading second, "
    'or an alias like @daily, in UTC, e.g. "*/15 * * * *"'
)
_LIMITS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_SAMPLE = 60
_SAMPLE_SPAN = 400 * 86400.0
_UNITS = (("month", 0), ("day", 86400), ("hour", 3600), ("minute", 60))
_NAME_WORDS = frozenset(
    {*(name[:3].upper() for name in MONTH_NAMES), "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)
"""Month and day names: a schedule of words made of these alone is cron, however odd."""


class ScheduleError(ValueError):
    """A cron schedule the platform refuses or never fires, in one readable sentence.

    ``fix`` is one sentence proposing what to write instead, when there is one.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class NeverFires(ScheduleError):
    """The platform accepts the schedule, but its scheduler finds no next fire time."""


def validate_schedule(expr: str) -> None:
    """Raise ScheduleError unless the platform's ``cron-parser`` 4.9.0 accepts ``expr``.

    Acceptance is exactly ``CronExpression.parse`` (``lib/expression.js``): 1 to 6 fields,
    the five aliases. A schedule it accepts may still never fire: see :func:`next_fire`.
    """
    _fields(expr)


def next_fire(expr: str, after: float) -> float:
    """The first fire time strictly after ``after`` (unix seconds); NeverFires if there is none."""
    return next_fires(expr, after, 1)[0]


def next_fires(expr: str, after: float, count: int) -> list[float]:
    """The next ``count`` fire times (unix seconds, whole seconds) strictly after ``after``.

    Computed like ``CronExpression.prototype.next`` (``lib/expression.js``) from the
    millisecond ``after`` falls in. Raises ScheduleError for an invalid ``expr`` and
    NeverFires where the platform's ``next()`` throws.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    fields = _fields(expr)
    try:
        return [ms / 1000 for ms in islice(fires(fields, math.floor(after * 1000)), count)]
    except WalkError as exc:
        raise _never_fires(expr, fields, exc) from None


def count_fires(expr: str, after: float, before: float) -> int:
    """How many fire times :func:`fires_in` lists between ``after`` and ``before`` (unix
    seconds, both excluded), counted whole days at a time (``cron_walk.count_between``).
    ScheduleError for an invalid ``expr``; NeverFires where the platform's ``next()`` throws."""
    fields = _fields(expr)
    try:
        return count_between(fields, math.floor(after * 1000), math.ceil(before * 1000))
    except WalkError as exc:
        raise _never_fires(expr, fields, exc) from None


def fires_in(expr: str, after: float, before: float) -> Iterator[float]:
    """The fire times (unix seconds) strictly between ``after`` and ``before``, in order, as
    :func:`next_fires` finds them, but whole days at a time past the first few
    (``cron_walk.fires_between``); errors as :func:`count_fires`, when iteration reaches them."""
    fields = _fields(expr)
    try:
        for ms in fires_between(fields, math.floor(after * 1000), math.ceil(before * 1000)):
            yield ms / 1000
    except WalkError as exc:
        raise _never_fires(expr, fields, exc) from None


class Cadence(FrozenRecord):
    """The gaps between consecutive fires (seconds) over a sample of upcoming fires.

    ``typical`` is the most common gap and ``others`` the least and greatest of the rest
    (None when every gap is ``typical``); ``across`` names the unit ("month", "day", "hour",
    "minute") whose boundary exactly the other gaps span, as with ``*/7 * * * *``: 7 minutes,
    then 4 across the hour."""

    __slots__ = _fields = ("typical", "shortest", "longest", "others", "across")

    def __init__(
        self, typical: float, shortest: float, longest: float, others: tuple[float, float] | None,
        across: str | None,
    ) -> None:  # fmt: skip
        self._set(typical, shortest, longest, others, across)

    @property
    def regular(self) -> bool:
        """Whether every gap is the same."""
        return self.others is None

    def phrase(self) -> str:
        """Plain words: "every 7 minutes within the hour; the gap across the hour is 4 minutes"."""
        if self.others is None:
            return f"every {_every(self.typical)}"
        if self.across is not None:
            return (
                f"every {_every(self.typical)} within the {self.across}; "
                f"the gap across the {self.across} is {_span(*self.others)}"
            )
        return f"every {_span(self.shortest, self.longest)}, most often {_plain(self.typical)}"


def intervals(expr: str, after: float) -> Cadence:
    """The cadence of the fires after ``after``: ~60 of them, or those within ~400 days.

    Both ``pingback ls`` and ``pingback check`` describe a schedule's rhythm from this.
    Raises ScheduleError when ``expr`` is invalid, NeverFires when it fires fewer than twice.
    """
    fields = _fields(expr)
    times: list[float] = []
    try:
        for ms in fires(fields, math.floor(after * 1000)):
            times.append(ms / 1000)
            if len(times) >= _SAMPLE or (len(times) >= 3 and times[-1] - after > _SAMPLE_SPAN):
                break
    except WalkError as exc:
        if len(times) < 2:
            raise _never_fires(expr, fields, exc) from None
    if len(times) < 2:
        raise NeverFires(f"cron expression {quoted(expr)} fires only once more")
    gaps = [later - earlier for earlier, later in pairwise(times)]
    # The gap that never spans a unit's boundary while all others do is the typical one (*/45
    # seconds: 45, then 15 across the minute, whichever is counted more); else the commonest.
    ranked = [gap for gap, _ in sorted(Counter(gaps).items(), key=lambda item: (-item[1], item[0]))]
    typical = next((gap for gap in ranked if _across(times, gap)), ranked[0])
    rest = [gap for gap in gaps if gap != typical]
    others = (min(rest), max(rest)) if rest else None
    return Cadence(typical, min(gaps), max(gaps), others, _across(times, typical) if rest else None)


def schedule_notes(expr: str) -> list[tuple[str, str]]:
    """(message, fix) for each part of a valid ``expr`` the platform reads unlike standard cron.

    Fewer than 5 fields (``CronExpression.parse`` right-aligns them), a step past the field's
    range (``parseRepeat`` keeps only its first value) and a day-of-month L text other than
    ``L`` (``isLInExpressions``: any of them is the last day). Raises ScheduleError if invalid.
    """
    fields = _fields(expr)
    notes: list[tuple[str, str]] = []
    if fields.written < 5:
        from pingback_cli.project.cron_text import canonical

        notes.append(
            (
                f"cron expression {quoted(expr)} has {fields.written} field{'s' * (fields.written != 1)}; "
                f'the platform fills the missing leading ones, reading it as "{canonical(fields) or expr}" '
                f"({describe(expr)})",
                "write all 5 fields: minute hour day-of-month month day-of-week",
            )
        )
    for index, text in enumerate(fields.texts):
        for item in text.split(","):
            base, _, step = item.partition("/")
            low, high = _LIMITS[index]
            if step.isdigit() and int(step) > high - low + 1 and base in ("*", str(low)):
                notes.append(
                    (
                        f"{FIELD_NAMES[index]} field {quoted(text)} steps by {int(step)}, more than its "
                        f"{high - low + 1} values, so the platform takes only {low}",
                        f"write {low} if that is meant, or a step of at most {high - low + 1}",
                    )
                )
    if any(isinstance(day, str) and day != "L" for day in fields.values[DAY_OF_MONTH]):
        notes.append(
            (
                f"day-of-month field {quoted(fields.texts[DAY_OF_MONTH])} is the last day of the month on "
                "the platform, whatever the number next to the L",
                "write L for the last day of the month, or put 5L in day-of-week for its last Friday",
            )
        )
    return notes


def typical_interval(expr: str, after: float) -> float:
    """The shortest real gap in seconds between consecutive upcoming fires (:func:`intervals`)."""
    return intervals(expr, after).shortest


def _across(times: list[float], typical: float) -> str | None:
    """The largest unit whose boundary every non-typical gap spans and no typical gap does."""
    for unit, _ in _UNITS:
        if all(
            (later - earlier != typical) == _crosses(unit, earlier, later)
            for earlier, later in pairwise(times)
        ):
            return unit
    return None


def _crosses(unit: str, earlier: float, later: float) -> bool:
    if unit == "month":
        first, second = utc_datetime(earlier), utc_datetime(later)
        return (first.year, first.month) != (second.year, second.month)
    size = dict(_UNITS)[unit]
    return earlier // size != later // size


def _plain(seconds: float) -> str:
    """A gap in the largest whole unit: "4 minutes", "1 day", "90 seconds"."""
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {name}{'' if count == 1 else 's'}"
    count = int(seconds) if seconds == int(seconds) else seconds
    return f"{count} second{'' if count == 1 else 's'}"


def _every(seconds: float) -> str:
    text = _plain(seconds)
    return text.split(" ", 1)[1] if text.startswith("1 ") else text


def _span(first: float, last: float) -> str:
    if first == last:
        return _plain(first)
    low, high = _plain(first).split(" "), _plain(last).split(" ")
    return (
        f"{low[0]} to {' '.join(high)}"
        if low[1].rstrip("s") == high[1].rstrip("s")
        else (f"{' '.join(low)} to {' '.join(high)}")
    )


def describe(expr: str) -> str:
    """A human description ("Every 15 minutes") of what the platform will do with ``expr``.

    Described from the fields as the platform reads them (``*/61`` is "At 0 minutes past the
    hour"); the expression itself when it is invalid or cron-descriptor fails.
    """
    if not isinstance(expr, str):
        return str(expr)
    return _describe(expr)


@lru_cache(maxsize=256)
def _describe(expr: str) -> str:
    from pingback_cli.project.cron_text import canonical

    try:
        text = canonical(parse(expr))
    except GrammarError:
        return expr
    if text is None:
        return expr
    try:
        from cron_descriptor import ExpressionDescriptor, Options

        # An explicit locale keeps the text stable and avoids cron-descriptor's
        # "no system locale" warning.
        options = Options(locale_code="en_US", use_24hour_time_format=True)
        return str(ExpressionDescriptor(text, options).get_description())
    except Exception:
        return expr


def _fields(expr: str) -> CronFields:
    if not isinstance(expr, str):
        raise ScheduleError(
            f'a cron schedule must be a string like "*/15 * * * *", not {type(expr).__name__}', GENERIC_FIX
        )
    try:
        return parse(expr)
    except GrammarError as exc:
        raise _common_mistake(expr) or ScheduleError(str(exc), _grammar_fix(expr, str(exc))) from None


_INTERVAL = re.compile(
    r"(?:@?every\s*)?(\d+)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)", re.IGNORECASE
)


def _common_mistake(expr: str) -> ScheduleError | None:
    """A refused schedule that is not cron at all, said as such: another scheduler's
    ``@every 5m``, an interval like ``5m``, or a word (``bogus``); None for a cron
    expression with a bad field, which the grammar's own message explains best."""
    from pingback_cli.project.cron_grammar import ALIASES

    text = expr.strip()
    interval = _INTERVAL.fullmatch(text)
    fix = GENERIC_FIX
    if interval:
        count, unit = int(interval[1]), interval[2][0].lower()
        fix = {
            "s": f'write "*/{count} * * * * *" (6 fields, seconds first)',
            "m": f'write "*/{count} * * * *"',
        }.get(unit, f'write "0 */{count} * * *"')
    if text.startswith("@") and len(text.split()) > 1 and text.split()[0] not in ALIASES:
        word = text.split()[0]  # one word alone: the grammar's message names the aliases
        said = f"{quoted(word)} is not supported by the platform's parser (cron-parser 4.9.0 knows only"
        return ScheduleError(f"{said} {', '.join(ALIASES)})", fix)
    if interval:
        return ScheduleError(f"{quoted(text)} is an interval, not a cron expression", fix)
    if re.fullmatch(r"[A-Za-z]+(?:\s+[A-Za-z0-9]+)*", text) and not re.search(r"[*/,\-]", text):
        words = text.split()
        if not all(word.upper()[:3] in _NAME_WORDS for word in words):
            return ScheduleError(f"{quoted(text)} is not a cron expression", fix)
    return None


def _grammar_fix(expr: str, message: str) -> str:
    if "never occurs in" in message:
        fields = list(parse_texts(expr))
        fields[DAY_OF_MONTH] = "L"
        return f'fire on its last day instead: "{_join(fields)}"'
    return GENERIC_FIX


def parse_texts(expr: str) -> tuple[str, ...]:
    """The six field texts of ``expr`` (aliases expanded, missing leading fields defaulted)."""
    from pingback_cli.project.cron_grammar import ALIASES, DEFAULTS

    atoms = ALIASES.get(expr, expr).split()[-6:]
    return DEFAULTS[: 6 - len(atoms)] + tuple(atoms)


def _join(texts: list[str] | tuple[str, ...]) -> str:
    """Six field texts as an expression, without the seconds field when it is the default 0."""
    return " ".join(texts[1:] if texts[0] == "0" else texts)


def _never_fires(expr: str, fields: CronFields, error: WalkError) -> NeverFires:
    """Why the platform's ``next()`` finds nothing, naming the months and days at fault."""
    texts = list(fields.texts)
    if error.kind == "last-weekday":
        weekday = texts[DAY_OF_WEEK]
        digits = "".join(char for char in weekday if char.isdigit())
        texts[DAY_OF_WEEK] = f"{digits[0]}L" if digits else "5L"
        return NeverFires(
            f"cron expression {quoted(expr)} is accepted by the platform, but its scheduler fails on "
            f"day-of-week {quoted(weekday)}: the last weekday of the month is written day first (5L is "
            "the last Friday)",
            f'write "{_join(texts)}"' + ("" if digits else ", or L in day-of-month for the last day"),
        )
    months = sorted({value for value in fields.values[MONTH] if isinstance(value, int)})
    days = [value for value in fields.values[DAY_OF_MONTH] if isinstance(value, int)]
    longest = max(DAYS_IN_MONTH[month - 1] for month in months)
    if days and len(fields.values[DAY_OF_WEEK]) == 8 and min(days) > longest:
        texts[DAY_OF_MONTH] = "L"
        shown = " or ".join(str(day) for day in sorted(set(days)))
        names = _names([MONTH_NAMES[month - 1] for month in months])
        return NeverFires(
            f"cron expression {quoted(expr)} never fires: day {shown} never occurs in {names}",
            f"fire on the last day of {'each of those months' if len(months) > 1 else names} instead: "
            f'"{_join(texts)}"',
        )
    return NeverFires(
        f"cron expression {quoted(expr)} never fires: the platform's scheduler finds no date for it "
        "within its 10,000-step search",
        GENERIC_FIX,
    )


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
