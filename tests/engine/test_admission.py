"""A fan-out's children admitted a slice per turn of the loop (``engine.admission``): the same
children, order, records and events as when they are admitted at once; the parent finishes only
once the last is admitted; nothing is queued ahead of them; a stop admits them first."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine.test_engine import DirectFakeExecutor, FakeExecutor, ok, spec
from pingback_cli.engine.admission import Admission
from pingback_cli.engine.clock import SystemClock, settle
from pingback_cli.engine.engine import Engine, Event
from pingback_cli.models import Execution
from pingback_cli.protocol import AttemptRequest


def parent(name: str = "p") -> Execution:
    return Execution(name, "p", "task", 0.0)


def numbered(count: int, prefix: str = "c") -> Any:
    return ((Execution(f"{prefix}{i}", "c", "task", 0.0), None) for i in range(count))


class Log:
    def __init__(self) -> None:
        self.admitted: list[str] = []
        self.finished: list[str] = []


def admission(slice_size: int | None, log: Log) -> Admission:
    return Admission(
        SystemClock(),
        lambda child, problem, now: log.admitted.append(child.id),
        lambda execution: log.finished.append(execution.id),
        slice_size,
    )


async def test_a_slice_at_once_then_a_slice_per_turn_and_the_parent_after_the_last() -> None:
    log = Log()
    queue = admission(2, log)
    queue.add(parent(), numbered(5), 0.0)
    assert log.admitted == ["c0", "c1"] and log.finished == [] and queue.pending
    while len(log.admitted) == 2:
        await asyncio.sleep(0)
    assert log.admitted == ["c0", "c1", "c2", "c3"] and log.finished == []
    await settle()
    assert log.admitted == [f"c{i}" for i in range(5)]
    assert log.finished == ["p"] and not queue.pending


async def test_without_a_slice_size_everything_at_once() -> None:
    log = Log()
    admission(None, log).add(parent(), numbered(1000), 0.0)
    assert len(log.admitted) == 1000 and log.finished == ["p"]


async def test_a_second_fan_out_waits_behind_the_first_and_complete_admits_both_in_order() -> None:
    log = Log()
    queue = admission(2, log)
    queue.add(parent("p1"), numbered(3, "a"), 0.0)
    queue.add(parent("p2"), numbered(3, "b"), 0.0)
    assert log.admitted == ["a0", "a1"]
    queue.complete()
    assert log.admitted == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert log.finished == ["p1", "p2"] and not queue.pending
    await settle()  # the turn that was booked finds nothing left
    assert len(log.admitted) == 6 and log.finished == ["p1", "p2"]


async def test_complete_from_within_an_admission_admits_the_rest_once_in_order() -> None:
    log = Log()
    queue: Admission

    def admit(child: Execution, problem: str | None, now: float) -> None:
        log.admitted.append(child.id)
        if child.id == "c3":
            queue.complete()  # as a history write that must not wait does, from a save

    queue = Admission(SystemClock(), admit, lambda e: log.finished.append(e.id), 2)
    queue.add(parent(), numbered(8), 0.0)
    await settle()
    assert log.admitted == [f"c{i}" for i in range(8)] and log.finished == ["p"]


# --- the engine -------------------------------------------------------------------------


def fan_out_script(count: int) -> Any:
    return lambda r: (
        ok(tasks=[{"name": "c", "payload": {"i": i}} for i in range(count)]) if r.function == "p" else ok()
    )


@pytest.fixture(params=[FakeExecutor, DirectFakeExecutor], ids=["future", "direct"])
def executor_type(request: pytest.FixtureRequest) -> type[FakeExecutor]:
    return request.param  # type: ignore[no-any-return]


def engine_with(executor: FakeExecutor, slice_size: int | None, events: list[Event]) -> Engine:
    return Engine(
        executor,
        functions=[spec("p"), spec("c", concurrency=100)],
        clock=SystemClock(),
        on_event=events.append,
        fan_out_slice=slice_size,
    )


async def test_sliced_or_not_the_same_children_run_in_the_same_order_with_the_same_events(
    executor_type: type[FakeExecutor],
) -> None:
    seen = []
    for slice_size in (None, 3):
        executor, events = executor_type(fan_out_script(50)), []
        engine = engine_with(executor, slice_size, events)
        root = engine.submit("p")
        assert await engine.wait(root.id) is root
        assert [c.payload for c in root.children] == [{"i": i} for i in range(50)]
        assert all(c.status == "success" for c in root.walk())
        assert len({c.scheduled_at for c in root.children}) == 1  # when the answer was read
        seen.append(
            (
                [(r.function, r.payload) for r in executor.requests],
                sorted((e.kind, (e.execution.payload or {"i": -1})["i"]) for e in events),
                [e.kind for e in events if e.execution is root],
            )
        )
    assert seen[0] == seen[1]
    assert seen[1][2][-1] == "finished"


async def test_the_parent_finishes_only_once_its_last_child_is_admitted(
    executor_type: type[FakeExecutor],
) -> None:
    executor: FakeExecutor = executor_type(lambda r: fan_out_script(10)(r) if r.function == "p" else None)
    engine = engine_with(executor, 2, [])
    root = engine.submit("p")
    await asyncio.sleep(0)
    while not root.children:
        await asyncio.sleep(0)
    assert root.status == "success" and len(root.children) < 10
    assert root.id in engine.ledger.unfinished  # not finished in the tree, nor saved as such
    await settle()
    assert len(root.children) == 10 and root.id not in engine.ledger.unfinished
    while executor.held:
        executor.release(ok())
        await settle()
    await engine.drain()


async def test_a_stop_mid_admission_interrupts_every_child_none_missing(
    executor_type: type[FakeExecutor],
) -> None:
    executor: FakeExecutor = executor_type(lambda r: fan_out_script(30)(r) if r.function == "p" else None)
    engine = engine_with(executor, 4, [])
    root = engine.submit("p")
    while not root.children:
        await asyncio.sleep(0)
    assert engine.admission.pending
    engine.interrupt("stopped")
    assert len(root.children) == 30 and not engine.admission.pending
    assert root.status == "success"
    assert all(c.status == "interrupted" for c in root.children)


async def test_nothing_is_queued_ahead_of_children_still_to_be_admitted(
    executor_type: type[FakeExecutor],
) -> None:
    def script(r: AttemptRequest) -> Any:
        return fan_out_script(12)(r) if r.function == "p" else None

    executor: FakeExecutor = executor_type(script)
    engine = Engine(
        executor, functions=[spec("p"), spec("c"), spec("late")], clock=SystemClock(), fan_out_slice=2
    )
    engine.slots.pool_size = 1  # one runs at a time: the queue's order is the order of starts
    root = engine.submit("p")
    while not root.children:
        await asyncio.sleep(0)
    engine.submit("late")  # a cron firing, a trigger, a retry coming due, mid-admission
    while executor.held:
        executor.release(ok())
        await settle()
    assert [r.function for r in executor.requests] == ["p"] + ["c"] * 12 + ["late"]


async def test_a_suspend_mid_admission_keeps_the_rest_pending_and_starts_none(
    executor_type: type[FakeExecutor],
) -> None:
    executor: FakeExecutor = executor_type(lambda r: fan_out_script(30)(r) if r.function == "p" else None)
    engine = engine_with(executor, 4, [])
    engine.slots.pool_size = 100  # room to start every child: none may start because of the stop
    root = engine.submit("p")
    while not root.children:
        await asyncio.sleep(0)
    started = len(executor.requests)
    assert started == 1 + 4  # the parent, and the first slice
    kept, ended = engine.suspend("pingback stopped")
    assert len(executor.requests) == started and len(root.children) == 30
    assert [c.status for c in root.children[4:]] == ["pending"] * 26
    assert (kept, ended) == (26, 4)  # the 4 running end interrupted (no retries left)
