"""The ``pingback`` fixture: run, trigger, advance, set_time, faults, history, isolation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pingback_cli.project.delay import DelayError
from pingback_cli.testing.platform import VirtualPlatform


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_run_returns_the_whole_fan_out_tree(pingback: VirtualPlatform) -> None:
    root = pingback.run("digest")

    root.assert_success()
    assert (root.function, root.type, root.status) == ("digest", "cron", "success")
    assert root.result == {"dispatched": 3, "at": "2026-01-01T00:00:00+00:00"}
    assert root.scheduled_at == pingback.now == utc("2026-01-01T00:00:00Z")
    assert [log.message for log in root.logs] == ["Dispatched"]
    assert [child.payload for child in root.children] == [
        {"to": "a@example.com"},
        {"to": "b@example.com"},
        {"to": "c@example.com"},
    ]
    assert [e.function for e in root.walk()] == ["digest", "deliver", "deliver", "deliver"]
    assert root.find("deliver") == root.children[0]
    assert len(root.find_all("deliver")) == 3
    assert root.find("digest") == root
    with pytest.raises(LookupError, match='no execution of "nope"'):
        root.find("nope")


def test_handlers_run_in_the_tests_process(
    pingback: VirtualPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from timeproj import mailer

    sent: list[str] = []
    monkeypatch.setattr(mailer, "send", lambda to: sent.append(to) or "patched")

    root = pingback.run("deliver", {"to": "x@example.com"})

    assert sent == ["x@example.com"]
    assert root.result == {"result": "patched", "attempt": 1}


def test_assert_success_fails_with_the_rendered_tree(pingback: VirtualPlatform) -> None:
    root = pingback.run("explode")

    assert root.status == "failed"
    assert root.error == "HTTP 500: boom"
    assert "RuntimeError: boom" in (root.attempts[-1].traceback or "")
    with pytest.raises(AssertionError) as raised:
        root.assert_success()
    message = str(raised.value)
    assert '"explode" failed: HTTP 500: boom' in message
    assert "✗ explode task" in message
    assert "1 execution · 1 failed" in message


def test_run_at_sets_scheduled_at(pingback: VirtualPlatform) -> None:
    root = pingback.run("month-end", at="2026-03-01T00:00:00Z")

    assert root.result == {"month": "2026-03"}
    assert root.scheduled_at == utc("2026-03-01T00:00:00Z")


def test_unknown_names_are_refused_with_a_suggestion(pingback: VirtualPlatform) -> None:
    with pytest.raises(LookupError, match="did you mean 'digest'"):
        pingback.run("digets")
    with pytest.raises(LookupError, match='no cron or task named "nope"'):
        pingback.fail("nope")


def test_load_chooses_the_app(pingback: VirtualPlatform) -> None:
    pingback.load(app="timeproj.jobs:pb")

    assert pingback.functions["digest"].schedule == "*/15 * * * *"
    assert pingback.functions["deliver"].retries == 2
    assert pingback.config is not None and pingback.config.app == "timeproj.jobs:pb"


# --- time ---------------------------------------------------------------------------


def test_advance_a_day_runs_a_quarter_hourly_cron_96_times(pingback: VirtualPlatform) -> None:
    ran = pingback.advance("1d")

    digests = [root for root in ran if root.function == "digest"]
    assert len(digests) == 96
    assert [d.scheduled_at for d in digests] == [
        utc("2026-01-01T00:15:00Z") + timedelta(minutes=15 * i) for i in range(96)
    ]
    assert all(len(d.walk()) == 4 and d.status == "success" for d in digests)
    assert pingback.now == utc("2026-01-02T00:00:00Z")


def test_advance_across_a_month_boundary(pingback: VirtualPlatform) -> None:
    pingback.set_time("2026-01-31T23:50:00Z")

    ran = pingback.advance("20m")

    assert [(r.function, r.scheduled_at) for r in ran] == [
        ("digest", utc("2026-02-01T00:00:00Z")),
        ("month-end", utc("2026-02-01T00:00:00Z")),
    ]
    assert ran[1].result == {"month": "2026-02"}
    assert pingback.now == utc("2026-02-01T00:10:00Z")


def test_advance_over_a_leap_day_and_a_year_without_one(pingback: VirtualPlatform) -> None:
    pingback.set_time("2027-02-27T00:00:00Z")
    assert [r.function for r in pingback.advance(utc("2027-03-02T00:00:00Z")) if r.type == "cron"].count(
        "leap-day"
    ) == 0

    pingback.set_time("2028-02-28T00:00:00Z")
    ran = pingback.advance(utc("2028-03-02T00:00:00Z"))

    leap = [r for r in ran if r.function == "leap-day"]
    assert [r.result for r in leap] == [{"day": "2028-02-29"}]
    assert leap[0].scheduled_at == utc("2028-02-29T12:00:00Z")
    month_end = [r for r in ran if r.function == "month-end"]
    assert [r.scheduled_at for r in month_end] == [utc("2028-03-01T00:00:00Z")]


def test_set_time_moves_now_without_running_anything(pingback: VirtualPlatform) -> None:
    pingback.set_time(datetime(2026, 12, 1, 2, 59, tzinfo=timezone.utc))

    assert pingback.now == utc("2026-12-01T02:59:00Z")
    assert pingback.executions == []
    ran = pingback.advance("1m")
    assert [(r.function, r.scheduled_at) for r in ran] == [("digest", utc("2026-12-01T03:00:00Z"))]


def test_advance_refuses_to_go_back(pingback: VirtualPlatform) -> None:
    with pytest.raises(ValueError, match="time only moves forward"):
        pingback.advance(utc("2025-01-01T00:00:00Z"))
    with pytest.raises(ValueError, match="not a duration"):
        pingback.advance("soon")


# --- triggers -----------------------------------------------------------------------


def test_trigger_stays_pending_until_time_reaches_it(pingback: VirtualPlatform) -> None:
    pingback.set_time("2026-01-01T00:01:00Z")
    queued = pingback.trigger("follow-up", {"user": "u1"}, delay="1h30m")

    assert queued.status == "pending"
    assert queued.scheduled_at == utc("2026-01-01T01:31:00Z")
    pingback.advance("1h29m59s")
    assert queued.status == "pending"
    ran = pingback.advance("1s")
    assert queued in ran
    assert queued.status == "success"
    assert queued.result == {"user": "u1", "at": "2026-01-01T01:31:00+00:00"}


def test_trigger_reads_delays_as_the_platform_does(pingback: VirtualPlatform) -> None:
    assert pingback.trigger("follow-up", {"user": "u"}, delay=90).scheduled_at == utc("2026-01-01T00:01:30Z")
    for refused in ("1 h", "1.5s", "31d", 0, "soon"):
        with pytest.raises(DelayError):
            pingback.trigger("follow-up", {"user": "u"}, delay=refused)


def test_a_handlers_delayed_trigger_runs_after_advance(pingback: VirtualPlatform) -> None:
    root = pingback.run("remind", {"user": "ada"})
    root.assert_success()
    follow_up_id = root.result["follow_up"]
    queued = next(e for e in pingback.executions if e.id == follow_up_id)
    assert (queued.function, queued.status, queued.payload) == ("follow-up", "pending", {"user": "ada"})
    assert queued.scheduled_at == utc("2026-01-01T00:15:00Z")

    ran = pingback.advance("15m")

    assert [r.function for r in ran] == ["digest", "follow-up"]
    assert queued.status == "success"
    assert [log.message for log in queued.logs] == ["Following up"]
    assert pingback.hosting._api is None  # no port was opened for it


# --- faults -------------------------------------------------------------------------


def test_fail_on_the_second_attempt_of_a_child(pingback: VirtualPlatform) -> None:
    pingback.fail("deliver", attempt=1, error="SMTP closed the connection")
    pingback.fail("deliver", attempt=2, error="SMTP timed out")

    root = pingback.run("digest")

    root.assert_success()
    first = root.children[0]
    assert [(a.number, a.status, a.error) for a in first.attempts] == [
        (1, "failed", "HTTP 500: SMTP closed the connection"),
        (2, "failed", "HTTP 500: SMTP timed out"),
        (3, "success", None),
    ]
    assert first.result == {"result": "sent to a@example.com", "attempt": 3}
    assert [len(child.attempts) for child in root.children[1:]] == [1, 1]
    # backoff 2 s then 4 s, on the virtual clock
    assert pingback.now == utc("2026-01-01T00:00:06Z")


def test_fail_past_the_retries_fails_the_child_not_the_parent(pingback: VirtualPlatform) -> None:
    for attempt in (1, 2, 3):
        pingback.fail("deliver", attempt=attempt, error="mailbox full")

    root = pingback.run("digest")

    assert root.status == "success"
    assert root.children[0].status == "failed"
    assert root.children[0].error == "HTTP 500: mailbox full"
    with pytest.raises(AssertionError, match="mailbox full"):
        root.assert_success()


def test_timeout_fails_an_attempt_at_the_functions_timeout(pingback: VirtualPlatform) -> None:
    pingback.timeout("deliver")

    root = pingback.run("deliver", {"to": "t@example.com"})

    assert root.status == "success"
    assert root.attempts[0].error is not None and "timed out after 15s" in root.attempts[0].error
    assert pingback.now == utc("2026-01-01T00:00:17Z")  # 15 s timeout + 2 s backoff


def test_a_handler_that_runs_past_its_timeout_fails_at_the_timeout(pingback: VirtualPlatform) -> None:
    """In the test's process a handler cannot be stopped, but its real run time still counts:
    the platform stops waiting at the timeout (new-user trial #2, finding 3: it passed in 0 ms)."""
    root = pingback.run("slow", {"seconds": 1.3})  # timeout "1s", retries=1

    first, second = root.attempts
    assert first.status == "failed" and first.error is not None
    assert first.error.startswith("timed out after 1s: the handler was still running"), first.error
    assert (second.status, root.status, root.result) == ("success", "success", {"attempt": 2})
    assert pingback.now == utc("2026-01-01T00:00:03Z")  # 1 s timeout + 2 s backoff, platform time


def test_crash_fails_as_a_dead_worker_would(pingback: VirtualPlatform) -> None:
    pingback.crash("explode")

    root = pingback.run("explode")

    assert root.status == "failed"
    assert root.error is not None and root.error.startswith("the worker process died")


def test_faults_are_consumed_in_order_by_the_next_attempts(pingback: VirtualPlatform) -> None:
    pingback.fail("deliver", times=2, error="first two")

    root = pingback.run("digest")

    assert [len(child.attempts) for child in root.children] == [2, 2, 1]
    root.assert_success()


def test_fail_on_a_cron_during_advance_retries_it_after_backoff(pingback: VirtualPlatform) -> None:
    pingback.fail("digest")

    ran = pingback.advance("15m")

    assert [r.function for r in ran] == ["digest"]
    assert [a.status for a in ran[0].attempts] == ["failed"]
    assert ran[0].status == "pending"  # its retry is due 2 s later
    assert pingback.advance("2s") == ran
    assert [a.status for a in ran[0].attempts] == ["failed", "success"]
    assert len(ran[0].children) == 3


# --- history and isolation ----------------------------------------------------------


def test_no_history_unless_asked(pingback: VirtualPlatform, in_timeproj: Path) -> None:
    pingback.run("digest")
    assert not (in_timeproj / ".pingback" / "history.sqlite3").exists()


def test_history_records_executions(pingback: VirtualPlatform, tmp_path: Path) -> None:
    from pingback_cli.history.store import Store

    path = pingback.history(tmp_path / "history.sqlite3")
    root = pingback.run("digest")

    store = Store(path, readonly=True)
    try:
        assert len(store.tree(root.id).walk()) == 4
    finally:
        store.close()


def test_isolated_runs_handlers_in_a_worker(pingback: VirtualPlatform) -> None:
    pingback.isolated()

    died = pingback.run("die")
    root = pingback.run("digest")

    assert died.status == "failed" and "worker process died" in (died.error or "")
    root.assert_success()
    reminded = pingback.run("remind", {"user": "bo"})
    reminded.assert_success()
    ran = pingback.advance("15m")
    assert {r.function: r.status for r in ran} == {"digest": "success", "follow-up": "success"}


# --- plans and the concurrency model ------------------------------------------------


def test_a_plan_caps_fan_out_and_retries_as_the_platform_does(pingback: VirtualPlatform) -> None:
    pingback.load(plan="free")  # fan-out 0, at most 1 retry
    pingback.fail("deliver", times=5, error="down")

    root = pingback.run("digest")
    assert root.status == "success" and root.children == []

    single = pingback.run("deliver", {"to": "z@example.com"})  # retries=2 declared, 1 kept
    assert [a.status for a in single.attempts] == ["failed", "failed"]


def test_the_plan_comes_from_the_environment_as_for_run(
    pingback: VirtualPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_PLAN", "pro")
    pingback.load()
    assert pingback.plan is not None and pingback.plan.name == "pro"
    assert len(pingback.run("digest").children) == 3


def test_one_pool_by_default_per_function_limits_when_documented(in_timeproj: Path) -> None:
    # Three deliver children (concurrency=1) hang until their 15 s timeout, then retry after 2 s:
    # side by side in the pool, all done at 17 s; one at a time, the third times out at 45 s
    # and its retry, queued behind nothing, runs at 47 s.
    for mode, seconds in (("platform", 17), ("documented", 47)):
        with VirtualPlatform() as platform:
            platform.load(concurrency=mode)
            platform.timeout("deliver", times=3, attempt=1)
            start = platform.clock.now()
            platform.run("digest").assert_success()
            assert platform.clock.now() - start == seconds, mode
