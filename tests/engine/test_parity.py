"""The engine as the platform's code runs it: one pool of 20, plan caps, answers read by status
code with strict logs and tasks, timeouts as the platform reads them, children's requests."""

from __future__ import annotations

import re

import pytest

from engine.test_engine import error, make, ok, spec
from pingback_cli.engine.clock import settle
from pingback_cli.models import FunctionSpec
from pingback_cli.project.plans import PLANS
from pingback_cli.protocol import AttemptOutcome


async def test_one_pool_of_20_for_the_project_whatever_concurrency_says() -> None:
    engine, executor, _, events = make(lambda r: None, spec("slow", concurrency=1), spec("other"))
    for _ in range(25):
        engine.submit("slow")
    engine.submit("other")
    await settle()
    assert len(executor.requests) == 20  # config.go: WORKER_POOL_SIZE 20
    assert {r.function for r in executor.requests} == {"slow"}  # FIFO: "other" waits its turn
    notices = [e.detail for e in events if e.kind == "notice"]
    assert len(notices) == 1 and "production does the same" in notices[0]
    while executor.held:
        executor.release(ok())
        await settle()
    await engine.drain()
    assert [r.function for r in executor.requests].count("other") == 1


async def test_a_cron_late_for_a_slot_says_why_and_how_late() -> None:
    """New-user finding 6: a cron occurrence queued behind the full pool of 20 (config.go:29)
    starts late; its started line and its attempt say so, once, with what it waited behind."""
    engine, executor, clock, events = make(
        lambda r: None if r.function == "slow" else ok(), spec("slow", concurrency=1), spec("tick")
    )
    for _ in range(22):
        engine.submit("slow")
    await settle()
    due = clock.now()
    tick = engine.submit("tick", trigger="cron", scheduled_at=due)
    on_time = engine.submit("tick", trigger="run")  # not a cron: waits as long, says nothing
    await clock.advance(15.6)
    for _ in range(3):  # the 2 slow ones ahead start first, then the cron occurrence
        executor.release(ok())
        await settle()
    started = [e for e in events if e.kind == "started" and e.execution is tick]
    said = "started 15.6s late: waited for a slot (20 running, 2 queued ahead)"
    assert [e.detail for e in started] == [said]
    assert tick.attempts[0].notices == [said]
    assert tick.attempts[0].started_at - tick.scheduled_at == pytest.approx(15.6)
    assert [e.detail for e in events if e.kind == "started" and e.execution is on_time] == [None]
    engine.interrupt("stop")


async def test_a_cron_that_waited_under_a_second_says_nothing() -> None:
    engine, executor, clock, events = make(lambda r: None, spec("slow"), spec("tick"))
    for _ in range(20):
        engine.submit("slow")
    await settle()
    tick = engine.submit("tick", trigger="cron", scheduled_at=clock.now())
    await clock.advance(0.9)
    executor.release(ok())
    await settle()
    assert tick.attempts and not tick.attempts[0].notices
    assert [e.detail for e in events if e.kind == "started" and e.execution is tick] == [None]
    engine.interrupt("stop")


async def test_documented_mode_holds_each_function_to_its_concurrency() -> None:
    engine, executor, _, events = make(
        lambda r: None, spec("slow", concurrency=2), spec("other"), concurrency="documented"
    )
    for _ in range(5):
        engine.submit("slow")
    engine.submit("other")
    await settle()
    assert sorted(r.function for r in executor.requests) == ["other", "slow", "slow"]
    assert not [e for e in events if e.kind == "notice"]
    engine.interrupt("stop")


async def test_free_plan_caps_retries_at_one() -> None:
    engine, _, clock, _ = make(lambda r: error("nope"), spec("flaky", retries=3), plan=PLANS["free"])
    root = engine.submit("flaky")
    await clock.advance(100)
    await engine.drain()
    assert len(root.attempts) == 2  # limits.CapRetries: min(3, 1) + 1
    assert "the free plan runs at most 1 retry: 2 attempts in all" in root.attempts[-1].notices[0]
    assert engine.plan_caps.summary() is None


async def test_pro_plan_keeps_the_first_10_tasks() -> None:
    tasks = [{"name": "child", "payload": {"n": n}} for n in range(12)]
    engine, _, _, _ = make(
        lambda r: ok(tasks=tasks) if r.function == "parent" else ok(),
        spec("parent"),
        spec("child"),
        plan=PLANS["pro"],
    )
    root = engine.submit("parent")
    await engine.drain()
    assert [c.payload["n"] for c in root.children] == list(range(10))
    assert root.attempts[-1].notices == [
        "12 tasks requested, 10 dispatched, 2 dropped by the pro plan's limit of 10 "
        "(see docs/parity.md#plans)"
    ]


async def test_without_a_plan_nothing_is_capped_and_the_summary_names_the_cuts() -> None:
    tasks = [{"name": "child"} for _ in range(12)]
    engine, _, clock, _ = make(
        lambda r: (error("x") if r.attempt < 3 else ok(tasks=tasks)) if r.function == "parent" else ok(),
        spec("parent", retries=3),
        spec("child"),
    )
    root = engine.submit("parent", has_payload=False)
    await clock.advance(100)
    await engine.drain()
    assert len(root.children) == 12 and len(root.attempts) == 3
    assert engine.plan_caps.summary() == (
        "no plan set, so nothing was capped; in production the free plan would cut retries 2 to 1, "
        "fan-out 12 to 0; the pro plan would cut fan-out 12 to 10\n"
        "  (said once per project; --plan or [tool.pingback] plan applies a plan: docs/parity.md#plans)"
    )


async def test_any_2xx_is_success_whatever_status_says() -> None:
    engine, _, _, _ = make(lambda r: AttemptOutcome(200, {"status": "error", "error": "soft"}), spec("a"))
    root = engine.submit("a")
    await engine.drain()
    assert root.status == "success"
    assert 'this HTTP 200 answer with status "error" ("soft") passes there' in root.attempts[0].notices[0]


async def test_one_bad_log_loses_every_log_and_task_of_the_attempt() -> None:
    body = {
        "status": "success",
        "logs": [
            {"timestamp": 1, "level": "info", "message": "fine"},
            {"timestamp": 2, "level": "info", "message": 42},
        ],
        "tasks": [{"name": "child", "payload": None}],
    }
    engine, executor, _, _ = make(lambda r: AttemptOutcome(200, body), spec("a"), spec("child"))
    root = engine.submit("a")
    await engine.drain()
    assert root.status == "success" and root.children == [] and root.logs == []
    assert root.attempts[0].notices == [
        "the platform drops every log and task of this attempt: log 2's message is 42, not a string "
        "(see docs/parity.md#responses)"
    ]
    assert [r.function for r in executor.requests] == ["a"]


async def test_a_failed_attempt_records_http_code_and_the_handlers_words() -> None:
    engine, _, _, _ = make(lambda r: error("boom"), spec("a"))
    root = engine.submit("a")
    await engine.drain()
    assert root.error == "HTTP 500: boom"


async def test_a_misread_timeout_times_out_at_the_platforms_seconds_and_says_so() -> None:
    misread = FunctionSpec("slow", "task", None, 0, "2m", 2, 1, timeout_written=120)
    engine, _, clock, _ = make(lambda r: None, misread)
    root = engine.submit("slow")
    await settle()
    await clock.advance(2)
    await engine.drain()
    assert root.status == "failed"
    assert root.error == (
        'timed out after 2s: the handler was still running: the platform reads "2m" as 2 seconds; '
        'write "120s" (see docs/parity.md#timeouts)'
    )


async def test_children_get_nanosecond_scheduled_at_and_null_payload_kept_across_retries() -> None:
    engine, executor, clock, _ = make(
        lambda r: (
            ok(tasks=[{"name": "child", "payload": None}])
            if r.function == "parent"
            else (error("x") if r.attempt == 1 else ok())
        ),
        spec("parent"),
        spec("child", retries=1),
        backoff=False,
    )
    await clock.advance(0.123456789)
    engine.submit("parent")
    await clock.advance(1)
    await engine.drain()
    parent, first, second = executor.requests
    assert "payload" not in parent.body()
    assert first.body()["payload"] is None and second.body()["payload"] is None
    stamp = first.body()["scheduledAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", stamp)
    assert len(stamp.rpartition(".")[2]) > 4  # more than milliseconds
    assert second.body()["scheduledAt"] == stamp
    assert re.fullmatch(r".*\.\d{3}Z", parent.body()["scheduledAt"])


async def test_logs_streamed_before_a_timeout_stay_marked_not_kept_by_the_platform() -> None:
    engine, _, clock, _ = make(lambda r: None, spec("hangs", timeout=5))
    root = engine.submit("hangs")
    await settle()
    engine.on_worker_log(root.id, 1, {"timestamp": 1, "level": "info", "message": "about to hang"})
    await clock.advance(5)
    await engine.drain()
    assert [log.message for log in root.logs] == ["about to hang"]
    assert "not kept by the platform" in root.attempts[0].notices[0]
