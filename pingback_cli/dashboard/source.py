"""Where the dashboard's data and actions come from: a running emulator (`pingback dev`) or the
history file alone (`pingback ui`, read-only).

The pages read history through ``history.queries``; everything else they need (the functions,
the emulator's state, live events and the actions) goes through a ``Source``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pingback_cli.errors import PingbackError
from pingback_cli.history.store import Store
from pingback_cli.record import Record

Listener = Callable[[dict[str, Any]], None]
"""Receives one batch of changes: ``{"roots": [...ids], "ids": [...], "kinds": [...]}``."""

BATCH_SECONDS = 0.05
"""Events within this window reach the browser as one message (a tree of 10,000 is not 10,000)."""

HISTORY_POLL_SECONDS = 0.5
STATE_POLL_SECONDS = 0.1


class ReadOnly(PingbackError):
    """An action asked of `pingback ui`, which only reads history."""

    def __init__(self, action: str) -> None:
        super().__init__(
            f"{action} needs `pingback dev`: this is `pingback ui`, a read-only view of history",
            hint="start `pingback dev` in the project and open its dashboard",
        )


class FunctionInfo(Record):
    """A function as the dashboard lists it; options are None when only history knows it."""

    __slots__ = _fields = (
        "name", "type", "schedule", "retries", "timeout", "timeout_seconds", "concurrency", "source",
        "state", "next_run"
    )  # fmt: skip

    name: str
    type: str | None
    schedule: str | None
    retries: int | None
    timeout: str | None
    timeout_seconds: float | None
    concurrency: int | None
    source: str | None
    state: str
    """active, paused, or inactive (gone from the project)."""
    next_run: float | None

    def __init__(
        self, name: str, type: str | None, schedule: str | None = None, retries: int | None = None,
        timeout: str | None = None, timeout_seconds: float | None = None, concurrency: int | None = None,
        source: str | None = None, state: str = "active", next_run: float | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.type = type
        self.schedule = schedule
        self.retries = retries
        self.timeout = timeout
        self.timeout_seconds = timeout_seconds
        self.concurrency = concurrency
        self.source = source
        self.state = state
        self.next_run = next_run


class EmulatorState(Record):
    """What the header says about the server the page came from."""

    __slots__ = _fields = (
        "mode", "serving", "reloading", "last_reload_at", "last_reload_changes", "load_error"
    )  # fmt: skip

    mode: str
    """``dev`` (the emulator) or ``history`` (`pingback ui`)."""
    serving: bool
    reloading: bool
    last_reload_at: float | None
    last_reload_changes: str | None
    load_error: str | None
    """The last reload's error; the last good code is still serving."""

    def __init__(
        self, mode: str, serving: bool = True, reloading: bool = False, last_reload_at: float | None = None,
        last_reload_changes: str | None = None, load_error: str | None = None,
    ) -> None:  # fmt: skip
        self.mode = mode
        self.serving = serving
        self.reloading = reloading
        self.last_reload_at = last_reload_at
        self.last_reload_changes = last_reload_changes
        self.load_error = load_error


class Source(Protocol):
    project: str
    store: Store
    read_only: bool

    def functions(self) -> list[FunctionInfo]: ...

    def state(self) -> EmulatorState: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    def closing(self) -> bool: ...

    def run(self, name: str, payload: Any, has_payload: bool) -> str: ...

    def replay(self, execution_id: str, payload: Any, has_payload: bool) -> str: ...

    def retry(self, execution_id: str) -> None: ...

    def cancel(self, execution_id: str) -> None: ...

    def set_paused(self, name: str, paused: bool) -> None: ...


def project_name(root: Path) -> str:
    """``[project].name`` of the pyproject, else the folder's name."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,unused-ignore]
    with contextlib.suppress(OSError, ValueError, AttributeError):
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        name = data.get("project", {}).get("name")
        if isinstance(name, str) and name:
            return name
    return root.name


def _next_fire(schedule: str | None, now: float) -> float | None:
    if not schedule:
        return None
    from pingback_cli.project.cron import next_fire

    try:
        return next_fire(schedule, now)
    except Exception:  # a schedule the cron timer refused fires never
        return None


class _Batcher:
    """Coalesces changes into one message per ``BATCH_SECONDS`` for every listener."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self._roots: set[str] = set()
        self._ids: set[str] = set()
        self._kinds: set[str] = set()
        self._scheduled = False

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def add(self, kind: str, execution_id: str | None = None, root_id: str | None = None) -> None:
        if not self.listeners:
            return
        self._kinds.add(kind)
        if execution_id:
            self._ids.add(execution_id)
        if root_id:
            self._roots.add(root_id)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self._send)

    def _send(self) -> None:
        self._scheduled = False
        message = {"roots": sorted(self._roots), "ids": sorted(self._ids), "kinds": sorted(self._kinds)}
        self._roots.clear()
        self._ids.clear()
        self._kinds.clear()
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(message)


class EmulatorSource:
    """`pingback dev`: the emulator's own store (reads flush its buffer first), its engine's
    events, and its actions. ``emulator`` is the ``emulator.host.Emulator`` serving."""

    read_only = False

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.project = project_name(emulator.config.root)
        self._batch = _Batcher()
        self._watcher: asyncio.Task[None] | None = None
        emulator.listen(self._on_event)

    @property
    def store(self) -> Store:  # type: ignore[override]
        return self.emulator.history()  # Unavailable once the emulator stops

    def _on_event(self, event: Any) -> None:
        execution = event.execution
        self._batch.add(event.kind, execution.id, execution.root_id)

    def functions(self) -> list[FunctionInfo]:
        emulator = self.emulator
        now = emulator.clock.now()
        return [
            FunctionInfo(
                name=spec.name,
                type=spec.type,
                schedule=spec.schedule,
                retries=spec.retries,
                timeout=spec.timeout,
                timeout_seconds=spec.timeout_seconds,
                concurrency=spec.concurrency,
                source=spec.source,
                state=emulator.controls.status(spec.name) or "active",
                next_run=_next_fire(spec.schedule, now),
            )
            for spec in sorted(emulator.functions(), key=lambda s: s.name)
        ]

    def state(self) -> EmulatorState:
        emulator = self.emulator
        reload = getattr(emulator, "last_reload", None)
        return EmulatorState(
            mode="dev",
            serving=bool(emulator.ready) and not emulator.stopping,
            reloading=bool(getattr(emulator, "reloading", False)),
            last_reload_at=reload.at if reload else None,
            last_reload_changes=reload.changes if reload else None,
            load_error=reload.error if reload else None,
        )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch_state())
        return self._batch.subscribe(listener)

    async def _watch_state(self) -> None:
        """The header's state (reloading, the last reload) changes without engine events."""
        last = self.state()
        while not self.closing():
            await asyncio.sleep(STATE_POLL_SECONDS)
            current = self.state()
            if current != last:
                self._batch.add("state")
                last = current

    def closing(self) -> bool:
        return bool(self.emulator.stopping)

    def run(self, name: str, payload: Any, has_payload: bool) -> str:
        execution = self.emulator.submit(name, payload=payload, has_payload=has_payload, trigger="trigger")
        return str(execution.id)

    def replay(self, execution_id: str, payload: Any, has_payload: bool) -> str:
        original = self.store.get(execution_id)
        if not has_payload:
            payload, has_payload = original.payload, original.has_payload
        execution = self.emulator.submit(
            original.function,
            payload=payload,
            has_payload=has_payload,
            trigger="replay",
            replay_of=original.id,
        )
        return str(execution.id)

    def retry(self, execution_id: str) -> None:
        """The platform's Retry, in place (``emulator.controls``: the API's and CLI's function)."""
        self.emulator.controls.retry(execution_id)

    def cancel(self, execution_id: str) -> None:
        self.emulator.controls.cancel(execution_id)

    def set_paused(self, name: str, paused: bool) -> None:
        controls = self.emulator.controls
        if paused:
            controls.pause(name)
        else:
            controls.resume(name)


class HistorySource:
    """`pingback ui`: the history file alone, read-only; changes other processes commit are
    noticed by polling SQLite's data version."""

    read_only = True

    def __init__(self, root: Path, store: Store, project: str = "") -> None:
        self.root = root
        self.store = store
        self.project = project or project_name(root)
        self._batch = _Batcher()
        self._poller: asyncio.Task[None] | None = None
        self._closing = False

    def functions(self) -> list[FunctionInfo]:
        from pingback_cli.history.jobs import JobStore
        from pingback_cli.history.queries import function_names
        from pingback_cli.project.manifest import read_manifest

        listed = {
            entry["name"]: FunctionInfo(entry["name"], entry.get("type"), entry.get("schedule"))
            for entry in read_manifest(self.root)
        }
        for job in JobStore(self.store).all():
            listed[job.name] = FunctionInfo(
                job.name,
                job.type,
                job.schedule,
                retries=job.retries,
                timeout_seconds=job.timeout_seconds,
                concurrency=job.concurrency,
                state=job.status,
            )
        for name in function_names(self.store):
            listed.setdefault(name, FunctionInfo(name, None, state="inactive"))
        return [listed[name] for name in sorted(listed)]

    def state(self) -> EmulatorState:
        return EmulatorState(mode="history")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self._batch.subscribe(listener)

    async def _poll(self) -> None:
        last = None
        while not self._closing:
            with contextlib.suppress(PingbackError):
                version = self.store.read("PRAGMA data_version")[0][0]
                if last is not None and version != last:
                    self._batch.add("changed")
                last = version
            await asyncio.sleep(HISTORY_POLL_SECONDS)

    def closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True
        if self._poller is not None:
            self._poller.cancel()

    def run(self, name: str, payload: Any, has_payload: bool) -> str:
        raise ReadOnly("Run")

    def replay(self, execution_id: str, payload: Any, has_payload: bool) -> str:
        raise ReadOnly("Replay")

    def retry(self, execution_id: str) -> None:
        raise ReadOnly("Retry")

    def cancel(self, execution_id: str) -> None:
        raise ReadOnly("Cancel")

    def set_paused(self, name: str, paused: bool) -> None:
        raise ReadOnly("Pause" if paused else "Resume")


def now() -> float:
    return time.time()
