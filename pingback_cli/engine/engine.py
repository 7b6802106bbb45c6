"""The platform's semantics, put together: queue, concurrency (``slots``), timeouts and the
executor (``inflight``), retries and backoff (``retries``), plan caps, fan-out (``fanout``),
execution trees (``ledger``), the record of each attempt (``attempts``); answers are read as the
platform reads them (``pingback_cli.reading``). The engine owns no process and no wall clock:
attempts go to an injected executor, time comes from an injected clock, records go to an
injected store (``ports``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pingback_cli.engine import attempts
from pingback_cli.engine.admission import Admission
from pingback_cli.engine.clock import Clock
from pingback_cli.engine.fanout import Limits, children
from pingback_cli.engine.inflight import InFlight
from pingback_cli.engine.ledger import Ledger
from pingback_cli.engine.outcomes import over_declared
from pingback_cli.engine.plan_caps import PlanCaps
from pingback_cli.engine.ports import Event, Executor, Recorder, UnknownFunction
from pingback_cli.engine.retries import Retries
from pingback_cli.engine.slots import ConcurrencyMode, Slots
from pingback_cli.engine.waits import Waits
from pingback_cli.models import Attempt, Execution, FunctionSpec, OutputLine, new_id
from pingback_cli.project.plans import Plan
from pingback_cli.protocol import AttemptOutcome
from pingback_cli.reading import read_attempt

logger = logging.getLogger(__name__)


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
        fan_out_slice: int | None = None,
    ) -> None:
        """``fan_out_slice``: children of a fan-out admitted per turn of the loop (``admission``;
        None: all at once)."""
        self.executor = executor
        self.clock = clock
        self.store = store
        self.limits = limits or Limits()
        self.on_event = on_event
        self.quiet: frozenset[str] = frozenset()
        """Event kinds nobody hears (``on_event`` ignores them): never built (an Event a child)."""
        self.job_status: Callable[[str], str | None] | None = None
        """A function's job status (active, paused, inactive); fan-out to a held one fails."""
        self.functions: dict[str, FunctionSpec] = {}
        self.slots = Slots(concurrency)
        self.plan_caps = PlanCaps(plan)
        self.retries = Retries(self.plan_caps, backoff=backoff)
        self.admission = Admission(clock, self._admit_child, self._finish, fan_out_slice)
        self.set_functions(functions)
        self.ledger = Ledger()
        self.waits = Waits(clock, self._enqueue)
        self.inflight = InFlight(executor, clock)

    # --- public -------------------------------------------------------------------

    def set_functions(self, functions: Iterable[FunctionSpec]) -> None:
        self.admission.complete()  # children asked for under the functions they were read with
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
        at = scheduled_at if scheduled_at is not None else now + delay
        execution = Execution(new_id(), function, spec.type, at, payload, has_payload, trigger=trigger)
        execution.replay_of, execution.due_at = replay_of, at if delay > 0 else now
        self.ledger.open(execution)
        self._admit(execution)
        if announce is not None:
            announce(execution)
        if delay > 0:
            self._emit("scheduled", execution)
            self.waits.after(execution, delay)
        else:
            self._enqueue(execution)
        return execution

    def unfinished_count(self, function: str) -> int:
        return self.ledger.unfinished_count(function)

    @property
    def busy(self) -> bool:
        return bool(self.ledger.unfinished)

    def waiting(self) -> tuple[int, int, float | None] | None:
        """While no attempt runs: (delayed, retrying, soonest ``due_at``) over executions
        waiting out a delay or a backoff; None when an attempt runs or nothing waits."""
        return None if self.inflight else self.waits.summary(self.ledger.unfinished)

    async def wait(self, root_id: str) -> Execution:
        """Until the whole tree under ``root_id`` has finished; KeyError for no such open tree."""
        return await self.ledger.wait(root_id)

    async def drain(self) -> None:
        """Until nothing is queued, delayed or running."""
        await self.ledger.drain()

    def interrupt(self, reason: str) -> list[Execution]:
        """Stop everything: unfinished executions end as ``interrupted``. Returns the roots."""
        self.admission.complete(start=False)
        self.waits.cancel_all()
        now = self.clock.now()
        roots = [tree.root for tree in self.ledger.trees.values()]
        for execution in list(self.ledger.unfinished.values()):
            attempts.close_running(execution, "interrupted", reason, now)
            attempts.end(execution, "interrupted", reason, now)
            self._emit("interrupted", execution, reason)
            self._finish(execution)
        self.slots.clear()
        self.inflight.cancel_all()
        return roots

    def suspend(self, reason: str) -> tuple[int, int]:
        """Stop, keeping the queue (``pingback dev``'s Ctrl-C): nothing more starts, what waits
        stays ``pending`` with its ``due_at``, and an attempt still running ends ``failed`` with
        ``reason``, its execution waiting out the backoff when retries remain, else
        ``interrupted``. Returns (executions kept pending, executions interrupted)."""
        self.admission.complete(start=False)
        self.waits.cancel_all()
        self.slots.clear()
        now = self.clock.now()
        kept = ended = 0
        for execution in self.ledger.unfinished.values():
            if execution.status == "running":
                self._stop_attempt(execution, now, reason)
            if execution.finished:
                ended += 1
                self._emit("interrupted", execution, execution.error)
            else:
                kept += 1
            self._save(execution)
        self.ledger.clear()
        self.inflight.cancel_all()
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
            tree = self.ledger.open(root, size=sum(1 for node in nodes if node.finished))
            for execution in nodes:
                if execution.finished:
                    continue
                taken.append(execution)
                if execution.status == "running":  # its process died: it ran until last seen
                    self._stop_attempt(execution, now, reason, died=True)
                if execution.finished:
                    tree.size += 1
                    self._save(execution)
                    self._emit("interrupted", execution, execution.error)
                else:
                    self._admit(execution)
            if tree.unfinished == 0:
                del self.ledger.trees[root.id]
                self._emit("finished", root)
        for execution in taken:
            if not execution.finished:
                self._emit("resumed", execution)
                self.waits.after(execution, max(0.0, (execution.due_at or now) - now))
        return taken

    def _stop_attempt(self, execution: Execution, now: float, reason: str, *, died: bool = False) -> None:
        """The running attempt failed because pingback stopped: retry later or interrupt."""
        self.inflight.forget(execution.id, execution.attempt)
        retry_in = self.retries.after_stop(execution, self.functions.get(execution.function))
        attempts.stopped(execution, reason, now, retry_in, died=died)

    def cancel(self, execution_id: str, reason: str = "cancelled") -> Execution | None:
        """End an unfinished execution as ``cancelled`` (local only: the platform has no cancel).

        Waiting (pending, delayed, queued behind a limit) it never starts; running, its attempt
        is abandoned as a timeout abandons it, with no retry and no fan-out. None when no
        unfinished execution has that id here."""
        self.admission.complete()
        execution = self.ledger.unfinished.get(execution_id)
        if execution is None:
            return None
        now = self.clock.now()
        self.waits.cancel(execution_id)
        for attempt in attempts.close_running(execution, "cancelled", reason, now):
            self.inflight.forget(execution.id, attempt.number)
        attempts.end(execution, "cancelled", reason, now)
        self.inflight.abandon(execution_id)  # the slot frees when the executor lets go
        self._emit("cancelled", execution, reason)
        self._finish(execution)
        return execution

    def rerun(self, execution: Execution) -> Execution:
        """The platform's manual retry of a finished execution, in place: the same id, the next
        attempt appended to its attempts, ``scheduledAt`` now, and no automatic retry after it
        (runpingback/pingback apps/platform/src/modules/executions/executions.service.ts:183-218,
        executions.controller.ts:139-169). Its children of earlier attempts are kept in history."""
        attempts.again(execution, self.clock.now())
        self.retries.by_hand(execution.id)
        if execution.root_id not in self.ledger.trees:
            self.ledger.open(execution)
        self._admit(execution)
        self._enqueue(execution)
        return execution

    def on_worker_log(self, execution_id: str, attempt: int, entry: dict[str, Any]) -> None:
        """Executor callback: a log line, or a printed line (``stream``), of a running handler."""
        current = self.inflight.running(execution_id, attempt)
        execution = self.ledger.unfinished.get(execution_id)
        if current is None or execution is None:
            return
        line = attempts.add_line(current, entry)
        if isinstance(line, OutputLine):
            return self._emit("output", execution, line.text, output=line)
        self._emit("log", execution, log=line)

    # --- queue --------------------------------------------------------------------

    def _admit(self, execution: Execution) -> None:
        self.ledger.admit(execution)
        self._save(execution)

    def _enqueue(self, execution: Execution) -> None:
        self.admission.complete()  # nothing is queued ahead of a fan-out's children
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

    def _start_attempt(self, execution: Execution, spec: FunctionSpec | None) -> None:
        if spec is None:
            self._fail_without_attempt(
                execution, f'"{execution.function}" is no longer defined by the project'
            )
            self.slots.release(execution.function)
            return self._pump()
        attempt = self._begin_attempt(execution)
        self.inflight.start(
            execution, attempt, spec, lambda outcome: self._attempt_done(outcome, execution, attempt, spec)
        )

    def _attempt_done(
        self, outcome: AttemptOutcome | None, execution: Execution, attempt: Attempt, spec: FunctionSpec
    ) -> None:
        # The handler is done with its slot before its children queue: a chain (a task fanning
        # out to itself) would otherwise count parent and child as running at once.
        self.slots.release(execution.function)
        try:
            if execution.finished or outcome is None:
                return  # interrupted meanwhile
            self._end_attempt(execution, attempt, outcome, spec)
        except Exception as exc:  # a bug of ours must not lose the record
            logger.exception("engine error")
            self._fail_without_attempt(execution, f"internal error in pingback: {exc!r}")
        finally:
            self._pump()

    def _begin_attempt(self, execution: Execution) -> Attempt:
        attempt = attempts.begin(execution, self.clock.now(), by_hand=self.retries.is_by_hand(execution.id))
        late = self.slots.late_start(execution, attempt) if execution.trigger == "cron" else None
        if late is not None:
            attempt.notices.append(late)
        self.inflight.track(execution.id, attempt)
        self._save(execution)
        self._emit("started", execution, late)
        return attempt

    def _end_attempt(
        self, execution: Execution, attempt: Attempt, outcome: AttemptOutcome, spec: FunctionSpec
    ) -> None:
        now = self.clock.now()
        self.inflight.forget(execution.id, attempt.number)
        reading = read_attempt(outcome, child=execution.trigger == "fanout")
        attempts.answered(execution, attempt, outcome, reading, now)
        if reading.succeeded:
            attempts.succeeded(execution, attempt, outcome, now)
            self._emit("succeeded", execution)
            self._fan_out(execution, reading.tasks)
            return
        error = reading.error or outcome.error_message()
        attempts.failed(execution, attempt, error, outcome)
        wait = self.retries.after_failure(execution, spec)
        if wait is not None:
            attempts.due(execution, now + wait)
            self._save(execution)
            self._emit("retrying", execution, error)
            if wait:
                self.waits.after(execution, wait)
            else:
                self.waits.soon(execution)
            return
        if execution.attempt <= spec.retries and (cut := self.plan_caps.retries_cut(spec)):
            attempt.notices.append(cut)
        attempts.end(execution, "failed", error, now)
        self._emit("failed", execution, error)
        self._finish(execution)

    def _fail_without_attempt(self, execution: Execution, error: str) -> None:
        if execution.finished:
            return
        attempts.end(execution, "failed", error, self.clock.now())
        self._emit("failed", execution, error)
        self._finish(execution)

    # --- fan-out ------------------------------------------------------------------

    def _fan_out(self, parent: Execution, tasks: Any) -> None:
        """The children ``parent``'s answer asks for, then ``parent`` finishes (``admission``)."""
        if not tasks:
            return self._finish(parent)
        tasks, dropped_by_plan = self.plan_caps.fan_out(tasks if isinstance(tasks, list) else [tasks])
        if dropped_by_plan:
            parent.attempts[-1].notices.append(dropped_by_plan)
            self._save(parent)
        now = self.clock.now()
        tree = self.ledger.trees[parent.root_id]
        made = children(parent, tasks, tree, self.functions, self.job_status, self.limits, now)
        self.admission.add(parent, made, now)

    def _admit_child(self, child: Execution, problem: str | None, now: float) -> None:
        if problem is not None:
            attempts.refused(child, problem, now)
            self._admit(child)
            return self._emit("failed", child, problem)
        self._admit(child)
        self.slots.push(child)
        if self.admission.starting and not self.slots.full():  # no pump for each of 10,000
            self._pump()

    # --- bookkeeping --------------------------------------------------------------

    def _finish(self, execution: Execution) -> None:
        self.retries.forget(execution.id)
        done = self.ledger.finish(execution)
        self._save(execution)
        if done is not None:
            self._emit("finished", done)

    def _save(self, execution: Execution) -> None:
        if self.store is not None:
            self.store.save(execution)

    def _emit(self, kind: str, execution: Execution, detail: str | None = None, **line: Any) -> None:
        """``line``: ``log=LogEntry`` or ``output=OutputLine`` (``Event``'s fields)."""
        if self.on_event is None or kind in self.quiet:
            return
        try:  # twice per execution: a try costs less than contextlib.suppress
            self.on_event(Event(kind, execution, self.clock.now(), detail, **line))
        except Exception:
            return
