"""Fault injection: the next attempts of a function fail as a raised error, a timeout or a dead
worker process would, without the handler being changed.

``FaultyExecutor`` sits in front of the real executor (in-process or the worker): an attempt
that matches a queued fault never reaches the handler; every other attempt passes through.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pingback_cli.protocol import AttemptOutcome, AttemptRequest

FaultKind = Literal["error", "timeout", "crash"]

CRASH_MESSAGE = (
    "the worker process died while this attempt was running (simulated by pingback.crash()); "
    "did the handler call os._exit() or crash the interpreter?"
)
"""Worded as the worker executor words a real death (``executors/process.py``)."""


class Executor(Protocol):
    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]: ...


@dataclass
class Fault:
    function: str
    kind: FaultKind
    times: int
    error: str = ""
    attempt: int | None = None
    """Only attempts with this number consume the fault (None: any attempt)."""

    def matches(self, request: AttemptRequest) -> bool:
        return (
            self.times > 0
            and request.function == self.function
            and (self.attempt is None or request.attempt == self.attempt)
        )


class FaultyExecutor:
    """Consumes queued faults in the order they were added; delegates everything else."""

    def __init__(self, inner: Executor, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.loop = loop
        self.faults: list[Fault] = []
        self.outstanding: set[asyncio.Future[AttemptOutcome]] = set()
        """Attempts the real executor is still running (the driver waits for these)."""

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError(f"times must be 1 or more, not {fault.times!r}")
        self.faults.append(fault)

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is None:
            future = self.inner.start_attempt(request)
            if not future.done():
                self.outstanding.add(future)
                future.add_done_callback(self.outstanding.discard)
            return future
        fault.times -= 1
        if fault.times == 0:
            self.faults.remove(fault)
        future = self.loop.create_future()
        if fault.kind == "error":
            future.set_result(_raised(fault.error))
        elif fault.kind == "crash":
            future.set_result(AttemptOutcome(None, error=CRASH_MESSAGE))
        # "timeout": never answered; the engine's timer fails it at the function's timeout.
        return future


def _raised(message: str) -> AttemptOutcome:
    """What pingback-py's ``handle()`` answers when the handler raises: 500, status error."""
    response: dict[str, Any] = {"status": "error", "error": message, "logs": [], "tasks": [], "durationMs": 0}
    return AttemptOutcome(500, response=response, duration_ms=0)
