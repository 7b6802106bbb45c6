"""The one interface every executor implements, and what a reload reports.

The emulator picks one executor when it starts (the worker subprocess, or signed HTTP
POSTs to the user's app) and from then on only calls these methods. An executor also
owns which functions exist: it tells the emulator each new list through ``publish``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from pingback_cli.errors import ProjectError
from pingback_cli.models import FunctionSpec
from pingback_cli.protocol import AttemptOutcome, AttemptRequest
from pingback_cli.record import Record

Publish = Callable[[list[FunctionSpec]], None]
"""Receives each new function list; raises ProjectError to refuse it (the old list stays)."""


class ReloadResult(Record):
    """What a reload changed; ``functions`` are the protocol's dicts of the list now served."""

    __slots__ = _fields = ("ok", "added", "removed", "changed", "functions", "error")

    ok: bool
    added: list[str]
    removed: list[str]
    changed: list[str]
    functions: list[dict[str, Any]]
    error: ProjectError | None

    def __init__(
        self, ok: bool, added: list[str], removed: list[str], changed: list[str],
        functions: list[dict[str, Any]], error: ProjectError | None = None,
    ) -> None:  # fmt: skip
        self.ok = ok
        self.added = added
        self.removed = removed
        self.changed = changed
        self.functions = functions
        self.error = error

    @classmethod
    def compare(cls, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> ReloadResult:
        """A successful reload from ``before`` to ``after`` (each a list of function dicts)."""
        old = {f["name"]: f for f in before}
        new = {f["name"]: f for f in after}
        return cls(
            True,
            added=sorted(new.keys() - old.keys()),
            removed=sorted(old.keys() - new.keys()),
            changed=sorted(n for n in new.keys() & old.keys() if new[n] != old[n]),
            functions=after,
        )

    @classmethod
    def refused(cls, functions: list[dict[str, Any]], error: ProjectError) -> ReloadResult:
        """A failed reload: ``functions`` (the old list) are still served."""
        return cls(False, [], [], [], functions, error=error)


class ReloadRecord(Record):
    """The last reload, as the dashboard's header shows it (``at``: unix seconds)."""

    __slots__ = _fields = ("at", "changes", "error")

    at: float
    changes: str | None
    error: str | None

    def __init__(self, at: float, changes: str | None, error: str | None) -> None:
        self.at = at
        self.changes = changes
        self.error = error

    @classmethod
    def of(cls, result: ReloadResult, at: float) -> ReloadRecord:
        named = (("added", result.added), ("removed", result.removed), ("changed", result.changed))
        changes = "; ".join(f"{label}: {', '.join(names)}" for label, names in named if names)
        error = None if result.ok else (result.error.message if result.error else "unknown error")
        return cls(at, changes or None, error)


class Executor(Protocol):
    """How attempts reach handlers. Attempts never raise: every failure is an outcome."""

    async def start(self) -> None:
        """Get ready and ``publish`` the first function list; ProjectError if the project
        cannot be loaded."""

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        """Run one attempt; cancelling the future abandons it."""
        ...

    async def reload(self) -> ReloadResult:
        """Files changed: load the functions again and publish them; a refused reload keeps
        serving the old code."""
        ...

    def register(self, specs: list[FunctionSpec]) -> None:
        """An app registered ``specs`` through the API (the worker's own project wins)."""

    def forward(self, name: str) -> FunctionSpec | None:
        """A name nobody declares was triggered: the spec to run it with, or None to refuse."""
        ...

    async def aclose(self, grace: float | None = None) -> None:
        """Stop; ``grace`` (seconds) overrides how long running handlers may finish."""
