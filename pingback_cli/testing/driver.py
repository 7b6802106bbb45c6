"""Moving the virtual platform: run what is ready, then jump platform time to the next timer.

The engine and its executors work with asyncio futures; the driver owns a private event loop
and turns it only between steps, from the test's own thread. In-process handlers run between
turns, outside any running loop, and take no platform time; one that ran longer than its
timeout (real time) is left unanswered by the executor, and platform time goes on to that
timeout, which fails it as the platform would. While a worker subprocess (``isolated``)
still runs an attempt, platform time flows at wall-clock speed, never past the next timer
(the attempt's own timeout at the latest), so a hung handler times out as on the platform.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pingback_cli.executors.inprocess import InProcessExecutor
from pingback_cli.testing.clock import VirtualClock
from pingback_cli.testing.faults import FaultyExecutor

LOOP_TURNS = 3
"""Loop iterations per turn: a finished attempt's callback chain settles within them."""
MAX_REAL_WAIT = 60.0


class Stuck(RuntimeError):
    """The driver was asked to finish something that has nothing left that could finish it."""


class Driver:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.inprocess: InProcessExecutor | None = None
        self.faults = FaultyExecutor(self, self.loop)
        self.inner: Any = None
        """The real executor attempts go to: an ``InProcessExecutor`` or the worker ``Supervisor``."""

    def start_attempt(self, request: Any) -> asyncio.Future[Any]:
        """The ``FaultyExecutor``'s inner executor: whichever real one is current."""
        if self.inner is None:
            raise RuntimeError("no project is loaded")
        if self.inprocess is not None or self.loop.is_running():
            return self.inner.start_attempt(request)
        # The worker executor starts attempts from inside the loop it reads the worker on.
        outer: asyncio.Future[Any] = self.loop.create_future()
        self.loop.call_soon(self._begin, request, outer)
        return outer

    def _begin(self, request: Any, outer: asyncio.Future[Any]) -> None:
        if outer.done():
            return
        inner = self.inner.start_attempt(request)
        inner.add_done_callback(lambda done: _relay(done, outer))
        outer.add_done_callback(lambda _: inner.done() or inner.cancel())

    def use(self, executor: Any) -> None:
        self.inner = executor
        self.inprocess = executor if isinstance(executor, InProcessExecutor) else None

    def call(self, work: Any) -> Any:
        """Run a coroutine on the private loop to completion (from outside it)."""
        return self.loop.run_until_complete(work)

    def settle(self) -> None:
        """Run everything ready now: loop callbacks and queued in-process attempts."""
        while True:
            self.loop.run_until_complete(_turns())
            if self.inprocess is None or not self.inprocess.run_pending():
                return

    def drive(self, until: float | None, done: Callable[[], bool] | None = None) -> None:
        """Fire timers in time order up to ``until`` (unix seconds; None: no bound), or until
        ``done()`` is true; platform time ends at ``until`` when given (or a little later, when a
        worker was still running an attempt there)."""
        while True:
            self.settle()
            if done is not None and done():
                break
            due = self.clock.next_due()
            now = self.clock.now()
            if due is not None and due <= now:
                self.clock.fire_next()
                continue
            if self.inprocess is not None and self.inprocess.overran and due is not None:
                # A handler that ran past its timeout: platform time goes on to that timeout
                # (firing what falls due before it), even past ``until``, as for a worker.
                self.clock.fire_next()
                continue
            if self.faults.outstanding and self.inprocess is None:
                # Finish what a worker runs, even past ``until``: a tree is never left half-run.
                self._wait_real(now, due)
                continue
            if due is None or (until is not None and due > until):
                if done is not None:
                    raise Stuck("nothing is scheduled that could finish this execution")
                break
            self.clock.fire_next()
        if until is not None and self.clock.now() < until:
            self.clock.jump(until)

    def _wait_real(self, now: float, bound: float | None) -> None:
        """Wait for an attempt in a worker, letting platform time flow with the wall clock."""
        limit = MAX_REAL_WAIT if bound is None else max(bound - now, 0.0)
        started = time.monotonic()
        pending = set(self.faults.outstanding)
        self.loop.run_until_complete(
            asyncio.wait(pending, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        )
        elapsed = time.monotonic() - started
        target = now + elapsed if bound is None else min(now + elapsed, bound)
        self.clock.jump(max(target, self.clock.now()))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


def _relay(done: asyncio.Future[Any], outer: asyncio.Future[Any]) -> None:
    if outer.done() or done.cancelled():
        return
    error = done.exception()
    if error is not None:
        outer.set_exception(error)
    else:
        outer.set_result(done.result())


async def _turns() -> None:
    for _ in range(LOOP_TURNS):
        await asyncio.sleep(0)
