"""Trigger delays: one row per branch of the platform's parse-delay.ts (runpingback/pingback
apps/platform/src/utils/parse-delay.ts), with the platform's own messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from property_support import examples

from pingback_cli.project.delay import MAX_DELAY_SECONDS, DelayError, js_string, parse_delay

NOT_POSITIVE = "Delay must be a positive number of seconds"


def invalid(text: str) -> str:
    return f'Invalid delay format: "{text}". Use a number (seconds) or a string like "15m", "2h30m", "1d".'


def too_long(seconds: str) -> str:
    return f"Delay of {seconds}s exceeds maximum of 2592000s (30 days)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),  # :11 absent: now
        (1, 1),  # :17 a number
        (90, 90),
        (0.5, 0),  # :21 floored after the <= 0 check: runs now
        (1.9, 1),
        (59.999, 59),
        (MAX_DELAY_SECONDS, MAX_DELAY_SECONDS),
        (MAX_DELAY_SECONDS + 0.9, MAX_DELAY_SECONDS),  # floored before the maximum check
        ("90", 90),  # :24 a digit string
        ("007", 7),
        ("30s", 30),  # :31 units
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86_400),
        ("1d2h30m15s", 86_400 + 7200 + 1800 + 15),
        ("30s1m", 90),  # any order
        ("1m1m", 120),  # repeats add up
        ("0h1m", 60),
        ("0s5s", 5),
        ("30d", MAX_DELAY_SECONDS),
        ([5], 5),  # String([5]) is "5": parseInt takes it
        ([[7]], 7),
    ],
)
def test_accepted(value: Any, expected: int) -> None:
    assert parse_delay(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, NOT_POSITIVE),  # :18
        (-1, NOT_POSITIVE),
        (-0.5, NOT_POSITIVE),
        (0.0, NOT_POSITIVE),
        ("0", NOT_POSITIVE),  # :26
        ("000", NOT_POSITIVE),
        ("0s", NOT_POSITIVE),  # :40 units summing to zero
        ("0d0h", NOT_POSITIVE),
        (" 15m ", invalid(" 15m ")),  # :33 no spaces
        ("1.5s", invalid("1.5s")),  # no decimals
        ("1.5", invalid("1.5")),
        ("-5", invalid("-5")),  # no sign
        ("+5", invalid("+5")),
        ("", invalid("")),
        ("5M", invalid("5M")),
        ("1h 30m", invalid("1h 30m")),
        ("15m\n", invalid("15m\n")),
        ("1ms", invalid("1ms")),
        ("1e3", invalid("1e3")),
        ("١٢", invalid("١٢")),  # JavaScript's \d is ASCII only
        (True, invalid("true")),  # not a number: String(value) fails the format
        ({"s": 5}, invalid("[object Object]")),
        ([], invalid("")),
        ([1, 2], invalid("1,2")),
        (["15m"], "value.matchAll is not a function"),  # passes the regex, then TypeError
        (MAX_DELAY_SECONDS + 1, too_long("2592001")),  # :46
        ("2592001", too_long("2592001")),
        ("31d", too_long("2678400")),
        ("30d1s", too_long("2592001")),
        ("720h1s", too_long("2592001")),
        (1e21, too_long("1e+21")),
        ("9" * 400, too_long("Infinity")),
        ("9" * 5000 + "s", too_long("Infinity")),
        (float("inf"), too_long("Infinity")),
    ],
)
def test_refused_with_the_platform_message(value: Any, message: str) -> None:
    with pytest.raises(DelayError) as caught:
        parse_delay(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (False, "false"),
        (3, "3"),
        (2.5, "2.5"),
        ([1, None, "a"], "1,,a"),
        ({}, "[object Object]"),
    ],
)
def test_js_string(value: Any, text: str) -> None:
    assert js_string(value) == text


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(deadline=None, max_examples=examples(300))
@given(st.one_of(anything, st.from_regex(r"([0-9]{1,4}[dhms]){1,4}", fullmatch=True)))
@example("9" * 10_000)
@example(float("nan"))
def test_answers_seconds_in_range_or_raises_delay_error(value: Any) -> None:
    try:
        seconds = parse_delay(value)
    except DelayError as exc:
        assert str(exc)
        return
    assert isinstance(seconds, int) and 0 <= seconds <= MAX_DELAY_SECONDS
