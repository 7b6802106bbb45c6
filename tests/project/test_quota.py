"""A month of crons against a plan's quota (``project.quota``) and the fast count of fires it
stands on (``project.cron.count_fires``): new-user trial #2, findings 4 and 10."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from pingback_cli.project import cron_walk
from pingback_cli.project.cron import _fields, count_fires, next_fires
from pingback_cli.project.plans import PLANS
from pingback_cli.project.quota import (
    CronMonth,
    MonthEstimate,
    measured_estimate,
    monthly_fires,
    written_estimate,
    written_per_fire,
)

DEC_1 = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
SCHEDULES = [
    "* * * * *",
    "*/7 * * * *",
    "0 3 * * *",
    "*/5 * * * * *",
    "0 0 1 * *",
    "0 12 29 2 *",
    "15 10 * * 1-5",
    "0 0 L * *",
    "0 9 * * 5L",
    "0 0 * * 1#2",
    "30 */2 1,15 * 0",
    "0 0 1-30 4 *",
    "*/13 3-7 * 1,6 *",
    "0 0 31 * *",
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_counting_and_listing_by_days_give_what_walking_every_fire_gives(
    schedule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cron_walk, "WALKED_FIRST", 5)  # count nearly everything by days
    fields = _fields(schedule)
    rng = random.Random(schedule)
    for _ in range(3):
        after = rng.randint(1_700_000_000_000, 1_800_000_000_000)
        dense = schedule.startswith("*")  # every minute or second: a day is thousands of fires
        span = rng.choice([3_600_000, 86_400_000] if dense else [3 * 86_400_000, 400 * 86_400_000])
        before = after + span + rng.randint(0, 999)
        walked = []
        for at in cron_walk.fires(fields, after):
            if at >= before:
                break
            walked.append(at)
        assert cron_walk.count_between(fields, after, before) == len(walked), (after, before)
        assert list(cron_walk.fires_between(fields, after, before)) == walked, (after, before)


def test_a_year_of_an_every_minute_cron_is_counted_not_listed() -> None:
    year = datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp()
    assert count_fires("* * * * *", year - 0.001, year + 365 * 86_400) == 525_600
    assert count_fires("0 3 * * *", DEC_1, DEC_1 + 30 * 86_400) == len(
        next_fires("0 3 * * *", DEC_1, 40)[:30]
    )


def test_monthly_fires_counts_the_start_and_is_zero_for_a_cron_that_never_fires() -> None:
    assert monthly_fires("* * * * *", DEC_1) == 43_200
    assert monthly_fires("0 0 1 * *", DEC_1) == 1  # Dec 1 00:00 is in, Dec 31 is the 30th day
    assert monthly_fires("0 0 31 4,6,9,11 *", DEC_1) == 0


@pytest.mark.parametrize(
    ("sites", "in_loop", "deeper", "plan", "expected"),
    [
        (3, False, False, None, (4, False)),
        (1, True, False, None, (2, True)),  # a loop may dispatch more
        (1, True, False, "free", (1, False)),  # the free plan dispatches none anyway
        (1, True, False, "pro", (2, True)),
        (12, True, False, "pro", (11, False)),  # past the cap already: the cap is the count
        (2, False, True, "team", (3, True)),  # a child fans out again
    ],
)
def test_written_per_fire(
    sites: int, in_loop: bool, deeper: bool, plan: str | None, expected: tuple[int, bool]
) -> None:
    assert written_per_fire(sites, in_loop, deeper, PLANS[plan] if plan else None) == expected


def test_a_lower_bound_within_the_quota_is_no_fit() -> None:
    pro = PLANS["pro"]
    assert written_estimate({"tick": 43_200}, {"tick": (2, True)}, pro).verdict == "exceeded"
    assert written_estimate({"tick": 1_000}, {"tick": (2, True)}, pro).verdict == "unknown"
    assert written_estimate({"tick": 1_000}, {"tick": (2, False)}, pro).verdict == "fits"
    assert written_estimate({"tick": 1_000}, {}, None).verdict is None


def test_measured_attempts_per_fire_count_and_a_cron_that_did_not_run_is_a_lower_bound() -> None:
    month = measured_estimate({"tick": 43_200, "nightly": 30, "leap": 0}, {"tick": 4.0}, PLANS["team"])
    assert month.crons == (
        CronMonth("tick", 43_200, 4.0, False),
        CronMonth("nightly", 30, 1.0, True),
        CronMonth("leap", 0, 1.0, False),
    )
    assert (month.total, month.verdict) == (172_830, "unknown")
    assert MonthEstimate(PLANS["pro"], month.crons, "measured").verdict == "exceeded"
