from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_cli.models import from_iso, iso
from pingback_cli.project.cron import (
    ScheduleError,
    describe,
    next_fire,
    next_fires,
    typical_interval,
    validate_schedule,
)

MINUTE = 60
HOUR = 3600
DAY = 86400


def at(text: str) -> float:
    moment = from_iso(text)
    assert moment is not None
    return moment


@pytest.mark.parametrize(
    "expr",
    [
        "* * * * *",
        "*/15 * * * *",
        "*/60 * * * *",
        "0 0 * * *",
        "30 14 * * 1-5",
        "0 9 1 * *",
        "0 0 * JAN,jul *",
        "0 18 * * SUN",
        "0 0 * * 7",
        "5-55/10 8-18 * * mon-fri",
        "0 0 29 2 *",
        "0 0 L * *",
        "0 0 * * 1#2",
        "  0   0\t* * *  ",
    ],
)
def test_valid_schedules(expr: str) -> None:
    validate_schedule(expr)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("*/61 * * * *", 'invalid cron expression "*/61 * * * *": minute field "*/61" has step 61'),
        ("0 */25 * * *", 'hour field "*/25" has step 25'),
        ("60 * * * *", 'minute field "60" is not valid (allowed values 0-59)'),
        ("0 24 * * *", 'hour field "24" is not valid'),
        ("0 0 0 * *", 'day-of-month field "0" is not valid'),
        ("0 0 * 13 *", 'month field "13" is not valid'),
        ("0 0 * * 8", 'day-of-week field "8" is not valid'),
        ("*/0 * * * *", 'minute field "*/0" is not valid'),
        ("H * * * *", 'minute field "H" is not valid'),
        ("a b c d e", 'minute field "a" is not valid'),
        (
            "0 0 * * * *",
            '"0 0 * * * *" has 6 fields; Pingback schedules have 5 '
            "(minute hour day-of-month month day-of-week)",
        ),
        ("0 0 * *", '"0 0 * *" has 4 fields'),
        ("@daily", '"@daily" has 1 field;'),
        ("", '"" has 0 fields'),
        ("0 0 30 2 *", 'cron expression "0 0 30 2 *" never fires'),
        ("0 0 31 4,6,9,11 *", "never fires"),
    ],
)
def test_invalid_schedules(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(expr)
    assert message in str(caught.value)


@pytest.mark.parametrize("value", [None, 15, 1.5, ["*", "*", "*", "*", "*"], b"* * * * *"])
def test_non_string_schedule(value: object) -> None:
    with pytest.raises(ScheduleError, match="must be a string"):
        validate_schedule(value)  # type: ignore[arg-type]


def test_schedule_error_is_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/15 * * * *", "2026-11-28T10:07:00Z", "2026-11-28T10:15:00Z"),
        ("*/15 * * * *", "2026-11-28T10:14:59.999Z", "2026-11-28T10:15:00Z"),
        ("*/15 * * * *", "2026-11-28T10:15:00Z", "2026-11-28T10:30:00Z"),
        ("*/15 * * * *", "2026-11-28T10:15:00.500Z", "2026-11-28T10:30:00Z"),
        ("* * * * *", "2026-11-28T10:07:30Z", "2026-11-28T10:08:00Z"),
        ("0 * * * *", "2026-11-28T23:30:00Z", "2026-11-29T00:00:00Z"),
        ("0 0 1 * *", "2026-11-28T10:07:00Z", "2026-12-01T00:00:00Z"),
        ("0 0 * * *", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"),
        ("0 0 1 1 *", "2026-06-15T12:00:00Z", "2027-01-01T00:00:00Z"),
        ("0 0 L * *", "2027-02-10T00:00:00Z", "2027-02-28T00:00:00Z"),
        ("0 0 29 2 *", "2026-11-28T10:07:00Z", "2028-02-29T00:00:00Z"),
        # 2026-11-28 is a Saturday.
        ("0 9 * * 1", "2026-11-28T10:07:00Z", "2026-11-30T09:00:00Z"),
        ("0 9 * * MON-FRI", "2026-11-27T09:00:00Z", "2026-11-30T09:00:00Z"),
        ("0 18 * * 0", "2026-11-28T10:07:00Z", "2026-11-29T18:00:00Z"),
        ("0 18 * * 7", "2026-11-28T10:07:00Z", "2026-11-29T18:00:00Z"),
        ("0 0 * * 1#2", "2026-11-28T10:07:00Z", "2026-12-14T00:00:00Z"),
        # Day-of-month and day-of-week both restricted: either one matches.
        ("0 0 13 * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"),
    ],
)
def test_next_fire(expr: str, after: str, expected: str) -> None:
    assert iso(next_fire(expr, at(after))) == iso(at(expected))


def test_next_fire_returns_float() -> None:
    assert isinstance(next_fire("*/15 * * * *", at("2026-11-28T10:07:00Z")), float)


def test_next_fire_rejects_invalid() -> None:
    with pytest.raises(ScheduleError):
        next_fire("0 0 30 2 *", at("2026-11-28T10:07:00Z"))


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        (
            "*/15 * * * *",
            "2026-11-28T10:07:00Z",
            ["2026-11-28T10:15:00Z", "2026-11-28T10:30:00Z", "2026-11-28T10:45:00Z"],
        ),
        (
            "0 0 1 * *",
            "2026-12-15T00:00:00Z",
            ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"],
        ),
        (
            "30 12 * * SAT,SUN",
            "2026-11-28T10:07:00Z",
            ["2026-11-28T12:30:00Z", "2026-11-29T12:30:00Z", "2026-12-05T12:30:00Z"],
        ),
    ],
)
def test_next_fires(expr: str, after: str, expected: list[str]) -> None:
    fires = next_fires(expr, at(after), len(expected))
    assert [iso(fire) for fire in fires] == [iso(at(text)) for text in expected]


def test_next_fires_zero_and_negative() -> None:
    assert next_fires("* * * * *", 0.0, 0) == []
    with pytest.raises(ValueError):
        next_fires("* * * * *", 0.0, -1)


def test_interleaved_calls_do_not_share_state() -> None:
    after = at("2026-11-28T10:07:00Z")
    first = next_fire("*/15 * * * *", after)
    next_fire("*/15 * * * *", after + DAY)
    assert next_fire("*/15 * * * *", after) == first


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("*/15 * * * *", "Every 15 minutes"),
        ("* * * * *", "Every minute"),
        ("0 0 * * *", "At 00:00"),
        ("30 14 * * 1-5", "At 14:30, Monday through Friday"),
        ("0 18 * * SUN", "At 18:00, only on Sunday"),
        ("0 9 1 * *", "At 09:00, on day 1 of the month"),
        ("0 */2 * * *", "Every 2 hours"),
    ],
)
def test_describe(expr: str, expected: str) -> None:
    assert describe(expr) == expected


@pytest.mark.parametrize("expr", ["nonsense", "", "1 2 3"])
def test_describe_falls_back_to_expression(expr: str) -> None:
    assert describe(expr) == expr


def test_describe_never_raises_on_non_string() -> None:
    assert describe(None) == "None"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("* * * * *", MINUTE),
        ("*/15 * * * *", 15 * MINUTE),
        ("0,5 * * * *", 5 * MINUTE),
        ("0 * * * *", HOUR),
        ("0 9,17 * * *", 8 * HOUR),
        ("0 0 * * *", DAY),
        ("0 9 * * 1-5", DAY),
        ("0 0 * * 1", 7 * DAY),
        ("0 0 1 * *", 28 * DAY),
        ("0 0 29 2 *", 1461 * DAY),
    ],
)
def test_typical_interval(expr: str, expected: float) -> None:
    assert typical_interval(expr, at("2026-11-28T10:07:00Z")) == expected


@settings(deadline=None)
@given(
    after=st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False),
    step=st.sampled_from([1, 2, 5, 10, 15, 20, 30]),
)
def test_next_fire_is_strictly_after_and_on_step(after: float, step: int) -> None:
    fire = next_fire(f"*/{step} * * * *", after)
    assert after < fire <= after + step * MINUTE
    assert fire % (step * MINUTE) == 0
