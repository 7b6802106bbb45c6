"""Whether the handler calls running on the pool's threads wait or compute, read from each
thread's own clocks.

A call that waits (sleeps, or blocks on HTTP, a database or a lock) holds no GIL: another
thread can run beside it at no cost to it. Its thread's CPU-time clock stands still
(``time.pthread_getcpuclockid``, Unix). A thread held off a core by a busy machine stands still
too, though it would compute: on Linux its state then reads ``R`` (running or runnable,
``/proc/self/task/<tid>/stat``), and such a thread never counts as waiting. Where there is no
CPU-time clock, nothing can be told (``ThreadProbe.make`` answers None).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

WAIT_SECONDS = 0.001
"""How long a running call's thread must stand still for the call to count as waiting."""
STILL_SHARE = 0.3
"""A thread stood still when it ran for less than this share of the time between two looks: a
call waiting 0.5 ms costs the worker and the SDK ~0.1 ms of CPU around it, so waits that short
still count (a run of trivial calls computes all of the time)."""
STILL_LOOKS = 2
"""Looks in a row a thread must have stood still at: a computing thread held off a core stands
still too, and can slip into waiting for the GIL just as the watchdog looks, but not twice."""


class ThreadProbe:
    """One thread's CPU-time clock, and (on Linux) whether it is running or waiting for a core."""

    def __init__(self, clock: int, stat_fd: int | None) -> None:
        self._clock = clock
        self._stat_fd = stat_fd

    @classmethod
    def make(cls) -> ThreadProbe | None:
        """The calling thread's probe; None where the platform has no per-thread CPU clock
        (``time.pthread_getcpuclockid`` is missing on macOS and Windows)."""
        try:
            clock = time.pthread_getcpuclockid(threading.get_ident())
            time.clock_gettime_ns(clock)
        except (AttributeError, OSError):
            return None
        stat_fd = None
        with contextlib.suppress(AttributeError, OSError):  # not Linux: the CPU clock alone
            path = f"/proc/self/task/{threading.get_native_id()}/stat"
            stat_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        return cls(clock, stat_fd)

    def cpu_ns(self) -> int:
        """Nanoseconds the thread has run (OSError once it is gone)."""
        return time.clock_gettime_ns(self._clock)

    def runnable(self) -> bool:
        """The thread is on a core or waiting for one (False where that cannot be read)."""
        if self._stat_fd is None:
            return False
        try:
            stat = os.pread(self._stat_fd, 256, 0)
        except OSError:
            return False
        # "tid (comm) S ...": the name may hold spaces and parentheses, the state follows the last ")".
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"R"


class Stillness:
    """Each thread running calls, its CPU clock when the watchdog last looked: whether all of
    them wait.

    A thread's looks span the calls it runs back to back: a call shorter than the time between
    two looks (a 2 ms query) starts and ends unseen, but a thread that runs such calls one after
    another stands still all the same, and its calls are waiting ones (the worker's own work
    around a call is tens of microseconds of CPU). Keyed by call, such a thread was never seen
    twice on the same call, and a fan-out of 1-3 ms waits ran one at a time (a new user's trial)."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[float, int, float, int]] = {}
        """Thread -> (the start of its run of calls, its CPU clock in ns, when read (monotonic),
        looks in a row it stood still at)."""

    @property
    def suspected(self) -> bool:
        """A thread stood still at the last look: the next one may tell that it waits."""
        return any(looks for *_, looks in self._last.values())

    def waiting(self, running: dict[int, float], probes: dict[int, ThreadProbe | None]) -> int | None:
        """How many threads of ``running`` (thread -> when it began running calls back to back,
        ``time.monotonic()``: a thread that read requests or idled starts a new run) wait, when
        every one of them does: it stood still (ran under ``STILL_SHARE`` of the time) at the
        last ``STILL_LOOKS`` looks, each ``WAIT_SECONDS`` or more after the one before, within
        one run of calls, and is not waiting for a core. 0 when one computes, or is too new to
        tell (a thread waiting for the GIL stands still too, while another computes); None when
        a thread has no probe."""
        now = time.monotonic()
        kept: dict[int, tuple[float, int, float, int]] = {}
        still: list[ThreadProbe] = []
        for ident, began in running.items():
            probe = probes.get(ident)
            if probe is None:
                return None
            try:
                cpu = probe.cpu_ns()
            except OSError:
                return None
            before = self._last.get(ident)
            if before is None or before[0] != began:  # a new run of calls: from now on
                kept[ident] = (began, cpu, now, 0)
                continue
            elapsed = now - before[2]
            if elapsed < WAIT_SECONDS:  # too soon to tell: keep the older reading
                kept[ident] = before
                continue
            looks = before[3] + 1 if cpu - before[1] < STILL_SHARE * elapsed * 1e9 else 0
            if looks >= STILL_LOOKS:
                still.append(probe)
            kept[ident] = (began, cpu, now, looks)
        self._last = kept
        if len(still) < len(running) or any(probe.runnable() for probe in still):
            return 0
        return len(still)
