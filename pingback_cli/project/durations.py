"""Durations as the platform writes them: function timeouts and display text (trigger delays: ``delay``)."""

from __future__ import annotations

import json
import math
import re

DEFAULT_TIMEOUT_SECONDS = 30

_TIMEOUT_UNITS = {"s": 1, "m": 60, "h": 3600}
_TIMEOUT_RE = re.compile(r"([0-9]+)([smh])")
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
