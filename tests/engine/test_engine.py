"""Engine semantics on a fake clock: nothing here sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pingback_cli.engine.clock import FakeClock, settle
from pingback_cli.engine.engine import Engine, Event, Limits, UnknownFunction
from pingback_cli.engine.retries import backoff_seconds
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.protocol import AttemptOutcome, AttemptRequest


def spec(name: str, *, retries: int = 0, timeout: float = 30, concurrency: int = 1) -> FunctionSpec:
    return FunctionSpec(name, "task", None, retries, f"{timeout:g}s", timeout, concurrency)


def ok(result: Any = None, tasks: list[dict[str, Any]] | None = None) -> AttemptOutcome:
    return AttemptOutcome(200, {"status": "success", "result": result, "logs": [], "tasks": tasks or []})


def error(message: str, tasks: list[dict[str, Any]] | None = None) -> AttemptOutcome:
    return AttemptOutcome(500, {"status": "error", "error": message, "tasks": tasks or []})


Script = Callable[[AttemptRequest], AttemptOutcome | None]


class FakeExecutor:
    """Answers each attempt from a script; ``None`` means the handler never answers."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[AttemptRequest] = []
        self.held: list[tuple[AttemptRequest, asyncio.Future[AttemptOutcome]]] = []

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        self.requests.append(request)
        future: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        outcome = self.script(request)
        if outcome is None:
            self.held.append((request, future))
        else:
            future.set_result(outcome)
        return future

    def release(self, outcome: AttemptOutcome) -> None:
        _request, future = self.held.pop(0)
        future.set_result(outcome)


class DirectFakeExecutor(FakeExecutor):
    """The same script through the direct path (``ports.DirectExecutor``, as the worker's
    executor answers): ``answer`` called on a later loop turn, never after an abandon."""

    def start_attempt_direct(
        self, request: AttemptRequest, answer: Callable[[AttemptOutcome], None]
    ) -> Callable[[], None]:
        self.requests.append(request)
        held = _Held(answer)
        outcome = self.script(request)
        if outcome is None:
            self.held.append((request, held))  # type: ignore[arg-type]
        else:
            asyncio.get_running_loop().call_soon(held.set_result, outcome)
        return held.abandon


class _Held:
    """A direct attempt the fake holds: ``set_result`` answers it unless it was abandoned."""

    def __init__(self, answer: Callable[[AttemptOutcome], None]) -> None:
        self._answer = answer
        self._done = False

    def done(self) -> bool:
        return self._done

    def abandon(self) -> None:
        self._done = True

    def set_result(self, outcome: AttemptOutcome) -> None:
        if not self._done:
            self._done = True
            self._answer(outcome)


_EXECUTOR: list[type[FakeExecutor]] = [FakeExecutor]


@pytest.fixture(autouse=True, params=[FakeExecutor, DirectFakeExecutor], ids=["future", "direct"])
def executor_kind(request: pytest.FixtureRequest) -> Any:
    """Every test here runs on both paths by which an executor answers the engine."""
    _EXECUTOR[0] = request.param
    yield
    _EXECUTOR[0] = FakeExecutor


def make(
    script: Script, *specs: FunctionSpec, **kwargs: Any
) -> tuple[Engine, FakeExecutor, FakeClock, list[Event]]:
    clock = FakeClock()
    executor = _EXECUTOR[0](script)
    events: list[Event] = []
    engine = Engine(executor, functions=specs, clock=clock, on_event=events.append, **kwargs)
    return engine, executor, clock, events


@pytest.mark.parametrize(("failed", "wait"), [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (10, 60)])
def test_backoff_schedule(failed: int, wait: int) -> None:
    assert backoff_seconds(failed) == wait


async def test_success_records_result_and_attempt() -> None:
    engine, executor, _, events = make(lambda r: ok({"n": 1}), spec("a"))
    root = engine.submit("a", payload={"x": 1}, has_payload=True)
    await engine.drain()
    assert root.status == "success"
    assert root.result == {"n": 1}
    assert [a.status for a in root.attempts] == ["success"]
    assert executor.requests[0].body()["payload"] == {"x": 1}
    assert [e.kind for e in events] == ["started", "succeeded", "finished"]


async def test_payload_is_omitted_when_absent() -> None:
    engine, executor, _, _ = make(lambda r: ok(), spec("a"))
    engine.submit("a")
    await engine.drain()
    assert "payload" not in executor.requests[0].body()


async def test_unknown_root_is_refused() -> None:
    engine, _, _, _ = make(lambda r: ok(), spec("a"))
    with pytest.raises(UnknownFunction):
        engine.submit("nope")


async def test_retries_wait_out_the_backoff() -> None:
    engine, executor, clock, events = make(
        lambda r: error("boom") if r.attempt < 3 else ok("done"), spec("a", retries=3)
    )
    root = engine.submit("a")
    await settle()
    assert len(executor.requests) == 1 and root.status == "pending"
    assert clock.pending_delays() == [2]
    await clock.advance(1.9)
    assert len(executor.requests) == 1
    await clock.advance(0.1)
    assert len(executor.requests) == 2
    assert clock.pending_delays() == [4]
    await clock.advance(4)
    await engine.drain()
    assert root.status == "success" and root.attempt == 3
    assert [a.status for a in root.attempts] == ["failed", "failed", "success"]
    retrying = [e for e in events if e.kind == "retrying"]
    assert [e.detail for e in retrying] == ["HTTP 500: boom", "HTTP 500: boom"]
    assert root.due_at == retrying[-1].at + 4  # the last retry was due 4 s after its failure


async def test_exhausted_retries_fail_with_every_attempt_recorded() -> None:
    engine, executor, clock, _ = make(lambda r: error(f"boom {r.attempt}"), spec("a", retries=2))
    root = engine.submit("a")
    await clock.advance(100)
    await engine.drain()
    assert root.status == "failed"
    assert root.error == "HTTP 500: boom 3"
    assert [a.error for a in root.attempts] == ["HTTP 500: boom 1", "HTTP 500: boom 2", "HTTP 500: boom 3"]
    assert len(executor.requests) == 3


async def test_no_backoff_retries_at_once() -> None:
    engine, executor, clock, _ = make(lambda r: error("x"), spec("a", retries=2), backoff=False)
    engine.submit("a")
    await clock.advance(0)
    await engine.drain()
    assert len(executor.requests) == 3


async def test_timeout_fails_the_attempt_at_the_deadline() -> None:
    engine, _executor, clock, _ = make(lambda r: None, spec("a", timeout=5, retries=1))
    root = engine.submit("a")
    await clock.advance(4.9)
    assert root.status == "running"
    await clock.advance(0.1)
    assert root.attempts[0].status == "failed"
    assert "timed out after 5s" in (root.attempts[0].error or "")
    await clock.advance(2)  # backoff, then attempt 2 also hangs
    await clock.advance(5)
    await engine.drain()
    assert root.status == "failed" and len(root.attempts) == 2


async def test_a_late_answer_after_timeout_is_ignored() -> None:
    engine, executor, clock, _ = make(lambda r: None, spec("a", timeout=1))
    root = engine.submit("a")
    await clock.advance(1)
    await engine.drain()
    _, future = executor.held[0]
    assert future.done(), "the executor's future is settled so its late answer is dropped"
    assert root.status == "failed" and root.completed_at == clock.now()


async def test_fan_out_happens_only_after_success() -> None:
    def script(r: AttemptRequest) -> AttemptOutcome:
        if r.function == "parent" and r.attempt == 1:
            return error("first try", tasks=[{"name": "child", "payload": {"from": 1}}])
        if r.function == "parent":
            return ok(tasks=[{"name": "child", "payload": {"from": 2}}])
        return ok()

    engine, executor, clock, _ = make(script, spec("parent", retries=1), spec("child"))
    root = engine.submit("parent")
    await clock.advance(2)
    await engine.drain()
    children = root.children
    assert [c.payload for c in children] == [{"from": 2}]
    child = children[0]
    assert child.parent_id == root.id and child.root_id == root.id and child.depth == 1
    assert child.trigger == "fanout" and child.status == "success"
    assert [r.function for r in executor.requests] == ["parent", "parent", "child"]


async def test_children_fan_out_recursively_with_their_own_options() -> None:
    def script(r: AttemptRequest) -> AttemptOutcome:
        nxt = {"a": "b", "b": "c"}.get(r.function)
        if r.function == "b" and r.attempt == 1:
            return error("b flaked")
        return ok(tasks=[{"name": nxt, "payload": None}] if nxt else [])

    engine, _, clock, _ = make(script, spec("a"), spec("b", retries=1), spec("c"))
    root = engine.submit("a")
    await clock.advance(2)
    await engine.drain()
    b = root.children[0]
    c = b.children[0]
    assert (b.function, b.attempt, c.function, c.depth) == ("b", 2, "c", 2)
    assert all(e.status == "success" for e in root.walk())


async def test_unregistered_child_is_a_failed_child() -> None:
    engine, _, _, _ = make(
        lambda r: (
            ok(tasks=[{"name": "ghost", "payload": {}}, {"name": "real"}]) if r.function == "p" else ok()
        ),
        spec("p"),
        spec("real"),
    )
    root = engine.submit("p")
    await engine.drain()
    ghost, real = root.children
    assert ghost.status == "failed" and ghost.type is None
    assert 'task "ghost" is not registered' in (ghost.error or "")
    assert real.status == "success"


async def test_a_chain_of_a_task_fanning_out_to_itself_never_counts_as_running_twice() -> None:
    """A child starts only after its parent's attempt answered: no 'running 2 at once' notice
    for a strictly sequential chain (new-user trial #2, finding 6)."""
    engine, _, _, events = make(
        lambda r: ok(tasks=[{"name": "deep", "payload": r.payload + 1}] if r.payload < 5 else []),
        spec("deep"),
    )
    submitted = engine.submit("deep", payload=0, has_payload=True)
    await engine.drain()
    assert [e.payload for e in submitted.walk()] == [0, 1, 2, 3, 4, 5]
    assert all(e.status == "success" for e in submitted.walk())
    assert [e.detail for e in events if e.kind == "notice"] == []


async def test_task_concurrency_queues_the_rest() -> None:
    engine, executor, _, _ = make(lambda r: None, spec("t", concurrency=2), concurrency="documented")
    roots = [engine.submit("t") for _ in range(5)]
    await settle()
    assert len(executor.requests) == 2
    executor.release(ok())
    await settle()
    assert len(executor.requests) == 3
    while executor.held:
        executor.release(ok())
        await settle()
    await engine.drain()
    assert all(r.status == "success" for r in roots)


async def test_a_retry_waiting_for_backoff_frees_its_slot() -> None:
    engine, _executor, clock, _ = make(
        lambda r: error("x") if r.execution_id == first.id and r.attempt == 1 else ok(),
        spec("t", retries=1, concurrency=1),
    )
    first = engine.submit("t")
    second = engine.submit("t")
    await settle()
    assert second.status == "success" and first.status == "pending"
    await clock.advance(2)
    await engine.drain()
    assert first.status == "success"


async def test_delayed_root_waits_for_its_delay() -> None:
    engine, executor, clock, _ = make(lambda r: ok(), spec("t"))
    root = engine.submit("t", delay=90)
    assert root.scheduled_at == clock.now() + 90
    await clock.advance(89)
    assert executor.requests == []
    await clock.advance(1)
    await engine.drain()
    assert root.status == "success"


async def test_fan_out_limits_stop_runaway_recursion() -> None:
    engine, _, _, _ = make(lambda r: ok(tasks=[{"name": "loop"}]), spec("loop"), limits=Limits(max_depth=3))
    root = engine.submit("loop")
    await engine.drain()
    deepest = root.walk()[-1]
    assert deepest.depth == 4 and deepest.status == "failed"
    assert "depth limit" in (deepest.error or "")
    assert deepest.type == "task"  # its function exists: refused, not unknown


async def test_a_child_no_function_has_is_the_only_untyped_one() -> None:
    engine, _, _, _ = make(
        lambda r: ok(tasks=[{"name": "nope"}, {"name": "leaf"}]) if r.function == "fan" else ok(),
        spec("fan"),
        spec("leaf"),
    )
    root = engine.submit("fan")
    await engine.drain()
    assert {child.function: child.type for child in root.children} == {"nope": None, "leaf": "task"}


async def test_executions_per_root_limit() -> None:
    engine, _, _, _ = make(
        lambda r: ok(tasks=[{"name": "leaf"}] * 10) if r.function == "root" else ok(),
        spec("root"),
        spec("leaf"),
        limits=Limits(max_executions_per_root=5),
    )
    root = engine.submit("root")
    await engine.drain()
    statuses = [c.status for c in root.children]
    assert statuses == ["success"] * 4 + ["failed"]
    assert "6 task requests from this execution were dropped" in (root.children[-1].error or "")


async def test_interrupt_marks_everything_unfinished() -> None:
    engine, _executor, _clock, _ = make(lambda r: None, spec("t"))
    running = engine.submit("t")
    queued = engine.submit("t")
    delayed = engine.submit("t", delay=60)
    await settle()
    roots = engine.interrupt("stopped")
    assert {r.id for r in roots} == {running.id, queued.id, delayed.id}
    for execution in (running, queued, delayed):
        assert execution.status == "interrupted" and execution.error == "stopped"
    assert running.attempts[0].status == "interrupted"
    await engine.drain()


async def test_wait_returns_when_the_whole_tree_is_done() -> None:
    engine, executor, _, events = make(
        lambda r: ok(tasks=[{"name": "c"}]) if r.function == "p" else None, spec("p"), spec("c")
    )
    root = engine.submit("p")
    waiter = asyncio.ensure_future(engine.wait(root.id))
    await settle()
    assert not waiter.done()
    executor.release(ok())
    assert (await waiter) is root
    assert events[-1].kind == "finished" and events[-1].execution is root


async def test_streamed_logs_are_kept_when_the_attempt_dies() -> None:
    engine, executor, _, events = make(lambda r: None, spec("t"))
    root = engine.submit("t")
    await settle()
    engine.on_worker_log(root.id, 1, {"timestamp": 1, "level": "info", "message": "hello"})
    executor.release(AttemptOutcome(None, error="the worker process died"))
    await engine.drain()
    assert root.status == "failed" and [log.message for log in root.logs] == ["hello"]
    assert any(e.kind == "log" for e in events)


class Recorder:
    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def save(self, execution: Execution) -> None:
        self.saved[execution.id] = execution.status


async def test_every_state_change_reaches_the_store() -> None:
    store = Recorder()
    engine, _, _, _ = make(
        lambda r: ok(tasks=[{"name": "c"}, {"name": "ghost"}]) if r.function == "p" else ok(),
        spec("p"),
        spec("c"),
        store=store,
    )
    root = engine.submit("p")
    await engine.drain()
    assert len(store.saved) == 3
    assert store.saved[root.id] == "success"
    assert sorted(store.saved.values()) == ["failed", "success", "success"]


async def test_the_fan_out_limit_message_never_reads_as_if_the_limit_did_not_hold() -> None:
    """Each parent refused past the limit adds one refusal record; the message names the limit."""
    engine, _executor, _clock, _ = make(
        lambda r: (
            ok(tasks=[{"name": "mid"}] * 3)
            if r.function == "root"
            else ok(tasks=[{"name": "leaf"}] * 10)
            if r.function == "mid"
            else ok()
        ),
        spec("root"),
        spec("mid"),
        spec("leaf"),
        limits=Limits(max_executions_per_root=6),
    )
    root = engine.submit("root")
    await engine.drain()
    refusals = [e.error or "" for e in root.walk() if "fan-out limit" in (e.error or "")]
    ran = [e for e in root.walk() if e.status == "success"]
    assert len(ran) == 6 and len(refusals) == 3
    for message in refusals:
        assert "this run has used all 6 executions that max-executions-per-root allows" in message
        claim = message.split(";")[0]  # what it says about the run, before what was dropped
        assert not any(int(word) > 6 for word in claim.split() if word.isdigit()), message


async def test_a_fan_out_to_a_paused_or_inactive_job_fails_loudly_a_trigger_still_runs() -> None:
    statuses = {"held": "paused", "gone": "inactive"}
    engine, executor, _clock, _ = make(
        lambda r: ok(tasks=[{"name": "held"}, {"name": "gone"}]) if r.function == "parent" else ok(),
        spec("parent"),
        spec("held"),
        spec("gone"),
    )
    engine.job_status = statuses.get
    root = engine.submit("parent")
    await engine.drain()
    held, gone = root.children
    assert held.status == gone.status == "failed"
    assert 'task "held" is paused' in (held.error or "") and 'task "gone" is inactive' in (gone.error or "")
    direct = engine.submit("held")  # trigger.controller.ts finds the job whatever its status
    await engine.drain()
    assert direct.status == "success"
    assert [r.function for r in executor.requests] == ["parent", "held"]


async def test_cancel_and_rerun_in_place() -> None:
    failing = {"n": 0}

    def script(r: AttemptRequest) -> AttemptOutcome:
        failing["n"] += 1
        return error("broken") if failing["n"] == 1 else ok("fixed")

    engine, executor, clock, _ = make(script, spec("a", retries=3))
    later = engine.submit("a", delay=60)
    assert engine.cancel(later.id) is later and later.status == "cancelled"
    assert engine.cancel(later.id) is None  # finished: nothing to cancel
    await clock.advance(61)
    assert executor.requests == []  # a cancelled delayed execution never runs
    root = engine.submit("a")
    await clock.advance(2)
    await engine.drain()
    assert root.status == "success" and len(root.attempts) == 2
    engine.rerun(root)  # in place, attempt 3, no automatic retry after it
    await engine.drain()
    assert root.status == "success" and [a.number for a in root.attempts] == [1, 2, 3]
