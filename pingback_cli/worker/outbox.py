"""The worker's messages to the engine: lines on the pipe, results gathered in a shared area.

A result is stored in the results area (a file both processes hold: ``executors.spawn``) the
moment it exists, before its thread takes the next call, and the pipe carries the area's lines
in batches: one write, and one wake-up of the engine, for up to ``BATCH_RESULTS`` results. The
crash guarantee is the area's: a handler that kills this process (``os._exit``, a segfault,
SIGKILL from outside) takes only its own attempt with it, because the engine reads the results
still in the area when the pipe ends (``executors.process``, ``WorkerProcess._on_eof``) and
delivers them before it fails the attempts left (tests/worker/test_batching.py). Log, output,
ready and error lines are written to the pipe at once, so a result, stored after its attempt's
lines were written, always reaches the engine after them.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from typing import Any

from pingback_cli.protocol import compact_encoder
from pingback_cli.worker import RESULTS_HEADER_BYTES

BATCH_RESULTS = 16
"""Results gathered before the area is written to the pipe (measured: notes/s5-fanout-protocol.md)."""
BATCH_SECONDS = 0.001
"""Age of the oldest gathered result past which the next one stored flushes them all."""

_LINE = compact_encoder()
"""Built once: ``json.dumps`` with options builds an encoder per call (one per result here)."""


def dumps(message: dict[str, Any]) -> bytes:
    """One pipe line; ValueError for NaN or Infinity, which JSON cannot hold (TypeError for
    a type it cannot hold, RecursionError for a value that holds itself)."""
    return _LINE(message).encode() + b"\n"


class ResultsArea:
    """This process's view of the results area: ``RESULTS_HEADER_BYTES`` of committed length
    (little-endian), then whole result lines. Not thread-safe: the Outbox's lock guards it."""

    def __init__(self, fd: int, size: int) -> None:
        """Map ``size`` bytes of ``fd`` shared (OSError or ValueError if it cannot be); the area
        starts empty."""
        self._map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._room = size - RESULTS_HEADER_BYTES
        self._length = 0
        self._commit(0)

    @property
    def empty(self) -> bool:
        return self._length == 0

    def append(self, line: bytes) -> bool:
        """Store ``line`` (whole lines, newline-terminated) after the others, then commit the new
        length, so a crash at any point leaves a prefix of whole lines; False, nothing stored, when
        it does not fit in the room left."""
        start = RESULTS_HEADER_BYTES + self._length
        end = self._length + len(line)
        if end > self._room:
            return False
        self._map[start : start + len(line)] = line
        self._commit(end)
        self._length = end
        return True

    def lines(self) -> bytes:
        """Every committed line, as one string of bytes."""
        return self._map[RESULTS_HEADER_BYTES : RESULTS_HEADER_BYTES + self._length]

    def clear(self) -> None:
        """Empty the area (call only once its lines are on the pipe)."""
        self._commit(0)
        self._length = 0

    def _commit(self, length: int) -> None:
        self._map[:RESULTS_HEADER_BYTES] = length.to_bytes(RESULTS_HEADER_BYTES, "little")


class Outbox:
    """Messages to the engine, from any thread; lines from different threads never interleave.

    Without an area (``area=None``) each result is written to the pipe at once, as every other
    line is. With one, :meth:`result` stores it there, and the area's lines go to the pipe in one
    write (:meth:`flush`) when ``batch`` results are stored, when they outnumber the calls still
    waiting to start, when the call that made one took ``age`` seconds or more, when the oldest is
    ``age`` seconds old as the next is stored, and whenever a caller asks: the handler pool when a
    thread runs out of work and on each watchdog tick (every ~10 ms while calls run), and ``main``
    at exit. A result too big for the room left flushes the area and is written directly.
    """

    def __init__(
        self,
        fd: int,
        area: ResultsArea | None = None,
        *,
        batch: int = BATCH_RESULTS,
        age: float = BATCH_SECONDS,
    ) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._area = area
        self._batch = batch
        self._age = age
        self._count = 0
        self._since = 0.0

    def send(self, message: dict[str, Any]) -> None:
        self.add(dumps(message))

    def add(self, line: bytes) -> None:
        """Write one line (or several, whole) to the pipe now."""
        with self._lock:
            self._write(line)

    def result(self, line: bytes, waiting: int = 0, took: float = 0.0) -> bool:
        """An attempt's result line: stored in the area (then flushed per the batch rules), or
        written now when there is no area or no room for it.

        ``waiting``: the calls this process holds that no thread has started; once the results
        gathered outnumber them, they are flushed, so the engine sends the next calls while these
        run (an engine that limits the calls in flight otherwise waits for results the worker sits
        on). ``took``: how long the call took, in seconds; one that took ``age`` or longer flushes
        at once, since the thread's next call is likely as slow and nothing would be gained by
        waiting (the batch saves microseconds a result). True when something was written to
        the pipe."""
        area = self._area
        if area is None:
            self.add(line)
            return True
        with self._lock:
            if not area.append(line):
                self._flush()
                self._write(line)
                return True
            count = self._count = self._count + 1
            now = time.monotonic()
            if count == 1:
                self._since = now
            if count > waiting or count >= self._batch or took >= self._age or now - self._since >= self._age:
                self._flush()
                return True
            return False

    def flush(self) -> None:
        """Write the results gathered in the area to the pipe, in one write, and empty it."""
        if self._count:  # read without the lock: a result stored meanwhile is flushed by its own rules
            with self._lock:
                self._flush()

    def _flush(self) -> None:
        """The lock held. The lines go to the pipe BEFORE the area is emptied: a crash between the
        two leaves them in both, and the engine drops the copy it already has."""
        if self._area is None or self._area.empty:
            return
        self._write(self._area.lines())
        self._area.clear()
        self._count = 0

    def _write(self, line: bytes) -> None:
        """The lock held: the whole of ``line`` to the pipe."""
        try:
            written = os.write(self._fd, line)
            if written < len(line):  # longer than the pipe's room
                view = memoryview(line)[written:]
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError:
            os._exit(0)  # the engine is gone; nobody is left to answer
