"""Time as an injected dependency: the engine asks a clock for now and for timers.

``SystemClock`` runs on the asyncio loop; ``FakeClock`` lets tests move time by
hand so retries, backoff, delays and cron firing are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol


class AttemptTimeout(Exception):
    """Set on an attempt's future when its timeout passes first."""


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle: ...


class Expiring(Protocol):
    """What ``expire`` fails: an asyncio future, or an attempt shaped like one (``inflight``)."""

    def done(self) -> bool: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


def expire(future: Expiring) -> None:
    """A timer callback: fail ``future`` with AttemptTimeout unless it is already settled."""
    if not future.done():
        future.set_exception(AttemptTimeout())


class SystemClock:
    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(delay, 0.0), callback, *args)


class _FakeHandle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that only moves when a test calls ``advance``."""

    def __init__(self, start: float = 1_764_324_000.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeHandle, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = _FakeHandle()
        entry = (self._now + max(delay, 0.0), next(self._seq), handle, callback, args)
        heapq.heappush(self._timers, entry)
        return handle

    def pending_delays(self) -> list[float]:
        """Seconds from now of every live timer, soonest first (for assertions)."""
        live = sorted(t[0] for t in self._timers if not t[2].cancelled)
        return [due - self._now for due in live]

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order and letting the loop run after each."""
        target = self._now + seconds
        await settle()
        while self._timers and self._timers[0][0] <= target:
            due, _, handle, callback, args = heapq.heappop(self._timers)
            if handle.cancelled:
                continue
            self._now = max(self._now, due)
            callback(*args)
            await settle()
        self._now = target
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let every ready task on the loop run until things stop moving."""
    for _ in range(rounds):
        await asyncio.sleep(0)
