"""Read paths over history for the dashboard (and any face that lists): filtered pages of
runs, a 24-hour histogram, each function's last run and recent payloads, and log lines across
executions (a whole tree: ``history.outline``).

Every query is bounded (an indexed cursor and a LIMIT), so a page costs the same with 100
executions as with 100,000. A ``running`` row of a pingback process that no longer exists is
reported ``interrupted`` (``history.rows``): nothing shows running that is not.
"""

from __future__ import annotations

import json
from typing import Any

from pingback_cli.history.rows import LIGHT, Liveness, RunRow, like, read_row
from pingback_cli.history.schema import shown_at
from pingback_cli.history.statuses import status_term
from pingback_cli.history.store import Store
from pingback_cli.record import FrozenRecord, Record

STATUSES = ("pending", "running", "success", "failed", "cancelled", "interrupted")

TRIGGERS = ("cron", "trigger", "run", "replay", "simulate", "fanout")
"""What started an execution, as history records it: a cron firing, the trigger API (the
dashboard's Run, ``pingback trigger``, ``pb.trigger()``), ``pingback run``, a replay, a
``simulate --run``, a parent's ``ctx.task()``. The runs lists filter on it (``--trigger``)."""
"""What the status filter accepts; ``failed`` also finds trees with a failed descendant."""

HOUR = 3600
HISTOGRAM_HOURS = 24
MAX_PAGE = 200
SEARCH_WINDOW = 10_000
"""Executions one page of a text search looks through (its cost is bounded, not its reach)."""

_BELOW = "SELECT COUNT(*) FROM executions d WHERE d.root_id = r.id AND d.rowid != r.rowid"


class RunQuery(FrozenRecord):
    """One page of the runs list, in the order of the time it shows (``schema.shown_at``:
    started, else due), newest first. ``since``/``until`` are unix seconds of creation;
    ``before`` is the cursor from the previous page (``RunPage.next_before``)."""

    __slots__ = _fields = (
        "function", "status", "since", "until", "text", "roots_only", "root", "trigger", "before",
        "limit"
    )  # fmt: skip

    function: str | None
    status: str | None
    since: float | None
    until: float | None
    text: str | None
    roots_only: bool
    root: str | None
    """Only executions of this tree (with ``roots_only`` False)."""
    trigger: str | None
    """Only executions started this way (``TRIGGERS``)."""
    before: str | None
    limit: int

    def __init__(
        self, function: str | None = None, status: str | None = None, since: float | None = None,
        until: float | None = None, text: str | None = None, roots_only: bool = True, root: str | None = None,
        trigger: str | None = None, before: str | None = None, limit: int = 50,
    ) -> None:  # fmt: skip
        self._set(function, status, since, until, text, roots_only, root, trigger, before, limit)


class RunPage(Record):
    __slots__ = _fields = ("rows", "next_before")

    rows: list[RunRow]
    next_before: str | None
    """Pass as ``RunQuery.before`` for the next (older) page; None on the last page."""

    def __init__(self, rows: list[RunRow], next_before: str | None) -> None:
        self.rows = rows
        self.next_before = next_before


class HistogramBar(Record):
    __slots__ = _fields = ("start", "success", "failed", "other")

    start: float
    """Unix seconds at the start of the hour."""
    success: int
    failed: int
    other: int

    def __init__(self, start: float, success: int = 0, failed: int = 0, other: int = 0) -> None:
        self.start = start
        self.success = success
        self.failed = failed
        self.other = other


class LogLine(Record):
    __slots__ = _fields = ("execution_id", "function", "timestamp", "level", "message", "meta", "cursor")

    execution_id: str
    function: str
    timestamp: int
    """Unix milliseconds, as the SDK writes them."""
    level: str
    message: str
    meta: Any
    cursor: str

    def __init__(
        self, execution_id: str, function: str, timestamp: int, level: str, message: str, meta: Any,
        cursor: str,
    ) -> None:  # fmt: skip
        self.execution_id = execution_id
        self.function = function
        self.timestamp = timestamp
        self.level = level
        self.message = message
        self.meta = meta
        self.cursor = cursor


def runs(store: Store, query: RunQuery) -> RunPage:
    """A page of executions, newest shown time first: roots (``roots_only``) or every execution.

    With ``text``, one page searches at most ``SEARCH_WINDOW`` executions (newest created first)
    and its cursor continues below them: a search costs the same whatever the history's size."""
    at = shown_at("r")
    where, params = _filters(store, query)
    limit = max(1, min(query.limit, MAX_PAGE))
    searched_to: int | None = None
    if query.text:
        ids, searched_to = _search(store, query, limit)
        if not ids:
            return RunPage([], _text_cursor(searched_to))
        where.append(f"r.id IN ({', '.join('?' for _ in ids)})")
        params.extend(ids)
    elif (cursor := read_cursor(query.before)) is not None:
        where.append(f"{at} <= ? AND ({at}, r.rowid) < (?, ?)")  # the first term seeks the index
        params.extend([cursor[0], *cursor])
    rows = store.read(
        f"SELECT {LIGHT}, {at}, r.rowid, ({_BELOW}), ({_BELOW} AND d.status = 'failed'),"
        f" ({_BELOW} AND d.status IN ('pending', 'running'))"
        f" FROM executions r WHERE {' AND '.join(where)} ORDER BY {at} DESC, r.rowid DESC LIMIT ?",
        (*params, limit + 1),
    )
    alive = Liveness(store)
    found = []
    for values in rows[:limit]:
        row = read_row(values, alive)
        row.cursor = make_cursor(values[15], values[16])
        row.descendants, row.failed_descendants, row.unfinished_descendants = values[17:]
        found.append(row)
    if query.text:
        return RunPage(found, _text_cursor(searched_to))
    return RunPage(found, found[-1].cursor if len(rows) > limit else None)


def make_cursor(at: float, rowid: int) -> str:
    """A list position as text for a URL: the shown time (exact, ``repr``) and the rowid."""
    return f"{at!r}_{rowid}"


def read_cursor(text: str | None) -> tuple[float, int] | None:
    """``make_cursor``'s (time, rowid), or None for text that is not such a cursor."""
    at, _, rowid = (text or "").partition("_")
    try:
        return float(at), int(rowid)
    except ValueError:
        return None


def _text_cursor(searched_to: int | None) -> str | None:
    return None if searched_to is None else str(searched_to)


def _filters(store: Store, query: RunQuery) -> tuple[list[str], list[Any]]:
    """The WHERE terms (over alias ``r``) of every filter but text and the cursor."""
    where = ["r.parent_id IS NULL"] if query.roots_only else ["1"]
    params: list[Any] = []
    equal = (("r.root_id", query.root), ("r.function", query.function), ('r."trigger"', query.trigger))
    for column, value in equal:
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if query.status == "failed":
        where.append(
            "(r.status = 'failed' OR EXISTS (SELECT 1 FROM executions f"
            " WHERE f.root_id = r.id AND f.status = 'failed'))"
        )
    elif query.status:
        term, values = status_term(query.status, store.read, store.owner)
        where.append(term)
        params.extend(values)
    if query.since is not None:
        where.append("r.seq >= ?")
        params.append(int(query.since * 1_000_000))
    if query.until is not None:
        where.append("r.seq < ?")
        params.append(int(query.until * 1_000_000))
    return where, params


def _search(store: Store, query: RunQuery, limit: int) -> tuple[list[str], int | None]:
    """Ids (roots, or executions) whose payload, result, error or logs contain the text, among
    the ``SEARCH_WINDOW`` newest executions below the cursor; and the cursor below them."""
    [(top,)] = store.read("SELECT COALESCE(MAX(rowid), 0) + 1 FROM executions", ())
    upper = int(query.before) if query.before and query.before.isdigit() else top
    lower = max(0, upper - SEARCH_WINDOW)
    pattern = like(query.text or "")
    matches = " OR ".join(f"t.{c} LIKE ? ESCAPE '\\'" for c in ("payload", "result", "error", "logs"))
    found = "t.root_id" if query.roots_only else "t.id"
    rows = store.read(
        f"SELECT {found}, MIN(t.rowid) FROM executions t WHERE t.rowid < ? AND t.rowid >= ? AND ({matches})"
        f" GROUP BY {found} ORDER BY MAX(t.rowid) DESC LIMIT ?",
        (upper, lower, pattern, pattern, pattern, pattern, limit),
    )
    if len(rows) >= limit:
        lower = min(row[1] for row in rows)
    return [row[0] for row in rows], (lower if lower > 1 else None)


class HistogramCache:
    """The histogram's closed hours, recounted at most every ``ttl`` seconds (counting 24 hours
    of 100,000 roots costs tens of milliseconds); the current hour is always counted afresh."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._first: int | None = None
        self._at = 0.0
        self._bars: list[HistogramBar] = []

    def closed(self, store: Store, first: int, now: float, function: str | None = None) -> list[HistogramBar]:
        """The closed hours' bars (of ``function``'s roots when given: keep one cache per
        function filter)."""
        if self._first != first or now - self._at > self.ttl:
            self._bars = _count_hours(store, first, HISTOGRAM_HOURS - 1, function)
            self._first, self._at = first, now
        return [HistogramBar(bar.start, bar.success, bar.failed, bar.other) for bar in self._bars]


def histogram(
    store: Store, now: float, cache: HistogramCache | None = None, function: str | None = None
) -> list[HistogramBar]:
    """Root executions created in each of the last 24 hours (the current one last), by status;
    only ``function``'s when given (the runs list's function filter applies to its histogram)."""
    current = int(now) // HOUR * HOUR
    first = current - (HISTOGRAM_HOURS - 1) * HOUR
    if cache is None:
        return _count_hours(store, first, HISTOGRAM_HOURS, function)
    return [*cache.closed(store, first, now, function), *_count_hours(store, current, 1, function)]


def _count_hours(store: Store, first: int, hours: int, function: str | None = None) -> list[HistogramBar]:
    bars = [HistogramBar(first + index * HOUR) for index in range(hours)]
    span = (first * 1_000_000, (first + hours * HOUR) * 1_000_000)
    if function is None:
        rows = store.read(
            "SELECT (seq / 1000000 - ?) / ?, status, COUNT(*) FROM executions"
            " INDEXED BY executions_roots_status WHERE parent_id IS NULL AND status IN ('success', 'failed',"
            " 'pending', 'running', 'cancelled', 'interrupted') AND seq >= ? AND seq < ? GROUP BY 1, 2",
            (first, HOUR, *span),
        )
    else:
        rows = store.read(
            "SELECT (seq / 1000000 - ?) / ?, status, COUNT(*) FROM executions"
            " INDEXED BY executions_roots_function WHERE parent_id IS NULL AND function = ?"
            " AND seq >= ? AND seq < ? GROUP BY 1, 2",
            (first, HOUR, function, *span),
        )
    for bucket, status, count in rows:
        if not 0 <= bucket < hours:
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
    """Each named function's newest execution (root or child; by ``schema.shown_at``), when it
    has one."""
    alive = Liveness(store)
    found: dict[str, RunRow] = {}
    at = shown_at("r")
    for name in functions:
        rows = store.read(
            f"SELECT {LIGHT} FROM executions r WHERE r.function = ? ORDER BY {at} DESC, r.rowid DESC LIMIT 1",
            (name,),
        )
        if rows:
            found[name] = read_row(rows[0], alive)
    return found


def function_names(store: Store) -> list[str]:
    """Every function name history has seen, sorted: one index probe per name (a skip scan),
    not a scan of every execution."""
    rows = store.read(
        "WITH RECURSIVE names(name) AS (SELECT MIN(function) FROM executions UNION ALL"
        " SELECT (SELECT MIN(function) FROM executions WHERE function > names.name) FROM names"
        " WHERE names.name IS NOT NULL) SELECT name FROM names WHERE name IS NOT NULL",
        (),
    )
    return [row[0] for row in rows]


def recent_payloads(store: Store, function: str, count: int = 10) -> list[str]:
    """The newest distinct payloads ``function`` was run with, as JSON text (newest first)."""
    rows = store.read(
        "SELECT payload FROM executions r WHERE function = ? AND has_payload = 1 AND payload IS NOT NULL"
        f" ORDER BY {shown_at('r')} DESC LIMIT 200",
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
    limit: int = 100,
) -> tuple[list[LogLine], str | None]:
    """Log lines of every execution, newest first: executions in the order the runs list uses
    (``schema.shown_at``, started time), each one's lines newest first. ``before`` is the cursor
    the previous page returned. Returns the lines and the next cursor.

    Lines of executions that ran at the same time are not interleaved: ordering every line by
    its own timestamp would sort all of history's lines for one page."""
    where = ["e.logs != '[]'"]
    params: list[Any] = []
    if function:
        where.append("e.function = ?")
        params.append(function)
    if level:
        # The text test skips decoding the logs of rows without such a line (the codec writes
        # compact JSON); json_extract then picks the lines.
        where.append("e.logs LIKE ? AND json_extract(j.value, '$.level') = ?")
        params.extend([like(f'"level":"{level}"'), level])
    if text:
        where.append("j.value LIKE ? ESCAPE '\\'")
        params.append(like(text))
    at = shown_at("e")
    position, _, index = (before or "").rpartition(":")
    cursor = read_cursor(position)
    if cursor is not None and index.isdigit():
        where.append(f"{at} <= ? AND ({at}, j.key, e.rowid) < (?, ?, ?)")
        params.extend([cursor[0], cursor[0], int(index), cursor[1]])
    limit = max(1, min(limit, 1000))
    rows = store.read(
        f"SELECT e.id, e.function, {at}, e.rowid, j.key, j.value FROM executions e, json_each(e.logs) j"
        # The index gives the executions in order, so SQLite sorts only the lines of one shown
        # time at a time ("temp b-tree for right part of order by"), not every matching line.
        f" WHERE {' AND '.join(where)} ORDER BY {at} DESC, j.key DESC, e.rowid DESC LIMIT ?",
        (*params, limit + 1),
    )
    lines = []
    for execution_id, name, shown, rowid, index, value in rows[:limit]:
        entry = json.loads(value)
        lines.append(
            LogLine(
                execution_id,
                name,
                int(entry.get("timestamp") or 0),
                str(entry.get("level") or "info"),
                str(entry.get("message", "")),
                entry.get("meta"),
                f"{make_cursor(shown, rowid)}:{index}",
            )
        )
    return lines, (lines[-1].cursor if len(rows) > limit else None)
