"""Read paths over history for the dashboard (and any face that lists): filtered pages of
runs, a 24-hour histogram, each function's last run and recent payloads, log lines across
executions, and a light outline of a whole tree.

Every query is bounded (an indexed cursor and a LIMIT), so a page costs the same with 100
executions as with 100,000. Rows left ``pending`` or ``running`` by a pingback process that no
longer exists are reported ``interrupted``: nothing shows running that is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pingback_cli.history.codec import load_attempts
from pingback_cli.history.owner import is_alive
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt

STATUSES = ("pending", "running", "success", "failed", "cancelled", "interrupted")
"""What the status filter accepts; ``failed`` also finds trees with a failed descendant."""

HOUR = 3600
HISTOGRAM_HOURS = 24
MAX_PAGE = 200

_LIGHT = (
    "r.id, r.function, r.type, r.status, r.attempt, r.scheduled_at, r.started_at, r.completed_at,"
    ' r.duration_ms, r."trigger", r.parent_id, r.root_id, r.depth, r.error, r.owner'
)
_BELOW = "SELECT COUNT(*) FROM executions d WHERE d.root_id = r.id AND d.rowid != r.rowid"


@dataclass(frozen=True)
class RunQuery:
    """One page of the runs list. Times are unix seconds of creation; ``before`` is the cursor
    from the previous page (``RunPage.next_before``)."""

    function: str | None = None
    status: str | None = None
    since: float | None = None
    until: float | None = None
    text: str | None = None
    roots_only: bool = True
    root: str | None = None
    """Only executions of this tree (with ``roots_only`` False)."""
    before: int | None = None
    limit: int = 50


@dataclass
class RunRow:
    """An execution without payload, result or logs, plus counts over what is below it."""

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
    cursor: int = 0
    descendants: int = 0
    failed_descendants: int = 0
    unfinished_descendants: int = 0


@dataclass
class RunPage:
    rows: list[RunRow]
    next_before: int | None
    """Pass as ``RunQuery.before`` for the next (older) page; None on the last page."""


@dataclass
class HistogramBar:
    start: float
    """Unix seconds at the start of the hour."""
    success: int = 0
    failed: int = 0
    other: int = 0


@dataclass
class LogLine:
    execution_id: str
    function: str
    timestamp: int
    """Unix milliseconds, as the SDK writes them."""
    level: str
    message: str
    meta: Any
    cursor: str


@dataclass
class OutlineNode:
    """One execution of a tree as the tree view and the waterfall need it (no payload)."""

    row: RunRow
    seq: int
    attempts_text: str
    children: list[OutlineNode] = field(default_factory=list)

    def attempts(self) -> list[Attempt]:
        return load_attempts(self.attempts_text)


class _Liveness:
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


def _row(values: tuple[Any, ...], alive: _Liveness) -> RunRow:
    *light, owner = values[:15]
    row = RunRow(*light)
    row.status = alive.status(row.status, owner)
    return row


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def runs(store: Store, query: RunQuery) -> RunPage:
    """A page of executions, newest first: roots (``roots_only``) or every execution."""
    key = "r.seq" if query.roots_only else "r.rowid"
    where = ["r.parent_id IS NULL"] if query.roots_only else ["1"]
    params: list[Any] = []
    if query.root:
        where.append("r.root_id = ?")
        params.append(query.root)
    if query.function:
        where.append("r.function = ?")
        params.append(query.function)
    if query.status == "failed":
        where.append(
            "(r.status = 'failed' OR EXISTS (SELECT 1 FROM executions f"
            " WHERE f.root_id = r.id AND f.status = 'failed'))"
        )
    elif query.status:
        where.append("r.status = ?")
        params.append(query.status)
    if query.since is not None:
        where.append("r.seq >= ?")
        params.append(int(query.since * 1_000_000))
    if query.until is not None:
        where.append("r.seq < ?")
        params.append(int(query.until * 1_000_000))
    if query.text:
        pattern = _like(query.text)
        columns = ("t.id", "t.function", "t.payload", "t.result", "t.error", "t.logs", "t.attempts")
        matches = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns)
        scope = "t.root_id = r.id" if query.roots_only else "t.rowid = r.rowid"
        where.append(f"EXISTS (SELECT 1 FROM executions t WHERE {scope} AND ({matches}))")
        params.extend([pattern] * len(columns))
    if query.before is not None:
        where.append(f"{key} < ?")
        params.append(query.before)
    limit = max(1, min(query.limit, MAX_PAGE))
    rows = store.read(
        f"SELECT {_LIGHT}, {key}, ({_BELOW}), ({_BELOW} AND d.status = 'failed'),"
        f" ({_BELOW} AND d.status IN ('pending', 'running'))"
        f" FROM executions r WHERE {' AND '.join(where)} ORDER BY {key} DESC LIMIT ?",
        (*params, limit + 1),
    )
    alive = _Liveness(store)
    found = []
    for values in rows[:limit]:
        row = _row(values, alive)
        row.cursor, row.descendants, row.failed_descendants, row.unfinished_descendants = values[15:]
        found.append(row)
    return RunPage(found, found[-1].cursor if len(rows) > limit else None)


def histogram(store: Store, now: float) -> list[HistogramBar]:
    """Root executions created in each of the last 24 hours (the current one last), by status."""
    first = (int(now) // HOUR - (HISTOGRAM_HOURS - 1)) * HOUR
    bars = [HistogramBar(first + index * HOUR) for index in range(HISTOGRAM_HOURS)]
    rows = store.read(
        "SELECT (seq / 1000000 - ?) / ?, status, COUNT(*) FROM executions INDEXED BY executions_roots_status"
        " WHERE parent_id IS NULL AND status IN ('success', 'failed', 'pending', 'running', 'cancelled',"
        " 'interrupted') AND seq >= ? GROUP BY 1, 2",
        (first, HOUR, first * 1_000_000),
    )
    for bucket, status, count in rows:
        if not 0 <= bucket < HISTOGRAM_HOURS:
            continue
        bar = bars[int(bucket)]
        if status == "success":
            bar.success += count
        elif status == "failed":
            bar.failed += count
        else:
            bar.other += count
    return bars


def last_runs(store: Store, functions: list[str]) -> dict[str, RunRow]:
    """Each named function's newest execution (root or child), when it has one."""
    alive = _Liveness(store)
    found: dict[str, RunRow] = {}
    for name in functions:
        rows = store.read(
            f"SELECT {_LIGHT} FROM executions r WHERE r.function = ? ORDER BY r.rowid DESC LIMIT 1", (name,)
        )
        if rows:
            found[name] = _row(rows[0], alive)
    return found


def function_names(store: Store) -> list[str]:
    """Every function name history has seen, sorted."""
    return sorted(row[0] for row in store.read("SELECT DISTINCT function FROM executions", ()))


def recent_payloads(store: Store, function: str, count: int = 10) -> list[str]:
    """The newest distinct payloads ``function`` was run with, as JSON text (newest first)."""
    rows = store.read(
        "SELECT payload FROM executions WHERE function = ? AND has_payload = 1 AND payload IS NOT NULL"
        " ORDER BY rowid DESC LIMIT 200",
        (function,),
    )
    seen: list[str] = []
    for (text,) in rows:
        if text not in seen:
            seen.append(text)
        if len(seen) >= count:
            break
    return seen


def log_lines(
    store: Store,
    *,
    level: str | None = None,
    function: str | None = None,
    text: str | None = None,
    before: str | None = None,
    limit: int = 200,
) -> tuple[list[LogLine], str | None]:
    """Log lines of every execution, newest execution first; ``before`` is the cursor the
    previous page returned (``"rowid:index"``). Returns the lines and the next cursor."""
    where = ["e.logs != '[]'"]
    params: list[Any] = []
    if function:
        where.append("e.function = ?")
        params.append(function)
    if level:
        where.append("json_extract(j.value, '$.level') = ?")
        params.append(level)
    if text:
        where.append("j.value LIKE ? ESCAPE '\\'")
        params.append(_like(text))
    if before:
        rowid, _, index = before.partition(":")
        if rowid.isdigit() and index.isdigit():
            where.append("(e.rowid < ? OR (e.rowid = ? AND j.key > ?))")
            params.extend([int(rowid), int(rowid), int(index)])
    limit = max(1, min(limit, 1000))
    rows = store.read(
        "SELECT e.id, e.function, e.rowid, j.key, j.value FROM executions e, json_each(e.logs) j"
        f" WHERE {' AND '.join(where)} ORDER BY e.rowid DESC, j.key LIMIT ?",
        (*params, limit + 1),
    )
    lines = []
    for execution_id, name, rowid, index, value in rows[:limit]:
        entry = json.loads(value)
        lines.append(
            LogLine(
                execution_id,
                name,
                int(entry.get("timestamp") or 0),
                str(entry.get("level") or "info"),
                str(entry.get("message", "")),
                entry.get("meta"),
                f"{rowid}:{index}",
            )
        )
    return lines, (lines[-1].cursor if len(rows) > limit else None)


def outline(store: Store, root_id: str) -> tuple[OutlineNode | None, int]:
    """The tree under ``root_id`` without payloads, results or logs (children in creation
    order), and its size. None when the root is not in history."""
    rows = store.read(
        f"SELECT {_LIGHT}, r.seq, r.attempts FROM executions r WHERE r.root_id = ?",
        (root_id,),
    )
    alive = _Liveness(store)
    nodes = {values[0]: OutlineNode(_row(values, alive), values[15], values[16]) for values in rows}
    for node in sorted(nodes.values(), key=lambda n: n.seq):
        parent = nodes.get(node.row.parent_id) if node.row.parent_id else None
        if parent is not None:
            parent.children.append(node)
    return nodes.get(root_id), len(nodes)
