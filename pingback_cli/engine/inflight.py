"""Attempts running: each by (execution id, number) for its live logs, and the ones handed to
the executor and not yet answered: the request sent, the timeout on the injected clock
(``deadlines``), and the answer as an ``AttemptOutcome`` (a timeout, or an error of the
executor, becomes one too).

Attempts are futures with callbacks, not tasks: at thousands per second the cost of a task and a
coroutine per attempt shows. An executor with a direct path (``ports.DirectExecutor``: the worker)
hands each outcome straight to the attempt's ``_Direct`` as it reads its worker's answers, without
a future and the loop handles its done-callbacks cost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pingback_cli.engine.clock import AttemptTimeout, Clock, expire
from pingback_cli.engine.deadlines import Deadlines
from pingback_cli.engine.outcomes import timed_out
from pingback_cli.engine.ports import Executor
from pingback_cli.models import Attempt, Execution, FunctionSpec
from pingback_cli.protocol import AttemptOutcome, AttemptRequest

logger = logging.getLogger(__name__)

Answered = Callable[[AttemptOutcome | None], None]
"""Called once per attempt with its outcome, or None when it was cancelled unanswered."""
StartDirect = Callable[[AttemptRequest, Callable[[AttemptOutcome], None]], "Callable[[], None] | None"]
"""``ports.DirectExecutor.start_attempt_direct``."""


class InFlight:
    """The executor's unanswered attempts, one per execution id."""

    def __init__(self, executor: Executor, clock: Clock) -> None:
        self.executor = executor
        self.clock = clock
        self._direct: StartDirect | None = getattr(executor, "start_attempt_direct", None)
        self._futures: dict[str, asyncio.Future[AttemptOutcome] | _Direct] = {}
        self._running: dict[tuple[str, int], Attempt] = {}
        self._deadlines = Deadlines(clock)

    def __bool__(self) -> bool:
        return bool(self._futures)

    def track(self, execution_id: str, attempt: Attempt) -> None:
        """``attempt`` of ``execution_id`` has begun: its live logs go to it (``running``)."""
        self._running[(execution_id, attempt.number)] = attempt

    def running(self, execution_id: str, number: int) -> Attempt | None:
        """Attempt ``number`` of ``execution_id`` while it runs, else None."""
        return self._running.get((execution_id, number))

    def forget(self, execution_id: str, number: int) -> None:
        """Attempt ``number`` of ``execution_id`` has ended: a late log line is dropped."""
        self._running.pop((execution_id, number), None)

    def start(self, execution: Execution, attempt: Attempt, spec: FunctionSpec, done: Answered) -> None:
        """Send ``attempt`` of ``execution`` to the executor, expiring it after ``spec``'s timeout."""
        request = AttemptRequest(  # by position: once per attempt
            execution.id, execution.function, attempt.number, execution.scheduled_at,
            execution.payload, execution.has_payload, execution.trigger == "fanout",
        )  # fmt: skip
        timeout = max(0.0, spec.timeout_seconds)
        if self._direct is not None and self._start_direct(request, attempt.started_at, timeout, done, spec):
            return
        try:
            future = self.executor.start_attempt(request)
        except Exception as exc:  # a bug of ours must not lose the record
            logger.exception("executor error")
            future = asyncio.get_running_loop().create_future()
            future.set_result(AttemptOutcome(None, error=f"internal error in pingback: {exc!r}"))
        self._deadlines.add(timeout, future)
        self._futures[execution.id] = future
        future.add_done_callback(lambda answered: self._answered(answered, execution, spec, done))

    def _start_direct(
        self, request: AttemptRequest, now: float, timeout: float, done: Answered, spec: FunctionSpec
    ) -> bool:
        """``request`` (begun ``now``) through the executor's direct path; False when it did not take it."""
        execution_id = request.execution_id
        attempt = _Direct(self, execution_id, timeout, done, spec)
        try:
            abandon = self._direct(request, attempt.answer)  # type: ignore[misc]
        except Exception:  # a bug of ours: the future path records it
            logger.exception("executor error")
            return False
        if abandon is None:
            return False
        attempt.abandon = abandon
        self._deadlines.add(timeout, attempt, now)
        self._futures[execution_id] = attempt
        return True

    def abandon(self, execution_id: str) -> None:
        """Give up on ``execution_id``'s attempt as a timeout does: the executor abandons the
        handler, and its ``done`` is called (the engine frees the slot then)."""
        future = self._futures.get(execution_id)
        if future is not None:
            expire(future)

    def cancel_all(self) -> None:
        """Cancel every unanswered attempt (each ``done`` is called with None)."""
        futures, self._futures = list(self._futures.values()), {}
        for future in futures:
            future.cancel()

    def _answered(
        self,
        future: asyncio.Future[AttemptOutcome],
        execution: Execution,
        spec: FunctionSpec,
        done: Answered,
    ) -> None:
        self._deadlines.settled(max(0.0, spec.timeout_seconds))
        self._futures.pop(execution.id, None)
        try:
            outcome = None if future.cancelled() else _outcome(future, spec)
        except Exception as exc:  # a bug of ours must not lose the record
            logger.exception("engine error")
            outcome = AttemptOutcome(None, error=f"internal error in pingback: {exc!r}")
        done(outcome)

    def _settle(self, attempt: _Direct, outcome: AttemptOutcome | None) -> None:
        """``attempt`` (direct path) ended: ``outcome``, or None when it was cancelled."""
        self._deadlines.settled(attempt.timeout)
        if self._futures.get(attempt.execution_id) is attempt:
            del self._futures[attempt.execution_id]
        attempt.done_with(outcome)


class _Direct:
    """One attempt on the executor's direct path, with the part of a future that ``Deadlines``,
    ``clock.expire``, ``abandon`` and ``cancel_all`` use: ``done``, ``set_exception`` (a timeout:
    the attempt is abandoned), ``cancel``. As with a future, a timeout's or a cancel's ``done``
    comes on a later turn of the loop; an answer's at once."""

    __slots__ = ("abandon", "done_with", "execution_id", "inflight", "settled", "spec", "timeout")

    def __init__(
        self, inflight: InFlight, execution_id: str, timeout: float, done_with: Answered, spec: FunctionSpec
    ) -> None:
        self.inflight = inflight
        self.execution_id = execution_id
        self.timeout = timeout
        self.done_with = done_with
        self.spec = spec
        self.abandon: Callable[[], None] = _nothing
        self.settled = False

    def done(self) -> bool:
        return self.settled

    def answer(self, outcome: AttemptOutcome) -> None:
        """The executor's answer (ignored once timed out or cancelled)."""
        if self.settled:
            return
        self.settled = True
        inflight = self.inflight
        try:  # InFlight._settle, inline: once per answer
            inflight._deadlines.settled(self.timeout)
            if inflight._futures.get(self.execution_id) is self:
                del inflight._futures[self.execution_id]
            self.done_with(outcome)
        except Exception:  # the executor is reading its worker's answers: keep it reading
            logger.exception("engine error")

    def set_exception(self, error: BaseException) -> None:
        if self.settled:
            return
        self.settled = True
        self.abandon()
        outcome = AttemptOutcome(
            None,
            error=timed_out(self.spec)
            if isinstance(error, AttemptTimeout)
            else f"internal error in pingback: {error!r}",
        )
        asyncio.get_running_loop().call_soon(self.inflight._settle, self, outcome)

    def cancel(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self.abandon()
        asyncio.get_running_loop().call_soon(self.inflight._settle, self, None)
        return True


def _nothing() -> None:
    return None


def _outcome(future: asyncio.Future[AttemptOutcome], spec: FunctionSpec) -> AttemptOutcome:
    error = future.exception()
    if isinstance(error, AttemptTimeout):
        return AttemptOutcome(None, error=timed_out(spec))
    if error is not None:
        return AttemptOutcome(None, error=f"internal error in pingback: {error!r}")
    return future.result()
