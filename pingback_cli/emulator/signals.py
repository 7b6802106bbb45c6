"""Ctrl-C and ``kill`` for the long-running commands: one helper for ``run`` and ``dev``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.asynccontextmanager
async def stop_on_signals() -> AsyncIterator[asyncio.Event]:
    """An event that SIGINT or SIGTERM sets while the block runs.

    The handlers are removed only when the block has ended, its clean-up included: a second
    Ctrl-C during the clean-up would otherwise raise KeyboardInterrupt inside it, leaving
    history "running" and the worker alive.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event | None) -> bool:
    """Await ``work`` unless ``stop`` is set first, which cancels it. True when it finished;
    its exception, if any, is raised."""
    task = asyncio.ensure_future(work)
    if stop is None:
        await task
        return True
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # this caller was cancelled: the work goes with it
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False
