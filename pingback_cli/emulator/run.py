"""``pingback run``: one function now, with the platform's semantics, until its tree is done."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pingback_cli.emulator.host import Emulator, EmulatorOptions
from pingback_cli.engine.engine import Event
from pingback_cli.errors import ExitCode, UsageError
from pingback_cli.models import Execution
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.specs import suggest

INTERRUPTED = "interrupted: pingback run was stopped before this finished"


@dataclass
class RunResult:
    root: Execution
    triggered: list[Execution] = field(default_factory=list)
    """Roots that handlers started with ``pb.trigger()`` during the run."""
    interrupted: bool = False

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        trees = [self.root, *self.triggered]
        if all(e.status == "success" for tree in trees for e in tree.walk()):
            return ExitCode.OK
        return ExitCode.EXECUTION_FAILED


def run_function(
    config: ProjectConfig,
    name: str,
    *,
    payload: Any = None,
    has_payload: bool = False,
    backoff: bool = True,
    options: EmulatorOptions | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    replay_of: str | None = None,
    scheduled_at: float | None = None,
) -> RunResult:
    """Run ``name`` as a new root; with ``replay_of`` (an execution id) it is a replay of it.
    ``scheduled_at`` (unix seconds) is the ``scheduledAt`` its requests carry (default: now),
    for a cron whose handler reads ``ctx.scheduled_at``."""
    options = options or EmulatorOptions(backoff=backoff)
    options.backoff = backoff
    return asyncio.run(
        _run(config, name, payload, has_payload, options, on_event, on_notice, replay_of, scheduled_at)
    )


async def _run(
    config: ProjectConfig,
    name: str,
    payload: Any,
    has_payload: bool,
    options: EmulatorOptions,
    on_event: Callable[[Event], None] | None,
    on_notice: Callable[[str], None] | None,
    replay_of: str | None = None,
    scheduled_at: float | None = None,
) -> RunResult:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    triggered: list[Execution] = []

    def collect(event: Event) -> None:
        if event.kind == "finished" and event.execution.trigger == "trigger":
            triggered.append(event.execution)
        if on_event is not None:
            on_event(event)

    emulator = Emulator(config, options, on_event=collect, on_notice=on_notice)
    try:
        starting = asyncio.ensure_future(emulator.start())
        await _until(starting, stop)
        if stop.is_set():
            raise KeyboardInterrupt
        assert emulator.engine is not None
        functions = emulator.engine.functions
        if name not in functions:
            if emulator.http is None:
                raise _unknown(name, list(functions))
            emulator.forward(name)  # endpoint mode: the app may know it; its 404 says if not
        root = emulator.engine.submit(
            name,
            payload=payload,
            has_payload=has_payload,
            trigger="replay" if replay_of else "run",
            replay_of=replay_of,
            scheduled_at=scheduled_at,
        )
        draining = asyncio.ensure_future(emulator.engine.drain())
        await _until(draining, stop)
        interrupted = stop.is_set() and emulator.engine.busy
        if interrupted:
            for other in emulator.engine.interrupt(INTERRUPTED):
                if other.trigger == "trigger" and other not in triggered:
                    triggered.append(other)
        return RunResult(root, triggered, interrupted=interrupted)
    finally:
        try:
            # Every execution is recorded by now (finished or interrupted); what still runs
            # in the worker is a handler past its timeout, so it gets no grace period.
            await emulator.stop(INTERRUPTED, grace=0)
        finally:
            # Removed only now: a second Ctrl-C during the cleanup would otherwise raise
            # KeyboardInterrupt in it, leaving history "running" and the worker alive.
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def _until(work: asyncio.Future[Any], stop: asyncio.Event) -> None:
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if work.done():
        work.result()
    else:
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work


def _unknown(name: str, known: list[str]) -> UsageError:
    close = suggest(name, known)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
    listing = ", ".join(sorted(known)) or "none"
    return UsageError(
        f'no cron or task named "{name}" (defined: {listing})',
        hint=hint or "run `pingback ls` to see every function",
    )
