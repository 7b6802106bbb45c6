from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_cli.project.durations import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_DELAY_SECONDS,
    DurationError,
    format_duration,
    parse_delay,
    parse_timeout,
)

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def test_constants() -> None:
    assert DEFAULT_TIMEOUT_SECONDS == 30
    assert MAX_DELAY_SECONDS == 2_592_000


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
    ("value", "expected"),
    [
        (1, 1),
        (90, 90),
        (MAX_DELAY_SECONDS, MAX_DELAY_SECONDS),
        (1.0, 1),
        (1.9, 1),
        (59.999, 59),
        ("90", 90),
        (" 90 ", 90),
        ("1.5", 1),
        ("30s", 30),
        ("2.5s", 2),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("30d", MAX_DELAY_SECONDS),
        ("1d2h30m", 86400 + 7200 + 1800),
        ("1h30m15s", 3600 + 1800 + 15),
        ("1d1s", 86401),
        ("1m2.5s", 62),
        ("0h1m", 60),
        ("90m", 5400),
    ],
)
def test_parse_delay(value: int | float | str, expected: int) -> None:
    assert parse_delay(value) == expected


@pytest.mark.parametrize(
    "value",
    [0, -1, -5, 0.5, 0.999, -0.5, MAX_DELAY_SECONDS + 1, 1e300, "0", "0s", "0.5", "-5", "31d",
     "30d1s", "720h1s", "9" * 5000],
)  # fmt: skip
def test_parse_delay_out_of_range(value: int | float | str) -> None:
    with pytest.raises(DurationError, match="must be between 1 second and 30 days"):
        parse_delay(value)


@pytest.mark.parametrize(
    "value",
    ["", "   ", "abc", "5x", "m5", "5 m", "1h 30m", "30m1h", "1s1m", "1.5m", "1.5h", "5M",
     "1d1d", ".5", "5.", "+5", "1e3", "s", "1ms"],
)  # fmt: skip
def test_parse_delay_rejects_garbage(value: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_delay(value)
    assert f'delay "{value}" is not like' in str(caught.value)


@pytest.mark.parametrize("value", [True, False, None, [30], b"30"])
def test_parse_delay_rejects_other_types(value: object) -> None:
    with pytest.raises(DurationError, match="delay must be a number of seconds"):
        parse_delay(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_parse_delay_rejects_non_finite(value: float) -> None:
    with pytest.raises(DurationError, match="is not a number of seconds"):
        parse_delay(value)


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=MAX_DELAY_SECONDS))
def test_parse_delay_accepts_any_int_in_range(seconds: int) -> None:
    assert parse_delay(seconds) == seconds
    assert parse_delay(str(seconds)) == seconds


@settings(deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "d": st.integers(0, 40),
            "h": st.integers(0, 100),
            "m": st.integers(0, 5000),
            "s": st.integers(0, 100_000),
        },
    ).filter(bool)
)
def test_parse_delay_composed_units(parts: dict[str, int]) -> None:
    text = "".join(f"{parts[unit]}{unit}" for unit in "dhms" if unit in parts)
    total = sum(amount * UNIT_SECONDS[unit] for unit, amount in parts.items())
    if 1 <= total <= MAX_DELAY_SECONDS:
        assert parse_delay(text) == total
    else:
        with pytest.raises(DurationError, match="must be between"):
            parse_delay(text)


@settings(deadline=None)
@given(st.text(max_size=20))
def test_parse_delay_only_raises_duration_error(text: str) -> None:
    try:
        result = parse_delay(text)
    except DurationError:
        return
    assert 1 <= result <= MAX_DELAY_SECONDS


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
