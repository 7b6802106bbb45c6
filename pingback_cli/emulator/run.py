"""``pingback run``: one function now, with the platform's semantics, until its tree is done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pingback_cli.emulator.host import Emulator
from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.signals import stop_on_signals
from pingback_cli.engine.engine import Event, UnknownFunction
from pingback_cli.errors import ExitCode, UsageError
from pingback_cli.models import Execution
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.specs import did_you_mean
from pingback_cli.record import Record
from pingback_cli.state import kept_only_for_a_project

INTERRUPTED = "interrupted: pingback run was stopped before this finished"


class RunResult(Record):
    __slots__ = _fields = ("root", "triggered", "interrupted")

    root: Execution
    triggered: list[Execution]
    """Roots that handlers started with ``pb.trigger()`` during the run."""
    interrupted: bool

    def __init__(
        self, root: Execution, triggered: list[Execution] | None = None, interrupted: bool = False
    ) -> None:
        self.root = root
        self.triggered = [] if triggered is None else triggered
        self.interrupted = interrupted

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
    on_waiting: Callable[[tuple[int, int, float | None] | None], None] | None = None,
) -> RunResult:
    """Run ``name`` as a new root; with ``replay_of`` (an execution id) it is a replay of it.
    ``scheduled_at`` (unix seconds) is the ``scheduledAt`` its requests carry (default: now),
    for a cron whose handler reads ``ctx.scheduled_at``.

    ``on_waiting`` is told ``Engine.waiting()`` each time it changes while the run waits on a
    delayed or backoff-waiting execution (None when that ends).

    Raises UsageError for an unknown name, ProjectError when the project cannot load,
    Interrupted when Ctrl-C comes before the run began."""
    # Every execution is recorded by the time the emulator stops (finished or interrupted);
    # what still runs in the worker then is a handler past its timeout: it gets no grace.
    options = (options or EmulatorOptions()).replace(
        backoff=backoff,
        interrupt_reason=INTERRUPTED,
        stop_grace=0,
        api_on_demand=True,
    )
    with kept_only_for_a_project(config.root):
        return asyncio.run(
            _run(
                config,
                name,
                payload,
                has_payload,
                options,
                on_event,
                on_notice,
                replay_of,
                scheduled_at,
                on_waiting,
            )
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
    on_waiting: Callable[[tuple[int, int, float | None] | None], None] | None = None,
) -> RunResult:
    triggered: list[Execution] = []

    def collect(event: Event) -> None:
        if event.kind == "finished" and event.execution.trigger == "trigger":
            triggered.append(event.execution)
        if on_event is not None:
            on_event(event)

    async with (
        stop_on_signals() as stop,
        Emulator(
            config,
            options,
            on_event=collect,
            on_notice=on_notice,
            stop=stop,
            events=None if on_event is not None else ("finished",),  # collect's one kind
        ) as emulator,
    ):
        try:
            root = emulator.submit(
                name,
                payload=payload,
                has_payload=has_payload,
                trigger="replay" if replay_of else "run",
                replay_of=replay_of,
                scheduled_at=scheduled_at,
            )
        except UnknownFunction:
            raise _unknown(name, [spec.name for spec in emulator.functions()]) from None
        watcher = asyncio.ensure_future(_watch_waiting(emulator, on_waiting)) if on_waiting else None
        try:
            interrupted = not await emulator.drain()
        finally:
            if watcher is not None:
                watcher.cancel()
        if interrupted:
            for other in emulator.interrupt(INTERRUPTED):
                if other.trigger == "trigger" and other not in triggered:
                    triggered.append(other)
        return RunResult(root, triggered, interrupted=interrupted)


WAITING_POLL = 0.25


async def _watch_waiting(
    emulator: Emulator, report: Callable[[tuple[int, int, float | None] | None], None]
) -> None:
    """Tell ``report`` what the run waits on whenever that changes (None: nothing waits)."""
    last: tuple[int, int, float | None] | None = None
    while True:
        now = emulator.waiting()
        if now != last:
            report(now)
            last = now
        await asyncio.sleep(WAITING_POLL)


def _unknown(name: str, known: list[str]) -> UsageError:
    hint = did_you_mean(name, known)
    listing = ", ".join(sorted(known)) or "none"
    return UsageError(
        f'no cron or task named "{name}" (defined: {listing})',
        hint=hint or "run `pingback ls` to see every function",
    )
