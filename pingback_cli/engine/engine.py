"""The platform's semantics: queue, concurrency (``engine.slots``), timeouts, retries with
backoff, plan caps (``engine.plan_caps``), fan-out after success, and execution trees;
answers are read as the platform reads them (``pingback_cli.reading``).

The engine owns no process and no wall clock: attempts go to an injected
executor, time comes from an injected clock, records go to an injected store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pingback_cli.engine.clock import AttemptTimeout, Clock, TimerHandle, expire
from pingback_cli.engine.outcomes import keep_logs, over_declared, timed_out
from pingback_cli.engine.plan_caps import PlanCaps
from pingback_cli.engine.slots import ConcurrencyMode, Slots
from pingback_cli.errors import NotFound
from pingback_cli.models import Attempt, Execution, FunctionSpec, LogEntry, new_id
from pingback_cli.project.plans import Plan
from pingback_cli.protocol import AttemptOutcome, AttemptRequest
from pingback_cli.reading import read_attempt

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60
CANCELLED = "cancelled"


def backoff_seconds(failed_attempt: int) -> int:
    """The platform's wait before the next attempt after attempt ``failed_attempt`` failed."""
    return min(2**failed_attempt, MAX_BACKOFF_SECONDS)


class Executor(Protocol):
    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]: ...


class Recorder(Protocol):
    def save(self, execution: Execution) -> None: ...


class UnknownFunction(NotFound):
    """No function of this name is defined (the API answers 404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f'function "{name}" not found')
        self.name = name


@dataclass(frozen=True)
class Limits:
    """Guards against runaway fan-out (a task that dispatches itself forever)."""

    max_depth: int = 25
    max_executions_per_root: int = 50_000

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Limits:
        """``max-depth`` and ``max-executions-per-root`` from ``[tool.pingback]``."""
        values: dict[str, int] = {}
        for key, attribute in (
            ("max-depth", "max_depth"),
            ("max-executions-per-root", "max_executions_per_root"),
        ):
            if key not in settings:
                continue
            value = settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                from pingback_cli.errors import ProjectError

                raise ProjectError(
                    f"[tool.pingback] {key} must be a whole number of at least 1, got {value!r}"
                )
            values[attribute] = value
        return cls(**values)


@dataclass
class Event:
    kind: str
    """scheduled (a delayed root, due at ``execution.due_at``), started, log, retrying (due
    at ``execution.due_at``; detail: the error), succeeded, failed, interrupted, resumed
    (taken over from the durable queue), finished (a whole tree)."""
    execution: Execution
    at: float
    detail: str | None = None
    log: LogEntry | None = None


@dataclass
class _Tree:
    root: Execution
    unfinished: int = 0
    size: int = 0


class Engine:
    def __init__(
        self,
        executor: Executor,
        *,
        functions: Iterable[FunctionSpec],
        clock: Clock,
        store: Recorder | None = None,
        backoff: bool = True,
        limits: Limits | None = None,
        on_event: Callable[[Event], None] | None = None,
        concurrency: ConcurrencyMode = "platform",
        plan: Plan | None = None,
    ) -> None:
        self.executor = executor
        self.clock = clock
        self.store = store
        self.backoff = backoff
        self.limits = limits or Limits()
        self.on_event = on_event
        self.job_status: Callable[[str], str | None] | None = None
        """A function's job status (active, paused, inactive); fan-out to a held one fails."""
        self.functions: dict[str, FunctionSpec] = {}
        self.slots = Slots(concurrency)
        self.plan_caps = PlanCaps(plan)
        self.set_functions(functions)
        self._unfinished_by_function: dict[str, int] = {}
        self._trees: dict[str, _Tree] = {}
        self._unfinished: dict[str, Execution] = {}
        self._attempts: dict[tuple[str, int], Attempt] = {}
        self._timers: dict[str, TimerHandle] = {}
        self._inflight: dict[str, asyncio.Future[AttemptOutcome]] = {}
        self._waiters: dict[str, list[asyncio.Future[Execution]]] = {}
        self._manual: set[str] = set()
        """Executions re-run by hand (``rerun``): no automatic retry after that attempt."""
        self._idle = asyncio.Event()
        self._idle.set()

    # --- public -------------------------------------------------------------------

    def set_functions(self, functions: Iterable[FunctionSpec]) -> None:
        self.functions = {spec.name: spec for spec in functions}
        self._pump()

    def submit(
        self,
        function: str,
        *,
        payload: Any = None,
        has_payload: bool = False,
        delay: float = 0.0,
        scheduled_at: float | None = None,
        trigger: str = "run",
        replay_of: str | None = None,
        announce: Callable[[Execution], None] | None = None,
    ) -> Execution:
        """Queue a new root execution; it starts after ``delay`` seconds.

        ``announce`` is called with the recorded execution before it can start (the cron
        clock's "fired" comes before "started"). A delayed one emits ``scheduled``."""
        spec = self.functions.get(function)
        if spec is None:
            raise UnknownFunction(function)
        now = self.clock.now()
        execution = Execution(
            id=new_id(),
            function=function,
            type=spec.type,
            scheduled_at=scheduled_at if scheduled_at is not None else now + delay,
            payload=payload,
            has_payload=has_payload,
            trigger=trigger,
            replay_of=replay_of,
        )
        execution.due_at = execution.scheduled_at if delay > 0 else now
        self._trees[execution.id] = _Tree(execution)
        self._admit(execution)
        if announce is not None:
            announce(execution)
        if delay > 0:
            self._emit("scheduled", execution)
            self._later(execution, delay)
        else:
            self._enqueue(execution)
        return execution

    def unfinished_count(self, function: str) -> int:
        return self._unfinished_by_function.get(function, 0)

    @property
    def busy(self) -> bool:
        return bool(self._unfinished)

    def waiting(self) -> tuple[int, int, float | None] | None:
        """While no attempt runs: (delayed, retrying, soonest ``due_at``) over executions
        waiting out a delay or a backoff; None when an attempt runs or nothing waits."""
        if self._inflight or not self._timers:
            return None
        delayed = retrying = 0
        soonest: float | None = None
        for execution_id in self._timers:
            execution = self._unfinished.get(execution_id)
            if execution is None:
                continue
            if execution.attempts:
                retrying += 1
            else:
                delayed += 1
            if execution.due_at is not None and (soonest is None or execution.due_at < soonest):
                soonest = execution.due_at
        return (delayed, retrying, soonest) if delayed or retrying else None

    async def wait(self, root_id: str) -> Execution:
        """Until the whole tree under ``root_id`` has finished."""
        tree = self._trees.get(root_id)
        if tree is None:
            raise KeyError(root_id)
        future: asyncio.Future[Execution] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(root_id, []).append(future)
        return await future

    async def drain(self) -> None:
        """Until nothing is queued, delayed or running."""
        await self._idle.wait()

    def interrupt(self, reason: str) -> list[Execution]:
        """Stop everything: unfinished executions end as ``interrupted``. Returns the roots."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        now = self.clock.now()
        roots = [tree.root for tree in self._trees.values()]
        inflight, self._inflight = list(self._inflight.values()), {}
        for execution in list(self._unfinished.values()):
            for attempt in execution.attempts:
                if attempt.status == "running":
                    attempt.status = "interrupted"
                    attempt.completed_at = now
                    attempt.duration_ms = round((now - attempt.started_at) * 1000)
                    attempt.error = reason
                    execution.logs = attempt.logs
                    execution.duration_ms = attempt.duration_ms
            execution.status = "interrupted"
            execution.error = reason
            execution.completed_at = now
            self._emit("interrupted", execution, reason)
            self._finish(execution)
        self.slots.clear()
        for future in inflight:
            future.cancel()
        return roots

    def suspend(self, reason: str) -> tuple[int, int]:
        """Stop, keeping the queue (``pingback dev``'s Ctrl-C): nothing more starts, what waits
        stays ``pending`` with its ``due_at``, and an attempt still running ends ``failed`` with
        ``reason``, its execution waiting out the backoff when retries remain, else
        ``interrupted``. Returns (executions kept pending, executions interrupted)."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self.slots.clear()
        inflight, self._inflight = list(self._inflight.values()), {}
        now = self.clock.now()
        kept = ended = 0
        for execution in self._unfinished.values():
            if execution.status == "running":
                self._stop_attempt(execution, now, reason)
            if execution.finished:
                ended += 1
                self._emit("interrupted", execution, execution.error)
            else:
                kept += 1
            self._save(execution)
        self._unfinished.clear()
        self._unfinished_by_function.clear()
        self._trees.clear()
        self._idle.set()
        for future in inflight:
            future.cancel()
        return kept, ended

    def resume(self, roots: Iterable[Execution], *, reason: str) -> list[Execution]:
        """Take over trees another process left in the durable queue (loaded with children).

        Pending executions start at their ``due_at`` (at once when overdue); one whose attempt
        was running when that process died has the attempt recorded ``failed`` with
        ``reason`` and is retried after the backoff if retries remain, else ends
        ``interrupted``. Call after ``set_functions``. Returns the executions taken over."""
        now = self.clock.now()
        taken: list[Execution] = []
        for root in roots:
            nodes = root.walk()
            tree = self._trees[root.id] = _Tree(root, size=sum(1 for node in nodes if node.finished))
            for execution in nodes:
                if execution.finished:
                    continue
                taken.append(execution)
                if execution.status == "running":
                    self._stop_attempt(execution, now, reason)
                if execution.finished:
                    tree.size += 1
                    self._save(execution)
                    self._emit("interrupted", execution, execution.error)
                else:
                    self._admit(execution)
            if tree.unfinished == 0:
                del self._trees[root.id]
                self._emit("finished", root)
        for execution in taken:
            if not execution.finished:
                self._emit("resumed", execution)
                self._later(execution, max(0.0, (execution.due_at or now) - now))
        return taken

    def _stop_attempt(self, execution: Execution, now: float, reason: str) -> None:
        """The running attempt failed because pingback stopped: retry later or interrupt."""
        for attempt in execution.attempts:
            if attempt.status == "running":
                attempt.status = "failed"
                attempt.error = reason
                attempt.completed_at = now
                attempt.duration_ms = max(0, round((now - attempt.started_at) * 1000))
                execution.logs = attempt.logs
                execution.duration_ms = attempt.duration_ms
        self._attempts.pop((execution.id, execution.attempt), None)
        spec = self.functions.get(execution.function)
        execution.error = reason
        if spec is not None and execution.attempt <= spec.retries:
            execution.status = "pending"
            execution.due_at = now + (backoff_seconds(execution.attempt) if self.backoff else 0)
        else:
            execution.status = "interrupted"
            execution.completed_at = now

    def cancel(self, execution_id: str, reason: str = CANCELLED) -> Execution | None:
        """End an unfinished execution as ``cancelled`` (local only: the platform has no cancel).

        Waiting (pending, delayed, queued behind a limit) it never starts; running, its attempt
        is abandoned as a timeout abandons it, with no retry and no fan-out. None when no
        unfinished execution has that id here."""
        execution = self._unfinished.get(execution_id)
        if execution is None:
            return None
        now = self.clock.now()
        timer = self._timers.pop(execution_id, None)
        if timer is not None:
            timer.cancel()
        for attempt in execution.attempts:
            if attempt.status == "running":
                attempt.status = "cancelled"
                attempt.error = reason
                attempt.completed_at = now
                attempt.duration_ms = round((now - attempt.started_at) * 1000)
                execution.logs = attempt.logs
                execution.duration_ms = attempt.duration_ms
                self._attempts.pop((execution.id, attempt.number), None)
        execution.status = "cancelled"
        execution.error = reason
        execution.completed_at = now
        future = self._inflight.get(execution_id)
        if future is not None:
            expire(future)  # the executor abandons the handler as on a timeout; the slot frees then
        self._emit("cancelled", execution, reason)
        self._finish(execution)
        return execution

    def rerun(self, execution: Execution) -> Execution:
        """The platform's manual retry of a finished execution, in place: the same id, the next
        attempt appended to its attempts, ``scheduledAt`` now, and no automatic retry after it
        (runpingback/pingback apps/platform/src/modules/executions/executions.service.ts:183-218,
        executions.controller.ts:139-169). Its children of earlier attempts are kept in history."""
        now = self.clock.now()
        execution.status = "pending"
        execution.scheduled_at = execution.due_at = now
        execution.completed_at = None
        execution.children = []
        self._manual.add(execution.id)
        if execution.root_id not in self._trees:
            self._trees[execution.root_id] = _Tree(execution)
        self._admit(execution)
        self._enqueue(execution)
        return execution

    def _may_retry(self, execution: Execution, spec: FunctionSpec) -> bool:
        retries = self.plan_caps.retries(spec)  # the plan's cap when one is set (limits.CapRetries)
        return execution.attempt <= retries and execution.id not in self._manual

    def on_worker_log(self, execution_id: str, attempt: int, entry: dict[str, Any]) -> None:
        """Executor callback: a log line the handler wrote while still running."""
        current = self._attempts.get((execution_id, attempt))
        execution = self._unfinished.get(execution_id)
        if current is None or execution is None:
            return
        log = LogEntry.from_json(entry)
        current.logs.append(log)
        self._emit("log", execution, log=log)

    # --- queue --------------------------------------------------------------------

    def _admit(self, execution: Execution) -> None:
        tree = self._trees[execution.root_id]
        tree.size += 1
        if not execution.finished:
            tree.unfinished += 1
            self._unfinished[execution.id] = execution
            counts = self._unfinished_by_function
            counts[execution.function] = counts.get(execution.function, 0) + 1
            self._idle.clear()
        self._save(execution)

    def _later(self, execution: Execution, delay: float) -> None:
        self._timers[execution.id] = self.clock.call_later(delay, self._release, execution)

    def _release(self, execution: Execution) -> None:
        self._timers.pop(execution.id, None)
        if not execution.finished:
            self._enqueue(execution)

    def _enqueue(self, execution: Execution) -> None:
        self.slots.push(execution)
        self._pump()

    def _pump(self) -> None:
        while (execution := self.slots.pop(self.functions)) is not None:
            if execution.finished:
                self.slots.release(execution.function)
                continue
            spec = self.functions.get(execution.function)
            self._start_attempt(execution, spec)
            if spec is not None and self.slots.over_declared(spec):
                self._emit("notice", execution, over_declared(spec, self.slots.running(spec.name)))

    # --- one attempt --------------------------------------------------------------
    # Attempts are futures with callbacks, not tasks: at thousands per second the
    # cost of a task and a coroutine per attempt shows.

    def _start_attempt(self, execution: Execution, spec: FunctionSpec | None) -> None:
        if spec is None:
            self._fail_without_attempt(
                execution, f'"{execution.function}" is no longer defined by the project'
            )
            self._release_slot(execution.function)
            return
        attempt = self._begin_attempt(execution)
        request = AttemptRequest(
            execution_id=execution.id,
            function=execution.function,
            attempt=attempt.number,
            scheduled_at=execution.scheduled_at,
            payload=execution.payload,
            has_payload=execution.has_payload,
            child=execution.trigger == "fanout",
        )
        try:
            future = self.executor.start_attempt(request)
        except Exception as exc:  # a bug of ours must not lose the record
            logger.exception("executor error")
            future = asyncio.get_running_loop().create_future()
            future.set_result(AttemptOutcome(None, error=f"internal error in pingback: {exc!r}"))
        timer = self.clock.call_later(max(0.0, spec.timeout_seconds), expire, future)
        self._inflight[execution.id] = future
        future.add_done_callback(lambda done: self._attempt_done(done, execution, attempt, spec, timer))

    def _attempt_done(
        self,
        future: asyncio.Future[AttemptOutcome],
        execution: Execution,
        attempt: Attempt,
        spec: FunctionSpec,
        timer: TimerHandle,
    ) -> None:
        timer.cancel()
        self._inflight.pop(execution.id, None)
        try:
            if execution.finished or future.cancelled():
                return  # interrupted meanwhile
            error = future.exception()
            if isinstance(error, AttemptTimeout):
                outcome = AttemptOutcome(None, error=timed_out(spec))
            elif error is not None:
                outcome = AttemptOutcome(None, error=f"internal error in pingback: {error!r}")
            else:
                outcome = future.result()
            self._end_attempt(execution, attempt, outcome, spec)
        except Exception as exc:  # a bug of ours must not lose the record
            logger.exception("engine error")
            self._fail_without_attempt(execution, f"internal error in pingback: {exc!r}")
        finally:
            self._release_slot(execution.function)

    def _release_slot(self, function: str) -> None:
        self.slots.release(function)
        self._pump()

    def _begin_attempt(self, execution: Execution) -> Attempt:
        now = self.clock.now()
        execution.attempt += 1
        attempt = Attempt(number=execution.attempt, status="running", started_at=now)
        execution.attempts.append(attempt)
        execution.status = "running"
        if execution.started_at is None:
            execution.started_at = now
        self._attempts[(execution.id, attempt.number)] = attempt
        self._save(execution)
        self._emit("started", execution)
        return attempt

    def _end_attempt(
        self, execution: Execution, attempt: Attempt, outcome: AttemptOutcome, spec: FunctionSpec
    ) -> None:
        now = self.clock.now()
        self._attempts.pop((execution.id, attempt.number), None)
        reading = read_attempt(outcome, child=execution.trigger == "fanout")
        keep_logs(attempt, reading, outcome)
        attempt.completed_at = now
        attempt.duration_ms = round((now - attempt.started_at) * 1000)
        attempt.http_status = outcome.http_status
        execution.logs = attempt.logs
        execution.http_status = outcome.http_status
        execution.duration_ms = attempt.duration_ms
        if reading.succeeded:
            attempt.status = "success"
            execution.status = "success"
            execution.result = (outcome.response or {}).get("result")
            execution.error = None
            execution.completed_at = now
            self._emit("succeeded", execution)
            self._fan_out(execution, reading.tasks)
            self._finish(execution)
            return
        error = reading.error or outcome.error_message()
        attempt.status = "failed"
        attempt.error = error
        attempt.traceback = outcome.traceback
        execution.error = error
        if self._may_retry(execution, spec):
            self.plan_caps.retrying(execution.attempt)
            wait = backoff_seconds(execution.attempt) if self.backoff else 0
            execution.status = "pending"
            execution.due_at = now + wait
            self._save(execution)
            self._emit("retrying", execution, error)
            if wait:
                self._later(execution, wait)
            else:
                self.clock.call_later(0, self._release, execution)
            return
        if execution.attempt <= spec.retries and (cut := self.plan_caps.retries_cut(spec)):
            attempt.notices.append(cut)
        execution.status = "failed"
        execution.completed_at = now
        self._emit("failed", execution, error)
        self._finish(execution)

    def _fail_without_attempt(self, execution: Execution, error: str) -> None:
        if execution.finished:
            return
        execution.status = "failed"
        execution.error = error
        execution.completed_at = self.clock.now()
        self._emit("failed", execution, error)
        self._finish(execution)

    # --- fan-out ------------------------------------------------------------------

    def _fan_out(self, parent: Execution, tasks: Any) -> None:
        if not tasks:
            return
        if not isinstance(tasks, list):
            tasks = [tasks]
        tasks, dropped_by_plan = self.plan_caps.fan_out(tasks)
        if dropped_by_plan:
            parent.attempts[-1].notices.append(dropped_by_plan)
            self._save(parent)
        tree = self._trees[parent.root_id]
        now = self.clock.now()
        limit = self.limits.max_executions_per_root
        for index, request in enumerate(tasks):
            name = request.get("name") if isinstance(request, dict) else None
            payload = request.get("payload") if isinstance(request, dict) else None
            child = Execution(
                id=new_id(),
                function=str(name),
                type=None,
                scheduled_at=now,
                payload=payload,
                has_payload=payload is not None,
                parent_id=parent.id,
                root_id=parent.root_id,
                depth=parent.depth + 1,
                trigger="fanout",
                due_at=now,
            )
            parent.children.append(child)
            if tree.size >= limit:
                # One record says what was dropped; a runaway must not write 10,000 refusals.
                dropped = len(tasks) - index
                # Counts past the limit are these refusal records, never more runs: the message
                # states the limit that held, not a total that reads as if it did not.
                self._refuse(
                    child,
                    now,
                    f"fan-out limit reached: this run has used all {limit} executions that "
                    f"max-executions-per-root allows; {dropped} task request"
                    f"{'s' if dropped != 1 else ''} from this execution were dropped",
                )
                return
            problem = self._refusal(name, child)
            if problem is not None:
                self._refuse(child, now, problem)
                continue
            child.type = self.functions[child.function].type
            self._admit(child)
            self._enqueue(child)

    def _refuse(self, child: Execution, now: float, problem: str) -> None:
        child.status = "failed"
        child.error = problem
        child.started_at = child.completed_at = now
        self._admit(child)
        self._emit("failed", child, problem)

    def _refusal(self, name: Any, child: Execution) -> str | None:
        if not isinstance(name, str) or not name:
            return f"ctx.task() was given {name!r} as the task name; it must be a non-empty string"
        if name not in self.functions:
            known = ", ".join(sorted(self.functions)) or "none"
            return f'task "{name}" is not registered: no cron or task has that name (known: {known})'
        status = self.job_status(name) if self.job_status is not None else None
        if status in ("paused", "inactive"):
            return (
                f'task "{name}" is {status}: the platform skips a fan-out to it with only a log line '
                "(runpingback/worker internal/processor/fanout.go:17-21 finds only active jobs); "
                "`pingback resume` makes it active"
            )
        if child.depth > self.limits.max_depth:
            return (
                f"fan-out depth limit reached: this child would be {child.depth} levels deep "
                f"(max-depth = {self.limits.max_depth}); does a task dispatch itself?"
            )
        return None

    # --- bookkeeping --------------------------------------------------------------

    def _finish(self, execution: Execution) -> None:
        self._manual.discard(execution.id)
        if self._unfinished.pop(execution.id, None) is None:
            self._save(execution)
            return
        counts = self._unfinished_by_function
        counts[execution.function] = counts.get(execution.function, 1) - 1
        self._save(execution)
        tree = self._trees.get(execution.root_id)
        if tree is None:
            return
        tree.unfinished -= 1
        if tree.unfinished == 0:
            del self._trees[execution.root_id]
            self._emit("finished", tree.root)
            for waiter in self._waiters.pop(tree.root.id, []):
                if not waiter.done():
                    waiter.set_result(tree.root)
        if not self._unfinished:
            self._idle.set()

    def _save(self, execution: Execution) -> None:
        if self.store is not None:
            self.store.save(execution)

    def _emit(
        self,
        kind: str,
        execution: Execution,
        detail: str | None = None,
        *,
        log: LogEntry | None = None,
    ) -> None:
        if self.on_event is None:
            return
        with contextlib.suppress(Exception):
            self.on_event(Event(kind, execution, self.clock.now(), detail, log))


def _seconds(value: float) -> str:
    return f"{value:g}s"
