"""The schedule rules of ``pingback check``, on one function at a time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pingback_cli.check.options import option_findings
from pingback_cli.check.report import Finding
from pingback_cli.project.loader import RawFunction

NOW = datetime(2026, 11, 28, 10, 8, tzinfo=timezone.utc).timestamp()


def findings(schedule: str, timeout: str | None = None, concurrency: int = 1) -> list[Finding]:
    definition = {
        "type": "cron",
        "schedule": schedule,
        "handler": lambda ctx: None,
        "timeout": timeout,
        "concurrency": concurrency,
    }
    return option_findings(RawFunction("job", definition, "jobs.py:3", None), NOW)


def test_timeout_is_compared_with_the_shortest_real_gap() -> None:
    (found,) = findings("*/7 * * * *", timeout="300s")
    assert found.rule == "timeout-over-interval"
    assert "it fires every 7 minutes within the hour; the gap across the hour is 4 minutes, but its " in (
        found.message
    )
    assert 'lower the timeout to at most "240s"' in found.fix


def test_a_timeout_within_every_gap_is_fine() -> None:
    assert findings("*/7 * * * *", timeout="240s") == []


@pytest.mark.parametrize(
    ("schedule", "rule", "message", "fix"),
    [
        ("0 0 31 11 *", "invalid-schedule", "day-of-month 31 never occurs in November", '"0 0 L 11 *"'),
        ("0 0 31 4,6,9,11 *", "never-fires", "never occurs in April, June, September or November", "L"),
        ("0 0 * * L5", "never-fires", 'fails on day-of-week "L5"', 'write "0 0 * * 5L"'),
        ("0 22-2 * * *", "invalid-schedule", 'write "22-23,0-2"', "6 with a leading second"),
    ],
)
def test_schedule_findings_name_the_fault_and_a_fix(schedule: str, rule: str, message: str, fix: str) -> None:
    (found,) = findings(schedule)
    assert (found.rule, found.severity) == (rule, "error")
    assert message in found.message
    assert fix in found.fix


@pytest.mark.parametrize("schedule", ["@daily", "@hourly", "0 0 * * 5L", "0 0 * * 1#2", "0 0 29 2 *"])
def test_platform_forms_pass(schedule: str) -> None:
    assert findings(schedule) == []
