"""Threads for the worker's handler calls, as few as keep up; one of them reads the requests.

A pool that hands each call from a reading thread to a handler thread pays a thread switch
per batch, and the two then contend for the GIL; at thousands of trivial calls a second that
is most of the cost. Here the threads take turns: a thread that finds the queue empty and
nobody reading becomes the reader (``read``, a blocking call that answers a batch of requests,
None when there will be no more), and runs the batch it read itself, back to back. Another
thread joins (an idle one woken, or a new one) only when every running call has been slow
for a moment (a handler that sleeps, waits on I/O or hangs): it takes the calls queued behind
them, or, if none are queued, becomes the reader, so hung handlers never hold up the requests.

Threads stay once made: on a busy machine a trivial call can look slow (the process waits for
a core), so a long run gathers idle threads. Waking one per call queued would set them all
contending for the GIL on every batch (a 100,000-child fan-out had 28 threads doing the work
of one, each batch waking ten of them), so a batch wakes one thread, and only while no running
call is fresh. The watchdog looks every ``SLOW_CALL_SECONDS`` while calls run or wait, and
sleeps without a deadline otherwise.
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
    """Runs ``run(item)`` for each item submitted or read. With ``read``, call :meth:`start`:
    the threads read until ``read`` answers None (or raises OSError or ValueError), and
    :meth:`wait_closed` returns then."""

    def __init__(
        self,
        run: Callable[[T], None],
        *,
        read: Callable[[], list[T] | None] | None = None,
        max_threads: int = 256,
    ) -> None:
        self._run = run
        self._read = read
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
        self._reading = False
        """A thread is in ``read`` (or nothing is left to read)."""
        self._closed = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._watchdog_waiting = False
        """The watchdog sleeps until woken (nothing ran or waited)."""

    @property
    def threads(self) -> int:
        return self._threads

    def start(self) -> None:
        """The first thread, which becomes the reader."""
        self._add_thread()

    def submit(self, items: Iterable[T]) -> None:
        with self._lock:
            spawn = self._enqueue(items)
        if spawn:
            self._add_thread()

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            return self._all_done.wait_for(lambda: self._pending == 0, timeout)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Until ``read`` answered None (True), or ``timeout`` seconds passed (False)."""
        return self._closed.wait(timeout)

    def _enqueue(self, items: Iterable[T], *, wake: bool = True) -> bool:
        """Queue ``items`` (the lock held), waking an idle thread for them unless ``wake`` is
        false (the reader runs what it read); True when a thread should be added."""
        before = len(self._queue)
        self._queue.extend(items)
        added = len(self._queue) - before
        self._pending += added
        if wake and added and self._idle and self._running_all_slow():
            self._work_ready.notify()  # it takes the calls back to back
        self._wake_watchdog()
        return bool(added) and not self._idle and self._all_slow()

    def _wake_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = self._start(self._watch, "pool-watchdog")
        elif self._watchdog_waiting:
            self._watchdog_waiting = False
            self._backlog.notify()

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
        will take the queue's next call, or read the next requests, soon."""
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

    def _may_read(self) -> bool:
        return self._read is not None and not self._reading

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._lock:
                while not self._queue and not self._may_read():
                    self._idle += 1
                    self._work_ready.wait()
                    self._idle -= 1
                if not self._queue:
                    self._reading = True
                    item = None
                else:
                    item = self._queue.popleft()
                    self._running[me] = time.monotonic()
                    if self._watchdog_waiting:
                        self._wake_watchdog()
            if item is None:
                self._take_requests()
                continue
            try:
                self._run(item)
            finally:
                with self._lock:
                    del self._running[me]
                    self._pending -= 1
                    if self._pending == 0:
                        self._all_done.notify_all()

    def _take_requests(self) -> None:
        """Read the next batch (blocking) and queue it; at the end, leave the reader's place
        taken, so no thread reads again."""
        assert self._read is not None
        try:
            batch = self._read()
        except (OSError, ValueError):
            batch = None
        if batch is None:
            self._closed.set()
            return
        with self._lock:
            self._reading = False
            spawn = self._enqueue(batch, wake=False)
        if spawn:
            self._add_thread()

    def _watch(self) -> None:
        """Wakes idle threads, or adds one, while calls wait behind slow ones (or requests wait
        unread behind them) and no new submit comes to notice."""
        while True:
            with self._lock:
                if not self._queue and not self._running:  # until there is something to watch
                    self._watchdog_waiting = True
                    self._backlog.wait()
                self._backlog.wait(SLOW_CALL_SECONDS)
                unread = self._may_read() and bool(self._running)
                stuck = (bool(self._queue) or unread) and self._running_all_slow()
                if stuck and self._idle:
                    self._work_ready.notify(min(self._idle, max(1, len(self._queue))))
                # Past max_threads a thread still joins to read, so the end of the pipe is always
                # seen (a worker carrying that many hung handlers is replaced long before:
                # executors/process.py MAX_ABANDONED).
                spawn = stuck and not self._idle and (self._all_slow() or (unread and not self._queue))
            if spawn:
                self._add_thread()
