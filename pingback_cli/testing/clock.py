"""Platform time for tests: a clock that moves only when the virtual platform moves it.

It satisfies the engine's ``Clock`` (``now`` and ``call_later``); the platform's driver
asks it what is due next and fires timers one at a time, in time order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any


class _Handle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Unix seconds that stand still until ``fire_next`` or ``jump`` moves them."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _Handle, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> _Handle:
        """Run ``callback(*args)`` once platform time reaches now + ``delay`` seconds."""
        handle = _Handle()
        heapq.heappush(self._timers, (self._now + max(delay, 0.0), next(self._seq), handle, callback, args))
        return handle

    def next_due(self) -> float | None:
        """When the soonest live timer fires (unix seconds), or None when none is armed."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_next(self) -> None:
        """Move to the soonest timer's time (never backwards) and run it."""
        due = self.next_due()
        if due is None:
            return
        _, _, handle, callback, args = heapq.heappop(self._timers)
        self._now = max(self._now, due)
        handle.cancelled = True
        callback(*args)

    def jump(self, to: float) -> None:
        """Set platform time to ``to`` without firing anything (it may go backwards)."""
        self._now = to

    def pending(self) -> int:
        """How many live timers are armed."""
        return sum(1 for timer in self._timers if not timer[2].cancelled)
