"""Reading the instants and spans a test passes: ``"2026-12-01T02:59:00Z"``, a datetime, ``"1d"``,
``"2h30m"``, a timedelta or a number of seconds."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Where platform time starts in every test, unless set."""

_SPAN = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

Instant = datetime | str | float | int
Span = timedelta | str | float | int


def instant(value: Instant) -> float:
    """Unix seconds for an aware datetime, an ISO-8601 string (``Z`` or an offset; UTC when it
    has neither) or unix seconds. ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a point in time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValueError(
                f'{value!r} is not a point in time: write ISO-8601 like "2026-12-01T02:59:00Z"'
            ) from None
    if not isinstance(value, datetime):
        raise ValueError(f"not a point in time: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def span(value: Span) -> float:
    """Seconds for a timedelta, a number, or text in the platform's delay units (``"1d2h"``,
    ``"15m"``, ``"90"``), weeks allowed and no 30-day cap. ValueError for a negative span."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _text_span(value)
    else:
        raise ValueError(f"not a duration: {value!r}")
    if seconds < 0:
        raise ValueError(f"time only moves forward; {value!r} is negative")
    return seconds


def _text_span(value: str) -> float:
    text = value.strip().replace(" ", "")
    try:
        return float(text)
    except ValueError:
        pass
    if not text or _SPAN.sub("", text):
        raise ValueError(f'{value!r} is not a duration: write "90", "15m", "1d" or "1d2h30m"')
    return sum(float(amount) * _UNITS[unit] for amount, unit in _SPAN.findall(text))
