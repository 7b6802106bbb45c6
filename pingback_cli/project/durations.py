"""Durations as the platform writes them: function timeouts and display text (trigger delays: ``delay``)."""

from __future__ import annotations

import json
import math
import re

from pingback_cli.record import FrozenRecord

DEFAULT_TIMEOUT_SECONDS = 30

_MAX_STORED_SECONDS = 2**31 - 1
"""The platform keeps a timeout in a 32-bit integer column; a larger one fails registration."""
_PLAIN_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WRITTEN_PART_RE = re.compile(
    r"([0-9]+(?:\.[0-9]+)?)\s*(ms|milliseconds?|msecs?|seconds|second|secs?|s|minutes?|mins?|m"
    r"|hours?|hrs?|h|days?|d)(?![a-z])\s*"
)
_WRITTEN_UNITS = {
    **dict.fromkeys(("ms", "millisecond", "milliseconds", "msec", "msecs"), 0.001),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_MAX_DIGITS = 12
"""Longer amounts are out of any range; int() of thousands of digits raises ValueError."""


class DurationError(ValueError):
    """A timeout or delay we cannot read, in one readable sentence."""


class TimeoutReading(FrozenRecord):
    """A function's timeout read twice: as the platform applies it and as a person reads it."""

    __slots__ = _fields = ("text", "seconds", "written")
    text: str | None
    """The timeout as declared; None when unset."""
    seconds: int
    """What the platform applies, in whole seconds (0 or less: every attempt times out at once)."""
    written: float | None
    """What a person reads in ``text``, in seconds; None when it reads as no duration."""

    def __init__(self, text: str | None, seconds: int, written: float | None) -> None:
        self._set(text, seconds, written)

    @property
    def misread(self) -> bool:
        """True when the platform applies something other than what the text says."""
        return self.written is not None and self.written != self.seconds

    @property
    def suggestion(self) -> str:
        """The timeout to write for what the text says: "300s" for "5m" (at least "1s")."""
        return f"{max(1, math.ceil(self.written or 0))}s"

    def advice(self) -> str:
        """'the platform reads "5m" as 5 seconds; write "300s"' (only meaningful when misread)."""
        return (
            f"the platform reads {_quoted(self.text or '')} as {_count(self.seconds, 'second')}; "
            f'write "{self.suggestion}"'
        )


def read_timeout(value: object) -> TimeoutReading:
    """A function timeout as the platform's registration reads it, and as a person does.

    The platform keeps ``parseInt(timeout.replace('s', ''))`` seconds, 30 when the timeout is
    missing or empty (``apps/platform/src/modules/projects/registration.service.ts:54-57`` in
    runpingback/pingback): "30s" is 30, but "5m" is 5, "1h" is 1, "1m30s" is 1 and "90" is 90.
    Raises DurationError for what its registration refuses: a non-string (``register.dto.ts``
    ``@IsString``) or text in which ``parseInt`` finds no number (NaN cannot be stored).
    """
    if value is None or value == "":
        return TimeoutReading(None if value is None else "", DEFAULT_TIMEOUT_SECONDS, None)
    if not isinstance(value, str):
        raise DurationError(
            f'timeout must be a string like "30s", not {type(value).__name__} {value!r}; '
            "the platform refuses to register anything else"
        )
    seconds = js_parse_int(value.replace("s", "", 1))
    if seconds is None:
        raise DurationError(
            f"timeout {_quoted(value)} has no number where the platform looks for one "
            "(it reads the digits before the first letter as seconds)"
        )
    if seconds > _MAX_STORED_SECONDS:
        raise DurationError(f"timeout {_quoted(value)} is more seconds than the platform can store")
    return TimeoutReading(value, seconds, _as_written(value))


def parse_timeout(value: object) -> int:
    """A function timeout in the seconds the platform applies (see :func:`read_timeout`)."""
    return read_timeout(value).seconds


def js_parse_int(text: str) -> int | None:
    """JavaScript's ``parseInt(text)``: leading whitespace, a sign, then decimal digits (or hex
    after "0x"), stopping at the first other character; None where JavaScript gives NaN."""
    rest = text.lstrip()
    sign = -1 if rest.startswith("-") else 1
    if rest[:1] in "+-" and rest:
        rest = rest[1:]
    base, digits = 10, "0123456789"
    if rest[:2].lower() == "0x":
        base, digits, rest = 16, "0123456789abcdef", rest[2:]
    count = 0
    while count < len(rest) and rest[count].lower() in digits and count <= _MAX_DIGITS:
        count += 1
    if count == 0:
        return None
    return sign * int(rest[:count], base)


def _as_written(text: str) -> float | None:
    """Seconds a person reads in ``text`` ("5m" is 300, "1m30s" 90, "90" 90, "500ms" 0.5)."""
    stripped = text.strip().lower()
    if _PLAIN_NUMBER_RE.fullmatch(stripped):
        total = float(stripped)
    else:
        parts = _WRITTEN_PART_RE.findall(stripped)
        if not parts or _WRITTEN_PART_RE.sub("", stripped).strip():
            return None
        total = sum(float(amount) * _WRITTEN_UNITS[unit] for amount, unit in parts)
    return int(total) if total.is_integer() else total


def _count(amount: float, noun: str) -> str:
    return f"{amount:g} {noun}{'' if amount == 1 else 's'}"


def _quoted(text: str) -> str:
    """``text`` in double quotes, with a newline or other control character escaped, so an
    error that repeats the user's input stays one line."""
    return json.dumps(text, ensure_ascii=False)
