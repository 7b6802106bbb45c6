"""The engine's side of the durable queue: ``suspend`` keeps what is unfinished, ``resume``
takes it over in a new engine (as a restarted dev does), on a fake clock."""

from __future__ import annotations

import copy

from engine.test_engine import error, make, ok, spec
from pingback_cli.engine.clock import settle
from pingback_cli.models import Execution

REASON = "pingback dev stopped during this attempt"


def snapshot(*roots: Execution) -> list[Execution]:
    """What history holds after a stop: independent copies of the trees."""
    return [copy.deepcopy(root) for root in roots]


async def test_due_times_follow_delay_queue_and_backoff() -> None:
    engine, _executor, clock, events = make(
        lambda r: error("boom") if r.function == "flaky" else None, spec("flaky", retries=2), spec("t")
    )
    delayed = engine.submit("t", delay=30)
    assert delayed.due_at == clock.now() + 30
    assert [e.kind for e in events] == ["scheduled"]
    flaky = engine.submit("flaky")
    await settle()
    assert flaky.status == "pending" and flaky.due_at == clock.now() + 2
    retrying = [e for e in events if e.kind == "retrying"]
    assert retrying[0].detail == "HTTP 500: boom"  # what the platform records, then the handler's words


async def test_suspend_keeps_waiting_work_pending_and_fails_the_running_attempt() -> None:
    engine, _executor, clock, _ = make(
        lambda r: None, spec("t", retries=1), spec("once"), concurrency="documented"
    )
    running = engine.submit("t")
    queued = engine.submit("t")
    delayed = engine.submit("once", delay=60)
    no_retries = engine.submit("once")
    await settle()
    kept, ended = engine.suspend(REASON)
    assert (kept, ended) == (3, 1)
    assert not engine.busy
    assert running.status == "pending" and running.attempts[0].status == "failed"
    assert running.attempts[0].error == REASON and running.due_at == clock.now() + 2
    assert queued.status == "pending" and queued.attempts == []
    assert delayed.status == "pending" and delayed.due_at == clock.now() + 60
    assert no_retries.status == "interrupted" and no_retries.error == REASON
    await engine.drain()


async def test_resume_runs_overdue_work_at_once_and_the_rest_at_its_time() -> None:
    first, _, clock, _ = make(lambda r: None, spec("t"))
    overdue = first.submit("t", delay=5)
    later = first.submit("t", delay=100)
    first.suspend(REASON)
    saved = snapshot(overdue, later)

    second, executor, clock2, events = make(lambda r: ok("done"), spec("t"))
    await clock2.advance(10 + (clock.now() - clock2.now()))  # the restart comes 10 s later
    taken = second.resume(saved, reason=REASON)
    assert [e.id for e in taken] == [overdue.id, later.id]
    await settle()
    await clock2.advance(0)
    assert [r.execution_id for r in executor.requests] == [overdue.id]
    await clock2.advance(89)
    assert len(executor.requests) == 1
    await clock2.advance(1)
    await second.drain()
    assert [r.execution_id for r in executor.requests] == [overdue.id, later.id]
    assert {e.kind for e in events} >= {"resumed", "finished"}


async def test_resume_retries_an_attempt_that_was_running_when_the_process_died() -> None:
    first, _, _, _ = make(lambda r: None, spec("t", retries=1), spec("once"))
    retried = first.submit("t")
    lost = first.submit("once")
    await settle()
    # kill -9: nothing more is recorded; history still says "running".
    saved = snapshot(retried, lost)
    assert [e.status for e in saved] == ["running", "running"]

    second, executor, clock, events = make(lambda r: ok(), spec("t", retries=1), spec("once"))
    second.resume(saved, reason=REASON)
    back = second.ledger.unfinished[retried.id]
    assert back.status == "pending" and back.attempts[0].status == "failed"
    assert back.attempts[0].error == REASON
    interrupted = [e for e in events if e.kind == "interrupted"]
    assert [e.execution.id for e in interrupted] == [lost.id]
    assert interrupted[0].execution.error == REASON
    await clock.advance(2)
    await second.drain()
    assert [(r.execution_id, r.attempt) for r in executor.requests] == [(retried.id, 2)]
    assert back.status == "success" and len(back.attempts) == 2


async def test_resume_of_a_tree_keeps_its_finished_parent_and_counts_it() -> None:
    first, executor1, _, _ = make(
        lambda r: ok(tasks=[{"name": "c"}] * 3) if r.function == "p" else None,
        spec("p"),
        spec("c", retries=1),
    )
    root = first.submit("p")
    await settle()
    assert root.status == "success" and len(root.children) == 3
    executor1.release(ok())  # one child done; two still running or queued
    await settle()
    first.suspend(REASON)
    [saved] = snapshot(root)

    second, _executor, clock, events = make(lambda r: ok(), spec("p"), spec("c", retries=1))
    taken = second.resume([saved], reason=REASON)
    assert len(taken) == 2
    await clock.advance(2)
    await second.drain()
    finished = [e for e in events if e.kind == "finished"]
    assert [e.execution.id for e in finished] == [root.id]
    assert [c.status for c in finished[0].execution.children] == ["success"] * 3


async def test_resume_of_work_whose_function_is_gone_fails_it() -> None:
    first, _, _, _ = make(lambda r: None, spec("gone"))
    waiting = first.submit("gone", delay=1)
    first.suspend(REASON)
    second, _, clock, _ = make(lambda r: ok(), spec("other"))
    [back] = second.resume(snapshot(waiting), reason=REASON)
    await clock.advance(1)
    await second.drain()
    assert back.status == "failed" and "no longer defined" in (back.error or "")


async def test_waiting_says_what_waits_while_nothing_runs() -> None:
    engine, executor, clock, _ = make(lambda r: None, spec("t", retries=1))
    assert engine.waiting() is None
    delayed = engine.submit("t", delay=30)
    assert engine.waiting() == (1, 0, delayed.due_at)
    flaky = engine.submit("t")
    await settle()
    assert engine.waiting() is None  # an attempt runs
    executor.release(error("boom"))
    await settle()
    assert engine.waiting() == (1, 1, flaky.due_at) and flaky.due_at == clock.now() + 2


async def test_an_attempt_cut_off_by_a_dead_process_ends_when_last_seen() -> None:
    from pingback_cli.models import LogEntry

    first, _, clock, _ = make(lambda r: None, spec("once"), spec("quiet"))
    seen = first.submit("once")
    quiet = first.submit("quiet")
    await settle()
    started = seen.attempts[0].started_at
    seen.attempts[0].logs.append(LogEntry(int((started + 0.25) * 1000), "info", "working"))
    saved = snapshot(seen, quiet)  # then kill -9

    second, _, clock2, _ = make(lambda r: ok(), spec("once"), spec("quiet"))
    await clock2.advance(30 + (clock.now() - clock2.now()))  # the next dev starts 30 s later
    second.resume(saved, reason=REASON)
    back = {e.id: e for e in saved}
    logged, silent = back[seen.id], back[quiet.id]
    assert logged.status == "interrupted" and logged.attempts[0].duration_ms == 250
    assert logged.completed_at == logged.attempts[0].completed_at == started + 0.25
    assert silent.status == "interrupted" and silent.attempts[0].duration_ms is None
    assert silent.completed_at is None and silent.duration_ms is None  # not the 30 s it was down


async def test_a_manual_retry_marks_its_attempt_as_asked_for() -> None:
    engine, _, clock, _ = make(lambda r: error("broken"), spec("a"))
    root = engine.submit("a")
    await engine.drain()
    await clock.advance(120)  # idle for two minutes, then Retry
    engine.rerun(root)
    await engine.drain()
    first, second = root.attempts
    assert first.requested_at is None
    assert second.requested_at == root.scheduled_at == clock.now()
