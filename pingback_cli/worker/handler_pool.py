"""Threads for the worker's handler calls, as few as keep up; one of them reads the requests.

A pool that hands each call from a reading thread to a handler thread pays a thread switch
per batch, and the two then contend for the GIL; at thousands of trivial calls a second that
is most of the cost. Here the threads take turns: a thread that finds the queue empty and
nobody reading becomes the reader (``read``, a blocking call that answers a batch of requests,
None when there will be no more), and runs the batch it read itself, back to back.

Another thread joins (an idle one woken, or a new one) when every running call WAITS: its
thread stood still for ``waiting.WAIT_SECONDS``, in one call or across short ones run back to
back (a handler that sleeps, waits on HTTP, a database or a lock; ``waiting`` tells it from a
thread held off the GIL or off a core). Such calls hold no GIL, so other threads can run the
calls queued behind them, or read the requests, at no cost to them: the platform's Go worker
runs 20 such calls at once (one goroutine each, ``runpingback/worker``
``internal/pipeline/pool.go:32-36``), and the engine keeps that many in flight here. One thread
joins per waiting call, never more than the calls queued (plus one to read), so a fan-out of
waiting children reaches the engine's window in a few doublings; a call that computes gains
nothing from another thread, and while one runs none joins. A call that computes for
``SLOW_CALL_SECONDS`` (or, without per-thread CPU clocks, any call that slow) falls back to the
older rule: once every running call is that old, one thread joins per look (without CPU clocks,
as before, the idle threads for the calls queued, or one new), so a handler that hangs busy
never holds up the calls behind it.

Threads stay once made: on a busy machine a trivial call can look slow (the process waits for
a core), so a long run gathers idle threads. Waking one per call queued would set them all
contending for the GIL on every batch (a 100,000-child fan-out had 28 threads doing the work
of one, each batch waking ten of them), so a batch read wakes none (unless the calls lately
waited), and a submitted one wakes one, only while no running call is fresh. The watchdog looks
every ``waiting.WAIT_SECONDS`` while calls are queued (or requests unread) behind one that has
run that long or a thread that stood still at the last look, every ``LOOK_SECONDS`` while calls
run otherwise, and sleeps without a deadline while nothing runs or waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from pingback_cli.worker import waiting
from pingback_cli.worker.waiting import Stillness, ThreadProbe

T = TypeVar("T")

SLOW_CALL_SECONDS = 0.01
"""Without CPU clocks, or for calls that compute: how long every running call must have taken
before another thread joins."""
LOOK_SECONDS = 0.01
"""How often the watchdog looks while calls run and none is queued behind one that has run
``waiting.WAIT_SECONDS``; it looks every ``waiting.WAIT_SECONDS`` otherwise."""


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
        self._streaks: dict[int, float] = {}
        """Thread -> when it began running calls back to back (it has not read or idled since)."""
        self._probes: dict[int, ThreadProbe | None] = {}
        self._threads = 0
        self._idle = 0
        """Threads waiting for work, those already woken included."""
        self._woken = 0
        """Idle threads woken that have not yet come back for work."""
        self._spawning = 0
        """Threads made to take queued calls (or read) that have not yet come for them."""
        self._pending = 0
        self._reading = False
        """A thread is in ``read`` (or nothing is left to read)."""
        self._closed = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._watchdog_waiting = False
        """The watchdog sleeps until woken (nothing ran or waited)."""
        self._waits_seen = False
        """Every running call waited at the watchdog's last look with calls queued: the idle
        threads take a batch read next at once, rather than after the reader has been seen
        waiting again (a fan-out of 1 ms waits gets its refills a few at a time)."""

    @property
    def threads(self) -> int:
        return self._threads

    def start(self) -> None:
        """The first thread, which becomes the reader."""
        self._add_thread(joining=False)

    def submit(self, items: Iterable[T]) -> None:
        with self._lock:
            spawn = self._enqueue(items)
        if spawn:
            self._add_thread(joining=False)

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
        if wake and added and self._idle > self._woken and self._running_all_slow():
            self._wake(1)  # it takes the calls back to back
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

    def _next_look(self, samples: Stillness) -> float:
        """Seconds until the watchdog looks again: soon while calls are queued (or requests
        unread) behind a call that has run long enough to tell whether it waits, or behind a
        thread that stood still at the last look (running short waiting calls back to back)."""
        if not self._queue and not (self._may_read() and self._running):
            return LOOK_SECONDS
        if samples.suspected:
            return waiting.WAIT_SECONDS
        now = time.monotonic()
        if any(now - started >= waiting.WAIT_SECONDS for started in self._running.values()):
            return waiting.WAIT_SECONDS
        return LOOK_SECONDS

    def _wake(self, count: int) -> None:
        """Wake ``count`` idle threads not woken yet (the lock held)."""
        self._work_ready.notify(count)
        self._woken += count

    def _add_thread(self, *, joining: bool = False) -> None:
        """A new thread; ``joining``: counted in ``_spawning`` until it comes for work."""
        with self._lock:
            self._threads += 1
            self._spawning += joining
        self._start(lambda: self._work(joining), f"handler-{self._threads}")

    @staticmethod
    def _start(target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _may_read(self) -> bool:
        return self._read is not None and not self._reading

    def _work(self, joining: bool) -> None:
        me = threading.get_ident()
        probe = ThreadProbe.make()
        with self._lock:
            self._probes[me] = probe
        finished = False
        while True:
            # One hold of the lock from the end of a call to the next call (or the read): the
            # watchdog never sees this thread between two, as if it had left the queue to others.
            with self._lock:
                if finished:
                    self._finish(me)
                    finished = False
                if joining:  # counted as joining until it runs, reads or idles, all under the lock
                    self._spawning -= 1
                    joining = False
                if not self._queue:  # it reads or idles: its run of calls ends
                    self._streaks.pop(me, None)
                while not self._queue and not self._may_read():
                    self._idle += 1
                    self._work_ready.wait()
                    self._idle -= 1
                    self._woken -= 1  # only a notify ends the wait
                if not self._queue:
                    self._reading = True
                    item = None
                else:
                    item = self._queue.popleft()
                    self._running[me] = now = time.monotonic()
                    self._streaks.setdefault(me, now)
                    if self._watchdog_waiting:
                        self._wake_watchdog()
            if item is None:
                self._take_requests()
                continue
            try:
                self._run(item)
            except BaseException:
                with self._lock:
                    self._finish(me)
                    self._streaks.pop(me, None)
                raise
            finished = True

    def _finish(self, me: int) -> None:
        """The call running on thread ``me`` has returned (the lock held)."""
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
            available = min(self._idle - self._woken, len(self._queue) - 1)
            if self._waits_seen and available > 0:  # the calls lately waited: these likely do too
                self._wake(available)
        if spawn:
            self._add_thread(joining=False)

    def _watch(self) -> None:
        """Wakes idle threads, or adds them, while calls wait behind waiting or slow ones (or
        requests wait unread behind them) and no new submit comes to notice."""
        samples = Stillness()
        interval = LOOK_SECONDS
        while True:
            with self._lock:
                if not self._queue and not self._running:  # until there is something to watch
                    self._watchdog_waiting = True
                    self._backlog.wait()
                    interval = LOOK_SECONDS  # not sooner: every trivial batch would wake it
                self._backlog.wait(interval)
                spawn = self._look(samples)
                interval = self._next_look(samples)
            for _ in range(spawn):
                self._add_thread(joining=True)

    def _look(self, samples: Stillness) -> int:
        """Wake idle threads for the calls queued (or the requests unread) behind running calls
        that all wait, or are all slow; answers how many threads to add besides (the lock held)."""
        unread = self._may_read() and bool(self._running)
        backlog = len(self._queue) + unread
        if not backlog:
            return 0
        idle = self._idle - self._woken
        joining = self._woken + self._spawning
        still = samples.waiting(self._streaks, self._probes)
        self._waits_seen = bool(still)
        if still is None:
            joiners = self._slow_rule(idle, unread)
        else:
            joiners = min(still, backlog) - joining
            if joiners <= 0 and not joining and self._running_all_slow():
                joiners = 1  # a call computes, or hangs busy: the calls behind it still get a thread
        woken = min(idle, max(joiners, 0))
        if woken:
            self._wake(woken)
        # Past max_threads a thread still joins to read, so the end of the pipe is always seen (a
        # worker carrying that many hung handlers is replaced long before: executors/process.py
        # MAX_ABANDONED).
        return min(joiners - woken, max(self._max_threads - self._threads, int(unread and not self._queue)))

    def _slow_rule(self, idle: int, unread: bool) -> int:
        """Without CPU clocks, threads to join once every running call is slow: the idle ones
        for the queued calls, else one (to read, past max_threads too)."""
        if not self._running_all_slow():
            return 0
        if idle:
            return min(idle, max(1, len(self._queue)))
        return int(self._all_slow() or (unread and not self._queue))
