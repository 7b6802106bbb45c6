"""Attempts' timeouts on the injected clock: one queue of deadlines per timeout length, served
by one timer, instead of a timer set and cancelled per attempt.

Attempts of one timeout length end due in the order they start (``now`` + the same length),
so each queue is in deadline order: a new attempt is appended, the timer is armed for the
soonest deadline of all, an answered attempt is dropped when it reaches the front of its
queue, and the timer is cancelled once no attempt is waiting. At thousands of attempts a
second, a timer handle, a heap push and a cancel per attempt showed in the engine's profile.
"""

from __future__ import annotations

from collections import deque

from pingback_cli.engine.clock import Clock, Expiring, TimerHandle, expire


class Deadlines:
    """The unanswered attempts' futures (or ``inflight._Direct``) by timeout length, each failed
    with ``AttemptTimeout`` (``clock.expire``) once its timeout has passed."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._queues: dict[float, deque[tuple[float, Expiring]]] = {}
        self._timer: TimerHandle | None = None
        self._armed_for: float | None = None

    def add(self, timeout: float, future: Expiring, now: float | None = None) -> None:
        """Expire ``future`` ``timeout`` seconds from ``now`` (the clock's, if not given) unless it
        is settled first."""
        due = (self.clock.now() if now is None else now) + timeout
        queue = self._queues.get(timeout)
        if queue is None:
            queue = self._queues[timeout] = deque()
        queue.append((due, future))
        if self._armed_for is None or due < self._armed_for:
            self._arm(due)

    def settled(self, timeout: float) -> None:
        """An attempt of ``timeout`` was answered or given up: settled futures at the front of
        its queue go, and the timer too when nothing is left to expire."""
        queue = self._queues.get(timeout)
        if queue is None:
            return
        while queue and queue[0][1].done():
            queue.popleft()
        if not queue:
            del self._queues[timeout]
            if not self._queues and self._timer is not None:
                self._timer.cancel()
                self._timer = self._armed_for = None

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = due
        self._timer = self.clock.call_later(max(0.0, due - self.clock.now()), self._fire)

    def _fire(self) -> None:
        self._timer = self._armed_for = None
        now = self.clock.now()
        soonest: float | None = None
        for timeout, queue in list(self._queues.items()):
            while queue and (queue[0][1].done() or queue[0][0] <= now):
                expire(queue.popleft()[1])
            if not queue:
                del self._queues[timeout]
            elif soonest is None or queue[0][0] < soonest:
                soonest = queue[0][0]
        if soonest is not None:
            self._arm(soonest)
