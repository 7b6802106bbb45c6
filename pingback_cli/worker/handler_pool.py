"""Threads for the worker's handler calls, as few as keep up.

A thread pool that wakes one thread per call pays a thread switch per call; at
thousands of trivial calls a second that is most of the cost. Here a thread
takes calls back to back while the queue has them, and another thread joins
(an idle one woken, or a new one) only when every running call has been slow
for a moment (a handler that sleeps, waits on I/O or hangs), so hung handlers
never hold up the queue.

Threads stay once made: on a busy machine a trivial call can look slow (the
process waits for a core), so a long run gathers idle threads. Waking one per
call queued would set them all contending for the GIL on every batch (a
100,000-child fan-out had 28 threads doing the work of one, each batch waking
ten of them), so a batch wakes one thread, and only while no running call is
fresh. The watchdog is woken only when it sleeps without a deadline.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

SLOW_CALL_SECONDS = 0.01
"""How long every running call must have taken before another thread joins."""


class HandlerPool(Generic[T]):
    def __init__(
        self,
        run: Callable[[T], None],
        *,
        on_drained: Callable[[], None] | None = None,
        max_threads: int = 256,
    ) -> None:
        self._run = run
        self._on_drained = on_drained
        self._max_threads = max_threads
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._backlog = threading.Condition(self._lock)
        self._all_done = threading.Condition(self._lock)
        self._queue: deque[T] = deque()
        self._running: dict[int, float] = {}
        self._threads = 0
        self._idle = 0
        self._pending = 0
        self._watchdog: threading.Thread | None = None
        self._watchdog_waiting = False
        """The watchdog sleeps until a submit wakes it (it had no queue to watch)."""

    @property
    def threads(self) -> int:
        return self._threads

    def submit(self, items: Iterable[T]) -> None:
        with self._lock:
            before = len(self._queue)
            self._queue.extend(items)
            added = len(self._queue) - before
            self._pending += added
            if added and self._idle and self._running_all_slow():
                self._work_ready.notify()  # it takes the calls back to back
            if self._watchdog_waiting:
                self._backlog.notify()
            spawn = not self._idle and self._all_slow()
            if self._watchdog is None:
                self._watchdog = self._start(self._watch, "pool-watchdog")
        if spawn:
            self._add_thread()

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            return self._all_done.wait_for(lambda: self._pending == 0, timeout)

    def _all_slow(self) -> bool:
        """Every thread is busy with a call older than SLOW_CALL_SECONDS (or there is none), and
        another may be made."""
        if self._threads >= self._max_threads:
            return False
        if len(self._running) < self._threads:
            return False
        return self._running_all_slow()

    def _running_all_slow(self) -> bool:
        """No running call is younger than SLOW_CALL_SECONDS (true when none runs): nobody
        will take the queue's next call soon."""
        now = time.monotonic()
        return all(now - started >= SLOW_CALL_SECONDS for started in self._running.values())

    def _add_thread(self) -> None:
        with self._lock:
            self._threads += 1
        self._start(self._work, f"handler-{self._threads}")

    @staticmethod
    def _start(target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._lock:
                while not self._queue:
                    self._idle += 1
                    self._work_ready.wait()
                    self._idle -= 1
                item = self._queue.popleft()
                self._running[me] = time.monotonic()
            try:
                self._run(item)
            finally:
                with self._lock:
                    del self._running[me]
                    self._pending -= 1
                    drained = not self._queue
                    if self._pending == 0:
                        self._all_done.notify_all()
                if drained and self._on_drained is not None:
                    self._on_drained()

    def _watch(self) -> None:
        """Wakes idle threads, or adds one, while calls wait behind slow ones and no new submit
        comes to notice."""
        while True:
            with self._lock:
                if not self._queue:  # until a submit; then a call taken now has its moment
                    self._watchdog_waiting = True
                    self._backlog.wait()
                    self._watchdog_waiting = False
                self._backlog.wait(SLOW_CALL_SECONDS)
                stuck = bool(self._queue) and self._running_all_slow()
                if stuck and self._idle:
                    self._work_ready.notify(min(self._idle, len(self._queue)))
                spawn = stuck and not self._idle and self._all_slow()
            if spawn:
                self._add_thread()
