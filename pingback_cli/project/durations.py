"""Durations as the platform writes them: function timeouts, trigger delays, display text."""

from __future__ import annotations

import json
import math
import re

DEFAULT_TIMEOUT_SECONDS = 30
MAX_DELAY_SECONDS = 30 * 24 * 3600

_TIMEOUT_UNITS = {"s": 1, "m": 60, "h": 3600}
_TIMEOUT_RE = re.compile(r"([0-9]+)([smh])")
_NUMBER_RE = re.compile(r"(-?[0-9]+)(?:\.[0-9]+)?")
_DELAY_RE = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)(?:\.[0-9]+)?s)?")
_DELAY_UNITS = (86400, 3600, 60, 1)
_DELAY_FORMS = '"90", "30s", "15m", "2h" or "1d2h30m"'
_MAX_DIGITS = 12
"""Longer amounts are out of any range; int() of thousands of digits raises ValueError."""
_MAX_SHOWN_SECONDS = 1e15


class DurationError(ValueError):
    """A timeout or delay we cannot read, in one readable sentence."""


def parse_timeout(value: str) -> int:
    """A function timeout ("30s", "5m", "1h") in seconds.

    The hosted platform reads "5m" as 5 seconds; we read it as 300.
    """
    if not isinstance(value, str):
        raise DurationError(
            f'timeout must be a string like "30s", "5m" or "1h", not {type(value).__name__} {value!r}'
        )
    match = _TIMEOUT_RE.fullmatch(value.strip())
    if not match:
        raise DurationError(f'timeout {_quoted(value)} is not like "30s", "5m" or "1h"')
    amount, unit = match.groups()
    if len(amount.lstrip("0")) > _MAX_DIGITS:
        raise DurationError(f"timeout {_quoted(value)} is too long to be a timeout")
    if int(amount) == 0:
        raise DurationError(f"timeout {_quoted(value)} must be longer than zero")
    return int(amount) * _TIMEOUT_UNITS[unit]


def _quoted(text: str) -> str:
    """``text`` in double quotes, with a newline or other control character escaped, so an
    error that repeats the user's input stays one line."""
    return json.dumps(text, ensure_ascii=False)


def parse_delay(value: int | float | str) -> int:
    """A trigger delay in whole seconds, between 1 second and 30 days.

    Accepts seconds as a number or digit string, or d/h/m/s units in that order
    ("1d2h30m"); fractional seconds are dropped.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DurationError(
            f"delay must be a number of seconds or a string like {_DELAY_FORMS}, "
            f"not {type(value).__name__} {value!r}"
        )
    if isinstance(value, str):
        seconds = _delay_from_text(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DurationError(f"delay {value!r} is not a number of seconds")
        seconds = math.floor(value)
    else:
        seconds = value
    if not 1 <= seconds <= MAX_DELAY_SECONDS:
        shown = _quoted(value) if isinstance(value, str) else repr(value)
        raise DurationError(
            f"delay {shown} is out of range: it must be between 1 second and 30 days "
            f"({MAX_DELAY_SECONDS} seconds)"
        )
    return seconds


def _delay_from_text(value: str) -> int:
    text = value.strip()
    number = _NUMBER_RE.fullmatch(text)
    if number:
        # Truncating the integer part floors it, except below zero where either
        # way it is out of range.
        return _whole(number.group(1))
    units = _DELAY_RE.fullmatch(text)
    if not text or not units:
        raise DurationError(f"delay {_quoted(value)} is not like {_DELAY_FORMS}")
    return sum(
        _whole(amount) * scale
        for amount, scale in zip(units.groups(), _DELAY_UNITS, strict=True)
        if amount is not None
    )


def _whole(digits: str) -> int:
    # Anything this long is out of range; this also keeps int() clear of
    # Python's limit on the length of integer strings.
    if len(digits.lstrip("-0")) > _MAX_DIGITS:
        return MAX_DELAY_SECONDS + 1
    return int(digits)


def format_duration(seconds: float) -> str:
    """Compact text for display: ``850ms``, ``1.2s``, ``45s``, ``2m05s``, ``1h02m``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = min(max(0.0, float(seconds)), _MAX_SHOWN_SECONDS)
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    tenths = round(seconds * 10)
    if tenths < 100:
        return f"{tenths / 10:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
