"""Trigger delays exactly as the platform parses them.

Source: runpingback/pingback ``apps/platform/src/utils/parse-delay.ts`` (``parseDelay``),
called by ``apps/platform/src/modules/projects/trigger.controller.ts:50-54`` *after* the
task was looked up, every error becoming a 400 with the thrown message.

- absent (``None``): 0, run now;
- a JSON number: refused when ``<= 0`` (parse-delay.ts:18), then floored (:21), so
  ``0.5`` is 0 and runs now;
- a string of ASCII digits: seconds, refused when 0 (:24-28);
- otherwise ``^(\\d+[dhms])+$``: units in any order, repeats allowed (``"30s1m"``,
  ``"1m1m"``), no spaces, no decimals, no sign (:31-33); a sum of 0 is refused (:40);
- anything else (true, an object) is read as JavaScript's ``String(value)`` and fails the
  format check; an array is that too, and one that looks like units reaches
  ``value.matchAll`` and fails with JavaScript's TypeError, which the controller also
  answers with 400;
- at most 30 days (:46).
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_DELAY_SECONDS = 2_592_000
"""30 days (parse-delay.ts:1)."""

_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DIGITS = re.compile(r"[0-9]+")
_UNIT_STRING = re.compile(r"(?:[0-9]+[dhms])+")
_TOKEN = re.compile(r"([0-9]+)([dhms])")
_NOT_POSITIVE = "Delay must be a positive number of seconds"
_JS_EXPONENT_FROM = 1e21
"""JavaScript prints numbers this large in exponent form ("1e+21")."""


class DelayError(ValueError):
    """The platform's 400 for a delay; ``str()`` is its exact message."""


def parse_delay(value: Any) -> int:
    """A trigger's ``delay`` (as decoded from JSON) -> whole seconds from now, 0 for now.

    Raises DelayError with the platform's message for every value the platform refuses.
    """
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not value > 0:  # NaN too (JSON.parse never yields it; Python's json does)
            raise DelayError(_NOT_POSITIVE)
        seconds: float = math.floor(value) if math.isfinite(value) else value
    else:
        seconds = _from_text(value)
    if seconds > MAX_DELAY_SECONDS:
        raise DelayError(f"Delay of {_js_number(seconds)}s exceeds maximum of {MAX_DELAY_SECONDS}s (30 days)")
    return int(seconds)


def _from_text(value: Any) -> float:
    text = js_string(value)
    if _DIGITS.fullmatch(text):
        seconds = _js_int(text)
        if seconds <= 0:
            raise DelayError(_NOT_POSITIVE)
        return seconds
    if not _UNIT_STRING.fullmatch(text):
        raise DelayError(
            f'Invalid delay format: "{text}". Use a number (seconds) or a string like "15m", "2h30m", "1d".'
        )
    if not isinstance(value, str):
        raise DelayError("value.matchAll is not a function")
    total = sum(_js_int(amount) * _UNITS[unit] for amount, unit in _TOKEN.findall(text))
    if total <= 0:
        raise DelayError(_NOT_POSITIVE)
    return total


def _js_int(digits: str) -> float:
    """``parseInt(digits, 10)``: past about 308 digits JavaScript has only Infinity (and
    Python's ``int()`` refuses strings of thousands of digits)."""
    return int(digits) if len(digits.lstrip("0")) <= 308 else math.inf


def js_string(value: Any) -> str:
    """JavaScript's ``String(value)`` for a value decoded from JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _js_number(value)
    if isinstance(value, list):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def _js_number(value: float) -> str:
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if float(value).is_integer() and abs(value) < _JS_EXPONENT_FROM:
        return str(int(value))
    if abs(value) >= _JS_EXPONENT_FROM:
        return repr(float(value))
    return repr(value)
