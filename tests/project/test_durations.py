from __future__ import annotations

import pytest

from pingback_cli.project.durations import (
    DEFAULT_TIMEOUT_SECONDS,
    DurationError,
    js_parse_int,
    parse_timeout,
    read_timeout,
)

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def test_constants() -> None:
    assert DEFAULT_TIMEOUT_SECONDS == 30


def test_errors_are_value_errors() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("value", "platform", "written"),
    [
        # registration.service.ts:54-57: parseInt(timeout.replace('s', '')), 30 when unset
        ("30s", 30, 30),
        ("1s", 1, 1),
        ("90s", 90, 90),
        ("5m", 5, 300),
        ("1h", 1, 3600),
        ("24h", 24, 86400),
        ("90", 90, 90),
        ("1m30s", 1, 90),
        (" 2h ", 2, 7200),
        ("\t10s\n", 10, 10),
        ("05m", 5, 300),
        ("5 minutes", 5, 300),
        ("2 hours", 2, 7200),
        ("500ms", 500, 0.5),
        ("1.5s", 1, 1.5),
        ("5M", 5, 300),
        ("0s", 0, 0),
        ("-5s", -5, None),
        ("+7s", 7, None),
        ("s30", 30, None),
        ("0x10", 16, None),
        ("12abc", 12, None),
        ("", 30, None),
        (None, 30, None),
    ],
)
def test_read_timeout_as_the_platform_and_a_person_do(
    value: str | None, platform: int, written: float | None
) -> None:
    reading = read_timeout(value)
    assert (reading.seconds, reading.written) == (platform, written)
    assert parse_timeout(value) == platform
    assert reading.misread == (written is not None and written != platform)


@pytest.mark.parametrize(
    ("value", "advice"),
    [
        ("5m", 'the platform reads "5m" as 5 seconds; write "300s"'),
        ("1h", 'the platform reads "1h" as 1 second; write "3600s"'),
        ("1m30s", 'the platform reads "1m30s" as 1 second; write "90s"'),
        ("500ms", 'the platform reads "500ms" as 500 seconds; write "1s"'),
    ],
)
def test_misread_advice(value: str, advice: str) -> None:
    assert read_timeout(value).advice() == advice


@pytest.mark.parametrize("value", ["thirty seconds", "s", "   ", "m5", "abc", "-", "0x"])
def test_read_timeout_refuses_what_parse_int_finds_no_number_in(value: str) -> None:
    with pytest.raises(DurationError, match="has no number where the platform looks for one"):
        read_timeout(value)


def test_read_timeout_refuses_what_the_platform_cannot_store() -> None:
    with pytest.raises(DurationError, match="more seconds than the platform can store"):
        read_timeout("9" * 40 + "s")


@pytest.mark.parametrize("value", [30, 30.0, True, b"30s"])
def test_parse_timeout_rejects_non_strings(value: object) -> None:
    with pytest.raises(DurationError, match="timeout must be a string"):
        parse_timeout(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), ("  -7x", -7), ("+3", 3), ("0x1f", 31), ("0XA", 10), ("x", None), ("", None), ("--1", None)],
)
def test_js_parse_int(text: str, expected: int | None) -> None:
    assert js_parse_int(text) == expected
