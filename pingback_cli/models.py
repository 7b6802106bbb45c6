"""The records every layer shares: a function's spec, an execution and its attempts.

Times are float unix seconds internally and ISO-8601 UTC with milliseconds and a
trailing ``Z`` on the wire and in JSON, as the platform writes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from pingback_cli.protocol import iso_z

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


@dataclass(frozen=True)
class FunctionSpec:
    """One cron or task as a project declares it, validated."""

    name: str
    type: FunctionType
    schedule: str | None
    retries: int
    timeout: str | None
    """The timeout as declared ("30s"); None means the platform default."""
    timeout_seconds: float
    """The timeout the platform applies: "5m" is 5 seconds there (docs/parity.md#timeouts)."""
    concurrency: int
    source: str | None = None
    """``file:line`` of the declaration, relative to the project root when inside it."""
    timeout_written: float | None = None
    """Seconds a person reads in ``timeout`` ("5m": 300) when the platform applies another
    number; None when the two agree."""

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


@dataclass
class Job:
    """A function as the platform stores it: its state and the options it runs with, as last
    registered or patched (runpingback/pingback apps/platform/src/modules/jobs/job.entity.ts)."""

    id: str
    name: str
    type: FunctionType
    schedule: str | None
    status: JobStatus = "active"
    retries: int = 0
    timeout_seconds: int = 30
    concurrency: int = 1
    source: str = "sdk"
    """"sdk" (registered) or "manual" (created in the dashboard)."""
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class LogEntry:
    timestamp: int
    """Unix milliseconds, as the SDK writes them."""
    level: str
    message: str
    meta: dict[str, JSON] | None = None

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


@dataclass
class OutputLine:
    """A line the handler printed (``stdout``/``stderr``, ``logging`` included) during an attempt:
    local only, never sent to the platform, which keeps ``ctx.log()`` alone
    (``worker/capture.py``); ``pingback`` for pingback's own note about the output."""

    timestamp: int
    """Unix milliseconds."""
    stream: str
    text: str

    def to_json(self) -> dict[str, JSON]:
        return {"timestamp": self.timestamp, "stream": self.stream, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, JSON]) -> OutputLine:
        return cls(
            int(data.get("timestamp") or 0), str(data.get("stream") or "stdout"), str(data.get("text", ""))
        )


@dataclass(slots=True)
class Attempt:
    number: int
    status: Status
    started_at: float
    completed_at: float | None = None
    duration_ms: int | None = None
    http_status: int | None = None
    error: str | None = None
    traceback: str | None = None
    """The user's handler traceback, when it raised."""
    logs: list[LogEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """What production does with this attempt that its answer does not say (docs/parity.md)."""
    output: list[OutputLine] = field(default_factory=list)
    """What the handler printed during the attempt; not sent to the platform."""
    requested_at: float | None = None
    """When a manual retry asked for this attempt (unix seconds); None for the first attempt
    and for automatic retries, which follow their backoff. The wait before it is idle time."""

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


@dataclass(slots=True)
class Execution:
    """One run of a function: the unit the dashboard shows, with every attempt."""

    id: str
    function: str
    type: FunctionType | None
    """None when the function is not registered (an unknown fan-out child)."""
    scheduled_at: float
    payload: JSON = None
    has_payload: bool = False
    parent_id: str | None = None
    root_id: str = ""
    depth: int = 0
    status: Status = "pending"
    attempt: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    result: JSON = None
    error: str | None = None
    logs: list[LogEntry] = field(default_factory=list)
    started_at: float | None = None
    completed_at: float | None = None
    duration_ms: int | None = None
    http_status: int | None = None
    trigger: str = "run"
    """What created it: run, cron, fanout, trigger, replay; or, in history, ``SIMULATED`` for a
    root ``pingback simulate --run`` wrote (on a virtual clock, maybe dated in the future)."""
    replay_of: str | None = None
    due_at: float | None = None
    """When it may next start: its delay's end, a retry's backoff end, or when it was queued.
    Kept after it finishes (the last time it was due); unix seconds."""
    children: list[Execution] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.root_id:
            self.root_id = self.id

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
