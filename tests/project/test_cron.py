from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_cli.models import from_iso, iso
from pingback_cli.project.cron import (
    NeverFires,
    ScheduleError,
    describe,
    intervals,
    next_fire,
    next_fires,
    schedule_notes,
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
        "*/61 * * * *",  # cron-parser reads a step past the range as "the first value only"
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
        "0 0 * * 5L",
        "0 0 ? * MON",
        "  0   0\t* * *  ",
        "@yearly",
        "@monthly",
        "@weekly",
        "@daily",
        "@hourly",
        "*/5 * * * * *",
        "0 0 31 4,6,9,11 *",  # accepted, never fires: see test_never_fires
        "",  # cron-parser fills missing leading fields: "" is every minute
        "0 9 * *",
    ],
)
def test_valid_schedules(expr: str) -> None:
    validate_schedule(expr)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("60 * * * *", 'minute field "60" is outside 0-59; allowed: 0-59'),
        ("1,60 * * * *", 'minute field "1,60" has "60", outside 0-59; allowed: 0-59'),
        ("0 24 * * *", 'hour field "24" is outside 0-23'),
        ("0 0 0 * *", 'day-of-month field "0" is outside 1-31'),
        ("0 0 * 13 *", 'month field "13" is outside 1-12'),
        ("0 0 * * 8", 'day-of-week field "8" is outside 0-7'),
        ("*/0 * * * *", 'minute field "*/0" has the step "0"; a step must be a number of 1 or more'),
        ("H * * * *", 'minute field "H" is not a value the platform accepts here'),
        ("22-2 * * * *", 'the platform does not wrap ranges, write "22-59,0-2"'),
        ("0 0 * * FRI-MON", 'does not wrap ranges, write "5-6,0-1"'),
        ("0 0 15W * *", "uses W (nearest weekday), which the platform does not support"),
        ("0 0 * * MONDAY", 'has "DAY", which is not a day name (SUN-SAT)'),
        ("0 0 * * 1#6", 'has an occurrence after "#" outside 1-5'),
        ("0 0 * * 1,2#2", 'combines "#" with a list, step or range'),
        ("0 0 * * * * *", "it has 7 fields; the platform reads at most 6"),
        (
            "@annually",
            "the platform knows only the aliases @yearly, @monthly, @weekly, @daily, @hourly (write @yearly)",
        ),
        ("@daily ", "write the alias @daily alone, without spaces"),
        ("0 0 30 2 *", "day-of-month 30 never occurs in February, which has 29 days"),
        ("0 0 31 11 *", "day-of-month 31 never occurs in November, which has 30 days"),
    ],
)
def test_invalid_schedules(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(expr)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_day_missing_from_its_only_month_proposes_its_last_day() -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule("0 0 31 11 *")
    assert caught.value.fix == 'fire on its last day instead: "0 0 L 11 *"'


@pytest.mark.parametrize(
    ("expr", "message", "fix"),
    [
        (
            "0 0 31 4,6,9,11 *",
            "never fires: day 31 never occurs in April, June, September or November",
            'fire on the last day of each of those months instead: "0 0 L 4,6,9,11 *"',
        ),
        (
            "0 0 * * L5",
            'its scheduler fails on day-of-week "L5": the last weekday of the month is written day first',
            'write "0 0 * * 5L"',
        ),
        (
            "0 0 * * L",
            'fails on day-of-week "L"',
            'write "0 0 * * 5L", or L in day-of-month for the last day',
        ),
        ("0 0 * * 1#2.5", "finds no date for it within its 10,000-step search", None),
    ],
)
def test_never_fires(expr: str, message: str, fix: str | None) -> None:
    validate_schedule(expr)  # the platform registers it...
    with pytest.raises(NeverFires) as caught:  # ...and its scheduler never finds a time
        next_fire(expr, at("2026-11-28T10:07:00Z"))
    assert message in str(caught.value)
    if fix is not None:
        assert caught.value.fix == fix


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


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/5 * * * * *", "2026-11-28T10:07:00Z", "2026-11-28T10:07:05Z"),
        ("30 * * * * *", "2026-11-28T10:07:30Z", "2026-11-28T10:08:30Z"),
        ("@hourly", "2026-11-28T10:07:00Z", "2026-11-28T11:00:00Z"),
        ("@weekly", "2026-11-28T10:07:00Z", "2026-11-29T00:00:00Z"),
        ("@yearly", "2026-11-28T10:07:00Z", "2027-01-01T00:00:00Z"),
        ("0 0 * * 5L", "2026-11-28T10:07:00Z", "2026-12-25T00:00:00Z"),
        ("0 0 5L * *", "2026-11-28T10:07:00Z", "2026-11-30T00:00:00Z"),  # any L text: last day
        ("0 0 * * 2-7/2", "2026-11-28T10:07:00Z", "2026-11-29T00:00:00Z"),  # a range to 7 adds Sunday
        ("0 0 1 * 0-6", "2026-11-28T10:07:00Z", "2026-11-29T00:00:00Z"),  # 0-6 is not "*": any day
        ("0 9 * *", "2026-11-28T10:07:00Z", "2026-12-09T00:00:00Z"),  # right-aligned: hour 0, day 9
        ("*/61 * * * *", "2026-11-28T10:07:00Z", "2026-11-28T11:00:00Z"),
    ],
)
def test_next_fire_platform_forms(expr: str, after: str, expected: str) -> None:
    assert iso(next_fire(expr, at(after))) == iso(at(expected))


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


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("@yearly", "At 00:00, on day 1 of the month, only in January"),
        ("@monthly", "At 00:00, on day 1 of the month"),
        ("@weekly", "At 00:00, only on Sunday"),
        ("@daily", "At 00:00"),
        ("@hourly", "Every hour"),
        ("*/5 * * * * *", "Every 5 seconds"),
        ("30 0 9 * * 1-5", "At 09:00:30, Monday through Friday"),
        ("0 0 L * *", "At 00:00, on the last day of the month"),
        ("0 0 5L * *", "At 00:00, on the last day of the month"),
        ("0 0 * * 5L", "At 00:00, on the last Friday of the month"),
        ("0 0 * * 1#2", "At 00:00, on the second Monday of the month"),
        ("0 0 ? * MON", "At 00:00, only on Monday"),
        ("*/61 * * * *", "Every hour"),
        ("5/15 * * * *", "Every 15 minutes, starting at 5 minutes past the hour"),
        ("10-50/20 * * * *", "Every 20 minutes, starting at 10 minutes past the hour"),
        ("5-35/10 * * * *", "Every 10 minutes, minutes 5 through 35 past the hour"),
        ("0 0 1 JAN-MAR *", "At 00:00, on day 1 of the month, January through March"),
        ("0 0 * * 7", "At 00:00, only on Sunday"),
        ("", "Every minute"),
    ],
)
def test_describe_platform_forms(expr: str, expected: str) -> None:
    assert describe(expr) == expected


@pytest.mark.parametrize("expr", ["nonsense", "0 0 15W * *", "0 0 * * L5"])
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


@pytest.mark.parametrize(
    ("expr", "phrase", "shortest"),
    [
        ("*/7 * * * *", "every 7 minutes within the hour; the gap across the hour is 4 minutes", 4 * MINUTE),
        ("*/15 * * * *", "every 15 minutes", 15 * MINUTE),
        ("0 */7 * * *", "every 7 hours within the day; the gap across the day is 3 hours", 3 * HOUR),
        ("*/45 * * * * *", "every 45 seconds within the minute; the gap across the minute is 15 seconds", 15),
        ("0 9 * * 1-5", "every 1 to 3 days, most often 1 day", DAY),
        ("@daily", "every day", DAY),
    ],
)
def test_intervals(expr: str, phrase: str, shortest: float) -> None:
    cadence = intervals(expr, at("2026-11-28T10:07:00Z"))
    assert cadence.phrase() == phrase
    assert cadence.shortest == shortest


@settings(deadline=None)
@given(
    after=st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False),
    step=st.sampled_from([1, 2, 5, 10, 15, 20, 30]),
)
def test_next_fire_is_strictly_after_and_on_step(after: float, step: int) -> None:
    fire = next_fire(f"*/{step} * * * *", after)
    assert after < fire <= after + step * MINUTE
    assert fire % (step * MINUTE) == 0


@pytest.mark.parametrize(
    ("expr", "notes"),
    [
        ("*/15 * * * *", []),
        ("@daily", []),
        ("0 0 L * *", []),
        ("0 9 * *", ['has 4 fields; the platform fills the missing leading ones, reading it as "* 0 9 * *"']),
        ("", ['has 0 fields; the platform fills the missing leading ones, reading it as "* * * * *"']),
        (
            "*/61 * * * *",
            ['minute field "*/61" steps by 61, more than its 60 values, so the platform takes only 0'],
        ),
        ("0 0 */32 * *", ["steps by 32, more than its 31 values, so the platform takes only 1"]),
        ("0 0 5L * *", ['day-of-month field "5L" is the last day of the month on the platform']),
    ],
)
def test_schedule_notes(expr: str, notes: list[str]) -> None:
    found = [message for message, _ in schedule_notes(expr)]
    assert len(found) == len(notes)
    for message, expected in zip(found, notes, strict=True):
        assert expected in message


@pytest.mark.parametrize(
    ("expr", "message", "fix"),
    [
        ("@every 5m", '"@every" is not supported by the platform\'s parser', 'write "*/5 * * * *"'),
        ("@every 2h", '"@every" is not supported', 'write "0 */2 * * *"'),
        ("@reboot now", '"@reboot" is not supported', "write 5 fields"),
        ("5m", '"5m" is an interval, not a cron expression', 'write "*/5 * * * *"'),
        ("every 10 seconds", "is an interval", 'write "*/10 * * * * *"'),
        ("bogus", '"bogus" is not a cron expression', "write 5 fields"),
    ],
)
def test_schedules_that_are_not_cron_at_all_are_said_so(expr: str, message: str, fix: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        validate_schedule(expr)
    assert message in str(raised.value) and fix in (raised.value.fix or "")


def test_a_bad_field_keeps_the_grammars_own_message() -> None:
    with pytest.raises(ScheduleError, match="not a month name"):
        validate_schedule("0 0 1 foo *")


@pytest.mark.parametrize(
    ("expression", "steps"),
    [
        ("30 * * * * *", 31),  # 10:00:00, :01, ... :30: one step per second tested
        ("0 30 * * * *", 31),  # 10:00, 10:01, ... 10:30: one per minute
        ("0 0 22 * * *", 13),  # 10:00, 11:00, ... 22:00: one per hour
        ("0 0 0 * * *", 15),  # 10:00 ... 23:00, then the next midnight
        ("0 59 9 * * *", 83),  # hours 10-23, 0-8 of the next day, then 09:00 ... 09:59
    ],
)
def test_a_search_fails_on_the_step_cron_parser_would(
    monkeypatch: pytest.MonkeyPatch, expression: str, steps: int
) -> None:
    """``_findSchedule`` tests one instant per step and throws on its 10,000th: a search that
    takes ``steps`` fails with a limit of ``steps`` and finds its fire with one more (a run of
    failing seconds, minutes or hours is counted step by step)."""
    from pingback_cli.project import cron_walk
    from pingback_cli.project.cron_grammar import parse

    start = round(at("2026-11-28T10:00:00Z") * 1000)
    monkeypatch.setattr(cron_walk, "LOOP_LIMIT", steps)
    with pytest.raises(cron_walk.WalkError):
        next(cron_walk.fires(parse(expression), start))
    monkeypatch.setattr(cron_walk, "LOOP_LIMIT", steps + 1)
    assert next(cron_walk.fires(parse(expression), start)) > start
