"""What the engine is given and what it gives: the executor it starts attempts on, the store it
records executions to, the events it reports to whoever watches (the terminal, the API), and the
error it raises for a function it does not know."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from pingback_cli.errors import NotFound
from pingback_cli.models import Execution, LogEntry, OutputLine
from pingback_cli.protocol import AttemptOutcome, AttemptRequest
from pingback_cli.record import Record


class Executor(Protocol):
    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]: ...


class DirectExecutor(Executor, Protocol):
    """An executor that can also hand each outcome straight to a function (``InFlight``)."""

    def start_attempt_direct(
        self, request: AttemptRequest, answer: Callable[[AttemptOutcome], None]
    ) -> Callable[[], None] | None:
        """Run one attempt: ``answer`` is called once with its outcome, never from within this
        call and never after the returned function (which abandons the attempt) was called.
        None when it cannot take the attempt this way: ``start_attempt`` then."""
        ...


class Recorder(Protocol):
    def save(self, execution: Execution) -> None: ...


EVENT_KINDS = frozenset(
    {"scheduled", "started", "log", "output", "retrying", "succeeded", "failed", "interrupted",
     "cancelled", "resumed", "finished", "notice"}
)  # fmt: skip
"""The kinds of ``Event`` the engine emits (``Event.kind``)."""


class Event(Record):
    __slots__ = _fields = ("kind", "execution", "at", "detail", "log", "output")

    kind: str
    """scheduled (a delayed root, due at ``execution.due_at``), started, log, output (a line
    the handler printed: ``output``), retrying (due
    at ``execution.due_at``; detail: the error), succeeded, failed, interrupted, resumed
    (taken over from the durable queue), finished (a whole tree)."""
    execution: Execution
    at: float
    detail: str | None
    log: LogEntry | None
    output: OutputLine | None

    def __init__(
        self, kind: str, execution: Execution, at: float, detail: str | None = None,
        log: LogEntry | None = None, output: OutputLine | None = None,
    ) -> None:  # fmt: skip
        self.kind = kind
        self.execution = execution
        self.at = at
        self.detail = detail
        self.log = log
        self.output = output


class UnknownFunction(NotFound):
    """No function of this name is defined (the API answers 404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f'function "{name}" not found')
        self.name = name
