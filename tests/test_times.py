"""The one rule for times on the terminal: local zone named, --utc switches, JSON untouched."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pingback_cli import times

T = 1_764_340_200.0  # 2025-11-28 14:30:00 UTC


@pytest.fixture(autouse=True)
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    monkeypatch.delenv("PINGBACK_UTC", raising=False)
    time.tzset()
    times.use_utc(False)
    yield
    times._forced_utc = None
    monkeypatch.undo()
    time.tzset()


def test_local_zone_is_named() -> None:
    assert times.zone(T) == "EST"
    assert times.moment(T, now=T) == "09:30:00 EST"
    assert times.moment(T, now=T + 86_400) == "2025-11-28 09:30:00 EST"
    assert times.full(T) == "2025-11-28 09:30:00 EST"
    assert times.clock(T + 0.123, ms=True) == "09:30:00.123"


def test_utc_switch_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    times.use_utc(True)
    assert times.moment(T, now=T) == "14:30:00 UTC"
    times._forced_utc = None
    monkeypatch.setenv("PINGBACK_UTC", "1")
    assert times.full(T) == "2025-11-28 14:30:00 UTC"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "in 0s"),
        (45, "in 45s"),
        (420, "in 7m"),
        (7500, "in 2h05m"),
        (3600 * 76, "in 3d4h"),
        (-180, "3m ago"),
    ],
)
def test_relative(seconds: float, text: str) -> None:
    assert times.relative(seconds) == text


def test_due() -> None:
    assert times.due(T + 900, T) == "due 09:45:00 EST, in 15m"
    assert times.due(T - 5, T) == "due now"


# --- durations: one compact form for the terminal, the dashboard and check ---------------------


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
def test_duration(seconds: float, expected: str) -> None:
    assert times.duration(seconds) == expected


def test_duration_ms_is_empty_for_nothing_measured() -> None:
    assert [times.duration_ms(v) for v in (None, 12, 1250, 125_000, 3_720_000)] == [
        "",
        "12ms",
        "1.2s",
        "2m05s",
        "1h02m",
    ]


def test_a_cron_occurrence_is_said_in_utc_whatever_the_zone() -> None:
    assert times.utc_full(T) == "2025-11-28 14:30:00 UTC"


@pytest.mark.parametrize(
    ("attempts", "last_ms", "started", "completed", "ended", "said"),
    [
        (1, 12, 100.0, 100.012, True, "12ms"),
        (3, 1, 100.0, 106.0, True, "last attempt 1ms · total 6.0s"),
        (1, None, 100.0, None, True, "unknown"),  # cut off by kill -9, never seen again
        (2, None, 100.0, None, True, "last attempt unknown · total unknown"),
        (1, None, None, None, False, ""),  # pending
        (2, 5, 100.0, None, False, "last attempt 5ms"),  # waiting out a backoff
    ],
)
def test_run_time(
    attempts: int, last_ms: int | None, started: float | None, completed: float | None, ended: bool, said: str
) -> None:
    assert times.run_time(attempts, last_ms, started, completed, ended=ended) == said
