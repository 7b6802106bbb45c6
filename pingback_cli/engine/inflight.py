"""Attempts running: each by (execution id, number) for its live logs, and the ones handed to
the executor and not yet answered: the request sent, the timeout on the injected clock
(``deadlines``), and the answer as an ``AttemptOutcome`` (a timeout, or an error of the
executor, becomes one too).

Attempts are futures with callbacks, not tasks: at thousands per second the cost of a task and a
coroutine per attempt shows.
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


class InFlight:
    """The executor's unanswered attempts, one per execution id."""

    def __init__(self, executor: Executor, clock: Clock) -> None:
        self.executor = executor
        self.clock = clock
        self._futures: dict[str, asyncio.Future[AttemptOutcome]] = {}
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
        self._deadlines.add(max(0.0, spec.timeout_seconds), future)
        self._futures[execution.id] = future
        future.add_done_callback(lambda answered: self._answered(answered, execution, spec, done))

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


def _outcome(future: asyncio.Future[AttemptOutcome], spec: FunctionSpec) -> AttemptOutcome:
    error = future.exception()
    if isinstance(error, AttemptTimeout):
        return AttemptOutcome(None, error=timed_out(spec))
    if error is not None:
        return AttemptOutcome(None, error=f"internal error in pingback: {error!r}")
    return future.result()
