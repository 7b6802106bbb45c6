"""The platform's cron grammar: what ``cron-parser`` 4.9.0 accepts, and the fields it reads.

The hosted platform parses schedules with the npm package ``cron-parser`` 4.9.0 in UTC.
This module is our own reading of its ``lib/expression.js`` (``CronExpression.parse``,
``_parseField`` and its inner ``parseSequence``/``parseRepeat``/``parseRange``,
``parseNthDay``, ``_handleMaxDaysInMonth``), quirks included, so that a schedule is
accepted here exactly when the platform accepts it. Pure: standard library only.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

from pingback_cli.record import FrozenRecord

Value = int | str
"""A field value: a number, or (day fields only) a text containing ``L`` kept as written."""

SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK = range(6)
FIELD_NAMES = ("second", "minute", "hour", "day-of-month", "month", "day-of-week")
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""``CronExpression.predefined``: matched against the whole, untrimmed expression."""

DEFAULTS = ("0", "*", "*", "*", "*", "*")
"""``CronExpression.parseDefaults``: missing leading fields take these."""

DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""``CronExpression.daysInMonth``: February always has 29 days."""

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_LIMITS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = (
    {},
    {},
    {},
    {},
    {
        n.lower(): i
        for i, n in enumerate(
            ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
        )
    },
    {n.lower(): i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))},
)
_STANDARD = re.compile(r"[,*0-9/-]+")
_CHARACTERS = (
    _STANDARD,
    _STANDARD,
    _STANDARD,
    re.compile(r"[?,*0-9L/-]+"),
    _STANDARD,
    re.compile(r"[?,*0-9L#/-]+"),
)
ALLOWED = (
    "0-59",
    "0-59",
    "0-23",
    "1-31, or L for the last day of the month",
    "1-12 or JAN-DEC",
    "0-7 or SUN-SAT (0 and 7 are Sunday), 5L for the last Friday of the month, 1#2 for its second Monday",
)

_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_SPLIT = re.compile(f"[{_JS_SPACE}]+")
_JS_TRIM = re.compile(f"^[{_JS_SPACE}]+|[{_JS_SPACE}]+$")
_JS_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JS_PREFIXED = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_ICU_ORDER = {"?": 0, **{str(d): d + 1 for d in range(10)}, "L": 11}


class GrammarError(ValueError):
    """An expression ``cron-parser`` 4.9.0 rejects; the message is one readable sentence."""


class _FieldError(Exception):
    """Why one field is rejected; :func:`parse` adds the expression and field. ``alone``: the
    reason to give instead when the value it names is the whole field (``minute field "61" is
    outside 0-59``, not ``minute field "61" has "61", outside 0-59``)."""

    def __init__(self, reason: str, *, value: str | None = None, alone: str | None = None) -> None:
        super().__init__(reason)
        self.value = value
        self.alone = alone

    def said_of(self, text: str) -> str:
        """The reason for the field written ``text``."""
        return self.alone if self.alone is not None and self.value == text else str(self)


class CronFields(FrozenRecord):
    """The six fields as ``cron-parser`` holds them after parsing, and the texts they came from.

    Each value tuple is sorted the way ``_sortCompareFn`` sorts (numbers first, then texts)
    and keeps duplicates, since the platform counts them. ``nth`` is the ``#`` occurrence
    (0 when absent); ``texts`` are the six field texts after alias and default expansion.
    """

    __slots__ = _fields = ("values", "nth", "texts", "written")

    values: tuple[tuple[Value, ...], ...]
    nth: float
    texts: tuple[str, ...]
    written: int
    """How many fields the expression spelled out (an alias counts as 5)."""

    def __init__(
        self, values: tuple[tuple[Value, ...], ...], nth: float, texts: tuple[str, ...], written: int
    ) -> None:
        self._set(values, nth, texts, written)


def js_number(text: str) -> float:
    """JavaScript's ``Number(text)`` (unary ``+``): ``""`` is 0, hex/octal/binary prefixes, else NaN."""
    text = _JS_TRIM.sub("", text)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if text.startswith("-") else math.inf
    if _JS_PREFIXED.fullmatch(text):
        return float(int(text[2:], {"x": 16, "o": 8, "b": 2}[text[1].lower()]))
    return float(text) if _JS_DECIMAL.fullmatch(text) else math.nan


def quoted(text: str) -> str:
    """Quoted for a one-line message: a newline or tab shows as an escape."""
    return json.dumps(text, ensure_ascii=False)


@lru_cache(maxsize=512)
def parse(expression: str) -> CronFields:
    """The fields ``cron-parser`` 4.9.0 reads from ``expression`` (``CronExpression.parse``).

    1 to 6 whitespace-separated fields are right-aligned onto ``second minute hour
    day-of-month month day-of-week``; missing leading ones default to ``0 * * * *``, so
    ``""`` and ``"5"`` parse. Raises GrammarError naming the field and what it allows.
    """
    written = 5 if expression in ALIASES else 0
    expression = ALIASES.get(expression, expression)
    atoms = _JS_SPLIT.split(_JS_TRIM.sub("", expression))
    if len(atoms) > 6:
        raise GrammarError(
            f"invalid cron expression {quoted(expression)}: it has {len(atoms)} fields; the platform reads "
            "at most 6 (second minute hour day-of-month month day-of-week) or one of " + ", ".join(ALIASES)
        )
    start = 6 - len(atoms)
    texts = [
        atoms[index - start] if index >= start and atoms[index - start] else DEFAULTS[index]
        for index in range(6)
    ]
    nth = 0.0
    values: list[tuple[Value, ...]] = []
    for index, text in enumerate(texts):
        try:
            if index == DAY_OF_WEEK and index >= start:
                text, nth = _split_nth(text)
            values.append(_parse_field(index, text))
        except _FieldError as exc:
            message = _field_message(expression, index, texts[index], exc.said_of(texts[index]))
            raise GrammarError(message + _shifted(len(atoms))) from None
    values[DAY_OF_MONTH] = _fit_month(expression, values[DAY_OF_MONTH], values[MONTH])
    return CronFields(tuple(values), nth, tuple(texts), written or len([a for a in atoms if a]))


def _shifted(count: int) -> str:
    """How the platform lined up fewer than 5 fields, for an error message."""
    if count >= 5:
        return ""
    return f" (the platform reads {count} field{'s' * (count != 1)} as {' '.join(FIELD_NAMES[6 - count :])})"


def _field_message(expression: str, index: int, text: str, reason: str) -> str:
    if index == DAY_OF_WEEK and text in ALIASES:
        return f"invalid cron expression {quoted(expression)}: write the alias {text} alone, without spaces"
    if index == DAY_OF_WEEK and text.startswith("@"):
        return (
            f"invalid cron expression {quoted(expression)}: the platform knows only the aliases "
            + ", ".join(ALIASES)
            + {"@annually": " (write @yearly)", "@midnight": " (write @daily)"}.get(text, "")
        )
    return (
        f"invalid cron expression {quoted(expression)}: {FIELD_NAMES[index]} field {quoted(text)} {reason}; "
        f"allowed: {ALLOWED[index]}, as a list (a,b), range (a-b) or step (*/n)"
    )


def _split_nth(text: str) -> tuple[str, float]:
    """``parseNthDay``: ``"1#2"`` is ("1", 2.0); the occurrence is read with ``Number()``."""
    parts = text.split("#")
    if len(parts) == 1:
        return text, 0.0
    nth = js_number(parts[-1])
    if any(mark in text for mark in ",/-"):
        raise _FieldError('combines "#" with a list, step or range, which the platform refuses')
    if len(parts) > 2 or math.isnan(nth) or not 1 <= nth <= 5:
        raise _FieldError('has an occurrence after "#" outside 1-5')
    return parts[0], nth


def _parse_field(index: int, text: str) -> tuple[Value, ...]:
    """``_parseField``: names, allowed characters, ``*``/``?``, then the comma list."""
    lo, hi = _LIMITS[index]
    if _NAMES[index]:
        text = re.sub(
            "[a-z]{3}", lambda match: _name(index, match.group()), text, flags=re.IGNORECASE | re.ASCII
        )
    if not _CHARACTERS[index].fullmatch(text):
        raise _bad_characters(index, text)
    if "*" in text:
        text = text.replace("*", f"{lo}-{hi}")
    elif "?" in text:
        text = text.replace("?", f"{lo}-{hi}")
    items = text.split(",")
    if not all(items):
        raise _FieldError("has an empty list item")
    stack: list[Value] = []
    for item in items:
        _collect(index, _parse_step(index, item), stack)
    stack.sort(key=_sort_key)
    return tuple(stack)


def _name(index: int, word: str) -> str:
    number = _NAMES[index].get(word.lower())
    if number is None:
        kind = "a month name (JAN-DEC)" if index == MONTH else "a day name (SUN-SAT)"
        raise _FieldError(f"has {quoted(word)}, which is not {kind}")
    return str(number)


def _bad_characters(index: int, text: str) -> _FieldError:
    if index == DAY_OF_MONTH and "W" in text:
        return _FieldError("uses W (nearest weekday), which the platform does not support")
    if index in (DAY_OF_MONTH, DAY_OF_WEEK) and "l" in text:
        return _FieldError("uses a lowercase l; the platform only reads L")
    if not text:
        return _FieldError("is empty")
    bad = next((char for char in text if not _CHARACTERS[index].fullmatch(char)), text[0])
    return _FieldError(
        f"has {quoted(bad)}, which the platform does not accept here",
        value=bad,
        alone="is not a value the platform accepts here",
    )


def _parse_step(index: int, item: str) -> list[Value] | str | float:
    """``parseRepeat``: ``a/n`` is ``a-max/n``; a text step base (``L/2``) drops the step."""
    parts = item.split("/")
    if len(parts) > 2:
        raise _FieldError(f"has {quoted(item)} with more than one /")
    if len(parts) == 1:
        return _parse_range(index, item, 1.0)
    base, step = parts
    if not math.isnan(js_number(base)):
        base = f"{base}-{_LIMITS[index][1]}"
    return _parse_range(index, base, step)


def _parse_range(index: int, item: str, step: float | str) -> list[Value] | str | float:
    """``parseRange``: ``a-b`` (a third bound is ignored) stepped; else a number or a text."""
    lo, hi = _LIMITS[index]
    bounds = item.split("-")
    if len(bounds) == 1:
        number = js_number(item)
        return item if math.isnan(number) else number
    if not bounds[0]:
        if not bounds[1]:
            raise _FieldError(f"has an incomplete range {quoted(item)}")
        return js_number(item)
    first, last = js_number(bounds[0]), js_number(bounds[1])
    if math.isnan(first) or math.isnan(last) or first < lo or last > hi:
        raise _FieldError(f"has the range {quoted(item)}, outside {lo}-{hi}")
    if first > last:
        raise _FieldError(_backwards(index, int(first), int(last)))
    interval = step if isinstance(step, float) else js_number(step)
    if math.isnan(interval) or interval <= 0:
        raise _FieldError(f"has the step {quoted(str(step))}; a step must be a number of 1 or more")
    return _stepped(index, int(first), int(last), interval)


def _backwards(index: int, first: int, last: int) -> str:
    lo, hi = _LIMITS[index]
    hi = 6 if index == DAY_OF_WEEK else hi
    return (
        f"has the range {first}-{last}, which runs backwards; the platform does not wrap "
        f'ranges, write "{first}-{hi},{lo}-{last}"'
    )


def _stepped(index: int, first: int, last: int, interval: float) -> list[Value]:
    """The range's loop in ``parseRange``: its step counter restarts at every value taken.

    In day-of-week a range ending in 7 also takes 0 (Sunday) first, whatever the step.
    """
    taken: list[Value] = [0] if index == DAY_OF_WEEK and last % 7 == 0 else []
    counter = interval
    for value in range(first, last + 1):
        if value not in taken and math.fmod(counter, interval) == 0:
            counter = 1.0
            taken.append(value)
        else:
            counter += 1
    return taken


def _collect(index: int, result: list[Value] | str | float, stack: list[Value]) -> None:
    """``handleResult``: texts with L pass as written (day fields); numbers must be in range."""
    lo, hi = _LIMITS[index]
    for value in result if isinstance(result, list) else [result]:
        if isinstance(value, str) and "L" in value and index in (DAY_OF_MONTH, DAY_OF_WEEK):
            stack.append(value)
            continue
        number = js_number(value) if isinstance(value, str) else float(value)
        if math.isnan(number) or not lo <= number <= hi:
            shown = value if isinstance(value, str) else f"{number:g}"
            raise _FieldError(
                f"has {quoted(shown)}, outside {lo}-{hi}", value=shown, alone=f"is outside {lo}-{hi}"
            )
        if index == DAY_OF_WEEK and not isinstance(result, list):
            number %= 7
        stack.append(int(number))


def _sort_key(value: Value) -> tuple[int, int | tuple[int, ...]]:
    """``_sortCompareFn``: numbers ascending, then texts by ``localeCompare`` (ICU root order)."""
    if isinstance(value, int):
        return (0, value)
    return (1, tuple(_ICU_ORDER.get(char, 99) for char in value))


def _fit_month(expression: str, days: tuple[Value, ...], months: tuple[Value, ...]) -> tuple[Value, ...]:
    """``_handleMaxDaysInMonth``: with a single month, a first day past its end is refused and
    later ones are dropped, and so is every L text except a bare ``L``."""
    if len(months) != 1:
        return days
    month = int(months[0])
    length = DAYS_IN_MONTH[month - 1]
    if isinstance(days[0], int) and days[0] > length:
        name = MONTH_NAMES[month - 1]
        raise GrammarError(
            f"invalid cron expression {quoted(expression)}: day-of-month {days[0]} never occurs in {name}, "
            f"which has {length} days; write L for its last day"
        )
    return tuple(day for day in days if day == "L" or (isinstance(day, int) and day <= length))
