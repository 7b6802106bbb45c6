"""How the light listing of an execution is read (no payload, result or logs): the columns,
the ``RunRow`` record, and the correction of ``running`` rows whose process is gone. Shared by
``queries`` (lists) and ``outline`` (trees)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pingback_cli.history.owner import is_alive
from pingback_cli.history.store import Store
from pingback_cli.models import Execution
from pingback_cli.record import Record

LIGHT = (
    "r.id, r.function, r.type, r.status, r.attempt, r.scheduled_at, r.started_at, r.completed_at,"
    ' r.duration_ms, r."trigger", r.parent_id, r.root_id, r.depth, r.error, r.owner'
)
"""The columns of a ``RunRow`` (then ``owner``), over alias ``r``."""


class RunRow(Record):
    """An execution without payload, result or logs, plus counts over what is below it."""

    __slots__ = _fields = (
        "id", "function", "type", "status", "attempt", "scheduled_at", "started_at", "completed_at",
        "duration_ms", "trigger", "parent_id", "root_id", "depth", "error", "cursor", "descendants",
        "failed_descendants", "unfinished_descendants"
    )  # fmt: skip

    id: str
    function: str
    type: str | None
    status: str
    attempt: int
    scheduled_at: float
    started_at: float | None
    completed_at: float | None
    duration_ms: int | None
    trigger: str
    parent_id: str | None
    root_id: str
    depth: int
    error: str | None
    cursor: str
    descendants: int
    failed_descendants: int
    unfinished_descendants: int

    def __init__(
        self, id: str, function: str, type: str | None, status: str, attempt: int, scheduled_at: float,
        started_at: float | None, completed_at: float | None, duration_ms: int | None, trigger: str,
        parent_id: str | None, root_id: str, depth: int, error: str | None, cursor: str = "",
        descendants: int = 0, failed_descendants: int = 0, unfinished_descendants: int = 0,
    ) -> None:  # fmt: skip
        self.id = id
        self.function = function
        self.type = type
        self.status = status
        self.attempt = attempt
        self.scheduled_at = scheduled_at
        self.started_at = started_at
        self.completed_at = completed_at
        self.duration_ms = duration_ms
        self.trigger = trigger
        self.parent_id = parent_id
        self.root_id = root_id
        self.depth = depth
        self.error = error
        self.cursor = cursor
        self.descendants = descendants
        self.failed_descendants = failed_descendants
        self.unfinished_descendants = unfinished_descendants


class Liveness:
    """Whether the process that wrote a running row still runs, asked once per owner per query.

    Only ``running`` is corrected: a ``pending`` row of a stopped `pingback dev` waits in the
    durable queue for the next one, which takes it over."""

    def __init__(self, store: Store) -> None:
        self.own = store.owner
        self.known: dict[str, bool] = {}

    def status(self, status: str, owner: str | None) -> str:
        if status != "running" or owner is None or owner == self.own:
            return status
        if owner not in self.known:
            self.known[owner] = is_alive(owner)
        return status if self.known[owner] else "interrupted"


OWNER_GONE = {
    "dev": "interrupted (dev not running): its pingback dev (pid {pid}) is gone; the next"
    " `pingback dev` counts this attempt as failed and retries it if retries remain",
    None: "interrupted: the pingback process running this (pid {pid}) is gone",
}
"""What a reader says of a ``running`` row whose owner died, by the row's queue: a dev's row is
taken over by the next dev (``history.queue``); any other is marked so by the next start."""

_CHUNK = 500


def settle_for_reading(store: Store, executions: Iterable[Execution]) -> None:
    """Show each ``running`` execution whose owner process is gone as ``interrupted``, with
    :data:`OWNER_GONE`'s reason as its error when it has none. Changes the objects only: a
    reader never writes (the next writer of that queue settles the rows themselves)."""
    running = {e.id: e for e in executions if e.status == "running"}
    ids = list(running)
    alive = Liveness(store)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = store.read(
            f"SELECT id, owner, queue FROM executions WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
        )
        for execution_id, owner, queue in rows:
            if alive.status("running", owner) == "running":
                continue
            execution = running[execution_id]
            execution.status = "interrupted"
            reason = OWNER_GONE.get(queue, OWNER_GONE[None])
            execution.error = execution.error or reason.format(pid=str(owner).partition(":")[0])


def read_row(values: tuple[Any, ...], alive: Liveness) -> RunRow:
    *light, owner = values[:15]
    row = RunRow(*light)
    row.status = alive.status(row.status, owner)
    return row


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
