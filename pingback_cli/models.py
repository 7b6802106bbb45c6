"""The records every layer shares: a function's spec, an execution and its attempts.

Times are float unix seconds internally and ISO-8601 UTC with milliseconds and a
trailing ``Z`` on the wire and in JSON, as the platform writes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from pingback_cli.protocol import iso_z
from pingback_cli.record import FrozenRecord, Record

FunctionType = Literal["cron", "task"]
Status = Literal["pending", "running", "success", "failed", "interrupted", "cancelled"]
FINISHED: frozenset[str] = frozenset({"success", "failed", "interrupted", "cancelled"})
JobStatus = Literal["active", "paused", "inactive"]
"""A job's state on the platform (apps/platform/src/modules/jobs/job.entity.ts:30-31)."""

Node = TypeVar("Node")

JSON = Any
"""A value that survives ``json.dumps``."""


def depth_first(root: Node, children: Callable[[Node], list[Node]]) -> list[Node]:
    """``root`` and every node below it, depth first, children in order; without recursion, so
    a deep chain cannot overflow the stack (``Execution.walk``, the history's outline)."""
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(children(node)))
    return found


_VARIANT = "89ab" * 4
"""The RFC 4122 variant digit for each value of a random hex digit (its top two bits ``10``)."""


def new_id() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` writes it, in a third of its
    time: one per execution, so once per fan-out child."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"


def iso(ts: float | None) -> str | None:
    """Unix seconds -> ``2026-11-28T10:15:00.000Z`` (None stays None)."""
    return None if ts is None else iso_z(ts)


def utc_datetime(ts: float) -> datetime:
    """Unix seconds -> an aware ``datetime`` in UTC."""
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def from_iso(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class FunctionSpec(FrozenRecord):
    """One cron or task as a project declares it, validated (frozen: ``record.FrozenRecord``)."""

    __slots__ = _fields = (
        "name", "type", "schedule", "retries", "timeout", "timeout_seconds", "concurrency", "source",
        "timeout_written",
    )  # fmt: skip
    name: str
    type: FunctionType
    schedule: str | None
    retries: int
    timeout: str | None
    """The timeout as declared ("30s"); None means the platform default."""
    timeout_seconds: float
    """The timeout the platform applies: "5m" is 5 seconds there (docs/parity.md#timeouts)."""
    concurrency: int
    source: str | None
    """``file:line`` of the declaration, relative to the project root when inside it."""
    timeout_written: float | None
    """Seconds a person reads in ``timeout`` ("5m": 300) when the platform applies another
    number; None when the two agree."""

    def __init__(
        self, name: str, type: FunctionType, schedule: str | None, retries: int, timeout: str | None,
        timeout_seconds: float, concurrency: int, source: str | None = None,
        timeout_written: float | None = None,
    ) -> None:  # fmt: skip
        self._set(
            name, type, schedule, retries, timeout, timeout_seconds, concurrency, source, timeout_written
        )

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "type": self.type,
            "schedule": self.schedule,
            "retries": self.retries,
            "timeout": self.timeout,
            "timeoutSeconds": self.timeout_seconds,
            "concurrency": self.concurrency,
            "source": self.source,
            "timeoutAsWrittenSeconds": self.timeout_written,
        }

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> FunctionSpec:
        return cls(
            name=data["name"],
            type=data["type"],
            schedule=data.get("schedule"),
            retries=data["retries"],
            timeout=data.get("timeout"),
            timeout_seconds=data["timeoutSeconds"],
            concurrency=data["concurrency"],
            source=data.get("source"),
            timeout_written=data.get("timeoutAsWrittenSeconds"),
        )


class Job(Record):
    """A function as the platform stores it: its state and the options it runs with, as last
    registered or patched (runpingback/pingback apps/platform/src/modules/jobs/job.entity.ts)."""

    __slots__ = _fields = (
        "id", "name", "type", "schedule", "status", "retries", "timeout_seconds", "concurrency", "source",
        "created_at", "updated_at",
    )  # fmt: skip
    source: str
    """"sdk" (registered) or "manual" (created in the dashboard)."""

    def __init__(
        self, id: str, name: str, type: FunctionType, schedule: str | None, status: JobStatus = "active",
        retries: int = 0, timeout_seconds: int = 30, concurrency: int = 1, source: str = "sdk",
        created_at: float = 0.0, updated_at: float = 0.0,
    ) -> None:  # fmt: skip
        self.id = id
        self.name = name
        self.type = type
        self.schedule = schedule
        self.status = status
        self.retries = retries
        self.timeout_seconds = timeout_seconds
        self.concurrency = concurrency
        self.source = source
        self.created_at = created_at
        self.updated_at = updated_at


class LogEntry(Record):
    """A line the handler logged with ``ctx.log()``."""

    __slots__ = _fields = ("timestamp", "level", "message", "meta")
    timestamp: int
    """Unix milliseconds, as the SDK writes them."""

    def __init__(self, timestamp: int, level: str, message: str, meta: dict[str, JSON] | None = None) -> None:
        self.timestamp = timestamp
        self.level = level
        self.message = message
        self.meta = meta

    def to_json(self) -> dict[str, JSON]:
        entry: dict[str, JSON] = {
            "timestamp": self.timestamp,
            "level": self.level,
            "message": self.message,
        }
        if self.meta:
            entry["meta"] = self.meta
        return entry

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> LogEntry:
        return cls(
            timestamp=int(data.get("timestamp") or 0),
            level=str(data.get("level") or "info"),
            message=str(data.get("message", "")),
            meta=data.get("meta") or None,
        )


class OutputLine(Record):
    """A line the handler printed (``stdout``/``stderr``, ``logging`` included) during an attempt:
    local only, never sent to the platform, which keeps ``ctx.log()`` alone
    (``worker/capture.py``); ``pingback`` for pingback's own note about the output."""

    __slots__ = _fields = ("timestamp", "stream", "text")
    timestamp: int
    """Unix milliseconds."""

    def __init__(self, timestamp: int, stream: str, text: str) -> None:
        self.timestamp = timestamp
        self.stream = stream
        self.text = text

    def to_json(self) -> dict[str, JSON]:
        return {"timestamp": self.timestamp, "stream": self.stream, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> OutputLine:
        return cls(
            int(data.get("timestamp") or 0), str(data.get("stream") or "stdout"), str(data.get("text", ""))
        )


class Attempt(Record):
    """One attempt of an execution: its times, its answer and what it logged and printed."""

    __slots__ = _fields = (
        "number", "status", "started_at", "completed_at", "duration_ms", "http_status", "error", "traceback",
        "logs", "notices", "output", "requested_at",
    )  # fmt: skip
    traceback: str | None
    """The user's handler traceback, when it raised."""
    notices: list[str]
    """What production does with this attempt that its answer does not say (docs/parity.md)."""
    output: list[OutputLine]
    """What the handler printed during the attempt; not sent to the platform."""
    requested_at: float | None
    """When a manual retry asked for this attempt (unix seconds); None for the first attempt
    and for automatic retries, which follow their backoff. The wait before it is idle time."""

    def __init__(
        self, number: int, status: Status, started_at: float, completed_at: float | None = None,
        duration_ms: int | None = None, http_status: int | None = None, error: str | None = None,
        traceback: str | None = None, logs: list[LogEntry] | None = None, notices: list[str] | None = None,
        output: list[OutputLine] | None = None, requested_at: float | None = None,
    ) -> None:  # fmt: skip
        self.number = number
        self.status = status
        self.started_at = started_at
        self.completed_at = completed_at
        self.duration_ms = duration_ms
        self.http_status = http_status
        self.error = error
        self.traceback = traceback
        self.logs = [] if logs is None else logs
        self.notices = [] if notices is None else notices
        self.output = [] if output is None else output
        self.requested_at = requested_at

    def last_seen(self) -> float | None:
        """The latest moment this attempt is known to have been running: its last log line or
        printed line (unix seconds), else None. What a process that died mid-attempt leaves."""
        stamps = [entry.timestamp for entry in self.logs] + [line.timestamp for line in self.output]
        latest = max(stamps, default=0) / 1000
        return latest if latest > self.started_at else None

    def to_json(self) -> dict[str, JSON]:
        """The attempt as ``--json`` and the API show it. Runs once per execution of a fan-out's
        tree, so empty lists and None checks are inline."""
        started, completed = self.started_at, self.completed_at
        data: dict[str, JSON] = {
            "attempt": self.number,
            "status": self.status,
            "startedAt": None if started is None else iso_z(started),
            "completedAt": None if completed is None else iso_z(completed),
            "durationMs": self.duration_ms,
            "httpStatus": self.http_status,
            "error": self.error,
            "traceback": self.traceback,
            "logs": [log.to_json() for log in self.logs] if self.logs else [],
            "notices": list(self.notices) if self.notices else [],
            "output": [line.to_json() for line in self.output] if self.output else [],
        }
        if self.requested_at is not None:
            data["requestedAt"] = iso_z(self.requested_at)
        return data

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> Attempt:
        return cls(
            number=data["attempt"],
            status=data["status"],
            started_at=from_iso(data["startedAt"]) or 0.0,
            completed_at=from_iso(data.get("completedAt")),
            duration_ms=data.get("durationMs"),
            http_status=data.get("httpStatus"),
            error=data.get("error"),
            traceback=data.get("traceback"),
            logs=[LogEntry.from_json(log) for log in data.get("logs") or []],
            notices=[str(notice) for notice in data.get("notices") or []],
            output=[OutputLine.from_json(line) for line in data.get("output") or []],
            requested_at=from_iso(data.get("requestedAt")),
        )


SIMULATED = "simulate"
"""The trigger history records for the roots of ``pingback simulate --run``."""


class Execution(Record):
    """One run of a function: the unit the dashboard shows, with every attempt."""

    __slots__ = _fields = (
        "id", "function", "type", "scheduled_at", "payload", "has_payload", "parent_id", "root_id", "depth",
        "status", "attempt", "attempts", "result", "error", "logs", "started_at", "completed_at",
        "duration_ms", "http_status", "trigger", "replay_of", "due_at", "children",
    )  # fmt: skip
    type: FunctionType | None
    """None when the function is not registered (an unknown fan-out child)."""
    root_id: str
    """The id of its tree's root: its own id when it is one (an empty ``root_id`` given)."""
    trigger: str
    """What created it: run, cron, fanout, trigger, replay; or, in history, ``SIMULATED`` for a
    root ``pingback simulate --run`` wrote (on a virtual clock, maybe dated in the future)."""
    due_at: float | None
    """When it may next start: its delay's end, a retry's backoff end, or when it was queued.
    Kept after it finishes (the last time it was due); unix seconds."""

    def __init__(
        self, id: str, function: str, type: FunctionType | None, scheduled_at: float, payload: JSON = None,
        has_payload: bool = False, parent_id: str | None = None, root_id: str = "", depth: int = 0,
        status: Status = "pending", attempt: int = 0, attempts: list[Attempt] | None = None,
        result: JSON = None, error: str | None = None, logs: list[LogEntry] | None = None,
        started_at: float | None = None, completed_at: float | None = None, duration_ms: int | None = None,
        http_status: int | None = None, trigger: str = "run", replay_of: str | None = None,
        due_at: float | None = None, children: list[Execution] | None = None,
    ) -> None:  # fmt: skip
        self.id = id
        self.function = function
        self.type = type
        self.scheduled_at = scheduled_at
        self.payload = payload
        self.has_payload = has_payload
        self.parent_id = parent_id
        self.root_id = root_id or id
        self.depth = depth
        self.status = status
        self.attempt = attempt
        self.attempts = [] if attempts is None else attempts
        self.result = result
        self.error = error
        self.logs = [] if logs is None else logs
        self.started_at = started_at
        self.completed_at = completed_at
        self.duration_ms = duration_ms
        self.http_status = http_status
        self.trigger = trigger
        self.replay_of = replay_of
        self.due_at = due_at
        self.children = [] if children is None else children

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_json(self, *, children: bool = True) -> dict[str, JSON]:
        """The execution as ``--json`` prints it (with its subtree unless ``children=False``).
        Runs once per execution of a fan-out's tree, so the None checks are inline."""
        due, started, completed = self.due_at, self.started_at, self.completed_at
        data: dict[str, JSON] = {
            "executionId": self.id,
            "function": self.function,
            "type": self.type,
            "status": self.status,
            "attempt": self.attempt,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "payload": self.payload,
            "result": self.result,
            "error": self.error,
            "logs": [log.to_json() for log in self.logs] if self.logs else [],
            "parentId": self.parent_id,
            "rootId": self.root_id,
            "trigger": self.trigger,
            "replayOf": self.replay_of,
            "scheduledAt": iso_z(self.scheduled_at),
            "dueAt": None if due is None else iso_z(due),
            "startedAt": None if started is None else iso_z(started),
            "completedAt": None if completed is None else iso_z(completed),
            "durationMs": self.duration_ms,
            "httpStatus": self.http_status,
        }
        if children:
            data["children"] = [child.to_json() for child in self.children] if self.children else []
        return data

    def walk(self) -> list[Execution]:
        """This execution and all its descendants, depth first (without recursion, so a deep
        chain of fan-out cannot overflow the stack)."""
        return depth_first(self, lambda execution: execution.children)
