from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_cli.project.durations import (
    DEFAULT_TIMEOUT_SECONDS,
    DurationError,
    format_duration,
    parse_timeout,
)

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def test_constants() -> None:
    assert DEFAULT_TIMEOUT_SECONDS == 30


def test_errors_are_value_errors() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30s", 30),
        ("1s", 1),
        ("90s", 90),
        ("5m", 300),
        ("1h", 3600),
        ("24h", 86400),
        (" 2h ", 7200),
        ("\t10s\n", 10),
        ("05m", 300),
    ],
)
def test_parse_timeout(value: str, expected: int) -> None:
    assert parse_timeout(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "5 minutes",
        "5",
        "",
        "   ",
        "s",
        "5M",
        "5 m",
        "1.5h",
        "-5s",
        "+5s",
        "1d",
        "1h30m",
        "5ms",
        "m5",
    ],
)
def test_parse_timeout_rejects(value: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_timeout(value)
    assert str(caught.value) == f'timeout "{value}" is not like "30s", "5m" or "1h"'


@pytest.mark.parametrize("value", ["0s", "0m", "0h", "00s"])
def test_parse_timeout_rejects_zero(value: str) -> None:
    with pytest.raises(DurationError, match=f'timeout "{value}" must be longer than zero'):
        parse_timeout(value)


@pytest.mark.parametrize("value", [30, 30.0, None, True, b"30s"])
def test_parse_timeout_rejects_non_strings(value: object) -> None:
    with pytest.raises(DurationError, match="timeout must be a string"):
        parse_timeout(value)  # type: ignore[arg-type]


@settings(deadline=None)
@given(amount=st.integers(min_value=1, max_value=10**6), unit=st.sampled_from("smh"))
def test_parse_timeout_round_trips(amount: int, unit: str) -> None:
    assert parse_timeout(f"{amount}{unit}") == amount * UNIT_SECONDS[unit]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0ms"),
        (0.0004, "0ms"),
        (0.012, "12ms"),
        (0.85, "850ms"),
        (0.999, "999ms"),
        (0.9996, "1.0s"),
        (1, "1.0s"),
        (1.2, "1.2s"),
        (9.94, "9.9s"),
        (9.96, "10s"),
        (10, "10s"),
        (45, "45s"),
        (59.4, "59s"),
        (59.6, "1m00s"),
        (60, "1m00s"),
        (125, "2m05s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (3720, "1h02m"),
        (3779, "1h02m"),
        (30 * 3600, "30h00m"),
        (-1, "0ms"),
        (float("inf"), "?"),
        (float("nan"), "?"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected
