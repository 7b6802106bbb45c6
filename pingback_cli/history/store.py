"""Execution history in ``<project>/.pingback/history.sqlite3``.

One writer process buffers executions and flushes them in one transaction; any
number of other processes may read at the same time (WAL mode). Rows hold every
``Execution`` field; attempts, logs, payload and result are JSON text.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from pingback_cli import state as statedir
from pingback_cli.errors import HistoryError, UsageError
from pingback_cli.models import JSON, Attempt, Execution, LogEntry

SCHEMA_VERSION = 2
BUSY_TIMEOUT = 5.0
"""Seconds to wait for another process's lock before giving up."""

_MIGRATIONS: list[str] = [
    # 1: the executions table. Roots are rows with parent_id NULL; seq is creation order.
    """
    CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        root_id TEXT NOT NULL,
        parent_id TEXT,
        depth INTEGER NOT NULL DEFAULT 0,
        function TEXT NOT NULL,
        type TEXT,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        has_payload INTEGER NOT NULL DEFAULT 0,
        payload TEXT,
        result TEXT,
        error TEXT,
        logs TEXT NOT NULL DEFAULT '[]',
        attempts TEXT NOT NULL DEFAULT '[]',
        scheduled_at REAL NOT NULL,
        started_at REAL,
        completed_at REAL,
        duration_ms INTEGER,
        http_status INTEGER,
        "trigger" TEXT NOT NULL DEFAULT 'run',
        replay_of TEXT
    );
    CREATE INDEX executions_tree ON executions (root_id, status);
    CREATE INDEX executions_roots ON executions (seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_function ON executions (function, seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_status ON executions (status, seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_unfinished ON executions (status)
        WHERE status IN ('pending', 'running');
    """,
    # 2: the process that wrote each row (pid:start-time), to recover after a kill -9.
    """
    ALTER TABLE executions ADD COLUMN owner TEXT;
    """,
]
assert len(_MIGRATIONS) == SCHEMA_VERSION

# Column order of a row as written; reads use the same order without seq.
_COLUMNS = (
    "id",
    "seq",
    "root_id",
    "parent_id",
    "depth",
    "function",
    "type",
    "status",
    "attempt",
    "has_payload",
    "payload",
    "result",
    "error",
    "logs",
    "attempts",
    "scheduled_at",
    "started_at",
    "completed_at",
    "duration_ms",
    "http_status",
    "trigger",
    "replay_of",
    "owner",
)
_QUOTED = [f'"{name}"' for name in _COLUMNS]
_READ_COLUMNS = [name for name in _QUOTED if name not in ('"seq"', '"owner"')]
_SELECT = ", ".join(_READ_COLUMNS)
_SELECT_ROOT = ", ".join(f"r.{name}" for name in _READ_COLUMNS)
_UPSERT = (
    f"INSERT INTO executions ({', '.join(_QUOTED)}) VALUES ({', '.join('?' for _ in _QUOTED)})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _QUOTED if name not in ('"id"', '"seq"'))
)
_UNFINISHED = ("pending", "running")
_PREFIX = re.compile(r"[0-9a-f-]+")
_AMBIGUOUS_SHOWN = 5


def history_path(project_root: Path) -> Path:
    return statedir.state_dir(project_root) / statedir.HISTORY


@dataclass
class RootSummary:
    """A root execution (without children) and counts over everything below it."""

    execution: Execution
    descendants: int
    failed_descendants: int
    unfinished_descendants: int

    def to_json(self) -> dict[str, Any]:
        """The root as ``run --json`` prints it, minus children, plus the counts."""
        data = self.execution.to_json(children=False)
        data["descendants"] = self.descendants
        data["failedDescendants"] = self.failed_descendants
        data["unfinishedDescendants"] = self.unfinished_descendants
        return data


class Store:
    """The history file. Not shared between processes as an object, only as a file."""

    auto_flush_at = 10_000
    """Buffered executions that trigger a flush from ``save``, bounding memory."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        # id -> (seq, execution); rows are built from the object's state at flush time.
        self._buffer: dict[str, tuple[int, Execution]] = {}
        self._last_seq = 0
        self.owner = process_identity(os.getpid())
        """Stamped on every row written, so a later process can tell whose runs died with it."""
        self.moved_aside: Path | None = None
        """Where a corrupt history file was moved before a fresh one was started."""
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if readonly or not _is_corrupt(exc):
                raise self._error(exc, "open") from exc
            self.moved_aside = _move_aside(self.path)
            try:
                self._conn = self._open()
            except sqlite3.Error as again:
                raise self._error(again, "open") from again
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from exc

    # -- opening -------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not self.readonly:
            self._prepare_directory()
            return self._connect(str(self.path), uri=False)
        if not self.path.exists():
            raise _no_history(self.path)
        location = self.path.absolute().as_uri()
        try:
            return self._connect(f"{location}?mode=ro", uri=True)
        except sqlite3.OperationalError:
            if os.access(self.path.parent, os.W_OK) and not _in_read_only_folder(self.path):
                raise
            # A folder we cannot write: SQLite cannot create its WAL index there, and
            # nobody can be writing the file either, so it can be read as immutable.
            return self._connect(f"{location}?mode=ro&immutable=1", uri=True)

    def _connect(self, target: str, *, uri: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            target,
            uri=uri,
            timeout=BUSY_TIMEOUT,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            if self.readonly:
                self._check_version(conn)
            else:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                self._migrate(conn)
                self._last_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM executions").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare_directory(self) -> None:
        directory = self.path.parent
        try:
            statedir.ensure(directory)
        except OSError as exc:
            raise HistoryError(
                f"cannot create the history directory {directory}: {exc.strerror or exc}",
                hint="check that the project directory is writable",
            ) from exc

    def _check_version(self, conn: sqlite3.Connection) -> None:
        version = _user_version(conn)
        if version == 0:
            raise _no_history(self.path)
        if version > SCHEMA_VERSION:
            raise _newer_version(self.path, version)
        # Older versions read fine: migrations only add columns that readers don't need.

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if _user_version(conn) == SCHEMA_VERSION:
            return
        with _transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = _user_version(conn)
            if version > SCHEMA_VERSION:
                raise _newer_version(self.path, version)
            for script in _MIGRATIONS[version:]:
                for statement in _statements(script):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing -------------------------------------------------------------------

    def recover(self) -> int:
        """Mark ``interrupted`` what a pingback process that no longer exists left unfinished
        (one killed with ``kill -9``, or a machine that lost power). Returns how many."""
        self._require_writable()
        with self._lock, self._guard("read"):
            owners = [
                row[0]
                for row in self._conn.execute(
                    "SELECT DISTINCT owner FROM executions WHERE status IN ('pending', 'running')"
                )
            ]
        orphans: list[str] = []
        for owner in owners:
            if owner == self.owner or _is_alive(owner):
                continue
            with self._lock, self._guard("read"):
                orphans.extend(
                    row[0]
                    for row in self._conn.execute(
                        "SELECT id FROM executions WHERE status IN ('pending', 'running') AND owner IS ?",
                        (owner,),
                    )
                )
        if not orphans:
            return 0
        return self.mark_interrupted(
            orphans, reason="interrupted: the pingback process running this stopped unexpectedly"
        )

    def save(self, execution: Execution) -> None:
        """Buffer an upsert of ``execution``; the latest save of an id wins."""
        self._require_writable()
        with self._lock:
            buffered = self._buffer.get(execution.id)
            seq = buffered[0] if buffered else self._next_seq()
            self._buffer[execution.id] = (seq, execution)
            if len(self._buffer) >= self.auto_flush_at:
                self.flush()

    def flush(self) -> None:
        """Write every buffered execution in one transaction."""
        with self._lock:
            self.write(self.take_rows())

    def take_rows(self) -> list[tuple[Any, ...]]:
        """Snapshot the buffer as rows (cheap, in the thread that mutates executions)."""
        with self._lock:
            rows = [_row(seq, execution, self.owner) for seq, execution in self._buffer.values()]
            self._buffer.clear()
            return rows

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Write rows from ``take_rows`` in one transaction; safe to call from another thread."""
        if not rows:
            return
        with self._lock, self._guard("write"), _transaction(self._conn):
            self._conn.executemany(_UPSERT, rows)

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def mark_interrupted(self, ids: Iterable[str] | None = None, *, reason: str) -> int:
        """Mark pending/running executions (all, or only ``ids``) interrupted; return how many."""
        self._require_writable()
        wanted = None if ids is None else set(ids)
        with self._lock:
            self.flush()
            now = time.time()
            updates: list[tuple[Any, ...]] = []
            with self._guard("write"), _transaction(self._conn):
                rows = self._conn.execute(
                    "SELECT id, started_at, attempts FROM executions WHERE status IN ('pending', 'running')"
                ).fetchall()
                for execution_id, started_at, attempts_text in rows:
                    if wanted is not None and execution_id not in wanted:
                        continue
                    attempts = _load_attempts(attempts_text)
                    for attempt in attempts:
                        if attempt.status in _UNFINISHED:
                            attempt.status = "interrupted"
                            attempt.error = reason
                            attempt.completed_at = now
                            attempt.duration_ms = _elapsed_ms(attempt.started_at, now)
                    elapsed = _elapsed_ms(started_at, now)
                    updates.append((reason, now, elapsed, _dump_attempts(attempts), execution_id))
                self._conn.executemany(
                    "UPDATE executions SET status = 'interrupted', error = ?, completed_at = ?,"
                    " duration_ms = COALESCE(duration_ms, ?), attempts = ? WHERE id = ?",
                    updates,
                )
            return len(updates)

    # -- reading -------------------------------------------------------------------

    def get(self, execution_id: str) -> Execution:
        """The execution with exactly this id, without children."""
        rows = self._query(f"SELECT {_SELECT} FROM executions WHERE id = ?", (execution_id,))
        if not rows:
            raise UsageError(f'no execution "{execution_id}"', hint=_RUNS_HINT)
        return _execution(rows[0])

    def resolve(self, prefix: str) -> str:
        """The one id starting with ``prefix``, like git's short hashes."""
        wanted = prefix.strip().lower()
        if not _PREFIX.fullmatch(wanted):
            raise UsageError(
                f'"{prefix}" is not an execution id',
                hint="use an id or its first characters (0-9, a-f and -) from `pingback runs`",
            )
        bounds = (wanted, wanted[:-1] + chr(ord(wanted[-1]) + 1))
        ids = [
            row[0]
            for row in self._query(
                "SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                (*bounds, _AMBIGUOUS_SHOWN + 1),
            )
        ]
        if not ids:
            raise UsageError(f'no execution matches "{wanted}"', hint=_RUNS_HINT)
        if len(ids) == 1 or ids[0] == wanted:
            return ids[0]
        [(total,)] = self._query("SELECT COUNT(*) FROM executions WHERE id >= ? AND id < ?", bounds)
        width = max(8, len(wanted) + 2)
        shown = [f"{found[:width]}.." if len(found) > width else found for found in ids]
        listed = ", ".join(shown[:_AMBIGUOUS_SHOWN]) + (", ..." if total > _AMBIGUOUS_SHOWN else "")
        raise UsageError(f'"{wanted}" matches {total} executions: {listed}; type more characters')

    def tree(self, id_or_prefix: str) -> Execution:
        """The execution with its descendants nested in ``children``, in creation order."""
        execution_id = self.resolve(id_or_prefix)
        # Sorting in Python is much cheaper than SQLite sorting whole rows in a temp b-tree.
        rows = self._query(
            f"SELECT seq, {_SELECT} FROM executions"
            " WHERE root_id = (SELECT root_id FROM executions WHERE id = ?)",
            (execution_id,),
        )
        rows.sort(key=itemgetter(0))
        nodes = {row[1]: _execution(row[1:]) for row in rows}
        for node in nodes.values():
            parent = nodes.get(node.parent_id) if node.parent_id else None
            if parent is not None:
                parent.children.append(node)
        if execution_id not in nodes:
            raise UsageError(f'no execution "{execution_id}"', hint=_RUNS_HINT)
        return nodes[execution_id]

    def recent_roots(
        self, limit: int = 20, *, function: str | None = None, status: str | None = None
    ) -> list[RootSummary]:
        """Root executions, newest first, with counts over their descendants."""
        where = ["r.parent_id IS NULL"]
        params: list[Any] = []
        if function is not None:
            where.append("r.function = ?")
            params.append(function)
        if status is not None:
            where.append("r.status = ?")
            params.append(status)
        below = "SELECT COUNT(*) FROM executions d WHERE d.root_id = r.id AND d.rowid != r.rowid"
        rows = self._query(
            f"SELECT {_SELECT_ROOT},"
            f" ({below}),"
            f" ({below} AND d.status = 'failed'),"
            f" ({below} AND d.status IN ('pending', 'running'))"
            f" FROM executions r WHERE {' AND '.join(where)} ORDER BY r.seq DESC LIMIT ?",
            (*params, max(limit, 0)),
        )
        return [RootSummary(_execution(row[:-3]), row[-3], row[-2], row[-1]) for row in rows]

    def count(self) -> int:
        [(total,)] = self._query("SELECT COUNT(*) FROM executions", ())
        return int(total)

    # -- helpers -------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            self.flush()
            with self._guard("read"):
                return self._conn.execute(sql, tuple(params)).fetchall()

    def _next_seq(self) -> int:
        # Microsecond clock keeps creation order across processes; the counter breaks ties.
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq

    def _require_writable(self) -> None:
        if self.readonly:
            raise HistoryError(f"history file {self.path} is open read-only")

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc, action) from exc

    def _error(self, exc: sqlite3.Error, action: str) -> HistoryError:
        text = str(exc)
        lowered = text.lower()
        if "not a database" in lowered or "malformed" in lowered:
            return HistoryError(
                f"cannot {action} history file {self.path}: it is corrupt ({text})",
                hint="move it aside or delete it to start a new history",
            )
        if "locked" in lowered or "busy" in lowered:
            return HistoryError(
                f"cannot {action} history file {self.path}: it is locked by another process",
                hint="wait for the other pingback process to finish, or stop it",
            )
        if "readonly" in lowered or "unable to open" in lowered:
            return HistoryError(
                f"cannot {action} history file {self.path}: {text}",
                hint="check that the file and its directory exist and are writable",
            )
        return HistoryError(f"cannot {action} history file {self.path}: {text}")


_RUNS_HINT = "`pingback runs` lists recent executions"


def _no_history(path: Path) -> HistoryError:
    return HistoryError(
        f"no history yet ({path} does not exist)",
        hint="run `pingback run NAME` or `pingback dev` first",
    )


def _newer_version(path: Path, version: int) -> HistoryError:
    return HistoryError(
        f"history file {path} was written by a newer pingback (format {version})",
        hint="upgrade pingback-cli, or move the file aside",
    )


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def _elapsed_ms(started_at: float | None, now: float) -> int | None:
    return None if started_at is None else max(0, round((now - started_at) * 1000))


# -- (de)serialisation ---------------------------------------------------------------


# Encoders are built once: json.dumps with options builds a new one per call.
_STRICT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_LENIENT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=repr)
_DECODER = json.JSONDecoder()


def _loads(text: str) -> JSON:
    """``json.loads`` for text we wrote: no surrounding whitespace to skip."""
    return _DECODER.raw_decode(text)[0]


def _dump_value(value: JSON) -> str:
    """JSON text; a value JSON cannot hold is stored as its repr string instead."""
    try:
        return _STRICT.encode(value)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__}>"
        return _STRICT.encode(text)


def _dump_list(items: list[dict[str, JSON]]) -> str:
    """Logs and attempts; a value inside that JSON cannot hold becomes its repr."""
    if not items:
        return "[]"
    try:
        return _LENIENT.encode(items)
    except (ValueError, RecursionError):  # a circular log meta
        return "[]"


def _load_list(text: str | None) -> list[Any]:
    if not text or text == "[]":
        return []
    loaded = _loads(text)
    return loaded if isinstance(loaded, list) else []


def _dump_logs(logs: list[LogEntry]) -> str:
    return _dump_list([log.to_json() for log in logs]) if logs else "[]"


def _load_logs(text: str | None) -> list[LogEntry]:
    return [LogEntry.from_json(item) for item in _load_list(text)]


def _dump_attempts(attempts: list[Attempt]) -> str:
    """Like ``Attempt.to_json`` but with unix-second times: ISO formatting dominated flushes."""
    if not attempts:
        return "[]"
    return _dump_list(
        [
            {
                "attempt": attempt.number,
                "status": attempt.status,
                "startedAt": attempt.started_at,
                "completedAt": attempt.completed_at,
                "durationMs": attempt.duration_ms,
                "httpStatus": attempt.http_status,
                "error": attempt.error,
                "traceback": attempt.traceback,
                "logs": [log.to_json() for log in attempt.logs],
            }
            for attempt in attempts
        ]
    )


def _load_attempts(text: str | None) -> list[Attempt]:
    return [
        Attempt(
            number=item["attempt"],
            status=item["status"],
            started_at=item["startedAt"],
            completed_at=item.get("completedAt"),
            duration_ms=item.get("durationMs"),
            http_status=item.get("httpStatus"),
            error=item.get("error"),
            traceback=item.get("traceback"),
            logs=[LogEntry.from_json(log) for log in item.get("logs") or ()],
        )
        for item in _load_list(text)
    ]


def _row(seq: int, e: Execution, owner: str) -> tuple[Any, ...]:
    return (
        e.id,
        seq,
        e.root_id or e.id,
        e.parent_id,
        e.depth,
        e.function,
        e.type,
        e.status,
        e.attempt,
        int(e.has_payload),
        _dump_value(e.payload) if e.has_payload else None,
        None if e.result is None else _dump_value(e.result),
        e.error,
        _dump_logs(e.logs),
        _dump_attempts(e.attempts),
        e.scheduled_at,
        e.started_at,
        e.completed_at,
        e.duration_ms,
        e.http_status,
        e.trigger,
        e.replay_of,
        owner,
    )


def _execution(row: tuple[Any, ...]) -> Execution:
    (
        execution_id,
        root_id,
        parent_id,
        depth,
        function,
        type_,
        status,
        attempt,
        has_payload,
        payload,
        result,
        error,
        logs,
        attempts,
        scheduled_at,
        started_at,
        completed_at,
        duration_ms,
        http_status,
        trigger,
        replay_of,
    ) = row
    return Execution(
        id=execution_id,
        function=function,
        type=type_,
        scheduled_at=scheduled_at,
        payload=_loads(payload) if has_payload and payload is not None else None,
        has_payload=bool(has_payload),
        parent_id=parent_id,
        root_id=root_id,
        depth=depth,
        status=status,
        attempt=attempt,
        attempts=_load_attempts(attempts),
        result=None if result is None else _loads(result),
        error=error,
        logs=_load_logs(logs),
        started_at=started_at,
        completed_at=completed_at,
        duration_ms=duration_ms,
        http_status=http_status,
        trigger=trigger,
        replay_of=replay_of,
    )


def process_identity(pid: int) -> str:
    """``pid:start-time``: a pid alone may be reused by an unrelated process."""
    return f"{pid}:{_start_time(pid) or ''}"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # Field 22 (start time), counted after the parenthesised command name.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _is_alive(owner: str | None) -> bool:
    if not owner:
        return False
    pid_text, _, started = owner.partition(":")
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (ValueError, OSError):
        return False
    return not started or _start_time(pid) in (None, started)


def _is_corrupt(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _move_aside(path: Path) -> Path:
    """Keep a corrupt history file (never delete it) and make room for a fresh one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():  # rename() would replace an earlier copy from the same second
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise HistoryError(
            f"history file {path} is corrupt and could not be moved aside: {exc.strerror or exc}",
            hint=f"move {path} away yourself; pingback will start a new one",
        ) from exc
    return target


def _in_read_only_folder(path: Path) -> bool:
    """True when the folder refuses a new file (root ignores permission bits, not this)."""
    probe = path.with_name(f".pingback-probe-{os.getpid()}")
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink(missing_ok=True)
    return False
