"""Executions waiting out a delay (``submit(delay=)``) or a retry's backoff: one timer each on
the injected clock, releasing the execution to the ready queue when it is due."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pingback_cli.engine.clock import Clock, TimerHandle
from pingback_cli.models import Execution


class Waits:
    """Timers by execution id; ``ready`` is called with an execution, unless finished meanwhile,
    when its wait is over."""

    def __init__(self, clock: Clock, ready: Callable[[Execution], None]) -> None:
        self.clock = clock
        self._ready = ready
        self._timers: dict[str, TimerHandle] = {}

    def __bool__(self) -> bool:
        return bool(self._timers)

    def after(self, execution: Execution, delay: float) -> None:
        """Release ``execution`` ``delay`` seconds from now."""
        self._timers[execution.id] = self.clock.call_later(delay, self._release, execution)

    def soon(self, execution: Execution) -> None:
        """Release ``execution`` on the clock's next turn (a retry without backoff)."""
        self.clock.call_later(0, self._release, execution)

    def cancel(self, execution_id: str) -> None:
        """``execution_id`` no longer waits (nothing happens when it did not)."""
        timer = self._timers.pop(execution_id, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    def summary(self, unfinished: Mapping[str, Execution]) -> tuple[int, int, float | None] | None:
        """(delayed, retrying, soonest ``due_at``) over the ``unfinished`` executions that wait;
        None when none does."""
        delayed = retrying = 0
        soonest: float | None = None
        for execution_id in self._timers:
            execution = unfinished.get(execution_id)
            if execution is None:
                continue
            if execution.attempts:
                retrying += 1
            else:
                delayed += 1
            if execution.due_at is not None and (soonest is None or execution.due_at < soonest):
                soonest = execution.due_at
        return (delayed, retrying, soonest) if delayed or retrying else None

    def _release(self, execution: Execution) -> None:
        self._timers.pop(execution.id, None)
        if not execution.finished:
            self._ready(execution)
